"""Shared answers: identical queries in flight are sent once, recent answers are served
again with ``max_age=``; never for actions, never across accounts, never an error kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import warnings
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pytest

import moor7
from moor7 import Priority
from moor7._answers import MAX_ANSWER_BYTES, MAX_ANSWERS, AnswerCache, copied_error
from moor7.testing import (
    DEMO_APPKEY,
    DEMO_SECRET_KEY,
    SAMPLE_NUMBER_POOL,
    FakeGateway,
    Fault,
    MockTransport,
)

NUMBERS = "/openapi/v1/call/query/number"
GROUPS = "/openapi/v1/call/query/group"
SIP_PASSWORD = "123456Aa"  # the docs' example pool's SIP password


class GateLimiter:
    """Grants slots only while open (to calls of *open_to* at once); counts the calls
    waiting and those in flight."""

    def __init__(self, open_to: Priority | None = None) -> None:
        self.open_to = open_to
        self.open = asyncio.Event()
        self.waiting = 0
        self.in_flight = 0
        self.granted: list[Priority | None] = []

    @contextlib.asynccontextmanager
    async def acquire(
        self, account: str, *, priority: Priority | None = None
    ) -> AsyncIterator[None]:
        if self.open_to is None or priority is not self.open_to:
            self.waiting += 1
            try:
                await self.open.wait()
            finally:
                self.waiting -= 1
        self.granted.append(priority)
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1

    async def pause(self, account: str, seconds: float | None = None) -> None:
        """Not asked in these tests."""


@contextlib.asynccontextmanager
async def make_client(
    gateway: FakeGateway, limiter: moor7.Limiter | None = None, **settings: Any
) -> AsyncIterator[moor7.AsyncClient]:
    settings.setdefault("backoff_initial", 0)
    settings.setdefault("backoff_max", 0)
    async with moor7.AsyncClient(
        DEMO_APPKEY,
        DEMO_SECRET_KEY,
        base_url=gateway.url,
        limiter=limiter or moor7.Unlimited(),
        **settings,
    ) as client:
        yield client


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the loop run until *condition* holds (a step of the test, not a timing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.005)


def queries(gateway: FakeGateway, path: str = NUMBERS) -> list[int | None]:
    return [call.status for call in gateway.calls if call.path == path]


class TestIdenticalQueriesInFlight:
    async def test_fifty_calls_are_sent_once(self, gateway: FakeGateway) -> None:
        async with make_client(gateway) as client:
            pools = await asyncio.gather(*(client.get_number_pool() for _ in range(50)))
        assert queries(gateway) == [200]
        # Each caller its own result, decoded from the one answer.
        assert len({id(pool) for pool in pools}) == 50
        assert len({id(pool.display_numbers) for pool in pools}) == 50
        assert all(pool == pools[0] for pool in pools)
        assert {pool.request_id for pool in pools} == {gateway.calls[0].request_id}
        assert not any(pool.from_cache for pool in pools)
        assert {pool.age for pool in pools} == {0.0}

    async def test_lists_too(self, gateway: FakeGateway) -> None:
        async with make_client(gateway) as client:
            groups = await asyncio.gather(*(client.list_display_number_groups() for _ in range(5)))
            queues = await asyncio.gather(*(client.list_queues() for _ in range(5)))
        assert len({id(g) for g in groups}) == 5
        assert len(queues) == 5
        assert len(gateway.calls) == 2

    async def test_another_body_is_another_question(self, gateway: FakeGateway) -> None:
        async with make_client(gateway) as client:
            await asyncio.gather(
                client.list_sip_numbers(),
                client.list_sip_numbers(number="2000"),
                client.list_sip_numbers(number="2000"),
            )
        assert len(gateway.calls) == 2

    async def test_never_an_action(self, gateway: FakeGateway) -> None:
        async with make_client(gateway) as client:
            await asyncio.gather(
                *(client.agent_online("2000", login_type="PSTN") for _ in range(4)),
                *(client.request(GROUPS, kind="action") for _ in range(3)),
            )
        assert len(gateway.calls) == 7

    async def test_never_across_accounts(self) -> None:
        other = ("2000104", "another-secret-key-of-30-chars!")
        accounts = {DEMO_APPKEY: DEMO_SECRET_KEY, other[0]: other[1]}
        async with (
            FakeGateway(accounts=accounts) as gw,
            make_client(gw) as first,
            moor7.AsyncClient(*other, base_url=gw.url, limiter=moor7.Unlimited()) as second,
        ):
            await asyncio.gather(
                *(first.get_number_pool() for _ in range(3)),
                *(second.get_number_pool() for _ in range(3)),
            )
        assert sorted(str(call.account) for call in gw.calls) == sorted([DEMO_APPKEY, other[0]])

    async def test_can_be_turned_off(self, gateway: FakeGateway) -> None:
        async with make_client(gateway, share_answers=False) as client:
            await asyncio.gather(*(client.get_number_pool() for _ in range(5)))
        assert queries(gateway) == [200] * 5

    async def test_retried_once_for_all(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        async with make_client(gateway) as client:
            pools = await asyncio.gather(*(client.get_number_pool() for _ in range(10)))
        assert queries(gateway) == [500, 200]
        assert len(pools) == 10

    async def test_an_error_reaches_every_caller_each_its_own(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SERVER_ERROR, times=2)
        async with make_client(gateway, max_retries=1) as client:
            errors = await asyncio.gather(
                *(client.get_number_pool() for _ in range(10)), return_exceptions=True
            )
        assert queries(gateway) == [500, 500]
        assert all(isinstance(error, moor7.ServerError) for error in errors)
        assert len({id(error) for error in errors}) == 10
        assert {(e.status, e.request_id, e.attempts, str(e)) for e in errors} == {  # type: ignore[union-attr]
            (500, gateway.calls[-1].request_id, 2, str(errors[0]))
        }
        # Raised in each caller's own task: tracebacks of their own.
        assert len({id(error.__traceback__) for error in errors}) == 10

    async def test_an_answer_that_does_not_fit_fails_each_caller(
        self, gateway: FakeGateway
    ) -> None:
        gateway.set_response(NUMBERS, {"unexpected": []})
        async with make_client(gateway) as client:
            errors = await asyncio.gather(
                *(client.get_number_pool() for _ in range(3)), return_exceptions=True
            )
        assert len(gateway.calls) == 1
        assert all(isinstance(error, moor7.ResponseShapeError) for error in errors)
        assert len({id(error) for error in errors}) == 3
        assert {error.attempts for error in errors} == {1}  # type: ignore[union-attr]

    async def test_logged_at_debug(
        self, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="moor7")
        async with make_client(gateway) as client:
            await asyncio.gather(*(client.get_number_pool() for _ in range(3)))
        shared = [r for r in caplog.records if getattr(r, "moor7_event", None) == "shared"]
        assert len(shared) == 2  # the two callers that waited; the third sent it
        for record in shared:
            assert record.levelno == logging.DEBUG
            assert record.moor7_path == NUMBERS  # type: ignore[attr-defined]
            assert record.moor7_account == DEMO_APPKEY  # type: ignore[attr-defined]
            assert record.moor7_error is None  # type: ignore[attr-defined]
            assert record.moor7_wait >= 0  # type: ignore[attr-defined]
        assert SIP_PASSWORD not in caplog.text


class TestEagerTasks:
    @pytest.mark.skipif(
        not hasattr(asyncio, "eager_task_factory"), reason="eager tasks are Python 3.12+"
    )
    async def test_a_call_that_ends_as_its_task_is_made(self) -> None:
        """With an eager task factory, a call that never waits (an in-process transport,
        no quota wait) ends while its task is made: its caller still gets the answer."""
        body = b'{"success": true, "code": "200", "data": [], "requestInfo": {}}'
        loop = asyncio.get_running_loop()
        loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]  # 3.12+
        try:
            async with moor7.AsyncClient(
                DEMO_APPKEY,
                DEMO_SECRET_KEY,
                transport=MockTransport(
                    lambda request, headers: moor7.HttpResponse(200, body=body)
                ),
                limiter=moor7.Unlimited(),
            ) as client:
                groups = await asyncio.wait_for(
                    asyncio.gather(*(client.list_display_number_groups() for _ in range(3))), 5
                )
        finally:
            loop.set_task_factory(None)
        assert groups == [[], [], []]


class TestPriorities:
    async def test_an_interactive_call_never_waits_for_a_batch_one(
        self, gateway: FakeGateway
    ) -> None:
        limiter = GateLimiter()
        async with make_client(gateway, limiter) as client:
            batch = asyncio.create_task(client.get_number_pool(priority="batch"))
            await until(lambda: limiter.waiting == 1)
            interactive = asyncio.create_task(client.get_number_pool())
            await until(lambda: limiter.waiting == 2)  # a call of its own
            more_batch = asyncio.create_task(client.get_number_pool(priority="batch"))
            await asyncio.sleep(0.05)
            assert limiter.waiting == 2  # the later batch call shares one of them
            limiter.open.set()
            await asyncio.gather(batch, interactive, more_batch)
        assert len(gateway.calls) == 2

    async def test_a_batch_call_waits_for_an_interactive_one(self, gateway: FakeGateway) -> None:
        limiter = GateLimiter()
        async with make_client(gateway, limiter) as client:
            interactive = asyncio.create_task(client.get_number_pool())
            await until(lambda: limiter.waiting == 1)
            batch = asyncio.create_task(client.get_number_pool(priority="batch"))
            await asyncio.sleep(0.05)
            assert limiter.waiting == 1
            limiter.open.set()
            await asyncio.gather(interactive, batch)
        assert limiter.granted == [Priority.INTERACTIVE]
        assert len(gateway.calls) == 1


class TestCancellation:
    async def test_the_sender_cancelled_while_waiting_for_its_slot(
        self, gateway: FakeGateway
    ) -> None:
        limiter = GateLimiter()
        async with make_client(gateway, limiter) as client:
            first = asyncio.create_task(client.get_number_pool())
            await until(lambda: limiter.waiting == 1)
            others = [asyncio.create_task(client.get_number_pool()) for _ in range(3)]
            await asyncio.sleep(0.02)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            # The call keeps its place in the queue for the others.
            assert limiter.waiting == 1
            limiter.open.set()
            pools = await asyncio.gather(*others)
        assert len(pools) == 3
        assert limiter.granted == [Priority.INTERACTIVE]
        assert queries(gateway) == [200]

    async def test_the_sender_cancelled_mid_request(self, gateway: FakeGateway) -> None:
        limiter = moor7.LocalLimiter(max_calls=5, period=5.0)
        gateway.fail_next(Fault.SLOW, delay=0.5)
        async with make_client(gateway, limiter) as client:
            first = asyncio.create_task(client.get_number_pool())
            await until(
                lambda: len(gateway.calls) == 0 and limiter.usage(DEMO_APPKEY).in_flight == 1
            )
            others = [asyncio.create_task(client.get_number_pool()) for _ in range(3)]
            await asyncio.sleep(0.05)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            pools = await asyncio.gather(*others)
        assert len(pools) == 3
        # One request, answered once: no slot spent twice.
        assert queries(gateway) == [200]
        assert limiter.calls_in_window(DEMO_APPKEY) == 1

    async def test_a_waiting_caller_cancelled_leaves_the_others_their_answer(
        self, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SLOW, delay=0.3)
        async with make_client(gateway) as client:
            tasks = [asyncio.create_task(client.get_number_pool()) for _ in range(4)]
            await asyncio.sleep(0.1)
            tasks[2].cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[2], asyncio.CancelledError)
        assert all(isinstance(r, moor7.NumberPool) for i, r in enumerate(results) if i != 2)
        assert queries(gateway) == [200]

    async def test_everyone_cancelled_while_waiting_takes_no_slot(
        self, gateway: FakeGateway
    ) -> None:
        limiter = GateLimiter()
        async with make_client(gateway, limiter) as client:
            tasks = [asyncio.create_task(client.get_number_pool()) for _ in range(3)]
            await until(lambda: limiter.waiting == 1)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # The shared call left the queue with its last caller.
            assert limiter.waiting == 0
            limiter.open.set()
            await client.get_number_pool()  # and identical calls start afresh
        assert limiter.granted == [Priority.INTERACTIVE]
        assert queries(gateway) == [200]

    async def test_everyone_cancelled_mid_request_releases_the_slot(
        self, gateway: FakeGateway
    ) -> None:
        limiter = moor7.LocalLimiter(max_calls=5, period=5.0)
        gateway.fail_next(Fault.SLOW, delay=3)
        async with make_client(gateway, limiter) as client:
            tasks = [asyncio.create_task(client.get_number_pool()) for _ in range(3)]
            await until(lambda: limiter.usage(DEMO_APPKEY).in_flight == 1)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Released by the time the last caller's cancellation is done, not leaked.
            usage = limiter.usage(DEMO_APPKEY)
            assert (usage.used, usage.in_flight) == (1, 0)

    async def test_close_ends_the_wait_for_a_slot_of_every_caller(
        self, gateway: FakeGateway
    ) -> None:
        limiter = GateLimiter()
        client = moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
        )
        tasks = [asyncio.create_task(client.get_number_pool()) for _ in range(3)]
        await until(lambda: limiter.waiting == 1)
        await client.aclose()
        errors = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(error, moor7.ClientClosedError) for error in errors)
        assert len({id(error) for error in errors}) == 3
        assert gateway.calls == []

    async def test_close_mid_request_ends_every_caller_alike(self, gateway: FakeGateway) -> None:
        """The transport closes under the call in flight: its outcome is every caller's."""
        gateway.fail_next(Fault.SLOW, delay=1)
        limiter = moor7.LocalLimiter(max_calls=5, period=5.0)
        client = moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
        )
        tasks = [asyncio.create_task(client.get_number_pool()) for _ in range(3)]
        await until(lambda: limiter.usage(DEMO_APPKEY).in_flight == 1)
        await client.aclose()
        errors = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(error, moor7.ClientClosedError) for error in errors), errors
        assert len({id(error) for error in errors}) == 3
        assert "in flight" in str(errors[0])


