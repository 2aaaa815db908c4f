"""Every error moor7 raises, and what each one tells you.

The hierarchy::

    Moor7Error
    ├── ConfigurationError        bad or missing credentials/settings (also a ValueError)
    ├── UsageError                the client was used in a way it cannot serve
    │   ├── ClientClosedError     ... after close()/aclose()
    │   └── WrongEventLoopError   ... from another event loop than its own
    ├── LimiterUnavailableError   the quota's store (Redis) cannot be reached; not sent
    ├── TransportError            no answer reached us
    │   ├── NetworkError          the connection failed or dropped
    │   │   └── ConnectError      ... before anything was sent
    │   └── RequestTimeout        no complete answer within the timeout
    │       └── DeadlineExceeded  ... or the call's deadline cannot be met
    ├── APIError                  the gateway answered with an error
    │   ├── AuthenticationError   bad appkey/signature, expired timestamp, replayed nonce
    │   ├── RateLimitError        over the account quota (20 calls/minute)
    │   └── ServerError           5xx: the gateway or a service behind it failed
    └── InvalidResponseError      an answer we cannot use
        ├── ResponseDecodeError   not JSON, or not 7moor's envelope
        └── ResponseShapeError    a good envelope whose data does not fit the model

Every exception raised while a request is in flight carries the request ``path``, and,
once the gateway answered, the HTTP ``status`` and the ``request_id`` that 7moor support
asks for; raised by a call, it says how many ``attempts`` were sent, retries included.
No exception's ``str()`` or ``repr()`` contains the secret key, a signature or a
response body, and both print on any stream that can write the gateway's own text:
what the gateway sent that no stream can print (a lone surrogate, a control character)
is escaped.

Nothing a crash reporter records of them holds a secret either. The errors of a request
carry no ``__cause__`` or ``__context__`` where the underlying exception's frames would
hold the request's signature (aiohttp's) or the answer's data (the JSON parser's,
cattrs'): the message names the underlying error instead. What an error keeps of an
answer for debugging (``body``, ``records``) has its secret fields masked.

What is retried depends on the call's kind (:class:`~moor7.CallKind`): a query after
transport errors, server errors and rate-limit errors; an action, which changes state at
7moor, only when the gateway certainly did not act (:class:`ConnectError`, an over-quota
or an authentication rejection). What reaches you has exhausted its retries.
"""

from __future__ import annotations

from typing import Any

from ._reprs import masked, masked_body, printable

__all__ = [
    "APIError",
    "AuthenticationError",
    "ClientClosedError",
    "ConfigurationError",
    "ConnectError",
    "DeadlineExceeded",
    "InvalidResponseError",
    "LimiterUnavailableError",
    "Moor7Error",
    "NetworkError",
    "RateLimitError",
    "RequestTimeout",
    "ResponseDecodeError",
    "ResponseShapeError",
    "ServerError",
    "TransportError",
    "UsageError",
    "WrongEventLoopError",
]


#: A clock this far (seconds) from the gateway's is worth naming in an authentication
#: error, and correcting: the gateway rejects timestamps more than 300 s off.
CLOCK_SKEW_NOTICE = 60.0


class Moor7Error(Exception):
    """Base class of every error moor7 raises."""

    def __str__(self) -> str:
        # Printable on any stream: a message may quote the gateway, or the OS.
        return printable(super().__str__())


class ConfigurationError(Moor7Error, ValueError):
    """Credentials or settings are missing or invalid; nothing was sent."""


class UsageError(Moor7Error):
    """The client was used in a way it cannot serve; nothing was sent."""


class ClientClosedError(UsageError):
    """The client was used after ``close()``/``aclose()``. Create a new client."""


class WrongEventLoopError(UsageError):
    """An ``AsyncClient`` was used from an event loop other than the one it started on.

    aiohttp sessions and connections belong to one event loop. Create one
    ``AsyncClient`` per event loop, or use the sync ``moor7.Client``, which runs its own
    loop.
    """


class LimiterUnavailableError(Moor7Error):
    """The limiter could not reach its shared store (Redis), so the call was not sent.

    Sending it anyway could break the account's quota for every process. To keep calling
    during a Redis outage, build the ``RedisLimiter`` with ``on_unavailable="local"``.
    """


