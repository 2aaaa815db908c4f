"""moor7's speed and footprint, each figure a ratio against a baseline measured alongside.

Run from the repository root, after ``pip install -e '.[bench]'`` (pydantic v2 and
msgspec, the peers; pytest for scenario 8)::

    python -m bench.perf                  # every scenario: about 4 minutes
    python -m bench.perf --only 1,5       # some scenarios only
    python -m bench.perf --quick          # a smoke run of seconds (tests/test_bench.py)
    python -m bench.perf --list           # what each scenario measures, and its target

It prints a Markdown table (scenario | moor7 | baseline | ratio | spread | target | met?)
and the details behind it. Absolute times are noise on a small shared machine, so every
figure is a ratio against a baseline measured in the same run: the sides take turns
(round-robin, the order rotating each round), each round's ratio is taken pair by pair,
and the table shows the median of those ratios and, as the spread, their lowest and
highest.

The HTTP scenarios run against ``bench/gateway.py`` in a child process: a socket server
that writes 7moor's answer encoded once, as bytes, after checking the signature. The
time of a call is then the client's (``FakeGateway``, built for behaviour, serializes
every answer anew: on a 5,000-number pool that server work was two thirds of the raw
baseline's time). Clients use ``limiter=moor7.Unlimited()``; all sides sign with
``moor7.HmacSigner`` and a counting nonce, since random 6-digit nonces repeat within a
second at thousands of calls per second (the birthday bound).

The figures are reported, never asserted: the thresholds are targets to look at.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import copy
import gc
import hashlib
import hmac
import importlib.util
import itertools
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import attrs

import moor7
from bench.gateway import NUMBER_POOL_PATH
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, SAMPLE_NUMBER_POOL

LARGE_POOL = 5_000
REPOSITORY = Path(__file__).resolve().parent.parent

# What each scenario measures, for --list (the docstrings of the functions say how).
SCENARIOS = {
    "1": "per call: get_number_pool() against raw aiohttp + json.loads and against an SDK "
    "on pydantic v2 (aiohttp + model_validate_json); the seed pool, a 5,000-number pool, "
    "and the same with every time distinct (targets: seed <= 1.2 x raw; 5,000 <= 1.5 x raw "
    "and <= 1.0 x pydantic)",
    "2": "the blocking Client against the AsyncClient, sequential calls (<= 1.2)",
    "3": "1,000 concurrent calls through one client, throughput against raw aiohttp (>= 0.8)",
    "4": "memory per idle client with 1,000 accounts (< 20 KB), and per-call time with "
    "1,000 accounts against 10 (<= 1.2)",
    "5": "import: `import moor7` then moor7.AsyncClient (and moor7.Client) against "
    "`import aiohttp`, fresh interpreters, cached bytecode (<= 1.15)",
    "6": "HmacSigner.sign() against the same headers made inline with hmac (reported)",
    "7": "decoding only: the 5,000-number pool's bytes into models, against pydantic v2 "
    "model_validate_json (< 1.0), msgspec and json.loads in the note",
    "8": "the pytest plugin: a pytest run of a project that uses no moor7 fixture, plugin "
    "loaded against -p no:moor7 (target: it imports neither aiohttp nor moor7's client)",
}


@attrs.frozen
class Plan:
    """How much work each scenario does: the full run, or the quick smoke run."""

    rounds: int
    #: Sequential scenarios (1a, 2) take many short rounds: a burst of load from
    #: elsewhere on the machine then spoils a few rounds, not the median.
    short_rounds: int
    small_calls: int
    #: A large pool's rounds: each side's batch is settle_calls untimed calls, then
    #: large_calls timed ones, with no forced collection (see rounds_of()).
    large_rounds: int
    large_calls: int
    settle_calls: int
    sync_calls: int
    concurrent_calls: int
    account_counts: tuple[int, ...]
    account_calls: int
    memory_clients: int
    import_runs: int
    signatures: int
    pytest_runs: int


FULL = Plan(
    rounds=21,
    short_rounds=41,
    small_calls=100,
    large_rounds=9,
    large_calls=8,
    settle_calls=4,
    sync_calls=100,
    concurrent_calls=1_000,
    account_counts=(10, 100, 1_000),
    account_calls=1_000,
    memory_clients=1_000,
    import_runs=21,
    signatures=20_000,
    pytest_runs=11,
)
QUICK = Plan(
    rounds=2,
    short_rounds=2,
    small_calls=10,
    large_rounds=1,
    large_calls=1,
    settle_calls=1,
    sync_calls=10,
    concurrent_calls=100,
    account_counts=(10, 100),
    account_calls=100,
    memory_clients=100,
    import_runs=2,
    signatures=2_000,
    pytest_runs=1,
)


@attrs.frozen
class Row:
    """One line of the table.

    The ratio is rounded to two decimals (see :func:`shown`) before ``met`` is judged.
    """

    scenario: str
    moor7: str
    baseline: str
    ratio: float
    spread: str  # the lowest and highest of the rounds' own ratios, or "—"
    target: str
    met: bool | None  # None: no target was set, the figure is informational


@attrs.frozen
class Timed:
    """Two sides' times over the same rounds, one sample of each per round."""

    ours: list[float]
    theirs: list[float]

    @property
    def ratios(self) -> list[float]:
        """Each round's own ratio: a slow round slows both sides."""
        return [a / b for a, b in zip(self.ours, self.theirs, strict=True)]

    @property
    def ratio(self) -> float:
        return shown(statistics.median(self.ratios))

    @property
    def spread(self) -> str:
        return f"{min(self.ratios):.2f}-{max(self.ratios):.2f}"

    @property
    def inverse(self) -> Timed:
        """The same rounds, the sides swapped: for throughput, higher is better."""
        return Timed(self.theirs, self.ours)


