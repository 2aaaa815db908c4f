"""Every call has a priority: per call, else per client, else the endpoint's default, and
the limiter is told it (a limiter whose ``acquire`` takes it)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import moor7
from moor7 import Priority
from moor7._endpoints import agents, calls, dialout, numbers, reports
from moor7._endpoints._base import Endpoint
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway

ROOT = Path(__file__).resolve().parents[1]

INTERACTIVE, BATCH = Priority.INTERACTIVE, Priority.BATCH


class RecordingLimiter:
    """Grants at once and records the keywords of every ``acquire()``."""

    def __init__(self) -> None:
        self.acquired: list[dict[str, Any]] = []

    @contextlib.asynccontextmanager
    async def acquire(
        self,
        account: str,
        *,
        priority: Priority | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> AsyncIterator[None]:
        self.acquired.append({"account": account, "priority": priority, "timeout": timeout})
        yield

    async def pause(self, account: str, seconds: float | None = None) -> None:
        """Never asked in these tests."""

    @property
    def priorities(self) -> list[Priority | None]:
        return [grant["priority"] for grant in self.acquired]


class AccountOnlyLimiter:
    """A limiter written before priorities: ``acquire(account)`` only."""

    def __init__(self) -> None:
        self.accounts: list[str] = []

    @contextlib.asynccontextmanager
    async def acquire(self, account: str) -> AsyncIterator[None]:
        self.accounts.append(account)
        yield

    async def pause(self, account: str, seconds: float | None = None) -> None:
        """Never asked in these tests."""


@contextlib.asynccontextmanager
async def recording_client(
    gateway: FakeGateway, **settings: Any
) -> AsyncIterator[tuple[moor7.AsyncClient, RecordingLimiter]]:
    limiter = RecordingLimiter()
    async with moor7.AsyncClient(
        DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter, **settings
    ) as client:
        yield client, limiter


async def _all(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


START, END = datetime(2020, 9, 25, 20, 32, 3), datetime(2020, 12, 25, 20, 32, 3)

Call = Callable[..., Awaitable[Any]]

# Every endpoint method, called as a user would, with the priority each page or call
# takes when nobody says; the agents' pages are batch, each of them.
ENDPOINT_CALLS: dict[str, tuple[Call, Priority]] = {
    "get_number_pool": (lambda c, **kw: c.get_number_pool(**kw), INTERACTIVE),
    "list_display_number_groups": (lambda c, **kw: c.list_display_number_groups(**kw), INTERACTIVE),
    "list_sip_numbers": (lambda c, **kw: c.list_sip_numbers(**kw), INTERACTIVE),
    "list_agents": (lambda c, **kw: _all(c.list_agents(page_size=1, **kw)), BATCH),
    "list_agent_pages": (lambda c, **kw: _all(c.list_agent_pages(page_size=1, **kw)), BATCH),
    "list_queues": (lambda c, **kw: c.list_queues(**kw), INTERACTIVE),
    "agent_online": (lambda c, **kw: c.agent_online("2000", login_type="PSTN", **kw), INTERACTIVE),
    "listen": (
        lambda c, **kw: c.listen(agent_number="2000", listen_agent="2000", **kw),
        INTERACTIVE,
    ),
    "create_dialout_task": (
        lambda c, **kw: c.create_dialout_task(name="t", creator="2000", **kw),
        INTERACTIVE,
    ),
    "update_dialout_task": (
        lambda c, **kw: c.update_dialout_task("no-such-task", name="t", **kw),
        INTERACTIVE,
    ),
    "get_display_number_answer_report": (
        lambda c, **kw: c.get_display_number_answer_report(
            numbers=["01081401967"], start=START, end=END, **kw
        ),
        BATCH,
    ),
    "get_im_session_report": (
        lambda c, **kw: c.get_im_session_report(start=START, end=END, **kw),
        BATCH,
    ),
}


async def call_endpoint(name: str, client: moor7.AsyncClient, **kwargs: Any) -> None:
    make, _ = ENDPOINT_CALLS[name]
    # The gateway may refuse an argument of the example (an unknown task): what is
    # checked is what reached the limiter on the way.
    with contextlib.suppress(moor7.APIError):
        await make(client, **kwargs)


class TestEndpointDefaults:
    def test_every_endpoint_method_is_listed(self) -> None:
        public = {
            name
            for family in (agents, calls, dialout, numbers, reports)
            for cls in vars(family).values()
            if isinstance(cls, type) and cls.__name__.endswith("Methods")
            for name in vars(cls)
            if not name.startswith("_")
        }
        assert public == set(ENDPOINT_CALLS)

    @pytest.mark.parametrize("name", sorted(ENDPOINT_CALLS))
    async def test_each_endpoint_s_default(self, gateway: FakeGateway, name: str) -> None:
        _, expected = ENDPOINT_CALLS[name]
        async with recording_client(gateway) as (client, limiter):
            await call_endpoint(name, client)
        assert limiter.priorities, "nothing reached the limiter"
        assert limiter.priorities == [expected] * len(limiter.priorities)

    async def test_every_page_of_the_agents_is_batch(self, gateway: FakeGateway) -> None:
        async with recording_client(gateway) as (client, limiter):
            agents_seen = await _all(client.list_agents(page_size=1))
        assert len(agents_seen) >= 2
        assert limiter.priorities == [BATCH] * (len(agents_seen) + 1)  # the last is empty

    @pytest.mark.parametrize("name", sorted(ENDPOINT_CALLS))
    async def test_the_sync_client_has_the_same(self, name: str) -> None:
        _, expected = ENDPOINT_CALLS[name]
        limiter = RecordingLimiter()
        with (
            FakeGateway() as gateway,
            moor7.Client(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
            ) as client,
        ):
            method = getattr(client, name)
            arguments: dict[str, Any] = {
                "agent_online": {"agent_number": "2000", "login_type": "PSTN"},
                "listen": {"agent_number": "2000", "listen_agent": "2000"},
                "create_dialout_task": {"name": "t", "creator": "2000"},
                "update_dialout_task": {"task_id": "no-such-task", "name": "t"},
                "get_display_number_answer_report": {
                    "numbers": ["01081401967"],
                    "start": START,
                    "end": END,
                },
                "get_im_session_report": {"start": START, "end": END},
                "list_agents": {"page_size": 1},
                "list_agent_pages": {"page_size": 1},
            }.get(name, {})
            with contextlib.suppress(moor7.APIError):
                result = method(**arguments)
                if name.startswith("list_agent"):
                    list(result)
        assert limiter.priorities
        assert set(limiter.priorities) == {expected}


class TestOverrides:
    @pytest.mark.parametrize("name", sorted(ENDPOINT_CALLS))
    @pytest.mark.parametrize("given", ["interactive", "batch", INTERACTIVE, BATCH])
    async def test_per_call(self, gateway: FakeGateway, name: str, given: Any) -> None:
        async with recording_client(gateway) as (client, limiter):
            await call_endpoint(name, client, priority=given)
        assert limiter.priorities
        assert set(limiter.priorities) == {Priority(given)}

    @pytest.mark.parametrize("name", sorted(ENDPOINT_CALLS))
    @pytest.mark.parametrize("given", [INTERACTIVE, BATCH])
    async def test_per_client(self, gateway: FakeGateway, name: str, given: Priority) -> None:
        async with recording_client(gateway, priority=given.value) as (client, limiter):
            await call_endpoint(name, client)
        assert set(limiter.priorities) == {given}

    async def test_the_call_s_over_the_client_s(self, gateway: FakeGateway) -> None:
        async with recording_client(gateway, priority="batch") as (client, limiter):
            await client.agent_online("2000", login_type="PSTN", priority="interactive")
            await _all(client.list_agents(priority=INTERACTIVE))
            await client.get_number_pool()
        assert limiter.priorities == [INTERACTIVE, INTERACTIVE, BATCH]

    async def test_the_sync_client_takes_them(self) -> None:
        limiter = RecordingLimiter()
        with (
            FakeGateway() as gateway,
            moor7.Client(
                DEMO_APPKEY,
                DEMO_SECRET_KEY,
                base_url=gateway.url,
                limiter=limiter,
                priority="batch",
            ) as client,
        ):
            client.get_number_pool()
            client.get_number_pool(priority="interactive")
        assert limiter.priorities == [BATCH, INTERACTIVE]


class TestRequest:
    """``request()``: interactive for an action; for a query, the endpoint's default if
    moor7 knows the path, else interactive."""

    @pytest.mark.parametrize(
        ("path", "kind", "expected"),
        [
            ("/openapi/v1/call/query/agent", None, BATCH),  # a known batch query
            ("/openapi/v1/call/query/agent", "query", BATCH),
            ("/openapi/v1/call/query/agent", "action", INTERACTIVE),
            ("/openapi/im-report/session/time", None, BATCH),
            ("/openapi/v1/call/query/number", None, INTERACTIVE),
            ("/openapi/v1/call/online", None, INTERACTIVE),  # a known action
            ("/openapi/v1/unknown", None, INTERACTIVE),  # unknown: sent as an action
            ("/openapi/v1/unknown", "query", INTERACTIVE),
        ],
    )
    async def test_defaults(
        self, gateway: FakeGateway, path: str, kind: str | None, expected: Priority
    ) -> None:
        gateway.set_response(path, {"ok": True})
        async with recording_client(gateway) as (client, limiter):
            await client.request(path, kind=kind)  # type: ignore[arg-type]  # str, checked
        assert limiter.priorities == [expected]

    async def test_overridden(self, gateway: FakeGateway) -> None:
        async with recording_client(gateway, priority="batch") as (client, limiter):
            await client.request("/openapi/v1/call/query/group")
            await client.request("/openapi/v1/call/query/group", priority="interactive")
            await client.request(
                "/openapi/v1/call/query/group", priority="batch", result_type=moor7.NumberGroups
            )
        assert limiter.priorities == [BATCH, INTERACTIVE, BATCH]


class TestValidation:
    @pytest.mark.parametrize("bad", ["urgent", "", 1, True, "INTERACTIVE"])
    async def test_a_bad_priority_is_refused_before_anything_is_sent(
        self, gateway: FakeGateway, bad: object
    ) -> None:
        async with recording_client(gateway) as (client, limiter):
            with pytest.raises(moor7.ConfigurationError, match="priority must be a Priority"):
                await client.get_number_pool(priority=bad)  # type: ignore[arg-type]  # on purpose
            with pytest.raises(moor7.ConfigurationError, match="priority"):
                await client.agent_online("2000", login_type="PSTN", priority=bad)  # type: ignore[arg-type]  # on purpose
            with pytest.raises(moor7.ConfigurationError, match="priority"):
                await client.request("/openapi/v1/call/query/group", priority=bad)  # type: ignore[arg-type]  # on purpose
            # Raised by the call itself, before the first page is asked for.
            with pytest.raises(moor7.ConfigurationError, match="priority"):
                client.list_agents(priority=bad)  # type: ignore[arg-type]  # on purpose
        assert limiter.acquired == []
        assert gateway.calls == []

    @pytest.mark.parametrize("bad", ["urgent", 2])
    def test_a_bad_client_priority(self, bad: object) -> None:
        for make in (moor7.AsyncClient, moor7.Client):
            with pytest.raises(moor7.ConfigurationError, match="priority"):
                make(DEMO_APPKEY, DEMO_SECRET_KEY, priority=bad)  # type: ignore[arg-type]  # on purpose

    def test_a_bad_client_priority_in_the_sync_client_is_raised_by_its_constructor(
        self,
    ) -> None:
        with pytest.raises(moor7.ConfigurationError, match="priority"):
            moor7.Client(DEMO_APPKEY, DEMO_SECRET_KEY, priority="soon")  # type: ignore[arg-type]  # on purpose


class TestLimiters:
    async def test_a_limiter_without_priorities_is_not_given_one(
        self, gateway: FakeGateway
    ) -> None:
        limiter = AccountOnlyLimiter()
        async with moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
        ) as client:
            await client.get_number_pool(priority="batch")
        assert limiter.accounts == [DEMO_APPKEY]

    async def test_the_redis_limiter_is_given_it(
        self, gateway: FakeGateway, redis_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """RedisLimiter.acquire takes ``priority``: it reaches it, through the pipeline."""
        limiter = moor7.RedisLimiter(redis_url, key_prefix="moor7:quota:priorities:")
        seen: list[object] = []
        acquire = limiter.acquire

        def spy(account: str, **options: Any) -> Any:
            seen.append(options.get("priority"))
            return acquire(account, **options)

        monkeypatch.setattr(limiter, "acquire", spy)
        try:
            async with moor7.AsyncClient(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
            ) as client:
                await client.get_number_pool()
                await client.get_display_number_answer_report(
                    numbers=["01081401967"], start=START, end=END
                )
        finally:
            await limiter.aclose()
        assert seen == [INTERACTIVE, BATCH]


# -- the docs' tables --------------------------------------------------------------------


def _declared() -> Iterator[Endpoint[Any]]:
    for family in (agents, calls, dialout, numbers, reports):
        for value in vars(family).values():
            if isinstance(value, Endpoint):
                yield value


def test_each_family_page_gives_each_endpoint_s_priority() -> None:
    """docs/api/*.md: the table's priority column is the Endpoint's declaration."""
    documented: dict[str, str] = {}
    for page in sorted((ROOT / "docs" / "api").glob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            path = re.search(r"`(/openapi/[^`]+)`", line)
            if line.startswith("| `") and path and len(cells) == 4:
                documented[path[1]] = cells[3]
    declared = {endpoint.path: endpoint.priority.value for endpoint in _declared()}
    assert documented == declared
