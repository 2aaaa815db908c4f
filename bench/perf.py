"""moor7's speed and footprint, each figure a ratio against a baseline measured alongside.

Run from the repository root::

    python -m bench.perf            # the full run: about a minute
    python -m bench.perf --quick    # a smoke run of a few seconds (tests/test_bench.py)
    python -m bench.perf --only 1,3 # some scenarios only

Scenario 7 compares decoding with pydantic v2 and msgspec: ``pip install -e '.[bench]'``.

It prints a Markdown table (scenario | moor7 | baseline | ratio | target | met?) and the
details behind it. Absolute times are noise on a small shared machine, so every figure
is a ratio against a baseline measured in the same run, as the median of several
rounds, the two sides taking turns to go first.

The fake gateway (``moor7.testing.FakeGateway``, no quota) runs in a child process on
127.0.0.1, so its work does not share the benchmark's event loop or CPU; clients use
``limiter=moor7.Unlimited()``. Both sides sign with ``moor7.HmacSigner`` and a counting
nonce: the gateway, like 7moor's, refuses a repeated sign+nonce, and at thousands of
calls per second of one account, random 6-digit nonces would repeat within a second
(the birthday bound), which no real account at 20 calls a minute ever sees.

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
import itertools
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import attrs

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, SAMPLE_NUMBER_POOL

NUMBER_POOL_PATH = "/openapi/v1/call/query/number"
LARGE_POOL = 5_000
REPOSITORY = Path(__file__).resolve().parent.parent


@attrs.frozen
class Plan:
    """How much work each scenario does: the full run, or the quick smoke run."""

    rounds: int
    #: Sequential scenarios (1a, 2) take many short rounds: a burst of load from
    #: elsewhere on the machine then spoils a few rounds, not the median.
    short_rounds: int
    small_calls: int
    large_calls: int
    sync_calls: int
    concurrent_calls: int
    account_counts: tuple[int, ...]
    account_calls: int
    memory_clients: int
    import_runs: int
    signatures: int


FULL = Plan(
    rounds=11,
    short_rounds=41,
    small_calls=100,
    large_calls=8,
    sync_calls=100,
    concurrent_calls=1_000,
    account_counts=(10, 100, 1_000),
    account_calls=1_000,
    memory_clients=1_000,
    import_runs=11,
    signatures=20_000,
)
QUICK = Plan(
    rounds=2,
    short_rounds=2,
    small_calls=10,
    large_calls=1,
    sync_calls=10,
    concurrent_calls=100,
    account_counts=(10, 100),
    account_calls=100,
    memory_clients=100,
    import_runs=2,
    signatures=2_000,
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
    target: str
    met: bool | None  # None: no target was set, the figure is informational


# -- shared pieces ---------------------------------------------------------------------

_nonces = itertools.count()


def counting_nonce() -> str:
    """A 6-digit nonce that does not repeat within the run (see the module docstring)."""
    return str(100_000 + next(_nonces) % 900_000)


def bench_signer(appkey: str, secret: str) -> moor7.HmacSigner:
    """The signer both sides use for HTTP scenarios."""
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
    signature headers per call), one POST, the whole body read, ``json.loads``, and
    the status checked. No retries, no limiter, no models.
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

    async def get_number_pool(self) -> Any:
        """POST, read, decode; return the envelope's ``data``."""
        headers = {**self._headers, **self._signer.sign(self._request)}
        async with self._session.post(self._url, data=b"", headers=headers) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"the gateway answered {response.status}: {body[:200]!r}")
        return json.loads(body)["data"]


class GatewayProcess:
    """A ``FakeGateway`` in a child process, told what to serve over its stdin."""

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

    def command(self, *words: object) -> None:
        """Send one command (``pool SIZE`` or ``clear``) and wait for its ``ok``."""
        assert self._process.stdin is not None
        self._process.stdin.write(" ".join(map(str, words)) + "\n")
        self._process.stdin.flush()
        if self._read() != "ok":
            raise RuntimeError(f"the gateway process refused {words!r}")

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
    """The child process: run the gateway until stdin closes."""
    from moor7.testing import FakeGateway

    known = {DEMO_APPKEY: DEMO_SECRET_KEY, **bench_accounts(accounts)}
    with FakeGateway(accounts=known, quota=None) as gateway:
        print(gateway.url, flush=True)
        for line in sys.stdin:
            command, *args = line.split()
            if command == "pool":
                gateway.number_pool = number_pool(int(args[0]))
            elif command == "clear":
                # The gateway records every call; keep its memory flat between rounds.
                gateway.clear_calls()
            print("ok", flush=True)


