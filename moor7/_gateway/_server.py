"""A fake 7moor V7 gateway: a real HTTP server on 127.0.0.1 that behaves as documented.

It checks the ``m7-*`` signature headers, rejects stale timestamps and replayed nonces,
enforces the per-account quota with a strict rolling window, answers with 7moor's
envelope, records every request, and can be told to fail in the ways a real network
and a real gateway fail. Public through :mod:`moor7.testing`.

A request goes through these steps, in this order::

    method is POST?          no -> 405
    authenticated?           no -> 401   (nothing below counts or is consumed)
    a scripted answer queued -> that answer (the quota is skipped)
    known path?              no -> 404
    body empty or a JSON object? no -> 400
    under the quota?         no -> 429 + Retry-After
    a static answer set?     yes -> 200 with that data
    the family's handler     refuses -> its error, e.g. 400 (the call was charged)
    -> 200 with the handler's data

The server knows no endpoint: each API family is a module of this package with a
backend (its state and sample data) and its routes (see :mod:`._routes`).
"""

from __future__ import annotations

import asyncio
import copy
import email.utils
import enum
import heapq
import hmac
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web

from moor7._reprs import tolerant_repr
from moor7._samples import DEMO_APPKEY, DEMO_SECRET_KEY
from moor7._signing import HmacSigner

from ._routes import NO_DATA, GatewayError, Route, RouteRequest, plain_json
from .agents import AgentsBackend
from .calls import CallsBackend
from .dialout import DialoutBackend
from .numbers import (
    GROUPS_PATH,
    NUMBER_POOL_PATH,
    NumbersBackend,
    checked_groups,
    checked_number_pool,
)
from .reports import ReportsBackend

__all__ = ["FakeGateway", "Fault", "ReceivedCall"]

# The gateway rejects timestamps more than 5 minutes off and remembers sign+nonce for 5
# minutes (页面「新平台鉴权规则」).
_AUTH_WINDOW = 300.0
_AUTH_HEADERS = ("m7-appkey", "m7-timestamp", "m7-nonce", "m7-sign")
_TEN_DIGITS = re.compile(r"[0-9]{10}")
_JSON_TYPE = "application/json; charset=utf-8"
_DEFAULT_SLOW_DELAY = 5.0
_NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class Fault(enum.Enum):
    """A failure :meth:`FakeGateway.fail_next` can inject.

    Faults are applied only to requests that passed authentication, so the request's
    nonce is consumed, as it would be by the real gateway. The quota is neither checked
    nor charged for a faulted request.

    Attributes:
        SERVER_ERROR: HTTP 500 with an envelope, code ``"500"``.
        BAD_GATEWAY_HTML: HTTP 502 with an nginx HTML error page (``text/html``).
        MALFORMED_JSON: HTTP 200, ``application/json``, the answer cut in half.
        NOT_ENVELOPE: HTTP 200, valid JSON that is not the envelope (``["unexpected"]``).
        EMPTY_BODY: HTTP 200 with an empty body.
        SLOW: Wait ``delay`` seconds (5 if none was given), then answer normally.
        DROP: Close the connection without answering.
        RATE_LIMIT: The over-quota answer: HTTP 429, ``Retry-After: 1``, code ``"429"``.
        AUTH_REJECT: HTTP 401, code ``"401"``, message ``"签名错误 invalid m7-sign"``.
    """

    SERVER_ERROR = "server_error"
    BAD_GATEWAY_HTML = "bad_gateway_html"
    MALFORMED_JSON = "malformed_json"
    NOT_ENVELOPE = "not_envelope"
    EMPTY_BODY = "empty_body"
    SLOW = "slow"
    DROP = "drop"
    RATE_LIMIT = "rate_limit"
    AUTH_REJECT = "auth_reject"


@tolerant_repr
@attrs.frozen
class ReceivedCall:
    """One request the gateway received, and how it was answered.

    Attributes:
        path: The URL path, e.g. ``/openapi/v1/call/query/number``.
        method: The HTTP method.
        headers: The request headers, names lower-cased (HTTP names are
            case-insensitive; the real gateway lower-cases them too).
        body: The raw request body.
        account: The authenticated appkey, or ``None`` if authentication failed or
            was never attempted (a non-POST request).
        status: The HTTP status answered, or ``None`` if the connection was dropped
            (:attr:`Fault.DROP`, or the gateway stopped while the request waited).
        request_id: ``requestInfo.requestId`` of the answer, or ``None`` if the answer
            carried no envelope.
        received_at: When the request arrived, in :func:`time.monotonic` seconds.
    """

    path: str
    method: str
    headers: dict[str, str]
    body: bytes
    account: str | None
    status: int | None
    request_id: str | None
    received_at: float