class TestDeadlines:
    async def test_the_sender_s_deadline_is_not_the_others(self, gateway: FakeGateway) -> None:
        """The call that was sent ends at its caller's deadline; an identical caller with
        more time asks again, and gets its answer."""
        gateway.fail_next(Fault.SLOW, delay=1.0)
        async with make_client(gateway) as client:
            first = asyncio.create_task(client.get_number_pool(deadline=0.3))
            await asyncio.sleep(0.05)
            second = asyncio.create_task(client.get_number_pool(deadline=5))
            with pytest.raises(moor7.DeadlineExceeded):
                await first
            pool = await second
        assert isinstance(pool, moor7.NumberPool)

    async def test_a_caller_whose_deadline_is_sooner_does_not_wait_for_a_later_one(
        self, gateway: FakeGateway
    ) -> None:
        """It would wait for the other call to fail; its own fails at once, as an
        unshared call whose slot frees too late does."""
        limiter = moor7.LocalLimiter(max_calls=1, period=5.0)
        async with make_client(gateway, limiter) as client:
            await client.get_number_pool()  # the window is full for 5 s
            waiting = asyncio.create_task(client.get_number_pool())
            await asyncio.sleep(0.05)
            with pytest.raises(moor7.DeadlineExceeded, match="frees in"):
                await client.get_number_pool(deadline=0.5)
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)

    async def test_a_caller_s_own_deadline_ends_its_own_wait(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SLOW, delay=0.6, times=2)
        async with make_client(gateway, deadline=0.3) as client:
            first = asyncio.create_task(client.get_number_pool(deadline=None))
            await asyncio.sleep(0.05)
            # The client's deadline, 0.3 s: sooner than the call in flight (none), so
            # this caller sends its own, which its deadline cuts.
            with pytest.raises(moor7.DeadlineExceeded):
                await client.get_number_pool()
            assert isinstance(await first, moor7.NumberPool)