# -- shared pieces ---------------------------------------------------------------------

_nonces = itertools.count()


def counting_nonce() -> str:
    """A 6-digit nonce that does not repeat within the run (see the module docstring)."""
    return str(100_000 + next(_nonces) % 900_000)


def bench_signer(appkey: str, secret: str) -> moor7.HmacSigner:
    """The signer every side uses for HTTP scenarios."""
    return moor7.HmacSigner(appkey, secret, nonce=counting_nonce)


def bench_accounts(count: int) -> dict[str, str]:
    """``count`` made-up accounts, appkey to secret key, the same in every process."""
    return {f"{3_000_000 + i}": f"bench-secret-{i:04d}" for i in range(count)}


def number_pool(size: int) -> dict[str, Any]:
    """The docs' sample pool, its display number replicated to ``size`` distinct ones."""
    pool = copy.deepcopy(SAMPLE_NUMBER_POOL)
    if size:
        template = pool["displayNumberList"][0]
        numbers = []
        for i in range(size):
            number = dict(template, _id=f"{80_000_000 + i}", number=f"{80_000_000 + i}")
            number["group"] = [dict(group) for group in template["group"]]
            numbers.append(number)
        pool["displayNumberList"] = numbers
    return pool


def with_distinct_times(pool: dict[str, Any]) -> dict[str, Any]:
    """The pool with every display number created and updated at a second of its own."""
    for i, number in enumerate(pool["displayNumberList"]):
        day = f"{1 + i % 12:02d}-{1 + i % 28:02d}"
        number["createTime"] = f"2020-{day} {i % 24:02d}:{i % 60:02d}:{i // 60 % 60:02d}"
        number["updateTime"] = f"2021-{day} {i % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
    return pool


def pool_data(size: int, distinct: bool) -> dict[str, Any]:
    """The pool a scenario serves: *size* numbers (0: the docs' sample), times shared or not."""
    pool = number_pool(size)
    return with_distinct_times(pool) if distinct else pool


def moor7_client(
    url: str, appkey: str = DEMO_APPKEY, secret: str = DEMO_SECRET_KEY, **options: Any
) -> moor7.AsyncClient:
    """An ``AsyncClient`` as the HTTP scenarios use it: no quota wait, the bench signer."""
    return moor7.AsyncClient(
        appkey,
        base_url=url,
        signer=bench_signer(appkey, secret),
        limiter=moor7.Unlimited(),
        **options,
    )


class RawCaller:
    """The baseline: what a careful hand-written aiohttp call to the gateway does.

    The same headers as moor7 sends (content type, a user agent, fresh ``m7-*``
    signature headers per call), one POST, the whole body read, the status checked, and
    ``json.loads``. No retries, no limiter, no models.
    """

    def __init__(self, session: aiohttp.ClientSession, url: str, signer: moor7.HmacSigner) -> None:
        self._session = session
        self._url = url + NUMBER_POOL_PATH
        self._signer = signer
        self._request = moor7.OutgoingRequest("POST", self._url, NUMBER_POOL_PATH, b"")
        self._headers = {
            "content-type": "application/json",
            "user-agent": f"raw-bench/1.0 aiohttp/{aiohttp.__version__}",
        }

    async def body(self) -> bytes:
        """POST and read the whole answer; raise unless it is a 200."""
        headers = {**self._headers, **self._signer.sign(self._request)}
        async with self._session.post(self._url, data=b"", headers=headers) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"the gateway answered {response.status}: {body[:200]!r}")
        return body

    async def get_number_pool(self) -> Any:
        """POST, read, decode; return the envelope's ``data``."""
        return json.loads(await self.body())["data"]


class PydanticCaller(RawCaller):
    """An SDK on pydantic v2, as Stainless generates them: the same POST, then the body
    validated by ``model_validate_json`` into a twin of the envelope and moor7's models
    (``bench/peers.py``), and its ``success`` checked."""

    def __init__(self, session: aiohttp.ClientSession, url: str, signer: moor7.HmacSigner) -> None:
        from bench.peers import pydantic_envelope

        super().__init__(session, url, signer)
        self._validate = pydantic_envelope()

    async def get_number_pool(self) -> Any:
        envelope = self._validate(await self.body())
        if not envelope.success:
            raise RuntimeError(f"the gateway refused the call: {envelope.message}")
        return envelope.data


