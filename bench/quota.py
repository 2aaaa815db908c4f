"""The account quota, measured: does the limiter keep a strict gateway happy, use the
quota, and keep the account available through Redis's failures?

Runs moor7's clients against ``moor7.testing.FakeGateway`` enforcing a strict rolling
window of ``--max-calls`` per ``--period`` seconds (scaled down from 20 per 60 s so that
it runs in seconds), with ``max_retries=0`` where any over-quota answer must show. Two
tables:

**Kept and used**: ``LocalLimiter``, ``RedisLimiter``, 4 processes sharing a
``RedisLimiter``, and (with its own redis-server) 4 processes across a Redis restart
without persistence, a restart from the append-only file, and a replica promoted
(``REPLICAOF NO ONE``) in the middle of the run:

- rejected: calls the gateway answered 429 (the promise: 0);
- max in window: the most calls the gateway accepted in any rolling period (<= max);
- utilisation: the quota used under saturation: the ideal time for the calls after the
  first burst (whole periods) over the time they took (target >= 98% without failures);
- after the event: calls accepted in the three periods after the restart, over the
  three periods' quota (target >= 80%);
- burst: seconds for ``max_calls`` calls from idle, as a share of the period.

**Available**: how long the account waits after what operators meet, against the
bound the limiter promises, and how many over-quota answers that cost:

- a brand-new server: the first call (bound: a second);
- a worker SIGKILLed with ``max_calls`` calls in flight (``--timeout`` per attempt, no
  ``lease=``): a survivor's first slot, from the dead worker's grants (measured from
  the last look at Redis that saw none of them; promised: within the period, the
  timeout and a second and a half; by design the slot frees after the timeout, half a
  second and the period, and the survivor is woken then);
- every process gone with Redis (nobody left who knew the window), new processes
  start: by default at once, at the cost of at most one burst of over-quota answers
  (met by the pause and safe retries: every call completes); with
  ``after_restart="wait"``, no over-quota answer, after a wait bounded by the period
  and one attempt's bound from the server's start (which Redis reports in whole
  seconds: a second more at most).

**Shared answers** (``--only answers``): identical queries through one client, with a
``LocalLimiter``, a "minute" being one ``--period``:

- 50 concurrent identical ``get_number_pool()`` calls (the promise: 1 reaches the
  gateway);
- a page that shows the pool viewed 100 times a minute for ``--periods`` minutes, each
  view ``get_number_pool(max_age=30 s of a minute)`` (the promise: at most 2 calls in
  any minute reach the gateway, and no caller waits for a slot);
- what sharing costs a query with nothing to share, in-process (a ``MockTransport``):
  µs a call against ``share_answers=False``, each side in turn.

**Priorities** (``--only priorities``): ``--batch`` queries (``priority="batch"``, 200)
are queued and saturate the account, ``--reserve`` slots kept for interactive calls,
and two and a half periods in one action is asked: in one process (a
``LocalLimiter``), and with the batch in another process (``RedisLimiter``). How long
the action waited, against one slot interval; how much of its ``max_calls - reserve``
slots the batch used.

Usage::

    python bench/quota.py                 # starts throwaway redis-servers if on PATH
    python bench/quota.py --redis-url redis://127.0.0.1:6379/0 --periods 6
    python bench/quota.py --only answers  # shared answers only: no Redis
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import moor7
from moor7._limits import acquire_options
from moor7._redis_server import RedisProcess
from moor7.testing import (
    DEMO_APPKEY,
    DEMO_SECRET_KEY,
    SAMPLE_NUMBER_POOL,
    FakeGateway,
    MockTransport,
)

# The deployments the tests run (a proxy that moves to a promoted replica, ...).
sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.redis_servers import Proxy, clock_and_count, replica_of, silent_server

GROUPS = "/openapi/v1/call/query/group"


def utilisation(received: list[float], max_calls: int, period: float) -> float:
    """Ideal time over actual time for the calls after the first burst.

    Under saturation, call ``i`` can go no earlier than ``(i // max_calls) * period``
    after the first; a limiter that uses the whole quota comes close to that.
    """
    times = sorted(received)
    ideal = ((len(times) - 1) // max_calls) * period
    actual = times[-1] - times[0]
    return ideal / actual if actual > 0 else 0.0


def rejected(gateway: FakeGateway) -> int:
    return sum(1 for call in gateway.calls if call.status == 429)


def prefix() -> str:
    return f"moor7:quota:bench-{uuid.uuid4().hex}:"


async def saturate(client: moor7.AsyncClient, calls: int) -> list[str]:
    results = await asyncio.gather(
        *(client.request(GROUPS) for _ in range(calls)), return_exceptions=True
    )
    return [type(r).__name__ for r in results]


async def one_process(
    name: str, make_limiter: Any, max_calls: int, period: float, periods: int
) -> dict[str, Any]:
    async with FakeGateway(quota=max_calls, quota_period=period) as gateway:
        limiter = make_limiter()
        try:
            async with moor7.AsyncClient(
                DEMO_APPKEY,
                DEMO_SECRET_KEY,
                base_url=gateway.url,
                limiter=limiter,
                max_retries=0,
                share_answers=False,  # every call reaches the gateway: the limiter's load
            ) as client:
                started = time.monotonic()
                await saturate(client, max_calls)
                burst = time.monotonic() - started
                await asyncio.sleep(period * 1.05)  # idle again
                gateway.clear_calls()
                await saturate(client, max_calls * (periods + 1))
        finally:
            if isinstance(limiter, moor7.RedisLimiter):
                await limiter.aclose()
        calls = gateway.calls
        return {
            "limiter": name,
            "calls": len(calls),
            "rejected": rejected(gateway),
            "max_in_window": gateway.max_calls_in_window(DEMO_APPKEY, period),
            "utilisation": utilisation([c.received_at for c in calls], max_calls, period),
            "burst_s": burst,
            "burst_share": burst / period,
        }


WORKER = textwrap.dedent(
    """
    import asyncio, sys
    import moor7

    url, prefix, base_url = sys.argv[1], sys.argv[2], sys.argv[3]
    max_calls, period, timeout = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
    calls, retries, after_restart = int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]

    unavailable = 0

    async def call(client):
        # What an application does while Redis restarts: try again a moment later.
        global unavailable
        while True:
            try:
                return await client.request("/openapi/v1/call/query/group")
            except moor7.LimiterUnavailableError:
                unavailable += 1
                await asyncio.sleep(0.05)

    async def main():
        limiter = moor7.RedisLimiter(
            url, max_calls=max_calls, period=period, key_prefix=prefix,
            after_restart=after_restart,
        )
        try:
            async with moor7.AsyncClient(
                "2000103", "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3",
                base_url=base_url, limiter=limiter, max_retries=retries, timeout=timeout,
                share_answers=False,  # every call reaches the gateway: the limiter's load
            ) as client:
                await asyncio.gather(*(call(client) for _ in range(calls)), return_exceptions=True)
        finally:
            await limiter.aclose()

    asyncio.run(main())
    print(unavailable)
    """
)


def start_workers(
    redis_url: str,
    key_prefix: str,
    gateway: FakeGateway,
    args: argparse.Namespace,
    total: int,
    *,
    retries: int = 0,
    after_restart: str = "serve",
) -> list[subprocess.Popen[bytes]]:
    """Four worker processes sharing *total* calls, each with a RedisLimiter."""
    shares = [total // 4 + (1 if i < total % 4 else 0) for i in range(4)]
    settings = [str(args.max_calls), str(args.period), str(args.timeout)]
    return [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [
                sys.executable,
                "-c",
                WORKER,
                redis_url,
                key_prefix,
                gateway.url,
                *settings,
                str(share),
                str(retries),
                after_restart,
            ],
            stdout=subprocess.PIPE,
        )
        for share in shares
    ]


def finish(workers: list[subprocess.Popen[bytes]], timeout: float) -> int:
    """Wait for the workers; how many times they met an unreachable limiter."""
    unavailable = 0
    for worker in workers:
        out, _ = worker.communicate(timeout=timeout)
        if worker.returncode:
            raise RuntimeError(f"a worker failed with status {worker.returncode}")
        unavailable += int(out)
    return unavailable


def four_processes(
    redis_url: str,
    args: argparse.Namespace,
    name: str = "RedisLimiter, 4 processes",
    event: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """4 processes saturate the account; *event* (a restart, a failover) happens in the
    middle of the run."""
    max_calls, period, periods = args.max_calls, args.period, args.periods
    total = max_calls * (periods + 1)
    with FakeGateway(quota=max_calls, quota_period=period) as gateway:
        workers = start_workers(redis_url, prefix(), gateway, args, total)
        happened = None
        if event is not None:
            time.sleep(period * (periods + 1) / 2)
            happened = time.monotonic()
            event()
        unavailable = finish(workers, periods * period * 4 + 60)
        calls = gateway.calls
        row = {
            "limiter": name,
            "calls": len(calls),
            "rejected": rejected(gateway),
            "max_in_window": gateway.max_calls_in_window(DEMO_APPKEY, period),
            "utilisation": utilisation([c.received_at for c in calls], max_calls, period),
            "burst_s": None,
            "burst_share": None,
            "unavailable": unavailable,
            "after_event": None,
        }
        if happened is not None:
            # Whole windows only: the calls left after three periods may be fewer.
            accepted = sum(
                1
                for c in calls
                if c.status == 200 and happened <= c.received_at < happened + 3 * period
            )
            row["after_event"] = accepted / min(
                3 * max_calls,
                max(
                    1, total - sum(1 for c in calls if c.status == 200 and c.received_at < happened)
                ),
            )
        return row


def restart_rows(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """4 processes through a Redis restart without persistence (the window is lost, the
    processes witness it), a restart from the AOF and a promoted replica (it survives)."""
    with RedisProcess() as server:

        def restart_empty() -> None:
            server.kill()
            server.start()

        yield four_processes(server.url, args, "4 processes, Redis restarted empty", restart_empty)
    with RedisProcess(appendonly=True) as server:

        def restart_from_aof() -> None:
            server.stop()  # SIGTERM, as docker stop: the AOF is written
            server.start()

        yield four_processes(server.url, args, "4 processes, restarted from AOF", restart_from_aof)
    with RedisProcess() as server:
        replica = replica_of(server)
        proxy = Proxy(server.port)
        try:

            def fail_over() -> None:
                server.kill()
                replica.command("REPLICAOF", "NO", "ONE")
                proxy.move_to(replica.port)

            yield four_processes(proxy.url, args, "4 processes, replica promoted", fail_over)
        finally:
            proxy.close()
            replica.close()


async def first_call_on_a_new_server(args: argparse.Namespace) -> dict[str, Any]:
    with RedisProcess() as server:
        await asyncio.sleep(1.0)  # docker compose up: the application starts a second later
        limiter = moor7.RedisLimiter(server.url)  # the defaults: 20 per 60 s
        async with (
            FakeGateway() as gateway,
            moor7.AsyncClient(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
            ) as client,
        ):
            started = time.monotonic()
            await client.get_number_pool()
            waited = time.monotonic() - started
            refused = rejected(gateway)
        await limiter.aclose()
    return {
        "scenario": "a brand-new server: the first call",
        "wait_s": waited,
        "bound_s": 1.0,
        "rejected": refused,
    }


KILLED = textwrap.dedent(
    """
    import asyncio, sys
    import moor7

    url, prefix, base_url = sys.argv[1], sys.argv[2], sys.argv[3]
    max_calls, period, timeout = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])

    async def main():
        quota = moor7.RedisLimiter(url, max_calls=max_calls, period=period, key_prefix=prefix)
        async with moor7.AsyncClient(
            "2000103", "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3",
            base_url=base_url, limiter=quota, timeout=timeout, max_retries=0,
            share_answers=False,  # every call reaches the gateway: the limiter's load
        ) as client:
            await asyncio.gather(
                *(client.request("/openapi/v1/call/query/group") for _ in range(max_calls)),
                return_exceptions=True,
            )

    asyncio.run(main())
    """
)


async def slot_after_a_killed_worker(args: argparse.Namespace) -> dict[str, Any]:
    import redis

    key_prefix = prefix()
    flight = f"{key_prefix}{{{DEMO_APPKEY}}}:flight"
    settings = [str(args.max_calls), str(args.period), str(args.timeout)]
    with RedisProcess() as server, silent_server() as port:
        silent = f"http://127.0.0.1:{port}"
        admin = redis.Redis(port=server.port)
        # The grants happened after the last look that saw none in flight (Redis's clock).
        look = clock_and_count(admin, flight)
        worker = subprocess.Popen(  # noqa: S603, ASYNC220 - our own interpreter and script
            [sys.executable, "-c", KILLED, server.url, key_prefix, silent, *settings]
        )
        before = 0.0
        try:
            while True:
                now, in_flight = look()
                if in_flight == 0:
                    before = now
                if in_flight >= args.max_calls:
                    break
                if worker.poll() is not None:
                    raise RuntimeError("the worker ended before its calls were in flight")
                await asyncio.sleep(0.002)
        finally:
            worker.kill()
            worker.wait()
        survivor = moor7.RedisLimiter(
            server.url, max_calls=args.max_calls, period=args.period, key_prefix=key_prefix
        )
        async with survivor.acquire(DEMO_APPKEY, timeout=args.timeout):
            seconds, micros = admin.time()
        await survivor.aclose()
        admin.close()
    return {
        "scenario": f"a worker SIGKILLed with {args.max_calls} calls in flight: a survivor's slot",
        # At most: from the last look before the grants, to just after the survivor's.
        "wait_s": seconds + micros / 1e6 - before,
        # The promise: the period, the timeout and a second and a half (6.5 s for 3 s and
        # 2 s); by design the slot frees half a second into that.
        "bound_s": args.period + args.timeout + 1.5,
        "rejected": None,  # no call is sent: the limiter alone
    }


def after_everyone_died(args: argparse.Namespace, after_restart: str) -> dict[str, Any]:
    """Processes make a burst, then go down with Redis (nobody is left who knew the
    window); new processes start at once and call with the default retries."""
    max_calls, period = args.max_calls, args.period
    with RedisProcess() as server, FakeGateway(quota=max_calls, quota_period=period) as gateway:
        key_prefix = prefix()
        finish(start_workers(server.url, key_prefix, gateway, args, max_calls), 60)
        gone = len(gateway.calls)
        server.kill()
        server.start()
        started = time.monotonic()
        workers = start_workers(
            server.url,
            key_prefix,
            gateway,
            args,
            2 * max_calls,
            retries=3,
            after_restart=after_restart,
        )
        finish(workers, 4 * period + 60)
        after = gateway.calls[gone:]
        completed = sum(1 for c in after if c.status == 200)
        if completed != 2 * max_calls:
            raise RuntimeError(f"{completed} of {2 * max_calls} calls completed")
    how = "default" if after_restart == "serve" else "after_restart='wait'"
    # Waiting: the period and one attempt's bound after the server started, which Redis
    # reports in whole seconds (so up to a second more).
    bound = 1.0 if after_restart == "serve" else period + args.timeout + 0.5 + 1.0
    return {
        "scenario": f"every process gone with Redis, new ones start ({how}): the first call",
        "wait_s": min(c.received_at for c in after) - started,
        "bound_s": bound,
        "rejected": sum(1 for c in after if c.status == 429),
    }


def kept_table(rows: list[dict[str, Any]], max_calls: int, period: float) -> str:
    lines = [
        f"Quota {max_calls} calls per {period:g} s (a scaled 20/60 s), strict rolling window.",
        "",
        "| limiter | calls | rejected (target 0) | max in any window "
        f"(limit {max_calls}) | utilisation | after the event (target ≥ 80%) "
        f"| burst of {max_calls} from idle | LimiterUnavailableError, retried |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        burst = (
            "-"
            if row["burst_s"] is None
            else f"{row['burst_s'] * 1000:.0f} ms ({row['burst_share']:.1%} of the period)"
        )
        after = "-" if row.get("after_event") is None else f"{row['after_event']:.0%}"
        lines.append(
            f"| {row['limiter']} | {row['calls']} | {row['rejected']} | "
            f"{row['max_in_window']} | {row['utilisation']:.1%} | {after} | {burst} | "
            f"{row.get('unavailable', '-')} |"
        )
    return "\n".join(lines)


def available_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | waited | at most | over-quota answers |",
        "|---|---|---|---|",
    ]
    for row in rows:
        refused = "-" if row["rejected"] is None else row["rejected"]
        lines.append(
            f"| {row['scenario']} | {row['wait_s']:.2f} s | {row['bound_s']:.2f} s | {refused} |"
        )
    return "\n".join(lines)


# -- shared answers (the "answers" group) ---------------------------------------------
#
# Identical queries through one client, against the same strict gateway: how many of
# them reach it, and whether any waits for a slot. A "minute" is one --period.

NUMBERS = "/openapi/v1/call/query/number"


class TimedLimiter:
    """A LocalLimiter that also counts its grants and the longest wait for one."""

    def __init__(self, max_calls: int, period: float) -> None:
        self.inner = moor7.LocalLimiter(max_calls, period)
        self.takes = acquire_options(self.inner)
        self.grants: list[float] = []
        self.longest_wait = 0.0

    @contextlib.asynccontextmanager
    async def acquire(self, account: str, **options: Any) -> AsyncIterator[None]:
        started = time.monotonic()
        taken = {name: value for name, value in options.items() if name in self.takes}
        async with self.inner.acquire(account, **taken):
            self.longest_wait = max(self.longest_wait, time.monotonic() - started)
            self.grants.append(time.monotonic())
            yield

    async def pause(self, account: str, seconds: float | None = None) -> None:
        await self.inner.pause(account, seconds)


def most_in_a_period(times: list[float], period: float) -> int:
    """The most of *times* in any rolling *period*."""
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - period:
            first += 1
        most = max(most, last - first + 1)
    return most


@contextlib.asynccontextmanager
async def one_client(
    args: argparse.Namespace,
) -> AsyncIterator[tuple[FakeGateway, moor7.AsyncClient, TimedLimiter]]:
    """The strict gateway, and one client of the account with a timed LocalLimiter."""
    limiter = TimedLimiter(args.max_calls, args.period)
    async with (
        FakeGateway(quota=args.max_calls, quota_period=args.period) as gateway,
        moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter, max_retries=0
        ) as client,
    ):
        yield gateway, client, limiter


async def identical_calls_at_once(args: argparse.Namespace, count: int = 50) -> dict[str, Any]:
    """*count* concurrent identical get_number_pool() calls through one client."""
    async with one_client(args) as (gateway, client, limiter):
        results = await asyncio.gather(
            *(client.get_number_pool() for _ in range(count)), return_exceptions=True
        )
        scenario = f"{count} concurrent identical get_number_pool() calls"
        return answers_row(scenario, results, gateway, limiter, args.period)


async def page_views(args: argparse.Namespace, per_minute: int = 100) -> dict[str, Any]:
    """A page that shows the pool, viewed *per_minute* times a minute for --periods
    minutes, each view calling get_number_pool(max_age=30 s of a minute)."""
    max_age = args.period * 30 / 60
    views = per_minute * args.periods
    async with one_client(args) as (gateway, client, limiter):
        started = time.monotonic()
        results: list[object] = []
        for view in range(views):
            # Each view at its time, as visitors come: a slow one does not push the others.
            due = started + view * args.period / per_minute
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            try:
                results.append(await client.get_number_pool(max_age=max_age))
            except moor7.Moor7Error as error:
                results.append(error)
        scenario = (
            f"a page viewed {per_minute} times a minute for {args.periods} minutes, "
            "get_number_pool(max_age=30 s)"
        )
        return answers_row(scenario, results, gateway, limiter, args.period)


def answers_row(
    scenario: str,
    results: Sequence[object],
    gateway: FakeGateway,
    limiter: TimedLimiter,
    period: float,
) -> dict[str, Any]:
    pools = [result for result in results if isinstance(result, moor7.NumberPool)]
    return {
        "scenario": scenario,
        "asked": len(results),
        "answered": len(pools),
        "kept_served": sum(pool.from_cache for pool in pools),
        "reached": len(gateway.calls),
        "most_per_period": most_in_a_period([c.received_at for c in gateway.calls], period),
        "longest_wait_s": limiter.longest_wait,
        "rejected": rejected(gateway),
    }


async def lone_call_cost(rounds: int = 7, calls: int = 2000) -> dict[str, Any]:
    """What sharing costs a query with nothing to share: µs a call, in-process (the
    pipeline alone: signing, the envelope, the models), against share_answers=False."""
    body = json.dumps(
        {"success": True, "code": "200", "data": SAMPLE_NUMBER_POOL, "requestInfo": {}}
    ).encode()

    def answer(request: Any, headers: Any) -> moor7.HttpResponse:
        return moor7.HttpResponse(200, body=body)

    async def per_call(client: moor7.AsyncClient, **options: Any) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            await client.get_number_pool(**options)
        return (time.perf_counter() - started) / calls * 1e6

    times: dict[str, list[float]] = {"shared": [], "unshared": [], "kept": []}
    async with (
        moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, transport=MockTransport(answer), limiter=moor7.Unlimited()
        ) as shared,
        moor7.AsyncClient(
            DEMO_APPKEY,
            DEMO_SECRET_KEY,
            transport=MockTransport(answer),
            limiter=moor7.Unlimited(),
            share_answers=False,
        ) as unshared,
    ):
        for _ in range(2):  # warm-up: the converter, the fast path
            await per_call(shared)
            await per_call(unshared)
        for round_ in range(rounds):  # each side in turn first
            pair = [("shared", shared), ("unshared", unshared)]
            for name, client in pair if round_ % 2 == 0 else pair[::-1]:
                times[name].append(await per_call(client))
            times["kept"].append(await per_call(shared, max_age=60))
    median = {name: statistics.median(values) for name, values in times.items()}
    return {
        "shared_us": median["shared"],
        "unshared_us": median["unshared"],
        "kept_us": median["kept"],
        "ratio": median["shared"] / median["unshared"],
    }


def answers_table(rows: list[dict[str, Any]], cost: dict[str, Any] | None) -> str:
    lines = [
        "| scenario | asked | answered | served kept | reached the gateway | most in a "
        "minute | longest wait for a slot | over-quota answers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['scenario']} | {row['asked']} | {row['answered']} | {row['kept_served']} "
            f"| {row['reached']} | {row['most_per_period']} | "
            f"{row['longest_wait_s'] * 1000:.1f} ms | {row['rejected']} |"
        )
    if cost is not None:
        lines += [
            "",
            f"A query with nothing to share, in-process: {cost['shared_us']:.1f} µs a call; "
            f"{cost['unshared_us']:.1f} µs with share_answers=False (ratio "
            f"{cost['ratio']:.2f}); a kept answer served: {cost['kept_us']:.1f} µs.",
        ]
    return "\n".join(lines)


# -- priorities: an action behind a queued batch -----------------------------------------

PRIORITY_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    import moor7

    url, prefix, base_url = sys.argv[1], sys.argv[2], sys.argv[3]
    max_calls, period, reserve = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    calls = int(sys.argv[7])

    async def main():
        limiter = moor7.RedisLimiter(
            url, max_calls=max_calls, period=period, reserve=reserve, key_prefix=prefix
        )
        try:
            # Each query is a call of its own (identical ones would be shared).
            async with moor7.AsyncClient(
                "2000103", "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3",
                base_url=base_url, limiter=limiter, max_retries=0, share_answers=False,
            ) as client:
                await asyncio.gather(*(
                    client.request("/openapi/v1/call/query/group", kind="query",
                                   priority="batch")
                    for _ in range(calls)
                ))
        finally:
            await limiter.aclose()

    asyncio.run(main())
    """
)


