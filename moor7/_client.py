"""The async core: the one request pipeline every call goes through.

A call flows, in this order::

    AsyncClient.request()        validate, encode the body once
      retries (stamina)          a fresh attempt on connection errors, timeouts, 5xx, quota
        limiter.acquire()        wait for a slot of the account's quota   (_limits.py)
          signer.sign()          fresh m7-* headers for this very attempt (_signing.py)
          aiohttp POST           send, read the whole answer
        parse_response()         unwrap the envelope or raise its error   (_envelope.py)
    converter.structure()        data -> models                           (_convert.py)

The sync ``moor7.Client`` (``_sync.py``) adds nothing to this: it runs it on a
background event loop.

Performance (see ``bench/`` and docs/performance.md): nothing per call is built that
could be built once. The converter is built on the first answer and shared by every
client of the process, and cattrs and stamina are imported when first needed, so that
``import moor7`` costs little more than ``import aiohttp``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import os
import platform
import re
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Final, TypeVar

import aiohttp
import yarl

from ._arguments import seconds, whole_number
from ._envelope import Envelope, clock_skew_seconds, parse_response
from ._limits import Limiter, default_limiter
from ._models import NumberGroup, NumberGroups, NumberPool
from ._signing import HmacSigner, OutgoingRequest, Signer
from .exceptions import (
    CLOCK_SKEW_NOTICE,
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    NetworkError,
    RateLimitError,
    RequestTimeout,
    ResponseShapeError,
    ServerError,
    TransportError,
    UsageError,
    WrongEventLoopError,
)

__all__ = ["DEFAULT_BASE_URL", "AsyncClient"]

log = logging.getLogger("moor7")

T = TypeVar("T")

#: The documented host of the V7 OpenAPI.
DEFAULT_BASE_URL: Final = "http://v7openapi.7moor.com"
NUMBER_POOL_PATH: Final = "/openapi/v1/call/query/number"
DISPLAY_NUMBER_GROUPS_PATH: Final = "/openapi/v1/call/query/group"

# V7 paths are plain: letters, digits and a few marks, no query string (parameters go in
# the JSON body). Anything else is a mistake, or an attempt to smuggle a header or host.
_API_PATH: Final = re.compile(r"/(?!/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")

DEFAULT_TIMEOUT: Final = 10.0
DEFAULT_MAX_RETRIES: Final = 3
# A Retry-After longer than the quota's whole period says more about the gateway than
# about when a slot frees; past it, let the caller decide.
RETRY_AFTER_CAP: Final = 60.0


class _Unset:
    def __repr__(self) -> str:
        return "<default>"


_UNSET: Final = _Unset()


@functools.cache
def _user_agent() -> str:
    # Once per process: the same for every client, and reading the version from the
    # package metadata costs milliseconds (importlib.metadata).
    from ._version import version

    return (
        f"moor7/{version} aiohttp/{aiohttp.__version__} "
        f"{platform.python_implementation()}/{platform.python_version()}"
    )


def _resolve(value: str | None, variable: str) -> str | None:
    if value is None:
        value = os.environ.get(variable) or None
    return value


def _check_timeout(timeout: float | None) -> float | None:
    return None if timeout is None else seconds("timeout", timeout)


def _check_retries(max_retries: int) -> int:
    return whole_number("max_retries", max_retries, least=0)


def _check_base_url(base_url: str) -> str:
    if not isinstance(base_url, str):
        msg = f"base_url must be a string, got {type(base_url).__name__}"
        raise ConfigurationError(msg)
    try:
        url = yarl.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            msg = f"base_url must be an http:// or https:// URL with a host, got {base_url!r}"
            raise ConfigurationError(msg)
        # Both raise on a host that cannot be sent (a label over 63 characters, a bad
        # punycode label): better here than at the first call.
        url.host.encode("idna")
        return str(url).rstrip("/")
    except (TypeError, ValueError) as exc:  # UnicodeError is a ValueError
        if isinstance(exc, ConfigurationError):
            raise
        msg = f"base_url is not a valid URL: {base_url!r}"
        raise ConfigurationError(msg) from exc


def _retry_on(exc: Exception) -> bool | float:
    """stamina's backoff hook: which failures are worth another (freshly signed) try."""
    if isinstance(exc, RateLimitError):
        if exc.retry_after is not None:
            # Asked to wait longer than a whole quota period: the caller decides.
            return exc.retry_after if exc.retry_after <= RETRY_AFTER_CAP else False
        return True
    return isinstance(exc, (TransportError, ServerError))