class GatewayProcess:
    """``bench/gateway.py`` in a child process, told what to serve over its stdin."""

    def __init__(self, accounts: int) -> None:
        # Our own interpreter and module, fixed arguments: nothing untrusted runs.
        self._process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bench.perf", "--serve", str(accounts)],
            cwd=REPOSITORY,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self._read()

    def _read(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line:
            raise RuntimeError("the gateway process exited")
        return line

    def serve_pool(self, size: int, *, distinct: bool = False) -> None:
        """Serve the pool of *size* numbers from now on (see :func:`pool_data`)."""
        assert self._process.stdin is not None
        self._process.stdin.write(f"pool {size}{' distinct' if distinct else ''}\n")
        self._process.stdin.flush()
        if self._read() != "ok":
            raise RuntimeError("the gateway process refused the pool")

    def close(self) -> None:
        """Stop the gateway: it exits when its stdin closes."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def serve(accounts: int) -> None:
    """The child process: run the encoded gateway until stdin closes."""
    from bench.gateway import EncodedGateway, serve_forever

    known = {DEMO_APPKEY: DEMO_SECRET_KEY, **bench_accounts(accounts)}
    serve_forever(EncodedGateway(known), pool_data)


async def _timed(
    batch: Callable[[], Awaitable[object]], settle: Callable[[], Awaitable[object]] | None
) -> float:
    if settle is None:
        gc.collect()  # not inside the measurement: the garbage the other sides left
    else:
        await settle()  # the collector's own pace for this side (see rounds_of())
    started = time.perf_counter()
    await batch()
    return time.perf_counter() - started


async def rounds_of(
    rounds: int,
    sides: dict[str, Callable[[], Awaitable[object]]],
    settles: dict[str, Callable[[], Awaitable[object]]] | None = None,
) -> dict[str, list[float]]:
    """Seconds of a batch of each side per round, after a warm-up batch of each.

    The order rotates every round, so that no side always goes first or last. The
    warm-up opens each side's connections and fills its caches (aiohttp's, the
    converter's, pydantic's schema), which the rounds then share.

    Each batch starts with a full collection, so that no side pays for the garbage
    another left; except where a side has a *settle* (untimed calls of its own): then
    no collection is forced, and the settling calls bring the garbage collector to
    that side's own pace before the timed calls. A large answer makes tens of
    thousands of objects that the collector examines again and again, and a full
    collection comes whenever the objects promoted since the last one pass a quarter
    of the heap: how much of it lands in a batch depends on where the collector
    stands when the batch starts. Right after a forced collection a short batch pays
    less than its share (2 timed calls read 1.2 x raw for row 1b), a longer one more
    (8 calls: 1.57); a process polling a pool pays the steady share, which a batch
    after settling calls measures (about 1.4).
    """
    for batch in sides.values():
        await batch()
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            settle = None if settles is None else settles.get(name)
            times[name].append(await _timed(sides[name], settle))
    return times


def shown(ratio: float) -> float:
    """The ratio to two decimals, as the table prints it and as ``met?`` judges it.

    Runs differ by more than that, so a third decimal would only make a row read
    "1.20 | ≤ 1.2 | no".
    """
    return round(ratio, 2)


def _per_call(seconds: float) -> str:
    if seconds >= 0.01:
        return f"{seconds * 1e3:.1f} ms/call"
    return f"{seconds * 1e6:.0f} µs/call"


def time_row(scenario: str, timed: Timed, calls: int, baseline: str, target: float) -> Row:
    """A row for a time ratio (lower is better) against *target*."""
    ratio = timed.ratio
    return Row(
        scenario,
        _per_call(statistics.median(timed.ours) / calls),
        f"{_per_call(statistics.median(timed.theirs) / calls)}{baseline}",
        ratio,
        timed.spread,
        f"≤ {target}",
        ratio <= target,
    )


# -- the scenarios ---------------------------------------------------------------------


async def per_call(gateway: GatewayProcess, plan: Plan) -> tuple[list[Row], list[str]]:
    """1: ``get_number_pool()`` against raw aiohttp and against a pydantic-v2 SDK.

    Three sides, each its own session and connection, in the same rounds: moor7's
    ``AsyncClient``, the raw caller (the baseline) and the pydantic caller; each batch
    of a large pool settles first (see :func:`rounds_of`). Three pools:
    the docs' sample (the seed, one number of each kind), 5,000 display numbers that
    share their two times (a batch set up at once), and the same 5,000 with every time
    distinct, where moor7's cache of times read does not help.
    """
    signer = bench_signer(DEMO_APPKEY, DEMO_SECRET_KEY)
    rows: list[Row] = []
    notes: list[str] = []
    pools = ((0, False), (LARGE_POOL, False), (LARGE_POOL, True))
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(moor7_client(gateway.url))
        raw = RawCaller(
            await stack.enter_async_context(aiohttp.ClientSession()), gateway.url, signer
        )
        pydantic = None
        if importlib.util.find_spec("pydantic") is not None:
            pydantic = PydanticCaller(
                await stack.enter_async_context(aiohttp.ClientSession()), gateway.url, signer
            )
        for size, distinct in pools:
            gateway.serve_pool(size, distinct=distinct)
            calls = plan.large_calls if size else plan.small_calls
            callers: dict[str, Callable[[], Awaitable[object]]] = {
                "moor7": client.get_number_pool,
                "raw": raw.get_number_pool,
            }
            if pydantic is not None:
                callers["pydantic"] = pydantic.get_number_pool
            # Every side reads the pool the gateway serves.
            got = [await call() for call in callers.values()]
            assert len(got[0].display_numbers) == len(got[1]["displayNumberList"]) == max(size, 1)
            if pydantic is not None:
                assert len(got[2].display_numbers) == max(size, 1)
            del got  # a heap as the caller's: no pool kept alive through the rounds

            def batch(
                call: Callable[[], Awaitable[object]], calls: int = calls
            ) -> Callable[[], Awaitable[None]]:
                async def run() -> None:
                    for _ in range(calls):
                        await call()

                return run

            sides = {name: batch(call) for name, call in callers.items()}
            settles = (
                {name: batch(call, plan.settle_calls) for name, call in callers.items()}
                if size
                else None
            )
            rounds = plan.large_rounds if size else plan.short_rounds
            times = await rounds_of(rounds, sides, settles)
            against_raw = Timed(times["moor7"], times["raw"])
            label = "seed pool" if not size else f"{size:,}-number pool"
            label += ", every time distinct" if distinct else ""
            letter = "a" if not size else ("d" if distinct else "b")
            rows.append(
                time_row(
                    f"1{letter}. per call, {label}, vs raw aiohttp (time ratio)",
                    against_raw,
                    calls,
                    "",
                    1.2 if not size else 1.5,
                )
            )
            if pydantic is None:
                continue
            against_pydantic = Timed(times["moor7"], times["pydantic"])
            if size:
                letter = "e" if distinct else "c"
                rows.append(
                    time_row(
                        f"1{letter}. per call, {label}, vs the pydantic-v2 SDK (time ratio)",
                        against_pydantic,
                        calls,
                        "",
                        1.0,
                    )
                )
            else:
                notes.append(
                    f"1a: the pydantic-v2 SDK on the seed pool: "
                    f"{_per_call(statistics.median(times['pydantic']) / calls)}, moor7 "
                    f"{against_pydantic.ratio:.2f} of it ({against_pydantic.spread})"
                )
    if pydantic is None:
        notes.append("1: pydantic is not installed (pip install -e '.[bench]'): no 1c, 1e")
    return rows, notes


def sync_facade(gateway: GatewayProcess, plan: Plan, loop: asyncio.AbstractEventLoop) -> Row:
    """2: the blocking ``Client`` against the ``AsyncClient``, sequential calls."""
    gateway.serve_pool(0)
    calls = plan.sync_calls
    sync_client = moor7.Client(
        DEMO_APPKEY,
        base_url=gateway.url,
        signer=bench_signer(DEMO_APPKEY, DEMO_SECRET_KEY),
        limiter=moor7.Unlimited(),
    )
    async_client = moor7_client(gateway.url)

    def ours() -> None:
        for _ in range(calls):
            sync_client.get_number_pool()

    async def theirs() -> None:
        for _ in range(calls):
            await async_client.get_number_pool()

    with contextlib.closing(sync_client):
        # Warm up: the Client's background loop thread and its session, and ours.
        sync_client.get_number_pool()
        loop.run_until_complete(async_client.get_number_pool())
        times: dict[str, list[float]] = {"ours": [], "theirs": []}
        for i in range(plan.short_rounds):
            for side in ("ours", "theirs") if i % 2 else ("theirs", "ours"):
                gc.collect()
                started = time.perf_counter()
                if side == "ours":
                    ours()  # blocking, from a thread with no running loop, as in a script
                else:
                    loop.run_until_complete(theirs())
                times[side].append(time.perf_counter() - started)
        loop.run_until_complete(async_client.aclose())
    return time_row(
        "2. sync `Client` vs `AsyncClient`, sequential (time ratio)",
        Timed(times["ours"], times["theirs"]),
        calls,
        "",
        1.2,
    )


async def concurrency(gateway: GatewayProcess, plan: Plan) -> Row:
    """3: many concurrent calls through one client, against raw aiohttp doing the same."""
    gateway.serve_pool(0)
    calls = plan.concurrent_calls
    signer = bench_signer(DEMO_APPKEY, DEMO_SECRET_KEY)
    # Each side uses its own session with aiohttp's defaults (100 connections at most),
    # the one AsyncClient makes for itself.
    # share_answers=False: identical calls in flight would otherwise be sent once, and
    # this row measures the calls themselves.
    async with (
        aiohttp.ClientSession() as session,
        moor7_client(gateway.url, share_answers=False) as client,
    ):
        raw = RawCaller(session, gateway.url, signer)

        async def ours() -> None:
            await asyncio.gather(*(client.get_number_pool() for _ in range(calls)))

        async def theirs() -> None:
            await asyncio.gather(*(raw.get_number_pool() for _ in range(calls)))

        times = await rounds_of(plan.rounds, {"ours": ours, "theirs": theirs})
    throughput = Timed(times["ours"], times["theirs"]).inverse  # higher is better
    ratio = throughput.ratio
    return Row(
        f"3. {calls:,} concurrent calls, one client (throughput ratio)",
        f"{calls / statistics.median(times['ours']):,.0f} calls/s",
        f"{calls / statistics.median(times['theirs']):,.0f} calls/s",
        ratio,
        throughput.spread,
        "≥ 0.8",
        ratio >= 0.8,
    )


def _traced_bytes_per_item(make: Callable[[], Sequence[object]]) -> float:
    """Memory that the items ``make()`` returns still hold, per item (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        items = make()
        gc.collect()
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return used / len(items)


async def memory_per_client(gateway: GatewayProcess, plan: Plan) -> tuple[Row, str]:
    """4a: what an idle client costs, one per account, beyond a shared session."""
    gateway.serve_pool(0)
    count = plan.memory_clients
    accounts = list(bench_accounts(count).items())
    async with aiohttp.ClientSession() as session:
        # Warm what is shared, so that it is not counted: the session's connection pool
        # (as large as the calls below make it), moor7's converter and lazy imports.
        warm = moor7_client(gateway.url, session=session, share_answers=False)
        await asyncio.gather(*(warm.get_number_pool() for _ in range(count)))
        await warm.aclose()

        limiter = moor7.Unlimited()
        clients: list[moor7.AsyncClient] = []

        def make_clients() -> list[moor7.AsyncClient]:
            clients.extend(
                moor7.AsyncClient(
                    appkey, secret, base_url=gateway.url, session=session, limiter=limiter
                )
                for appkey, secret in accounts
            )
            return clients

        # Built, then used once each (whatever a first call creates counts too), then idle.
        gc.collect()
        tracemalloc.start()
        try:
            make_clients()
            await asyncio.gather(*(client.get_number_pool() for client in clients))
            # Until the next step of the loop, the handle that resumed this coroutine
            # still holds gather()'s future, its tasks and their results: let it go.
            await asyncio.sleep(0)
            gc.collect()
            used, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        ours = used / count
        built_only = _traced_bytes_per_item(
            lambda: [
                moor7.AsyncClient(
                    appkey, secret, base_url=gateway.url, session=session, limiter=limiter
                )
                for appkey, secret in accounts
            ]
        )
        for client in clients:
            await client.aclose()
    # The baseline: the least any client needs per account, its credentials' signer.
    theirs = _traced_bytes_per_item(lambda: [moor7.HmacSigner(a, s) for a, s in accounts])
    row = Row(
        f"4a. memory per idle client, {count:,} accounts, shared session",
        f"{ours / 1024:.1f} KB",
        f"{theirs / 1024:.2f} KB (a bare `HmacSigner`)",
        shown(ours / theirs),
        "—",
        "< 20 KB",
        ours < 20 * 1024,
    )
    note = (
        f"4a: {ours:,.0f} B per client after one call each ({built_only:,.0f} B when only "
        f"built); a bare HmacSigner: {theirs:,.0f} B"
    )
    return row, note


async def many_accounts(gateway: GatewayProcess, plan: Plan) -> tuple[Row, str]:
    """4b: per-call time as the accounts sharing one session grow."""
    gateway.serve_pool(0)
    calls = plan.account_calls
    accounts = list(bench_accounts(max(plan.account_counts)).items())
    async with aiohttp.ClientSession() as session:
        groups = {
            count: [
                # Every call sent (identical ones in flight would share one).
                moor7_client(gateway.url, appkey, secret, session=session, share_answers=False)
                for appkey, secret in accounts[:count]
            ]
            for count in plan.account_counts
        }

        def batch(clients: list[moor7.AsyncClient]) -> Callable[[], Awaitable[object]]:
            async def run() -> None:
                # The same number of calls, spread round-robin over the accounts.
                await asyncio.gather(
                    *(clients[i % len(clients)].get_number_pool() for i in range(calls))
                )

            return run

        await rounds_of(1, {str(count): batch(clients) for count, clients in groups.items()})
        times = await rounds_of(
            plan.rounds, {str(count): batch(clients) for count, clients in groups.items()}
        )
        for clients in groups.values():
            for client in clients:
                await client.aclose()
    fewest, most = str(min(plan.account_counts)), str(max(plan.account_counts))
    row = time_row(
        f"4b. per call, {int(most):,} accounts vs {int(fewest):,}, shared session (time ratio)",
        Timed(times[most], times[fewest]),
        calls,
        "",
        1.2,
    )
    note = (
        "4b: per call with "
        + ", ".join(
            f"{int(count):,} accounts {_per_call(statistics.median(samples) / calls)}"
            for count, samples in times.items()
        )
        + f" ({calls:,} concurrent calls a round, round-robin over the accounts)"
    )
    return row, note


# What each side of scenario 5 runs, timed inside a fresh interpreter.
IMPORTS = {
    "aiohttp": "import aiohttp",
    "moor7.AsyncClient": "import moor7; moor7.AsyncClient",
    "moor7.Client": "import moor7; moor7.Client",
    "moor7": "import moor7",
}


def _import_seconds(statement: str, env: dict[str, str]) -> float:
    code = (
        "import time; started = time.perf_counter(); "
        f"{statement}; print(time.perf_counter() - started)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed statements
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPOSITORY,
        env=env,
    )
    return float(result.stdout)


def import_time(plan: Plan) -> tuple[list[Row], str]:
    """5: what a program pays to import moor7 and reach a client class, against aiohttp.

    Each side runs in a fresh interpreter that times its own statement (interpreter
    start-up, the same for all, is left out): ``import aiohttp``; ``import moor7`` then
    ``moor7.AsyncClient`` (what an async user pays: ``moor7`` loads its parts when first
    asked for them); the same with ``moor7.Client``; and ``import moor7`` alone, which
    is cheap by design and reported, not judged.
    """
    # Both from cached bytecode, as after a pip install: a checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would otherwise compile moor7 at every import, and only
    # moor7. The cache lives outside the repository, and a first run of each fills it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "moor7-bench-pycache")
    for statement in IMPORTS.values():
        _import_seconds(statement, env)
    names = list(IMPORTS)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(plan.import_runs):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(_import_seconds(IMPORTS[name], env))
    rows = []
    for name, target in (("moor7.AsyncClient", 1.15), ("moor7.Client", 1.15), ("moor7", None)):
        timed = Timed(times[name], times["aiohttp"])
        rows.append(
            Row(
                f"5{'abc'[len(rows)]}. `{IMPORTS[name]}` vs `import aiohttp` (time ratio)",
                f"{statistics.median(timed.ours) * 1e3:.1f} ms",
                f"{statistics.median(timed.theirs) * 1e3:.1f} ms",
                timed.ratio,
                timed.spread,
                "— (reported)" if target is None else f"≤ {target}",
                None if target is None else timed.ratio <= target,
            )
        )
    extra = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, aiohttp; before = set(sys.modules); import moor7; moor7.AsyncClient; "
            "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPOSITORY,
    ).stdout.split()
    note = "5: top-level modules `import moor7; moor7.AsyncClient` adds to aiohttp's: " + ", ".join(
        extra
    )
    return rows, note


