"""Nothing a crash reporter records of a moor7 error can be replayed, or holds a secret.

Every kind of error in docs/guides/errors.md is driven for real (a refused port, a
server that resets, a gateway whose pool carries SIP passwords and a field of the wrong
type, a wrong secret, a TLS certificate nobody signed, ...), then handed to sentry-sdk
with its default options and to ``TracebackException(capture_locals=True)``: neither
may hold the secret key, the ``m7-sign`` of any attempt (each one the client made is
recorded), a SIP password, or a proxy's or Redis's password, and neither may fail,
even under Python 3.10's rules for a ``repr()`` that raises. The same holds for the
error's ``str()``, ``repr()`` and pickle (Celery's result backends), and ``print()``.

CI runs this file on Python 3.10 and 3.13 too (.ci/run).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import importlib
import inspect
import json
import os
import pickle
import pkgutil
import shutil
import socket
import ssl
import struct
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from aiohttp import web

import moor7
from moor7._models import NumberPool, SipNumber, SipRegistration
from moor7._signing import HmacSigner, OutgoingRequest
from moor7.exceptions import __all__ as EXCEPTION_NAMES
from moor7.testing import SAMPLE_NUMBER_POOL, SAMPLE_SIP_NUMBERS, FakeGateway, MockTransport

from .crash_reports import Sentry, everything_recorded, leaks, strict_local_reprs

# The secrets of this file: unique strings, so that any trace of one is a leak.
APPKEY = "2000777"
SECRET_KEY = "crash-report-secret-key-0b5e1d"
SIP_PASSWORD = "sip-password-9f27c4"
PROXY_PASSWORD = "proxy-password-51ad08"
REDIS_PASSWORD = "redis-password-c3e4f2"
SECRETS = (SECRET_KEY, SIP_PASSWORD, PROXY_PASSWORD, REDIS_PASSWORD)

CERTIFICATE = Path(__file__).parent / "data" / "self-signed.pem"

# The kinds of error this file drives, each for real, by the test that says so. A kind
# moor7 adds must be added here (test_every_kind_of_error_is_driven).
DRIVEN = {
    "APIError": "TestAnswers.test_an_error_answer, test_a_redirect_to_a_url_with_a_password",
    "AuthenticationError": "TestAnswers.test_a_wrong_secret_key",
    "ClientClosedError": "TestMisuse.test_a_closed_client",
    "ConfigurationError": "TestMisuse, TestTransportFailures.test_a_certificate_nobody_signed",
    "ConnectError": "TestTransportFailures.test_a_refused_connection, ...",
    "DeadlineExceeded": "TestTransportFailures.test_a_timeout",
    "LimiterUnavailableError": "TestMisuse.test_an_unreachable_redis",
    "NetworkError": "TestTransportFailures.test_a_connection_reset_before_the_request_is_read",
    "RateLimitError": "TestAnswers.test_an_error_answer",
    "RequestTimeout": "TestTransportFailures.test_a_timeout",
    "ResponseDecodeError": "TestAnswers.test_an_answer_that_is_not_json",
    "ResponseShapeError": "TestAnswers.test_sip_passwords_in_an_answer_of_the_wrong_shape",
    "ServerError": "TestAnswers.test_an_error_answer",
    "UsageError": "TestMisuse.test_a_blocking_call_from_moor7s_own_loop",
    "WrongEventLoopError": "TestMisuse.test_another_event_loop",
}


@pytest.fixture(scope="module")
def sentry() -> Iterator[Sentry]:
    reporter = Sentry()
    yield reporter
    reporter.close()


@pytest.fixture(autouse=True)
def _breadcrumbs_of_this_test_only() -> None:
    # An event carries the breadcrumbs (log records, subprocesses) recorded before it:
    # each test's event is to hold its own.
    sentry_sdk.get_isolation_scope().clear_breadcrumbs()
    sentry_sdk.get_current_scope().clear_breadcrumbs()


@pytest.fixture
def signatures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every m7-sign the signers make during the test, in order: HmacSigner.sign,
    wrapped (the clients' default signer, and the one custom signers here wrap)."""
    made: list[str] = []
    sign = HmacSigner.sign

    def recording_sign(self: HmacSigner, request: OutgoingRequest) -> dict[str, str]:
        headers = sign(self, request)
        made.append(headers["m7-sign"])
        return headers

    monkeypatch.setattr(HmacSigner, "sign", recording_sign)
    return made


