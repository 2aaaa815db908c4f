"""bench/quota.py runs, and what it measures keeps the quota's promise.

Only the promise is asserted (no rejection, never over the window); the timing figures
(utilisation, burst) are reported by the benchmark, never asserted here.
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