class _RequestError(Moor7Error):
    """Shared by the errors raised for a request in flight: keeps their context.

    Attributes:
        attempts: How many attempts of the call were sent before it failed, retries
            included (``0``: none was, e.g. the deadline could not be met); set by the
            client as the error leaves the call, ``None`` until then.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        # Escaped once, here: the gateway's message may hold what no stream can print
        # (a lone surrogate raises UnicodeEncodeError in print(), even to UTF-8).
        message = printable(message) if isinstance(message, str) else message
        super().__init__(message)
        self.message = message
        self.path = path
        self.status = status
        self.request_id = request_id
        self.attempts: int | None = None

    def _context(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "request_id": self.request_id}

    def __str__(self) -> str:
        try:
            context = {**self._context(), "attempts": self.attempts}
        except AttributeError:  # half-built: its __init__ has not finished
            return super().__str__()
        parts = [f"{k}={v!r}" for k, v in context.items() if v is not None]
        return f"{self.message} ({', '.join(parts)})" if parts else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments do not survive pickling by default, and Celery and
        # multiprocessing pickle exceptions across processes. The attempts are set
        # after construction: they travel as state.
        state = {"attempts": self.attempts}
        return (_rebuild, (type(self), self.message, self._init_kwargs()), state)

    def _init_kwargs(self) -> dict[str, Any]:
        return self._context()


def _rebuild(cls: type[_RequestError], message: str, kwargs: dict[str, Any]) -> _RequestError:
    return cls(message, **kwargs)


class TransportError(_RequestError):
    """No answer reached us: the request may or may not have reached the gateway."""


class NetworkError(TransportError):
    """The connection to the gateway failed, or dropped before the whole answer came.

    The gateway may have received the request and acted on it.
    """


class ConnectError(NetworkError):
    """No connection to the gateway could be made (refused, unreachable, DNS).

    Nothing was sent, so the gateway certainly did not act: the one transport failure
    after which an action (:class:`~moor7.CallKind`) is tried again.
    """


class RequestTimeout(TransportError):
    """No complete answer arrived within the configured ``timeout``."""


class DeadlineExceeded(RequestTimeout):
    """The call's ``deadline`` cannot be met: raised at once, not when it has passed.

    Raised before waiting for a quota slot that frees too late, instead of a backoff that
    would end too late, or when the deadline cut an attempt short (then, as for any
    timeout, the gateway may have received it).

    Attributes:
        sent: Whether any attempt of the call was sent.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        sent: bool = False,
    ) -> None:
        super().__init__(message, path=path, status=status, request_id=request_id)
        self.sent = sent

    def _init_kwargs(self) -> dict[str, Any]:
        return {**self._context(), "sent": self.sent}


class APIError(_RequestError):
    """The gateway answered with an error.

    Attributes:
        status: The HTTP status code.
        code: The envelope's ``code`` (a string, e.g. ``"403"``), if it sent one.
        message: The envelope's ``message``, or a description of the answer.
        request_id: ``requestInfo.requestId``: quote it to 7moor support.
        path: The API path that was called.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, path=path, status=status, request_id=request_id)
        self.code = code

    def _context(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "code": self.code,
            "request_id": self.request_id,
        }


class AuthenticationError(APIError):
    """The gateway rejected the credentials or the signature.

    Check the appkey and secret key, and the host clock: the gateway rejects a
    timestamp more than 5 minutes away from its own. Not retried, except once after
    correcting the clock (below).

    Attributes:
        clock_skew: Seconds the gateway's clock is ahead of this host's (negative:
            behind), from the ``Date`` header of the rejection; ``None`` if it sent
            none. Beyond a minute it is named in the message; the default
            :class:`~moor7.HmacSigner` then adopts it and the client tries once more.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        clock_skew: float | None = None,
    ) -> None:
        super().__init__(message, path=path, status=status, code=code, request_id=request_id)
        self.clock_skew = clock_skew

    def __str__(self) -> str:
        text = super().__str__()
        skew = getattr(self, "clock_skew", None)  # None on a half-built one
        if skew is not None and abs(skew) >= CLOCK_SKEW_NOTICE:
            where = "behind" if skew > 0 else "ahead of"
            text += f"; this host's clock is {abs(skew):.0f}s {where} the gateway's"
        return text

    def _init_kwargs(self) -> dict[str, Any]:
        return {**self._context(), "clock_skew": self.clock_skew}


class RateLimitError(APIError):
    """The gateway answered that the account is over its quota (20 calls/minute).

    Attributes:
        retry_after: Seconds the gateway asked us to wait, if it said (``Retry-After``).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, path=path, status=status, code=code, request_id=request_id)
        self.retry_after = retry_after

    def _init_kwargs(self) -> dict[str, Any]:
        return {**self._context(), "retry_after": self.retry_after}


class ServerError(APIError):
    """The gateway answered 5xx: a failure on 7moor's side, retried by the client."""


class InvalidResponseError(_RequestError):
    """The gateway answered, but not with anything we can use.

    Attributes:
        body: Up to the first 4 KiB of the raw body, for debugging, with the value of
            every field named like a secret masked (``"password": "***"``, the
            ``m7-sign`` of the gateway's echo of the request's headers): in JSON, JSON
            cut short, or a form. It is never part of ``str()``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(message, path=path, status=status, request_id=request_id)
        # Cut first: a value cut short is masked to the end, and 4 KiB are quick to scan.
        self.body: bytes = masked_body(body[:4096])

    def _init_kwargs(self) -> dict[str, Any]:
        return {**self._context(), "body": self.body}


class ResponseDecodeError(InvalidResponseError):
    """The body is not JSON, or not 7moor's ``{success, code, message, data}`` envelope."""


class ResponseShapeError(InvalidResponseError):
    """The envelope is fine but its ``data`` does not fit the model.

    The message says which field failed and why (``expected an integer, got dict @
    $.sip_numbers[1].register_status``), naming the type of what came, never its value.

    Attributes:
        records: The records of ``data`` that did not fit, as the gateway sent them
            (wire names), with every field named like a secret masked (``"password":
            "***"``): the JSON object that holds each field that failed, or the value
            itself where an object was due. Plain ``dict`` and ``list`` copies.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        body: bytes = b"",
        records: list[Any] | None = None,
    ) -> None:
        super().__init__(message, path=path, status=status, request_id=request_id, body=body)
        self.records: list[Any] = masked(records or [])

    def _init_kwargs(self) -> dict[str, Any]:
        return {**super()._init_kwargs(), "records": self.records}
