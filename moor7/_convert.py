"""The converter: the gateway's JSON onto the models in ``_models/``.

The wire rules live here: camelCase names and ``_id`` for ``id`` (the exceptions each
family lists beside its models, in ``WIRE_NAMES``), the fields that the docs call
``string`` but the gateway sends as numbers or booleans, empty strings meaning "none",
and Beijing-time timestamps. The models stay plain, and a new model needs no
registration: hooks are chosen by rule (see :func:`make_converter`).

There is no global converter that anyone can register hooks on: :func:`make_converter`
builds a private one, and every client of the process uses the one :func:`structure`
builds on first use and never changes after.
"""

from __future__ import annotations

import collections.abc
import enum
import math
import re
import threading
import types
import typing
import weakref
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn, override

from ._models import CHINA_STANDARD_TIME, WIRE_NAMES, ResultList
from ._models._base import NOT_FROM_DATA
from ._reprs import tolerant_repr

if typing.TYPE_CHECKING:
    from ._fastpath import FastPath

__all__ = [
    "MissingRuleError",
    "Rule",
    "check_type",
    "describe_error",
    "make_converter",
    "structure",
    "wire_keys",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# _TIME_FORMAT with two-digit fields, the only shape the gateway sends. ASCII digits only:
# for exactly these strings fromisoformat() and strptime() agree.
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_DECIMAL = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?")
_GATEWAY_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


@tolerant_repr
@attrs.frozen
class Rule:
    """What a hook that a rule made does, for ``_fastpath.py`` to compile the same.

    Each hook below that is more than a leaf records its rule in :data:`_RULES`, so the
    fast path follows the converter's own choice of hook for every type, and a type
    whose hook it does not recognise simply calls that hook.

    Attributes:
        kind: ``"model"``, ``"optional model"``, ``"list"``, ``"result list"`` or
            ``"enum"``.
        type: The model, the list's item type, the ResultList subclass, or the enum's
            plain type (``int`` or ``str``).
        inner: For a model, its fields as (name, wire) pairs, the wire a key, a path
            of keys (a tuple) or ``None`` for a field never read from data; for a
            list, the item's hook; for an optional model or a result list, the
            model's or the items' hook; for an enum, its members by value.
    """

    kind: str
    type: Any
    inner: Any


# Hooks to their rules; weak, so a converter that goes leaves nothing behind.
_RULES: weakref.WeakKeyDictionary[Callable[..., Any], Rule] = weakref.WeakKeyDictionary()

# Never read from data: raw is the record itself, the request id comes from the envelope.
_NOT_FROM_DATA = ("raw", "request_id")


def _from_data(field: attrs.Attribute[Any]) -> bool:
    # Nor the fields the client sets (from_cache, age): marked, not named, so that a
    # caller's own model may have an `age` of its own.
    return field.name not in _NOT_FROM_DATA and not field.metadata.get(NOT_FROM_DATA)


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


# The times already read, by their text: a pool's numbers share a few creation and update
# times (a batch of numbers is set up at once), and a datetime is immutable, so one
# instance may serve every record that sends the same text. Bounded: emptied when full.
_TIMES: dict[str, datetime] = {}
_TIMES_KEPT = 1024


_from_iso = datetime.fromisoformat
_combine = datetime.combine


def _to_optional_datetime(value: Any, _: Any = None) -> datetime | None:
    if type(value) is str:
        # The gateway's own times first, in ~0.25 µs where the general path below takes
        # ~0.8: a pool whose every number has times of its own reads 10,000 of them.
        cached = _TIMES.get(value)
        if cached is not None:
            return cached
        # fromisoformat() first: it reads the gateway's "2020-12-08 16:48:26" in 50 ns.
        # Wherever it reads a text at all, the general path below gives the same: a
        # text it reads, strptime() either refuses or reads alike, and fromisoformat()
        # is the general path's last resort. What it refuses takes that path.
        try:
            parsed = _from_iso(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                # parsed.replace(tzinfo=...) is five times slower on CPython 3.11.
                parsed = _combine(parsed, parsed.time(), CHINA_STANDARD_TIME)
            if len(_TIMES) >= _TIMES_KEPT:
                _TIMES.clear()
            _TIMES[value] = parsed
            return parsed
    if value is None or value == "":
        return None
    if isinstance(value, str):
        cached = _TIMES.get(value) if type(value) is str else None
        if cached is not None:
            return cached
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
        if type(value) is str:
            if len(_TIMES) >= _TIMES_KEPT:
                _TIMES.clear()
            _TIMES[value] = parsed
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

    _RULES[structure] = Rule("enum", int, members)
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

    _RULES[structure] = Rule("enum", str, members)
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

    _RULES[structure] = Rule("list", item_type, item_hook)
    return structure


class MissingRuleError(TypeError):
    """A model has a field type no rule of the converter covers: a bug in moor7.

    Raised when the converter is built or first meets the type, never blamed on the
    gateway's answer (it is not a :class:`~moor7.ResponseShapeError`).
    """


def _wire_name(cls: type, field: str) -> str | tuple[str, ...]:
    renames = WIRE_NAMES.get(cls, {})
    if field in renames:
        return renames[field]  # type: ignore[no-any-return]  # str or a path tuple
    # Every record id of the V7 API is a MongoDB-style "_id".
    return "_id" if field == "id" else _camel(field)


# Each model's wire keys, worked out once: every answer's check asks for them.
_WIRE_KEYS: dict[Any, frozenset[str]] = {}


def wire_keys(cls: Any) -> frozenset[str]:
    """The top-level keys of a model's record on the wire (``raw`` and ``request_id``
    are never read from it)."""
    found = _WIRE_KEYS.get(cls)
    if found is not None:
        return found
    keys = set()
    for field in attrs.fields(cls):
        if _from_data(field):
            wire = _wire_name(cls, field.name)
            keys.add(wire[0] if isinstance(wire, tuple) else wire)
    found = _WIRE_KEYS[cls] = frozenset(keys)
    return found


_LEAVES = (str, int, float, bool, datetime)


def _check_leaf(cls: type, name: str, type_: Any) -> None:
    """Refuse, when a model's hook is built, a field type that would slip past the rules:
    cattrs would take a leaf's subclass (a bare enum) by the leaf's hook, and ``bytes``
    or ``complex`` as they come."""
    if not isinstance(type_, type) or type_ in _LEAVES or attrs.has(type_):
        return
    if issubclass(type_, ResultList) or typing.get_origin(type_) is not None:
        return
    hint = (
        f" (declare it {type_.__name__} | UnlistedStr | None or {type_.__name__} | "
        "UnlistedInt | None, so that a value the docs do not list is kept)"
        if issubclass(type_, enum.Enum)
        else ""
    )
    raise MissingRuleError(
        f"moor7's converter has no rule for {cls.__name__}.{name}: {type_!r}{hint}"
    )


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _model_hook(converter: cattrs.Converter, cls: Any) -> Callable[[Any, Any], Any]:
    """The rule for every attrs model: wire names, unknown fields ignored, ``raw`` kept."""
    attrs.resolve_types(cls)
    overrides: dict[str, Any] = {}
    nested: list[tuple[str, tuple[str, ...]]] = []
    wires: list[tuple[str, str | tuple[str, ...] | None]] = []
    for field in attrs.fields(cls):
        if not _from_data(field):
            overrides[field.name] = override(omit=True)
            wires.append((field.name, None))
            continue
        _check_leaf(cls, field.name, field.type)
        wire = _wire_name(cls, field.name)
        wires.append((field.name, wire))
        if isinstance(wire, tuple):
            # A value nested deeper in the record: copied up under a key of its own.
            key = "moor7:" + ".".join(wire)
            nested.append((key, wire))
            overrides[field.name] = override(rename=key)
        else:
            overrides[field.name] = override(rename=wire)
    structure_fields = make_dict_structure_fn(cls, converter, **overrides)
    keeps_raw = "raw" in attrs.fields_dict(cls)

    def structure(value: Any, _: Any = None) -> Any:
        # A dict, as JSON gives, passes without the slower ABC check.
        if type(value) is not dict and not isinstance(value, Mapping):
            raise _fail(value, f"an object for {cls.__name__}")
        source = value
        if nested:
            source = {**value, **{key: _dig(value, path) for key, path in nested}}
        instance = structure_fields(source, cls)
        if keeps_raw:
            # attrs' own recipe for setting a field of a frozen instance after __init__:
            # this keeps the raw record without copying it into the kwargs.
            object.__setattr__(instance, "raw", value)
        return instance

    _RULES[structure] = Rule("model", cls, tuple(wires))
    return structure


def _optional_model_hook(
    converter: cattrs.Converter, cls: type[T]
) -> Callable[[Any, Any], T | None]:
    hook = _hook(converter, cls)

    def structure(value: Any, _: Any = None) -> T | None:
        return None if value is None or value == "" else hook(value, cls)

    _RULES[structure] = Rule("optional model", cls, hook)
    return structure


def _result_list_hook(converter: cattrs.Converter, cls: type[Any]) -> Callable[[Any, Any], Any]:
    """The rule for a :class:`ResultList` subclass: its items' list rule, then the class."""
    item_type = typing.get_args(cls.__orig_bases__[0])[0]
    items = _hook(converter, list[item_type])  # type: ignore[valid-type]  # runtime alias

    def structure(value: Any, _: Any = None) -> Any:
        result = cls(items(value, None))
        result.raw = value
        return result

    _RULES[structure] = Rule("result list", cls, items)
    return structure


def _to_optional_mapping(value: Any, _: Any = None) -> Mapping[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return value
    raise _fail(value, "an object")


def _required(optional: Callable[[Any, Any], T | None], what: str) -> Callable[[Any, Any], T]:
    """The hook of a field that must have a value: the optional rule, refusing none."""

    def structure(value: Any, type_: Any = None) -> T:
        result = optional(value, type_)
        if result is None:
            raise _fail(value, what)
        return result

    return structure


def _to_int(value: Any, _: Any = None) -> int:
    number = _to_optional_int(value)
    if number is None:
        raise _fail(value, "an integer")
    return number


def _hook(converter: cattrs.Converter, type_: Any) -> Callable[[Any, Any], Any]:
    getter = getattr(converter, "get_structure_hook", None)
    if getter is not None:
        return getter(type_)  # type: ignore[no-any-return,unused-ignore]
    # cattrs 23.2 has no public lookup yet.
    return converter._structure_func.dispatch(type_)  # type: ignore[misc,call-arg,unused-ignore]


def _optional_of(type_: Any) -> Any:
    """X for ``X | None`` (one type besides None), else ``None``."""
    args = typing.get_args(type_)
    if typing.get_origin(type_) not in (typing.Union, types.UnionType) or type(None) not in args:
        return None
    rest = [arg for arg in args if arg is not type(None)]
    return rest[0] if len(rest) == 1 else None


def _enum_union(type_: Any) -> tuple[type[enum.Enum], type] | None:
    """(E, int or str) for ``E | int | None`` and ``E | str | None``, else ``None``.

    The plain type may be a ``NewType`` of it (the models' ``UnlistedInt``).
    """
    if typing.get_origin(type_) not in (typing.Union, types.UnionType):
        return None
    args = [
        getattr(arg, "__supertype__", arg)
        for arg in typing.get_args(type_)
        if arg is not type(None)
    ]
    enums = [arg for arg in args if isinstance(arg, type) and issubclass(arg, enum.Enum)]
    plain = [arg for arg in args if arg in (int, str)]
    if len(enums) == 1 and len(plain) == 1 and len(args) == 2:
        return enums[0], plain[0]
    return None


def _is_model(type_: Any) -> bool:
    return isinstance(type_, type) and attrs.has(type_)


def _list_item(type_: Any) -> Any:
    if typing.get_origin(type_) is list:
        (item,) = typing.get_args(type_)
        return item
    return None


def _to_optional_float(value: Any, _: Any = None) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value):
            return float(value)
        raise _fail(value, "a finite number")
    if isinstance(value, str):
        # Rates come as "66.67%" (外呼号码接通率报表): the number is the percentage.
        text = value.strip().removesuffix("%").strip()
        if _DECIMAL.fullmatch(text):
            return float(text)
    raise _fail(value, "a number")


# The leaves a model field may be, as X | None: each with the hook that reads it.
_OPTIONAL_LEAVES: dict[Any, Callable[[Any, Any], Any]] = {
    str: _to_optional_str,
    int: _to_optional_int,
    float: _to_optional_float,
    bool: _to_optional_bool,
    datetime: _to_optional_datetime,
}


def _no_rule(type_: Any) -> Callable[[Any, Any], Any]:
    raise MissingRuleError(
        f"moor7's converter has no rule for {type_!r}: add one to make_converter()"
    )


def make_converter() -> cattrs.Converter:
    """Build the converter that turns the gateway's ``data`` into models.

    Hooks are chosen by rule, so a new model needs no registration: attrs models (wire
    names from the families' ``WIRE_NAMES``), :class:`~moor7.ResultList` subclasses,
    lists, optional leaves (``str``, ``int``, ``float``, ``bool``, ``datetime``,
    mappings), and enums that keep unlisted values (``E | int | None``). A type no rule
    covers raises :class:`MissingRuleError` when first met, instead of cattrs guessing.

    Unknown fields are ignored (and kept in each model's ``raw``); a field of the wrong
    type raises a cattrs validation error, which the client turns into
    :class:`moor7.ResponseShapeError`.
    """
    # Detailed validation costs nothing measurable on the common path (CPython 3.11's
    # exception handling is free until something raises; a non-detailed converter was
    # no faster on a 5,000-number pool) and names every failure with its path.
    converter = cattrs.Converter(detailed_validation=True)

    # Registered first, so every rule below wins over it (cattrs tries the most recent
    # first), and over cattrs' own permissive defaults (which would call str() on
    # anything, or pass Any through).
    converter.register_structure_hook_factory(lambda _: True, _no_rule)

    # Plain classes: cattrs dispatches these (and their subclasses) before any
    # predicate, so every leaf a field may be has its own hook here; _model_hook refuses
    # subclasses (a bare enum) and anything else cattrs would take as it is (bytes).
    converter.register_structure_hook(str, _to_str)
    converter.register_structure_hook(int, _to_int)
    converter.register_structure_hook(float, _required(_to_optional_float, "a number"))
    converter.register_structure_hook(bool, _required(_to_optional_bool, "a boolean"))
    converter.register_structure_hook(datetime, _required(_to_optional_datetime, "a date-time"))

    def optional_leaf(type_: Any) -> bool:
        return _optional_of(type_) in _OPTIONAL_LEAVES

    converter.register_structure_hook_factory(
        optional_leaf, lambda type_: _OPTIONAL_LEAVES[_optional_of(type_)]
    )
    converter.register_structure_hook_factory(
        lambda type_: (
            _optional_of(type_) is not None
            and typing.get_origin(_optional_of(type_)) in (Mapping, collections.abc.Mapping)
        ),
        lambda _: _to_optional_mapping,
    )

    def enum_hook(type_: Any) -> Callable[[Any, Any], Any]:
        found = _enum_union(type_)
        assert found is not None
        enum_cls, plain = found
        return _enum_or_int(enum_cls) if plain is int else _enum_or_str(enum_cls)

    converter.register_structure_hook_factory(lambda t: _enum_union(t) is not None, enum_hook)

    def list_hook(type_: Any) -> Callable[[Any, Any], Any]:
        item = _list_item(type_)
        if item is str:
            return _to_str_list
        # The item's own hook, called directly: no dispatch on the type per item.
        return _list_of(item, _hook(converter, item))

    converter.register_structure_hook_factory(
        lambda t: _list_item(t) is str or _is_model(_list_item(t)), list_hook
    )
    converter.register_structure_hook_factory(_is_model, lambda cls: _model_hook(converter, cls))
    converter.register_structure_hook_factory(
        lambda t: _is_model(_optional_of(t)),
        lambda t: _optional_model_hook(converter, _optional_of(t)),
    )
    converter.register_structure_hook_factory(
        lambda t: isinstance(t, type) and issubclass(t, ResultList) and t is not ResultList,
        lambda cls: _result_list_hook(converter, cls),
    )
    return converter


_shared: cattrs.Converter | None = None
_fast_path: FastPath | None = None  # built with its first function
_shared_lock = threading.RLock()


def _shared_converter_unlocked() -> cattrs.Converter:
    global _shared
    if _shared is None:
        _shared = make_converter()
    return _shared


def _shared_converter() -> cattrs.Converter:
    # Built once per process, not per client: a converter's generated code costs ~70 KB
    # and ~5 ms to build, which a thousand clients (one per account) would each pay.
    # Nothing registers hooks on it after this, so sharing it is safe.
    if _shared is None:
        with _shared_lock:
            return _shared_converter_unlocked()
    return _shared


_fast: dict[Any, Callable[[Any], Any]] = {}


def _fast_function(type_: Any) -> Callable[[Any], Any]:
    # Compiled from the shared converter's own hooks, once per type (see _fastpath.py).
    from ._fastpath import FastPath

    global _fast_path
    with _shared_lock:
        if _fast_path is None:
            _fast_path = FastPath(_shared_converter_unlocked())
        function = _fast_path.function(type_)
    _fast[type_] = function
    return function


def check_type(type_: Any) -> None:
    """Raise now, before any data, if the converter has no rule for *type_*
    (:class:`MissingRuleError`, or the error of an annotation that does not resolve)."""
    _hook(_shared_converter(), type_)


def structure(data: Any, type_: Any) -> Any:
    """Turn the gateway's *data* into *type_* (a model, or a list of models).

    The fast path (``_fastpath.py``) answers when it can; it gives the converter's own
    result, and on anything it does not handle, the converter decides from the start.

    Raises:
        Exception: cattrs' validation errors, or a hook's ``ValueError``; describe
            them with :func:`describe_error`.
    """
    function = _fast.get(type_) or _fast_function(type_)
    try:
        return function(data)
    except Exception:  # whatever it was, the converter's own outcome is the answer
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


def failing_records(exc: BaseException, data: Any) -> list[Any]:
    """The records of *data* where :func:`structure` found the problems of *exc*: the
    JSON object holding each field that failed, or the value itself where an object was
    due; each once, in the order found.

    It follows cattrs' own notes (an attribute's name, a list's index) down *data*, by
    the wire names of the models.
    """
    found: dict[int, Any] = {}

    def follow(error: BaseException, value: Any) -> None:
        if isinstance(error, cattrs.ClassValidationError):
            for inner in error.exceptions:
                name = next(
                    (n.name for n in getattr(inner, "__notes__", ()) if hasattr(n, "name")), None
                )
                if name is None or not _nested(inner):
                    found.setdefault(id(value), value)  # a field of this record failed
                    continue
                wire = _wire_name(error.cl, name)
                path = wire if isinstance(wire, tuple) else (wire,)
                follow(inner, _dig(value, path))
        elif isinstance(error, IterableValidationError):
            for inner in error.exceptions:
                index = next(
                    (n.index for n in getattr(inner, "__notes__", ()) if hasattr(n, "index")),
                    None,
                )
                item = value[index] if isinstance(value, list) and index is not None else value
                if _nested(inner):
                    follow(inner, item)
                else:
                    found.setdefault(id(item), item)  # an item that is no record at all
        else:
            found.setdefault(id(value), value)

    follow(exc, data)
    return list(found.values())


def _nested(error: BaseException) -> bool:
    return isinstance(error, (cattrs.ClassValidationError, IterableValidationError))
