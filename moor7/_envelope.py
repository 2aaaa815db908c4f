"""The envelope: what every answer of the gateway is wrapped in, and what its errors mean.

A good answer::

    {"success": true, "code": "200", "message": "requestSuccess", "data": ...,
     "requestInfo": {"requestId": "bd0c...", ...}}

How the gateway rejects a bad signature, an expired timestamp, a replayed nonce or an
over-quota call is not documented (older 7moor APIs used codes 400, 403 and 500, and the
HTTP status may be 200 or not). So an error is classified by the HTTP status, the
envelope's code *and* its message together, and anything unrecognised falls back to a
plain :class:`~moor7.exceptions.APIError` that still carries all four facts.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import attrs

from ._json import loads  # msgspec's parser, read exactly as json.loads reads
from ._reprs import tolerant_repr
from ._signing import redact_url
from .exceptions import (
    APIError,
    AuthenticationError,
    InvalidResponseError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
)

__all__ = ["Envelope", "parse_response"]

# What the gateway (or the many 7moor APIs before it) says in rejections, for answers
# whose status and code do not say it already. Whole English words only: "assign" is
# not "sign", and "too many numbers in one request" is no rate limit.
_RATE_LIMIT_WORDS = re.compile(
    r"限流|频繁|rate[ -]?limit|too many requests|too frequent", re.IGNORECASE
)
_AUTH_WORDS = re.compile(
    r"签名|鉴权|认证|时间戳"
    # Latin-letter boundaries, not \b: "nonce重复" runs a word into Chinese text.
    r"|(?<![a-z])(?:sign(?:ature)?|auth[a-z]*|unauthori[sz]ed|appkey|timestamp|nonce"
    r"|forbidden|secret)(?![a-z])",
    re.IGNORECASE,
)


@tolerant_repr
@attrs.frozen
class Envelope:
    """A successful answer, unwrapped. Its ``repr()`` leaves out ``data``, which may
    hold SIP passwords and customers' data."""

    data: Any = attrs.field(repr=False)
    code: str | None
    message: str | None
    request_id: str | None
    status: int
    path: str


def _request_id(document: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    info = document.get("requestInfo")
    if isinstance(info, Mapping):
        request_id = info.get("requestId")
        if isinstance(request_id, (str, int)) and not isinstance(request_id, bool):
            return str(request_id)
    return headers.get("X-Request-Id") or headers.get("traceId")


def _code(document: Mapping[str, Any]) -> str | None:
    code = document.get("code")
    if code is None or isinstance(code, bool):
        return None
    return str(code)


def _http_date(value: str) -> float | None:
    """An HTTP date (RFC 9110, always GMT) as a Unix time; ``None`` if it is not one."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": no zone, so no instant either
        return None
    return when.timestamp()


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date); ``None`` if absent or unusable."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = _http_date(value)
        if when is None:
            return None
        seconds = when - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def clock_skew_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The gateway's clock minus ours (or minus *now*), from its ``Date`` header."""
    value = headers.get("Date")
    when = _http_date(value) if value else None
    if when is None:
        return None
    return when - (time.time() if now is None else now)


def _error(
    *,
    status: int,
    code: str | None,
    message: str,
    request_id: str | None,
    path: str,
    headers: Mapping[str, str],
) -> APIError:
    # isdigit() also accepts "²" and "①", which int() refuses; and int() refuses (and is
    # slow on) thousands of digits. No status or code of 7moor's is longer than 6.
    numeric = int(code) if code and code.isascii() and code.isdigit() and len(code) <= 6 else None
    # The HTTP status first: it is the most deliberate signal. Then the envelope's code,
    # then its words, then a 5xx code (older 7moor APIs answer 200 with code "500").
    if status == 429:
        kind: type[APIError] = RateLimitError
    elif status in (401, 403):
        kind = AuthenticationError
    elif status >= 500:
        kind = ServerError
    elif numeric == 429 or _RATE_LIMIT_WORDS.search(message):
        kind = RateLimitError
    elif numeric in (401, 403) or _AUTH_WORDS.search(message):
        kind = AuthenticationError
    elif numeric is not None and 500 <= numeric < 600:
        kind = ServerError
    else:
        kind = APIError
    error = kind(message, path=path, status=status, code=code, request_id=request_id)
    if isinstance(error, RateLimitError):
        error.retry_after = retry_after_seconds(headers)
    elif isinstance(error, AuthenticationError):
        # Against this host's clock; the client refines it against the timestamp signed.
        error.clock_skew = clock_skew_seconds(headers)
    return error


_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._:-]+)", re.IGNORECASE)