def assert_nothing_recorded(error: BaseException, sentry: Sentry, signatures: list[str]) -> None:
    found = leaks(everything_recorded(error, sentry), [*SECRETS, *signatures])
    assert not found, found


def client_for(url: str, **settings: Any) -> moor7.AsyncClient:
    options: dict[str, Any] = {
        "base_url": url,
        "limiter": moor7.Unlimited(),
        "backoff_initial": 0,
        "backoff_max": 0,
        "max_retries": 1,
        **settings,
    }
    return moor7.AsyncClient(APPKEY, SECRET_KEY, **options)


async def error_of(
    call: Callable[[moor7.AsyncClient], Awaitable[Any]], url: str, **settings: Any
) -> moor7.Moor7Error:
    """The error of *call* on a client made with *settings*, caught in a frame that holds
    none of them (a traceback starts where its error is caught: test code must not leak
    what moor7 is asked to hide)."""
    return await _failure_of(call, client_for(url, **settings))


async def _failure_of(
    call: Callable[[moor7.AsyncClient], Awaitable[Any]], client: moor7.AsyncClient
) -> moor7.Moor7Error:
    async with client:
        try:
            await call(client)
        except moor7.Moor7Error as error:
            return error
    raise AssertionError("the call did not fail")


def pool() -> Callable[[moor7.AsyncClient], Awaitable[Any]]:
    return lambda client: client.get_number_pool()


def task() -> Callable[[moor7.AsyncClient], Awaitable[Any]]:
    """An action: sent at most once, retried only when nothing was sent."""
    return lambda client: client.create_dialout_task(name="回访", creator="2001")


def refused_url(scheme: str = "http") -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}"


def pool_records() -> dict[str, Any]:
    """The docs' pool, its SIP numbers with a password, one with a field of the wrong type."""
    data = copy.deepcopy(SAMPLE_NUMBER_POOL)
    sip = {**data["sipNumberList"][0], "password": SIP_PASSWORD}
    data["sipNumberList"] = [
        sip,
        {**sip, "_id": "s2", "number": "8002", "registerStatus": {"changed": "by 7moor"}},
    ]
    return data


def sip_records() -> list[dict[str, Any]]:
    """The docs' SIP list, with passwords (the list may send them one day) and a field of
    the wrong type."""
    record = {**copy.deepcopy(SAMPLE_SIP_NUMBERS[0]), "password": SIP_PASSWORD}
    return [record, {**record, "number": ["8002"]}]


# -- servers ----------------------------------------------------------------------------


class Answers:
    """An HTTP server on 127.0.0.1 that answers every request with what the test set,
    the request's headers echoed in ``requestInfo.headers`` as the real gateway does."""

    def __init__(self) -> None:
        self.status = 200
        self.data: Any = None
        self.body: bytes | None = None  # sent as it is, instead of an envelope
        self.headers: dict[str, str] = {}
        self.envelope: dict[str, Any] = {"success": True, "code": "200", "message": "ok"}
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        body = self.body
        if body is None:
            document = {
                **self.envelope,
                "data": self.data,
                "requestInfo": {"requestId": "rid-crash", "headers": dict(request.headers)},
            }
            body = json.dumps(document).encode()
        headers = {"Content-Type": "application/json", **self.headers}
        return web.Response(status=self.status, body=body, headers=headers)

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"

    async def stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def answers() -> AsyncIterator[Answers]:
    server = Answers()
    await server.start()
    yield server
    await server.stop()


