"""Transports: how the bytes of one attempt reach the gateway and come back.

The pipeline (``_client.py``) decides *what* to send and what follows an answer; a
transport only moves bytes, as httpx separates ``Client`` from its transports. All of
aiohttp's specifics live here: the session, the event loop it is bound to, and which of
its exceptions means what. A transport raises only :mod:`moor7.exceptions` errors:

- :class:`~moor7.ConnectError` when no connection could be made, so nothing was sent
  (the one transport failure after which an action may be sent again);
- :class:`~moor7.NetworkError` when the connection failed later (the gateway may have
  acted on the request);
- :class:`~moor7.RequestTimeout` when no complete answer came in time;
- :class:`~moor7.ClientClosedError` / :class:`~moor7.WrongEventLoopError` for misuse.

:class:`MockTransport` answers in-process from a function, for narrow tests.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
import os
import select
import socket
import ssl
import urllib.request
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol, runtime_checkable

import aiohttp
import aiohttp.abc
import attrs
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from ._arguments import whole_number
from ._reprs import MASK, is_secret_field, tolerant_repr
from ._signing import OutgoingRequest, Secret, redact_url
from .exceptions import (
    ClientClosedError,
    ConfigurationError,
    ConnectError,
    Moor7Error,
    NetworkError,
    RequestTimeout,
    ResponseDecodeError,
    UsageError,
    WrongEventLoopError,
)

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "AiohttpTransport",
    "HttpResponse",
    "MockTransport",
    "Transport",
]

#: The largest answer read, in bytes after decompression: 64 MiB. A 5,000-number pool
#: is about 2.5 MB; a cap keeps a broken or hostile answer (2 MB of gzip inflating to
#: 2 GB) from taking the process's memory.
DEFAULT_MAX_RESPONSE_SIZE: Final = 64 * 1024 * 1024
#: The most connections a client keeps open at once (aiohttp's own default).
DEFAULT_MAX_CONNECTIONS: Final = 100


def _headers(value: Mapping[str, str]) -> CIMultiDictProxy[str]:
    # HTTP header names are case-insensitive: "retry-after" is "Retry-After".
    if isinstance(value, CIMultiDictProxy):
        return value
    return CIMultiDictProxy(CIMultiDict(value))


@tolerant_repr
@attrs.frozen(init=False)
class HttpResponse:
    """One HTTP answer, read whole.

    Its ``repr()`` shows no body, no secret header and no URL's password.

    Attributes:
        status: The HTTP status code.
        headers: The response headers (names case-insensitive).
        body: The raw body bytes.
        reason: The HTTP reason phrase, if any.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(repr=lambda h: _shown_headers(h))
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    reason: str | None

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        reason: str | None = None,
    ) -> None:
        # attrs' own way to set the fields of a frozen class in a custom __init__.
        self.__attrs_init__(status, _headers({} if headers is None else headers), body, reason)


def _shown_headers(headers: Mapping[str, str]) -> str:
    # A Location may carry a user and password; a Set-Cookie or an echo, a secret.
    shown = {
        name: MASK if is_secret_field(name) or name.lower() == "set-cookie" else redact_url(value)
        for name, value in headers.items()
    }
    return repr(shown)


@runtime_checkable
class Transport(Protocol):
    """Sends one signed attempt and returns the gateway's answer.

    ``headers`` are the complete request headers (the signature among them): a
    transport must not log them. moor7 passes a read-only mapping whose ``repr()``
    masks the signature; ``dict(headers)`` is a plain copy (keep it out of anything
    logged or reported).
    """

    async def send(
        self, request: OutgoingRequest, headers: Mapping[str, str], timeout: float | None
    ) -> HttpResponse:
        """Send *request* with *headers*; give up after *timeout* seconds (``None``: never)."""
        ...

    async def aclose(self) -> None:
        """Release the transport's connections. Safe to call more than once."""
        ...


