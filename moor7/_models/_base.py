"""What every result shares: the raw record, the request id, lists of results.

The models know nothing of the wire format (``_id``, ``callAbility``, ``isNAT``): the
converter in ``_convert.py`` maps the gateway's JSON onto them, by rule, with the wire
names each family lists beside its models (``WIRE_NAMES``). Every model keeps the record
it was built from in ``raw``, so a field 7moor adds tomorrow is not lost today.

Where the docs list the values of a field, it is an enum; a value the docs did not list
is kept as it came (an ``int`` or ``str``) instead of failing the whole call.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import timedelta, timezone
from typing import Any, NewType, TypeVar, cast

import attrs

from moor7._reprs import tolerant_repr

__all__ = [
    "CHINA_STANDARD_TIME",
    "NOT_FROM_DATA",
    "ActionResult",
    "ResultList",
    "UnlistedInt",
    "UnlistedStr",
    "age_field",
    "from_cache_field",
    "printed_by_name",
    "raw_field",
    "request_id_field",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)

#: The gateway's times ("2020-12-08 16:48:26") are Beijing time. China has kept UTC+08:00
#: without daylight saving since 1991, so a fixed offset is exact and needs no tz database.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


UnlistedInt = NewType("UnlistedInt", int)
"""A value of an enum field that 7moor's docs do not list, kept as the gateway sent it.

A plain ``int`` at run time. To a type checker it is a type of its own, so that a
field typed ``CallAbility | UnlistedInt | None`` shows the enum: mypy folds
``CallAbility | int`` into ``int``, since an ``IntEnum`` is an ``int``. Narrow with
``isinstance(value, CallAbility)``; what is left is the unlisted number.
"""

UnlistedStr = NewType("UnlistedStr", str)
"""As :data:`UnlistedInt`, for the enums whose values are strings (``AgentStatus``)."""


def printed_by_name(cls: type[E]) -> type[E]:
    """Make *cls* print as ``Class.MEMBER`` on every Python, by ``str()`` and ``format()``.

    Left alone, ``print(CallAbility.SERVICE_AND_DISPLAY)`` printed
    ``CallAbility.SERVICE_AND_DISPLAY`` on 3.10 and ``3`` from 3.11 (an ``IntEnum``'s
    ``str()`` became the number's), and an f-string of a ``str`` enum gave the value on
    3.10 and the name from 3.12. The name says what the value is; ``.value`` is the
    wire's value, and ``repr()`` shows both. Comparing, hashing and JSON are unchanged.
    """

    def __str__(self: object) -> str:
        member = cast(enum.Enum, self)
        return f"{type(member).__name__}.{member.name}"

    def __format__(self: object, format_spec: str) -> str:
        return format(str(self), format_spec)

    # Assigned in place of the enum's own: mypy flags any method assignment.
    cls.__str__ = __str__  # type: ignore[method-assign]
    cls.__format__ = __format__  # type: ignore[method-assign]
    return cls


def raw_field() -> Any:
    """The wire record of a model.

    Excluded from repr (a SIP record holds its password) and from equality (two
    records that map to the same model are the same thing).
    """
    return attrs.field(factory=dict, repr=False, eq=False, kw_only=True)


def request_id_field() -> Any:
    """The request id of a result: set by the client, never read from ``data``."""
    return attrs.field(default=None, eq=False, kw_only=True)


#: The metadata key of a result's fields that the client sets and the converter never
#: reads from ``data`` (a field named ``age`` in a caller's own model is still read).
NOT_FROM_DATA = "moor7_not_from_data"


def from_cache_field() -> Any:
    """Whether a result was served from the client's recent answers (``max_age=``).

    Set by the client, never read from ``data``; left out of equality, hashing and
    ``repr()``: the same answer is the same result wherever it came from.
    """
    return attrs.field(
        default=False, eq=False, repr=False, kw_only=True, metadata={NOT_FROM_DATA: True}
    )


def age_field() -> Any:
    """Seconds since a result's answer arrived from the gateway (``0.0`` when fresh).

    Set by the client, never read from ``data``; out of equality, hashing and ``repr()``.
    """
    return attrs.field(
        default=0.0, eq=False, repr=False, kw_only=True, metadata={NOT_FROM_DATA: True}
    )


class ResultList(list[T]):
    """A result that is a list: a plain ``list``, plus what every result carries.

    Attributes:
        request_id: The gateway's ``requestInfo.requestId`` for the call that returned
            it: quote it to 7moor support.
        raw: The ``data`` list as the gateway sent it.
        from_cache: Whether it was served from the client's recent answers
            (``max_age=``) instead of a call of the quota.
        age: Seconds since its answer arrived from the gateway: ``0.0`` for an answer
            that came for this call (or for an identical call it shared).
    """

    request_id: str | None
    raw: list[Any]
    # Class-level defaults: set on an instance only when it comes from the cache, so a
    # fresh result costs nothing more.
    from_cache: bool = False
    age: float = 0.0

    def __init__(
        self,
        items: Iterable[T] = (),
        request_id: str | None = None,
        *,
        raw: list[Any] | None = None,
    ) -> None:
        super().__init__(items)
        self.request_id = request_id
        self.raw = [] if raw is None else raw


@tolerant_repr
@attrs.frozen
class ActionResult:
    """The answer to an action whose ``data`` is only a message, or nothing at all.

    Attributes:
        message: The envelope's ``message``, e.g. ``"requestSuccess"``.
        request_id: The gateway's ``requestInfo.requestId`` for the call: quote it to
            7moor support.
        raw: The envelope's ``data`` as the gateway sent it: a string such as
            ``"座席上线成功"`` (agent online), or ``None`` when it sent none (creating a
            dial-out task).
        from_cache: Whether it was served from the client's recent answers
            (``max_age=``, queries only): always ``False`` for an action's answer.
        age: Seconds since its answer arrived from the gateway (``0.0`` when fresh).
    """

    message: str | None = None
    request_id: str | None = request_id_field()
    raw: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True)
    from_cache: bool = from_cache_field()
    age: float = age_field()