async def _timed(batch: Callable[[], Awaitable[object]]) -> float:
    gc.collect()  # not inside the measurement: a collection left over from setup
    started = time.perf_counter()
    await batch()
    return time.perf_counter() - started


async def compare(
    rounds: int,
    ours: Callable[[], Awaitable[object]],
    theirs: Callable[[], Awaitable[object]],
) -> tuple[float, float]:
    """Median seconds of a batch of each, taking turns to go first, after a warm-up.

    The warm-up batch of each side opens its connections and fills the caches on both
    ends (aiohttp's, the converter's, the gateway's), which the rounds then share.
    """
    await ours()
    await theirs()
    our_times: list[float] = []
    their_times: list[float] = []
    for i in range(rounds):
        if i % 2:
            our_times.append(await _timed(ours))
            their_times.append(await _timed(theirs))
        else:
            their_times.append(await _timed(theirs))
            our_times.append(await _timed(ours))
    return statistics.median(our_times), statistics.median(their_times)


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


# -- the scenarios ---------------------------------------------------------------------


async def per_call_overhead(gateway: GatewayProcess, plan: Plan, size: int) -> Row:
    """1: ``get_number_pool()`` against a hand-written aiohttp POST + ``json.loads``."""
    gateway.command("pool", size)
    calls = plan.large_calls if size else plan.small_calls
    signer = bench_signer(DEMO_APPKEY, DEMO_SECRET_KEY)
    async with aiohttp.ClientSession() as session, moor7_client(gateway.url) as client:
        raw = RawCaller(session, gateway.url, signer)

        async def ours() -> None:
            for _ in range(calls):
                await client.get_number_pool()

        async def theirs() -> None:
            for _ in range(calls):
                await raw.get_number_pool()

        # Both sides get the same pool (compare() warms them up).
        pool = await client.get_number_pool()
        data = await raw.get_number_pool()
        assert len(pool.display_numbers) == len(data["displayNumberList"]) == max(size, 1)
        rounds = plan.rounds if size else plan.short_rounds
        ours_s, theirs_s = await compare(rounds, ours, theirs)
    gateway.command("clear")
    label = f"{size:,}-number pool" if size else "sample pool"
    target = 1.5 if size else 1.2
    ratio = shown(ours_s / theirs_s)
    return Row(
        f"1{'b' if size else 'a'}. per call, {label} (time ratio)",
        _per_call(ours_s / calls),
        _per_call(theirs_s / calls),
        ratio,
        f"≤ {target}",
        ratio <= target,
    )


def sync_facade(gateway: GatewayProcess, plan: Plan, loop: asyncio.AbstractEventLoop) -> Row:
    """2: the blocking ``Client`` against the ``AsyncClient``, sequential calls."""
    gateway.command("pool", 0)
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
    gateway.command("clear")
    ours_s, theirs_s = statistics.median(times["ours"]), statistics.median(times["theirs"])
    ratio = shown(ours_s / theirs_s)
    return Row(
        "2. sync `Client` vs `AsyncClient`, sequential (time ratio)",
        _per_call(ours_s / calls),
        _per_call(theirs_s / calls),
        ratio,
        "≤ 1.2",
        ratio <= 1.2,
    )


