"""Reports: 报表 and 会话报表 (developer.7moor.com/v7/callreport/, /v7/im-report/).

Routes:

- 外呼号码接通率报表 ``/openapi/v1/call/query/displayNumber/answer/report``:
  ``startTime`` and ``endTime`` (required, ``yyyy-MM-dd HH:mm:ss``), ``numbers``
  (required, a non-empty list of strings). The end may not precede the start, and the
  span may be at most three calendar months: the docs' example, 2020-09-25 20:32:03 to
  2020-12-25 20:32:03, is exactly three and allowed; a second more is 400. ``data`` has
  one row per number asked, in the order asked, from the backend's stats (the time range
  does not filter them: the fake keeps totals, not calls); a number without stats has
  zeros. ``answerPercentage`` is written as the docs write it: two decimals, two integer
  digits at least, a percent sign (``"00.00%"``, ``"33.33%"``, ``"100.00%"``).
- 会话报表 ``/openapi/im-report/session/time``: ``createTime`` (required, a list of two
  ``yyyy-MM-dd HH:mm:ss`` strings, start and end; end not before start; at most one
  calendar year apart), ``dimension`` (optional: ``half_hour``, ``hour``, ``day``,
  ``month``, ``year``; default ``hour``), ``accessIds`` (optional list of strings).
  ``data`` is the report object as given, by default the docs' recovered header list
  and no rows: the key the rows sit under is MISSING in the docs, so none is invented.

Every bad or missing field is 400 naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from moor7._models import ImSessionReport

from ._routes import (
    Route,
    RouteRequest,
    add_months,
    bad_argument,
    check_fits,
    optional_str,
    optional_str_list,
    parse_datetime,
    plain_object,
    required_datetime,
    required_str_list,
)

__all__ = [
    "ANSWER_REPORT_PATH",
    "IM_SESSION_REPORT_PATH",
    "ReportsBackend",
    "SAMPLE_ANSWER_RATES",
    "SAMPLE_IM_SESSION_REPORT",
]

ANSWER_REPORT_PATH: Final = "/openapi/v1/call/query/displayNumber/answer/report"
IM_SESSION_REPORT_PATH: Final = "/openapi/im-report/session/time"

DIMENSIONS: Final = ("half_hour", "hour", "day", "month", "year")
_ANSWER_REPORT_MONTHS = 3
_IM_REPORT_MONTHS = 12

SAMPLE_ANSWER_RATES: Final[dict[str, dict[str, int]]] = {
    "01081401967": {"sum": 4, "answerSum": 0},
}
"""Outbound calls per display number, as the 外呼号码接通率报表 example reports them:
number to ``{"sum": total calls, "answerSum": answered calls}``."""


def _header(prop: str, label: str, width: str | int = 120) -> dict[str, Any]:
    return {"isCustomHeader": False, "prop": prop, "show": True, "width": width, "label": label}


SAMPLE_IM_SESSION_REPORT: Final[dict[str, Any]] = {
    # The example's header list, verbatim up to the sixth entry, which is cut off at
    # "prop": so five entries. Note `width`: the string "200" for time, the number 120
    # for the others, as the example has it.
    "header": [
        _header("time", "时间", width="200"),
        _header("initCount", "总会话数"),
        _header("validCount", "有效会话数"),
        _header("robotCount", "机器人会话数"),
        _header("robotOnlyCount", "机器人独立接待会话数"),
    ],
}
"""The ``data`` of the 会话报表 (IM session report) example as far as it was recovered:
``{"header": [...]}`` with five column headers and no rows."""


def answer_percentage(answered: int, total: int) -> str:
    """The rate as the report writes it: ``"00.00%"``, ``"33.33%"``, ``"100.00%"``."""
    percent = 100 * answered / total if total else 0.0
    return f"{percent:05.2f}%"


def _checked_rates(rates: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    if not isinstance(rates, Mapping):
        msg = (
            "answer_rates must be a mapping of display number to "
            f"{{'sum': calls, 'answerSum': answered}}, not {type(rates).__name__}"
        )
        raise TypeError(msg)
    checked: dict[str, dict[str, int]] = {}
    for number, stats in rates.items():
        if not isinstance(stats, Mapping):
            msg = (
                f"answer_rates[{number!r}] must be a mapping {{'sum': calls, "
                f"'answerSum': answered}}, not {type(stats).__name__}"
            )
            raise TypeError(msg)
        total, answered = stats.get("sum"), stats.get("answerSum")
        # type() rather than isinstance(): a bool is no count.
        if type(total) is not int or type(answered) is not int or min(total, answered) < 0:
            raise ValueError(f"answer_rates[{number!r}]: sum and answerSum must be counts")
        if answered > total:
            raise ValueError(f"answer_rates[{number!r}]: answerSum exceeds sum")
        checked[str(number)] = {"sum": total, "answerSum": answered}
    return checked


class ReportsBackend:
    """The statistics the reports are drawn from.

    Args:
        answer_rates: Number to ``{"sum": ..., "answerSum": ...}``; defaults to
            :data:`SAMPLE_ANSWER_RATES`. Copied.
        im_session_report: The ``data`` of the IM session report; defaults to
            :data:`SAMPLE_IM_SESSION_REPORT`. Copied.

    Raises:
        ValueError: A count in *answer_rates* is not a non-negative integer, or more
            calls were answered than made.
    """

    def __init__(
        self,
        *,
        answer_rates: Mapping[str, Mapping[str, Any]] | None = None,
        im_session_report: Mapping[str, Any] | None = None,
    ) -> None:
        self.answer_rates = _checked_rates(
            SAMPLE_ANSWER_RATES if answer_rates is None else answer_rates
        )
        self.im_session_report = plain_object(
            SAMPLE_IM_SESSION_REPORT if im_session_report is None else im_session_report,
            "im_session_report",
        )
        check_fits(
            "im_session_report", self.im_session_report, ImSessionReport, IM_SESSION_REPORT_PATH
        )

    def routes(self) -> list[Route]:
        return [
            Route(ANSWER_REPORT_PATH, self.answer_report),
            Route(IM_SESSION_REPORT_PATH, self.im_session_time),
        ]

    def answer_report(self, request: RouteRequest) -> list[dict[str, Any]]:
        body = request.body
        start = required_datetime(body, "startTime")
        end = required_datetime(body, "endTime")
        numbers = required_str_list(body, "numbers")
        if end < start:
            raise bad_argument("endTime", "is before startTime")
        if end > add_months(start, _ANSWER_REPORT_MONTHS):
            raise bad_argument("endTime", "a query may cover at most three months")
        rows = []
        for number in numbers:
            stats = self.answer_rates.get(number, {"sum": 0, "answerSum": 0})
            rows.append(
                {
                    "number": number,
                    "sum": stats["sum"],
                    "answerSum": stats["answerSum"],
                    "answerPercentage": answer_percentage(stats["answerSum"], stats["sum"]),
                }
            )
        return rows

    def im_session_time(self, request: RouteRequest) -> dict[str, Any]:
        body = request.body
        span = body.get("createTime")
        if span is None:
            raise bad_argument("createTime", "is required")
        if not isinstance(span, list) or len(span) != 2:
            raise bad_argument("createTime", "must be [start, end]")
        start = parse_datetime(span[0], "createTime")
        end = parse_datetime(span[1], "createTime")
        if end < start:
            raise bad_argument("createTime", "the end is before the start")
        if end > add_months(start, _IM_REPORT_MONTHS):
            raise bad_argument("createTime", "the span may not exceed one year")
        dimension = optional_str(body, "dimension")
        if dimension is not None and dimension not in DIMENSIONS:
            raise bad_argument("dimension", f"must be one of {', '.join(DIMENSIONS)}")
        optional_str_list(body, "accessIds")
        return self.im_session_report
