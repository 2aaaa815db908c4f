"""A keep-alive connection the server closes just as an action goes out.

Servers close idle keep-alive connections (nginx after 75 s by default). An action sent
on such a connection at that moment used to fail as a ``NetworkError``, "the gateway may
have acted", although the server never read it. Where moor7 can tell that nothing was
written, it is a ``ConnectError`` (nothing sent: an action is tried again), or better,
no error at all: a pooled connection the server has closed is not reused.

Where nobody can tell (the request and the server's close cross on the wire, or the
server closes with the request unread in its buffer), it stays a ``NetworkError``: the
errors guide says so. The server here runs on its own thread and event loop, as a real
gateway runs apart from its clients, and records every request it reads.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import moor7
import moor7._transport
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY

IDLE = 0.05  # the server closes a connection idle this long (seconds)
ACTION = "/openapi/v1/test/action"  # not a path moor7 knows: sent as an action


class ClosingServer:
    """An HTTP/1.1 server on 127.0.0.1, on a thread of its own, that answers every
    request at once and closes a keep-alive connection idle for ``IDLE`` seconds."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []  # every request read, in full
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> ClosingServer:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        )
        self._server = started.result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None

        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def read(self, tag: int) -> bool:
        """Whether the server read the action tagged *tag*."""
        return any(body.get("tag") == tag for body in list(self.bodies))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE)
                except (asyncio.TimeoutError, asyncio.IncompleteReadError):
                    return  # idle too long, or the client went: close
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                self.bodies.append(json.loads(body) if body else {})
                answer = b'{"success": true, "code": "200", "message": "ok", "data": null}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer)
                )
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


@pytest.fixture
def server() -> Iterator[ClosingServer]:
    with ClosingServer() as running:
        yield running


@pytest.fixture
async def client(server: ClosingServer) -> AsyncIterator[moor7.AsyncClient]:
    async with moor7.AsyncClient(
        DEMO_APPKEY,
        DEMO_SECRET_KEY,
        base_url=server.url,
        limiter=moor7.Unlimited(),
        max_retries=0,  # each attempt's outcome, as it is
    ) as made:
        yield made


async def warm_up(client: moor7.AsyncClient) -> None:
    """One call, which leaves its connection in the pool. A query, retried as by
    default: the connection the last action left may be the one the server closes
    next (what the tests measure is the actions, sent with no retry)."""
    await client.request("/openapi/v1/test/query", {"warm": True}, kind="query", max_retries=3)


class TestAClosedConnectionIsNotReused:
    async def test_closed_while_the_event_loop_was_busy(
        self, server: ClosingServer, client: moor7.AsyncClient
    ) -> None:
        """The server's close arrived while the client's loop was busy (a blocking call,
        a large pool decoded): aiohttp had not seen it, and wrote the action into a
        connection nobody reads ("NetworkError: the gateway may have acted")."""
        for tag in range(5):
            await warm_up(client)
            time.sleep(IDLE * 4)  # noqa: ASYNC251 - blocking: the close arrives, unread
            await client.request(ACTION, {"tag": tag})  # no error
            assert server.read(tag)
        assert [body.get("tag") for body in server.bodies if "tag" in body] == list(range(5))

    async def test_a_pooled_connection_that_is_alive_is_reused(
        self, server: ClosingServer, client: moor7.AsyncClient
    ) -> None:
        for _ in range(5):
            await warm_up(client)
        assert server.connections == 1


class _ClosingConnector(aiohttp.TCPConnector):
    """Hands out a pooled connection, then closes it the moment aiohttp is about to write
    the request (from the trace hook below): as aiohttp sees a connection the server
    closed just then. Python 3.12 writes the request eagerly, within the call that buffers
    the headers; 3.10 and 3.11 in a task of their own, one step later."""

    def __init__(self) -> None:
        super().__init__()
        self.handed_out: Any = None
        self.protocols: list[Any] = []  # of each connection handed out

    async def connect(self, *args: Any, **kwargs: Any) -> Any:
        connection = await super().connect(*args, **kwargs)
        self.handed_out = connection
        self.protocols.append(connection.protocol)
        return connection


