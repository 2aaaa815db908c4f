"""The quota across processes: RedisLimiter against a real redis-server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway
from tests.test_limits import Interval, assert_never_over, timed_call

MakeLimiter = Callable[..., moor7.RedisLimiter]


@pytest.fixture
async def make_limiter(redis_url: str) -> AsyncIterator[MakeLimiter]:
    """RedisLimiters with a key prefix of this test's own, closed afterwards."""
    prefix = f"moor7:quota:test-{uuid.uuid4().hex}:"
    made: list[moor7.RedisLimiter] = []

    def make(**kwargs: Any) -> moor7.RedisLimiter:
        # Short, as the calls here are: a lease is how long a lost call holds its slot.
        kwargs.setdefault("lease", 0.5)
        limiter = moor7.RedisLimiter(kwargs.pop("url", redis_url), key_prefix=prefix, **kwargs)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.aclose()


class TestConfiguration:
    def test_rejects_nonsense(self, redis_url: str) -> None:
        with pytest.raises(moor7.ConfigurationError, match="max_calls"):
            moor7.RedisLimiter(redis_url, max_calls=0)
        with pytest.raises(moor7.ConfigurationError, match="on_unavailable"):
            moor7.RedisLimiter(redis_url, on_unavailable="ignore")  # type: ignore[arg-type]
        with pytest.raises(moor7.ConfigurationError, match="lease"):
            moor7.RedisLimiter(redis_url, lease=0)
        with pytest.raises(moor7.ConfigurationError, match="lease"):
            moor7.RedisLimiter(redis_url, lease=True)
        with pytest.raises(moor7.ConfigurationError, match="not a Redis URL"):
            moor7.RedisLimiter("localhost:6379")
        with pytest.raises(moor7.ConfigurationError, match="redis"):
            moor7.RedisLimiter(42)  # type: ignore[arg-type]

    def test_repr_hides_the_redis_password(self) -> None:
        limiter = moor7.RedisLimiter("redis://user:s3cret@quota-redis:6379/0")
        assert "s3cret" not in repr(limiter)
        assert "quota-redis:6379" in repr(limiter)

    def test_is_a_limiter(self, redis_url: str) -> None:
        assert isinstance(moor7.RedisLimiter(redis_url), moor7.Limiter)


