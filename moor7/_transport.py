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
import inspect
import math
import socket
import ssl
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from typing import Final, Protocol, runtime_checkable

import aiohttp
import aiohttp.abc
import attrs
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from ._arguments import whole_number
from ._signing import OutgoingRequest, redact_url
from .exceptions import (
    ClientClosedError,
    ConfigurationError,
    ConnectError,
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


@attrs.frozen(init=False)
class HttpResponse:
    """One HTTP answer, read whole.

    Attributes:
        status: The HTTP status code.
        headers: The response headers (names case-insensitive).
        body: The raw body bytes.
        reason: The HTTP reason phrase, if any.
    """

    status: int
    headers: Mapping[str, str]
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


@runtime_checkable
class Transport(Protocol):
    """Sends one signed attempt and returns the gateway's answer.

    ``headers`` are the complete request headers (the signature among them): a
    transport must not log them.
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
        self._proxy = _check_proxy(proxy)
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
            connector = aiohttp.TCPConnector(
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
                # ceil_threshold: aiohttp rounds a timeout over 5 s up to a whole second
                # of the loop's clock, which would let an attempt outlive a deadline.
                timeout=aiohttp.ClientTimeout(total=timeout, ceil_threshold=math.inf),
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
        except asyncio.TimeoutError as exc:
            msg = f"no complete answer within {timeout}s"
            raise RequestTimeout(msg, path=request.path) from exc
        except aiohttp.InvalidURL as exc:
            # A ClientError, but no retry can fix it: say so, once.
            msg = f"the URL cannot be requested: {request.url!r}"
            raise ConfigurationError(msg) from exc
        except RuntimeError as exc:
            # aiohttp's "Session is closed" / "Event loop is closed".
            if self._closed or session.closed:
                msg = "the client (or its session) was closed while the call was in flight"
                raise ClientClosedError(msg) from exc
            msg = f"the HTTP session cannot be used: {exc}"
            raise UsageError(msg) from exc
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
            # Nothing was sent, but no retry can fix it (each would take a slot of the
            # quota): a CA bundle (verify=), a proxy that intercepts TLS, a wrong host.
            msg = (
                f"the gateway's TLS certificate or handshake failed: {type(exc).__name__}: "
                f"{exc} (see verify=)"
            )
            raise ConfigurationError(msg) from exc
        except aiohttp.ClientConnectorError as exc:
            # No connection was made (refused, unreachable, DNS): nothing was sent. The
            # error names the host and port only, so its text is safe to keep.
            if self._closed:
                msg = "the client was closed while the call was in flight"
                raise ClientClosedError(msg) from exc
            msg = f"could not connect to the gateway: {type(exc).__name__}: {exc}"
            raise ConnectError(msg, path=request.path) from exc
        except (aiohttp.ClientError, OSError) as exc:
            if self._closed:
                msg = "the client was closed while the call was in flight"
                raise ClientClosedError(msg) from exc
            # aiohttp's parser errors quote the bytes that broke them (a proxy may echo
            # our headers, the signature among them): only the error's type is kept.
            msg = f"connection to the gateway failed: {type(exc).__name__}"
            raise NetworkError(msg, path=request.path) from exc


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


def _check_proxy(proxy: object) -> str | None:
    if proxy is None:
        return None
    if not isinstance(proxy, str):
        msg = f"proxy must be a URL string, got {type(proxy).__name__}"
        raise ConfigurationError(msg)
    try:
        url = yarl.URL(proxy)
    except (TypeError, ValueError):
        msg = "proxy is not a valid URL"  # not quoted: it may hold a password
        raise ConfigurationError(msg) from None
    if url.scheme not in ("http", "https") or not url.host:
        msg = f"proxy must be an http:// or https:// URL with a host, got {redact_url(proxy)!r}"
        raise ConfigurationError(msg)
    return proxy


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
