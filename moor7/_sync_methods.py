"""The blocking twin of every ``AsyncClient`` endpoint method. GENERATED: do not edit.

Written by ``python scripts/generate_sync.py`` from the async methods' signatures and
docstrings; ``tests/test_sync.py`` checks that it is up to date.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._endpoints import USE_CLIENT_DEFAULT
from ._models import OnlineStatus, ReportDimension

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime
    from typing import Literal

    from moor7 import (
        ActionResult,
        Agent,
        AgentPage,
        AnswerRates,
        AsyncClient,
        CallKind,
        CollectionNotStr,
        ImSessionReport,
        ListenResult,
        LoginType,
        NumberGroups,
        NumberPool,
        Priority,
        Queues,
        RegisterStatus,
        SipRegistrations,
        UseClientDefault,
    )

__all__ = ["SyncEndpoints"]

T = TypeVar("T")
R = TypeVar("R")


class SyncEndpoints:
    """Every endpoint method of ``AsyncClient``, blocking."""

    def _run(self, call: Callable[[AsyncClient], Coroutine[Any, Any, T]]) -> T:
        raise NotImplementedError  # pragma: no cover - Client implements it

    def _iterate(self, make: Callable[[AsyncClient], AsyncIterator[T]]) -> Iterator[T]:
        raise NotImplementedError  # pragma: no cover - Client implements it

    def get_number_pool(
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
                overriding the client's; ``None`` for no limit.
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
        return self._run(
            lambda c: c.get_number_pool(
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
                max_age=max_age,
            )
        )

    def list_display_number_groups(
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
                overriding the client's; ``None`` for no limit.
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
        return self._run(
            lambda c: c.list_display_number_groups(
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
                max_age=max_age,
            )
        )

    def list_sip_numbers(
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

                registered = client.list_sip_numbers(
                    register_statuses=[moor7.RegisterStatus.REGISTERED]
                )

        Args:
            number: Only this SIP number.
            register_statuses: Only numbers in these registration states.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for this call.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client's; ``None`` for no limit.
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
        return self._run(
            lambda c: c.list_sip_numbers(
                number,
                register_statuses,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
                max_age=max_age,
            )
        )

    def list_agents(
        self,
        agent_number: str | None = None,
        sip_number: str | None = None,
        mobile: str | None = None,
        crm_id: str | None = None,
        *,
        page_size: int = 100,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Iterator[Agent]:
        """Iterate over the account's agents (获取座席信息), filtered, page by page.

        Every page is **one call of the account's quota** (20 a minute): a page is
        fetched only when the previous one is used up, and the iteration stops after a
        page shorter than ``page_size`` (the gateway sends no total). With 100 agents a
        page, 1,000 agents cost 11 calls: the last, empty or short, page says it was the
        last. Stop iterating early and no further page is fetched.

        Example:
            ::

                for agent in client.list_agents():
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
                overriding the client's; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"batch"`` (paging and reports can wait
                their turn).
            max_age: Seconds: an identical answer this client received at most that
                long ago is served from memory, without a call of the quota (the
                result's ``from_cache`` and ``age`` say so); ``None`` for an answer
                from the gateway. Default: the client's ``max_age`` (``None``).

        Returns:
            An iterator of :class:`~moor7.Agent`.

        Raises:
            moor7.ConfigurationError: A bad argument, raised by this call itself,
                before anything is sent.
            moor7.exceptions.Moor7Error: While iterating, a subclass saying what failed.
        """
        return self._iterate(
            lambda c: c.list_agents(
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
        )

    def list_agent_pages(
        self,
        agent_number: str | None = None,
        sip_number: str | None = None,
        mobile: str | None = None,
        crm_id: str | None = None,
        *,
        page_size: int = 100,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Iterator[AgentPage]:
        """Iterate over the pages of :meth:`~moor7.AsyncClient.list_agents` themselves.

        Each page is **one call of the account's quota**, fetched only when asked
        for; the last page is the first one shorter than ``page_size``.

        Example:
            ::

                for page in client.list_agent_pages(page_size=50):
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
                overriding the client's; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"batch"`` (paging and reports can wait
                their turn).
            max_age: Seconds: an identical answer this client received at most that
                long ago is served from memory, without a call of the quota (the
                result's ``from_cache`` and ``age`` say so); ``None`` for an answer
                from the gateway. Default: the client's ``max_age`` (``None``).

        Returns:
            An iterator of :class:`~moor7.AgentPage` (a ``list`` of
            :class:`~moor7.Agent` with its ``page`` number and ``request_id``).

        Raises:
            moor7.ConfigurationError: A bad argument, raised by this call itself,
                before anything is sent.
            moor7.exceptions.Moor7Error: While iterating, a subclass saying what failed.
        """
        return self._iterate(
            lambda c: c.list_agent_pages(
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
        )

    def list_queues(
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
                overriding the client's; ``None`` for no limit.
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
        return self._run(
            lambda c: c.list_queues(
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
                max_age=max_age,
            )
        )

    def agent_online(
        self,
        agent_number: str,
        *,
        login_type: LoginType | Literal["PSTN", "WEBRTC", "SIP"],
        status: OnlineStatus | Literal["0", "1"] = OnlineStatus.IDLE,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
    ) -> ActionResult:
        """Put an agent online (座席上线), ready to take calls.

        An outbound call can be made only for an agent who is online (idle, busy or in
        wrap-up). An action: sent at most once (see :class:`~moor7.CallKind`).

        Example:
            ::

                client.agent_online("2000", login_type=moor7.LoginType.PSTN)

        Args:
            agent_number: The agent's job number (工号).
            login_type: How the agent takes calls: on a phone (``PSTN``), the browser
                softphone (``WEBRTC``) or a SIP phone (``SIP``).
            status: The agent's state once online: idle (default) or busy.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: The most times it is tried again, and only when the gateway
                certainly did not act on it.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client's; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` (someone waits for it).

        Returns:
            The gateway's answer; its ``raw`` is the gateway's text, e.g.
            ``"座席上线成功"``.

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return self._run(
            lambda c: c.agent_online(
                agent_number,
                login_type=login_type,
                status=status,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
            )
        )

    def listen(
        self,
        *,
        agent_number: str,
        listen_agent: str,
        action_id: str | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
    ) -> ListenResult:
        """Listen in on an agent's call (监听), silently.

        An action: sent at most once (see :class:`~moor7.CallKind`).

        Example:
            ::

                result = client.listen(agent_number="9527", listen_agent="2002")
                print(result.media_server)

        Args:
            agent_number: The job number of the agent whose call is listened to.
            listen_agent: The job number of the agent who listens.
            action_id: Your tag for this request, at most 40 characters; the gateway
                uses its own request id when none is given.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: The most times it is tried again, and only when the gateway
                certainly did not act on it.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client's; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` (someone waits for it).

        Returns:
            The listening leg's media server and the gateway's echo of the request.

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return self._run(
            lambda c: c.listen(
                agent_number=agent_number,
                listen_agent=listen_agent,
                action_id=action_id,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
            )
        )

    def create_dialout_task(
        self,
        *,
        name: str,
        creator: str,
        description: str | None = None,
        agent_numbers: CollectionNotStr[str] = (),
        queue_numbers: CollectionNotStr[str] = (),
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
    ) -> ActionResult:
        """Create a preview-dialling task (创建预览外呼任务).

        An action: sent at most once (see :class:`~moor7.CallKind`), so a timeout
        leaves you to check in the console whether the task exists.

        Example:
            ::

                client.create_dialout_task(
                    name="回访", creator="2001", agent_numbers=["2000"]
                )

        Args:
            name: The task's name (``taskName``).
            creator: The job number of the agent creating it (``agentNumber``).
            description: A remark.
            agent_numbers: The job numbers of the agents who work the task.
            queue_numbers: The skill groups (their ids) that work the task.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: The most times it is tried again, and only when the gateway
                certainly did not act on it.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client's; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` (someone waits for it).

        Returns:
            The gateway's answer: the docs show no ``data`` (so no task id) in it.

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return self._run(
            lambda c: c.create_dialout_task(
                name=name,
                creator=creator,
                description=description,
                agent_numbers=agent_numbers,
                queue_numbers=queue_numbers,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
            )
        )

    def update_dialout_task(
        self,
        task_id: str,
        *,
        name: str,
        description: str | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
    ) -> ActionResult:
        """Rename a preview-dialling task, or change its remark (更新预览外呼任务).

        The gateway requires the name even when only the remark changes. An action:
        sent at most once (see :class:`~moor7.CallKind`).

        Args:
            task_id: The task's id (``taskId``).
            name: The task's name (``taskName``), required by the gateway.
            description: A new remark; ``None`` leaves it out of the request.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: The most times it is tried again, and only when the gateway
                certainly did not act on it.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client's; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` (someone waits for it).

        Returns:
            The gateway's answer.

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return self._run(
            lambda c: c.update_dialout_task(
                task_id,
                name=name,
                description=description,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
            )
        )

    def get_display_number_answer_report(
        self,
        *,
        numbers: CollectionNotStr[str],
        start: datetime,
        end: datetime,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> AnswerRates:
        """Get the outbound answer rate of display numbers (外呼号码接通率报表).

        ``start`` and ``end`` bound the calls' start (when the call reached the
        telephony system), at most three months apart. One call of the quota.

        Example:
            ::

                rates = client.get_display_number_answer_report(
                    numbers=["01081401967"],
                    start=datetime(2020, 9, 25, 20, 32, 3),
                    end=datetime(2020, 12, 25, 20, 32, 3),
                )

        Args:
            numbers: The display numbers to report on (at least one).
            start: The range's start (naive: China Standard Time).
            end: The range's end, at most three calendar months after ``start``.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for this call.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client's; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"batch"`` (paging and reports can wait
                their turn).
            max_age: Seconds: an identical answer this client received at most that
                long ago is served from memory, without a call of the quota (the
                result's ``from_cache`` and ``age`` say so); ``None`` for an answer
                from the gateway. Default: the client's ``max_age`` (``None``).

        Returns:
            A ``list`` of :class:`~moor7.AnswerRate`, one per number, with the call's
            ``request_id``.

        Raises:
            moor7.ConfigurationError: A bad argument (no numbers, a reversed or too
                long range); nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return self._run(
            lambda c: c.get_display_number_answer_report(
                numbers=numbers,
                start=start,
                end=end,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
                max_age=max_age,
            )
        )

    def get_im_session_report(
        self,
        *,
        start: datetime,
        end: datetime,
        dimension: ReportDimension
        | Literal["half_hour", "hour", "day", "month", "year"] = ReportDimension.HOUR,
        access_ids: CollectionNotStr[str] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> ImSessionReport:
        """Get the IM (online chat) session report (会话报表).

        Sessions created from ``start`` to ``end``, at most a year apart, counted per
        ``dimension``. One call of the quota.

        Example:
            ::

                report = client.get_im_session_report(
                    start=datetime(2021, 8, 1), end=datetime(2021, 8, 31), dimension="day"
                )
                print([column.label for column in report.columns])

        Args:
            start: The range's start (naive: China Standard Time).
            end: The range's end, at most a year after ``start``.
            dimension: The time step of the rows: half hour, hour (default), day,
                month or year.
            access_ids: Only these chat channels (接入号).
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for this call.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client's; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"batch"`` (paging and reports can wait
                their turn).
            max_age: Seconds: an identical answer this client received at most that
                long ago is served from memory, without a call of the quota (the
                result's ``from_cache`` and ``age`` say so); ``None`` for an answer
                from the gateway. Default: the client's ``max_age`` (``None``).

        Returns:
            The report's columns; the rows are in ``raw`` (the docs do not name their
            key).

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return self._run(
            lambda c: c.get_im_session_report(
                start=start,
                end=end,
                dimension=dimension,
                access_ids=access_ids,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
                max_age=max_age,
            )
        )

    @overload
    def request(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        result_type: type[R],
        kind: CallKind | Literal["query", "action"] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> R: ...
    @overload
    def request(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        result_type: None = None,
        kind: CallKind | Literal["query", "action"] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Any: ...
    def request(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        result_type: type[R] | None = None,
        kind: CallKind | Literal["query", "action"] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> R | Any:
        """Call any V7 OpenAPI endpoint, with the same signing, quota, retries and errors.

        Without ``result_type``, the answer's ``data`` comes back as JSON decoded it
        (typed ``Any``). With it, ``data`` is read into that type by moor7's own rules,
        as every endpoint method's result is: the wire's names are the fields' in
        camelCase (``agent_number`` reads ``agentNumber``, ``id`` reads ``_id``),
        numbers sent as strings and empty strings are tolerated, times are read as China
        Standard Time, unknown keys are ignored (and kept in a ``raw`` field if the
        class has one), and a ``request_id`` field gets the call's request id.

        A query shares the answer of an identical one in flight, and may be served a
        kept answer (``max_age``), as the endpoint methods' are: a
        :class:`~moor7.ResultList` subclass or one of moor7's models then says so in
        ``from_cache`` and ``age``; plain JSON and your own classes cannot.

        Example:
            ::

                data = client.request(
                    "/openapi/v1/call/query/agent", {"page": 1, "limit": 100}
                )

                @attrs.frozen
                class Member:
                    agent_number: str
                    name: str | None = None

                members = client.request(
                    "/openapi/v1/call/query/agent", {"page": 1}, result_type=list[Member]
                )  # list[Member] to mypy and pyright too

        Args:
            path: The endpoint's path, starting with ``/``.
            body: The JSON object to send; ``None`` sends an empty body.
            result_type: What to read ``data`` into: an attrs class (with fields of
                ``str``, ``int``, ``float``, ``bool``, ``datetime``, enums as
                ``E | UnlistedInt | None``, and other such classes or lists of them), a
                :class:`~moor7.ResultList` subclass, a ``list[...]`` of a class, or
                one of moor7's own results (:class:`~moor7.AgentPage`). Checked before
                anything is sent.
            kind: ``"query"`` or ``"action"`` (:class:`CallKind`), which decides what
                is retried. Default: the kind moor7 declares for a path it knows, else
                ``"action"``: a path moor7 does not know might change state at 7moor,
                so it is sent at most once unless you say it is a query.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for this call.
            deadline: Seconds for the whole call, overriding the client's; ``None``
                for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` for an action, and for a
                query the priority moor7 declares for a path it knows (batch for the
                agents' pages and the reports), else ``"interactive"``.
            max_age: For a query: seconds, as the endpoint methods' ``max_age``. Default:
                the client's ``max_age``. An action's answer is never kept: passing one
                for an action raises :class:`~moor7.ConfigurationError`.

        Returns:
            The envelope's ``data``: as JSON decoded it, or read into ``result_type``.

        Raises:
            moor7.ConfigurationError: A bad argument, ``result_type`` included; nothing
                was sent.
            moor7.ResponseShapeError: ``data`` does not fit ``result_type``.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        return self._run(
            lambda c: c.request(
                path,
                body,
                result_type=result_type,
                kind=kind,
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
                max_age=max_age,
            )
        )
