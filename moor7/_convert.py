"""The converter: the gateway's JSON onto the models in ``_models.py``.

All wire knowledge lives here: the camelCase and ``_id`` names, the fields that the docs
call ``string`` but the gateway sends as numbers or booleans, empty strings meaning
"none", and Beijing-time timestamps. The models stay plain.

There is no global converter: each client builds one with :func:`make_converter`, once.
"""

from __future__ import annotations

import enum
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

__all__ = ["make_converter"]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

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
    if value is None or value == "":
        return None
    return _to_str(value)


def _to_optional_int(value: Any, _: Any = None) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
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
            parsed = datetime.strptime(value, _TIME_FORMAT)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"not a date-time: {value[:40]!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=CHINA_STANDARD_TIME)
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
    def structure(value: Any, _: Any = None) -> E | int | None:
        number = _to_optional_int(value)
        if number is None:
            return None
        try:
            return enum_cls(number)
        except ValueError:
            return number  # a value the docs did not list: keep it, do not fail

    return structure


def _enum_or_str(enum_cls: type[E]) -> Callable[[Any, Any], E | str | None]:
    def structure(value: Any, _: Any = None) -> E | str | None:
        text = _to_optional_str(value)
        if text is None:
            return None
        try:
            return enum_cls(text)
        except ValueError:
            return text  # a value the docs did not list: keep it, do not fail

    return structure


def _list_of(converter: cattrs.Converter, item_type: type[T]) -> Callable[[Any, Any], list[T]]:
    def structure(value: Any, _: Any = None) -> list[T]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise _fail(value, "a list")
        result = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                result.append(converter.structure(item, item_type))
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


def _register_model(converter: cattrs.Converter, cls: type[T]) -> None:
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
        if not isinstance(value, Mapping):
            raise _fail(value, f"an object for {cls.__name__}")
        instance = structure_fields(value, cls)
        # attrs' own recipe for setting a field of a frozen instance after __init__:
        # this keeps the raw record without copying it into the kwargs.
        object.__setattr__(instance, "raw", value)
        return instance

    converter.register_structure_hook(cls, structure)


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

    # Leaves first: a model's generated function looks up its fields' hooks when built.
    for model in (NumberGroup, PhoneNumber, SipNumber):
        _register_model(converter, model)
    for item_type in (NumberGroup, PhoneNumber, SipNumber):
        converter.register_structure_hook_func(
            _is(list[item_type]),  # type: ignore[valid-type]  # a runtime generic alias
            _list_of(converter, item_type),
        )
    _register_model(converter, NumberPool)
    return converter
