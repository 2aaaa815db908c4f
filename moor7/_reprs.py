"""What moor7 shows of its objects: never a secret, never an error.

A crash reporter (Sentry records every frame's locals by default) and a log line show
what ``repr()`` and ``str()`` give, and a reporter walks plain dicts and lists on its
own. So what moor7 keeps of an answer for a user to debug is masked where it holds a
secret (:func:`masked`, :func:`masked_body`), text from the gateway is escaped where
a stream could not print it (:func:`printable`), and a model's ``repr()`` works even on
an object its ``__init__`` never finished (:func:`tolerant_repr`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

__all__ = ["MASK", "is_secret_field", "masked", "masked_body", "printable", "tolerant_repr"]

T = TypeVar("T")

#: What a masked value reads.
MASK = "***"

# Field and header names that hold a secret: a SIP password (``password``), the echo of
# the request's headers in ``requestInfo.headers`` (``m7-sign``), and their usual
# kin. Compared without case, "-" or "_": "sipPassword", "secret_key", "M7-Sign".
_SECRET_SUFFIXES = ("password", "passwd", "secret", "secretkey", "token")
_SECRET_NAMES = frozenset({"pwd", "sign", "m7sign", "signature", "authorization"})


def is_secret_field(name: object) -> bool:
    """Whether a field or header called *name* holds a secret (see above)."""
    if not isinstance(name, str):
        return False
    plain = name.lower().replace("-", "").replace("_", "")
    return plain in _SECRET_NAMES or plain.endswith(_SECRET_SUFFIXES)


def masked(value: Any, depth: int = 0) -> Any:
    """A copy of JSON *value* with every secret field's value replaced by ``"***"``.

    Plain ``dict`` and ``list`` again (a reporter walks them, and the copy shares nothing
    with the answer it came from). An empty or null secret stays as it was: that there is
    none is no secret.
    """
    if depth > 64:  # deeper than any JSON moor7 parses: nothing is kept of it
        return MASK
    if isinstance(value, Mapping):
        return {
            key: (
                MASK if is_secret_field(key) and item not in (None, "") else masked(item, depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [masked(item, depth + 1) for item in value]
    return value


# A secret field in text that is JSON, or nearly (cut short, single quotes), or a form
# or query string: its name, a quote or none, ":" or "=", then the value, quoted (to its
# closing quote, or to the end where the text was cut) or bare (to the next delimiter).
_SECRET_IN_TEXT = re.compile(
    rb"""(?P<name>(?<![\w-])(?:[\w-]*(?:pass(?:word|wd)|secret(?:[-_]?key)?|token)"""
    rb"""|pwd|m7-sign|sign|signature|authorization)(?![\w-]))"""
    rb"""(?P<between>["']?\s*[:=]\s*)"""
    rb"""(?P<value>"(?:[^"\\]|\\.)*(?:"|\\?$)|'(?:[^'\\]|\\.)*(?:'|\\?$)|[^\s,;&}\]"'<>]+)""",
    re.IGNORECASE,
)


def _mask_match(match: re.Match[bytes]) -> bytes:
    value = match["value"]
    quote = value[:1] if value[:1] in (b'"', b"'") else b""
    closing = quote if quote and len(value) > 1 and value.endswith(quote) else b""
    if value in (b'""', b"''", b"null"):
        return match[0]
    return match["name"] + match["between"] + quote + MASK.encode() + closing


def masked_body(body: bytes) -> bytes:
    """*body* with the value of every secret field it seems to hold replaced by ``***``.

    For an answer moor7 could not parse (so not a JSON document to walk): JSON, JSON cut
    short, a form or a query string. A secret written any other way, unnamed, is not
    recognised.
    """
    return _SECRET_IN_TEXT.sub(_mask_match, body)


def printable(text: str) -> str:
    """*text* with every character a terminal or an encoder may refuse escaped, as
    ``repr()`` escapes it (``\\ud800``, ``\\x1b``, ``\\n``): lone surrogates, which no
    UTF-8 stream can write, control characters, which can rewrite a terminal or forge a
    log line, and the other unprintable ones. Printable text (Chinese included) stays.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _field_repr(field: Any) -> Any:
    return repr if field.repr is True else field.repr


def tolerant_repr(cls: type[T]) -> type[T]:
    """Make an attrs class's ``repr()`` work on an instance whose ``__init__`` never
    finished (attrs' own reads each field, and raises ``AttributeError`` on a missing
    one). Such an instance may sit in a frame when something raises, and Python 3.10
    and 3.11's ``TracebackException(capture_locals=True)`` then fails whole.
    """
    finished_repr = cls.__repr__
    fields = [field for field in attrs.fields(cls) if field.repr is not False]  # type: ignore[arg-type]  # an attrs class
    names = [field.name for field in attrs.fields(cls)]  # type: ignore[arg-type]  # an attrs class

    def __repr__(self: Any) -> str:
        if all(hasattr(self, name) for name in names):
            return finished_repr(self)
        shown = ", ".join(
            f"{field.name}={_field_repr(field)(getattr(self, field.name))}"
            for field in fields
            if hasattr(self, field.name)
        )
        return f"<{type(self).__qualname__} (half-built) {shown}>"

    __repr__.__qualname__ = f"{cls.__qualname__}.__repr__"
    cls.__repr__ = __repr__  # type: ignore[method-assign]  # the class's own, replaced
    return cls
