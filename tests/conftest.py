"""Shared fixtures: a fake gateway on 127.0.0.1 and clients pointed at it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway


@pytest.fixture(autouse=True)
def _no_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own MOOR7_* variables must not change what the tests see.
    for name in ("MOOR7_APPKEY", "MOOR7_SECRET_KEY", "MOOR7_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway() as gw:
        yield gw


@pytest.fixture
async def client(gateway: FakeGateway) -> AsyncIterator[moor7.AsyncClient]:
    """An AsyncClient with no quota wait and no backoff, so fault tests run fast."""
    async with moor7.AsyncClient(
        DEMO_APPKEY,
        DEMO_SECRET_KEY,
        base_url=gateway.url,
        limiter=moor7.Unlimited(),
        backoff_initial=0,
        backoff_max=0,
    ) as c:
        yield c


@pytest.fixture
def thread_gateway() -> Iterator[FakeGateway]:
    """A fake gateway on its own thread, for blocking tests."""
    with FakeGateway() as gw:
        yield gw


@pytest.fixture
def sync_client(thread_gateway: FakeGateway) -> Iterator[moor7.Client]:
    with moor7.Client(
        DEMO_APPKEY,
        DEMO_SECRET_KEY,
        base_url=thread_gateway.url,
        limiter=moor7.Unlimited(),
        backoff_initial=0,
        backoff_max=0,
    ) as c:
        yield c


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on 127.0.0.1, started for this test session.

    The binary comes from MOOR7_TEST_REDIS_SERVER or PATH (Debian: apt-get install
    redis-server; the README's test command installs it). Missing, it is an error, not a
    skip: a skipped Redis test would let the distributed quota go untested unnoticed.
    """
    binary = os.environ.get("MOOR7_TEST_REDIS_SERVER") or shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server not found: install it (apt-get install redis-server) or set "
            "MOOR7_TEST_REDIS_SERVER to its path"
        )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(  # noqa: S603 - a binary the developer chose
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"redis-server did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
