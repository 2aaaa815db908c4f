"""Checks of the arguments users pass: one rule for every duration, count, string,
enum and time.

A bad argument fails where it is given, with :class:`~moor7.ConfigurationError`, never
later inside a call.
"""

from __future__ import annotations

import enum
import math
from calendar import monthrange
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Protocol, TypeVar

from ._models import CHINA_STANDARD_TIME
from .exceptions import ConfigurationError

__all__ = [
    "CollectionNotStr",
    "add_months",
    "china_time",
    "choice",
    "integer_in",
    "items",
    "optional_text",
    "seconds",
    "text",
    "texts",
    "time_range",
    "whole_number",
]

E = TypeVar("E", bound=enum.Enum)
T_co = TypeVar("T_co", covariant=True)


class CollectionNotStr(Protocol[T_co]):
    """Any collection of items but a ``str``: a list, tuple, set or ``dict`` keys.

    For arguments that take several strings (``agent_numbers``, ``numbers``), so that a
    type checker refuses a bare string, a classic slip for a list of one
    (``agent_numbers="2000"`` is four agents "2", "0", "0", "0" to a plain
    ``Iterable[str]``). It works because ``str.__contains__`` takes only a ``str``,
    where a collection's takes any object (the trick of python/typing#256, as
    openai-python's ``SequenceNotStr``). At run time the check is moor7's own: a bare
    string raises :class:`~moor7.ConfigurationError` before anything is sent. A
    generator is no collection: pass ``list(...)`` of it.
    """

    def __contains__(self, value: object, /) -> bool: ...

    def __iter__(self) -> Iterator[T_co]: ...

    def __len__(self) -> int: ...


def seconds(name: str, value: object, *, zero_ok: bool = False) -> float:
    """*value* as a finite number of seconds, > 0 (or >= 0 with *zero_ok*)."""
    if (
        isinstance(value, bool)  # True is an int, and never meant as 1 second
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not zero_ok)
    ):
        bound = ">= 0" if zero_ok else "> 0"
        msg = f"{name} must be a number of seconds {bound}, got {value!r}"
        raise ConfigurationError(msg)
    return float(value)


def whole_number(name: str, value: object, *, least: int) -> int:
    """*value* as an ``int`` of at least *least* (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        msg = f"{name} must be an integer >= {least}, got {value!r}"
        raise ConfigurationError(msg)
    return value


# -- the arguments of endpoints -------------------------------------------------------


def text(name: str, value: object, *, max_length: int | None = None) -> str:
    """*value* as a non-empty ``str`` of at most *max_length* characters."""
    if not isinstance(value, str) or not value.strip():
        msg = f"{name} must be a non-empty string, got {_shown(value)}"
        raise ConfigurationError(msg)
    if max_length is not None and len(value) > max_length:
        msg = f"{name} must be at most {max_length} characters, got {len(value)}"
        raise ConfigurationError(msg)
    return value


def optional_text(name: str, value: object, *, max_length: int | None = None) -> str | None:
    """*value* as :func:`text`, or ``None``."""
    return None if value is None else text(name, value, max_length=max_length)


def items(name: str, values: object) -> list[object]:
    """*values*, any iterable but a bare string (a classic slip for a list of one), as a
    list."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        msg = f"{name} must be a list, got {_shown(values)}"
        raise ConfigurationError(msg)
    return list(values)


def texts(name: str, values: object) -> list[str]:
    """*values* (any iterable of non-empty strings, not a bare string) as a list."""
    return [text(f"{name}[{index}]", value) for index, value in enumerate(items(name, values))]


def choice(name: str, value: object, enum_cls: type[E]) -> E:
    """*value* as a member of *enum_cls*: a member, or one of the members' values."""
    if isinstance(value, enum_cls):
        return value
    if not isinstance(value, bool):
        for member in enum_cls:
            if value == member.value:
                return member
    allowed = ", ".join(repr(member.value) for member in enum_cls)
    msg = f"{name} must be a {enum_cls.__name__} or one of {allowed}, got {_shown(value)}"
    raise ConfigurationError(msg)


def integer_in(name: str, value: object, *, least: int, most: int) -> int:
    """*value* as an ``int`` from *least* to *most* (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        msg = f"{name} must be an integer from {least} to {most}, got {_shown(value)}"
        raise ConfigurationError(msg)
    return value


# The V7 API's time strings (reports' ranges), in China Standard Time.
WIRE_TIME = "%Y-%m-%d %H:%M:%S"


def china_time(name: str, value: object) -> datetime:
    """*value* as an aware ``datetime`` in China Standard Time (naive means CST)."""
    if not isinstance(value, datetime):
        msg = f"{name} must be a datetime, got {_shown(value)}"
        raise ConfigurationError(msg)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=CHINA_STANDARD_TIME)
    return value.astimezone(CHINA_STANDARD_TIME)


def time_range(
    names: tuple[str, str], start: object, end: object, *, most_months: int
) -> tuple[str, str]:
    """*start* and *end* as the API's time strings, checked: in order, and at most
    *most_months* calendar months apart (the end exactly that far is allowed, as in the
    docs' own example)."""
    first, last = china_time(names[0], start), china_time(names[1], end)
    if last < first:
        msg = f"{names[1]} ({last:{WIRE_TIME}}) is before {names[0]} ({first:{WIRE_TIME}})"
        raise ConfigurationError(msg)
    if last > add_months(first, most_months):
        span = f"{most_months // 12} year" if most_months % 12 == 0 else f"{most_months} months"
        msg = (
            f"the range from {names[0]} to {names[1]} may cover at most {span} "
            f"(7moor's limit), got {first:{WIRE_TIME}} to {last:{WIRE_TIME}}"
        )
        raise ConfigurationError(msg)
    return f"{first:{WIRE_TIME}}", f"{last:{WIRE_TIME}}"


def add_months(when: datetime, months: int) -> datetime:
    """*when* plus *months* calendar months, the day clamped to the month's last."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, monthrange(year, month)[1]))


def _shown(value: object) -> str:
    # Strings are quoted (short ones whole); anything else by its type: an argument put
    # in the wrong place may be a secret.
    if isinstance(value, str) and len(value) <= 40:
        return repr(value)
    return type(value).__name__
