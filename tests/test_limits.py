"""The in-process quota: exact rolling window, bursts, order, cancellation, threads.

Periods are scaled down (a fraction of a second) so that no test waits a real minute.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import pytest

import moor7

Interval = tuple[float, float]  # (granted, finished), time.monotonic()


def assert_never_over(intervals: list[Interval], max_calls: int, period: float) -> None:
    """The limiter's promise, checked from both ends of every call.

    A call holds its slot from being granted until `period` after it finished, so at
    each grant at most `max_calls - 1` other calls may be in flight or have finished
    within the last `period`.
    """
    for granted, _ in intervals:
        holding = [
            1
            for other_granted, other_finished in intervals
            if other_granted < granted and other_finished > granted - period
        ]
        assert len(holding) < max_calls, (granted, len(holding))


async def timed_call(
    limiter: moor7.Limiter, account: str, intervals: list[Interval], duration: float = 0.0
) -> None:
    async with limiter.acquire(account):
        granted = time.monotonic()
        if duration:
            await asyncio.sleep(duration)
        intervals.append((granted, time.monotonic()))


class TestConfiguration:
    @pytest.mark.parametrize(
        "kwargs",
        [{"max_calls": 0}, {"max_calls": 2.5}, {"max_calls": True}, {"period": 0}, {"period": -1}],
    )
    def test_rejects_nonsense(self, kwargs: dict[str, float]) -> None:
        with pytest.raises(moor7.ConfigurationError, match="must be"):
            moor7.LocalLimiter(**kwargs)  # type: ignore[arg-type]

    def test_defaults_are_the_7moor_quota(self) -> None:
        limiter = moor7.LocalLimiter()
        assert (limiter.max_calls, limiter.period) == (20, 60.0)

    def test_default_limiter_is_one_shared_instance(self) -> None:
        assert moor7.default_limiter() is moor7.default_limiter()
        assert isinstance(moor7.default_limiter(), moor7.LocalLimiter)

    def test_limiters_satisfy_the_protocol(self) -> None:
        assert isinstance(moor7.LocalLimiter(), moor7.Limiter)
        assert isinstance(moor7.Unlimited(), moor7.Limiter)


class TestWindow:
    async def test_burst_from_idle_is_not_paced(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=20, period=30.0)
        intervals: list[Interval] = []
        started = time.monotonic()
        await asyncio.gather(*(timed_call(limiter, "a", intervals) for _ in range(20)))
        # 20 grants, none of which waited for the window: all within scheduling noise
        # of the start, while the period is 30 s.
        assert len(intervals) == 20
        assert max(granted for granted, _ in intervals) - started < 1.0
        assert limiter.calls_in_window("a") == 20

    async def test_call_past_the_quota_waits_for_the_oldest_to_age_out(self) -> None:
        period = 0.3
        limiter = moor7.LocalLimiter(max_calls=3, period=period)
        intervals: list[Interval] = []
        await asyncio.gather(*(timed_call(limiter, "a", intervals) for _ in range(3)))
        last_finished = max(finished for _, finished in intervals)
        await timed_call(limiter, "a", intervals)
        first_finished = min(finished for _, finished in intervals[:3])
        assert intervals[3][0] >= first_finished + period
        assert intervals[3][0] < last_finished + period + 0.2  # went as soon as allowed

    async def test_never_over_quota_under_a_storm_of_tasks(self) -> None:
        max_calls, period = 5, 0.2
        limiter = moor7.LocalLimiter(max_calls=max_calls, period=period)
        intervals: list[Interval] = []
        rng = random.Random(7)
        await asyncio.gather(
            *(timed_call(limiter, "a", intervals, rng.uniform(0, 0.03)) for _ in range(30))
        )
        assert len(intervals) == 30
        assert_never_over(intervals, max_calls, period)

    async def test_saturated_throughput_uses_the_quota(self) -> None:
        max_calls, period = 10, 0.25
        limiter = moor7.LocalLimiter(max_calls=max_calls, period=period)
        intervals: list[Interval] = []
        started = time.monotonic()
        await asyncio.gather(*(timed_call(limiter, "a", intervals) for _ in range(40)))
        elapsed = time.monotonic() - started
        # 40 calls = a burst of 10 then 3 more windows: just over 3 periods when the
        # quota is used in full; a limiter pacing at half rate would need 7.
        assert elapsed >= 3 * period
        assert elapsed < 3 * period + 0.3
        assert_never_over(intervals, max_calls, period)

    async def test_accounts_do_not_share_a_window(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=2, period=30.0)
        intervals: list[Interval] = []
        calls = [timed_call(limiter, account, intervals) for account in "abc" for _ in range(2)]
        await asyncio.wait_for(asyncio.gather(*calls), timeout=5)
        assert len(intervals) == 6

    async def test_a_slot_is_held_while_the_call_runs(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=0.05)
        intervals: list[Interval] = []
        await asyncio.gather(
            timed_call(limiter, "a", intervals, duration=0.2),
            timed_call(limiter, "a", intervals),
        )
        (_first_granted, first_finished), (second_granted, _) = sorted(intervals)
        assert second_granted >= first_finished + 0.05


class TestOrderAndCancellation:
    async def test_waiters_are_served_in_arrival_order(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=0.05)
        order: list[int] = []

        async def call(i: int) -> None:
            async with limiter.acquire("a"):
                order.append(i)

        tasks = []
        for i in range(8):
            tasks.append(asyncio.create_task(call(i)))
            await asyncio.sleep(0)  # each task reaches the limiter before the next starts
        await asyncio.gather(*tasks)
        assert order == list(range(8))

    async def test_cancelled_waiter_takes_no_slot(self) -> None:
        period = 0.2
        limiter = moor7.LocalLimiter(max_calls=1, period=period)
        intervals: list[Interval] = []
        await timed_call(limiter, "a", intervals)
        cancelled = asyncio.create_task(timed_call(limiter, "a", intervals))
        await asyncio.sleep(0.02)
        follower = asyncio.create_task(timed_call(limiter, "a", intervals))
        await asyncio.sleep(0.02)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await follower
        # The follower got the slot the cancelled task was waiting for, on time.
        assert len(intervals) == 2
        assert intervals[1][0] - intervals[0][1] < period + 0.1
        assert limiter.calls_in_window("a") == 1

    async def test_cancelling_the_head_hands_its_turn_on(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=0.1)
        intervals: list[Interval] = []
        holder = asyncio.create_task(timed_call(limiter, "a", intervals, duration=0.3))
        await asyncio.sleep(0.01)
        head = asyncio.create_task(timed_call(limiter, "a", intervals))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(timed_call(limiter, "a", intervals))
        await asyncio.sleep(0.01)
        head.cancel()
        await asyncio.wait_for(asyncio.gather(holder, second), timeout=3)
        assert len(intervals) == 2

    async def test_a_failing_call_still_counts(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=2, period=30.0)
        with pytest.raises(RuntimeError):
            async with limiter.acquire("a"):
                raise RuntimeError("the attempt failed; the gateway may have counted it")
        assert limiter.calls_in_window("a") == 1


class TestThreadsAndLoops:
    def test_two_event_loops_in_two_threads_share_one_window(self) -> None:
        max_calls, period = 4, 0.2
        limiter = moor7.LocalLimiter(max_calls=max_calls, period=period)
        intervals: list[Interval] = []
        lock = threading.Lock()
        errors: list[BaseException] = []

        async def storm() -> None:
            mine: list[Interval] = []
            await asyncio.gather(*(timed_call(limiter, "a", mine, 0.005) for _ in range(8)))
            with lock:
                intervals.extend(mine)

        def worker() -> None:
            try:
                asyncio.run(storm())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert not errors
        assert len(intervals) == 16
        assert_never_over(intervals, max_calls, period)


class TestMemory:
    async def test_idle_accounts_are_forgotten(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=5, period=0.01)
        for i in range(1100):
            async with limiter.acquire(f"tenant-{i}"):
                pass
            if i == 1000:
                await asyncio.sleep(0.02)  # everything so far ages out of the window
        # After a sweep (every 1024 calls), only accounts active in the last period
        # remain. _windows is private; it is the very memory this test is about.
        assert len(limiter._windows) < 200


class TestUnlimited:
    async def test_never_waits(self) -> None:
        limiter = moor7.Unlimited()
        intervals: list[Interval] = []
        await asyncio.gather(*(timed_call(limiter, "a", intervals) for _ in range(100)))
        assert len(intervals) == 100


class TestHardCases:
    """Regressions found in review: each once made a waiter hang or take a slot."""

    async def test_cancelled_in_the_same_step_as_its_wake_up_takes_no_slot(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=2, period=1.0)
        async with limiter.acquire("a"):
            pass
        release = asyncio.Event()

        async def holder() -> None:
            async with limiter.acquire("a"):
                await release.wait()

        held = asyncio.create_task(holder())
        await asyncio.sleep(0)
        ran: list[str] = []

        async def victim() -> None:
            async with limiter.acquire("a"):
                ran.append("took a slot after being cancelled")

        task = asyncio.create_task(victim())
        await asyncio.sleep(0.05)
        # _windows is private: the test needs the waiter's event to set it in the very
        # step in which the task is cancelled (a wake-up racing a Ctrl-C or a timeout).
        waiter = limiter._windows["a"].waiters[0]

        def wake_and_cancel() -> None:
            waiter.event.set()
            task.cancel()

        asyncio.get_running_loop().call_soon(wake_and_cancel)
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        await held
        assert ran == []
        assert limiter.calls_in_window("a") == 2

    def test_a_waiter_whose_loop_was_closed_does_not_block_the_account(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=0.2)

        abandoned: list[asyncio.Future[None]] = []

        def abandon_a_waiter() -> None:
            loop = asyncio.new_event_loop()

            async def queue_and_leave() -> None:
                async with limiter.acquire("a"):
                    pass

                async def waiter() -> None:
                    async with limiter.acquire("a"):
                        pass

                abandoned.append(asyncio.ensure_future(waiter()))  # queued behind
                await asyncio.sleep(0.01)

            loop.run_until_complete(queue_and_leave())
            # Closed without cancelling the waiter. Quiet asyncio's "Task was destroyed
            # but it is pending!", which is the very situation under test.
            loop.set_exception_handler(lambda loop, context: None)
            loop.close()

        thread = threading.Thread(target=abandon_a_waiter)
        thread.start()
        thread.join()
        time.sleep(0.3)  # the window is long empty

        async def later_call() -> float:
            started = time.monotonic()
            async with limiter.acquire("a"):
                return time.monotonic() - started

        assert asyncio.run(asyncio.wait_for(later_call(), timeout=3)) < 0.5


class TestPause:
    async def test_pause_holds_the_next_call(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=5, period=10.0)
        await limiter.pause("a", 0.3)
        intervals: list[Interval] = []
        started = time.monotonic()
        await timed_call(limiter, "a", intervals)
        assert intervals[0][0] - started >= 0.29
        # Other accounts are not paused.
        started = time.monotonic()
        await timed_call(limiter, "b", intervals)
        assert intervals[1][0] - started < 0.1

    async def test_default_pause_is_a_slot_share_doubling(self) -> None:
        from moor7._limits import next_pause

        history: dict[str, Any] = {}
        waits = [next_pause(history, "a", None, 20, 60.0) for _ in range(7)]
        assert waits == [3.0, 6.0, 12.0, 24.0, 48.0, 60.0, 60.0]
        assert next_pause(history, "b", 7.5, 20, 60.0) == 7.5

    async def test_a_pause_never_shortens_a_longer_one(self) -> None:
        limiter = moor7.LocalLimiter(max_calls=5, period=10.0)
        await limiter.pause("a", 0.4)
        await limiter.pause("a", 0.05)
        started = time.monotonic()
        async with limiter.acquire("a"):
            assert time.monotonic() - started >= 0.39


class TestPriorities:
    """Interactive calls take the next free slot before batch ones; the reserve is
    theirs alone."""

    async def test_an_interactive_call_goes_before_every_queued_batch_call(self) -> None:
        limiter = moor7.LocalLimiter(2, 0.3)
        order: list[str] = []

        async def call(name: str, priority: moor7.Priority) -> None:
            async with limiter.acquire("a", priority=priority):
                order.append(name)

        batch = [asyncio.ensure_future(call(f"batch-{i}", moor7.Priority.BATCH)) for i in range(6)]
        await asyncio.sleep(0.05)  # two went, four wait
        await call("action", moor7.Priority.INTERACTIVE)
        await asyncio.gather(*batch)
        assert order[:2] == ["batch-0", "batch-1"]
        assert order[2] == "action"
        assert order[3:] == [f"batch-{i}" for i in range(2, 6)]

    async def test_batch_calls_never_take_the_reserve(self) -> None:
        max_calls, period, reserve = 4, 0.3, 1
        limiter = moor7.LocalLimiter(max_calls, period, reserve=reserve)
        intervals: list[Interval] = []

        async def batch_call() -> None:
            async with limiter.acquire("a", priority="batch"):
                intervals.append((time.monotonic(), time.monotonic()))

        batch = asyncio.gather(*(batch_call() for _ in range(9)))
        await asyncio.sleep(0.05)
        # The batch holds what it may (3), never the reserved slot: an action goes now.
        started = time.monotonic()
        async with limiter.acquire("a", priority=moor7.Priority.INTERACTIVE):
            waited = time.monotonic() - started
        await batch
        assert waited < 0.05
        assert_never_over(intervals, max_calls - reserve, period)
        assert limiter.usage("a").reserve == reserve

    async def test_a_batch_call_whose_deadline_the_reserve_passes_fails_at_once(self) -> None:
        limiter = moor7.LocalLimiter(2, 5.0, reserve=1)
        async with limiter.acquire("a", priority="batch"):
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded, match="deadline"):
                async with limiter.acquire("a", priority="batch", deadline=time.monotonic() + 1.0):
                    pass
            assert time.monotonic() - started < 0.1
            # An interactive call takes the reserved slot at once.
            async with limiter.acquire("a", deadline=time.monotonic() + 1.0):
                pass

    async def test_usage_counts_the_waiting_by_priority(self) -> None:
        limiter = moor7.LocalLimiter(1, 5.0)
        async with limiter.acquire("a"):
            waiting = [
                asyncio.ensure_future(limiter.acquire("a", priority=p).__aenter__())
                for p in ("batch", "batch", "interactive")
            ]
            await asyncio.sleep(0.02)
            usage = limiter.usage("a")
            assert usage.waiting == {moor7.Priority.INTERACTIVE: 1, moor7.Priority.BATCH: 2}
            assert (usage.used, usage.in_flight, usage.blocked_by) == (1, 1, "quota")
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)

    @pytest.mark.parametrize("reserve", [-1, 20, 2.5, True])
    def test_a_reserve_out_of_range_is_refused(self, reserve: Any) -> None:
        with pytest.raises(moor7.ConfigurationError, match="reserve"):
            moor7.LocalLimiter(20, 60, reserve=reserve)

    async def test_a_wrong_priority_is_refused(self) -> None:
        limiter = moor7.LocalLimiter()
        with pytest.raises(moor7.ConfigurationError, match="priority"):
            async with limiter.acquire("a", priority="urgent"):  # type: ignore[arg-type]
                pass

    async def test_interactive_calls_do_not_shrink_the_batch_s_share(self) -> None:
        """The reserve bounds what batch calls hold (max_calls - reserve of their own);
        an interactive call takes a reserved slot, not one of the batch's."""
        limiter = moor7.LocalLimiter(4, 5.0, reserve=1)
        async with limiter.acquire("a", priority="interactive"):
            for _ in range(3):  # the batch's three, all at once, beside the action's one
                async with limiter.acquire("a", priority="batch", deadline=time.monotonic() + 0.5):
                    pass
        usage = limiter.usage("a")
        assert (usage.used, usage.free) == (4, 0)