def _bare_sign(key: bytes, appkey: str) -> dict[str, str]:
    # What a hand-written client does inline: the same four headers, bare hmac.
    timestamp = str(int(time.time()))
    nonce = f"{secrets.randbelow(900_000) + 100_000}"
    digest = hmac.new(key, f"{appkey}{timestamp}{nonce}".encode(), hashlib.sha256).digest()
    return {
        "m7-appkey": appkey,
        "m7-nonce": nonce,
        "m7-timestamp": timestamp,
        "m7-sign": base64.b64encode(digest).decode("ascii"),
    }


def signing(plan: Plan) -> Row:
    """6: ``HmacSigner.sign()`` against the same headers made inline with bare ``hmac``."""
    count = plan.signatures
    signer = moor7.HmacSigner(DEMO_APPKEY, DEMO_SECRET_KEY)
    request = moor7.OutgoingRequest(
        "POST", "http://127.0.0.1" + NUMBER_POOL_PATH, NUMBER_POOL_PATH, b""
    )
    key = DEMO_SECRET_KEY.encode()

    def ours() -> None:
        for _ in range(count):
            signer.sign(request)

    def theirs() -> None:
        for _ in range(count):
            _bare_sign(key, DEMO_APPKEY)

    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for i in range(plan.rounds):
        for side in ("ours", "theirs") if i % 2 else ("theirs", "ours"):
            started = time.perf_counter()
            (ours if side == "ours" else theirs)()
            times[side].append(time.perf_counter() - started)
    rate = Timed(times["ours"], times["theirs"]).inverse  # a rate: higher is better
    return Row(
        "6. signing (rate ratio)",
        f"{count / statistics.median(times['ours']):,.0f} signatures/s",
        f"{count / statistics.median(times['theirs']):,.0f} signatures/s (inline `hmac`)",
        rate.ratio,
        rate.spread,
        "— (reported)",
        None,
    )