class AiohttpTransport:
    """The default transport: an ``aiohttp.ClientSession``, made on first use.

    The session belongs to the event loop it was made on, and so does the transport:
    using it from another loop raises :class:`~moor7.WrongEventLoopError` instead of
    failing deep inside aiohttp or hanging.

    The environment's proxies are honoured (``HTTPS_PROXY``, ``HTTP_PROXY``,
    ``NO_PROXY``, as curl reads them), read once per host on the first request to it.

    Args:
        session: A session to share with the rest of the application; the transport
            then does not close it.
        proxy: The proxy for every request, e.g. ``"http://user:pass@proxy:3128"``;
            default: the environment's. Its user and password never show in ``repr()``.
        verify: ``True`` to verify the gateway's TLS certificate (the default), an
            ``ssl.SSLContext`` for your own CA bundle or client certificate, ``False``
            to skip verification (never against the real gateway).
        max_connections: The most connections open at once.
        max_response_size: The largest answer it reads, in bytes after decompression;
            a larger one raises :class:`~moor7.ResponseDecodeError` as soon as the cap
            is passed, having read no more than the cap.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        proxy: str | None = None,
        verify: ssl.SSLContext | bool = True,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        _at_exit: bool = False,
    ) -> None:
        # Wrapped at once and the plain URL dropped: it may hold a password, and a crash
        # reporter records this frame's locals if anything below raises.
        proxy_url = None if proxy is None else Secret(proxy)
        del proxy
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            msg = f"session must be an aiohttp.ClientSession, got {type(session).__name__}"
            raise ConfigurationError(msg)
        if session is not None and (
            verify is not True or max_connections != DEFAULT_MAX_CONNECTIONS
        ):
            msg = "verify= and max_connections= configure a session of moor7's: not with session="
            raise ConfigurationError(msg)
        if not isinstance(verify, (bool, ssl.SSLContext)):
            msg = f"verify must be True, False or an ssl.SSLContext, got {type(verify).__name__}"
            raise ConfigurationError(msg)
        self.max_response_size: int = whole_number("max_response_size", max_response_size, least=1)
        self.max_connections: int = whole_number("max_connections", max_connections, least=1)
        self._proxy = _check_proxy(proxy_url)
        self._verify = verify
        # At interpreter exit no executor takes work ("cannot schedule new futures after
        # interpreter shutdown"), and aiohttp resolves names and reads the environment's
        # proxies in one: do both inline instead (Client._run_after_exit).
        self._at_exit = _at_exit
        # The environment's proxy per host, read on the first request to it.
        self._environment_proxies: dict[str, str | None] = {}
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def __repr__(self) -> str:
        shared = "" if getattr(self, "_owns_session", True) else " shared session"
        proxy = getattr(self, "_proxy", None)
        via = "" if proxy is None else f" proxy={redact_url(proxy)!r}"
        return f"<AiohttpTransport{shared}{via}>"

    def bind(self) -> None:
        """Bind to the running event loop, or raise if it is not the transport's own."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            # aiohttp keeps a session's loop in a private attribute; a session made on
            # another loop would fail with "Event loop is closed" or hang instead.
            session_loop = getattr(self._session, "_loop", loop)
            if session_loop is not loop:
                msg = "the session= given was made on another event loop than this one"
                raise WrongEventLoopError(msg)
            self._loop = loop
        elif self._loop is not loop:
            msg = (
                "this AsyncClient was first used on another event loop; create one "
                "AsyncClient per event loop (or use moor7.Client from blocking code)"
            )
            raise WrongEventLoopError(msg)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            msg = "this client is closed; create a new one"
            raise ClientClosedError(msg)
        self.bind()
        if self._session is None:
            # Timeouts are set per request. No trust_env: aiohttp would then read the
            # environment's proxies and ~/.netrc on every request, the second through the
            # executor (a thread hop, about a millisecond a call, and refused at exit).
            # The proxies are read here instead, once per host (_proxy_for).
            connector = _Connector(
                limit=self.max_connections,
                ssl=self._verify,
                resolver=_InlineResolver() if self._at_exit else None,
            )
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None),
                connector=connector,
                trust_env=False,
            )
        return self._session

    def _proxy_for(self, url: str) -> str | None:
        """``proxy=``, else the environment's for *url*'s host (read once per host)."""
        if self._proxy is not None:
            return self._proxy
        host = url.split("://", 1)[-1].split("/", 1)[0]
        if host not in self._environment_proxies:
            self._environment_proxies[host] = _environment_proxy(url)
        return self._environment_proxies[host]

    async def _read(self, request: OutgoingRequest, response: aiohttp.ClientResponse) -> bytes:
        """The whole body, decompressed, read as a stream and stopped at the cap."""
        limit = self.max_response_size
        if response.content_length is not None and response.content_length > limit:
            raise self._too_large(request, response)
        # Whatever has arrived, each time (iter_any): on a 2.4 MB answer, 64 KiB chunks
        # copied into a growing buffer cost about 3 ms a call, more than the transfer.
        # Decompression stays bounded by aiohttp's own chunk size either way.
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
        else:
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        # Raised with the answer out of this frame: a crash reporter records its locals.
        del chunks, chunk
        raise self._too_large(request, response)

    def _too_large(
        self, request: OutgoingRequest, response: aiohttp.ClientResponse
    ) -> ResponseDecodeError:
        # The connection is released by the context manager without reading the rest.
        msg = (
            f"the answer is larger than max_response_size ({self.max_response_size:,} bytes "
            "after decompression)"
        )
        return ResponseDecodeError(
            msg,
            path=request.path,
            status=response.status,
            request_id=response.headers.get("X-Request-Id"),
        )

    async def aclose(self) -> None:
        """Close the session this transport made (a shared ``session=`` is left open)."""
        self._closed = True
        session = self._session
        if session is not None and self._owns_session and not session.closed:
            await session.close()
        # Only now: if the close above was interrupted, a second aclose() finishes it.
        self._session = None

    async def send(
        self, request: OutgoingRequest, headers: Mapping[str, str], timeout: float | None
    ) -> HttpResponse:
        """POST the request and read the whole answer."""
        session = self._get_session()
        try:
            async with session.request(
                request.method,
                request.url,
                data=request.body,
                headers=headers,
                timeout=_client_timeout(timeout),
                proxy=self._proxy_for(request.url),
                allow_redirects=False,
                # A shared session= may raise on 4xx/5xx by default; the envelope,
                # not aiohttp, says what an error status means.
                raise_for_status=False,
            ) as response:
                body = await self._read(request, response)
                return HttpResponse(
                    status=response.status,
                    headers=response.headers,
                    body=body,
                    reason=response.reason,
                )
        except (asyncio.TimeoutError, aiohttp.ClientError, OSError, RuntimeError) as exc:
            failure = self._failure(request, exc, timeout, session)
        # Raised here, out of the except clause, so not chained to aiohttp's exception:
        # the frames of its traceback hold the request (its headers, with a signature
        # the gateway may never have read, so a live credential) and the proxy's
        # password, and a crash reporter records every frame of the chain. The message
        # says what aiohttp reported, as far as it is safe to repeat.
        raise failure

    def _failure(
        self,
        request: OutgoingRequest,
        exc: BaseException,
        timeout: float | None,
        session: aiohttp.ClientSession,
    ) -> Moor7Error:
        """The moor7 error that aiohttp's *exc* amounts to."""
        if isinstance(exc, asyncio.TimeoutError):
            return RequestTimeout(f"no complete answer within {timeout}s", path=request.path)
        if isinstance(exc, aiohttp.InvalidURL):
            # A ClientError, but no retry can fix it: say so, once.
            return ConfigurationError(f"the URL cannot be requested: {request.url!r}")
        if isinstance(exc, RuntimeError):
            # aiohttp's "Session is closed" / "Event loop is closed".
            if self._closed or session.closed:
                msg = "the client (or its session) was closed while the call was in flight"
                return ClientClosedError(msg)
            return UsageError(f"the HTTP session cannot be used: {exc}")
        if isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
            # Nothing was sent, but no retry can fix it (each would take a slot of the
            # quota): a CA bundle (verify=), a proxy that intercepts TLS, a wrong host.
            return ConfigurationError(
                f"the gateway's TLS certificate or handshake failed: {type(exc).__name__}: "
                f"{exc} (see verify=)"
            )
        if self._closed:
            return ClientClosedError("the client was closed while the call was in flight")
        if isinstance(exc, aiohttp.ClientConnectorError):
            # No connection was made (refused, unreachable, DNS): nothing was sent. The
            # error names the host and port only, so its text is safe to keep.
            msg = f"could not connect to the gateway: {type(exc).__name__}: {exc}"
            return ConnectError(msg, path=request.path)
        if _unwritten(exc):
            # A pooled connection the gateway closed just before the request could be
            # written: aiohttp refused to write to it, so nothing was sent.
            msg = (
                "the gateway closed the connection before the request was written: "
                f"{type(exc).__name__}"
            )
            return ConnectError(msg, path=request.path)
        # aiohttp's parser errors quote the bytes that broke them (a proxy may echo our
        # headers, the signature among them): only the error's type is kept, and what
        # the operating system said, if it said anything.
        errno = getattr(exc, "errno", None)
        reason = f" ({os.strerror(errno)})" if isinstance(errno, int) else ""
        msg = f"connection to the gateway failed: {type(exc).__name__}{reason}"
        return NetworkError(msg, path=request.path)