class TestWindow:
    async def test_burst_from_idle_is_not_paced(self, make_limiter: MakeLimiter) -> None:
        limiter = make_limiter(max_calls=20, period=2.0)
        intervals: list[Interval] = []
        started = time.monotonic()
        await asyncio.gather(*(timed_call(limiter, "a", intervals) for _ in range(20)))
        assert len(intervals) == 20
        # Paced, the last would go a period after the first.
        assert max(granted for granted, _ in intervals) - started < 1.0

    async def test_never_over_quota_and_quota_used(self, make_limiter: MakeLimiter) -> None:
        max_calls, period = 5, 0.3
        limiter = make_limiter(max_calls=max_calls, period=period)
        intervals: list[Interval] = []
        started = time.monotonic()
        await asyncio.gather(*(timed_call(limiter, "a", intervals, 0.005) for _ in range(20)))
        elapsed = time.monotonic() - started
        assert_never_over(intervals, max_calls, period)
        # 20 calls: a burst of 5 then 3 more windows, each as soon as allowed.
        assert 3 * period <= elapsed < 3 * period + 0.5

    async def test_two_limiters_on_two_loops_share_the_window(
        self, make_limiter: MakeLimiter
    ) -> None:
        """Two processes, as far as Redis can tell: separate clients, loops, threads."""
        max_calls, period = 4, 0.3
        limiters = [make_limiter(max_calls=max_calls, period=period) for _ in range(2)]
        intervals: list[Interval] = []
        lock = threading.Lock()
        errors: list[BaseException] = []

        def worker(limiter: moor7.RedisLimiter) -> None:
            async def storm() -> None:
                mine: list[Interval] = []
                try:
                    await asyncio.gather(*(timed_call(limiter, "a", mine, 0.005) for _ in range(8)))
                finally:
                    await limiter.aclose()
                with lock:
                    intervals.extend(mine)

            try:
                asyncio.run(storm())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(lim,)) for lim in limiters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert not errors
        assert len(intervals) == 16
        assert_never_over(intervals, max_calls, period)

    async def test_waiters_of_one_process_go_in_arrival_order(
        self, make_limiter: MakeLimiter
    ) -> None:
        limiter = make_limiter(max_calls=1, period=0.05)
        order: list[int] = []

        async def call(i: int) -> None:
            async with limiter.acquire("a"):
                order.append(i)

        tasks = []
        for i in range(6):
            tasks.append(asyncio.create_task(call(i)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        assert order == list(range(6))

    async def test_cancelled_waiter_takes_no_slot(self, make_limiter: MakeLimiter) -> None:
        limiter = make_limiter(max_calls=1, period=0.3)
        intervals: list[Interval] = []
        await timed_call(limiter, "a", intervals)
        waiting = asyncio.create_task(timed_call(limiter, "a", intervals))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await timed_call(limiter, "a", intervals)
        assert time.monotonic() - started < 0.1  # nothing held the slot
        assert len(intervals) == 2

    async def test_pause_holds_every_instance(self, make_limiter: MakeLimiter) -> None:
        first, second = make_limiter(max_calls=5, period=1.0), make_limiter(max_calls=5, period=1.0)
        await first.pause("a", 0.3)
        started = time.monotonic()
        async with second.acquire("a"):
            assert time.monotonic() - started >= 0.28


class TestFailures:
    async def test_a_process_that_dies_mid_call_holds_its_slot_only_for_the_lease(
        self, make_limiter: MakeLimiter
    ) -> None:
        limiter = make_limiter(max_calls=1, period=0.1, lease=0.4)
        # Entered and never left: what a killed process leaves behind.
        abandoned = limiter.acquire("a")
        await abandoned.__aenter__()
        started = time.monotonic()
        async with limiter.acquire("a"):
            waited = time.monotonic() - started
        assert 0.3 <= waited < 1.5

    async def test_script_cache_flushed_as_by_a_redis_restart(
        self, make_limiter: MakeLimiter, redis_admin_url: str
    ) -> None:
        limiter = make_limiter(max_calls=5, period=1.0)
        async with limiter.acquire("a"):
            pass
        admin = redis.asyncio.Redis.from_url(redis_admin_url)
        try:
            await admin.script_flush()
        finally:
            await admin.aclose()
        async with limiter.acquire("a"):
            pass

    async def test_unreachable_redis_raises_by_default(self, make_limiter: MakeLimiter) -> None:
        limiter = make_limiter(url="redis://127.0.0.1:1/0", max_calls=5, period=1.0)
        with pytest.raises(moor7.LimiterUnavailableError, match="unreachable"):
            async with limiter.acquire("a"):
                pass

    async def test_unreachable_redis_can_fall_back_to_local_limiting(
        self, make_limiter: MakeLimiter, caplog: pytest.LogCaptureFixture
    ) -> None:
        limiter = make_limiter(
            url="redis://127.0.0.1:1/0", max_calls=2, period=0.3, on_unavailable="local"
        )
        intervals: list[Interval] = []
        with caplog.at_level(logging.WARNING, logger="moor7"):
            await asyncio.gather(*(timed_call(limiter, "a", intervals) for _ in range(4)))
        assert "Redis is unreachable" in caplog.text
        # Limited all the same, never unlimited.
        assert_never_over(intervals, 2, 0.3)

    async def test_the_local_fallback_keeps_priorities_and_the_reserve(
        self, make_limiter: MakeLimiter
    ) -> None:
        limiter = make_limiter(
            url="redis://127.0.0.1:1/0",
            max_calls=3,
            period=5.0,
            reserve=2,
            on_unavailable="local",
            socket_connect_timeout=0.2,
        )
        async with limiter.acquire("a", priority="batch"):
            pass
        # The batch holds its max_calls - reserve = 1 slot: a second batch call waits.
        with pytest.raises(moor7.DeadlineExceeded, match="slot"):
            async with limiter.acquire("a", priority="batch", deadline=time.monotonic() + 2.0):
                pass
        # The reserve is the interactive calls'.
        for _ in range(2):
            async with limiter.acquire("a", deadline=time.monotonic() + 2.0):
                pass

    async def test_client_reports_an_unreachable_limiter(self, make_limiter: MakeLimiter) -> None:
        limiter = make_limiter(url="redis://127.0.0.1:1/0")
        async with (
            FakeGateway() as gateway,
            moor7.AsyncClient(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
            ) as client,
        ):
            with pytest.raises(moor7.LimiterUnavailableError):
                await client.get_number_pool()
            assert gateway.calls == []  # nothing sent unlimited


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import moor7

    url, prefix, base_url, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    async def main():
        limiter = moor7.RedisLimiter(
            url, max_calls=5, period=1.0, lease=0.5, key_prefix=prefix
        )
        async with moor7.AsyncClient(
            "2000103", "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3",
            base_url=base_url, limiter=limiter, max_retries=0,
            share_answers=False,  # every call reaches the gateway: the quota counts them
        ) as client:
            results = await asyncio.gather(
                *(client.list_display_number_groups() for _ in range(calls)),
                return_exceptions=True,
            )
        await limiter.aclose()
        print(json.dumps([type(r).__name__ for r in results]))

    asyncio.run(main())
    """
)


class TestProcesses:
    def test_four_processes_never_exceed_the_gateway_quota(self, redis_url: str) -> None:
        prefix = f"moor7:quota:test-{uuid.uuid4().hex}:"
        with FakeGateway(quota=5, quota_period=1.0) as gateway:
            workers = [
                subprocess.Popen(  # noqa: S603 - our own interpreter and script
                    [
                        sys.executable,
                        "-W",
                        "error",
                        "-c",
                        WORKER,
                        redis_url,
                        prefix,
                        gateway.url,
                        "4",
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(4)
            ]
            outputs = [worker.communicate(timeout=60) for worker in workers]
            calls = gateway.calls
        for worker, (out, err) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0, err
            assert json.loads(out) == ["NumberGroups"] * 4
        assert len(calls) == 16
        assert all(call.status == 200 for call in calls)  # the gateway rejected none
        assert gateway.max_calls_in_window(DEMO_APPKEY, 1.0) <= 5


class TestPriorities:
    """Across processes (two limiters on one window): the reserve holds, and a call
    waiting to act goes before other processes' batch calls."""

    async def test_a_batch_in_one_process_leaves_the_reserve_to_another(
        self, make_limiter: MakeLimiter
    ) -> None:
        max_calls, period, reserve = 4, 0.5, 1
        batch_process = make_limiter(max_calls=max_calls, period=period, reserve=reserve)
        action_process = make_limiter(max_calls=max_calls, period=period, reserve=reserve)
        intervals: list[Interval] = []

        async def batch_call() -> None:
            async with batch_process.acquire("a", priority="batch"):
                intervals.append((time.monotonic(), time.monotonic()))

        batch = asyncio.gather(*(batch_call() for _ in range(9)))
        await asyncio.sleep(0.2)  # the batch holds the three slots it may
        started = time.monotonic()
        async with action_process.acquire("a"):
            waited = time.monotonic() - started
        await asyncio.wait_for(batch, 10)
        # Within one slot interval (period / max_calls), and the batch kept to its share.
        assert waited < period / max_calls
        assert_never_over(intervals, max_calls - reserve, period)

    async def test_an_action_waiting_in_one_process_goes_before_another_s_batch(
        self, make_limiter: MakeLimiter
    ) -> None:
        # One slot: two slots granted together free together, and a batch call may then
        # take the second as the action takes the first.
        period = 0.6
        batch_process = make_limiter(max_calls=1, period=period)
        action_process = make_limiter(max_calls=1, period=period)
        order: list[str] = []

        async def call(limiter: moor7.RedisLimiter, name: str, priority: str) -> None:
            async with limiter.acquire("a", priority=priority):  # type: ignore[arg-type]
                order.append(name)

        batch = [
            asyncio.ensure_future(call(batch_process, f"batch-{i}", "batch")) for i in range(4)
        ]
        for _ in range(500):  # one went (after the new window's grace); the rest wait
            if order:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # and the second waits in Redis, registered
        action = asyncio.ensure_future(call(action_process, "action", "interactive"))
        await asyncio.wait_for(asyncio.gather(action, *batch), 10)
        assert order[:2] == ["batch-0", "action"]

    async def test_usage_counts_waiting_calls_in_every_process(
        self, make_limiter: MakeLimiter
    ) -> None:
        first = make_limiter(max_calls=1, period=5.0)
        second = make_limiter(max_calls=1, period=5.0)
        async with first.acquire("a"):
            waiting = [
                asyncio.ensure_future(first.acquire("a", priority="batch").__aenter__()),
                asyncio.ensure_future(second.acquire("a").__aenter__()),
            ]
            await asyncio.sleep(0.3)
            usage = await second.ausage("a")
            assert usage.waiting == {moor7.Priority.INTERACTIVE: 1, moor7.Priority.BATCH: 1}
            assert (usage.used, usage.blocked_by) == (1, "quota")
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)

    async def test_a_waiter_cancelled_while_its_head_is_granted_leaves_no_registration(
        self, make_limiter: MakeLimiter
    ) -> None:
        """The head's ACQUIRE counts the calls queued behind it when it is sent; one of
        them cancelled while Redis grants the head must not stay registered as waiting
        (other processes' batch calls would go after a call that is gone)."""
        period = 0.4
        limiter = make_limiter(max_calls=1, period=period)
        other = make_limiter(max_calls=1, period=period)
        behind: list[asyncio.Task[None]] = []
        real_run = limiter._run

        async def run(state: Any, script: str, keys: list[str], args: list[Any]) -> Any:
            answer = await real_run(state, script, keys, args)
            if script == "acquire" and int(answer[0]) == 1 and behind and not behind[0].done():
                # Cancelled during the head's round trip to Redis.
                behind[0].cancel()
                await asyncio.gather(behind[0], return_exceptions=True)
            return answer

        limiter._run = run  # type: ignore[method-assign]

        async def call() -> None:
            async with limiter.acquire("a"):
                pass

        async with other.acquire("a"):
            head = asyncio.ensure_future(call())
            await asyncio.sleep(0.1)
            behind.append(asyncio.ensure_future(call()))
            await asyncio.sleep(0.1)  # both queued, registered in Redis as 2 waiting
            assert (await other.ausage("a")).waiting[moor7.Priority.INTERACTIVE] == 2
        await asyncio.wait_for(head, 5)
        assert behind[0].cancelled()
        await asyncio.sleep(0.1)  # a withdrawal runs in the background
        assert (await other.ausage("a")).waiting[moor7.Priority.INTERACTIVE] == 0

    async def test_reading_usage_frees_no_orphan_by_the_reader_s_period(
        self, make_limiter: MakeLimiter
    ) -> None:
        """``moor7 quota`` reads with the period of its own flags: a call whose lease ran
        out shows as an orphan, but its slot still frees by the account's period."""
        dead = make_limiter(max_calls=1, period=3.0, lease=0.2)
        slot = dead.acquire("a")  # kept: collected, it would release its slot
        await slot.__aenter__()  # and never left, as by a process killed in flight
        granted = time.monotonic()
        await asyncio.sleep(0.4)  # its lease ran out: an orphan, for a period more
        reader = make_limiter(max_calls=1, period=0.5)
        usage = await reader.ausage("a")
        assert (usage.used, usage.in_flight, usage.orphaned) == (1, 0, 1)
        assert usage.blocked_by == "orphan"
        assert usage.next_free_in < 0.5  # by the reader's period, as it was told
        writer = make_limiter(max_calls=1, period=3.0)
        wait = await writer.aexpected_wait("a")
        assert wait > 3.0 - (time.monotonic() - granted) - 0.2  # the account's period

    async def test_reading_usage_counts_no_orphan_whose_slot_freed(
        self, make_limiter: MakeLimiter
    ) -> None:
        """A call whose lease ran out more than a period ago, with no limiter writing
        since (every process of the account died or went quiet): its slot is free, as
        any write step would find, and reading must not show it held."""
        dead = make_limiter(max_calls=1, period=0.3, lease=0.2)
        slot = dead.acquire("a", priority="batch")  # kept: collected, it would release
        await slot.__aenter__()  # and never left, as by a process killed in flight
        await asyncio.sleep(0.2 + 0.3 + 0.2)  # its lease ran out, and a period since
        reader = make_limiter(max_calls=1, period=0.3)
        usage = await reader.ausage("a")
        assert (usage.used, usage.in_flight, usage.orphaned) == (0, 0, 0)
        assert usage.blocked_by is None
        assert await reader.aexpected_wait("a", priority="batch") == 0.0
        async with reader.acquire("a"):  # as a write step finds it
            pass

    def test_usage_from_code_that_does_not_await(self, make_limiter: MakeLimiter) -> None:
        limiter = make_limiter(max_calls=3, period=5.0, reserve=1)
        usage = limiter.usage("a")  # on moor7's own loop, as the sync Client's calls
        assert (usage.used, usage.max_calls, usage.reserve, usage.blocked_by) == (0, 3, 1, None)
        assert limiter.expected_wait("a") == 0.0
        limiter.close()

    async def test_interactive_calls_do_not_shrink_the_batch_s_share(
        self, make_limiter: MakeLimiter
    ) -> None:
        batch_process = make_limiter(max_calls=4, period=5.0, reserve=1)
        action_process = make_limiter(max_calls=4, period=5.0, reserve=1)
        async with action_process.acquire("a"):
            for _ in range(3):
                async with batch_process.acquire(
                    "a", priority="batch", deadline=time.monotonic() + 2.0
                ):
                    pass
        assert (await batch_process.ausage("a")).used == 4

    async def test_a_batch_call_the_reserve_holds_back_says_so(
        self, make_limiter: MakeLimiter
    ) -> None:
        limiter = make_limiter(max_calls=4, period=5.0, reserve=1)
        for _ in range(3):
            async with limiter.acquire("a", priority="batch"):
                pass
        with pytest.raises(moor7.DeadlineExceeded, match="reserved for interactive"):
            async with limiter.acquire("a", priority="batch", deadline=time.monotonic() + 2.0):
                pass
        async with limiter.acquire("a", deadline=time.monotonic() + 2.0):  # interactive
            pass
