"""pytest fixtures for testing code that uses moor7: a fake gateway and clients bound to it.

pytest loads this module by itself wherever moor7 is installed (a ``pytest11`` entry
point named ``moor7``): there is nothing to import or configure. The fixtures:

``moor7_gateway``
    A running :class:`~moor7.testing.FakeGateway`, fresh for each test, on its own event
    loop in a background thread. Its ``url`` answers from any thread and any event loop,
    so the one gateway serves sync and async tests alike.
``moor7_client``
    A blocking :class:`moor7.Client` of the demo account, pointed at ``moor7_gateway``.
``moor7_async_client``
    An :class:`moor7.AsyncClient` of the demo account, pointed at ``moor7_gateway``. An
    async fixture: it needs pytest-asyncio (either mode) or anyio to run.

Both clients have no quota wait (:class:`moor7.Unlimited`: the fake enforces the
quota itself) and retry at once (no backoff), and are closed after the test. Redefine
``moor7_gateway`` in a ``conftest.py`` to change the fake (``number_pool=``,
``quota=``): the client fixtures follow it.

With ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` set, load it by name: ``-p moor7.pytest_plugin``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

# `import moor7` loads none of the client (see moor7/__init__.py): pytest imports this
# module in every run of every project wherever moor7 is installed, and such a run must
# not pay for aiohttp and moor7's client (about 0.2 s) unless a test asks for a fixture.
# tests/test_pytest_plugin.py checks what a run that uses none of them imports.
import moor7

if TYPE_CHECKING:
    from moor7.testing import FakeGateway

    _C = TypeVar("_C", moor7.Client, moor7.AsyncClient)


def _client_for(client_class: type[_C], gateway: FakeGateway) -> _C:
    """A client of the demo account, pointed at *gateway*, that never waits."""
    from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY

    return client_class(
        DEMO_APPKEY,
        DEMO_SECRET_KEY,
        base_url=gateway.url,
        # The fake enforces the quota itself; the process-wide limiter, shared by every
        # client of the demo account, would make the 21st call of a test run wait for
        # a slot for up to a minute.
        limiter=moor7.Unlimited(),
        # A test of a fault should not sleep through the backoff between retries.
        backoff_initial=0,
        backoff_max=0,
    )


@pytest.fixture
def moor7_gateway() -> Iterator[FakeGateway]:
    """A running fake 7moor gateway, fresh for each test.

    It runs on its own event loop in a background thread, so it answers blocking clients
    and clients on any event loop alike. Redefine this fixture to make the gateway
    differently; the client fixtures use whichever ``moor7_gateway`` is in force.

    Yields:
        The gateway, with its default settings: the demo account, the example data of
        7moor's docs and the real quota (20 calls per rolling minute).
    """
    # Imported here, not at the top: pytest loads this module in every test run of an
    # environment that has moor7, also in those that never ask for these fixtures, and
    # moor7.testing brings aiohttp's server side (some 60 ms) on top of moor7's client.
    from moor7.testing import FakeGateway

    with FakeGateway() as gateway:
        yield gateway


@pytest.fixture
def moor7_client(moor7_gateway: FakeGateway) -> Iterator[moor7.Client]:
    """A blocking client of the demo account, pointed at ``moor7_gateway``.

    No quota wait and no backoff between retries; closed after the test.

    Yields:
        The client.
    """
    with _client_for(moor7.Client, moor7_gateway) as client:
        yield client


async def _moor7_async_client(moor7_gateway: FakeGateway) -> AsyncIterator[moor7.AsyncClient]:
    """An async client of the demo account, pointed at ``moor7_gateway``.

    No quota wait and no backoff between retries; closed after the test. An async
    fixture: pytest-asyncio or anyio runs it, on the event loop of the test.

    Yields:
        The client, already bound to the event loop the fixture runs on, so that a test
        on another loop fails at once with :class:`moor7.WrongEventLoopError` rather
        than leaving connections open on a loop that is gone.
    """
    async with _client_for(moor7.AsyncClient, moor7_gateway) as client:
        yield client


def pytest_configure(config: pytest.Config) -> None:
    """Declare ``moor7_async_client`` for the async test runner of this run."""
    config.pluginmanager.register(_async_fixtures(config), "moor7.pytest_plugin.async")


def _async_fixtures(config: pytest.Config) -> type:
    """The async fixture, declared with pytest-asyncio's decorator if it is active.

    pytest-asyncio in strict mode runs only the async fixtures declared with its own
    decorator. Where it is not active, a plain pytest fixture is what anyio runs for its
    tests (``@pytest.mark.anyio``). This is decided now, not when this module is
    imported: pytest has loaded its plugins by now, and importing pytest-asyncio
    ourselves before pytest does (``-p`` with autoloading off) would keep pytest from
    rewriting its asserts, a warning that ``filterwarnings = error`` turns fatal.
    """
    # Both decorators take the same arguments; their overloads differ only in types.
    fixture: Callable[..., Any] = pytest.fixture
    plugins = config.pluginmanager.get_plugins()
    if any(getattr(plugin, "__name__", None) == "pytest_asyncio.plugin" for plugin in plugins):
        import pytest_asyncio  # loaded by now: it is the package of an active plugin

        fixture = pytest_asyncio.fixture

    class AsyncFixtures:
        moor7_async_client = fixture(_moor7_async_client, name="moor7_async_client")

    return AsyncFixtures