class AsyncClient:
    """The asyncio client of the 7moor V7 OpenAPI.

    Create one per application (and per event loop) and reuse it: it pools connections.

    Example:
        ::

            async with moor7.AsyncClient(appkey="2000103", secret_key="...") as client:
                pool = await client.get_number_pool()
                groups = await client.list_display_number_groups()

    Args:
        appkey: The account id (``appKey``). Default: the signer's ``appkey`` if it has
            one, then the ``MOOR7_APPKEY`` environment variable.
        secret_key: The account's ``secretKey``. Default: ``MOOR7_SECRET_KEY``. Not
            needed when ``signer`` is given.
        base_url: The gateway. Default: ``MOOR7_BASE_URL``, then
            ``http://v7openapi.7moor.com``.
        signer: Signs each attempt. Default: :class:`HmacSigner` with the credentials.
        limiter: Keeps the account within its quota. Default: the process-wide
            :func:`default_limiter` (20 calls per rolling minute per account).
        timeout: Seconds for one attempt, from sending to the last byte of the answer;
            ``None`` for no limit.
        max_retries: How many times a failed call is tried again (connection errors,
            timeouts, 5xx and over-quota answers; not authentication or other 4xx, but
            for one attempt more after adopting the gateway's time when this host's
            clock is off).
        backoff_initial: Seconds before the first retry; it doubles each retry (plus
            jitter) up to ``backoff_max``. A ``Retry-After`` from the gateway wins.
        backoff_max: The longest wait between two attempts.
        session: An ``aiohttp.ClientSession`` to share with the rest of the
            application. The client then does not close it.

    Raises:
        ConfigurationError: Missing or invalid credentials or settings.
    """

    def __init__(
        self,
        appkey: str | None = None,
        secret_key: str | None = None,
        *,
        base_url: str | None = None,
        signer: Signer | None = None,
        limiter: Limiter | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        signer_appkey = getattr(signer, "appkey", None)
        if appkey is None and isinstance(signer_appkey, str):
            appkey = signer_appkey  # the signer signs for an account: that is the one
        appkey = _resolve(appkey, "MOOR7_APPKEY")
        if appkey is None:
            msg = "no appkey: pass appkey=... or set the MOOR7_APPKEY environment variable"
            raise ConfigurationError(msg)
        if not isinstance(appkey, str) or not appkey.strip():
            msg = f"appkey must be a non-empty string, got {type(appkey).__name__}"
            raise ConfigurationError(msg)
        if signer is None:
            secret_key = _resolve(secret_key, "MOOR7_SECRET_KEY")
            if secret_key is None:
                msg = (
                    "no secret key: pass secret_key=... or set the MOOR7_SECRET_KEY "
                    "environment variable (or pass signer=...)"
                )
                raise ConfigurationError(msg)
            if not isinstance(secret_key, str) or not secret_key.strip():
                msg = f"secret_key must be a non-empty string, got {type(secret_key).__name__}"
                raise ConfigurationError(msg)
            signer = HmacSigner(appkey, secret_key)
        elif secret_key is not None:
            msg = "pass secret_key or signer, not both: the signer holds the secret"
            raise ConfigurationError(msg)
        elif not callable(getattr(signer, "sign", None)):
            msg = f"signer must have a sign(request) method, got {type(signer).__name__}"
            raise ConfigurationError(msg)
        elif isinstance(signer_appkey, str) and signer_appkey != appkey:
            # The quota is counted under the client's appkey, the gateway under the
            # signer's: the two must be one account.
            msg = f"the signer signs for appkey {signer_appkey!r}, the client is for {appkey!r}"
            raise ConfigurationError(msg)
        if limiter is not None and not isinstance(limiter, Limiter):
            msg = (
                "limiter must have acquire(account) and pause(account, seconds) methods, "
                f"got {type(limiter).__name__}"
            )
            raise ConfigurationError(msg)
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            msg = f"session must be an aiohttp.ClientSession, got {type(session).__name__}"
            raise ConfigurationError(msg)

        self.appkey: str = appkey
        self.base_url: str = _check_base_url(
            _resolve(base_url, "MOOR7_BASE_URL") or DEFAULT_BASE_URL
        )
        self.signer: Signer = signer
        self.limiter: Limiter = limiter if limiter is not None else default_limiter()
        self.timeout: float | None = _check_timeout(timeout)
        self.max_retries: int = _check_retries(max_retries)
        self._backoff_initial = seconds("backoff_initial", backoff_initial, zero_ok=True)
        self._backoff_max = seconds("backoff_max", backoff_max, zero_ok=True)
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._base_headers = {"content-type": "application/json", "user-agent": _user_agent()}

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<AsyncClient appkey={self.appkey!r} base_url={self.base_url!r}{state}>"

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> AsyncClient:
        self._bind_loop()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    async def aclose(self) -> None:
        """Close the connections this client opened. Safe to call more than once.

        A session passed in with ``session=`` is left open: it belongs to the caller.
        """
        self._closed = True
        session = self._session
        if session is not None and self._owns_session and not session.closed:
            await session.close()
        # Only now: if the close above was interrupted, a second aclose() finishes it.
        self._session = None

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        # aiohttp sessions and connections belong to the loop they were made on; using
        # them from another loop fails deep inside aiohttp, or hangs. Say so up front.
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
        return loop

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            msg = "this client is closed; create a new one"
            raise ClientClosedError(msg)
        self._bind_loop()
        if self._session is None:
            # Timeouts are set per request; the connector's limit is aiohttp's default.
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self._session

    # -- the endpoints ---------------------------------------------------------------

    async def get_number_pool(
        self,
        *,
        timeout: float | _Unset | None = _UNSET,
        max_retries: int | None = None,
    ) -> NumberPool:
        """Get the account's number pool (获取号码池): display, service and SIP numbers.

        Args:
            timeout: Override the client's per-attempt timeout for this call.
            max_retries: Override the client's ``max_retries`` for this call.

        Returns:
            The pool. Its ``request_id`` identifies the call for 7moor support.

        Raises:
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        envelope = await self._call(NUMBER_POOL_PATH, None, timeout, max_retries)
        pool: NumberPool = self._structure(envelope, NumberPool, default={})
        # The pool was made just now and nobody else holds it: set the field in place
        # (attrs' recipe for frozen classes) instead of copying it with attrs.evolve().
        object.__setattr__(pool, "request_id", envelope.request_id)
        return pool

    async def list_display_number_groups(
        self,
        *,
        timeout: float | _Unset | None = _UNSET,
        max_retries: int | None = None,
    ) -> NumberGroups:
        """List the account's display-number groups (查询外显号组).

        An outbound call that names a group's ``id`` shows one of that group's numbers.

        Args:
            timeout: Override the client's per-attempt timeout for this call.
            max_retries: Override the client's ``max_retries`` for this call.

        Returns:
            A ``list`` of :class:`NumberGroup` whose ``request_id`` identifies the call
            for 7moor support.

        Raises:
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        envelope = await self._call(DISPLAY_NUMBER_GROUPS_PATH, None, timeout, max_retries)
        groups: list[NumberGroup] = self._structure(envelope, list[NumberGroup], default=[])
        return NumberGroups(groups, envelope.request_id)

    async def request(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        timeout: float | _Unset | None = _UNSET,
        max_retries: int | None = None,
    ) -> Any:
        """Call any V7 OpenAPI endpoint, with the same signing, quota, retries and errors.

        Example:
            ::

                agents = await client.request(
                    "/openapi/v1/call/query/agent", {"page": 1, "limit": 100}
                )

        Args:
            path: The endpoint's path, starting with ``/``.
            body: The JSON object to send; ``None`` sends an empty body.
            timeout: Override the client's per-attempt timeout for this call.
            max_retries: Override the client's ``max_retries``. Pass ``0`` for calls that
                must not run twice (creating a dial-out task): a timeout does not tell
                whether the gateway acted on the call.

        Returns:
            The envelope's ``data``, decoded from JSON as it came.

        Raises:
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        envelope = await self._call(path, body, timeout, max_retries)
        return envelope.data

    # -- the pipeline ----------------------------------------------------------------

    def _structure(self, envelope: Envelope, type_: Any, *, default: Any) -> Any:
        # Imported here: cattrs and the converter load with the first answer, not with
        # `import moor7` (and once imported, this is a dictionary lookup).
        from ._convert import describe_error, structure

        data = default if envelope.data is None else envelope.data
        try:
            return structure(data, type_)
        except Exception as exc:  # cattrs raises many types; each means "does not fit"
            details = describe_error(exc)
            raise ResponseShapeError(
                f"the answer's data does not fit the model: {details}",
                path=envelope.path,
                status=envelope.status,
                request_id=envelope.request_id,
            ) from exc

    async def _call(
        self,
        path: str,
        body: Mapping[str, Any] | None,
        timeout: float | _Unset | None,
        max_retries: int | None,
    ) -> Envelope:
        if not isinstance(path, str) or not _API_PATH.fullmatch(path):
            msg = (
                "path must be an API path such as '/openapi/v1/call/query/agent' "
                f"(no spaces, query or fragment), got {path!r}"
            )
            raise ConfigurationError(msg)
        if body is not None and not isinstance(body, Mapping):
            msg = f"body must be a mapping (a JSON object) or None, got {type(body).__name__}"
            raise ConfigurationError(msg)
        try:
            payload = (
                b""
                if body is None
                else json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
            )
        except (TypeError, ValueError) as exc:
            msg = f"body cannot be sent as JSON: {exc}"
            raise ConfigurationError(msg) from exc
        attempt_timeout = self.timeout if isinstance(timeout, _Unset) else _check_timeout(timeout)
        retries = self.max_retries if max_retries is None else _check_retries(max_retries)
        session = self._get_session()
        url = self.base_url + path
        try:
            return await self._send(session, url, path, payload, attempt_timeout, retries)
        except AuthenticationError as exc:
            if not self._clock_was_off(exc):
                raise
        # The attempt that failed corrected the signer's clock (_attempt): the one case
        # an authentication failure is worth another try, and it is one attempt more.
        return await self._send(session, url, path, payload, attempt_timeout, retries=0)

    def _clock_was_off(self, exc: AuthenticationError) -> bool:
        skew = exc.clock_skew
        return (
            isinstance(self.signer, HmacSigner)
            and skew is not None
            and abs(skew) >= CLOCK_SKEW_NOTICE
        )

    def _adopt_gateway_clock(self, exc: AuthenticationError, signed_offset: float) -> None:
        """Sign with the gateway's time from now on, after a rejection far off it."""
        if not self._clock_was_off(exc):
            return
        assert isinstance(self.signer, HmacSigner)  # _clock_was_off checked it
        assert exc.clock_skew is not None
        # From the offset this attempt was signed with, not the current one: calls that
        # were in flight together all land on the same offset instead of adding up.
        corrected = signed_offset + round(exc.clock_skew)
        if self.signer.clock_offset != corrected:
            self.signer.clock_offset = corrected
            log.warning(
                "this host's clock is %+.0fs off the gateway's (from its Date header); "
                "signing with the gateway's time from now on: fix the clock (NTP)",
                -exc.clock_skew,
            )

    async def _send(
        self,
        session: aiohttp.ClientSession,
        url: str,
        path: str,
        payload: bytes,
        attempt_timeout: float | None,
        retries: int,
    ) -> Envelope:
        # The first attempt runs outside stamina: setting up its retry loop (tenacity's
        # machinery) costs ~20 µs a call, as much as structuring a small pool, and most
        # calls succeed at once. A failure worth retrying is handed to stamina below as its
        # first attempt's outcome, so backoff, retry logging and stamina's testing and
        # activation switches see exactly the attempts they would have.
        try:
            return await self._attempt(
                session, OutgoingRequest("POST", url, path, payload), attempt_timeout
            )
        except Exception as exc:
            # max_retries=0 never reaches stamina: its global testing switch would add
            # attempts to a call the caller asked to send once (a dial-out must not run
            # twice).
            if retries == 0 or not _retry_on(exc):
                raise
            first_failure = exc
        # Imported on the first retry only: stamina and tenacity are not needed before.
        import stamina

        async for attempt in stamina.retry_context(
            on=_retry_on,
            attempts=retries + 1,
            timeout=None,  # bounded by attempts x (timeout + backoff) instead
            wait_initial=self._backoff_initial,
            wait_max=self._backoff_max,
            wait_jitter=self._backoff_initial,
        ):
            with attempt:
                if attempt.num == 1:
                    raise first_failure  # already tried above; stamina decides what next
                request = OutgoingRequest("POST", url, path, payload, attempt.num)
                return await self._attempt(session, request, attempt_timeout)
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    async def _attempt(
        self, session: aiohttp.ClientSession, request: OutgoingRequest, timeout: float | None
    ) -> Envelope:
        async with self.limiter.acquire(self.appkey):
            if self._closed or session.closed:
                # Closed while this call waited for a slot or for its retry.
                msg = "the client was closed while the call was waiting"
                raise ClientClosedError(msg)
            # Signed inside the limiter, right before sending: a wait for a slot must not
            # age the timestamp, and each attempt needs a nonce of its own.
            signed_offset = getattr(self.signer, "clock_offset", 0.0)
            headers = await self._sign(request)
            started = time.monotonic()
            try:
                async with session.post(
                    request.url,
                    data=request.body,
                    headers={**self._base_headers, **headers},
                    timeout=aiohttp.ClientTimeout(total=timeout),
                    allow_redirects=False,
                    # A shared session= may raise on 4xx/5xx by default; the envelope,
                    # not aiohttp, says what an error status means.
                    raise_for_status=False,
                ) as response:
                    body = await response.read()
                    status, reason = response.status, response.reason
                    response_headers = response.headers
            except asyncio.TimeoutError as exc:
                self._log_failure(request, started, "timeout")
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
            except (aiohttp.ClientError, OSError) as exc:
                if self._closed:
                    msg = "the client was closed while the call was in flight"
                    raise ClientClosedError(msg) from exc
                self._log_failure(request, started, type(exc).__name__)
                # aiohttp's parser errors quote the bytes that broke them (a proxy may
                # echo our headers, the signature among them): only connect errors,
                # which name the host and port, keep their text.
                detail = f": {exc}" if isinstance(exc, aiohttp.ClientConnectorError) else ""
                msg = f"connection to the gateway failed: {type(exc).__name__}{detail}"
                raise NetworkError(msg, path=request.path) from exc
        try:
            envelope = parse_response(
                status=status,
                reason=reason,
                headers=response_headers,
                body=body,
                path=request.path,
            )
        except Exception as exc:
            if isinstance(exc, AuthenticationError):
                # How far the gateway's clock is from the timestamp we signed with: a
                # rejection for an expired timestamp says nothing more precise.
                sent = headers.get("m7-timestamp", "")
                if exc.clock_skew is not None and sent.isascii() and sent.isdigit():
                    exc.clock_skew = clock_skew_seconds(response_headers, now=float(sent))
                self._adopt_gateway_clock(exc, signed_offset)
            elif isinstance(exc, RateLimitError):
                # Over quota anyway (another program on the account, another counting
                # rule): the whole account waits, not only this call's retry.
                retry_after = exc.retry_after
                await self.limiter.pause(
                    self.appkey,
                    None if retry_after is None else min(retry_after, RETRY_AFTER_CAP),
                )
            self._log_answer(
                request, status, getattr(exc, "request_id", None), started, type(exc).__name__
            )
            raise
        self._log_answer(request, status, envelope.request_id, started)
        return envelope

    async def _sign(self, request: OutgoingRequest) -> Mapping[str, str]:
        headers = self.signer.sign(request)
        if inspect.isawaitable(headers):
            headers = await headers
        if not isinstance(headers, Mapping):
            msg = f"the signer returned {type(headers).__name__}, not a mapping of headers"
            raise ConfigurationError(msg)
        for name, value in headers.items():
            if not isinstance(name, str) or not isinstance(value, str):
                msg = f"the signer returned a header that is not str -> str: {name!r}"
                raise ConfigurationError(msg)
            text = name + value
            # Three plain substring tests: a third of the cost of any() over a generator.
            if "\r" in text or "\n" in text or "\0" in text:
                msg = f"the signer returned a header with a line break: {name!r}"
                raise ConfigurationError(msg)
        return headers

    def _log_failure(self, request: OutgoingRequest, started: float, what: str) -> None:
        log.debug(
            "POST %s -> %s attempt=%d elapsed=%.3fs",
            request.path,
            what,
            request.attempt,
            time.monotonic() - started,
        )

    def _log_answer(
        self,
        request: OutgoingRequest,
        status: int,
        request_id: str | None,
        started: float,
        error: str | None = None,
    ) -> None:
        log.debug(
            "POST %s -> %s request_id=%s attempt=%d elapsed=%.3fs%s",
            request.path,
            status,
            request_id,
            request.attempt,
            time.monotonic() - started,
            f" error={error}" if error else "",
        )