def _text(body: bytes, headers: Mapping[str, str]) -> bytes | str:
    """The body as JSON can read it: decoded by its declared charset (``gbk``), if any
    other than UTF-8, which json.loads() detects by itself."""
    match = _CHARSET.search(headers.get("Content-Type", ""))
    if match is None or codecs.lookup(match[1]).name == "utf-8":
        return body
    return body.decode(match[1])


def parse_response(
    *, status: int, reason: str | None, headers: Mapping[str, str], body: bytes, path: str
) -> Envelope:
    """Unwrap a good answer, or raise the :mod:`moor7.exceptions` error it amounts to."""
    outcome = _unwrap(status=status, reason=reason, headers=headers, body=body, path=path)
    if isinstance(outcome, Envelope):
        return outcome
    # Raised from here, with the answer out of this frame: the frames that parsed it
    # (the document, SIP passwords and the echo of our signature among it) are gone,
    # and a crash reporter records the locals of every frame the error passes (and
    # walks a mapping: a Location header may carry a password).
    del body, headers
    raise outcome


def _unwrap(
    *, status: int, reason: str | None, headers: Mapping[str, str], body: bytes, path: str
) -> Envelope | APIError | InvalidResponseError:
    """The good answer unwrapped, or the error it amounts to."""
    if 300 <= status < 400:
        # Never followed (the signature covers no URL, and a redirect to another host
        # would take the headers along): the base_url is wrong, often http:// for https://.
        # A Location may carry a user and password: never repeated in an error.
        location = redact_url(headers.get("Location", ""))[:200]
        return APIError(
            f"the gateway answered with a redirect (HTTP {status}) to {location or '?'}: "
            "check base_url",
            path=path,
            status=status,
            request_id=_request_id({}, headers),
        )
    document: Any = None
    if body.strip():
        try:
            text = _text(body, headers)
            # Bytes (UTF-8, the gateway's own) go to the fast parser where installed.
            document = loads(text) if isinstance(text, bytes) else json.loads(text)
        except (UnicodeDecodeError, LookupError, ValueError, RecursionError):
            # LookupError: an unknown charset; RecursionError: nested past the stack.
            document = None
    is_envelope = isinstance(document, Mapping) and ("success" in document or "code" in document)

    if not is_envelope:
        if status >= 400:
            # A proxy's HTML error page, or an empty 5xx: the status is all we have.
            return _error(
                status=status,
                code=None,
                message=f"HTTP {status} {reason or ''}".strip(),
                request_id=_request_id({}, headers),
                path=path,
                headers=headers,
            )
        what = (
            "an empty body"
            if not body.strip()
            else (
                "a body that is not JSON"
                if document is None
                else "JSON that is not 7moor's envelope"
            )
        )
        return ResponseDecodeError(
            f"the gateway answered with {what}",
            path=path,
            status=status,
            request_id=_request_id({}, headers),
            body=body,
        )

    assert isinstance(document, Mapping)  # for the type checker: is_envelope said so
    code = _code(document)
    raw_message = document.get("message")
    message = raw_message if isinstance(raw_message, str) else None
    request_id = _request_id(document, headers)
    success = document.get("success")
    ok = success is True or (success is None and code == "200")
    if ok and status < 400:
        return Envelope(
            data=document.get("data"),
            code=code,
            message=message,
            request_id=request_id,
            status=status,
            path=path,
        )
    return _error(
        status=status,
        code=code,
        message=message or f"the gateway reported a failure (HTTP {status})",
        request_id=request_id,
        path=path,
        headers=headers,
    )
