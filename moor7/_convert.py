"""The converter: the gateway's JSON onto the models in ``_models.py``.

All wire knowledge lives here: the camelCase and ``_id`` names, the fields that the docs
call ``string`` but the gateway sends as numbers or booleans, empty strings meaning
"none", and Beijing-time timestamps. The models stay plain.

There is no global converter that anyone can register hooks on: :func:`make_converter`
builds a private one, and every client of the process uses the one :func:`structure`
builds on first use and never changes after.
"""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn, override

from ._models import (
    CHINA_STANDARD_TIME,
    CallAbility,
    NumberGroup,
    NumberPool,
    NumberStatus,
    PhoneNumber,
    RegisterStatus,
    ResourceType,
    SipNumber,
    SipStatus,
)

__all__ = ["describe_error", "make_converter", "structure"]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# _TIME_FORMAT with two-digit fields, the only shape the gateway sends. ASCII digits only:
# for exactly these strings fromisoformat() and strptime() agree.
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_GATEWAY_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")

# Wire names that are not plain camelCase of the model's snake_case name.
_RENAMES: dict[type, dict[str, str]] = {
    NumberGroup: {"id": "_id"},
    PhoneNumber: {"id": "_id", "groups": "group"},
    SipNumber: {
        "id": "_id",
        # sic: the gateway spells it "Replay"; the model uses the word users mean.
        "busy_reply_code": "busyReplayCode",
        "is_deleted": "isDel",
        "is_nat": "isNAT",
        "is_webrtc": "isWebRtc",
        "coding_formats": "codingFormat",
    },
    NumberPool: {
        "display_numbers": "displayNumberList",
        "service_numbers": "serviceNumberList",
        "sip_numbers": "sipNumberList",
    },
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _fail(value: Any, what: str) -> ValueError:
    # Only the type goes into the message: a value may be a secret (a SIP password).
    return ValueError(f"expected {what}, got {type(value).__name__}")


def _to_str(value: Any, _: Any = None) -> str:
    # The docs' tables say "string" where the gateway sometimes sends numbers.
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise _fail(value, "a string")


def _to_optional_str(value: Any, _: Any = None) -> str | None:
    # The hooks run once per field of every number (80,000 times for a pool of 5,000):
    # the common JSON type is tested first, by identity, before the general rules.
    if type(value) is str:
        return value or None
    if value is None or value == "":
        return None
    return _to_str(value)


def _to_optional_int(value: Any, _: Any = None) -> int | None:
    if type(value) is int:  # the common case first, as in _to_optional_str
        return value
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    # A strict pattern, not isdigit(): int() refuses "²" or "--1" with a message that
    # quotes the value, and no value may reach an error's text.
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _fail(value, "an integer")


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _to_optional_bool(value: Any, _: Any = None) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise _fail(value, "a boolean")


def _to_optional_datetime(value: Any, _: Any = None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            # strptime() costs ~5 µs a call, over ten times this check and fromisoformat(),
            # which reads the gateway's own shape the same way; with two times a number,
            # strptime was a third of decoding a large pool. Other shapes take strptime.
            if _GATEWAY_TIME.fullmatch(value):
                parsed = datetime.fromisoformat(value)
            else:
                parsed = datetime.strptime(value, _TIME_FORMAT)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                # Not the value itself: a field may carry anything, a secret included.
                raise ValueError("expected a date-time such as '2020-12-08 16:48:26'") from None
        if parsed.tzinfo is None:
            # parsed.replace(tzinfo=...), five times faster on CPython 3.11.
            parsed = datetime.combine(parsed, parsed.time(), CHINA_STANDARD_TIME)
        return parsed
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Epoch milliseconds appear elsewhere in the API (requestInfo.span).
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, CHINA_STANDARD_TIME)
    raise _fail(value, "a date-time string")


def _to_str_list(value: Any, _: Any = None) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [_to_str(item) for item in value]
    raise _fail(value, "a list of strings")


def _enum_or_int(enum_cls: type[E]) -> Callable[[Any, Any], E | int | None]:
    # A dictionary lookup is several times faster than calling the enum class, which
    # stays the fallback for anything not found, so the outcome is the same.
    members = {member.value: member for member in enum_cls}

    def structure(value: Any, _: Any = None) -> E | int | None:
        number = _to_optional_int(value)
        if number is None:
            return None
        member = members.get(number)
        if member is not None:
            return member
        try:
            return enum_cls(number)
        except ValueError:
            return number  # a value the docs did not list: keep it, do not fail

    return structure


def _enum_or_str(enum_cls: type[E]) -> Callable[[Any, Any], E | str | None]:
    members = {member.value: member for member in enum_cls}  # as in _enum_or_int

    def structure(value: Any, _: Any = None) -> E | str | None:
        text = _to_optional_str(value)
        if text is None:
            return None
        member = members.get(text)
        if member is not None:
            return member
        try:
            return enum_cls(text)
        except ValueError:
            return text  # a value the docs did not list: keep it, do not fail

    return structure


def _list_of(
    item_type: type[T], item_hook: Callable[[Any, Any], T]
) -> Callable[[Any, Any], list[T]]:
    # The item's own hook, called directly: no converter dispatch on the type per item.
    def structure(value: Any, _: Any = None) -> list[T]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise _fail(value, "a list")
        result = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                result.append(item_hook(item, item_type))
            except Exception as exc:  # collected, and re-raised below with its index
                # cattrs' own way to say where in a list a failure happened, so that
                # transform_error() reports "$.display_numbers[3].create_time".
                note = IterableValidationNote(f"Structuring @ index {index}", index, item_type)
                notes = [*getattr(exc, "__notes__", []), note]
                exc.__notes__ = notes  # type: ignore[attr-defined]  # PEP 678, typed from 3.11
                errors.append(exc)
        if errors:
            msg = f"While structuring a list of {item_type.__name__}"
            raise IterableValidationError(msg, errors, list)
        return result

    return structure


def _register_model(converter: cattrs.Converter, cls: type[T]) -> Callable[[Any, Any], T]:
    renames = _RENAMES.get(cls, {})
    overrides: dict[str, Any] = {
        field.name: override(rename=renames.get(field.name, _camel(field.name)))
        for field in attrs.fields(cls)  # type: ignore[arg-type]  # only attrs models come here
    }
    overrides["raw"] = override(omit=True)
    if cls is NumberPool:
        overrides["request_id"] = override(omit=True)
    structure_fields = make_dict_structure_fn(cls, converter, **overrides)

    def structure(value: Any, _: Any = None) -> T:
        # A dict, as JSON gives, passes without the slower ABC check.
        if type(value) is not dict and not isinstance(value, Mapping):
            raise _fail(value, f"an object for {cls.__name__}")
        instance = structure_fields(value, cls)
        # attrs' own recipe for setting a field of a frozen instance after __init__:
        # this keeps the raw record without copying it into the kwargs.
        object.__setattr__(instance, "raw", value)
        return instance

    converter.register_structure_hook(cls, structure)
    return structure


def _is(expected: Any) -> Callable[[Any], bool]:
    def predicate(type_: Any) -> bool:
        return bool(type_ == expected)

    return predicate


def make_converter() -> cattrs.Converter:
    """Build the converter that turns the gateway's ``data`` into models.

    Unknown fields are ignored (and kept in each model's ``raw``); a field of the wrong
    type raises a cattrs validation error, which the client turns into
    :class:`moor7.ResponseShapeError`.
    """
    # Detailed validation costs nothing measurable on the common path (CPython 3.11's
    # exception handling is free until something raises; a non-detailed converter was
    # no faster on a 5,000-number pool) and names every failure with its path.
    converter = cattrs.Converter(detailed_validation=True)
    for model in (NumberGroup, PhoneNumber, SipNumber, NumberPool):
        attrs.resolve_types(model)

    # Not a predicate hook like the others: cattrs dispatches plain classes first.
    converter.register_structure_hook(str, _to_str)
    hooks: dict[Any, Callable[[Any, Any], Any]] = {
        str | None: _to_optional_str,
        int | None: _to_optional_int,
        bool | None: _to_optional_bool,
        datetime | None: _to_optional_datetime,
        list[str]: _to_str_list,
        CallAbility | int | None: _enum_or_int(CallAbility),
        SipStatus | int | None: _enum_or_int(SipStatus),
        RegisterStatus | int | None: _enum_or_int(RegisterStatus),
        NumberStatus | str | None: _enum_or_str(NumberStatus),
        ResourceType | str | None: _enum_or_str(ResourceType),
    }
    for type_, hook in hooks.items():
        # Exact matches: these are unions and generics, which a class hook cannot key.
        converter.register_structure_hook_func(_is(type_), hook)

    # Leaves first, each with its list hook: a model's generated function looks up its
    # fields' hooks when it is built (PhoneNumber's groups need list[NumberGroup]'s).
    for model in (NumberGroup, PhoneNumber, SipNumber):
        item_hook = _register_model(converter, model)
        converter.register_structure_hook_func(
            _is(list[model]),  # type: ignore[valid-type]  # a runtime generic alias
            _list_of(model, item_hook),
        )
    _register_model(converter, NumberPool)
    return converter


_shared: cattrs.Converter | None = None
_shared_lock = threading.Lock()


def _shared_converter() -> cattrs.Converter:
    # Built once per process, not per client: a converter's generated code costs ~70 KB
    # and ~5 ms to build, which a thousand clients (one per account) would each pay.
    # Nothing registers hooks on it after this, so sharing it is safe.
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = make_converter()
    return _shared


def structure(data: Any, type_: Any) -> Any:
    """Turn the gateway's *data* into *type_* (a model, or a list of models).

    Raises:
        Exception: cattrs' validation errors, or a hook's ``ValueError``; describe
            them with :func:`describe_error`.
    """
    return _shared_converter().structure(data, type_)


def _describe(exc: BaseException, type_: Any) -> str:
    # The converter's own messages ("expected a list, got dict") say more than cattrs'
    # generic "invalid value", and name only types, never values (a SIP password).
    if type(exc) is ValueError and str(exc):
        return str(exc)
    return cattrs.v.format_exception(exc, type_)


def describe_error(exc: BaseException) -> str:
    """One line naming each problem :func:`structure` found, and where."""
    return "; ".join(cattrs.transform_error(exc, format_exception=_describe))