def decoding(plan: Plan) -> tuple[list[Row], str]:
    """7: decoding the 5,000-number pool's bytes into models, against pydantic v2.

    moor7's side is what a call does with the body: moor7's parser (``moor7._json``),
    then the converter. pydantic's is ``model_validate_json`` into a twin of the models
    (``bench/peers.py``); msgspec's typed decoder and a bare ``json.loads`` are in the
    note. Once with the bench pool (two distinct times in all, which moor7 reads once
    each), once with every time distinct.
    """
    from moor7._convert import structure
    from moor7._json import loads

    body = json.dumps(number_pool(LARGE_POOL), ensure_ascii=False).encode()
    distinct = json.dumps(pool_data(LARGE_POOL, distinct=True), ensure_ascii=False).encode()

    sides: dict[str, Callable[[], object]] = {
        "moor7": lambda: structure(loads(body), moor7.NumberPool),
        "moor7, distinct times": lambda: structure(loads(distinct), moor7.NumberPool),
        "json.loads": lambda: json.loads(body),
    }
    missing = []
    try:
        from bench.peers import pydantic_decoder

        pydantic = pydantic_decoder()
        sides["pydantic"] = lambda: pydantic(body)
        sides["pydantic, distinct times"] = lambda: pydantic(distinct)
    except ImportError:
        missing.append("pydantic")
    try:
        from bench.peers import msgspec_decoder

        msgspec = msgspec_decoder()
        sides["msgspec"] = lambda: msgspec(body)
    except ImportError:
        missing.append("msgspec")
    for decode in sides.values():
        decode()  # a warm-up: the converter's functions, pydantic's schema
    times: dict[str, list[float]] = {side: [] for side in sides}
    names = list(sides)
    for i in range(plan.rounds):
        shift = i % len(names)
        for side in names[shift:] + names[:shift]:
            gc.collect()
            started = time.perf_counter()
            sides[side]()
            times[side].append(time.perf_counter() - started)
    note = (
        f"7: decoding {len(body) / 1e6:.1f} MB, times per decode and ratios to `json.loads`: "
        + ", ".join(
            f"{side} {statistics.median(times[side]) * 1e3:.1f} ms "
            f"({Timed(times[side], times['json.loads']).ratio:.2f}x)"
            for side in sides
        )
    )
    if missing:
        note += f"; not installed: {', '.join(missing)} (pip install -e '.[bench]')"
        return [], note
    rows = []
    for ours, theirs, letter in (
        ("moor7", "pydantic", "a"),
        ("moor7, distinct times", "pydantic, distinct times", "b"),
    ):
        timed = Timed(times[ours], times[theirs])
        rows.append(
            Row(
                f"7{letter}. decoding the 5,000-number pool"
                f"{', every time distinct' if letter == 'b' else ''}, vs pydantic v2 "
                "`model_validate_json` (time ratio)",
                f"{statistics.median(timed.ours) * 1e3:.1f} ms",
                f"{statistics.median(timed.theirs) * 1e3:.1f} ms",
                timed.ratio,
                timed.spread,
                "< 1.0",
                timed.ratio < 1.0,
            )
        )
    return rows, note