class TestAfterAnAction:
    async def test_a_query_sent_before_an_action_is_not_shared_after_it(
        self, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SLOW, delay=0.4, path=NUMBERS)
        limiter = moor7.LocalLimiter(max_calls=5, period=5.0)
        async with make_client(gateway, limiter) as client:
            before = asyncio.create_task(client.get_number_pool())
            await until(lambda: limiter.usage(DEMO_APPKEY).in_flight == 1)  # sent
            await client.agent_online("2000", login_type="PSTN")
            after = await client.get_number_pool()
            await before
        assert queries(gateway) == [200, 200]
        assert not after.from_cache

    async def test_a_query_not_yet_sent_is_shared_after_an_action(
        self, gateway: FakeGateway
    ) -> None:
        """Its answer is made after the action: fresh for a caller after it too."""
        limiter = GateLimiter(open_to=Priority.INTERACTIVE)
        async with make_client(gateway, limiter) as client:
            before = asyncio.create_task(client.get_number_pool(priority="batch"))
            await until(lambda: limiter.waiting == 1)
            await client.agent_online("2000", login_type="PSTN")
            after = asyncio.create_task(client.get_number_pool(priority="batch"))
            await asyncio.sleep(0.05)
            assert limiter.waiting == 1
            limiter.open.set()
            await asyncio.gather(before, after)
        assert queries(gateway) == [200]

    async def test_an_action_drops_the_kept_answers(self, gateway: FakeGateway) -> None:
        async with make_client(gateway, max_age=60) as client:
            await client.get_number_pool()
            assert (await client.get_number_pool()).from_cache
            await client.agent_online("2000", login_type="PSTN")
            assert not (await client.get_number_pool()).from_cache
        assert queries(gateway) == [200, 200]


