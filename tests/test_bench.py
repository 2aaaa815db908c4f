"""The benchmark runs and reports every scenario: ``python -m bench.perf --quick``.

Its figures are reported, never asserted here: a timing threshold would fail on a busy
machine and say nothing about the code. docs/performance.md holds a full run's table.
What is asserted is that the benchmark measures what it says: every scenario has its
rows, and the gateway it times against serves what ``FakeGateway`` serves.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import moor7
from bench.gateway import NUMBER_POOL_PATH, EncodedGateway, encode_answer
from bench.perf import pool_data
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway

ROOT = Path(__file__).resolve().parent.parent
# Generous: the quick run takes a few seconds, but CI machines are shared.
TIMEOUT = 180
# The demo account's process-wide limiter is shared with every other test.
UNLIMITED = moor7.Unlimited()


def run_quick(module: str) -> str:
    """``python -m MODULE --quick`` from the repository root: what it printed."""
    result = subprocess.run(  # noqa: S603 - this interpreter, our own benchmark modules
        [sys.executable, "-m", module, "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def quick_run() -> str:
    return run_quick("bench.perf")


def table_rows(output: str) -> list[list[str]]:
    """The cells of each body row of the Markdown table."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith("|")
    ]
    header, separator, *body = rows
    assert header == ["scenario", "moor7", "baseline", "ratio", "spread", "target", "met?"]
    assert all(set(cell) <= set("-: ") for cell in separator)
    return body


def row_ids(output: str) -> list[str]:
    ids = []
    for row in table_rows(output):
        match = re.match(r"(\d[a-z]?)\. ", row[0])
        assert match, row
        ids.append(match.group(1))
    return ids


class TestQuickRun:
    def test_every_scenario_has_its_rows(self, quick_run: str) -> None:
        """Per call (seed pool, 5,000 numbers, every time distinct; against raw aiohttp
        and the pydantic-v2 SDK), sync, concurrency, accounts, import, signing,
        decoding, the pytest plugin."""
        assert row_ids(quick_run) == [
            *("1a", "1b", "1c", "1d", "1e", "2", "3", "4a", "4b"),
            *("5a", "5b", "5c", "6", "7a", "7b", "8"),
        ]

    def test_every_ratio_is_a_positive_number_with_its_spread(self, quick_run: str) -> None:
        for row in table_rows(quick_run):
            assert len(row) == 7, row
            ratio = float(row[3])
            assert math.isfinite(ratio), row
            assert ratio > 0, row
            if row[4] != "—":
                low, high = (float(end) for end in row[4].split("-"))
                assert 0 < low <= high, row

    def test_met_says_yes_no_or_no_target(self, quick_run: str) -> None:
        for row in table_rows(quick_run):
            assert row[6] in {"yes", "**no**", "—"}, row

    def test_the_machine_and_the_parser_are_described(self, quick_run: str) -> None:
        assert "CPUs (nproc)" in quick_run
        assert "Python 3." in quick_run
        assert "moor7 parses answers with msgspec" in quick_run

    def test_the_plugin_row_names_what_it_imports(self, quick_run: str) -> None:
        (note,) = [line for line in quick_run.splitlines() if line.startswith("- 8: ")]
        assert "ms a run" in note
        assert "these modules" in note


class TestDecodingScenario:
    def test_pydantic_and_msgspec_are_measured(self, quick_run: str) -> None:
        """Both peers are installed with the test extra, so both are in the note."""
        (note,) = [line for line in quick_run.splitlines() if line.startswith("- 7: ")]
        for side in ("moor7", "json.loads", "pydantic", "msgspec"):
            assert re.search(rf"{re.escape(side)} [0-9.]+ ms \([0-9.]+x\)", note), note


class TestBreakdown:
    def test_the_quick_breakdown_prints_its_four_parts(self) -> None:
        """python -m bench.breakdown: the figures docs/performance.md quotes beside the
        table (reported, never asserted)."""
        output = run_quick("bench.breakdown")
        parts = [line for line in output.splitlines() if re.match(r"\d\. ", line)]
        assert [part[:2] for part in parts] == ["1.", "2.", "3.", "4."], output
        for needle in ("MockTransport", "transport.send()", "collector paused", "leaner"):
            assert needle in output, needle


class TestEncodedGateway:
    """The gateway the HTTP scenarios time against answers as FakeGateway does."""

    @pytest.mark.parametrize(("size", "distinct"), [(0, False), (3, False), (3, True)])
    async def test_the_same_data_as_fake_gateway(self, size: int, distinct: bool) -> None:
        pool = pool_data(size, distinct)
        encoded = EncodedGateway({DEMO_APPKEY: DEMO_SECRET_KEY})
        encoded.answer = encode_answer(pool)
        server = await encoded.start()
        host, port = server.sockets[0].getsockname()[:2]
        try:
            async with (
                FakeGateway(number_pool=pool, quota=None) as fake,
                moor7.AsyncClient(
                    DEMO_APPKEY,
                    DEMO_SECRET_KEY,
                    base_url=f"http://{host}:{port}",
                    limiter=UNLIMITED,
                ) as ours,
                moor7.AsyncClient(
                    DEMO_APPKEY, DEMO_SECRET_KEY, base_url=fake.url, limiter=UNLIMITED
                ) as theirs,
            ):
                assert await ours.request(NUMBER_POOL_PATH) == await theirs.request(
                    NUMBER_POOL_PATH
                )
                assert await ours.get_number_pool() == await theirs.get_number_pool()
        finally:
            server.close()
            await server.wait_closed()
        assert encoded.calls == 2

    async def test_a_bad_signature_is_refused_as_fake_gateway_refuses_it(self) -> None:
        encoded = EncodedGateway({DEMO_APPKEY: DEMO_SECRET_KEY})
        server = await encoded.start()
        host, port = server.sockets[0].getsockname()[:2]
        errors = []
        try:
            async with FakeGateway(quota=None) as fake:
                for url in (f"http://{host}:{port}", fake.url):
                    async with moor7.AsyncClient(
                        DEMO_APPKEY, "not-the-secret", base_url=url, limiter=UNLIMITED
                    ) as client:
                        with pytest.raises(moor7.AuthenticationError) as caught:
                            await client.get_number_pool()
                        errors.append((caught.value.status, caught.value.code))
        finally:
            server.close()
            await server.wait_closed()
        assert errors == [(401, "401"), (401, "401")]
        assert encoded.calls == 0
