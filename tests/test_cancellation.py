"""Cancelling a call at each stage leaves no half state and takes no slot for nothing."""

from __future__ import annotations

import asyncio

import pytest

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault


def make_client(gateway: FakeGateway, limiter: moor7.Limiter, **kwargs: float) -> moor7.AsyncClient:
    return moor7.AsyncClient(
        DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter, **kwargs
    )


async def cancel_after(call: asyncio.Task[object], seconds: float) -> None:
    await asyncio.sleep(seconds)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call


class TestCancellation:
    async def test_while_waiting_for_a_slot(self, gateway: FakeGateway) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=5.0)
        async with make_client(gateway, limiter) as client:
            await client.get_number_pool()
            await cancel_after(asyncio.create_task(client.get_number_pool()), 0.1)
            assert limiter.calls_in_window(DEMO_APPKEY) == 1  # the first call only
        assert len(gateway.calls) == 1

    async def test_mid_request(self, gateway: FakeGateway) -> None:
        limiter = moor7.LocalLimiter(max_calls=5, period=5.0)
        gateway.fail_next(Fault.SLOW, delay=3)
        async with make_client(gateway, limiter) as client:
            await cancel_after(asyncio.create_task(client.get_number_pool()), 0.2)
            # The request was sent: the gateway may count it, so its slot stays taken,
            # and it is released (not held in flight forever).
            assert limiter.calls_in_window(DEMO_APPKEY) == 1
            assert await client.list_display_number_groups()
            assert limiter.calls_in_window(DEMO_APPKEY) == 2

    async def test_mid_retry_backoff(self, gateway: FakeGateway) -> None:
        limiter = moor7.LocalLimiter(max_calls=5, period=5.0)
        gateway.fail_next(Fault.SERVER_ERROR)
        async with make_client(gateway, limiter, backoff_initial=2, backoff_max=2) as client:
            await cancel_after(asyncio.create_task(client.get_number_pool()), 0.3)
            # One attempt was made and counted; the cancelled retry took nothing.
            assert limiter.calls_in_window(DEMO_APPKEY) == 1
            assert [call.status for call in gateway.calls] == [500]
            assert await client.get_number_pool()

    async def test_while_paused_after_an_over_quota_answer(self, gateway: FakeGateway) -> None:
        limiter = moor7.LocalLimiter(max_calls=5, period=5.0)
        gateway.fail_next(Fault.RATE_LIMIT)  # Retry-After: 1
        async with make_client(gateway, limiter, backoff_initial=0, backoff_max=0) as client:
            await cancel_after(asyncio.create_task(client.get_number_pool()), 0.3)
            assert limiter.calls_in_window(DEMO_APPKEY) == 1
            assert [call.status for call in gateway.calls] == [429]