# A project of a user's that has moor7 installed and never uses its fixtures.
_UNRELATED_TESTS = """\
import sys

import pytest


@pytest.mark.parametrize("n", range(50))
def test_arithmetic(n):
    assert n + n == 2 * n


def test_zz_modules():
    with open("modules.txt", "w") as out:
        out.write("\\n".join(sorted(sys.modules)))
"""


def pytest_plugin(plan: Plan) -> tuple[Row, str]:
    """8: what the pytest plugin costs a run that never uses its fixtures.

    pytest loads the plugin (``pytest11`` entry point) in every run wherever moor7 is
    installed. A project of 51 plain tests is run with the plugin, and with it turned
    off (``-p no:moor7``), in turns. The row is the time ratio; what is judged is what
    the plugin imports: no aiohttp, none of moor7's client.
    """
    if importlib.util.find_spec("pytest") is None:
        row = Row("8. pytest plugin, unused", "pytest not installed", "—", 0.0, "—", "—", None)
        return row, "8: pytest is not installed"
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "test_plain.py").write_text(_UNRELATED_TESTS)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "moor7-bench-pycache")
        env.pop("PYTEST_ADDOPTS", None)
        env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]

        def run(*extra: str) -> tuple[float, set[str]]:
            started = time.perf_counter()
            subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
                [*command, *extra], cwd=project, env=env, capture_output=True, check=True
            )
            elapsed = time.perf_counter() - started
            return elapsed, set((project / "modules.txt").read_text().split())

        _, with_plugin = run()
        _, without = run("-p", "no:moor7")
        times: dict[str, list[float]] = {"on": [], "off": []}
        for i in range(plan.pytest_runs):
            for side in ("on", "off") if i % 2 else ("off", "on"):
                times[side].append(run(*(() if side == "on" else ("-p", "no:moor7")))[0])
    added = sorted(with_plugin - without)
    heavy = [m for m in added if m.split(".")[0] in ("aiohttp", "attrs", "attr", "cattrs")]
    heavy += [m for m in added if m.startswith("moor7.") and m != "moor7.pytest_plugin"]
    timed = Timed(times["on"], times["off"])
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    row = Row(
        "8. a pytest run that uses no moor7 fixture, plugin on vs off (time ratio)",
        f"{on * 1e3:.0f} ms/run",
        f"{off * 1e3:.0f} ms/run (`-p no:moor7`)",
        timed.ratio,
        timed.spread,
        "imports no client",
        not heavy,
    )
    shown_added = ", ".join(added[:12])
    if len(added) > 12:
        shown_added += f" and {len(added) - 12} more"
    note = (
        f"8: the plugin adds {(on - off) * 1e3:+.0f} ms a run (medians of "
        f"{plan.pytest_runs} runs each) and these modules: {shown_added or 'none'}"
    )
    return row, note


