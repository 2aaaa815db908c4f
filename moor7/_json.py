"""The JSON parser of answers: msgspec's untyped decoder, read exactly as json reads.

msgspec (a dependency on CPython) parses a 5,000-number pool in about two thirds of
``json.loads``' time, into the same ``dict``, ``list``, ``str``, ``int`` and ``float``
values: integers of any size exactly, floats correctly rounded, the last of repeated
keys kept. Where the two would part ways, msgspec refuses what json accepts: ``NaN``,
``Infinity``, numbers beyond a float's range, UTF-16 and UTF-32 bodies, a byte order
mark, lone surrogates, and nesting past the interpreter's recursion limit. Any refusal
hands the body to json, which reads it or raises its own error, so a result never
depends on the parser (``TestJsonParser`` in ``tests/test_decoding_properties.py``
compares the two on any bytes).

Without msgspec (an interpreter it does not support), json parses every body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["loads", "parser"]

_fast_loads: Callable[[bytes], Any] | None = None
_fast_errors: tuple[type[BaseException], ...] = ()
_looked_up = False


def _find_msgspec() -> None:
    # Looked up with the first answer, not at `import moor7` (msgspec's import costs a
    # few milliseconds that a program which never calls would pay).
    global _fast_loads, _fast_errors, _looked_up
    try:
        import msgspec
    except ImportError:
        pass
    else:
        _fast_loads = msgspec.json.Decoder().decode
        # RecursionError: json decides (it raises its own, or reads what fits its stack).
        _fast_errors = (msgspec.DecodeError, RecursionError)
    _looked_up = True


def parser() -> str:
    """The parser that reads answers in this process: ``"msgspec"`` or ``"json"``."""
    if not _looked_up:
        _find_msgspec()
    return "json" if _fast_loads is None else "msgspec"


def loads(body: bytes) -> Any:
    """Parse *body* exactly as :func:`json.loads` does, with msgspec's speed.

    Raises:
        ValueError: json's own error for a body that is not JSON.
        UnicodeDecodeError: json's, for bytes in no Unicode encoding.
        RecursionError: json's, for nesting deeper than Python's stack.
    """
    if not _looked_up:
        _find_msgspec()
    if _fast_loads is not None:
        try:
            return _fast_loads(body)
        except _fast_errors:
            pass  # json decides: it reads what msgspec refuses, or raises its own error
    return json.loads(body)