class TestMaxAge:
    async def test_served_without_the_limiter_or_the_gateway(self, gateway: FakeGateway) -> None:
        limiter = GateLimiter()
        limiter.open.set()
        async with make_client(gateway, limiter) as client:
            fresh = await client.get_number_pool(max_age=30)
            kept = await client.get_number_pool(max_age=30)
        assert queries(gateway) == [200]
        assert len(limiter.granted) == 1
        assert (fresh.from_cache, fresh.age) == (False, 0.0)
        assert kept.from_cache
        assert 0 < kept.age < 30
        assert kept.request_id == fresh.request_id  # the call that fetched it
        assert kept == fresh  # the same answer: from_cache and age are no part of it
        assert kept is not fresh
        assert kept.display_numbers is not fresh.display_numbers

    async def test_too_old_is_asked_again(self, gateway: FakeGateway) -> None:
        async with make_client(gateway) as client:
            await client.get_number_pool(max_age=0.2)
            await asyncio.sleep(0.25)
            again = await client.get_number_pool(max_age=0.2)
            older_allowed = await client.get_number_pool(max_age=30)
        assert not again.from_cache
        assert older_allowed.from_cache
        assert queries(gateway) == [200, 200]

    async def test_the_client_s_max_age_and_the_call_s(self, gateway: FakeGateway) -> None:
        async with make_client(gateway, max_age=30) as client:
            first = await client.get_number_pool()
            kept = await client.get_number_pool()
            not_kept = await client.get_number_pool(max_age=None)
            zero = await client.get_number_pool(max_age=0)
        assert [first.from_cache, kept.from_cache, not_kept.from_cache, zero.from_cache] == [
            False,
            True,
            False,
            False,
        ]
        assert queries(gateway) == [200, 200, 200]

    async def test_lists_say_it_too(self, gateway: FakeGateway) -> None:
        async with make_client(gateway, max_age=30) as client:
            fresh = await client.list_display_number_groups()
            kept = await client.list_display_number_groups()
            pages = [page async for page in client.list_agent_pages(page_size=1)]
            kept_pages = [page async for page in client.list_agent_pages(page_size=1)]
            typed = await client.request(GROUPS, result_type=moor7.NumberGroups)
            plain = await client.request(GROUPS)
        assert (fresh.from_cache, fresh.age) == (False, 0.0)
        assert kept.from_cache
        assert kept.age > 0
        assert kept == fresh
        assert not any(page.from_cache for page in pages)
        assert all(page.from_cache for page in kept_pages)
        assert [page.page for page in kept_pages] == [page.page for page in pages]
        assert typed.from_cache
        assert plain == fresh.raw  # plain JSON: served, but cannot say so
        assert len(gateway.calls) == 1 + len(pages)

    async def test_another_body_is_not_served(self, gateway: FakeGateway) -> None:
        async with make_client(gateway, max_age=30) as client:
            await client.list_sip_numbers()
            other = await client.list_sip_numbers(number="2000")
        assert not other.from_cache
        assert len(gateway.calls) == 2

    async def test_never_an_error(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        async with make_client(gateway, max_age=30, max_retries=0) as client:
            with pytest.raises(moor7.ServerError):
                await client.get_number_pool()
            pool = await client.get_number_pool()
        assert not pool.from_cache
        assert queries(gateway) == [500, 200]

    async def test_never_an_action(self, gateway: FakeGateway) -> None:
        async with make_client(gateway, max_age=30) as client:
            first = await client.agent_online("2000", login_type="PSTN")
            second = await client.agent_online("2000", login_type="PSTN")
            with pytest.raises(moor7.ConfigurationError, match="max_age is for queries"):
                await client.request("/openapi/v1/call/online", {}, max_age=30)
            with pytest.raises(moor7.ConfigurationError, match="max_age is for queries"):
                await client.request(GROUPS, kind="action", max_age=5)
        assert not first.from_cache
        assert not second.from_cache
        assert len(gateway.calls) == 2

    async def test_a_path_that_only_reads_can_be_kept(self, gateway: FakeGateway) -> None:
        gateway.set_response("/openapi/v1/unknown/read", {"value": 1})
        async with make_client(gateway) as client:
            first = await client.request("/openapi/v1/unknown/read", kind="query", max_age=30)
            again = await client.request("/openapi/v1/unknown/read", kind="query", max_age=30)
        assert first == again == {"value": 1}
        assert len(gateway.calls) == 1

    @pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "30", True])
    async def test_a_bad_max_age_is_refused_before_anything_is_sent(
        self, gateway: FakeGateway, bad: object
    ) -> None:
        async with make_client(gateway) as client:
            with pytest.raises(moor7.ConfigurationError, match="max_age"):
                await client.get_number_pool(max_age=bad)  # type: ignore[arg-type]  # on purpose
            with pytest.raises(moor7.ConfigurationError, match="max_age"):
                client.list_agents(max_age=bad)  # type: ignore[arg-type]  # on purpose
        with pytest.raises(moor7.ConfigurationError, match="max_age"):
            moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, max_age=bad)  # type: ignore[arg-type]  # on purpose
        with pytest.raises(moor7.ConfigurationError, match="max_age"):
            moor7.Client(DEMO_APPKEY, DEMO_SECRET_KEY, max_age=bad)  # type: ignore[arg-type]  # on purpose
        assert gateway.calls == []

    def test_share_answers_must_be_a_bool(self) -> None:
        with pytest.raises(moor7.ConfigurationError, match="share_answers"):
            moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, share_answers="no")  # type: ignore[arg-type]  # on purpose

    async def test_logged_at_debug_without_the_answer(
        self, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="moor7")
        async with make_client(gateway, max_age=30) as client:
            await client.get_number_pool()
            kept = await client.get_number_pool()
        (record,) = [r for r in caplog.records if getattr(r, "moor7_event", None) == "cache_hit"]
        assert record.levelno == logging.DEBUG
        assert record.moor7_path == NUMBERS  # type: ignore[attr-defined]
        assert record.moor7_age == pytest.approx(kept.age, abs=0.01)  # type: ignore[attr-defined]
        assert record.moor7_account == DEMO_APPKEY  # type: ignore[attr-defined]
        assert SIP_PASSWORD not in caplog.text

    async def test_a_caller_s_own_model_keeps_its_age(self, gateway: FakeGateway) -> None:
        """``age`` in a model of the caller's is its data, read from the answer: moor7's
        fields are told apart by their marks, not their names."""

        @attrs.frozen
        class Person:
            name: str
            age: int | None = None
            from_cache: bool | None = None

        gateway.set_response("/openapi/v1/people", {"name": "A", "age": 42, "fromCache": True})
        async with make_client(gateway, max_age=30) as client:
            first = await client.request("/openapi/v1/people", kind="query", result_type=Person)
            again = await client.request("/openapi/v1/people", kind="query", result_type=Person)
        assert first == again == Person(name="A", age=42, from_cache=True)