@contextlib.asynccontextmanager
async def raw_server(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 running *handler* for each connection; yields its URL."""
    tasks: set[asyncio.Task[None]] = set()

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for running in tasks:
            running.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def reset_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept, then reset before reading a byte (SO_LINGER 0: RST, not FIN)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(30)


async def half_a_pool(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer with the first half of a pool (SIP passwords included), then hang up."""
    await reader.readuntil(b"\r\n\r\n")
    body = json.dumps({"success": True, "code": "200", "data": pool_records()}).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    writer.write(head.encode() + b"\r\n\r\n" + body[: len(body) * 3 // 4])
    await writer.drain()


# -- the checks check -------------------------------------------------------------------


class TestTheHarness:
    """A leak where these tests look is seen: sentry-sdk records frame locals, walks
    dicts, follows the chain, and the check reads all of it."""

    def test_a_signature_in_a_frame_local_of_the_chain_is_found(self, sentry: Sentry) -> None:
        def attempt() -> None:
            headers = {"m7-sign": "live-signature-4d1f"}  # noqa: F841 - the leak looked for
            raise OSError("reset")

        def call() -> None:
            try:
                attempt()
            except OSError as exc:
                raise moor7.NetworkError("connection failed") from exc

        with pytest.raises(moor7.NetworkError) as excinfo:
            call()
        texts = everything_recorded(excinfo.value, sentry)
        found = {where for where, _ in leaks(texts, ["live-signature-4d1f"])}
        assert found == {
            "sentry event",
            "TracebackException(capture_locals=True)",
            "locals, repr() as on Python 3.10",
        }

    def test_a_repr_that_raises_fails_the_strict_check(self) -> None:
        class Unfinished:
            def __repr__(self) -> str:
                return f"Unfinished({self.value})"  # type: ignore[attr-defined]  # never set

        def build() -> None:
            unfinished = Unfinished()  # noqa: F841 - the frame local looked at
            raise moor7.ConfigurationError("no")

        with pytest.raises(moor7.ConfigurationError) as excinfo:
            build()
        with pytest.raises(AttributeError):
            strict_local_reprs(excinfo.value)

    def test_a_suppressed_context_is_read_too(self, sentry: Sentry) -> None:
        # TracebackException captures a context that "raise ... from None" suppressed,
        # locals and all, though it does not print it.
        def parse() -> None:
            document = {"password": "canary-password-77"}  # noqa: F841 - looked for
            raise ValueError("not JSON")

        def call() -> None:
            try:
                parse()
            except ValueError:
                raise moor7.ResponseDecodeError("not JSON") from None

        with pytest.raises(moor7.ResponseDecodeError) as excinfo:
            call()
        found = leaks(everything_recorded(excinfo.value, sentry), ["canary-password-77"])
        assert ("TracebackException(capture_locals=True)", "canary-password-77") in found

    def test_every_kind_of_error_is_driven(self) -> None:
        kinds = {
            name
            for name in EXCEPTION_NAMES
            if name not in ("Moor7Error", "TransportError", "InvalidResponseError")
        }
        assert kinds == set(DRIVEN)


# -- every kind of error, driven for real ------------------------------------------------


class TestTransportFailures:
    """Attempts that never reached the gateway: their signatures are live credentials."""

    async def test_a_refused_connection(self, sentry: Sentry, signatures: list[str]) -> None:
        for call in (pool(), task()):
            error = await error_of(call, refused_url())
            assert type(error) is moor7.ConnectError
            assert_nothing_recorded(error, sentry, signatures)
        assert len(signatures) == 4  # two attempts each: a ConnectError is retried

    async def test_a_connection_reset_before_the_request_is_read(
        self, sentry: Sentry, signatures: list[str]
    ) -> None:
        async with raw_server(reset_at_once) as url:
            for call in (pool(), task()):
                error = await error_of(call, url)
                assert isinstance(error, moor7.NetworkError)
                assert_nothing_recorded(error, sentry, signatures)
        assert signatures

    async def test_a_connection_dropped_half_way_through_a_pool(
        self, sentry: Sentry, signatures: list[str]
    ) -> None:
        async with raw_server(half_a_pool) as url:
            error = await error_of(pool(), url)
        assert type(error) is moor7.NetworkError
        assert_nothing_recorded(error, sentry, signatures)

    async def test_a_refused_proxy_with_a_password(
        self, sentry: Sentry, signatures: list[str]
    ) -> None:
        proxy = refused_url().replace("//", f"//ops:{PROXY_PASSWORD}@")
        error = await error_of(pool(), "http://gateway.invalid", proxy=proxy)
        assert type(error) is moor7.ConnectError
        assert_nothing_recorded(error, sentry, signatures)
        assert signatures

    async def test_a_timeout(self, sentry: Sentry, signatures: list[str]) -> None:
        async with raw_server(never_answer) as url:
            error = await error_of(pool(), url, timeout=0.2)
            assert type(error) is moor7.RequestTimeout
            assert_nothing_recorded(error, sentry, signatures)
            error = await error_of(pool(), url, timeout=5, deadline=0.3, max_retries=3)
            assert type(error) is moor7.DeadlineExceeded
            assert_nothing_recorded(error, sentry, signatures)
        assert len(signatures) == 3

    async def test_a_certificate_nobody_signed(self, sentry: Sentry, signatures: list[str]) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(CERTIFICATE)
        server = Answers()
        await server.start(ssl_context=context)
        try:
            error = await error_of(pool(), server.url)
        finally:
            await server.stop()
        assert type(error) is moor7.ConfigurationError
        assert "certificate" in str(error)
        assert_nothing_recorded(error, sentry, signatures)
        assert signatures

    async def test_tls_against_a_plain_port(
        self, sentry: Sentry, signatures: list[str], answers: Answers
    ) -> None:
        error = await error_of(pool(), answers.url.replace("http://", "https://"))
        assert type(error) is moor7.ConfigurationError
        assert_nothing_recorded(error, sentry, signatures)

    async def test_a_transport_of_the_users_that_fails(
        self, sentry: Sentry, signatures: list[str]
    ) -> None:
        def no_route(request: OutgoingRequest, headers: Any) -> moor7.HttpResponse:
            raise moor7.ConnectError("no route to the gateway", path=request.path)

        transport = MockTransport(no_route)
        error = await error_of(pool(), "http://gateway.invalid", transport=transport)
        assert type(error) is moor7.ConnectError
        assert_nothing_recorded(error, sentry, signatures)
        assert len(signatures) == 2

    async def test_the_blocking_client(self, sentry: Sentry, signatures: list[str]) -> None:
        url = refused_url()

        def call() -> moor7.Moor7Error:
            with moor7.Client(APPKEY, SECRET_KEY, base_url=url, max_retries=0) as client:
                try:
                    client.get_number_pool()
                except moor7.Moor7Error as error:
                    return error
            raise AssertionError("the call did not fail")

        error = await asyncio.to_thread(call)
        assert type(error) is moor7.ConnectError
        assert_nothing_recorded(error, sentry, signatures)
        assert signatures


class TestAnswers:
    """The gateway answered: an error, or something moor7 cannot use."""

    async def test_a_wrong_secret_key(self, sentry: Sentry, signatures: list[str]) -> None:
        async with FakeGateway(accounts={APPKEY: "the-right-secret-key"}, quota=None) as gateway:
            error = await error_of(pool(), gateway.url)
        assert type(error) is moor7.AuthenticationError
        assert_nothing_recorded(error, sentry, signatures)
        assert len(signatures) == 2

    @pytest.mark.parametrize(
        ("status", "envelope", "body", "kind"),
        [
            (
                500,
                {"success": False, "code": "500", "message": "内部错误"},
                None,
                moor7.ServerError,
            ),
            (502, None, b"<html>502 Bad Gateway</html>", moor7.ServerError),
            (429, {"success": False, "code": "429", "message": "限流"}, None, moor7.RateLimitError),
            (200, {"success": False, "code": "400", "message": "bad"}, None, moor7.APIError),
        ],
    )
    async def test_an_error_answer(
        self,
        sentry: Sentry,
        signatures: list[str],
        answers: Answers,
        status: int,
        envelope: dict[str, Any] | None,
        body: bytes | None,
        kind: type[moor7.APIError],
    ) -> None:
        answers.status, answers.body = status, body
        answers.headers = {"Retry-After": "600"}  # an over-quota answer is raised at once
        if envelope is not None:
            answers.envelope = envelope
        answers.data = pool_records()
        for call in (pool(), task()):
            error = await error_of(call, answers.url)
            assert type(error) is kind
            assert_nothing_recorded(error, sentry, signatures)

    async def test_the_callers_own_exception_stays_the_context(self, answers: Answers) -> None:
        """Only what was raised within moor7 is cut from the chain, not the exception the
        caller was handling when it called."""
        answers.envelope = {"success": False, "code": "400", "message": "bad"}
        try:
            raise KeyError("not in the cache")
        except KeyError:
            error = await error_of(pool(), answers.url)
        assert type(error) is moor7.APIError
        assert isinstance(error.__context__, KeyError)

    async def test_a_redirect_to_a_url_with_a_password(
        self, sentry: Sentry, signatures: list[str], answers: Answers
    ) -> None:
        answers.status = 302
        answers.headers = {"Location": f"https://ops:{PROXY_PASSWORD}@elsewhere.invalid/"}
        error = await error_of(pool(), answers.url)
        assert type(error) is moor7.APIError
        assert_nothing_recorded(error, sentry, signatures)

    @pytest.mark.parametrize(
        ("method", "data"),
        [
            ("get_number_pool", pool_records()),
            ("list_sip_numbers", sip_records()),
            ("get_number_pool", {"unknown": [{"password": SIP_PASSWORD}]}),
            ("get_number_pool", None),
        ],
        ids=["pool", "sip list", "none of the fields", "no data"],
    )
    async def test_sip_passwords_in_an_answer_of_the_wrong_shape(
        self, sentry: Sentry, signatures: list[str], answers: Answers, method: str, data: Any
    ) -> None:
        answers.data = data
        error = await error_of(lambda client: getattr(client, method)(), answers.url)
        assert type(error) is moor7.ResponseShapeError
        assert_nothing_recorded(error, sentry, signatures)
        if data is not None:
            # What did not fit is kept, masked, for whoever debugs it, pickles included.
            assert error.records
            assert '"password": "***"' in json.dumps(error.records)
            again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own pickle
            assert again.records == error.records

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            pytest.param(None, "application/json", id="JSON cut short"),
            pytest.param(b'[{"password": "%s"}]', "application/json", id="JSON, no envelope"),
            pytest.param(b"sip=8001&password=%s&ok=1", "text/plain", id="a form"),
            pytest.param(b"", "application/json", id="empty"),
            pytest.param(None, "application/json; charset=GBK", id="GBK cut short"),
        ],
    )
    async def test_an_answer_that_is_not_json(
        self,
        sentry: Sentry,
        signatures: list[str],
        answers: Answers,
        body: bytes | None,
        content_type: str,
    ) -> None:
        if body is None:
            whole = {"success": True, "code": "200", "data": pool_records()}
            body = json.dumps(whole, ensure_ascii=False).encode("gbk")[:-40]
        answers.body = body.replace(b"%s", SIP_PASSWORD.encode())
        answers.headers = {"Content-Type": content_type}
        error = await error_of(pool(), answers.url)
        assert type(error) is moor7.ResponseDecodeError
        assert_nothing_recorded(error, sentry, signatures)
        if SIP_PASSWORD.encode() in answers.body:
            assert b"password" in error.body
            assert b"***" in error.body  # kept for debugging, masked

    async def test_an_answer_too_large(
        self, sentry: Sentry, signatures: list[str], answers: Answers
    ) -> None:
        answers.data = pool_records()
        client = client_for(answers.url, transport=moor7.AiohttpTransport(max_response_size=500))
        error = await _failure_of(pool(), client)
        assert type(error) is moor7.ResponseDecodeError
        assert_nothing_recorded(error, sentry, signatures)


class TestMisuse:
    """Errors of the client's use and configuration, with the secrets in reach."""

    @pytest.mark.parametrize(
        "settings",
        [{"base_url": "ftp://x"}, {"timeout": -1}, {"limiter": object()}, {"verify": "no"}],
    )
    @pytest.mark.parametrize("make", [moor7.AsyncClient, moor7.Client])
    def test_a_bad_setting(
        self, sentry: Sentry, signatures: list[str], make: Any, settings: dict[str, Any]
    ) -> None:
        proxy = f"http://ops:{PROXY_PASSWORD}@proxy.invalid:3128"
        with pytest.raises(moor7.ConfigurationError) as excinfo:
            make(APPKEY, SECRET_KEY, proxy=proxy, **settings)
        del proxy  # the test's own frame is the first of the traceback
        assert_nothing_recorded(excinfo.value, sentry, signatures)

    @pytest.mark.parametrize(
        "url",
        [
            f"https://ops:{PROXY_PASSWORD}@gateway.example",  # refused: 7moor signs
            f"https://ops:{PROXY_PASSWORD}@[::1",  # not a URL at all
            f"ftp://ops:{PROXY_PASSWORD}@gateway.example",
        ],
    )
    @pytest.mark.parametrize("make", [moor7.AsyncClient, moor7.Client])
    def test_a_gateway_url_with_a_password(
        self, sentry: Sentry, signatures: list[str], make: Any, url: str
    ) -> None:
        with pytest.raises(moor7.ConfigurationError) as excinfo:
            make(APPKEY, SECRET_KEY, base_url=url)
        del url  # the test's own frame is the first of the traceback
        assert_nothing_recorded(excinfo.value, sentry, signatures)

    @pytest.mark.parametrize("make", [moor7.AsyncClient, moor7.Client, moor7.AiohttpTransport])
    def test_a_proxy_url_refused(self, sentry: Sentry, signatures: list[str], make: Any) -> None:
        credentials = {} if make is moor7.AiohttpTransport else {"secret_key": SECRET_KEY}
        with pytest.raises(moor7.ConfigurationError) as excinfo:
            make(proxy=f"socks5://ops:{PROXY_PASSWORD}@proxy.invalid:1080", **credentials)
        del credentials  # the test's own frame is the first of the traceback
        assert_nothing_recorded(excinfo.value, sentry, signatures)

    async def test_a_body_that_cannot_be_sent(self, sentry: Sentry, signatures: list[str]) -> None:
        error = await error_of(
            lambda client: client.request("/openapi/v1/x", {"n": float("nan")}), refused_url()
        )
        assert type(error) is moor7.ConfigurationError
        assert_nothing_recorded(error, sentry, signatures)

    async def test_a_signer_that_returns_a_bad_header(
        self, sentry: Sentry, signatures: list[str]
    ) -> None:
        class BrokenSigner:
            appkey = APPKEY

            def __init__(self) -> None:
                self._signer = HmacSigner(APPKEY, SECRET_KEY)

            def sign(self, request: OutgoingRequest) -> dict[str, str]:
                return {**self._signer.sign(request), "x-trace": "a\r\nb"}

        client = moor7.AsyncClient(base_url=refused_url(), signer=BrokenSigner())
        error = await _failure_of(pool(), client)
        assert type(error) is moor7.ConfigurationError
        assert_nothing_recorded(error, sentry, signatures)
        assert len(signatures) == 1  # signed, never sent: a live credential

    async def test_a_closed_client(self, sentry: Sentry, signatures: list[str]) -> None:
        client = client_for(refused_url())
        await client.aclose()
        error = await _failure_of(pool(), client)
        assert type(error) is moor7.ClientClosedError
        assert_nothing_recorded(error, sentry, signatures)

    async def test_another_event_loop(self, sentry: Sentry, signatures: list[str]) -> None:
        async with FakeGateway(accounts={APPKEY: SECRET_KEY}, quota=None) as gateway:
            client = client_for(gateway.url)
            await client.get_number_pool()

            def elsewhere() -> moor7.Moor7Error:
                try:
                    asyncio.run(client.get_number_pool())
                except moor7.Moor7Error as error:
                    return error
                raise AssertionError("the call did not fail")

            error = await asyncio.to_thread(elsewhere)
            await client.aclose()
        assert type(error) is moor7.WrongEventLoopError
        assert_nothing_recorded(error, sentry, signatures)

    def test_a_blocking_call_from_moor7s_own_loop(
        self, sentry: Sentry, signatures: list[str]
    ) -> None:
        clients: list[moor7.Client] = []

        class SelfCallingSigner:
            appkey = APPKEY

            def sign(self, request: OutgoingRequest) -> dict[str, str]:
                clients[0].list_display_number_groups()  # from moor7's loop: a deadlock
                return {}

        with moor7.Client(base_url=refused_url(), signer=SelfCallingSigner()) as client:
            clients.append(client)
            with pytest.raises(moor7.UsageError) as excinfo:
                client.get_number_pool()
        assert_nothing_recorded(excinfo.value, sentry, signatures)

    def test_a_limiter_built_wrong(self, sentry: Sentry, signatures: list[str]) -> None:
        # A frame holds the half-built limiter: its repr() must not fail the report.
        with pytest.raises(moor7.ConfigurationError) as excinfo:
            moor7.LocalLimiter(0)
        assert_nothing_recorded(excinfo.value, sentry, signatures)
        assert any("LocalLimiter" in text for text in strict_local_reprs(excinfo.value))

    async def test_an_unreachable_redis(self, sentry: Sentry, signatures: list[str]) -> None:
        url = refused_url("redis").replace("//", f"//:{REDIS_PASSWORD}@") + "/0"
        limiter = moor7.RedisLimiter(url, max_calls=5, period=1.0)
        try:
            error = await _failure_of(pool(), client_for(refused_url(), limiter=limiter))
        finally:
            await limiter.aclose()
        assert type(error) is moor7.LimiterUnavailableError
        assert_nothing_recorded(error, sentry, signatures)


@contextlib.contextmanager
def redis_with_a_password() -> Iterator[int]:
    """A redis-server on 127.0.0.1 that requires REDIS_PASSWORD; yields its port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The configuration on stdin: a command line is no place for a password (sentry-sdk
    # records it as a breadcrumb, ps shows it).
    config = f"port {port}\nbind 127.0.0.1\nsave ''\nappendonly no\nrequirepass {REDIS_PASSWORD}\n"
    binary = os.environ.get("MOOR7_TEST_REDIS_SERVER") or shutil.which("redis-server")
    assert binary is not None, "redis-server is not installed (scripts/test.sh installs it)"
    process = subprocess.Popen(  # noqa: S603 - our own arguments
        [binary, "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    assert process.stdin is not None
    process.stdin.write(config.encode())
    process.stdin.close()
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_wrong_redis_password_is_not_recorded(
    sentry: Sentry, signatures: list[str]
) -> None:
    """redis-py's exception holds the password in its frames (auth_args): the call's
    error (Redis refused the limiter: a ConfigurationError) is not chained to it, and
    neither is the limiter's own (tests/test_redis_deployments.py)."""
    with redis_with_a_password() as port:
        wrong = f"redis://:{REDIS_PASSWORD}-but-wrong@127.0.0.1:{port}/0"
        limiter = moor7.RedisLimiter(wrong, max_calls=5, period=1.0)
        try:
            error = await _failure_of(pool(), client_for(refused_url(), limiter=limiter))
        finally:
            await limiter.aclose()
    assert type(error) is moor7.ConfigurationError
    assert_nothing_recorded(error, sentry, [*signatures, f"{REDIS_PASSWORD}-but-wrong"])


# -- half-built objects ------------------------------------------------------------------


def every_class() -> list[type]:
    """Every class moor7 defines (enums aside: they are never half-built)."""
    import enum

    found = []
    for module_info in pkgutil.walk_packages(moor7.__path__, "moor7."):
        if module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for cls in vars(module).values():
            if (
                inspect.isclass(cls)
                and cls.__module__ == module.__name__
                and not issubclass(cls, enum.Enum)
            ):
                found.append(cls)
    return found


class TestHalfBuilt:
    """An object whose __init__ raised can sit in a frame of the traceback: its repr()
    must work, or Python 3.10 and 3.11 fail the whole report."""

    @pytest.mark.parametrize("cls", every_class(), ids=lambda cls: cls.__qualname__)
    def test_repr_of_every_class_works_half_built(self, cls: type) -> None:
        half_built = cls.__new__(cls)
        assert repr(half_built)

    @pytest.mark.parametrize("cls", [SipRegistration, NumberPool, SipNumber])
    def test_a_model_half_built_in_a_frame(
        self, cls: type, sentry: Sentry, signatures: list[str]
    ) -> None:
        def structure() -> None:
            instance = cls.__new__(cls)
            object.__setattr__(instance, attrs_first_field(cls), "8001")
            raise moor7.ResponseShapeError("does not fit")

        with pytest.raises(moor7.ResponseShapeError) as excinfo:
            structure()
        assert_nothing_recorded(excinfo.value, sentry, signatures)
        assert any("half-built" in text for text in strict_local_reprs(excinfo.value))

    def test_half_built_errors_print(self) -> None:
        for name in EXCEPTION_NAMES:
            cls = getattr(moor7.exceptions, name)
            error = cls.__new__(cls)
            assert name in repr(error)
            str(error)


def attrs_first_field(cls: type) -> str:
    import attrs

    return attrs.fields(cls)[0].name  # type: ignore[arg-type]  # an attrs class