# -- the run ---------------------------------------------------------------------------


def _usable_cpus() -> int:
    # What `nproc` prints: the CPUs this process may run on, not all the host has.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _version(package: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> str:
    """What the figures were measured on."""
    return (
        f"{_usable_cpus()} CPUs (nproc), "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, aiohttp {aiohttp.__version__}, "
        f"moor7 {moor7.__version__}"
    )


def install() -> str:
    """The parser moor7 reads answers with in this run, and the peers' versions."""
    from moor7 import _json

    if hasattr(_json, "parser"):
        parser = _json.parser()
    else:  # moor7 before msgspec: orjson where installed (moor7[speedups]), else json
        _json.loads(b"{}")
        parser = "json" if getattr(_json, "_fast_loads", None) is None else "orjson (speedups)"
    versions = ", ".join(
        f"{name} {_version(name) or 'not installed'}"
        for name in ("msgspec", "orjson", "pydantic", "pytest")
    )
    return f"moor7 parses answers with {parser}; installed: {versions}"


def table(rows: Sequence[Row]) -> Iterator[str]:
    """The Markdown table."""
    yield "| scenario | moor7 | baseline | ratio | spread | target | met? |"
    yield "| --- | ---: | ---: | ---: | ---: | --- | --- |"
    for row in rows:
        met = "—" if row.met is None else ("yes" if row.met else "**no**")
        cells = (
            row.scenario,
            row.moor7,
            row.baseline,
            f"{row.ratio:.2f}",
            row.spread,
            row.target,
            met,
        )
        yield "| " + " | ".join(cells) + " |"


