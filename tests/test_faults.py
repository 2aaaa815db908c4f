"""Transport faults on a real socket, and load: failures are moor7 errors, in bounded time.

The reliability promise under test: every failure a user can meet surfaces as a
documented moor7 exception (never a raw aiohttp or OS error), within the budget of
timeout x attempts, and leaves no task, connection or session behind.

The faults are played by a raw asyncio TCP server on 127.0.0.1 whose handler each test
chooses, because the fake gateway (an aiohttp server) cannot send half a response, reset
a connection or answer with something that is not HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import gzip
import json
import socket
import struct
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, SAMPLE_NUMBER_POOL, FakeGateway

NUMBER_PATH = "/openapi/v1/call/query/number"
MAX_RETRIES = 3
ATTEMPTS = MAX_RETRIES + 1
# Slack on every elapsed-time bound: these are hang checks, not speed assertions, and CI
# runs on 2 cores.
SLACK = 2.0

Handler = Callable[["RawServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A TCP server on 127.0.0.1 that runs the test's handler for every connection."""

    def __init__(self) -> None:
        self.handler: Handler | None = None
        self.connections = 0  # connections accepted
        self.requests: list[bytes] = []  # request heads read in full (with their bodies)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until every connection handler has finished (the client closed its end)."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            assert not pending, "a server handler still runs: the client kept a connection"

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        self.requests.append(head)
        return head

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.connections += 1
        try:
            assert self.handler is not None
            await self.handler(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away first: that is its right
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def http_response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def envelope(data: Any) -> bytes:
    document = {
        "success": True,
        "code": "200",
        "message": "requestSuccess",
        "data": data,
        "requestInfo": {"requestId": "rid-raw"},
    }
    return json.dumps(document, ensure_ascii=False).encode()


def make_client(url: str, *, timeout: float | None = 5.0, **kwargs: Any) -> moor7.AsyncClient:
    return moor7.AsyncClient(
        appkey=DEMO_APPKEY,
        secret_key=DEMO_SECRET_KEY,
        base_url=url,
        limiter=moor7.Unlimited(),
        backoff_initial=0,
        backoff_max=0,
        timeout=timeout,
        max_retries=MAX_RETRIES,
        **kwargs,
    )


def other_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


@pytest.fixture
async def server() -> AsyncIterator[RawServer]:
    raw = RawServer()
    await raw.start()
    yield raw
    await raw.stop()


async def fail(
    server: RawServer, handler: Handler, *, timeout: float | None = 5.0
) -> tuple[moor7.Moor7Error, float]:
    """Call get_number_pool() against *handler*; return the error and the elapsed time.

    Also checks that nothing is left behind once the client is closed: no task pending
    (a handler that waits for the client to hang up ends only once it has), and, with
    warnings as errors, no unclosed session or transport (collected here, inside the
    test, so that the ResourceWarning is charged to it).
    """
    server.handler = handler
    client = make_client(server.url, timeout=timeout)
    started = time.monotonic()
    try:
        with pytest.raises(moor7.Moor7Error) as excinfo:
            await client.get_number_pool()
        elapsed = time.monotonic() - started
    finally:
        await client.aclose()
    await server.wait_idle()
    assert other_tasks() == set()
    gc.collect()
    return excinfo.value, elapsed


def budget(timeout: float) -> float:
    return timeout * ATTEMPTS + SLACK


def detached(error: BaseException, *underlying: str) -> bool:
    """Whether *error* is raised unchained (the frames of aiohttp's exception hold the
    request's signature), naming one of the *underlying* exceptions in its message."""
    return (
        error.__cause__ is None
        and error.__context__ is None
        and any(name in str(error) for name in underlying)
    )


class TestConnectionDrops:
    """The connection dies before a complete answer: NetworkError, retried, named."""

    async def test_closed_right_after_accept(self, server: RawServer) -> None:
        async def close_at_once(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            writer.close()

        error, elapsed = await fail(server, close_at_once)
        assert type(error) is moor7.NetworkError
        assert detached(error, "ServerDisconnectedError", "ClientOSError")
        assert error.path == NUMBER_PATH
        assert error.status is None
        assert server.connections == ATTEMPTS
        assert elapsed < budget(5.0)

    async def test_reset_before_the_request_is_read(self, server: RawServer) -> None:
        async def reset_at_once(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            reset(writer)

        error, elapsed = await fail(server, reset_at_once)
        assert type(error) is moor7.NetworkError
        # ECONNRESET or EPIPE, or "server disconnected", depending on when the RST lands.
        assert detached(error, "ServerDisconnectedError", "ClientOSError")
        assert server.connections == ATTEMPTS
        assert elapsed < budget(5.0)

    async def test_reset_after_the_request_is_read(self, server: RawServer) -> None:
        async def read_then_reset(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            reset(writer)

        error, elapsed = await fail(server, read_then_reset)
        assert type(error) is moor7.NetworkError
        assert detached(error, "ServerDisconnectedError", "ClientOSError")
        assert len(server.requests) == ATTEMPTS
        assert elapsed < budget(5.0)

    async def test_response_that_stops_halfway(self, server: RawServer) -> None:
        async def short_body(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n" + b'{"success": true, ' + b" " * 82
            )
            await writer.drain()

        error, elapsed = await fail(server, short_body)
        assert type(error) is moor7.NetworkError
        assert detached(error, "ClientPayloadError")
        assert len(server.requests) == ATTEMPTS
        assert elapsed < budget(5.0)

    async def test_chunked_response_cut_mid_chunk(self, server: RawServer) -> None:
        async def cut_chunk(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
                b"100\r\n" + b'{"success": true, "data": [' + b"1, " * 20
            )
            await writer.drain()

        error, elapsed = await fail(server, cut_chunk)
        assert type(error) is moor7.NetworkError
        assert detached(error, "ClientPayloadError")
        assert len(server.requests) == ATTEMPTS
        assert elapsed < budget(5.0)


class TestSilence:
    """Nothing, or not enough, comes back: RequestTimeout after timeout x attempts."""

    TIMEOUT = 0.3

    async def test_accepted_and_never_answered(self, server: RawServer) -> None:
        async def never_answer(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            await reader.read()  # until the client gives up and closes

        error, elapsed = await fail(server, never_answer, timeout=self.TIMEOUT)
        assert type(error) is moor7.RequestTimeout
        assert error.__cause__ is None
        assert error.__context__ is None
        assert len(server.requests) == ATTEMPTS
        # Each attempt really waited its timeout, and the whole call no more than the budget.
        assert self.TIMEOUT * ATTEMPTS * 0.8 <= elapsed < budget(self.TIMEOUT)

    async def test_headers_then_a_body_that_never_ends(self, server: RawServer) -> None:
        async def trickle(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while True:  # a byte now and then: never idle, never done
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.02)

        error, elapsed = await fail(server, trickle, timeout=self.TIMEOUT)
        assert type(error) is moor7.RequestTimeout
        assert len(server.requests) == ATTEMPTS
        assert elapsed < budget(self.TIMEOUT)


class TestNotHttp:
    async def test_garbage_instead_of_a_status_line(self, server: RawServer) -> None:
        # A protocol error on the wire, like httpx's RemoteProtocolError: a TransportError
        # (NetworkError), retried, not a ResponseDecodeError (which is about the body).
        async def ssh_banner(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            await writer.drain()

        error, elapsed = await fail(server, ssh_banner)
        assert type(error) is moor7.NetworkError
        assert detached(error, "ClientResponseError")
        assert len(server.requests) == ATTEMPTS
        assert elapsed < budget(5.0)

    async def test_garbage_status_line_is_not_quoted_in_the_error(self, server: RawServer) -> None:
        """Once quoted: aiohttp's parser error text carried the echoed signature."""

        # A broken proxy that echoes the request's headers instead of answering.
        async def echo_signature(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            head = await srv.read_request(reader)
            (sign,) = [line for line in head.split(b"\r\n") if line.lower().startswith(b"m7-sign:")]
            writer.write(sign + b"\r\n\r\n")
            await writer.drain()

        error, _ = await fail(server, echo_signature)
        signatures = {
            line.split(b":", 1)[1].strip().decode()
            for head in server.requests
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"m7-sign:")
        }
        assert type(error) is moor7.NetworkError
        assert not any(s in str(error) or s in repr(error) for s in signatures)


class TestAnswers:
    """Complete HTTP answers that are not a good envelope."""

    async def test_500_with_an_html_body_is_a_retried_server_error(self, server: RawServer) -> None:
        html = b"<html><body><h1>500 Internal Server Error</h1>nginx</body></html>"

        async def html_500(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            writer.write(http_response("500 Internal Server Error", html, "text/html"))
            await writer.drain()

        error, elapsed = await fail(server, html_500)
        assert type(error) is moor7.ServerError
        assert (error.status, error.code) == (500, None)
        assert error.__cause__ is None  # the gateway answered: no transport error behind it
        assert "nginx" not in str(error)
        assert len(server.requests) == ATTEMPTS
        assert elapsed < budget(5.0)

    async def test_empty_204_is_a_decode_error_not_retried(self, server: RawServer) -> None:
        # Every V7 endpoint answers with an envelope; a 204 carries none, so there is no
        # data and no code to trust. Retrying would not change that.
        async def no_content(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

        error, elapsed = await fail(server, no_content)
        assert type(error) is moor7.ResponseDecodeError
        assert error.status == 204
        assert error.body == b""
        assert len(server.requests) == 1
        assert elapsed < budget(5.0)

    async def test_five_megabytes_of_non_json_is_a_decode_error_not_retried(
        self, server: RawServer
    ) -> None:
        junk = b"<not json>" * 500_000

        async def huge_junk(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            writer.write(http_response("200 OK", junk))
            await writer.drain()

        error, elapsed = await fail(server, huge_junk)
        assert type(error) is moor7.ResponseDecodeError
        assert error.status == 200
        assert error.body == junk[:4096]  # kept for debugging, bounded
        assert len(str(error)) < 200
        assert len(server.requests) == 1
        assert elapsed < budget(5.0)

    async def test_deeply_nested_json_is_a_decode_error(self, server: RawServer) -> None:
        """Once a raw RecursionError from json.loads(), escaping the client."""

        async def nested(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            writer.write(http_response("200 OK", b"[" * 100_000))
            await writer.drain()

        error, _ = await fail(server, nested)
        assert type(error) is moor7.ResponseDecodeError
        assert len(server.requests) == 1

    async def test_five_megabyte_number_pool_is_fine(self, server: RawServer) -> None:
        (template,) = SAMPLE_NUMBER_POOL["displayNumberList"]
        numbers = [{**template, "_id": str(n), "number": str(n)} for n in range(12_000)]
        body = envelope({"displayNumberList": numbers})
        assert len(body) > 5_000_000

        async def huge_pool(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            writer.write(http_response("200 OK", body))
            await writer.drain()
            await reader.read()  # keep-alive: the client closes the connection

        server.handler = huge_pool
        async with make_client(server.url, timeout=30) as client:
            pool = await client.get_number_pool()
        assert len(pool.display_numbers) == 12_000
        assert pool.display_numbers[-1].number == "11999"
        assert pool.request_id == "rid-raw"
        assert len(server.requests) == 1
        await server.wait_idle()
        assert other_tasks() == set()


class PoolServer:
    """A stateless aiohttp server answering every POST with the sample number pool.

    It records the client's (host, port) of each request, to count TCP connections.
    """

    def __init__(self) -> None:
        self.requests = 0
        self.peers: set[tuple[str, int]] = set()
        self._body = envelope(SAMPLE_NUMBER_POOL)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        assert request.transport is not None
        self.requests += 1
        self.peers.add(request.transport.get_extra_info("peername")[:2])
        return web.Response(body=self._body, content_type="application/json")

    async def __aenter__(self) -> PoolServer:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


CONCURRENT = 1000
# aiohttp's default TCPConnector(limit=100), which the client keeps.
CONNECTOR_LIMIT = 100


async def round_of_calls(client: moor7.AsyncClient) -> list[Any]:
    return await asyncio.gather(
        *(client.get_number_pool() for _ in range(CONCURRENT)), return_exceptions=True
    )


def assert_all_answered(results: list[Any]) -> None:
    """Every call returned a pool: none failed, and nothing but a moor7 error escaped."""
    escaped = [r for r in results if not isinstance(r, (moor7.NumberPool, moor7.Moor7Error))]
    assert escaped == []
    failed = [r for r in results if isinstance(r, moor7.Moor7Error)]
    assert failed == []


class TestLoad:
    # A generous per-attempt timeout: the 1,000th call waits in aiohttp's connection pool
    # behind 999 others, and the timeout counts that wait.
    TIMEOUT = 60.0

    async def test_a_thousand_concurrent_calls_against_the_fake_gateway(self) -> None:
        async with FakeGateway(quota=None) as gateway:
            # Every call must reach the gateway (not share an identical one's answer).
            async with make_client(
                gateway.url, timeout=self.TIMEOUT, share_answers=False
            ) as client:
                results = await round_of_calls(client)
            calls = gateway.calls
        # Every call answered: none failed (a nonce drawn twice in one second once made
        # the gateway refuse about one call in two runs), nothing but pools came back.
        assert_all_answered(results)
        # One request per call, all signed by the client and checked by the gateway.
        assert len(calls) == CONCURRENT
        assert {c.status for c in calls} == {200}
        assert other_tasks() == set()

    def test_signatures_within_one_second_never_repeat_a_nonce(self) -> None:
        # 5,000 signatures in one second: with independent draws from 900,000 nonces a
        # repeat would be all but certain (1 - e^-13.9); the signer must avoid it.
        signer = moor7.HmacSigner(DEMO_APPKEY, DEMO_SECRET_KEY, clock=lambda: 1_700_000_000.0)
        request = moor7.OutgoingRequest("POST", "http://gw" + NUMBER_PATH, NUMBER_PATH, b"")
        nonces = [signer.sign(request)["m7-nonce"] for _ in range(5000)]
        assert len(set(nonces)) == len(nonces)

    async def test_connections_are_pooled_and_memory_stays_flat(self) -> None:
        async with PoolServer() as pool_server:
            async with make_client(
                pool_server.url, timeout=self.TIMEOUT, share_answers=False
            ) as client:
                # Warm-up, untraced (tracing makes every allocation 5x slower): fills the
                # connection pool, aiohttp's and cattrs' caches and the interpreter's free
                # lists, none of which is a leak.
                assert_all_answered(await round_of_calls(client))
                tracemalloc.start()
                try:
                    traced = [await traced_after_a_round(client) for _ in range(3)]
                finally:
                    tracemalloc.stop()
            peers, requests = pool_server.peers, pool_server.requests
        assert requests == 4 * CONCURRENT
        # 4,000 calls over at most the connector's 100 connections: kept alive and reused,
        # not one connection per call.
        assert len(peers) <= CONNECTOR_LIMIT
        # What stays allocated after the first measured round is the state of 100 live
        # connections on both ends (~1 MB); later rounds add ~0.1 MB, shrinking each round
        # (aiohttp's parser caches settling). A leak of 1 KB per call would add 2 MB over
        # the 2,000 calls between the measurements, and a leaked pool (a few KB with its
        # raw record) 10 MB: this bound catches both with room for allocator noise.
        first, last = traced[0], traced[-1]
        assert last < 1.5 * first + 2_000_000, [f"{t / 1e6:.2f} MB" for t in traced]
        assert other_tasks() == set()


async def traced_after_a_round(client: moor7.AsyncClient) -> int:
    assert_all_answered(await round_of_calls(client))
    # Resumed by a fresh loop callback: the one that woke us from gather() holds the
    # finished gather future, and with it all 1,000 results of the round.
    await asyncio.sleep(0)
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


class TestAnswerSize:
    """An answer is read as a stream and stopped at max_response_size."""

    async def test_a_gzip_bomb_stops_at_the_cap_having_read_no_more(
        self, server: RawServer
    ) -> None:
        inflated = 64 * 1024 * 1024  # 64 MiB of zeros: about 64 KB of gzip
        bomb = gzip.compress(b"0" * inflated, compresslevel=9)

        async def gzip_bomb(
            server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await server.read_request(reader)
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n\r\n"
            )
            writer.write(head.encode() + bomb)
            await writer.drain()
            await reader.read()  # until the client hangs up

        server.handler = gzip_bomb
        cap = 1024 * 1024
        tracemalloc.start()
        try:
            async with make_client(server.url, max_response_size=cap) as client:
                with pytest.raises(moor7.ResponseDecodeError, match="max_response_size") as excinfo:
                    await client.get_number_pool()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert excinfo.value.status == 200
        assert len(server.requests) == 1  # not retried: a bigger answer will not shrink
        # The cap, a chunk past it and the bytearray's slack; never the 64 MiB.
        assert peak < 8 * cap
        await server.wait_idle()

    async def test_a_declared_length_over_the_cap_fails_before_reading(
        self, server: RawServer
    ) -> None:
        async def huge(
            server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await server.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n{")
            await writer.drain()
            await reader.read()

        server.handler = huge
        async with make_client(server.url, max_response_size=1000) as client:
            with pytest.raises(moor7.ResponseDecodeError, match="larger than"):
                await client.get_number_pool()

    def test_the_default_cap_is_documented_and_configurable(self) -> None:
        assert moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY).transport.max_response_size == (  # type: ignore[attr-defined]
            64 * 1024 * 1024
        )
        with pytest.raises(moor7.ConfigurationError, match="max_response_size"):
            moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, max_response_size=0)
        with pytest.raises(moor7.ConfigurationError, match="max_response_size"):
            moor7.Client(DEMO_APPKEY, DEMO_SECRET_KEY, max_response_size=-1)


class TestRedirectsAndCharsets:
    async def test_a_redirect_is_an_error_naming_it_never_a_decoded_body(
        self, server: RawServer
    ) -> None:
        async def redirect(
            server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await server.read_request(reader)
            body = envelope(SAMPLE_NUMBER_POOL)  # a body that would decode, if read
            writer.write(
                b"HTTP/1.1 301 Moved Permanently\r\n"
                b"Location: https://user:hunter2@v7openapi.7moor.com/openapi/v1/call/query/number\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()

        error, _ = await fail(server, redirect)
        assert type(error) is moor7.APIError
        assert error.status == 301
        assert "redirect" in str(error)
        assert "https://v7openapi.7moor.com/openapi/v1/call/query/number" in str(error)
        assert "hunter2" not in str(error)
        assert len(server.requests) == 1

    async def test_a_declared_gbk_charset_is_honoured(self, server: RawServer) -> None:
        groups = [{"_id": "g1", "name": "客服号码组"}]
        body = json.dumps(
            {"success": True, "code": "200", "data": groups}, ensure_ascii=False
        ).encode("gbk")

        async def gbk(
            server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await server.read_request(reader)
            writer.write(http_response("200 OK", body, "application/json; charset=GBK"))
            await writer.drain()

        server.handler = gbk
        async with make_client(server.url) as client:
            (group,) = await client.list_display_number_groups()
        assert group.name == "客服号码组"

    async def test_an_unknown_charset_is_a_decode_error(self, server: RawServer) -> None:
        async def unknown(
            server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await server.read_request(reader)
            writer.write(http_response("200 OK", envelope([]), "application/json; charset=x-nope"))
            await writer.drain()

        error, _ = await fail(server, unknown)
        assert isinstance(error, moor7.ResponseDecodeError)


class TestRetryAfterZero:
    async def test_retry_after_zero_or_past_means_retry_now(self) -> None:
        async with FakeGateway() as gateway, make_client(gateway.url) as client:
            refusal = {"success": False, "code": "429", "message": "账户限流"}
            for value in ("0", "-5", "Wed, 21 Oct 2015 07:28:00 GMT"):
                gateway.respond_next(429, refusal, headers={"Retry-After": value})
                await client.get_number_pool()
            assert [call.status for call in gateway.calls] == [429, 200] * 3