class TestDeadlineReasons:
    """A call that cannot have its slot in time says why, as RedisLimiter's does: what
    ends last of the pause, the quota and the batch's own share."""

    async def test_a_batch_call_the_reserve_holds_back_says_so(self) -> None:
        limiter = moor7.LocalLimiter(4, 5.0, reserve=1)
        for _ in range(3):
            async with limiter.acquire("a", priority="batch"):
                pass
        with pytest.raises(moor7.DeadlineExceeded, match="reserved for interactive"):
            async with limiter.acquire("a", priority="batch", deadline=time.monotonic() + 2.0):
                pass
        async with limiter.acquire("a", deadline=time.monotonic() + 2.0):  # interactive
            pass

    async def test_a_short_pause_before_a_long_quota_wait_is_not_the_reason(self) -> None:
        limiter = moor7.LocalLimiter(1, 5.0)
        async with limiter.acquire("a"):
            pass
        await limiter.pause("a", 0.5)
        with pytest.raises(moor7.DeadlineExceeded, match="every slot of the window is in use"):
            async with limiter.acquire("a", deadline=time.monotonic() + 2.0):
                pass


class TestFastPath:
    """A newcomer takes a free slot at once only where the queue would have let it: a
    slot that frees while the head of the queue sleeps on its timer is the head's."""

    @pytest.mark.parametrize(
        ("waiting", "newcomer", "newcomer_first"),
        [
            ("interactive", "interactive", False),
            ("batch", "batch", False),
            ("interactive", "batch", False),
            ("batch", "interactive", True),  # an interactive call goes before batch ones
        ],
    )
    async def test_a_newcomer_does_not_take_the_head_s_slot(
        self, waiting: str, newcomer: str, newcomer_first: bool
    ) -> None:
        now = [0.0]
        limiter = moor7.LocalLimiter(max_calls=1, period=10.0, clock=lambda: now[0])
        order: list[str] = []

        async def call(name: str, priority: str) -> None:
            async with limiter.acquire("a", priority=priority):  # type: ignore[arg-type]
                order.append(name)

        await call("first", "interactive")
        head = asyncio.create_task(call("head", waiting))
        await asyncio.sleep(0.01)  # queued, asleep on a ten-second timer
        now[0] = 10.5  # the slot is free by the limiter's clock; the head still sleeps
        if newcomer_first:
            await asyncio.wait_for(call("newcomer", newcomer), 1.0)
        else:
            with pytest.raises(asyncio.TimeoutError):  # it queues behind the head
                await asyncio.wait_for(call("newcomer", newcomer), 0.05)
        head.cancel()
        await asyncio.gather(head, return_exceptions=True)
        assert order == ["first", "newcomer"] if newcomer_first else ["first"]


