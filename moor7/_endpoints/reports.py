"""报表: the answer rate per display number, the IM (online chat) session report.

Docs pages: developer.7moor.com/v7/callreport/ and /v7/im-report/. Times are
``datetime``: a naive one means China Standard Time, an aware one is converted to it,
and both are sent as ``yyyy-MM-dd HH:mm:ss``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from moor7._arguments import CollectionNotStr, choice, items, texts, time_range
from moor7._limits import Priority
from moor7._models import AnswerRates, ImSessionReport, ReportDimension
from moor7.exceptions import ConfigurationError

from ._base import USE_CLIENT_DEFAULT, CallKind, Endpoint, EndpointMethods, UseClientDefault

__all__ = ["ReportsMethods"]

# Reports are batches: nobody at a phone waits for them.
ANSWER_REPORT = Endpoint(
    "/openapi/v1/call/query/displayNumber/answer/report",
    CallKind.QUERY,
    AnswerRates,
    priority=Priority.BATCH,
)
IM_SESSION_REPORT = Endpoint(
    "/openapi/im-report/session/time", CallKind.QUERY, ImSessionReport, priority=Priority.BATCH
)

# The docs' limits on a report's range.
ANSWER_REPORT_MONTHS = 3
IM_REPORT_MONTHS = 12


class ReportsMethods(EndpointMethods):
    """The answer-rate and IM session reports (报表)."""

    async def get_display_number_answer_report(
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

                rates = await client.get_display_number_answer_report(
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
            A ``list`` of :class:`~moor7.AnswerRate`, one per number, with the call's
            ``request_id``.

        Raises:
            moor7.ConfigurationError: A bad argument (no numbers, a reversed or too
                long range); nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        wanted = texts("numbers", numbers)
        if not wanted:
            msg = "numbers must name at least one display number"
            raise ConfigurationError(msg)
        first, last = time_range(("start", "end"), start, end, most_months=ANSWER_REPORT_MONTHS)
        body = {"startTime": first, "endTime": last, "numbers": wanted}
        return await self._perform(
            ANSWER_REPORT,
            body,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
            max_age=max_age,
        )

    async def get_im_session_report(
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

                report = await client.get_im_session_report(
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
            The report's columns; the rows are in ``raw`` (the docs do not name their
            key).

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        first, last = time_range(("start", "end"), start, end, most_months=IM_REPORT_MONTHS)
        body: dict[str, object] = {
            "createTime": [first, last],
            "dimension": choice("dimension", dimension, ReportDimension).value,
        }
        if access_ids is not None:
            body["accessIds"] = texts("access_ids", items("access_ids", access_ids))
        return await self._perform(
            IM_SESSION_REPORT,
            body,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
            max_age=max_age,
        )
