"""Type-checked only (mypy --strict), never run: the public API as a user writes it.

If a change makes these lines fail to type-check, users' code fails too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiohttp
import attrs
from typing_extensions import assert_type

import moor7
from moor7.exceptions import APIError, RateLimitError
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault, ReceivedCall


async def async_usage(session: aiohttp.ClientSession) -> None:
    async with moor7.AsyncClient(
        appkey="2000103",
        secret_key="secret",
        base_url="https://v7openapi.7moor.com",
        timeout=5.0,
        max_retries=2,
        session=session,
    ) as client:
        pool: moor7.NumberPool = await client.get_number_pool()
        numbers: list[moor7.PhoneNumber] = pool.display_numbers
        sips: list[moor7.SipNumber] = pool.sip_numbers
        request_id: str | None = pool.request_id
        ability: moor7.CallAbility | int | None = numbers[0].call_ability
        created: datetime | None = numbers[0].create_time
        groups: list[moor7.NumberGroup] = await client.list_display_number_groups()
        group_id: str = groups[0].id
        groups_request_id: str | None = (await client.list_display_number_groups()).request_id
        data: Any = await client.request("/openapi/v1/call/query/agent", {"page": 1})
        await client.get_number_pool(timeout=None, max_retries=0)
        print(sips, request_id, ability, created, group_id, groups_request_id, data)


async def priorities_and_shared_answers() -> None:
    async with moor7.AsyncClient(priority="batch", max_age=30, share_answers=True) as client:
        pool = await client.get_number_pool(priority="interactive", max_age=None)
        from_cache: bool = pool.from_cache
        age: float = pool.age
        groups = await client.list_display_number_groups(priority=moor7.Priority.BATCH, max_age=5)
        assert_type(groups.from_cache, bool)
        async for agent in client.list_agents(priority="batch", max_age=60.0):
            print(agent.agent_number)
        await client.agent_online("2000", login_type="PSTN", priority="interactive")
        members = await client.request(
            "/openapi/v1/call/query/agent", {"page": 1}, priority="batch", max_age=10
        )
        print(from_cache, age, members)
    with moor7.Client(priority=moor7.Priority.INTERACTIVE, max_age=30.0) as blocking:
        assert_type(blocking.get_number_pool(max_age=30).age, float)


def sync_usage() -> None:
    with moor7.Client("2000103", "secret", limiter=moor7.LocalLimiter(5, 60.0)) as client:
        pool: moor7.NumberPool = client.get_number_pool()
        groups: list[moor7.NumberGroup] = client.list_display_number_groups()
        print(pool, groups)
    try:
        moor7.Client().request("/openapi/v1/call/sip/list")
    except RateLimitError as error:
        wait: float | None = error.retry_after
        print(wait)
    except APIError as error:
        print(error.status, error.code, error.message, error.request_id)
    except moor7.Moor7Error:
        raise


class VaultSigner:
    async def sign(self, request: moor7.OutgoingRequest) -> dict[str, str]:
        await asyncio.sleep(0)
        return moor7.HmacSigner("2000103", "secret").sign(request)


class NoLimit:
    @asynccontextmanager
    async def acquire(self, account: str) -> AsyncGenerator[None, None]:
        yield

    async def pause(self, account: str, seconds: float | None = None) -> None:
        pass


def custom_parts() -> None:
    signer: moor7.Signer = VaultSigner()
    limiter: moor7.Limiter = NoLimit()
    moor7.Client("2000103", signer=signer, limiter=limiter)
    moor7.AsyncClient("2000103", signer=moor7.HmacSigner("2000103", "s"), limiter=moor7.Unlimited())


async def testing_usage() -> None:
    async with FakeGateway(quota=None) as gateway:
        gateway.fail_next(Fault.SERVER_ERROR, times=2)
        async with moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url) as c:
            await c.get_number_pool()
        calls: list[ReceivedCall] = gateway.calls
        print(calls[0].status, gateway.max_calls_in_window(DEMO_APPKEY))
    with FakeGateway() as threaded:
        print(threaded.url)


async def families_async(client: moor7.AsyncClient) -> None:
    regs: moor7.SipRegistrations = await client.list_sip_numbers(
        number="2000", register_statuses=[moor7.RegisterStatus.REGISTERED, 0]
    )
    agent_of_sip: moor7.SipAgent | None = regs[0].agent
    status: moor7.RegisterStatus | int | None = regs[0].register_status
    async for agent in client.list_agents(agent_number="2000", page_size=50):
        number: str = agent.agent_number
        queues: list[moor7.AgentQueue] = agent.queues
        print(number, queues)
    async for page in client.list_agent_pages():
        page_number: int = page.page
        page_id: str | None = page.request_id
        first: moor7.Agent = page[0]
        print(page_number, page_id, first)
    all_queues: moor7.Queues = await client.list_queues()
    members: list[moor7.QueueMember] = all_queues[0].members
    online: moor7.ActionResult = await client.agent_online(
        "2000", login_type=moor7.LoginType.SIP, status="1"
    )
    listening: moor7.ListenResult = await client.listen(agent_number="1", listen_agent="2")
    media: str | None = listening.media_server
    await client.create_dialout_task(name="回访", creator="2001", agent_numbers=["2000"])
    await client.update_dialout_task("task", name="回访2", description=None)
    rates: moor7.AnswerRates = await client.get_display_number_answer_report(
        numbers=["9813"], start=datetime(2020, 9, 25), end=datetime(2020, 12, 25)
    )
    percentage: float | None = rates[0].percentage
    report: moor7.ImSessionReport = await client.get_im_session_report(
        start=datetime(2021, 8, 1),
        end=datetime(2021, 8, 31),
        dimension=moor7.ReportDimension.DAY,
        access_ids=["XhRRVj3VLLVYsoNA"],
    )
    columns: list[moor7.ReportColumn] = report.columns
    data: Any = await client.request("/openapi/v1/x", {}, kind=moor7.CallKind.QUERY)
    await client.list_queues(timeout=moor7.USE_CLIENT_DEFAULT)
    print(agent_of_sip, status, members, online, media, percentage, columns, data)


def families_sync(client: moor7.Client) -> None:
    agents: list[moor7.Agent] = list(client.list_agents())
    pages: list[moor7.AgentPage] = list(client.list_agent_pages(page_size=10))
    result: moor7.ActionResult = client.agent_online("2000", login_type="PSTN")
    listening: moor7.ListenResult = client.listen(agent_number="1", listen_agent="2")
    data: Any = client.request("/openapi/v1/x", kind="action")
    print(agents, pages, result, listening, data)


@attrs.frozen
class Member:
    agent_number: str
    name: str | None = None
    request_id: str | None = None


async def typed_results(client: moor7.AsyncClient, sync: moor7.Client) -> None:
    # A tolerant enum field shows its enum to mypy too (it folded CallAbility | int).
    number = (await client.get_number_pool()).display_numbers[0]
    assert_type(number.call_ability, moor7.CallAbility | moor7.UnlistedInt | None)
    queue = (await client.list_queues())[0]
    assert_type(queue.status, moor7.QueueStatus | moor7.UnlistedStr | None)
    if isinstance(number.call_ability, moor7.CallAbility):
        assert_type(number.call_ability, moor7.CallAbility)
    elif number.call_ability is not None:
        unlisted: int = number.call_ability
        print(unlisted)
    # request() with a result type is typed; without one it is Any.
    members = await client.request(
        "/openapi/v1/call/query/agent", {"page": 1}, result_type=list[Member]
    )
    assert_type(members, list[Member])
    page = sync.request("/openapi/v1/call/query/agent", result_type=moor7.AgentPage)
    assert_type(page, moor7.AgentPage)
    assert_type(sync.request("/openapi/v1/call/query/agent"), Any)


async def collections_and_wire_values(client: moor7.AsyncClient) -> None:
    # Any collection of strings but a str; the enums or their wire values.
    start, end = datetime(2021, 8, 1), datetime(2021, 8, 31)
    await client.create_dialout_task(name="t", creator="2001", agent_numbers=("2000", "2001"))
    await client.create_dialout_task(name="t", creator="2001", queue_numbers={"q1"})
    await client.get_display_number_answer_report(numbers=["9813"], start=start, end=end)
    await client.get_im_session_report(start=start, end=end, dimension="half_hour")
    await client.agent_online("2000", login_type="WEBRTC", status=moor7.OnlineStatus.BUSY)
    await client.list_sip_numbers(register_statuses=[1, moor7.RegisterStatus.UNREGISTERED])
    await client.request("/openapi/v1/x", kind="query")