class TestForgettingIdleAccounts:
    async def test_a_paused_account_is_not_forgotten_by_an_injected_clock(self) -> None:
        """Idle accounts are forgotten every 1,024 calls; "paused" is judged by the
        limiter's own clock, not by time.monotonic() (here far ahead of it)."""
        now = [0.0]
        limiter = moor7.LocalLimiter(max_calls=2000, period=1.0, clock=lambda: now[0])
        await limiter.pause("a", 100.0)
        for _ in range(1024):  # another tenant's calls: one sweep of idle accounts
            async with limiter.acquire("b"):
                pass
        assert limiter.usage("a").paused_for == 100.0


class TestInterleavings:
    """Calls of both priorities on two event loops (two threads), some cancelled while
    they wait or right after asking: every grant, by the fast path or the queue, is
    checked under the limiter's lock against the queue as it stands then."""

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_every_grant_keeps_the_order_and_the_bounds(
        self, seed: int, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from moor7 import _limits

        max_calls, period, reserve = 4, 0.15, 1
        limiter = moor7.LocalLimiter(max_calls, period, reserve=reserve)
        problems: list[str] = []

        class Waiter(_limits._Waiter):
            __slots__ = ("task",)

            def __init__(self, interactive: bool) -> None:
                super().__init__(interactive)
                self.task = asyncio.current_task()

        real_take = _limits.LocalLimiter._take

        def take(window: Any, loop: asyncio.AbstractEventLoop, interactive: bool) -> None:
            me = asyncio.current_task()
            waiters = list(window.waiters)
            mine = next((i for i, w in enumerate(waiters) if w.task is me), len(waiters))
            if interactive and any(w.interactive for w in waiters[:mine]):
                problems.append("an interactive call went before one waiting ahead of it")
            if not interactive and any(w.interactive for w in waiters):
                problems.append("a batch call went while an interactive one waited")
            if not interactive and waiters[:mine]:
                problems.append("a batch call went before a batch call waiting ahead of it")
            real_take(window, loop, interactive)
            if window.used > max_calls or window.batch_used > max_calls - reserve:
                problems.append(f"over: {window.used} held, {window.batch_used} batch")

        monkeypatch.setattr(_limits, "_Waiter", Waiter)
        monkeypatch.setattr(_limits.LocalLimiter, "_take", staticmethod(take))

        async def call(priority: str, duration: float) -> None:
            async with limiter.acquire("a", priority=priority):  # type: ignore[arg-type]
                await asyncio.sleep(duration)

        async def storm(rnd: random.Random) -> None:
            tasks: list[asyncio.Task[None]] = []
            for _ in range(30):
                priority = rnd.choice(["interactive", "batch", "batch"])
                tasks.append(asyncio.create_task(call(priority, rnd.choice([0, 0, 0.01]))))
                roll = rnd.random()
                if roll < 0.3:
                    await asyncio.sleep(rnd.choice([0, 0.001, 0.01]))
                if roll < 0.15:
                    rnd.choice(tasks).cancel()
                elif roll > 0.9:
                    await asyncio.sleep(0)
                    tasks[-1].cancel()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)

        threads = [
            threading.Thread(target=asyncio.run, args=(storm(random.Random(seed * 2 + i)),))
            for i in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert problems == []
        window = limiter._windows["a"]
        # Nothing leaked: no slot held in flight, nobody left in the queue.
        assert (window.in_flight, window.batch_in_flight, len(window.waiters)) == ({}, 0, 0)
