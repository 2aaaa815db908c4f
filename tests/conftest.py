"""Shared fixtures: a fake gateway on 127.0.0.1 and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

import moor7
from moor7._redis_server import RedisProcess
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway
from tests.redis_servers import app_url, app_user


@pytest.fixture(autouse=True)
def _no_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own MOOR7_* variables must not change what the tests see.
    for name in (
        "MOOR7_APPKEY",
        "MOOR7_SECRET_KEY",
        "MOOR7_BASE_URL",
        "MOOR7_TIMEOUT",
        "MOOR7_MAX_RETRIES",
    ):
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
def redis_process() -> Iterator[RedisProcess]:
    """A real redis-server on 127.0.0.1, started for this test session, with the
    least-privilege user docs/quota.md documents.

    Missing, it is an error, not a skip: a skipped Redis test would let the distributed
    quota go untested unnoticed. The README's test command installs it.
    """
    try:
        server = RedisProcess(arguments=app_user())
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    with server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_process: RedisProcess) -> str:
    """The session server's URL as the least-privilege user: the tests run as that user."""
    return app_url(redis_process)


@pytest.fixture(scope="session")
def redis_admin_url(redis_process: RedisProcess) -> str:
    """The session server's URL as its default user, for what tests do as an operator."""
    return redis_process.url
