"""The async core: the one request pipeline every call goes through.

The pipeline knows no endpoint: the families in ``_endpoints/`` declare them (path,
query or action, result type) and call :meth:`AsyncClient._perform`. A call flows, in
this order, each step a method named after what it adds (as httpx's ``_send_handling_*``)::

    _perform()                      encode the body once; decode the answer   (_endpoints/)
      _send_handling_auth()         one attempt more after an auth rejection  (_retries.py)
        _send_handling_retries()    retries by the call's kind (stamina)      (_retries.py)
          _send_single_attempt()
            limiter.acquire()       wait for a slot of the account's quota    (_limits.py)
              signer.sign()         fresh m7-* headers for this very attempt  (_signing.py)
              transport.send()      the bytes there and back                  (_transport.py)
            parse_response()        unwrap the envelope or raise its error    (_envelope.py)
            after_failure()         pause the account, correct the clock      (_retries.py)
    Endpoint.decode()               data -> models, with the request id       (_convert.py)

The sync ``moor7.Client`` (``_sync.py``) adds nothing to this: it runs it on a
background event loop.

Performance (see ``bench/`` and docs/performance.md): nothing per call is built that
could be built once. The converter is built on the first answer and shared by every
client of the process, and cattrs and stamina are imported when first needed, so that
``import moor7`` costs little more than ``import aiohttp``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import math
import os
import platform
import re
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Final, TypeVar

import aiohttp
import yarl

from ._arguments import seconds, whole_number
from ._endpoints import (
    USE_CLIENT_DEFAULT,
    AsyncEndpoints,
    CallKind,
    Endpoint,
    UseClientDefault,
    kind_for,
)
from ._envelope import Envelope, clock_skew_seconds, parse_response
from ._limits import WAIT_REASONS, Limiter, acquire_options, default_limiter
from ._retries import Call, after_failure, quiet_stamina, worth_one_more_attempt
from ._signing import HmacSigner, OutgoingRequest, Secret, Signer, check_appkey
from ._transport import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_SIZE,
    AiohttpTransport,
    HttpResponse,
    Transport,
)
from .exceptions import (
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    ConnectError,
    RequestTimeout,
)

__all__ = ["DEFAULT_BASE_URL", "AsyncClient"]

log = logging.getLogger("moor7")

R = TypeVar("R")

#: The documented host of the V7 OpenAPI.
#: Over TLS: answers hold SIP passwords and customers' data, which must not cross networks
#: in clear (the docs' examples use http:// for most families, https:// for im-report,
#: so the host serves both). http:// only when a user asks for it.
DEFAULT_BASE_URL: Final = "https://v7openapi.7moor.com"

# V7 paths are plain: letters, digits and a few marks, no query string (parameters go in
# the JSON body). Anything else is a mistake, or an attempt to smuggle a header or host.
_API_PATH: Final = re.compile(r"/(?!/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")

DEFAULT_TIMEOUT: Final = 10.0
DEFAULT_MAX_RETRIES: Final = 3


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


def resolve_credentials(
    appkey: str | None, secret: Secret | None, signer: Signer | None
) -> tuple[str, Signer]:
    """The account and its signer, from the arguments, the signer or the environment."""
    signer_appkey = getattr(signer, "appkey", None)
    if appkey is None and isinstance(signer_appkey, str):
        appkey = signer_appkey  # the signer signs for an account: that is the one
    appkey = _resolve(appkey, "MOOR7_APPKEY")
    if appkey is None:
        msg = "no appkey: pass appkey=... or set the MOOR7_APPKEY environment variable"
        raise ConfigurationError(msg)
    problem = check_appkey(appkey)
    if problem is not None:
        raise ConfigurationError(problem)
    if signer is None:
        secret = secret or Secret.from_environment("MOOR7_SECRET_KEY")
        if secret is None:
            msg = (
                "no secret key: pass secret_key=... or set the MOOR7_SECRET_KEY "
                "environment variable (or pass signer=...)"
            )
            raise ConfigurationError(msg)
        return appkey, HmacSigner._from_secret(appkey, secret)
    if secret is not None:
        msg = "pass secret_key or signer, not both: the signer holds the secret"
        raise ConfigurationError(msg)
    if not callable(getattr(signer, "sign", None)):
        msg = f"signer must have a sign(request) method, got {type(signer).__name__}"
        raise ConfigurationError(msg)
    if isinstance(signer_appkey, str) and signer_appkey != appkey:
        # The quota is counted under the client's appkey, the gateway under the
        # signer's: the two must be one account.
        msg = f"the signer signs for appkey {signer_appkey!r}, the client is for {appkey!r}"
        raise ConfigurationError(msg)
    return appkey, signer


def _check_timeout(timeout: float | None) -> float | None:
    return None if timeout is None else seconds("timeout", timeout)


def _check_deadline(deadline: float | None) -> float | None:
    return None if deadline is None else seconds("deadline", deadline)


def _check_retries(max_retries: int) -> int:
    return whole_number("max_retries", max_retries, least=0)


def _check_base_url(base_url: str) -> str:
    if not isinstance(base_url, str):
        msg = f"base_url must be a string, got {type(base_url).__name__}"
        raise ConfigurationError(msg)
    try:
        url = yarl.URL(base_url)
        if url.user is not None or url.password is not None:
            # Not quoted: the URL holds a password. The V7 API authenticates by signature.
            msg = "base_url must not carry a user or password (7moor signs every request)"
            raise ConfigurationError(msg)
        if url.scheme not in ("http", "https") or not url.host:
            msg = f"base_url must be an http:// or https:// URL with a host, got {base_url!r}"
            raise ConfigurationError(msg)
        if url.query_string or url.fragment or "?" in base_url or "#" in base_url:
            msg = (
                f"base_url must have no query or fragment (paths are added to it), got {base_url!r}"
            )
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


# Deeper than any V7 body: past it, a body is a mistake (or a cycle) to refuse plainly,
# not a RecursionError from json.dumps.
_MAX_BODY_DEPTH: Final = 32


def _plain_json(value: Any, where: str, depth: int) -> Any:
    """*value* as plain JSON types, checked: string keys, finite numbers, bounded depth.

    Read-only mappings (``MappingProxyType``, ``ChainMap``) and any sequence are fine;
    ``json.dumps`` alone refuses the first and would turn ``{1: "a", "1": "b"}`` into an
    object with one key twice.
    """
    if depth > _MAX_BODY_DEPTH:
        msg = f"body is nested deeper than {_MAX_BODY_DEPTH} levels (at {where})"
        raise ConfigurationError(msg)
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                msg = f"body keys must be strings, got {type(key).__name__} at {where}"
                raise ConfigurationError(msg)
            plain[key] = _plain_json(item, f"{where}.{key}", depth + 1)
        return plain
    if isinstance(value, (list, tuple)):
        return [_plain_json(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"body cannot be sent as JSON: {value} at {where}"
            raise ConfigurationError(msg)
        return value
    msg = f"body cannot be sent as JSON: {type(value).__name__} at {where}"
    raise ConfigurationError(msg)


def _encode_body(body: Mapping[str, Any] | None) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, Mapping):
        msg = f"body must be a mapping (a JSON object) or None, got {type(body).__name__}"
        raise ConfigurationError(msg)
    return json.dumps(_plain_json(body, "$", 1), ensure_ascii=False).encode()


def _check_path(path: object) -> str:
    if not isinstance(path, str) or not _API_PATH.fullmatch(path):
        msg = (
            "path must be an API path such as '/openapi/v1/call/query/agent' "
            f"(no spaces, query or fragment), got {path!r}"
        )
        raise ConfigurationError(msg)
    # "..", or its percent-encoded forms, would climb out of the API's paths on the way
    # through the gateway's proxies.
    for segment in path.split("/"):
        if urllib.parse.unquote(segment) in (".", ".."):
            msg = f"path must not have '.' or '..' segments, got {path!r}"
            raise ConfigurationError(msg)
    return path


class AsyncClient(AsyncEndpoints):
    """The asyncio client of the 7moor V7 OpenAPI.

    Create one per application (and per event loop) and reuse it: it pools connections.
    Its methods, one per endpoint, are grouped by family in the docs (numbers, agents,
    calls, dial-out tasks, reports); :meth:`request` calls any other endpoint.

    Example:
        ::

            async with moor7.AsyncClient(appkey="2000103", secret_key="...") as client:
                pool = await client.get_number_pool()
                async for agent in client.list_agents():
                    print(agent.agent_number, agent.name)

    Args:
        appkey: The account id (``appKey``). Default: the signer's ``appkey`` if it has
            one, then the ``MOOR7_APPKEY`` environment variable.
        secret_key: The account's ``secretKey``. Default: ``MOOR7_SECRET_KEY``. Not
            needed when ``signer`` is given.
        base_url: The gateway. Default: ``MOOR7_BASE_URL``, then
            ``https://v7openapi.7moor.com``.
        signer: Signs each attempt. Default: :class:`HmacSigner` with the credentials.
        limiter: Keeps the account within its quota. Default: the process-wide
            :func:`default_limiter` (20 calls per rolling minute per account).
        timeout: Seconds for one attempt, from sending to the last byte of the answer;
            ``None`` for no limit.
        deadline: Seconds for a whole call: the wait for a quota slot, every attempt
            and every backoff; ``None`` (the default) for no limit. A call that cannot
            finish in time fails at once with :class:`~moor7.DeadlineExceeded`, without
            sending what could no longer finish and without taking a quota slot for
            nothing.
        max_retries: How many times a failed call is tried again: a query after
            connection errors, timeouts, 5xx and over-quota answers; an action only
            when the gateway certainly did not act (see :class:`CallKind`).
        backoff_initial: Seconds before the first retry; it doubles each retry (plus
            jitter) up to ``backoff_max``. A ``Retry-After`` from the gateway wins.
        backoff_max: The longest wait between two attempts.
        max_response_size: The largest answer read, in bytes after decompression
            (64 MiB); a larger one raises :class:`~moor7.ResponseDecodeError`.
        proxy: The proxy for every call, e.g. ``"http://proxy:3128"``; default: the
            environment's (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``).
        verify: ``True`` to verify the gateway's TLS certificate, an
            ``ssl.SSLContext`` of your own (a CA bundle), or ``False``.
        max_connections: The most connections open at once (100).
        session: An ``aiohttp.ClientSession`` to share with the rest of the
            application. The client then does not close it.
        transport: Moves each attempt's bytes (default: :class:`AiohttpTransport`
            with ``session``); :class:`moor7.testing.MockTransport` answers in-process.

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
        deadline: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        proxy: str | None = None,
        verify: ssl.SSLContext | bool = True,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
    ) -> None:
        # The secret is wrapped before anything can raise and the plain string dropped:
        # a crash reporter that records this frame's locals sees "<secret>".
        secret = None if secret_key is None else Secret(secret_key)
        del secret_key
        if transport is None:
            transport = AiohttpTransport(
                session,
                max_response_size=max_response_size,
                proxy=proxy,
                verify=verify,
                max_connections=max_connections,
            )
        elif session is not None:
            msg = "pass session or transport, not both: the transport holds the session"
            raise ConfigurationError(msg)
        elif (
            proxy is not None
            or verify is not True
            or max_connections != DEFAULT_MAX_CONNECTIONS
            or max_response_size != DEFAULT_MAX_RESPONSE_SIZE
        ):
            msg = (
                "proxy=, verify=, max_connections= and max_response_size= configure the "
                "default transport: give them to your transport instead"
            )
            raise ConfigurationError(msg)
        elif not isinstance(transport, Transport):
            msg = (
                "transport must have send(request, headers, timeout) and aclose() methods, "
                f"got {type(transport).__name__}"
            )
            raise ConfigurationError(msg)
        if limiter is not None and not isinstance(limiter, Limiter):
            msg = (
                "limiter must have acquire(account) and pause(account, seconds) methods, "
                f"got {type(limiter).__name__}"
            )
            raise ConfigurationError(msg)
        self.base_url: str = _check_base_url(
            _resolve(base_url, "MOOR7_BASE_URL") or DEFAULT_BASE_URL
        )
        self.timeout: float | None = _check_timeout(timeout)
        self.deadline: float | None = _check_deadline(deadline)
        self.max_retries: int = _check_retries(max_retries)
        self._backoff_initial = seconds("backoff_initial", backoff_initial, zero_ok=True)
        self._backoff_max = seconds("backoff_max", backoff_max, zero_ok=True)
        appkey, signer = resolve_credentials(appkey, secret, signer)
        self.appkey: str = appkey
        self.signer: Signer = signer
        self.limiter: Limiter = limiter if limiter is not None else default_limiter()
        # Which of acquire()'s optional keywords the limiter takes (read once).
        self._acquire_options = acquire_options(self.limiter)
        self.transport: Transport = transport
        self._closed = False
        # This client's calls (their tasks), and those of them with an attempt in
        # flight: aclose() ends the others' waits for a slot or a backoff at once.
        self._calls: set[asyncio.Task[Any]] = set()
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._cancelled_by_close: set[asyncio.Task[Any]] = set()
        self._base_headers = {"content-type": "application/json", "user-agent": _user_agent()}

    def __repr__(self) -> str:
        # getattr: a half-built client (its __init__ raised) must still show itself.
        state = " closed" if getattr(self, "_closed", False) else ""
        appkey, base_url = getattr(self, "appkey", None), getattr(self, "base_url", None)
        return f"<AsyncClient appkey={appkey!r} base_url={base_url!r}{state}>"

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> AsyncClient:
        bind = getattr(self.transport, "bind", None)
        if bind is not None:
            bind()  # fail on the wrong event loop here, not at the first call
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
        # Calls waiting for a quota slot or a backoff end now, with ClientClosedError
        # (an application shutting down must not wait up to a minute for a slot); calls
        # in flight finish or fail as the transport closes.
        current = asyncio.current_task()
        for task in self._calls - self._in_flight:
            if task is not current and not task.done():
                self._cancelled_by_close.add(task)
                task.cancel()
        await self.transport.aclose()

    # -- any endpoint ----------------------------------------------------------------

    async def request(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        kind: CallKind | str | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Any:
        """Call any V7 OpenAPI endpoint, with the same signing, quota, retries and errors.

        Example:
            ::

                data = await client.request(
                    "/openapi/v1/call/query/agent", {"page": 1, "limit": 100}
                )

        Args:
            path: The endpoint's path, starting with ``/``.
            body: The JSON object to send; ``None`` sends an empty body.
            kind: ``"query"`` or ``"action"`` (:class:`CallKind`), which decides what
                is retried. Default: the kind moor7 declares for a path it knows, else
                ``"action"``: a path moor7 does not know might change state at 7moor,
                so it is sent at most once unless you say it is a query.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for this call.
            deadline: Seconds for the whole call, overriding the client's; ``None``
                for no limit.

        Returns:
            The envelope's ``data``, decoded from JSON as it came.

        Raises:
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        envelope = await self._send(
            path, kind_for(path, kind), body, timeout, max_retries, deadline
        )
        return envelope.data

    # -- the pipeline ----------------------------------------------------------------

    async def _perform(
        self,
        endpoint: Endpoint[R],
        body: Mapping[str, Any] | None,
        *,
        timeout: float | UseClientDefault | None,
        max_retries: int | None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> R:
        envelope = await self._send(
            endpoint.path, endpoint.kind, body, timeout, max_retries, deadline
        )
        return endpoint.decode(envelope)

    async def _send(
        self,
        path: str,
        kind: CallKind,
        body: Mapping[str, Any] | None,
        timeout: float | UseClientDefault | None,
        max_retries: int | None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Envelope:
        path = _check_path(path)
        payload = _encode_body(body)
        attempt_timeout = (
            self.timeout if isinstance(timeout, UseClientDefault) else _check_timeout(timeout)
        )
        retries = self.max_retries if max_retries is None else _check_retries(max_retries)
        budget = (
            self.deadline if isinstance(deadline, UseClientDefault) else _check_deadline(deadline)
        )
        if self._closed:
            msg = "this client is closed; create a new one"
            raise ClientClosedError(msg)
        call = Call(
            closed=lambda: self._closed,
            kind=kind,
            timeout=attempt_timeout,
            retries=retries,
            expires=None if budget is None else time.monotonic() + budget,
            backoff_initial=self._backoff_initial,
            backoff_max=self._backoff_max,
        )
        request = OutgoingRequest("POST", self.base_url + path, path, payload)
        task = asyncio.current_task()
        if task is not None:
            self._calls.add(task)
        try:
            return await self._send_handling_auth(request, call)
        except asyncio.CancelledError:
            if task is None or task not in self._cancelled_by_close:
                raise
            # aclose() ended this call while it waited for a slot or a backoff.
            self._cancelled_by_close.discard(task)
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+
            if uncancel is not None:
                uncancel()
            msg = "the client was closed while the call was waiting"
            raise ClientClosedError(msg) from None
        finally:
            if task is not None:
                self._calls.discard(task)
                self._in_flight.discard(task)
                self._cancelled_by_close.discard(task)

    async def _send_handling_auth(self, request: OutgoingRequest, call: Call) -> Envelope:
        try:
            return await self._send_handling_retries(request, call)
        except AuthenticationError as exc:
            if not worth_one_more_attempt(exc):
                raise
        attempt = OutgoingRequest(request.method, request.url, request.path, request.body, 2)
        return await self._send_handling_retries(attempt, call.with_no_retries())

    async def _send_handling_retries(self, request: OutgoingRequest, call: Call) -> Envelope:
        # The first attempt runs outside stamina: setting up its retry loop (tenacity's
        # machinery) costs ~20 us a call, as much as structuring a small pool, and most
        # calls succeed at once. A failure worth retrying is handed to stamina below as its
        # first attempt's outcome, so backoff, retry logging and stamina's testing and
        # activation switches see exactly the attempts they would have.
        try:
            return await self._send_single_attempt(request, call)
        except Exception as exc:
            # max_retries=0 never reaches stamina: its global testing switch would add
            # attempts to a call the caller asked to send once.
            if call.retries == 0 or not call.first_wait(exc, request):
                call.raise_if_past_deadline(exc, request)
                raise
            first_failure = exc
        # Imported on the first retry only: stamina and tenacity are not needed before.
        import stamina

        try:
            with quiet_stamina():
                async for attempt in stamina.retry_context(
                    on=functools.partial(call.next_wait, request=request),
                    attempts=call.retries + 1,
                    timeout=None,  # the call's deadline bounds it instead (Call.next_wait)
                    # Call.next_wait returns every wait: these are never used.
                    wait_initial=0,
                    wait_max=0,
                    wait_jitter=0,
                ):
                    with attempt:
                        if attempt.num == 1:
                            raise first_failure  # already tried above; stamina decides next
                        retry = OutgoingRequest(
                            request.method, request.url, request.path, request.body, attempt.num
                        )
                        return await self._send_single_attempt(retry, call)
        except Exception as exc:
            call.raise_if_past_deadline(exc, request)
            raise
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    async def _send_single_attempt(self, request: OutgoingRequest, call: Call) -> Envelope:
        if self._closed:
            # Closed while this call was in flight or in its backoff: no further attempt.
            msg = "the client was closed while the call was waiting"
            raise ClientClosedError(msg)
        task = asyncio.current_task()
        try:
            return await self._attempt(request, call, task)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _attempt(
        self, request: OutgoingRequest, call: Call, task: asyncio.Task[Any] | None
    ) -> Envelope:
        async with contextlib.AsyncExitStack() as stack:
            await self._wait_for_slot(stack, request, call)
            if self._closed:
                # Closed while this call waited for a slot.
                msg = "the client was closed while the call was waiting"
                raise ClientClosedError(msg)
            timeout = call.attempt_timeout(request)
            # Signed inside the limiter, right before sending: a wait for a slot must not
            # age the timestamp, and each attempt needs a nonce of its own.
            signed_offset = getattr(self.signer, "clock_offset", 0.0)
            headers = await self._sign(request)
            started = time.monotonic()
            if task is not None:
                # From here until the answer is handled (the slot released, the account
                # paused), aclose() lets the call finish or fail on its own: a close
                # must never turn an answered action into "closed while waiting".
                self._in_flight.add(task)
            try:
                response = await self.transport.send(
                    request, {**self._base_headers, **headers}, timeout
                )
            except ConnectError as exc:
                self._log(request, started, type(exc).__name__)
                raise  # nothing was sent: call.sent stays as it was
            except RequestTimeout as exc:
                call.sent = True
                self._log(request, started, type(exc).__name__)
                call.raise_if_past_deadline(exc, request)
                raise
            except Exception as exc:
                call.sent = True
                self._log(request, started, type(exc).__name__)
                raise
            call.sent = True
        try:
            envelope = self._parse(request, response, headers)
        except Exception as exc:
            self._log(request, started, response.status, getattr(exc, "request_id", None), exc)
            await after_failure(
                exc,
                account=self.appkey,
                limiter=self.limiter,
                signer=self.signer,
                signed_offset=signed_offset,
            )
            raise
        self._log(request, started, response.status, envelope.request_id)
        return envelope

    async def _wait_for_slot(
        self, stack: contextlib.AsyncExitStack, request: OutgoingRequest, call: Call
    ) -> None:
        """Enter the limiter for this attempt, within the call's deadline."""
        options = {}
        if "timeout" in self._acquire_options:
            # The longest this attempt can hold its slot: what a RedisLimiter holds the
            # slot of a process that died mid-call for.
            options["timeout"] = call.timeout
        slot = self.limiter.acquire(self.appkey, **options)
        if call.expires is None:
            await stack.enter_async_context(slot)
            return
        remaining = call.expires - time.monotonic()
        if remaining <= 0:
            raise call.deadline_error(request, "no quota slot frees before the deadline")
        expected = getattr(self.limiter, "expected_wait", None)
        if expected is not None:
            wait = expected(self.appkey)
            if inspect.isawaitable(wait):
                wait = await wait
            if wait >= call.expires - time.monotonic():
                # The slot frees too late: fail now, not when the deadline has passed.
                why = await self._why_no_slot(wait)
                msg = f"no quota slot frees before the deadline: {why}"
                raise call.deadline_error(request, msg)
        try:
            # Cancelled at the deadline, the wait leaves the queue and takes no slot.
            remaining = call.expires - time.monotonic()
            await asyncio.wait_for(stack.enter_async_context(slot), remaining)
        except asyncio.TimeoutError:
            raise call.deadline_error(request, "no quota slot freed before the deadline") from None

    async def _why_no_slot(self, wait: float) -> str:
        """In words: how long this account waits for a slot, and why (if the limiter
        says, through ``usage()``)."""
        why = f"the next slot for this call frees in {wait:.1f}s"
        usage = getattr(self.limiter, "usage", None)
        if usage is None:
            return why
        try:
            snapshot = usage(self.appkey)
            if inspect.isawaitable(snapshot):
                snapshot = await snapshot
            reason = WAIT_REASONS.get(snapshot.blocked_by or "")
        except Exception:  # only words for a message: the deadline error is the news
            reason = None
        return why if reason is None else f"{why} ({reason})"

    def _parse(
        self, request: OutgoingRequest, response: HttpResponse, headers: Mapping[str, str]
    ) -> Envelope:
        try:
            envelope = parse_response(
                status=response.status,
                reason=response.reason,
                headers=response.headers,
                body=response.body,
                path=request.path,
            )
        except AuthenticationError as exc:
            # How far the gateway's clock is from the timestamp we signed with: a
            # rejection for an expired timestamp says nothing more precise.
            sent = headers.get("m7-timestamp", "")
            if exc.clock_skew is not None and sent.isascii() and sent.isdigit():
                exc.clock_skew = clock_skew_seconds(response.headers, now=float(sent))
            raise
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

    def _log(
        self,
        request: OutgoingRequest,
        started: float,
        outcome: int | str,
        request_id: str | None = None,
        error: Exception | None = None,
    ) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        log.debug(
            "POST %s -> %s request_id=%s attempt=%d elapsed=%.3fs%s",
            request.path,
            outcome,
            request_id,
            request.attempt,
            time.monotonic() - started,
            f" error={type(error).__name__}" if error is not None else "",
        )
