"""Where a call's time goes, beyond the table of ``python -m bench.perf``.

Run from the repository root (``pip install -e '.[bench]'``)::

    python -m bench.breakdown          # every part: about a minute
    python -m bench.breakdown --quick  # a smoke run (tests/test_bench.py)

It prints four parts, the figures docs/performance.md quotes under "Targets missed"
and "The garbage collector":

1. a seed-pool call's CPU with no socket (``moor7.testing.MockTransport``), with and
   without shared answers, and the parts of it: signing (the raw baseline signs too),
   the envelope, the models;
2. against ``bench/gateway.py``: aiohttp's own POST and read, moor7's transport doing
   the same, and whole calls of moor7 (with and without shared answers) and of the raw
   baseline (rotating rounds);
3. the garbage collector: a 5,000-number call of each side (both pools) at the
   collector's own pace, in blocks of calls with no collection forced (as a process
   polling the pool sees it), and the same calls with the collector paused;
4. decoding the pool: moor7, the pydantic twin of ``bench/peers.py``, and a leaner
   pydantic twin without the China Standard Time conversion, the enums or frozen
   models, to show how much the twin's fidelity costs it.

Absolute times here are noise on a shared machine: compare the figures of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import statistics
import sys
import time
import timeit
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp

import moor7
from bench.gateway import NUMBER_POOL_PATH, encode_answer
from bench.perf import (
    LARGE_POOL,
    GatewayProcess,
    PydanticCaller,
    RawCaller,
    bench_signer,
    moor7_client,
    pool_data,
)
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, MockTransport


def _best_us(function: Callable[[], object], number: int) -> float:
    """The best of seven repeats, in microseconds per call (timeit's own advice)."""
    return min(timeit.repeat(function, number=number, repeat=7)) / number * 1e6


def seed_cpu(quick: bool) -> list[str]:
    """1: a seed-pool call's CPU in isolation, and its parts."""
    from multidict import CIMultiDict, CIMultiDictProxy

    from moor7._endpoints.numbers import GET_NUMBER_POOL
    from moor7._envelope import parse_response

    body = encode_answer(pool_data(0, False)).split(b"\r\n\r\n", 1)[1]
    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json; charset=utf-8"}))
    answer = moor7.HttpResponse(200, headers, body, "OK")
    number = 500 if quick else 20_000

    def parse() -> Any:
        return parse_response(status=200, reason="OK", headers=headers, body=body, path="/x")

    envelope = parse()
    signer = moor7.HmacSigner(DEMO_APPKEY, DEMO_SECRET_KEY)
    request = moor7.OutgoingRequest("POST", "http://x" + NUMBER_POOL_PATH, NUMBER_POOL_PATH, b"")

    async def whole(share_answers: bool = True) -> float:
        async with moor7.AsyncClient(
            DEMO_APPKEY,
            DEMO_SECRET_KEY,
            base_url="http://127.0.0.1:1",
            limiter=moor7.Unlimited(),
            transport=MockTransport(lambda request, headers: answer),
            share_answers=share_answers,
        ) as client:
            best = float("inf")
            for _ in range(7):
                started = time.perf_counter()
                for _ in range(number):
                    await client.get_number_pool()
                best = min(best, (time.perf_counter() - started) / number * 1e6)
            return best

    parts = {
        "the whole call (MockTransport)": asyncio.run(whole()),
        # A query runs in a task of its own that identical queries can join: its cost.
        "the whole call, share_answers=False": asyncio.run(whole(share_answers=False)),
        "signing (HmacSigner.sign)": _best_us(lambda: signer.sign(request), number),
        "the envelope (parse_response)": _best_us(parse, number),
        "the models (Endpoint.decode)": _best_us(lambda: GET_NUMBER_POOL.decode(envelope), number),
    }
    return [f"{name}: {us:.1f} µs" for name, us in parts.items()]


async def _rounds(
    sides: dict[str, Callable[[], Awaitable[object]]], rounds: int, calls: int
) -> dict[str, float]:
    """Median seconds per call of each side, in rotating rounds after a warm-up."""
    for side in sides.values():
        await side()
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            started = time.perf_counter()
            for _ in range(calls):
                await sides[name]()
            times[name].append((time.perf_counter() - started) / calls)
    return {name: statistics.median(samples) for name, samples in times.items()}


async def transport(gateway: GatewayProcess, quick: bool) -> list[str]:
    """2: aiohttp's POST and read, moor7's transport, whole calls: the seed pool."""
    gateway.serve_pool(0)
    signer = bench_signer(DEMO_APPKEY, DEMO_SECRET_KEY)
    async with (
        moor7_client(gateway.url) as client,
        moor7_client(gateway.url, share_answers=False) as unshared,
        aiohttp.ClientSession() as session,
    ):
        raw = RawCaller(session, gateway.url, signer)
        request = moor7.OutgoingRequest(
            "POST", gateway.url + NUMBER_POOL_PATH, NUMBER_POOL_PATH, b""
        )

        async def moor7_transport() -> object:
            headers = {**client._base_headers, **client.signer.sign(request)}  # type: ignore[misc]
            return await client.transport.send(request, headers, 10.0)

        medians = await _rounds(
            {
                "aiohttp's POST and read (raw, no json.loads)": raw.body,
                "moor7's transport.send()": moor7_transport,
                "raw aiohttp + json.loads": raw.get_number_pool,
                "moor7's get_number_pool()": client.get_number_pool,
                "moor7's get_number_pool(), share_answers=False": unshared.get_number_pool,
            },
            rounds=3 if quick else 21,
            calls=20 if quick else 200,
        )
    return [f"{name}: {seconds * 1e6:.0f} µs" for name, seconds in medians.items()]


async def collector(gateway: GatewayProcess, quick: bool) -> list[str]:
    """3: a 5,000-number call of each side at the collector's own pace, and paused.

    Each side in turn runs a block: settling calls (untimed), then timed calls, with
    no collection forced anywhere, as in a process that polls the pool; then the same
    timed calls with the collector paused (``gc.disable()``). Per-block ratios to the
    raw side's block of the same round, their median.
    """
    signer = bench_signer(DEMO_APPKEY, DEMO_SECRET_KEY)
    settle, timed, rounds = (1, 1, 1) if quick else (4, 8, 7)
    lines = []
    for distinct in (False, True):
        gateway.serve_pool(LARGE_POOL, distinct=distinct)
        async with (
            moor7_client(gateway.url) as client,
            aiohttp.ClientSession() as raw_session,
            aiohttp.ClientSession() as pydantic_session,
        ):
            sides: dict[str, Callable[[], Awaitable[object]]] = {
                "moor7": client.get_number_pool,
                "raw": RawCaller(raw_session, gateway.url, signer).get_number_pool,
            }
            with contextlib.suppress(ImportError):  # pydantic: the bench extra
                sides["pydantic SDK"] = PydanticCaller(
                    pydantic_session, gateway.url, signer
                ).get_number_pool
            for call in sides.values():
                await call()
            times: dict[tuple[str, bool], list[float]] = {
                (name, paused): [] for name in sides for paused in (False, True)
            }
            names = list(sides)
            for i in range(rounds):
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    for _ in range(settle):
                        await sides[name]()
                    for paused in (False, True):
                        if paused:
                            gc.disable()
                        try:
                            started = time.perf_counter()
                            for _ in range(timed):
                                await sides[name]()
                            times[name, paused].append((time.perf_counter() - started) / timed)
                        finally:
                            gc.enable()
        pool = "every time distinct" if distinct else "the bench pool"
        for paused in (False, True):
            state = "collector paused" if paused else "collector running"
            figures = []
            for name in sides:
                ratio = statistics.median(
                    a / b for a, b in zip(times[name, paused], times["raw", paused], strict=True)
                )
                median = statistics.median(times[name, paused]) * 1e3
                figures.append(f"{name} {median:.1f} ms ({ratio:.2f} x raw)")
            lines.append(f"{pool}, {state}: " + ", ".join(figures))
    return lines


def _lean_pydantic() -> Any:
    """A pydantic twin that does less: naive times, plain values for enums, not frozen."""
    from pydantic import BaseModel, ConfigDict, Field

    class Model(BaseModel):
        model_config = ConfigDict(extra="ignore", populate_by_name=True)

    class Group(Model):
        id: str = Field(alias="_id")
        name: str | None = None

    class Number(Model):
        id: str = Field(alias="_id")
        number: str
        call_ability: int | None = Field(None, alias="callAbility")
        line: str | None = None
        account: str | None = None
        status: str | None = None
        resource_type: str | None = Field(None, alias="resourceType")
        concurrency: int | None = None
        create_time: datetime | None = Field(None, alias="createTime")
        update_time: datetime | None = Field(None, alias="updateTime")
        create_user: str | None = Field(None, alias="createUser")
        update_user: str | None = Field(None, alias="updateUser")
        ivr_id: str | None = Field(None, alias="ivrId")
        name: str | None = None
        groups: list[Group] = Field(default_factory=list, alias="group")

    class Pool(Model):
        display_numbers: list[Number] = Field(default_factory=list, alias="displayNumberList")
        service_numbers: list[Number] = Field(default_factory=list, alias="serviceNumberList")

    return Pool.model_validate_json


def decoding(quick: bool) -> list[str]:
    """4: decoding the pool's data: moor7, the pydantic twin, a leaner twin."""
    from bench.peers import pydantic_decoder
    from moor7._convert import structure
    from moor7._json import loads

    lines = []
    full, lean = pydantic_decoder(), _lean_pydantic()
    for distinct in (False, True):
        body = encode_answer(pool_data(LARGE_POOL, distinct)).split(b"\r\n\r\n", 1)[1]
        data = loads(body)["data"]
        data_body = json.dumps(data, ensure_ascii=False).encode()
        sides: dict[str, Callable[[], object]] = {
            "moor7": lambda data_body=data_body: structure(loads(data_body), moor7.NumberPool),
            "the pydantic twin": lambda data_body=data_body: full(data_body),
            "a leaner pydantic twin": lambda data_body=data_body: lean(data_body),
        }
        times: dict[str, list[float]] = {name: [] for name in sides}
        for decode in sides.values():
            decode()
        for _ in range(2 if quick else 11):
            for name, decode in sides.items():
                gc.collect()
                started = time.perf_counter()
                decode()
                times[name].append(time.perf_counter() - started)
        pool = "every time distinct" if distinct else "the bench pool"
        lines += [
            f"{pool}, {name}: {statistics.median(samples) * 1e3:.1f} ms"
            for name, samples in times.items()
        ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print the four parts."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.breakdown", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    print("1. a seed-pool call's CPU, no socket (best of 7):")
    for line in seed_cpu(args.quick):
        print(f"   {line}")
    gateway = GatewayProcess(1)
    try:
        print("2. against bench/gateway.py, the seed pool (medians of rotating rounds):")
        for line in asyncio.run(transport(gateway, args.quick)):
            print(f"   {line}")
        print("3. the garbage collector, 5,000-number pools, medians of blocks of calls:")
        for line in asyncio.run(collector(gateway, args.quick)):
            print(f"   {line}")
    finally:
        gateway.close()
    print("4. decoding the 5,000-number pool's data (medians):")
    try:
        for line in decoding(args.quick):
            print(f"   {line}")
    except ImportError:
        print("   pydantic is not installed (pip install -e '.[bench]')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
