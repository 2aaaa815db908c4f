"""座席管理 and 技能组: agents (paged) and skill groups.

Docs pages: developer.7moor.com/v7/agent-management/ and /v7/peer-management/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from moor7._arguments import integer_in, optional_text
from moor7._limits import Priority
from moor7._models import Agent, AgentPage, Queues

from ._base import (
    USE_CLIENT_DEFAULT,
    CallKind,
    Endpoint,
    EndpointMethods,
    UseClientDefault,
    check_max_age,
    check_priority,
)

__all__ = ["AgentsMethods"]

# Paging through the agents is a batch: an agent's login must not wait behind it.
LIST_AGENTS = Endpoint(
    "/openapi/v1/call/query/agent", CallKind.QUERY, AgentPage, priority=Priority.BATCH
)
LIST_QUEUES = Endpoint("/openapi/v1/base/queue/list", CallKind.QUERY, Queues)

# The docs' bounds for `limit`: from 1 to 100 rows per page.
MAX_PAGE_SIZE = 100


class AgentsMethods(EndpointMethods):
    """Agents, page by page, and skill groups (座席管理, 技能组)."""

    def list_agents(
        self,
        agent_number: str | None = None,
        sip_number: str | None = None,
        mobile: str | None = None,
        crm_id: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> AsyncIterator[Agent]:
        """Iterate over the account's agents (获取座席信息), filtered, page by page.

        Every page is **one call of the account's quota** (20 a minute): a page is
        fetched only when the previous one is used up, and the iteration stops after a
        page shorter than ``page_size`` (the gateway sends no total). With 100 agents a
        page, 1,000 agents cost 11 calls: the last, empty or short, page says it was the
        last. Stop iterating early and no further page is fetched.

        Example:
            ::

                async for agent in client.list_agents():
                    print(agent.agent_number, agent.name)

        Args:
            agent_number: Only the agent with this job number (工号).
            sip_number: Only the agent with this SIP number.
            mobile: Only the agent with this mobile number.
            crm_id: Only the agent with this user id (``crmId``).
            page_size: Agents per call, from 1 to 100 (the gateway's limit).
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for each page's call.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client\'s; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"batch"`` (paging and reports can wait
                their turn).
            max_age: Seconds: an identical answer this client received at most that
                long ago is served from memory, without a call of the quota (the
                result's ``from_cache`` and ``age`` say so); ``None`` for an answer
                from the gateway. Default: the client's ``max_age`` (``None``).

        Returns:
            An async iterator of :class:`~moor7.Agent`.

        Raises:
            moor7.ConfigurationError: A bad argument, raised by this call itself,
                before anything is sent.
            moor7.exceptions.Moor7Error: While iterating, a subclass saying what failed.
        """
        pages = self.list_agent_pages(
            agent_number,
            sip_number,
            mobile,
            crm_id,
            page_size=page_size,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
            max_age=max_age,
        )
        return self._items(pages)

    def list_agent_pages(
        self,
        agent_number: str | None = None,
        sip_number: str | None = None,
        mobile: str | None = None,
        crm_id: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> AsyncIterator[AgentPage]:
        """Iterate over the pages of :meth:`~moor7.AsyncClient.list_agents` themselves.

        Each page is **one call of the account's quota**, fetched only when asked
        for; the last page is the first one shorter than ``page_size``.

        Example:
            ::

                async for page in client.list_agent_pages(page_size=50):
                    print(page.page, len(page), page.request_id)

        Args:
            agent_number: Only the agent with this job number (工号).
            sip_number: Only the agent with this SIP number.
            mobile: Only the agent with this mobile number.
            crm_id: Only the agent with this user id (``crmId``).
            page_size: Agents per call, from 1 to 100 (the gateway's limit).
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for each page's call.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client\'s; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"batch"`` (paging and reports can wait
                their turn).
            max_age: Seconds: an identical answer this client received at most that
                long ago is served from memory, without a call of the quota (the
                result's ``from_cache`` and ``age`` say so); ``None`` for an answer
                from the gateway. Default: the client's ``max_age`` (``None``).

        Returns:
            An async iterator of :class:`~moor7.AgentPage` (a ``list`` of
            :class:`~moor7.Agent` with its ``page`` number and ``request_id``).

        Raises:
            moor7.ConfigurationError: A bad argument, raised by this call itself,
                before anything is sent.
            moor7.exceptions.Moor7Error: While iterating, a subclass saying what failed.
        """
        filters = {
            "agentNumber": optional_text("agent_number", agent_number),
            "sipNumber": optional_text("sip_number", sip_number),
            "mobile": optional_text("mobile", mobile),
            "crmId": optional_text("crm_id", crm_id),
        }
        body = {key: value for key, value in filters.items() if value is not None}
        size = integer_in("page_size", page_size, least=1, most=MAX_PAGE_SIZE)
        # Checked here, not at the first page: an iterator's bad argument raises at once.
        check_priority(priority)
        check_max_age(max_age)
        return self._pages(
            LIST_AGENTS,
            body,
            page_size=size,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
            max_age=max_age,
        )

    async def list_queues(
        self,
        *,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Queues:
        """List the account's skill groups (查询账户下技能组列表), with their members.

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
            A ``list`` of :class:`~moor7.Queue`, with the call's ``request_id``.

        Raises:
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return await self._perform(
            LIST_QUEUES,
            None,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
            max_age=max_age,
        )
