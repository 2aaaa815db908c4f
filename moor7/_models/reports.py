"""报表: the answer-rate report per display number, the IM session report."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from moor7._reprs import tolerant_repr

from ._base import (
    ResultList,
    age_field,
    from_cache_field,
    printed_by_name,
    raw_field,
    request_id_field,
)

__all__ = [
    "WIRE_NAMES",
    "AnswerRate",
    "AnswerRates",
    "ImSessionReport",
    "ReportColumn",
    "ReportDimension",
]


@printed_by_name
class ReportDimension(str, enum.Enum):
    """The time step of the IM session report's rows (``dimension``)."""

    HALF_HOUR = "half_hour"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


@tolerant_repr
@attrs.frozen
class AnswerRate:
    """The outbound answer rate of one display number (外呼号码接通率报表).

    Attributes:
        number: The display number.
        calls: Outbound calls placed with it (``sum``).
        answered: How many of them were answered (``answerSum``).
        percentage: The answer rate in percent, e.g. ``25.0`` for the gateway's
            ``"25.00%"`` (``answerPercentage``).
        raw: The record as the gateway sent it.
    """

    number: str
    calls: int | None = None
    answered: int | None = None
    percentage: float | None = None
    raw: Mapping[str, Any] = raw_field()


class AnswerRates(ResultList[AnswerRate]):
    """The rows of :meth:`~moor7.AsyncClient.get_display_number_answer_report`: a
    ``list`` of :class:`AnswerRate`, with the call's ``request_id`` and ``raw``."""


@tolerant_repr
@attrs.frozen
class ReportColumn:
    """One column of a report: the key of its values in a row, and its title.

    Attributes:
        prop: The key of this column's values in the report's rows, e.g. ``"initCount"``.
        label: The column's title, e.g. ``"总会话数"``.
        show: Whether the console shows it.
        width: The console's column width (sent as a number or a numeric string).
        is_custom_header: ``isCustomHeader`` as sent (``false`` in every example).
        raw: The record as the gateway sent it.
    """

    prop: str
    label: str | None = None
    show: bool | None = None
    width: int | None = None
    is_custom_header: bool | None = None
    raw: Mapping[str, Any] = raw_field()


@tolerant_repr
@attrs.frozen
class ImSessionReport:
    """The IM (online chat) session report (会话报表).

    The docs give the columns (``data.header``) but were cut before the rows: the key
    that holds them is not documented, so the rows are in ``raw`` as the gateway sent
    them, each keyed by the columns' ``prop``.

    Attributes:
        columns: The report's columns (``header``), in the gateway's order.
        request_id: The gateway's ``requestInfo.requestId`` for the call.
        raw: The ``data`` object as the gateway sent it.
        from_cache: Whether it was served from the client's recent answers
            (``max_age=``) instead of a call of the quota.
        age: Seconds since its answer arrived from the gateway: ``0.0`` for an answer
            that came for this call (or for an identical call it shared).
    """

    columns: list[ReportColumn] = attrs.field(factory=list)
    request_id: str | None = request_id_field()
    raw: Mapping[str, Any] = raw_field()
    from_cache: bool = from_cache_field()
    age: float = age_field()


# Wire names that are not the plain camelCase of the field.
WIRE_NAMES: dict[type, dict[str, str]] = {
    AnswerRate: {"calls": "sum", "answered": "answerSum", "percentage": "answerPercentage"},
    ImSessionReport: {"columns": "header"},
}
