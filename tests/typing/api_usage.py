"""Type-checked only (mypy --strict), never run: the public API as a user writes it.

If a change makes these lines fail to type-check, users' code fails too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiohttp

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
    async def acquire(self, account: str) -> AsyncIterator[None]:
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
