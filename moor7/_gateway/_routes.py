"""What a family module declares: its routes, and the errors its handlers raise.

The server (:mod:`moor7._gateway._server`) knows no endpoint. It authenticates a request,
parses its body and charges the quota, then looks up the :class:`Route` for the path and
calls its handler with a :class:`RouteRequest`. A handler returns the envelope's ``data``
(or :data:`NO_DATA` for an answer without one) or raises :class:`GatewayError` for a
request the docs say the gateway refuses.

The docs recovered no V7 error answer at all, so every refusal here is HTTP 400 with the
envelope code ``"400"`` and a message naming the field, in the style of the server's
other messages (Chinese first, then English): ``参数错误 agentNumber: unknown agent
'9999'``. An unknown entity (an agent or task the request names) is a bad argument too,
as the older 7moor API answers it (code 400, "bad request-body parameters"), rather than
a 404 the client could mistake for an unknown path.

Handlers run with the gateway's lock held, so a backend needs no lock of its own; they
must not block. What a handler returns is deep-copied before the lock is released, so it
may return its own state.

The helpers below read one field of a request body each, refusing a wrong type with the
same message everywhere. ``null`` counts as absent for an optional field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from moor7._reprs import tolerant_repr

__all__ = [
    "GatewayError",
    "NO_DATA",
    "Route",
    "RouteRequest",
    "SUCCESS_MESSAGE",
    "add_months",
    "bad_argument",
    "check_fits",
    "optional_int",
    "optional_mapping",
    "optional_str",
    "optional_str_list",
    "parse_datetime",
    "plain_json",
    "plain_object",
    "plain_records",
    "required_datetime",
    "required_str",
    "required_str_list",
]

NO_DATA: Final[Any] = object()
"""Returned by a handler whose answer has no ``data`` key (e.g. 创建预览外呼任务)."""

SUCCESS_MESSAGE: Final = "requestSuccess"

# "yyyy-MM-dd HH:mm:ss", as the report pages' examples send it.
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_DATETIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


class GatewayError(Exception):
    """A request the gateway refuses: answered as 7moor's error envelope.

    Args:
        message: The envelope's ``message``.
        status: The HTTP status; the envelope's ``code`` is the same number as a string.
    """

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = str(status)


def bad_argument(field: str, reason: str) -> GatewayError:
    """The 400 answer for one bad field of the request body."""
    return GatewayError(f"参数错误 {field}: {reason}")


@tolerant_repr
@attrs.frozen
class RouteRequest:
    """What a handler is given.

    Attributes:
        body: The request body: a JSON object, ``{}`` for an empty body.
        request_id: The envelope's ``requestInfo.requestId`` for this answer.
        received_at: When the request arrived, by the gateway's clock (Unix seconds).
        now: The gateway's clock now (Unix seconds).
    """

    body: dict[str, Any]
    request_id: str
    received_at: float
    now: float


@tolerant_repr
@attrs.frozen
class Route:
    """One endpoint: a path and the handler that answers it.

    Attributes:
        path: The URL path, e.g. ``/openapi/v1/call/sip/list``.
        handler: Turns the request into the envelope's ``data``, or raises
            :class:`GatewayError`.
        message: The success envelope's ``message``; the queue-list page shows
            ``"200 ok!"`` where every other page shows ``"requestSuccess"``.
    """

    path: str
    handler: Callable[[RouteRequest], Any]
    message: str = SUCCESS_MESSAGE


def plain_json(value: Any) -> Any:
    """Return a deep, JSON-only copy of *value*, failing now if it cannot be sent.

    Validating when the user sets data, not when a request arrives, puts the error
    in the user's traceback instead of the server thread's.
    """

    def widen(obj: object) -> object:
        if isinstance(obj, Mapping):
            return dict(obj)
        if isinstance(obj, Sequence) and not isinstance(obj, (str, bytes, bytearray)):
            return list(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON serializable")

    return json.loads(json.dumps(value, default=widen))


def plain_records(value: Any, argument: str) -> list[dict[str, Any]]:
    """A JSON-only copy of a list of records (objects), as a backend filters them.

    Raises:
        TypeError: *value* is not a list of mappings, or cannot be sent as JSON.
    """
    records = plain_json(value)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise TypeError(f"{argument} must be a sequence of mappings (records)")
    return records


def plain_object(value: Any, argument: str) -> dict[str, Any]:
    """A JSON-only copy of one object (a mapping).

    Raises:
        TypeError: *value* is not a mapping, or cannot be sent as JSON.
    """
    document = plain_json(value)
    if not isinstance(document, dict):
        raise TypeError(f"{argument} must be a mapping (a JSON object), not {_type_name(value)}")
    return document


def check_fits(argument: str, data: Any, result: type, path: str) -> None:
    """Raise now if *data*, served as the ``data`` of *path*, would not decode into
    *result*, the model the client reads it into: the same check, by the same code, as
    the client's, so that a wrong shape fails where the data is given, not as a
    ``ResponseShapeError`` at every call.

    Raises:
        ValueError: The data does not fit; the message names *argument* and where.
    """
    # Imported here: the models and the converter are needed once data is given.
    from moor7._endpoints._base import decode
    from moor7._envelope import Envelope
    from moor7.exceptions import ResponseShapeError

    envelope = Envelope(data=data, code="200", message=None, request_id=None, status=200, path=path)
    try:
        decode(envelope, result)
    except ResponseShapeError as exc:
        why = exc.message.removeprefix("the answer's data does not fit the model: ")
        msg = (
            f"{argument} does not fit the model the client reads it into "
            f"(moor7.{result.__name__}, the data of {path}): {why}"
        )
        raise ValueError(msg) from None


# -- reading fields of a request body --------------------------------------------------


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def optional_str(body: Mapping[str, Any], field: str) -> str | None:
    """The string *field*, or ``None`` if absent or null."""
    value = body.get(field)
    if value is None or isinstance(value, str):
        return value
    raise bad_argument(field, f"must be a string, not {_type_name(value)}")


def required_str(body: Mapping[str, Any], field: str) -> str:
    """The non-empty string *field*."""
    value = optional_str(body, field)
    if not value:
        raise bad_argument(field, "is required")
    return value


def optional_int(
    body: Mapping[str, Any], field: str, *, default: int, low: int, high: int | None = None
) -> int:
    """The integer *field* in ``low..high``, or *default* if absent or null."""
    value = body.get(field)
    if value is None:
        return default
    # bool is an int to Python, not to JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_argument(field, f"must be an integer, not {_type_name(value)}")
    if value < low or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise bad_argument(field, f"must be {bounds}, not {value}")
    return value


def optional_mapping(body: Mapping[str, Any], field: str) -> dict[str, Any] | None:
    """The object *field*, or ``None`` if absent or null."""
    value = body.get(field)
    if value is None or isinstance(value, dict):
        return value
    raise bad_argument(field, f"must be an object, not {_type_name(value)}")


def optional_str_list(body: Mapping[str, Any], field: str) -> list[str] | None:
    """The list of strings *field*, or ``None`` if absent or null."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_argument(field, "must be a list of strings")
    return value


def required_str_list(body: Mapping[str, Any], field: str) -> list[str]:
    """The non-empty list of strings *field*."""
    value = optional_str_list(body, field)
    if not value:
        raise bad_argument(field, "is required: a non-empty list of strings")
    return value


def parse_datetime(value: object, field: str) -> datetime:
    """A ``"yyyy-MM-dd HH:mm:ss"`` string as a naive datetime (the docs give no zone)."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise bad_argument(field, "must be a time 'yyyy-MM-dd HH:mm:ss'")
    try:
        return datetime.strptime(value, _DATETIME_FORMAT)
    except ValueError:
        raise bad_argument(field, f"is not a valid time: {value!r}") from None


def required_datetime(body: Mapping[str, Any], field: str) -> datetime:
    """The required ``"yyyy-MM-dd HH:mm:ss"`` string *field*, parsed."""
    if body.get(field) is None:
        raise bad_argument(field, "is required")
    return parse_datetime(body[field], field)


def add_months(moment: datetime, months: int) -> datetime:
    """*moment* plus calendar months, the day clamped to the month's last (Nov 30 + 3 = Feb 28)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")  # pragma: no cover
