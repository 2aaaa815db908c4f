"""bench/quota.py runs, and what it measures keeps the quota's promise.

Only the promise is asserted (no rejection, never over the window, how many calls reach
the gateway); the timing figures (utilisation, burst, waits, the cost of a call) are
reported by the benchmark, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "bench" / "quota.py"


def test_quota_benchmark_keeps_the_promise(redis_url: str) -> None:
    arguments = ["--max-calls", "5", "--period", "0.5", "--periods", "1", "--only", "kept"]
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(BENCH), *arguments, "--redis-url", redis_url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["kept"]
    assert [row["limiter"] for row in rows] == [
        "LocalLimiter",
        "RedisLimiter",
        "RedisLimiter, 4 processes",
    ]
    for row in rows:
        assert row["calls"] == 10
        assert row["rejected"] == 0
        assert row["max_in_window"] <= 5
        assert 0 < row["utilisation"] <= 1.0


def test_shared_answers_keep_their_promises() -> None:
    """50 identical calls at once reach the gateway once; a page viewed 100 times a
    minute with max_age of half a minute makes at most 2 calls in any minute, none of
    them waiting for a slot (2 of the 5 slots of a minute), and nothing is refused."""
    arguments = ["--max-calls", "5", "--period", "1", "--periods", "2", "--only", "answers"]
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(BENCH), *arguments, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    at_once, views = document["answers"]
    assert at_once["asked"] == at_once["answered"] == 50
    assert at_once["reached"] == 1
    assert views["asked"] == views["answered"] == 200
    assert views["most_per_period"] <= 2
    # At most 2 calls a minute of a quota of 5: no call found the window full.
    assert views["reached"] <= 2 * 2 + 1  # every half minute, and the first
    assert views["kept_served"] == views["asked"] - views["reached"]
    assert at_once["rejected"] == views["rejected"] == 0
    cost = document["answer_cost"]
    assert cost["shared_us"] > 0
    assert cost["unshared_us"] > 0


def test_the_priorities_scenarios_keep_the_quota() -> None:
    arguments = ["--max-calls", "8", "--period", "0.8", "--batch", "30", "--reserve", "2"]
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(BENCH), *arguments, "--only", "priorities", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["priorities"]
    assert len(rows) == 2  # one process; the batch in another process, on Redis
    for row in rows:
        assert row["rejected"] == 0
        assert row["max_in_window"] <= 8
