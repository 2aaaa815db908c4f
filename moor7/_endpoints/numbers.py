"""号码池管理 and SIP号管理: the number pool, display-number groups, SIP registrations.

Docs pages: developer.7moor.com/v7/number-management/ and /v7/sip-management/.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from moor7._arguments import choice, items, optional_text
from moor7._limits import Priority
from moor7._models import NumberGroups, NumberPool, RegisterStatus, SipRegistrations

from ._base import USE_CLIENT_DEFAULT, CallKind, Endpoint, EndpointMethods, UseClientDefault

__all__ = ["NumbersMethods"]

GET_NUMBER_POOL = Endpoint("/openapi/v1/call/query/number", CallKind.QUERY, NumberPool)
LIST_DISPLAY_NUMBER_GROUPS = Endpoint("/openapi/v1/call/query/group", CallKind.QUERY, NumberGroups)
LIST_SIP_NUMBERS = Endpoint("/openapi/v1/call/sip/list", CallKind.QUERY, SipRegistrations)


class NumbersMethods(EndpointMethods):
    """The number pool, display-number groups and SIP registrations (号码池管理, SIP号管理)."""

    async def get_number_pool(
        self,
        *,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> NumberPool:
        """Get the account's number pool (获取号码池): display, service and SIP numbers.

        One call of the account's quota.

        Args:
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for this call.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client\'s; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` (someone waits for it).
            max_age: Seconds: an identical answer this client received at most that
                long ago is served from memory, without a call of the quota (the
                result's ``from_cache`` and ``age`` say so); ``None`` for an answer
                from the gateway. Default: the client's ``max_age`` (``None``).

        Returns:
            The pool; its ``request_id`` identifies the call for 7moor support.

        Raises:
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return await self._perform(
            GET_NUMBER_POOL,
            None,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
            max_age=max_age,
        )

    async def list_display_number_groups(
        self,
        *,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> NumberGroups:
        """List the account's display-number groups (查询外显号组).

        An outbound call that names a group's ``id`` shows one of that group's numbers.
        One call of the account's quota.

        Args:
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for this call.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client\'s; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` (someone waits for it).
            max_age: Seconds: an identical answer this client received at most that
                long ago is served from memory, without a call of the quota (the
                result's ``from_cache`` and ``age`` say so); ``None`` for an answer
                from the gateway. Default: the client's ``max_age`` (``None``).

        Returns:
            A ``list`` of :class:`~moor7.NumberGroup`, with the call's ``request_id``.

        Raises:
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return await self._perform(
            LIST_DISPLAY_NUMBER_GROUPS,
            None,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
            max_age=max_age,
        )

    async def list_sip_numbers(
        self,
        number: str | None = None,
        register_statuses: Iterable[RegisterStatus | Literal[0, 1]] | None = None,
        *,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> SipRegistrations:
        """List the account's SIP numbers and their registrations (获取SIP号列表).

        Without filters, every SIP number of the account. One call of the quota.

        Example:
            ::

                registered = await client.list_sip_numbers(
                    register_statuses=[moor7.RegisterStatus.REGISTERED]
                )

        Args:
            number: Only this SIP number.
            register_statuses: Only numbers in these registration states.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for this call.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client\'s; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` (someone waits for it).
            max_age: Seconds: an identical answer this client received at most that
                long ago is served from memory, without a call of the quota (the
                result's ``from_cache`` and ``age`` say so); ``None`` for an answer
                from the gateway. Default: the client's ``max_age`` (``None``).

        Returns:
            A ``list`` of :class:`~moor7.SipRegistration`, with the call's
            ``request_id``.

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        body: dict[str, object] = {}
        if number is not None:
            body["number"] = optional_text("number", number)
        if register_statuses is not None:
            body["registerStatuses"] = [
                choice("register_statuses", status, RegisterStatus).value
                for status in items("register_statuses", register_statuses)
            ]
        return await self._perform(
            LIST_SIP_NUMBERS,
            body or None,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
            max_age=max_age,
        )