async def concurrency(gateway: GatewayProcess, plan: Plan) -> Row:
    """3: many concurrent calls through one client, against raw aiohttp doing the same."""
    gateway.command("pool", 0)
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

        ours_s, theirs_s = await compare(plan.rounds, ours, theirs)
    gateway.command("clear")
    ratio = shown(theirs_s / ours_s)  # throughput: higher is better
    return Row(
        f"3. {calls:,} concurrent calls, one client (throughput ratio)",
        f"{calls / ours_s:,.0f} calls/s",
        f"{calls / theirs_s:,.0f} calls/s",
        ratio,
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
    gateway.command("pool", 0)
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
    gateway.command("clear")
    row = Row(
        f"4a. memory per idle client, {count:,} accounts, shared session",
        f"{ours / 1024:.1f} KB",
        f"{theirs / 1024:.2f} KB (a bare `HmacSigner`)",
        shown(ours / theirs),
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
    gateway.command("pool", 0)
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

        for _ in range(2):  # a warm-up, as in compare()
            for clients in groups.values():
                await batch(clients)()
        gateway.command("clear")
        times: dict[int, list[float]] = {count: [] for count in groups}
        for i in range(plan.rounds):
            order = list(groups) if i % 2 else list(reversed(groups))
            for count in order:
                times[count].append(await _timed(batch(groups[count])))
            gateway.command("clear")
        for clients in groups.values():
            for client in clients:
                await client.aclose()
    per_call = {count: statistics.median(samples) / calls for count, samples in times.items()}
    fewest, most = min(per_call), max(per_call)
    ratio = shown(per_call[most] / per_call[fewest])
    row = Row(
        f"4b. per call, {most:,} accounts vs {fewest:,}, shared session (time ratio)",
        _per_call(per_call[most]),
        _per_call(per_call[fewest]),
        ratio,
        "≤ 1.2 (flat)",
        ratio <= 1.2,
    )
    note = (
        "4b: per call with "
        + ", ".join(
            f"{count:,} accounts {_per_call(seconds)}" for count, seconds in per_call.items()
        )
        + f" ({calls:,} concurrent calls a round, round-robin over the accounts)"
    )
    return row, note


def _import_microseconds(module: str, env: dict[str, str]) -> int:
    result = subprocess.run(  # noqa: S603 - our own interpreter, a fixed module name
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPOSITORY,
        env=env,
    )
    for line in result.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package", nested names indented
        parts = line.split("|")
        if len(parts) == 3 and parts[2].rstrip() == f" {module}":
            return int(parts[1])
    raise RuntimeError(f"no import time for {module}: {result.stderr[-500:]}")


def import_time(plan: Plan) -> tuple[Row, str]:
    """5: ``import moor7`` against ``import aiohttp`` alone, fresh interpreters."""
    # Both imports from cached bytecode, as after a pip install: a checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would otherwise compile moor7 at every import, and only
    # moor7. The cache lives outside the repository, and a first run of each fills it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "moor7-bench-pycache")
    for module in ("moor7", "aiohttp"):
        _import_microseconds(module, env)
    ours: list[int] = []
    theirs: list[int] = []
    for i in range(plan.import_runs):
        for module in ("moor7", "aiohttp") if i % 2 else ("aiohttp", "moor7"):
            (ours if module == "moor7" else theirs).append(_import_microseconds(module, env))
    ours_us, theirs_us = statistics.median(ours), statistics.median(theirs)
    ratio = shown(ours_us / theirs_us)
    extra = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, aiohttp; before = set(sys.modules); import moor7; "
            "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPOSITORY,
    ).stdout.split()
    row = Row(
        "5. `import moor7` vs `import aiohttp` (time ratio)",
        f"{ours_us / 1e3:.1f} ms",
        f"{theirs_us / 1e3:.1f} ms",
        ratio,
        "≤ 1.3",
        ratio <= 1.3,
    )
    note = "5: top-level modules `import moor7` adds to aiohttp's: " + ", ".join(extra)
    return row, note


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
    ours_rate = count / statistics.median(times["ours"])
    theirs_rate = count / statistics.median(times["theirs"])
    return Row(
        "6. signing (rate ratio)",
        f"{ours_rate:,.0f} signatures/s",
        f"{theirs_rate:,.0f} signatures/s (inline `hmac`)",
        shown(ours_rate / theirs_rate),
        "— (reported)",
        None,
    )


def with_distinct_times(pool: dict[str, Any]) -> dict[str, Any]:
    """The pool with every display number created and updated at a second of its own."""
    for i, number in enumerate(pool["displayNumberList"]):
        day = f"{1 + i % 12:02d}-{1 + i % 28:02d}"
        number["createTime"] = f"2020-{day} {i % 24:02d}:{i % 60:02d}:{i // 60 % 60:02d}"
        number["updateTime"] = f"2021-{day} {i % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
    return pool


def decoding(plan: Plan) -> tuple[Row, str]:
    """7: decoding the 5,000-number pool's bytes into models, against pydantic v2.

    moor7's side is what a call does with the body on the default install: ``json.loads``,
    then the converter; with ``moor7[speedups]`` installed, the same with moor7's parser
    (orjson) is reported too. pydantic's is ``model_validate_json`` into a twin of the
    models (``bench/peers.py``); msgspec's and a bare ``json.loads`` are reported beside.
    The bench pool repeats two times in all (moor7 keeps the times it has read): the
    note also gives moor7 and pydantic on the pool with 10,000 distinct times.
    """
    from moor7._convert import structure

    try:
        from moor7 import _json as parser
    except ImportError:  # moor7 before the speedups extra: the bench runs on it too
        parser = None

    body = json.dumps(number_pool(LARGE_POOL), ensure_ascii=False).encode()
    distinct = json.dumps(with_distinct_times(number_pool(LARGE_POOL)), ensure_ascii=False)
    distinct_body = distinct.encode()

    def ours() -> object:
        return structure(json.loads(body), moor7.NumberPool)

    sides: dict[str, Callable[[], object]] = {"moor7": ours, "json.loads": lambda: json.loads(body)}
    if parser is not None:
        parser.loads(b"{}")  # looks the speedups up
        if parser._fast_loads is not None:
            sides["moor7[speedups]"] = lambda: structure(parser.loads(body), moor7.NumberPool)
    missing = []
    try:
        from bench.peers import pydantic_decoder

        pydantic = pydantic_decoder()
        sides["pydantic"] = lambda: pydantic(body)
        sides["moor7, distinct times"] = lambda: structure(
            json.loads(distinct_body), moor7.NumberPool
        )
        sides["pydantic, distinct times"] = lambda: pydantic(distinct_body)
    except ImportError:
        missing.append("pydantic")
    try:
        from bench.peers import msgspec_decoder

        msgspec = msgspec_decoder()
        sides["msgspec"] = lambda: msgspec(body)
    except ImportError:
        missing.append("msgspec")
    times: dict[str, list[float]] = {side: [] for side in sides}
    for decode in sides.values():
        decode()  # a warm-up: the converter's functions, pydantic's schema
    for i in range(plan.rounds):
        order = list(sides) if i % 2 else list(reversed(sides))
        for side in order:
            gc.collect()
            started = time.perf_counter()
            sides[side]()
            times[side].append(time.perf_counter() - started)
    medians = {side: statistics.median(samples) for side, samples in times.items()}
    # Ratios of each round's own times, then their median: a slow round slows all sides.
    ratios = {
        side: statistics.median(
            a / b for a, b in zip(times[side], times["json.loads"], strict=True)
        )
        for side in sides
    }
    note = (
        f"7: decoding {len(body) / 1e6:.1f} MB, times per decode and ratios to `json.loads`: "
        + ", ".join(f"{side} {medians[side] * 1e3:.1f} ms ({ratios[side]:.2f}x)" for side in sides)
    )
    if missing:
        note += f"; not installed: {', '.join(missing)} (pip install -e '.[bench]')"
    if "pydantic" not in sides:
        row = Row(
            "7. decoding the 5,000-number pool, vs pydantic v2 (time ratio)",
            f"{medians['moor7'] * 1e3:.1f} ms",
            "pydantic not installed",
            shown(ratios["moor7"]),
            "< 1.0",
            None,
        )
        return row, note
    ratio = shown(
        statistics.median(a / b for a, b in zip(times["moor7"], times["pydantic"], strict=True))
    )
    row = Row(
        "7. decoding the 5,000-number pool, vs pydantic v2 `model_validate_json` (time ratio)",
        f"{medians['moor7'] * 1e3:.1f} ms",
        f"{medians['pydantic'] * 1e3:.1f} ms",
        ratio,
        "< 1.0",
        ratio < 1.0,
    )
    return row, note


# -- the run ---------------------------------------------------------------------------


def _usable_cpus() -> int:
    # What `nproc` prints: the CPUs this process may run on, not all the host has.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine() -> str:
    """What the figures were measured on."""
    return (
        f"{_usable_cpus()} CPUs (nproc), "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, aiohttp {aiohttp.__version__}, "
        f"moor7 {moor7.__version__}"
    )


def table(rows: Sequence[Row]) -> Iterator[str]:
    """The Markdown table."""
    yield "| scenario | moor7 | baseline | ratio | target | met? |"
    yield "| --- | ---: | ---: | ---: | --- | --- |"
    for row in rows:
        met = "—" if row.met is None else ("yes" if row.met else "**no**")
        cells = (row.scenario, row.moor7, row.baseline, f"{row.ratio:.2f}", row.target, met)
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
                rows.append(loop.run_until_complete(per_call_overhead(gateway, plan, 0)))
                rows.append(loop.run_until_complete(per_call_overhead(gateway, plan, LARGE_POOL)))
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
            row, note = import_time(plan)
            rows.append(row)
            notes.append(note)
        if "6" in only:
            rows.append(signing(plan))
        if "7" in only:
            row, note = decoding(plan)
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
        prog="python -m bench.perf", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--only", default="1,2,3,4,5,6,7", help="scenarios to run, e.g. 1,3")
    parser.add_argument("--serve", type=int, metavar="ACCOUNTS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    rows, notes = run(plan, set(args.only.split(",")))
    elapsed = time.perf_counter() - started
    print(f"moor7 benchmark{' (--quick)' if args.quick else ''}: {machine()}\n")
    for line in table(rows):
        print(line)
    print()
    for note in notes:
        print(f"- {note}")
    print(f"- the run took {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