def run(plan: Plan, only: set[str]) -> tuple[list[Row], list[str]]:
    """Run the chosen scenarios; return the rows and the notes behind them."""
    rows: list[Row] = []
    notes: list[str] = []
    needs_gateway = only & {"1", "2", "3", "4"}
    gateway = (
        GatewayProcess(max(*plan.account_counts, plan.memory_clients)) if needs_gateway else None
    )
    loop = asyncio.new_event_loop()
    try:
        if gateway is not None:
            if "1" in only:
                found, said = loop.run_until_complete(per_call(gateway, plan))
                rows += found
                notes += said
            if "2" in only:
                rows.append(sync_facade(gateway, plan, loop))
            if "3" in only:
                rows.append(loop.run_until_complete(concurrency(gateway, plan)))
            if "4" in only:
                for scenario in (memory_per_client, many_accounts):
                    row, note = loop.run_until_complete(scenario(gateway, plan))
                    rows.append(row)
                    notes.append(note)
        if "5" in only:
            found, note = import_time(plan)
            rows += found
            notes.append(note)
        if "6" in only:
            rows.append(signing(plan))
        if "7" in only:
            found, note = decoding(plan)
            rows += found
            notes.append(note)
        if "8" in only:
            row, note = pytest_plugin(plan)
            rows.append(row)
            notes.append(note)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        if gateway is not None:
            gateway.close()
    return rows, notes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.perf",
        description=__doc__.split("\n")[0],
        epilog="Scenarios: " + "; ".join(f"{number}. {text}" for number, text in SCENARIOS.items()),
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help="scenarios to run, e.g. 1,5 (default: all)"
    )
    parser.add_argument("--list", action="store_true", help="say what each scenario measures")
    parser.add_argument("--serve", type=int, metavar="ACCOUNTS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    if args.list:
        for number, text in SCENARIOS.items():
            print(textwrap.fill(f"{number}. {text}", subsequent_indent="   "))
        return 0
    only = set(args.only.split(","))
    unknown = only - set(SCENARIOS)
    if unknown:
        parser.error(f"no scenario {', '.join(sorted(unknown))} (see --list)")
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    rows, notes = run(plan, only)
    elapsed = time.perf_counter() - started
    print(f"moor7 benchmark{' (--quick)' if args.quick else ''}: {machine()}")
    print(f"{install()}\n")
    for line in table(rows):
        print(line)
    print()
    for note in notes:
        print(f"- {note}")
    print(f"- the run took {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