async def action_behind_a_batch(args: argparse.Namespace, redis_url: str | None) -> dict[str, Any]:
    """A batch of queries (paging, a report export) saturates the account, ``reserve``
    slots kept for interactive calls; one action arrives in the middle. In one process
    (LocalLimiter), or with the batch in another process (RedisLimiter, redis_url)."""
    max_calls, period, reserve = args.max_calls, args.period, args.reserve
    allowed = max_calls - reserve
    batch_calls = args.batch
    key_prefix = prefix()

    def limiter() -> moor7.LocalLimiter | moor7.RedisLimiter:
        if redis_url is None:
            return shared_local
        return moor7.RedisLimiter(
            redis_url, max_calls=max_calls, period=period, reserve=reserve, key_prefix=key_prefix
        )

    shared_local = moor7.LocalLimiter(max_calls, period, reserve=reserve)
    async with FakeGateway(quota=max_calls, quota_period=period) as gateway:
        quota = limiter()
        # share_answers=False: each batch query is a call of its own, as pages would be.
        async with moor7.AsyncClient(
            DEMO_APPKEY,
            DEMO_SECRET_KEY,
            base_url=gateway.url,
            limiter=quota,
            max_retries=0,
            share_answers=False,
        ) as client:
            if redis_url is None:
                batch = [
                    asyncio.ensure_future(client.request(GROUPS, kind="query", priority="batch"))
                    for _ in range(batch_calls)
                ]
            else:
                settings = [str(max_calls), str(period), str(reserve), str(batch_calls)]
                worker = subprocess.Popen(  # noqa: S603, ASYNC220 - our own interpreter
                    [
                        *(sys.executable, "-c", PRIORITY_WORKER),
                        *(redis_url, key_prefix, gateway.url, *settings),
                    ]
                )
            # Two and a half windows in: the batch holds the account, most of it queued.
            await asyncio.sleep(period * 2.5)
            asked = time.monotonic()
            await client.agent_online("2000", login_type="PSTN")
            waited = time.monotonic() - asked
            if redis_url is None:
                await asyncio.gather(*batch)
            else:
                status = await asyncio.to_thread(worker.wait)
                if status:
                    raise RuntimeError(f"the batch worker failed with {status}")
        if isinstance(quota, moor7.RedisLimiter):
            await quota.aclose()
    batch_times = [c.received_at for c in gateway.calls if c.path.endswith("/query/group")]
    where = "one process" if redis_url is None else "batch in another process, on Redis"
    return {
        "scenario": f"{batch_calls} batch queries queued, then one action ({where})",
        "action_wait_s": waited,
        "slot_interval_s": period / max_calls,
        "batch_utilisation": utilisation(batch_times, allowed, period),
        "rejected": rejected(gateway),
        "max_in_window": gateway.max_calls_in_window(DEMO_APPKEY, period),
    }


