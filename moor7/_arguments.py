"""Checks of the arguments users pass: one rule for every duration and count.

A bad argument fails where it is given, with :class:`~moor7.ConfigurationError`, never
later inside a call.
"""

from __future__ import annotations

import math

from .exceptions import ConfigurationError

__all__ = ["seconds", "whole_number"]


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
