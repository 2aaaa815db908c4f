"""The benchmark runs and reports every scenario: ``python -m bench.perf --quick``.

Its figures are reported, never asserted here: a timing threshold would fail on a busy
machine and say nothing about the code. docs/performance.md holds a full run's table.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Generous: the quick run takes a few seconds, but CI machines are shared.
TIMEOUT = 180


@pytest.fixture(scope="module")
def quick_run() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bench.perf", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def table_rows(output: str) -> list[list[str]]:
    """The cells of each body row of the Markdown table."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith("|")
    ]
    header, separator, *body = rows
    assert header == ["scenario", "moor7", "baseline", "ratio", "target", "met?"]
    assert all(set(cell) <= set("-: ") for cell in separator)
    return body


class TestQuickRun:
    def test_every_scenario_has_a_row(self, quick_run: str) -> None:
        """Rows for all seven scenarios: per call, sync, concurrency, accounts, import,
        signing, decoding."""
        numbers = set()
        for row in table_rows(quick_run):
            match = re.match(r"(\d)[a-z]?\. ", row[0])
            assert match, row
            numbers.add(int(match.group(1)))
        assert numbers == {1, 2, 3, 4, 5, 6, 7}

    def test_every_ratio_is_a_positive_number(self, quick_run: str) -> None:
        for row in table_rows(quick_run):
            assert len(row) == 6, row
            ratio = float(row[3])
            assert math.isfinite(ratio), row
            assert ratio > 0, row

    def test_met_says_yes_no_or_no_target(self, quick_run: str) -> None:
        for row in table_rows(quick_run):
            assert row[5] in {"yes", "**no**", "—"}, row

    def test_the_machine_is_described(self, quick_run: str) -> None:
        assert "CPUs (nproc)" in quick_run
        assert "Python 3." in quick_run


class TestDecodingScenario:
    def test_pydantic_and_msgspec_are_measured(self, quick_run: str) -> None:
        """Both peers are installed with the test extra, so both are in the note."""
        (note,) = [line for line in quick_run.splitlines() if line.startswith("- 7: ")]
        for side in ("moor7", "json.loads", "pydantic", "msgspec"):
            assert re.search(rf"{re.escape(side)} [0-9.]+ ms \([0-9.]+x\)", note), note
