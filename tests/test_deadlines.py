"""Bounded waits: a deadline for the whole call, and close() ending the waiting."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault

# Slack on "at once": these pin that nothing waits for the quota or a backoff, on a
# 2-core CI machine; the waits avoided are whole seconds.
AT_ONCE = 0.5


def make_client(gateway: FakeGateway, **settings: Any) -> moor7.AsyncClient:
    options: dict[str, Any] = {"limiter": moor7.Unlimited(), "backoff_initial": 0, "backoff_max": 0}
    options.update(settings)
    return moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, **options)


class BlockingLimiter:
    """A limiter without expected_wait(): its one slot is held until released."""

    def __init__(self) -> None:
        self.free = asyncio.Event()
        self.granted = 0

    @contextlib.asynccontextmanager
    async def acquire(self, account: str) -> AsyncIterator[None]:
        await self.free.wait()
        self.granted += 1
        yield

    async def pause(self, account: str, seconds: float | None = None) -> None:
        pass


class TestDeadline:
    async def test_a_quota_wait_past_the_deadline_fails_at_once_taking_no_slot(
        self, gateway: FakeGateway
    ) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=5.0)
        async with make_client(gateway, limiter=limiter) as client:
            await client.list_queues()
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded, match="quota slot") as excinfo:
                await client.list_queues(deadline=1.0)
            assert time.monotonic() - started < AT_ONCE
        assert excinfo.value.sent is False
        assert limiter.calls_in_window(DEMO_APPKEY) == 1  # no slot for nothing
        assert len(gateway.calls) == 1  # nothing sent that could not finish

    @pytest.mark.parametrize("where", ["limiter", "expected_wait"])
    async def test_with_the_client_s_own_backoff_nothing_is_retried(
        self, gateway: FakeGateway, where: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """As users run it (the default backoff, not this file's zero): a deadline out of
        reach is raised at once, not retried three times with a backoff between."""
        local = moor7.LocalLimiter(max_calls=1, period=60.0)
        if where == "limiter":  # the limiter takes the deadline and raises itself
            limiter: Any = local
        else:  # the client asks expected_wait() of a limiter that takes no deadline

            class Asking:
                def acquire(self, account: str) -> Any:
                    return local.acquire(account)

                async def pause(self, account: str, seconds: float | None = None) -> None:
                    await local.pause(account, seconds)

                def expected_wait(self, account: str) -> float:
                    return local.expected_wait(account)

            limiter = Asking()
        caplog.set_level("INFO", logger="moor7")
        async with moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
        ) as client:
            await client.list_queues()
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded, match="quota slot") as excinfo:
                await client.list_queues(deadline=5.0)
            assert time.monotonic() - started < AT_ONCE
        assert excinfo.value.attempts == 0
        assert not [r for r in caplog.records if "retry" in r.getMessage()]
        assert len(gateway.calls) == 1

    async def test_a_limiter_without_expected_wait_is_bounded_too(
        self, gateway: FakeGateway
    ) -> None:
        limiter = BlockingLimiter()
        async with make_client(gateway, limiter=limiter, deadline=0.3) as client:
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded):
                await client.list_queues()
            assert 0.25 < time.monotonic() - started < 0.3 + AT_ONCE
        assert limiter.granted == 0
        assert gateway.calls == []

    async def test_a_backoff_past_the_deadline_is_not_waited(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SERVER_ERROR, times=5)
        async with make_client(gateway, backoff_initial=2.0, backoff_max=2.0) as client:
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded, match="retry") as excinfo:
                await client.list_queues(deadline=1.0)
            assert time.monotonic() - started < AT_ONCE
        assert isinstance(excinfo.value.__cause__, moor7.ServerError)
        assert excinfo.value.sent is True
        assert len(gateway.calls) == 1

    async def test_a_retry_after_past_the_deadline_is_not_waited(
        self, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.RATE_LIMIT)  # Retry-After: 1
        async with make_client(gateway) as client:
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded):
                await client.get_number_pool(deadline=0.5)
            assert time.monotonic() - started < AT_ONCE

    async def test_an_attempt_never_runs_past_the_deadline(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SLOW, delay=3.0)
        async with make_client(gateway, timeout=10.0) as client:
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded, match="cut") as excinfo:
                await client.list_queues(deadline=0.4)
            assert 0.35 < time.monotonic() - started < 0.4 + AT_ONCE
        assert excinfo.value.sent is True
        assert isinstance(excinfo.value, moor7.RequestTimeout)  # caught as any timeout

    async def test_within_the_deadline_retries_go_on(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SERVER_ERROR, times=2)
        async with make_client(gateway, deadline=5.0) as client:
            await client.list_queues()
        assert [call.status for call in gateway.calls] == [500, 500, 200]

    def test_the_blocking_client_has_a_deadline_too(self, thread_gateway: FakeGateway) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=5.0)
        with moor7.Client(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=thread_gateway.url, limiter=limiter, deadline=1.0
        ) as client:
            client.list_queues()
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded):
                client.list_queues()
            with pytest.raises(moor7.DeadlineExceeded):
                list(client.list_agents(deadline=0.5))
            assert time.monotonic() - started < 2 * AT_ONCE

    @pytest.mark.parametrize("deadline", [0, -1, float("inf"), True])
    def test_a_deadline_must_be_a_positive_number_of_seconds(self, deadline: Any) -> None:
        with pytest.raises(moor7.ConfigurationError, match="deadline"):
            moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, deadline=deadline)


class TestCloseEndsTheWaiting:
    async def test_a_call_waiting_for_a_slot_ends_at_once(self, gateway: FakeGateway) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=30.0)
        client = make_client(gateway, limiter=limiter)
        await client.list_queues()
        waiting = asyncio.ensure_future(client.list_queues())
        await asyncio.sleep(0.1)
        assert not waiting.done()
        started = time.monotonic()
        await client.aclose()
        with pytest.raises(moor7.ClientClosedError, match="closed while the call was waiting"):
            await waiting
        assert time.monotonic() - started < AT_ONCE
        assert limiter.calls_in_window(DEMO_APPKEY) == 1
        assert len(gateway.calls) == 1

    async def test_a_call_in_its_backoff_ends_at_once(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        client = make_client(gateway, backoff_initial=30.0, backoff_max=30.0)
        waiting = asyncio.ensure_future(client.list_queues())
        await asyncio.sleep(0.3)  # the first attempt has failed; the 30 s backoff runs
        assert [call.status for call in gateway.calls] == [500]
        started = time.monotonic()
        await client.aclose()
        with pytest.raises(moor7.ClientClosedError):
            await waiting
        assert time.monotonic() - started < AT_ONCE

    async def test_a_cancellation_of_its_own_is_still_a_cancellation(
        self, gateway: FakeGateway
    ) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=30.0)
        async with make_client(gateway, limiter=limiter) as client:
            await client.list_queues()
            waiting = asyncio.ensure_future(client.list_queues())
            await asyncio.sleep(0.05)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting

    def test_closing_a_blocking_client_from_another_thread(
        self, thread_gateway: FakeGateway
    ) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=30.0)
        client = moor7.Client(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=thread_gateway.url, limiter=limiter
        )
        client.list_queues()
        outcome: list[BaseException] = []

        def call() -> None:
            try:
                client.list_queues()
            except BaseException as exc:  # the outcome this test checks
                outcome.append(exc)

        worker = threading.Thread(target=call)
        worker.start()
        time.sleep(0.2)
        started = time.monotonic()
        client.close()
        worker.join(timeout=5)
        assert not worker.is_alive()
        assert time.monotonic() - started < AT_ONCE
        assert [type(exc) for exc in outcome] == [moor7.ClientClosedError]


class SlowReleaseLimiter:
    """Grants at once; releasing a slot takes a while (as a Redis round trip does)."""

    def __init__(self, release_delay: float) -> None:
        self.release_delay = release_delay

    @contextlib.asynccontextmanager
    async def acquire(self, account: str) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await asyncio.sleep(self.release_delay)

    async def pause(self, account: str, seconds: float | None = None) -> None:
        pass


class TestCloseNeverHidesAnAnswer:
    async def test_an_action_answered_while_its_slot_is_released_is_not_closed(
        self, gateway: FakeGateway
    ) -> None:
        """A close in that moment once reported an answered action as never sent."""
        client = make_client(gateway, limiter=SlowReleaseLimiter(0.3))
        call = asyncio.ensure_future(client.create_dialout_task(name="t", creator="2001"))
        await asyncio.sleep(0.15)  # answered; the slot is being released
        await client.aclose()
        result = await call
        assert result.request_id == gateway.calls[0].request_id
        assert len(gateway.dialout_tasks) == 1

    async def test_a_call_answered_after_close_waits_no_backoff(self) -> None:
        """An answer that arrives after close (a shared session stays open) is not
        followed by a backoff, a Retry-After or a wait for a slot."""
        attempts = 0

        async def answer(request: moor7.OutgoingRequest, headers: Any) -> moor7.HttpResponse:
            nonlocal attempts
            attempts += 1
            await asyncio.sleep(0.2)
            body = b'{"success": false, "code": "429", "message": "rate limit"}'
            return moor7.HttpResponse(429, {"Retry-After": "3"}, body)

        client = moor7.AsyncClient(
            DEMO_APPKEY,
            DEMO_SECRET_KEY,
            transport=moor7.testing.MockTransport(answer),  # its sends survive aclose()
            limiter=moor7.Unlimited(),
        )
        call = asyncio.ensure_future(client.list_queues())
        await asyncio.sleep(0.05)  # in flight
        await client.aclose()
        started = time.monotonic()
        with pytest.raises(moor7.RateLimitError):
            await call
        assert time.monotonic() - started < AT_ONCE
        assert attempts == 1


class TestDeadlineEdges:
    async def test_the_same_exception_raised_every_time_still_meets_the_deadline(self) -> None:
        refused = moor7.ConnectError("refused")

        def answer(request: moor7.OutgoingRequest, headers: Any) -> moor7.HttpResponse:
            raise refused

        async with moor7.AsyncClient(
            DEMO_APPKEY,
            DEMO_SECRET_KEY,
            transport=moor7.testing.MockTransport(answer),
            limiter=moor7.Unlimited(),
            backoff_initial=0.2,
            backoff_max=0.2,
            max_retries=50,
        ) as client:
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded, match="retry") as excinfo:
                await client.list_queues(deadline=0.5)
            assert time.monotonic() - started < 0.5 + AT_ONCE
        assert excinfo.value.sent is False  # only refused connections: nothing went out