def _unwritten(exc: BaseException) -> bool:
    """Whether *exc* says that aiohttp did not write the request: it refuses to write to
    a connection it knows is closing, and a moor7 body (one ``bytes``) goes in the same
    write as the headers. aiohttp before 3.10 writes the headers first: there, at most
    the headers went, and no gateway acts on a POST without its body."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionResetError) and str(current) == _REFUSED_WRITE:
            return True
        todo += [current.__cause__, current.__context__]
    return False


# What aiohttp's StreamWriter raises (a ConnectionResetError) instead of writing to a
# transport that is closing; tests/test_keepalive.py pins it against the aiohttp installed.
_REFUSED_WRITE: Final = "Cannot write to closing transport"


@functools.lru_cache(maxsize=64)
def _client_timeout(total: float | None) -> aiohttp.ClientTimeout:
    # ceil_threshold: aiohttp rounds a timeout over 5 s up to a whole second of the
    # loop's clock, which would let an attempt outlive a deadline. One object per
    # timeout (a deadline cuts attempts to many values: the cache is bounded).
    return aiohttp.ClientTimeout(total=total, ceil_threshold=math.inf)


class _Connector(aiohttp.TCPConnector):
    """aiohttp's connector, except that it never hands out a pooled connection that the
    server has closed while it sat idle.

    aiohttp drops a pooled connection once its event loop has seen the server close it;
    a close still unread by the loop (the server's keep-alive timeout ran out a moment
    ago) would take the next request into a socket nobody reads, and that request would
    fail as "the gateway may have acted" although the gateway never saw it. An idle
    HTTP/1.1 connection has nothing to read; one that has (the server's FIN, a reset,
    a TLS close_notify) is closed here, and another is taken, as urllib3 does.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The connections handed out before: only those can have gone stale in the pool.
        self._handed_out: weakref.WeakSet[Any] = weakref.WeakSet()

    async def connect(self, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection:
        while True:
            connection = await super().connect(*args, **kwargs)
            protocol = connection.protocol
            if protocol not in self._handed_out:
                self._handed_out.add(protocol)
                return connection
            if not _closed_by_server(connection.transport):
                return connection
            connection.close()  # each turn takes one stale connection out of the pool


def _closed_by_server(transport: asyncio.Transport | None) -> bool:
    """Whether an idle connection has something to read, so is closed or broken."""
    if transport is None or transport.is_closing():
        return True
    sock = transport.get_extra_info("socket")
    if sock is None:
        return False  # not a socket: nothing to ask
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock.fileno(), select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock.fileno()], [], [], 0)[0])  # Windows
    except (OSError, ValueError):
        return True  # a socket that cannot be asked cannot be trusted either