class Closing:
    """A client on a session whose next request finds its pooled connection closed just
    as aiohttp is about to write it (see _ClosingConnector)."""

    def __init__(self, client: moor7.AsyncClient, connector: _ClosingConnector) -> None:
        self.client = client
        self.connector = connector
        self.armed = False


@contextlib.asynccontextmanager
async def closing(server: ClosingServer, **settings: Any) -> AsyncIterator[Closing]:
    connector = _ClosingConnector()

    async def about_to_write(*_: Any) -> None:
        if not made.armed:
            return
        made.armed = False
        transport = connector.handed_out.transport
        if sys.version_info >= (3, 12):
            transport.close()  # the write runs within this very call
        else:
            asyncio.get_running_loop().call_soon(transport.close)  # before the write task

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(about_to_write)
    session = aiohttp.ClientSession(connector=connector, trace_configs=[trace])
    client = moor7.AsyncClient(
        DEMO_APPKEY,
        DEMO_SECRET_KEY,
        base_url=server.url,
        limiter=moor7.Unlimited(),
        session=session,
        **settings,
    )
    made = Closing(client, connector)
    async with session, client:
        await warm_up(client)
        made.armed = True
        yield made


class TestNothingWritten:
    async def test_aiohttp_refusing_to_write_is_a_connect_error(
        self, server: ClosingServer
    ) -> None:
        async with closing(server, max_retries=0) as made:
            with pytest.raises(moor7.ConnectError, match="before the request was written"):
                await made.client.request(ACTION, {"tag": 1})
        assert made.connector.protocols[0] is made.connector.protocols[1]  # the pooled one
        assert not server.read(1)

    async def test_so_an_action_is_sent_again_and_runs_once(self, server: ClosingServer) -> None:
        async with closing(server, backoff_initial=0, backoff_max=0) as made:
            await made.client.request(ACTION, {"tag": 2})
        assert [body.get("tag") for body in server.bodies].count(2) == 1

    def test_the_refusal_is_what_moor7_recognises(self) -> None:
        """aiohttp's own words for a write it refused, as moor7 matches them."""
        import aiohttp.http_writer as http_writer

        source = Path(http_writer.__file__).read_text(encoding="utf-8")
        assert f'"{moor7._transport._REFUSED_WRITE}"' in source


class TestTheSweep:
    """Actions sent around the moment the server closes the idle connection, as the
    issue's sweep did (61 each): whatever moor7 says must be true."""

    @pytest.mark.parametrize("busy", [False, True], ids=["awaiting", "busy loop"])
    async def test_a_connect_error_is_never_a_lie(
        self, server: ClosingServer, client: moor7.AsyncClient, busy: bool
    ) -> None:
        outcomes: collections.Counter[str] = collections.Counter()
        for tag in range(61):
            offset = (tag - 30) * 0.0002  # -6 ms .. +6 ms around the close
            await warm_up(client)
            if busy:
                time.sleep(IDLE + offset)  # noqa: ASYNC251 - the loop busy, on purpose
            else:
                await asyncio.sleep(IDLE + offset)
            try:
                await client.request(ACTION, {"tag": tag})
            except moor7.ConnectError:
                await asyncio.sleep(0.05)  # anything in flight reaches the server
                assert not server.read(tag), "a ConnectError for an action the server read"
                outcomes["ConnectError"] += 1
            except moor7.NetworkError:
                outcomes["NetworkError"] += 1  # may or may not have been read: unknowable
            else:
                assert server.read(tag)
                outcomes["ok"] += 1
        assert sum(outcomes.values()) == 61
        print(dict(outcomes))  # the figures, for -s