def priorities_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"Priorities: {args.reserve} of {args.max_calls} slots reserved for interactive calls.",
        "",
        "| scenario | the action waited (target ≤ one slot interval) | slot interval "
        f"| batch's use of its {args.max_calls - args.reserve} slots (target ≥ 95%) "
        "| rejected | max in any window |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['scenario']} | {row['action_wait_s'] * 1000:.0f} ms "
            f"| {row['slot_interval_s'] * 1000:.0f} ms | {row['batch_utilisation']:.1%} "
            f"| {row['rejected']} | {row['max_in_window']} |"
        )
    return "\n".join(lines)


SCENARIOS = ("kept", "restarts", "available", "answers", "priorities")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-calls", type=int, default=20)
    parser.add_argument("--period", type=float, default=2.0)
    parser.add_argument("--periods", type=int, default=4, help="saturated periods to run")
    parser.add_argument(
        "--timeout", type=float, default=1.0, help="each attempt's timeout (the lease it gives)"
    )
    parser.add_argument(
        "--reserve", type=int, default=5, help="slots kept for interactive calls (priorities)"
    )
    parser.add_argument(
        "--batch", type=int, default=200, help="batch queries queued before the action"
    )
    parser.add_argument("--redis-url", help="for the kept rows; default: a throwaway server")
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    if not only <= set(SCENARIOS):
        parser.error(f"--only takes {', '.join(SCENARIOS)}")

    kept: list[dict[str, Any]] = []
    available: list[dict[str, Any]] = []
    priorities: list[dict[str, Any]] = []
    if "kept" in only:
        kept.append(
            asyncio.run(
                one_process(
                    "LocalLimiter",
                    lambda: moor7.LocalLimiter(args.max_calls, args.period),
                    args.max_calls,
                    args.period,
                    args.periods,
                )
            )
        )
        with contextlib.ExitStack() as stack:
            url = args.redis_url or stack.enter_context(RedisProcess()).url
            key_prefix = prefix()
            kept.append(
                asyncio.run(
                    one_process(
                        "RedisLimiter",
                        lambda: moor7.RedisLimiter(
                            url,
                            max_calls=args.max_calls,
                            period=args.period,
                            key_prefix=key_prefix,
                        ),
                        args.max_calls,
                        args.period,
                        args.periods,
                    )
                )
            )
            kept.append(four_processes(url, args))
    if "restarts" in only:
        kept += restart_rows(args)
    if "available" in only:
        available.append(asyncio.run(first_call_on_a_new_server(args)))
        available.append(asyncio.run(slot_after_a_killed_worker(args)))
        available.append(after_everyone_died(args, "serve"))
        available.append(after_everyone_died(args, "wait"))
    # Shared answers: identical queries through one client (no Redis needed).
    answers: list[dict[str, Any]] = []
    cost: dict[str, Any] | None = None
    if "answers" in only:
        answers.append(asyncio.run(identical_calls_at_once(args)))
        answers.append(asyncio.run(page_views(args)))
        cost = asyncio.run(lone_call_cost())
    if "priorities" in only:
        priorities.append(asyncio.run(action_behind_a_batch(args, None)))
        with RedisProcess() as server:
            priorities.append(asyncio.run(action_behind_a_batch(args, server.url)))
    if args.json:
        report = {
            "kept": kept,
            "available": available,
            "answers": answers,
            "answer_cost": cost,
            "priorities": priorities,
        }
        print(json.dumps(report, indent=2))
    else:
        if kept:
            print(kept_table(kept, args.max_calls, args.period))
        if available:
            print()
            print(available_table(available))
        if answers:
            if kept or available:
                print()
            print(answers_table(answers, cost))
        if priorities:
            print()
            print(priorities_table(priorities, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