class _InlineResolver(aiohttp.abc.AbstractResolver):
    """Resolves names in the loop's own thread, blocking it: for interpreter exit only,
    when the executor aiohttp's resolver uses refuses work."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        infos = socket.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
        return [
            {
                "hostname": host,
                "host": str(address[0]),
                "port": int(address[1]),
                "family": info_family,
                "proto": proto,
                "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            }
            for info_family, _, proto, _, address in infos
        ]

    async def close(self) -> None:
        """Nothing to release."""


def _environment_proxy(url: str) -> str | None:
    """The environment's proxy for *url* (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), read inline."""
    parsed = yarl.URL(url)
    if parsed.host is None or urllib.request.proxy_bypass(parsed.host):
        return None
    return urllib.request.getproxies().get(parsed.scheme)


def _check_proxy(proxy: Secret | None) -> str | None:
    """The proxy URL, checked; raised about from a frame that holds it only wrapped."""
    if proxy is None:
        return None
    problem = _proxy_problem(proxy.reveal())
    if problem is not None:
        raise ConfigurationError(problem)
    return proxy.reveal()  # type: ignore[no-any-return]  # a str: _proxy_problem said so


def _proxy_problem(proxy: object) -> str | None:
    if not isinstance(proxy, str):
        return f"proxy must be a URL string, got {type(proxy).__name__}"
    try:
        url = yarl.URL(proxy)
    except (TypeError, ValueError):
        return "proxy is not a valid URL"  # not quoted: it may hold a password
    if url.scheme not in ("http", "https") or not url.host:
        return f"proxy must be an http:// or https:// URL with a host, got {redact_url(proxy)!r}"
    return None