class TestMemory:
    async def test_at_most_max_answers_kept_least_recently_used_out(self) -> None:
        async with FakeGateway(quota=None) as gateway, make_client(gateway, max_age=60) as client:
            gateway.set_response(GROUPS, [])

            async def ask(n: int) -> moor7.NumberGroups:
                return await client.request(
                    GROUPS, {"n": n}, kind="query", result_type=moor7.NumberGroups
                )

            for n in range(MAX_ANSWERS):
                await ask(n)
            assert (await ask(0)).from_cache  # used again: the most recent now
            await ask(MAX_ANSWERS)  # one more: the least recently used goes
            assert (await ask(0)).from_cache
            assert not (await ask(1)).from_cache
            assert len(gateway.calls) == MAX_ANSWERS + 2

    async def test_at_most_max_answer_bytes_kept(self, gateway: FakeGateway) -> None:
        # A pool of 5,000 numbers: about 2 MB as sent.
        display = SAMPLE_NUMBER_POOL["displayNumberList"][0]
        big = {
            **SAMPLE_NUMBER_POOL,
            "displayNumberList": [
                {**display, "_id": f"id{n}", "number": f"0108{n:07d}"} for n in range(5000)
            ],
        }
        gateway.set_response(NUMBERS, big)
        async with make_client(gateway, max_age=60) as client:

            async def ask(n: int) -> moor7.NumberPool:
                return await client.request(
                    NUMBERS, {"n": n}, kind="query", result_type=moor7.NumberPool
                )

            first = await ask(0)
            size = client._answers.size  # the one answer's body, as it arrived
            fit = MAX_ANSWER_BYTES // size
            assert fit >= 2, size
            for n in range(1, fit):
                await ask(n)
            assert (await ask(fit - 1)).from_cache
            await ask(fit)  # over the bytes: the least recently used goes
            assert not (await ask(0)).from_cache
            assert len(first.display_numbers) == 5000
            assert client._answers.size <= MAX_ANSWER_BYTES

    async def test_nothing_kept_until_a_max_age_is_asked(self, gateway: FakeGateway) -> None:
        async with make_client(gateway) as client:
            await client.get_number_pool()
            assert len(client._answers) == 0
            await client.get_number_pool(max_age=30)  # nothing to serve yet
            assert (await client.get_number_pool(max_age=30)).from_cache
        assert queries(gateway) == [200, 200]

    async def test_answers_older_than_any_max_age_are_dropped(self, gateway: FakeGateway) -> None:
        async with make_client(gateway) as client:
            await client.get_number_pool(max_age=0.2)
            assert len(client._answers) == 1
            await asyncio.sleep(0.3)  # no call meanwhile: dropped all the same
            assert len(client._answers) == 0

    async def test_nothing_kept_once_closed(self, gateway: FakeGateway) -> None:
        async with make_client(gateway, max_age=60) as client:
            await client.get_number_pool()
            assert len(client._answers) == 1
        assert len(client._answers) == 0

    async def test_an_answer_arriving_after_close_is_not_kept(self) -> None:
        """A transport that lets a call in flight finish after the close (aiohttp's
        ends it): its answer is not kept."""
        answer = asyncio.Event()

        async def handler(request: Any, headers: Any) -> moor7.HttpResponse:
            await answer.wait()
            return moor7.HttpResponse(200, body=b'{"success": true, "code": "200", "data": []}')

        client = moor7.AsyncClient(
            DEMO_APPKEY,
            DEMO_SECRET_KEY,
            transport=MockTransport(handler),
            limiter=moor7.Unlimited(),
            max_age=60,
        )
        call = asyncio.create_task(client.list_display_number_groups())
        await asyncio.sleep(0.05)
        await client.aclose()
        answer.set()
        assert await call == []
        assert len(client._answers) == 0

    async def test_no_password_in_what_shows(self, gateway: FakeGateway) -> None:
        async with make_client(gateway, max_age=60) as client:
            kept = await client.get_number_pool()
            kept = await client.get_number_pool()
            assert kept.from_cache
            shown = [repr(client), repr(client._answers), repr(kept), str(kept)]
        assert all(SIP_PASSWORD not in text for text in shown)