@tolerant_repr
@attrs.define(eq=False)  # compared by identity: the queue removes this very entry
class _Scripted:
    """A queued answer: either a fault or a raw response, for the next matching request."""

    remaining: int
    path: str | None
    delay: float
    fault: Fault | None = None
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = attrs.Factory(dict)


@tolerant_repr
@attrs.define
class _Answer:
    """What the handler decided to send back."""

    status: int
    body: bytes
    content_type: str = _JSON_TYPE
    headers: dict[str, str] = attrs.Factory(dict)
    request_id: str | None = None


@tolerant_repr
@attrs.define
class _Exchange:
    """What the envelope's ``requestInfo`` needs to know about the request in hand."""

    path: str
    headers: dict[str, str]
    raw_body: bytes
    started_ms: int
    request_id: str = attrs.Factory(lambda: uuid.uuid4().hex)
    account: str | None = None


class _Unauthorized(Exception):
    """Authentication failed; the message is the envelope's ``message``."""


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def client_host(host: str) -> str:
    """The host a client on this machine reaches a server listening on *host* by.

    A wildcard address is where a server listens, never where a client connects
    (``http://0.0.0.0:8077`` fails on Windows and macOS): it means every interface,
    loopback included, so clients here use the loopback of the same family.
    """
    if host in ("", "0.0.0.0"):  # noqa: S104 - recognising the wildcard, not binding it
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _lowercase_headers(request: web.BaseRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        # A repeated header is folded into one value, as Node.js (the real gateway) does.
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class FakeGateway:
    """A local HTTP server that behaves like the 7moor V7 OpenAPI gateway.

    Use it as an async context manager on the running event loop, or as a plain
    context manager, which runs it on a private event loop in a background thread (for
    synchronous tests). Everything you can touch (data, scripted faults, recorded calls)
    is safe to use from any thread.

    It serves every endpoint of the V7 docs, each as its page describes it: filters,
    paging and range checks, agents put online, dial-out tasks created then updated.
    A request the docs' rules refuse is answered with HTTP 400 and an error envelope
    (code ``"400"``) whose message names the field. The data comes from the docs'
    examples unless you pass your own (each argument is copied).

    Args:
        accounts: The accounts it knows, appkey to secret key. Defaults to the docs'
            example account, :data:`~moor7.testing.DEMO_APPKEY`.
        number_pool: The ``data`` of 获取号码池 ``/openapi/v1/call/query/number``.
            Defaults to :data:`~moor7.testing.SAMPLE_NUMBER_POOL`.
        groups: The ``data`` of 查询外显号组 ``/openapi/v1/call/query/group``. Defaults
            to :data:`~moor7.testing.SAMPLE_GROUPS`.
        sip_numbers: The records 获取SIP号列表 ``/openapi/v1/call/sip/list`` filters.
            Defaults to :data:`~moor7.testing.SAMPLE_SIP_NUMBERS`.
        agents: The agent records 获取座席信息 ``/openapi/v1/call/query/agent`` filters
            and pages; also the agents the call and dial-out endpoints accept (matched
            by ``agentNumber``). Defaults to :data:`~moor7.testing.SAMPLE_AGENTS`.
        queues: The skill groups of 查询账户下技能组列表 ``/openapi/v1/base/queue/list``.
            Defaults to :data:`~moor7.testing.SAMPLE_QUEUES`.
        answer_rates: The statistics of 外呼号码接通率报表: display number to
            ``{"sum": calls, "answerSum": answered}``. Defaults to
            :data:`~moor7.testing.SAMPLE_ANSWER_RATES`.
        im_session_report: The ``data`` of 会话报表 ``/openapi/im-report/session/time``.
            Defaults to :data:`~moor7.testing.SAMPLE_IM_SESSION_REPORT`.
        quota: Calls accepted per account in any rolling ``quota_period``;
            ``None`` for no limit. The real gateway's is 20 per minute.
        quota_period: The quota window in seconds (scale it down in tests).
        clock: The gateway's wall clock in Unix seconds, used to judge
            ``m7-timestamp`` and to expire remembered nonces.
        host: The interface to listen on.
        port: The port to listen on; 0 picks a free one (see :attr:`url`).

    Every data argument is checked when it is given (here, or assigned to
    :attr:`number_pool` or :attr:`groups`) against the model the client reads it into,
    by the client's own decoding: data of the wrong shape fails at once, with a message
    naming the argument and the place, never as a ``ResponseShapeError`` at every call.
    To serve an answer of the wrong shape on purpose, use :meth:`set_response`.

    Raises:
        TypeError: A data argument is not of its JSON type at the top (*number_pool*,
            *im_session_report* and each of *answer_rates*' values a mapping; *groups*,
            *sip_numbers*, *agents*, *queues* a sequence of mappings), or cannot be sent
            as JSON: the wrong type, as Python's own functions raise.
        ValueError: A data argument does not fit its model (a field missing or of the
            wrong type: ``number_pool does not fit ... $.display_numbers[0].number:
            required field missing``), *answer_rates* holds something other than counts
            (or more answered calls than calls), or *quota* or *quota_period* is out of
            range. ``moor7 gateway --data`` says either as exit status 2.

    Example:
        ::

            async with FakeGateway(quota=3, quota_period=0.5) as gw:
                gw.fail_next(Fault.SERVER_ERROR)
                ...  # point the client at gw.url
                assert [c.status for c in gw.calls] == [500, 200]
    """

    def __init__(
        self,
        *,
        accounts: Mapping[str, str] | None = None,
        number_pool: Mapping[str, Any] | None = None,
        groups: Sequence[Mapping[str, Any]] | None = None,
        quota: int | None = 20,
        quota_period: float = 60.0,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        sip_numbers: Sequence[Mapping[str, Any]] | None = None,
        agents: Sequence[Mapping[str, Any]] | None = None,
        queues: Sequence[Mapping[str, Any]] | None = None,
        answer_rates: Mapping[str, Mapping[str, Any]] | None = None,
        im_session_report: Mapping[str, Any] | None = None,
    ) -> None:
        if quota is not None and quota < 1:
            raise ValueError("quota must be at least 1, or None for no limit")
        if quota_period <= 0:
            raise ValueError("quota_period must be positive")
        accounts = {DEMO_APPKEY: DEMO_SECRET_KEY} if accounts is None else accounts
        self._signers = {appkey: HmacSigner(appkey, key) for appkey, key in accounts.items()}
        self._quota = quota
        self._quota_period = quota_period
        self._clock = clock
        self._host = host
        self._port = port

        # Guards everything below: in thread mode the user's thread and the server's
        # thread both use it. Never held across an await.
        self._lock = threading.Lock()
        # One backend per API family, each with its own state (see the family modules).
        self._numbers = NumbersBackend(
            number_pool=number_pool, groups=groups, sip_numbers=sip_numbers
        )
        self._agents = AgentsBackend(agents=agents, queues=queues)
        self._call_control = CallsBackend(self._agents)
        self._dialout = DialoutBackend(self._agents)
        self._reports = ReportsBackend(
            answer_rates=answer_rates, im_session_report=im_session_report
        )
        families = (self._numbers, self._agents, self._call_control, self._dialout, self._reports)
        self._routes: dict[str, Route] = {
            route.path: route for family in families for route in family.routes()
        }
        # Static answers of set_response(): path -> data, served instead of any route.
        self._responses: dict[str, Any] = {}
        self._scripted: deque[_Scripted] = deque()
        self._calls: list[ReceivedCall] = []
        # sign+nonce -> when it may be forgotten; the heap orders those times for pruning.
        self._seen: dict[tuple[str, str], float] = {}
        self._seen_expiry: list[tuple[float, tuple[str, str]]] = []
        # Per account: accepted call times inside the current quota window (pruned) ...
        self._windows: dict[str, deque[float]] = {}
        # ... and every accepted call time, for max_calls_in_window().
        self._accepted: dict[str, list[float]] = {}

        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # -- the data it serves ------------------------------------------------------------

    @property
    def number_pool(self) -> dict[str, Any]:
        """The ``data`` served for ``/openapi/v1/call/query/number``.

        Reading returns a copy: assign a new value to change what is served (this also
        drops a :meth:`set_response` answer for that path).
        """
        with self._lock:
            served = self._responses.get(NUMBER_POOL_PATH, self._numbers.number_pool)
            return copy.deepcopy(served)

    @number_pool.setter
    def number_pool(self, value: Mapping[str, Any]) -> None:
        pool = checked_number_pool(value)
        with self._lock:
            self._responses.pop(NUMBER_POOL_PATH, None)
            self._numbers.number_pool = pool

    @property
    def groups(self) -> list[dict[str, Any]]:
        """The ``data`` served for ``/openapi/v1/call/query/group``.

        Reading returns a copy: assign a new value to change what is served (this also
        drops a :meth:`set_response` answer for that path).
        """
        with self._lock:
            served = self._responses.get(GROUPS_PATH, self._numbers.groups)
            return copy.deepcopy(served)

    @groups.setter
    def groups(self, value: Sequence[Mapping[str, Any]]) -> None:
        groups = checked_groups(value)
        with self._lock:
            self._responses.pop(GROUPS_PATH, None)
            self._numbers.groups = groups

    @property
    def agent_states(self) -> dict[str, dict[str, str]]:
        """The agents put online by 座席上线 ``/openapi/v1/call/online``, in a copy.

        Agent number to ``{"loginType": "PSTN" | "WEBRTC" | "SIP", "status": "0" | "1"}``
        (``"0"`` idle, ``"1"`` busy), as the last request for that agent gave them.
        """
        with self._lock:
            return copy.deepcopy(self._call_control.agent_states)

    @property
    def dialout_tasks(self) -> dict[str, dict[str, Any]]:
        """The preview dial-out tasks created through the API, in a copy.

        Task id (24 hex digits) to ``{"taskName", "description", "agentNumber",
        "agentNumberList", "queueNumberList"}``, in creation order. The docs' create
        answer carries no id, so this is how a test learns the id an update needs.
        """
        with self._lock:
            return copy.deepcopy(self._dialout.tasks)

    def set_response(self, path: str, data: Any) -> None:
        """Serve *data* as the envelope's ``data`` for *path*, whatever the request.

        Any path can be made known this way, e.g. an endpoint the docs do not show, to
        exercise the client's generic ``request()``; for a documented endpoint it
        replaces the route's behaviour (no checks, no state) with this static answer.
        Unknown paths answer 404.

        Args:
            path: The URL path, starting with ``/``.
            data: Any JSON value (mappings and sequences are accepted). Copied.

        Raises:
            ValueError: *path* does not start with ``/``.
            TypeError: *data* cannot be serialized to JSON.
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        data = plain_json(data)
        with self._lock:
            self._responses[path] = data

    # -- scripting failures ------------------------------------------------------------

    def fail_next(
        self,
        fault: Fault,
        *,
        times: int = 1,
        path: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make the next authenticated request(s) fail with *fault*.

        Scripted answers (faults and :meth:`respond_next`) wait in one FIFO queue; each
        authenticated request takes the first one that matches its path.

        Args:
            fault: What goes wrong.
            times: How many requests it applies to.
            path: Only requests to this path; ``None`` for any path.
            delay: Seconds to wait before answering. :attr:`Fault.SLOW` waits 5 seconds
                if this is 0. If the gateway stops meanwhile, the connection is dropped.
        """
        if not isinstance(fault, Fault):
            raise TypeError(f"fault must be a Fault, not {type(fault).__name__}")
        if fault is Fault.SLOW and delay == 0:
            delay = _DEFAULT_SLOW_DELAY
        self._enqueue(_Scripted(remaining=times, path=path, delay=delay, fault=fault))

    def respond_next(
        self,
        status: int,
        body: bytes | str | Mapping[str, Any] | list[Any],
        *,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        path: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next authenticated request(s) with exactly this response.

        Handy for the rejection formats the docs leave open, e.g. an HTTP 200 whose
        envelope says ``"code": "403"``. Shares the queue of :meth:`fail_next`.

        Args:
            status: The HTTP status.
            body: Bytes are sent as is, a string UTF-8 encoded, a mapping or list as
                JSON. The content type is ``application/json; charset=utf-8`` unless
                *headers* sets another.
            headers: Extra response headers.
            times: How many requests it applies to.
            path: Only requests to this path; ``None`` for any path.
            delay: Seconds to wait before answering.
        """
        if not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status (100-599), not {status}")
        if isinstance(body, str):
            raw = body.encode()
        elif isinstance(body, (bytes, bytearray)):
            raw = bytes(body)
        else:
            raw = _dumps(plain_json(body))
        extra = {"Content-Type": _JSON_TYPE, **(headers or {})}
        scripted = _Scripted(
            remaining=times, path=path, delay=delay, status=status, body=raw, headers=extra
        )
        self._enqueue(scripted)

    def _enqueue(self, scripted: _Scripted) -> None:
        if scripted.remaining < 1:
            raise ValueError("times must be at least 1")
        if scripted.delay < 0:
            raise ValueError("delay must not be negative")
        with self._lock:
            self._scripted.append(scripted)

    def _take_scripted(self, path: str) -> _Scripted | None:
        with self._lock:
            for scripted in self._scripted:
                if scripted.path in (None, path):
                    scripted.remaining -= 1
                    if scripted.remaining == 0:
                        self._scripted.remove(scripted)
                    return scripted
        return None

    # -- what it recorded --------------------------------------------------------------

    @property
    def calls(self) -> list[ReceivedCall]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        """Forget the recorded calls and the history :meth:`max_calls_in_window` reads.

        The quota itself is not reset: calls accepted in the current window still count.
        """
        with self._lock:
            self._calls.clear()
            self._accepted.clear()

    def max_calls_in_window(self, account: str, period: float | None = None) -> int:
        """The most calls of *account* accepted within any rolling window of *period*.

        A window is half-open: calls exactly *period* apart are not in the same window,
        which is also how the quota counts.

        Args:
            account: The appkey.
            period: The window length in seconds; defaults to ``quota_period``.
        """
        period = self._quota_period if period is None else period
        with self._lock:
            times = sorted(self._accepted.get(account, ()))
        most = first = 0
        for last, at in enumerate(times):
            while times[first] <= at - period:
                first += 1
            most = max(most, last - first + 1)
        return most

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to point a client at, e.g. ``http://127.0.0.1:54321``.

        Listening on every interface (``host="0.0.0.0"`` or ``"::"``), it is the
        loopback's: the wildcard address is no address to connect to.

        Raises:
            RuntimeError: The gateway is not running.
        """
        if self._bound_port is None:
            raise RuntimeError(
                "FakeGateway is not running: use `async with FakeGateway() as gw:`, "
                "`with FakeGateway() as gw:` or `await gw.start()` first"
            )
        return f"http://{client_host(self._host)}:{self._bound_port}"

    async def start(self) -> None:
        """Start serving on the running event loop.

        Raises:
            RuntimeError: It is already running.
        """
        if self._runner is not None:
            raise RuntimeError("FakeGateway is already running")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # access_log=None keeps test output quiet; the short shutdown_timeout bounds how
        # long stop() waits for a handler that somehow ignores the stopping event.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._stopping = asyncio.Event()
        self._runner = runner
        self._bound_port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop serving; requests still waiting (slow faults) are dropped.

        Does nothing if it is not running.
        """
        runner, self._runner = self._runner, None
        if runner is None:
            return
        assert self._stopping is not None
        # Wake delayed requests first, so cleanup does not wait for them.
        self._stopping.set()
        try:
            await runner.cleanup()
        finally:
            self._bound_port = None

    async def __aenter__(self) -> FakeGateway:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __enter__(self) -> FakeGateway:
        if self._runner is not None or self._thread is not None:
            raise RuntimeError("FakeGateway is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=_run_loop, args=(loop,), name="moor7-fake-gateway", daemon=True
        )
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result()
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            raise
        self._thread, self._thread_loop = thread, loop
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        thread, loop = self._thread, self._thread_loop
        if thread is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            self._thread = self._thread_loop = None

    # -- handling a request ------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received_at = time.monotonic()
        exchange = _Exchange(
            path=request.path,
            headers=_lowercase_headers(request),
            raw_body=await request.read(),
            started_ms=self._now_ms(),
        )
        answer: _Answer | None = None
        try:
            answer = await self._answer(request.method, exchange)
        finally:
            # Recorded even if the handler is cancelled: that request was dropped.
            call = ReceivedCall(
                path=exchange.path,
                method=request.method,
                headers=exchange.headers,
                body=exchange.raw_body,
                account=exchange.account,
                status=None if answer is None else answer.status,
                request_id=None if answer is None else answer.request_id,
                received_at=received_at,
            )
            self._record(call)
        if answer is None:
            return _drop(request)
        headers = {
            "Content-Type": answer.content_type,
            # The gateway's own clock, as its timestamp check uses: a client learns the
            # gateway's time from this header (aiohttp would write the host's).
            "Date": email.utils.formatdate(self._clock(), usegmt=True),
            **answer.headers,
        }
        return web.Response(status=answer.status, body=answer.body, headers=headers)

    def _record(self, call: ReceivedCall) -> None:
        """Keep *call* for :attr:`calls`.

        The standalone server (``moor7 gateway``) logs each call instead: it may run for
        days, and nothing reads what it would keep.
        """
        with self._lock:
            self._calls.append(call)

    async def _answer(self, method: str, exchange: _Exchange) -> _Answer | None:
        if method != "POST":
            return self._error(
                exchange, 405, "请求方法不支持 method not allowed, use POST", {"Allow": "POST"}
            )
        try:
            exchange.account = self._authenticate(exchange.headers)
        except _Unauthorized as exc:
            return self._error(exchange, 401, str(exc))
        scripted = self._take_scripted(exchange.path)
        if scripted is not None:
            return await self._play(scripted, exchange)
        return self._serve(exchange, charge_quota=True)

    def _authenticate(self, headers: Mapping[str, str]) -> str:
        """Return the authenticated appkey, or raise :class:`_Unauthorized`."""
        for name in _AUTH_HEADERS:
            if not headers.get(name):
                raise _Unauthorized(f"缺少鉴权头 missing {name} header")
        appkey, timestamp = headers["m7-appkey"], headers["m7-timestamp"]
        nonce, sign = headers["m7-nonce"], headers["m7-sign"]
        signer = self._signers.get(appkey)
        if signer is None:
            raise _Unauthorized("appkey不存在 unknown appkey")
        if not _TEN_DIGITS.fullmatch(timestamp):
            raise _Unauthorized("时间戳格式错误 m7-timestamp must be 10-digit Unix seconds")
        if not hmac.compare_digest(signer.signature(timestamp, nonce), sign):
            raise _Unauthorized("签名错误 invalid m7-sign")
        now = self._clock()
        if abs(int(timestamp) - now) > _AUTH_WINDOW:
            raise _Unauthorized("时间戳超出范围 timestamp out of range")
        with self._lock:
            self._forget_old_nonces(now)
            key = (sign, nonce)
            if key in self._seen:
                raise _Unauthorized("nonce重复 replayed nonce")
            # Remembered for 5 minutes, and at least until the timestamp itself is stale:
            # a future-dated request must not become replayable while still in range.
            expiry = max(now, int(timestamp)) + _AUTH_WINDOW
            self._seen[key] = expiry
            heapq.heappush(self._seen_expiry, (expiry, key))
        return appkey

    def _forget_old_nonces(self, now: float) -> None:
        # Called with the lock held; keeps the memory bounded by 5 minutes of traffic.
        while self._seen_expiry and self._seen_expiry[0][0] < now:
            _, key = heapq.heappop(self._seen_expiry)
            del self._seen[key]

    async def _play(self, scripted: _Scripted, exchange: _Exchange) -> _Answer | None:
        if scripted.delay and not await self._wait(scripted.delay):
            return None  # stopping: drop it rather than hold up shutdown
        fault = scripted.fault
        if fault is None:
            return _Answer(status=scripted.status, body=scripted.body, headers=scripted.headers)
        if fault is Fault.SLOW:
            return self._serve(exchange, charge_quota=False)
        if fault is Fault.DROP:
            return None
        if fault is Fault.SERVER_ERROR:
            return self._error(exchange, 500, "服务器内部错误 internal server error")
        if fault is Fault.BAD_GATEWAY_HTML:
            return _Answer(status=502, body=_NGINX_502.encode(), content_type="text/html")
        if fault is Fault.MALFORMED_JSON:
            text = self._serve(exchange, charge_quota=False).body.decode()
            # Cut the text, not the bytes: the answer stays valid UTF-8, only the JSON breaks.
            return _Answer(status=200, body=text[: len(text) // 2].encode())
        if fault is Fault.NOT_ENVELOPE:
            return _Answer(status=200, body=_dumps(["unexpected"]))
        if fault is Fault.EMPTY_BODY:
            return _Answer(status=200, body=b"")
        if fault is Fault.RATE_LIMIT:
            return self._rate_limited(exchange, retry_after=1)
        assert fault is Fault.AUTH_REJECT
        return self._error(exchange, 401, "签名错误 invalid m7-sign")

    async def _wait(self, delay: float) -> bool:
        """Sleep *delay* seconds; return False if the gateway started stopping meanwhile."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except asyncio.TimeoutError:
            return True
        return False

    def _serve(self, exchange: _Exchange, *, charge_quota: bool) -> _Answer:
        with self._lock:
            known = exchange.path in self._responses or exchange.path in self._routes
        if not known:
            return self._error(exchange, 404, "接口不存在 unknown path")
        body: Any = {}
        if exchange.raw_body.strip():
            try:
                body = json.loads(exchange.raw_body)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return self._error(exchange, 400, "请求体必须是JSON对象 body must be a JSON object")
        if charge_quota and exchange.account is not None:
            wait = self._take_quota_slot(exchange.account)
            if wait is not None:
                return self._rate_limited(exchange, retry_after=max(1, math.ceil(wait)))
        request = RouteRequest(
            body=body,
            request_id=exchange.request_id,
            received_at=exchange.started_ms / 1000,
            now=self._clock(),
        )
        try:
            message, data = self._dispatch(exchange.path, request)
        except GatewayError as exc:
            return self._error(exchange, exc.status, exc.message)
        envelope = self._envelope(exchange, True, "200", message, data)
        return _Answer(status=200, body=_dumps(envelope), request_id=exchange.request_id)

    def _dispatch(self, path: str, request: RouteRequest) -> tuple[str, Any]:
        """The success message and ``data`` for *path*: a static answer, or the route's."""
        with self._lock:
            if path in self._responses:
                return "requestSuccess", self._responses[path]
            route = self._routes[path]
            data = route.handler(request)
            # The copy is taken under the lock: handlers may return their own state.
            return route.message, data if data is NO_DATA else copy.deepcopy(data)

    def _take_quota_slot(self, account: str) -> float | None:
        """Charge one call to *account*; or, if over quota, return seconds until a slot frees."""
        now = time.monotonic()
        with self._lock:
            if self._quota is not None:
                window = self._windows.setdefault(account, deque())
                while window and window[0] <= now - self._quota_period:
                    window.popleft()
                if len(window) >= self._quota:
                    return window[0] + self._quota_period - now
                window.append(now)
            self._accepted.setdefault(account, []).append(now)
        return None

    def _rate_limited(self, exchange: _Exchange, *, retry_after: int) -> _Answer:
        quota = 20 if self._quota is None else self._quota
        # The docs' wording, 账户限流:20次/分, for the configured quota and window.
        per = "分" if self._quota_period == 60 else f"{self._quota_period:g}秒"
        message = f"账户限流:{quota}次/{per} rate limit exceeded"
        return self._error(exchange, 429, message, {"Retry-After": str(retry_after)})

    def _error(
        self,
        exchange: _Exchange,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> _Answer:
        envelope = self._envelope(exchange, False, str(status), message)
        return _Answer(
            status=status,
            body=_dumps(envelope),
            headers=dict(headers or {}),
            request_id=exchange.request_id,
        )

    def _envelope(
        self,
        exchange: _Exchange,
        success: bool,
        code: str,
        message: str,
        data: Any = NO_DATA,
    ) -> dict[str, Any]:
        """7moor's envelope; ``data`` is included only when given (errors carry none)."""
        echoed = dict(exchange.headers)
        # The real gateway adds its trace id and the account to the echoed headers.
        echoed["traceId"] = exchange.request_id
        if exchange.account is not None:
            echoed["accountId"] = exchange.account
        ended_ms = self._now_ms()
        request_info = {
            "requestId": exchange.request_id,
            "url": exchange.path,
            "body": _parsed_body_or_empty(exchange.raw_body),
            "headers": echoed,
            "span": {
                "requestStartTime": exchange.started_ms,
                "reqEndTime": ended_ms,
                "bizSpan": f"{ended_ms - exchange.started_ms}ms",
            },
        }
        envelope: dict[str, Any] = {"success": success, "code": code, "message": message}
        if data is not NO_DATA:
            envelope["data"] = data
        envelope["requestInfo"] = request_info
        return envelope

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


def _parsed_body_or_empty(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer.

    aiohttp then fails to write the response we return, treats that as the client
    having gone away and logs it at DEBUG only: no traceback, no warning.
    """
    if request.transport is not None:
        request.transport.close()
    return web.Response()


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The background thread of ``with FakeGateway():`` runs this until told to stop."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        # stop() already finished every request; this only guards against leftovers so
        # closing the loop never warns about pending tasks.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