Handler = Callable[[OutgoingRequest, Mapping[str, str]], "HttpResponse | Awaitable[HttpResponse]"]


class MockTransport:
    """Answers every attempt in-process with ``handler(request, headers)``.

    For narrow tests of the pipeline, as httpx's ``MockTransport``: no socket, no
    server. The handler may return an :class:`HttpResponse` or an awaitable of one,
    and may raise any :mod:`moor7.exceptions` transport error to simulate a failure
    (:class:`~moor7.ConnectError`, :class:`~moor7.RequestTimeout`, ...).

    Example:
        ::

            def answer(request, headers):
                return moor7.HttpResponse(200, body=b'{"success": true, "data": []}')

            client = moor7.AsyncClient(..., transport=moor7.testing.MockTransport(answer))
    """

    def __init__(self, handler: Handler) -> None:
        if not callable(handler):
            msg = f"handler must be callable, got {type(handler).__name__}"
            raise ConfigurationError(msg)
        self._handler = handler
        self._closed = False

    def __repr__(self) -> str:
        handler = getattr(self, "_handler", None)
        return f"<MockTransport handler={getattr(handler, '__name__', '?')}>"

    async def send(
        self, request: OutgoingRequest, headers: Mapping[str, str], timeout: float | None
    ) -> HttpResponse:
        """Ask the handler for the answer."""
        if self._closed:
            msg = "this client is closed; create a new one"
            raise ClientClosedError(msg)
        answer = self._handler(request, headers)
        if inspect.isawaitable(answer):
            answer = await answer
        if not isinstance(answer, HttpResponse):
            msg = f"the handler returned {type(answer).__name__}, not an HttpResponse"
            raise UsageError(msg)
        return answer

    async def aclose(self) -> None:
        """Refuse further sends."""
        self._closed = True