class TestSyncClient:
    def test_many_threads_share_the_answers(self) -> None:
        """A Django page loop: every thread's call answered by one call of the quota."""
        limiter = moor7.LocalLimiter(max_calls=20, period=60.0)
        with (
            FakeGateway() as gateway,
            moor7.Client(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
            ) as client,
        ):

            def page_views(_: int) -> list[bool]:
                return [client.get_number_pool(max_age=30).from_cache for _ in range(10)]

            with ThreadPoolExecutor(max_workers=16) as pool:
                served = [kept for views in pool.map(page_views, range(16)) for kept in views]
            assert len(served) == 160
            assert queries(gateway) == [200]
            assert served.count(True) >= 160 - 16  # the rest shared the one call
        assert limiter.calls_in_window(DEMO_APPKEY) == 1

    def test_close_drops_the_answers(self) -> None:
        with FakeGateway() as gateway:
            client = moor7.Client(DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, max_age=60)
            assert not client.get_number_pool().from_cache
            assert client.get_number_pool().from_cache
            answers = client._async_client._answers
            assert len(answers) == 1
            client.close()
            assert len(answers) == 0


class TestFork:
    @pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")
    def test_a_child_keeps_nothing_of_the_parent_s_answers(self) -> None:
        """A worker forked after the app made its calls: it asks the gateway itself, and
        the parent's answers (SIP passwords) are no longer held in it."""
        with FakeGateway() as gateway:
            client = moor7.Client(DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, max_age=60)
            client.get_number_pool()
            inherited = client._async_client
            assert len(inherited._answers) == 1
            with warnings.catch_warnings():
                # Python 3.12+ warns that forking a threaded process may deadlock.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # pragma: no cover - the child answers with its exit status
                status = 1
                try:
                    kept_in_child = len(inherited._answers)
                    pool = client.get_number_pool()
                    status = 0 if (kept_in_child, pool.from_cache) == (0, False) else 3
                finally:
                    os._exit(status)
            _, wait_status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(wait_status) == 0
            assert client.get_number_pool().from_cache  # the parent's are the parent's
            client.close()
        assert queries(gateway) == [200, 200]


