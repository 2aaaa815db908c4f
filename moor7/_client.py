"""The async core: the one request pipeline every call goes through.

The pipeline knows no endpoint: the families in ``_endpoints/`` declare them (path,
query or action, result type) and call :meth:`AsyncClient._perform`. A call flows, in
this order, each step a method named after what it adds (as httpx's ``_send_handling_*``)::

    _perform()                      encode the body once; decode the answer   (_endpoints/)
      _send()                       a kept answer, or one shared by identical
                                    queries in flight                         (_answers.py)
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
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Final, Literal, TypeVar, overload

import aiohttp
import yarl

from ._answers import AnswerCache, SharedCall, copied_error, mark_from_cache
from ._arguments import seconds, whole_number
from ._endpoints import (
    USE_CLIENT_DEFAULT,
    AsyncEndpoints,
    CallKind,
    Endpoint,
    UseClientDefault,
    kind_for,
)
from ._endpoints._base import (
    check_max_age,
    check_priority,
    check_result_type,
    decode,
    priority_for,
)
from ._envelope import Envelope, clock_skew_seconds, parse_response
from ._limits import Limiter, Priority, acquire_options, default_limiter
from ._retries import Call, after_failure, quiet_stamina, worth_one_more_attempt
from ._signing import (
    HmacSigner,
    OutgoingRequest,
    Secret,
    SignedHeaders,
    Signer,
    _random_nonce,
    check_appkey,
    redact_url,
    revealed,
)
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
    DeadlineExceeded,
    Moor7Error,
    RequestTimeout,
    _RequestError,
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

# The priorities whose shared calls a caller of each priority may wait for: its own, and
# the higher ones (Priority lists the highest first). An interactive call never waits
# for a batch call's answer: that call may stand behind every batch call in the queue.
_JOINS: Final = {
    priority: tuple(list(Priority)[: index + 1]) for index, priority in enumerate(Priority)
}


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


def _number_from_environment(variable: str, whole: bool) -> float | None:
    """The number in *variable*, or ``None`` when it is unset or empty."""
    text = os.environ.get(variable)
    if not text:
        return None
    try:
        return int(text) if whole else float(text)
    except ValueError:
        what = "an integer >= 0" if whole else "a number of seconds > 0"
        msg = f"{variable} must be {what}, got {text!r}"
        raise ConfigurationError(msg) from None


def _default_timeout(timeout: float | UseClientDefault | None) -> float | None:
    """*timeout*, or ``MOOR7_TIMEOUT``, or 10 seconds; checked."""
    if not isinstance(timeout, UseClientDefault):
        return _check_timeout(timeout)
    value = _number_from_environment("MOOR7_TIMEOUT", whole=False)
    return DEFAULT_TIMEOUT if value is None else seconds("MOOR7_TIMEOUT", value)


def _default_retries(max_retries: int | None) -> int:
    """*max_retries*, or ``MOOR7_MAX_RETRIES``, or 3; checked."""
    if max_retries is not None:
        return _check_retries(max_retries)
    value = _number_from_environment("MOOR7_MAX_RETRIES", whole=True)
    if value is None:
        return DEFAULT_MAX_RETRIES
    return whole_number("MOOR7_MAX_RETRIES", value, least=0)


def _check_deadline(deadline: float | None) -> float | None:
    return None if deadline is None else seconds("deadline", deadline)


def _check_retries(max_retries: int) -> int:
    return whole_number("max_retries", max_retries, least=0)


def _check_base_url(base_url: Secret) -> str:
    """The base URL, checked. Raised about from a frame that holds it only wrapped: a
    URL may carry a password (refused, and never quoted)."""
    checked = _checked_base_url(base_url.reveal())
    if isinstance(checked, ConfigurationError):
        raise checked
    return checked


def _checked_base_url(base_url: object) -> str | ConfigurationError:
    if not isinstance(base_url, str):
        return ConfigurationError(f"base_url must be a string, got {type(base_url).__name__}")
    shown = redact_url(base_url)
    try:
        url = yarl.URL(base_url)
        if url.user is not None or url.password is not None:
            # The V7 API authenticates by signature.
            return ConfigurationError(
                "base_url must not carry a user or password (7moor signs every request)"
            )
        if url.scheme not in ("http", "https") or not url.host:
            return ConfigurationError(
                f"base_url must be an http:// or https:// URL with a host, got {shown!r}"
            )
        if url.query_string or url.fragment or "?" in base_url or "#" in base_url:
            return ConfigurationError(
                f"base_url must have no query or fragment (paths are added to it), got {shown!r}"
            )
        # Both raise on a host that cannot be sent (a label over 63 characters, a bad
        # punycode label): better here than at the first call.
        url.host.encode("idna")
        return str(url).rstrip("/")
    except (TypeError, ValueError):  # UnicodeError is a ValueError
        # yarl's error is not kept: its frames hold the URL.
        return ConfigurationError(f"base_url is not a valid URL: {shown!r}")


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
    if type(path) is str:
        return _checked_path(path)
    return _checked_path.__wrapped__(path)


# A client calls a handful of paths, thousands of times: each is checked once.
@functools.lru_cache(maxsize=256)
def _checked_path(path: object) -> str:
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


_MOOR7: Final = os.path.dirname(os.path.abspath(__file__))


def _unchain(error: BaseException) -> None:
    """Cut every link of *error*'s chain to an exception, not moor7's, that was raised
    within moor7 (its traceback passes a frame of moor7's): its frames may hold the
    request's headers or the answer.

    moor7 raises its errors unchained already (see _transport.py); this catches what
    Python adds by itself. On 3.10, a coroutine that asyncio's pure-Python Task
    resumes with ``throw()`` (pytest-asyncio's runner, ``asyncio.tasks._PyTask``) sees
    that exception as still being handled after its ``except`` clause has ended, and
    every ``raise`` in the step chains it as ``__context__``. An exception of the
    caller's own, raised outside moor7 (the call made inside an ``except``), is kept.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while isinstance(current, Moor7Error) and id(current) not in seen:
        seen.add(id(current))
        for link in ("__cause__", "__context__"):
            linked = getattr(current, link)
            if linked is not None and not isinstance(linked, Moor7Error) and _from_moor7(linked):
                setattr(current, link, None)
        current = current.__cause__ or current.__context__


def _from_moor7(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(_MOOR7):
            return True
        tb = tb.tb_next
    return False


def _header_problem(headers: object) -> str | None:
    """What is wrong with the headers a signer returned, in words that show no value."""
    if not isinstance(headers, Mapping):
        return f"the signer returned {type(headers).__name__}, not a mapping of headers"
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            return f"the signer returned a header that is not str -> str: {name!r}"
        text = name + value
        # Three plain substring tests: a third of the cost of any() over a generator.
        if "\r" in text or "\n" in text or "\0" in text:
            return f"the signer returned a header with a line break: {name!r}"
    return None


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
            ``None`` for no limit. Default: ``MOOR7_TIMEOUT``, then 10.
        deadline: Seconds for a whole call: the wait for a quota slot, every attempt
            and every backoff; ``None`` (the default) for no limit. A call that cannot
            finish in time fails at once with :class:`~moor7.DeadlineExceeded`, without
            sending what could no longer finish and without taking a quota slot for
            nothing.
        max_retries: How many times a failed call is tried again: a query after
            connection errors, timeouts, 5xx and over-quota answers; an action only
            when the gateway certainly did not act (see :class:`CallKind`). Default:
            ``MOOR7_MAX_RETRIES``, then 3.
        backoff_initial: Seconds before the first retry; it doubles each retry (plus
            jitter) up to ``backoff_max``. A ``Retry-After`` from the gateway wins.
        backoff_max: The longest wait between two attempts.
        priority: How soon this client's calls take a free slot of the quota, among the
            calls waiting for one: ``"interactive"`` or ``"batch"``
            (:class:`~moor7.Priority`), for every call that does not say. Default:
            each endpoint's own (batch for paging and reports, else interactive).
        max_age: Seconds: a query is served an identical answer this client received
            at most that long ago, from memory, without a call of the quota (the
            result's ``from_cache`` and ``age`` say so); a call's own ``max_age=``
            overrides it. ``None`` (the default): every answer from the gateway.
        share_answers: Whether a query identical to one of this client waiting for
            its slot or in flight waits for that call's answer instead of sending its
            own (the default). ``False``: every call is sent.
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
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        deadline: float | None = None,
        max_retries: int | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | None = None,
        share_answers: bool = True,
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
        # So are the proxy's URL and the gateway's, which may hold a password (refused).
        proxy_url = None if proxy is None else Secret(proxy)
        gateway_url = Secret(_resolve(base_url, "MOOR7_BASE_URL") or DEFAULT_BASE_URL)
        del proxy, base_url
        if transport is None:
            transport = AiohttpTransport(
                session,
                max_response_size=max_response_size,
                proxy=revealed(proxy_url),
                verify=verify,
                max_connections=max_connections,
            )
        elif session is not None:
            msg = "pass session or transport, not both: the transport holds the session"
            raise ConfigurationError(msg)
        elif (
            proxy_url is not None
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
        self.base_url: str = _check_base_url(gateway_url)
        self.timeout: float | None = _default_timeout(timeout)
        self.deadline: float | None = _check_deadline(deadline)
        self.max_retries: int = _default_retries(max_retries)
        self._backoff_initial = seconds("backoff_initial", backoff_initial, zero_ok=True)
        self._backoff_max = seconds("backoff_max", backoff_max, zero_ok=True)
        self.priority: Priority | None = check_priority(priority)
        self.max_age: float | None = (
            None if max_age is None else seconds("max_age", max_age, zero_ok=True)
        )
        if not isinstance(share_answers, bool):
            msg = f"share_answers must be True or False, got {type(share_answers).__name__}"
            raise ConfigurationError(msg)
        self.share_answers: bool = share_answers
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
        # Queries on their way, by path, body and priority, for identical ones to wait
        # for; the answers kept for max_age=; and how many actions have finished, which
        # may have changed what a query reads (see _answers.py).
        self._shared: dict[tuple[str, bytes, Priority], SharedCall] = {}
        self._answers = AnswerCache()
        if self.max_age:
            self._answers.asked(self.max_age)
        self._actions_done = 0

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
        # Nothing of the answers is kept past the close (they may hold SIP passwords).
        self._answers.clear()
        await self.transport.aclose()

    # -- any endpoint ----------------------------------------------------------------

    @overload
    async def request(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        result_type: type[R],
        kind: CallKind | Literal["query", "action"] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> R: ...

    @overload
    async def request(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        result_type: None = None,
        kind: CallKind | Literal["query", "action"] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Any: ...

    async def request(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        result_type: type[R] | None = None,
        kind: CallKind | Literal["query", "action"] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> R | Any:
        """Call any V7 OpenAPI endpoint, with the same signing, quota, retries and errors.

        Without ``result_type``, the answer's ``data`` comes back as JSON decoded it
        (typed ``Any``). With it, ``data`` is read into that type by moor7's own rules,
        as every endpoint method's result is: the wire's names are the fields' in
        camelCase (``agent_number`` reads ``agentNumber``, ``id`` reads ``_id``),
        numbers sent as strings and empty strings are tolerated, times are read as China
        Standard Time, unknown keys are ignored (and kept in a ``raw`` field if the
        class has one), and a ``request_id`` field gets the call's request id.

        A query shares the answer of an identical one in flight, and may be served a
        kept answer (``max_age``), as the endpoint methods' are: a
        :class:`~moor7.ResultList` subclass or one of moor7's models then says so in
        ``from_cache`` and ``age``; plain JSON and your own classes cannot.

        Example:
            ::

                data = await client.request(
                    "/openapi/v1/call/query/agent", {"page": 1, "limit": 100}
                )

                @attrs.frozen
                class Member:
                    agent_number: str
                    name: str | None = None

                members = await client.request(
                    "/openapi/v1/call/query/agent", {"page": 1}, result_type=list[Member]
                )  # list[Member] to mypy and pyright too

        Args:
            path: The endpoint's path, starting with ``/``.
            body: The JSON object to send; ``None`` sends an empty body.
            result_type: What to read ``data`` into: an attrs class (with fields of
                ``str``, ``int``, ``float``, ``bool``, ``datetime``, enums as
                ``E | UnlistedInt | None``, and other such classes or lists of them), a
                :class:`~moor7.ResultList` subclass, a ``list[...]`` of a class, or
                one of moor7's own results (:class:`~moor7.AgentPage`). Checked before
                anything is sent.
            kind: ``"query"`` or ``"action"`` (:class:`CallKind`), which decides what
                is retried. Default: the kind moor7 declares for a path it knows, else
                ``"action"``: a path moor7 does not know might change state at 7moor,
                so it is sent at most once unless you say it is a query.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: Override the client's ``max_retries`` for this call.
            deadline: Seconds for the whole call, overriding the client's; ``None``
                for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` for an action, and for a
                query the priority moor7 declares for a path it knows (batch for the
                agents' pages and the reports), else ``"interactive"``.
            max_age: For a query: seconds, as the endpoint methods' ``max_age``. Default:
                the client's ``max_age``. An action's answer is never kept: passing one
                for an action raises :class:`~moor7.ConfigurationError`.

        Returns:
            The envelope's ``data``: as JSON decoded it, or read into ``result_type``.

        Raises:
            moor7.ConfigurationError: A bad argument, ``result_type`` included; nothing
                was sent.
            moor7.ResponseShapeError: ``data`` does not fit ``result_type``.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        sent_as = kind_for(path, kind)
        default = priority_for(path, sent_as) if isinstance(path, str) else Priority.INTERACTIVE
        read: Callable[[Envelope], Any] = _data
        if result_type is not None:
            check_result_type(result_type)
            wanted = result_type
            read = functools.partial(decode, result_type=wanted)
        return await self._send(
            path, sent_as, body, timeout, max_retries, deadline, read, priority, default, max_age
        )

    # -- the pipeline ----------------------------------------------------------------

    async def _perform(
        self,
        endpoint: Endpoint[R],
        body: Mapping[str, Any] | None,
        *,
        timeout: float | UseClientDefault | None,
        max_retries: int | None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> R:
        return await self._send(
            endpoint.path,
            endpoint.kind,
            body,
            timeout,
            max_retries,
            deadline,
            endpoint.decode,
            priority,
            endpoint.priority,
            max_age,
        )

    async def _send(
        self,
        path: str,
        kind: CallKind,
        body: Mapping[str, Any] | None,
        timeout: float | UseClientDefault | None,
        max_retries: int | None,
        deadline: float | UseClientDefault | None,
        decode: Callable[[Envelope], R],
        priority: object = None,
        default_priority: Priority = Priority.INTERACTIVE,
        max_age: object = USE_CLIENT_DEFAULT,
    ) -> R:
        """Send one call through the pipeline and *decode* its envelope.

        A query is first served from the answers kept for ``max_age``, then shares an
        identical query in flight (see ``_answers.py``); an action is always sent, by
        this caller's own task. Decoding is part of the call: an answer that does not
        fit says how many attempts it took, as every error of the pipeline does
        (``attempts``).
        """
        path = _check_path(path)
        payload = _encode_body(body)
        attempt_timeout = (
            self.timeout if isinstance(timeout, UseClientDefault) else _check_timeout(timeout)
        )
        retries = self.max_retries if max_retries is None else _check_retries(max_retries)
        budget = (
            self.deadline if isinstance(deadline, UseClientDefault) else _check_deadline(deadline)
        )
        # Per call, else per client, else the endpoint's.
        chosen = check_priority(priority) or self.priority or default_priority
        age_limit = check_max_age(max_age)
        if kind is CallKind.ACTION:
            if not isinstance(age_limit, UseClientDefault) and age_limit is not None:
                msg = (
                    "max_age is for queries: an action's answer is never kept (to keep "
                    "the answers of a path that only reads, pass kind='query')"
                )
                raise ConfigurationError(msg)
            age_limit = None
        elif isinstance(age_limit, UseClientDefault):
            age_limit = self.max_age
        if self._closed:
            msg = "this client is closed; create a new one"
            raise ClientClosedError(msg)
        # A shared call whose leader must ask again makes a fresh one, as it was made.
        new_call = functools.partial(
            Call,
            closed=lambda: self._closed,
            kind=kind,
            timeout=attempt_timeout,
            retries=retries,
            expires=None if budget is None else time.monotonic() + budget,
            backoff_initial=self._backoff_initial,
            backoff_max=self._backoff_max,
            account=self.appkey,
            priority=chosen,
        )
        call = new_call()
        request = OutgoingRequest("POST", self.base_url + path, path, payload)
        if kind is CallKind.ACTION:
            try:
                envelope = await self._exchange(request, call)
            finally:
                # Sent or not, answered or not, it may have changed what queries read:
                # no answer from before it is served after it.
                self._actions_done += 1
                self._answers.clear()
            return self._decoded(decode, envelope, call.attempts)
        if age_limit is not None:
            self._answers.asked(age_limit)
            kept = self._answers.get((path, payload), age_limit)
            if kept is not None:
                envelope, age = kept
                self._log_kept(path, age)
                return self._decoded(decode, envelope, 0, age)
        if self.share_answers:
            envelope, attempts = await self._send_shared(request, call, new_call)
            return self._decoded(decode, envelope, attempts)
        epoch = self._actions_done
        envelope = await self._exchange(request, call)
        self._keep(request, envelope, call, epoch)
        return self._decoded(decode, envelope, call.attempts)

    def _decoded(
        self,
        decode: Callable[[Envelope], R],
        envelope: Envelope,
        attempts: int,
        age: float | None = None,
    ) -> R:
        """*envelope* decoded for one caller: a result of its own, marked as kept
        (*age*) if it was."""
        try:
            result = decode(envelope)
        except Moor7Error as error:
            if isinstance(error, _RequestError):
                error.attempts = attempts
            _unchain(error)
            raise
        if age is not None:
            mark_from_cache(result, age)
        return result

    async def _exchange(self, request: OutgoingRequest, call: Call) -> Envelope:
        """Send *call* (attempts, retries, the limiter) and return its envelope; run by
        the caller's task, or by a shared call's own."""
        task = asyncio.current_task()
        if task is not None:
            self._calls.add(task)
        try:
            return await self._send_handling_auth(request, call)
        except Moor7Error as error:
            if isinstance(error, _RequestError):
                error.attempts = call.attempts
            _unchain(error)
            raise
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

    # -- shared answers (see _answers.py) --------------------------------------------

    async def _send_shared(
        self, request: OutgoingRequest, call: Call, new_call: Callable[[], Call]
    ) -> tuple[Envelope, int]:
        """The envelope of *call*, a query, and how many attempts it took: from an
        identical call on its way if there is one this caller may wait for, else from a
        shared call of its own that identical queries can wait for (*new_call* makes
        this caller's call anew, if it must ask again)."""
        expires = call.expires
        while True:
            shared = self._joinable(request, call.priority, expires)
            leader = shared is None
            if shared is None:
                shared = self._start_shared(request, call)
            outcome = await self._wait_shared(shared, request, expires, leader=leader)
            if outcome is not None:
                return outcome, shared.call.attempts
            # The call it waited for ended by a deadline not this caller's, or was
            # cancelled: this caller asks again, with its own deadline.
            if leader:  # its call was used: a fresh one, as it was made
                call = new_call()

    def _joinable(
        self, request: OutgoingRequest, priority: Priority, expires: float | None
    ) -> SharedCall | None:
        epoch = self._actions_done
        for rank in _JOINS[priority]:
            shared = self._shared.get((request.path, request.body, rank))
            if shared is not None and shared.joinable(expires, epoch):
                return shared
        return None

    def _start_shared(self, request: OutgoingRequest, call: Call) -> SharedCall:
        shared = SharedCall(call, self._actions_done)
        # Registered before its task exists: an eager task factory runs the task at
        # once, and identical calls must find it.
        self._shared[(request.path, request.body, call.priority)] = shared
        shared.task = asyncio.get_running_loop().create_task(self._exchange_shared(request, shared))
        return shared

    async def _exchange_shared(self, request: OutgoingRequest, shared: SharedCall) -> None:
        """The shared call's task: send it, keep its answer for ``max_age``, and wake
        its callers. Its outcome is theirs to read (``envelope``, ``error``): the task
        itself ends without one, so no exception of it goes unread."""
        try:
            shared.envelope = await self._exchange(request, shared.call)
        except Exception as exc:  # every caller gets a copy
            shared.error = exc
        finally:
            key = (request.path, request.body, shared.call.priority)
            if self._shared.get(key) is shared:
                del self._shared[key]
            if shared.envelope is not None:
                self._keep(request, shared.envelope, shared.call, shared.epoch)
            shared.settle()

    async def _wait_shared(
        self,
        shared: SharedCall,
        request: OutgoingRequest,
        expires: float | None,
        *,
        leader: bool,
    ) -> Envelope | None:
        """Wait for *shared*'s outcome, within this caller's deadline: its envelope;
        ``None`` if this caller must send its own (the call ended by a deadline that is
        not this caller's, or was cancelled); or this caller's own copy of its error."""
        started = time.monotonic()
        # Settled already: an eager task factory (Python 3.12+) ran the call to its end
        # as it was made.
        ended = shared.settled or await self._outcome(shared, expires, leader=leader)
        if not ended:
            why = "the identical call it waits for did not finish before the deadline"
            late = DeadlineExceeded(
                f"the call's deadline cannot be met: {why}",
                path=request.path,
                sent=shared.call.sent,
            )
            late.attempts = shared.call.attempts
            raise late
        failure = shared.error
        if shared.envelope is None:
            if failure is None:  # cancelled: by the event loop's end, or the client's close
                if self._closed:
                    msg = "the client was closed while the call was waiting"
                    raise ClientClosedError(msg)
                return None
            if not leader and isinstance(failure, DeadlineExceeded):
                return None  # the leader's deadline, not this caller's
        if not leader:
            self._log_shared(request.path, time.monotonic() - started, failure)
        if failure is not None:
            raise copied_error(failure)
        return shared.envelope

    @staticmethod
    async def _outcome(shared: SharedCall, expires: float | None, *, leader: bool) -> bool:
        """Wait until *shared* ends (``True``) or this caller's deadline comes
        (``False``); the last caller to leave cancels it."""
        waiter = shared.waiter()
        timer = None
        if not leader and expires is not None:
            # The shared call keeps the leader's deadline itself, failing at once if it
            # cannot be met, as an unshared call does; a later caller keeps its own.
            timer = asyncio.get_running_loop().call_at(
                _loop_time(expires), SharedCall.time_out, waiter
            )
        try:
            return await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if shared.leave(waiter) and not shared.settled:
                # Nobody waits for it any more: cancelled before it was sent, it takes
                # no slot; in flight, it ends as any cancelled call (its slot released).
                task = shared.task
                assert task is not None  # set by _start_shared
                task.cancel()
                await asyncio.wait((task,))

    def _keep(self, request: OutgoingRequest, envelope: Envelope, call: Call, epoch: int) -> None:
        """Keep a query's answer for ``max_age``, unless an action of this client
        finished since it was sent (it may predate the change) or the client closed."""
        if epoch == self._actions_done and not self._closed:
            self._answers.put((request.path, request.body), envelope, call.answer_bytes)

    def _log_kept(self, path: str, age: float) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s answered from the cache, %.1fs old",
                path,
                age,
                extra={
                    "moor7_event": "cache_hit",
                    "moor7_path": path,
                    "moor7_age": age,
                    "moor7_account": self.appkey,
                },
            )

    def _log_shared(self, path: str, waited: float, failure: BaseException | None) -> None:
        if log.isEnabledFor(logging.DEBUG):
            outcome = "its answer" if failure is None else type(failure).__name__
            log.debug(
                "%s shared the outcome of an identical call (%s) after %.3fs",
                path,
                outcome,
                waited,
                extra={
                    "moor7_event": "shared",
                    "moor7_path": path,
                    "moor7_wait": waited,
                    "moor7_error": None if failure is None else type(failure).__name__,
                    "moor7_account": self.appkey,
                },
            )

    async def _send_handling_auth(self, request: OutgoingRequest, call: Call) -> Envelope:
        try:
            return await self._send_handling_retries(request, call)
        except AuthenticationError as exc:
            if not worth_one_more_attempt(exc) or self._closed:
                raise
            last = OutgoingRequest(
                request.method, request.url, request.path, request.body, call.attempts
            )
            call.one_more_attempt(exc, last)
        attempt = OutgoingRequest(
            request.method, request.url, request.path, request.body, call.attempts + 1
        )
        return await self._send_handling_retries(attempt, call)

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
            # A mapping that never shows its m7-sign (SignedHeaders): until the gateway
            # has read it, the signature authorises any call of the account, and this
            # frame, the transport's and the caller's are what a crash reporter records.
            headers = await self._sign(request)
            signed_at = headers.get("m7-timestamp", "")
            started = time.monotonic()
            if task is not None:
                # From here until the answer is handled (the slot released, the account
                # paused), aclose() lets the call finish or fail on its own: a close
                # must never turn an answered action into "closed while waiting".
                self._in_flight.add(task)
            call.attempts += 1
            try:
                response = await self.transport.send(request, headers, timeout)
            except ConnectError as exc:
                self._log(request, started, None, None, exc)
                raise  # nothing was sent: call.sent stays as it was
            except RequestTimeout as exc:
                call.sent = True
                self._log(request, started, None, None, exc)
                call.raise_if_past_deadline(exc, request)
                raise
            except Exception as exc:
                call.sent = True
                self._log(request, started, None, None, exc)
                raise
            call.sent = True
        try:
            envelope = self._parse(request, response, signed_at)
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
        call.answer_bytes = len(response.body)
        return envelope

    async def _wait_for_slot(
        self, stack: contextlib.AsyncExitStack, request: OutgoingRequest, call: Call
    ) -> None:
        """Enter the limiter for this attempt, within the call's deadline."""
        options: dict[str, Any] = {}
        accepted = self._acquire_options
        if "priority" in accepted:
            options["priority"] = call.priority
        if "timeout" in accepted:
            # The longest this attempt can hold its slot (what a RedisLimiter holds the
            # slot of a process that died mid-call for): its timeout, cut by the deadline.
            bound = call.timeout
            if call.expires is not None:
                left = max(0.001, call.expires - time.monotonic())
                bound = left if bound is None else min(bound, left)
            options["timeout"] = bound
        if call.expires is not None and "deadline" in accepted:
            # The limiter knows its wait: it fails at once, saying why, if it is too long.
            options["deadline"] = call.expires
        slot = self.limiter.acquire(self.appkey, **options)
        if call.expires is None:
            await stack.enter_async_context(slot)
            return
        remaining = call.expires - time.monotonic()
        if remaining <= 0:
            raise call.deadline_error(request, "no quota slot frees before the deadline")
        expected = getattr(self.limiter, "expected_wait", None)
        if "deadline" not in accepted and expected is not None:
            try:
                wait = expected(self.appkey)
                if inspect.isawaitable(wait):
                    wait = await asyncio.wait_for(wait, remaining)
            except asyncio.TimeoutError:
                wait = 0.0  # it cannot say in time: the wait itself will tell
            if wait >= call.expires - time.monotonic():
                # The slot frees too late: fail now, not when the deadline has passed.
                why = f"no quota slot frees before the deadline (the next in {wait:.1f}s)"
                raise call.deadline_error(request, why)
        try:
            # Cancelled at the deadline, the wait leaves the queue and takes no slot.
            remaining = call.expires - time.monotonic()
            await asyncio.wait_for(stack.enter_async_context(slot), remaining)
        except asyncio.TimeoutError:
            raise call.deadline_error(request, "no quota slot freed before the deadline") from None
        except DeadlineExceeded as exc:
            # The limiter's own, raised at once: this call's context added.
            exc.path, exc.sent = request.path, call.sent
            raise

    def _parse(self, request: OutgoingRequest, response: HttpResponse, signed_at: str) -> Envelope:
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
            if exc.clock_skew is not None and signed_at.isascii() and signed_at.isdigit():
                exc.clock_skew = clock_skew_seconds(response.headers, now=float(signed_at))
            raise
        return envelope

    async def _sign(self, request: OutgoingRequest) -> SignedHeaders:
        """The attempt's headers: the signer's, checked, over the client's own."""
        signer = self.signer
        if (
            type(signer) is HmacSigner
            and signer._nonce is _random_nonce
            and signer.appkey is self.appkey
        ):
            # moor7's own: four plain headers of its own making (the appkey was checked
            # when the client was made), nothing to check. An injected nonce, an appkey
            # set on the signer since, or a subclass: checked below.
            return SignedHeaders({**self._base_headers, **signer.sign(request)})
        signed = signer.sign(request)
        if inspect.isawaitable(signed):
            signed = await signed
        problem = _header_problem(signed)
        if problem is None:
            return SignedHeaders({**self._base_headers, **signed})
        # Raised with the headers out of this frame: a signature that was never sent is
        # a live credential, and a crash reporter records this frame's locals.
        del signed
        raise ConfigurationError(problem)

    def _log(
        self,
        request: OutgoingRequest,
        started: float,
        status: int | None,
        request_id: str | None = None,
        error: Exception | None = None,
    ) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        elapsed = time.monotonic() - started
        error_name = None if error is None else type(error).__name__
        # No answer: the outcome is the failure's name ("-> RequestTimeout").
        outcome = error_name if status is None else status
        log.debug(
            "POST %s -> %s request_id=%s attempt=%d elapsed=%.3fs%s",
            request.path,
            outcome,
            request_id,
            request.attempt,
            elapsed,
            f" error={error_name}" if status is not None and error is not None else "",
            # The flat moor7_* extras of the log contract (docs/guides/logging.md).
            extra={
                "moor7_event": "request",
                "moor7_path": request.path,
                "moor7_attempt": request.attempt,
                "moor7_status": status,
                "moor7_elapsed": elapsed,
                "moor7_request_id": request_id,
                "moor7_account": self.appkey,
                "moor7_error": error_name,
            },
        )


def _data(envelope: Envelope) -> Any:
    return envelope.data


def _loop_time(monotonic: float) -> float:
    """A ``time.monotonic()`` instant in the running loop's clock (its own, in tests)."""
    loop = asyncio.get_running_loop()
    return loop.time() + (monotonic - time.monotonic())
