"""The JSON parser of answers: orjson where installed (``moor7[speedups]``), else json.

orjson parses a large answer in about two thirds of the standard library's time. Where
the two would read a body differently, the standard library's reading wins, so a
result never depends on whether the extra is installed:

- orjson refuses what json accepts (``NaN``, ``Infinity``, numbers beyond a float's
  range, UTF-16 and UTF-32 bodies, a byte order mark, lone surrogates, nesting deeper
  than 1,024): any orjson error hands the body to json, which reads it or raises its
  own error, as without the extra.
- orjson reads an integer beyond 64 bits as a float, where json keeps it exact: a
  body with a run of 19 digits or more (an integer that may not fit, or a long
  fraction) is read by json alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["loads"]

# Every digit as "0", so that one search finds a run of 19 digits of any kind: the
# shortest integer that may not fit in 64 bits (-9223372036854775809) has 19.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19

_fast_loads: Callable[[bytes], Any] | None = None
_fast_error: type[Exception] = ValueError
_looked_up = False


def _find_orjson() -> None:
    # Looked up with the first answer, not at `import moor7`.
    global _fast_loads, _fast_error, _looked_up
    try:
        import orjson
    except ImportError:
        pass
    else:
        _fast_loads, _fast_error = orjson.loads, orjson.JSONDecodeError
    _looked_up = True


def loads(body: bytes) -> Any:
    """Parse *body* exactly as :func:`json.loads` does, with orjson's speed if installed.

    Raises:
        ValueError: json's own error for a body that is not JSON.
        UnicodeDecodeError: json's, for bytes in no Unicode encoding.
        RecursionError: json's, for nesting deeper than Python's stack.
    """
    if not _looked_up:
        _find_orjson()
    if _fast_loads is not None and _LONG_RUN not in body.translate(_DIGITS_AS_ZERO):
        try:
            return _fast_loads(body)
        except _fast_error:
            pass  # json decides: it reads what orjson refuses, or raises its own error
    return json.loads(body)