class TestAnswerCache:
    """The cache alone, with its clock the event loop's."""

    async def test_expiry_follows_the_longest_max_age(self) -> None:
        cache = AnswerCache()
        envelope: Any = object()
        cache.put(("/p", b""), envelope, 10)
        assert len(cache) == 0  # nobody asked for a max_age: nothing kept
        cache.asked(0.2)
        cache.put(("/p", b""), envelope, 10)
        assert cache.get(("/p", b""), 0.2) == (envelope, pytest.approx(0, abs=0.05))
        assert cache.get(("/p", b""), 0.0) is None  # too old for this caller only
        assert len(cache) == 1
        await asyncio.sleep(0.3)
        assert len(cache) == 0
        assert cache.size == 0

    async def test_too_large_an_answer_is_not_kept(self) -> None:
        cache = AnswerCache()
        cache.asked(10)
        cache.put(("/p", b""), object(), MAX_ANSWER_BYTES + 1)  # type: ignore[arg-type]
        assert len(cache) == 0
        cache.clear()

    def test_copied_error_keeps_everything_but_identity(self) -> None:
        original = moor7.RateLimitError(
            "over", path="/p", status=429, code="429", request_id="r", retry_after=3
        )
        original.attempts = 4
        try:
            raise original
        except moor7.RateLimitError:
            pass
        copied = copied_error(original)
        assert copied is not original
        assert isinstance(copied, moor7.RateLimitError)
        assert (copied.retry_after, copied.attempts, str(copied)) == (3, 4, str(original))
        assert copied.__traceback__ is original.__traceback__
