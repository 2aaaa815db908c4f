"""bench/quota.py with a redis-server of its own: 4 processes across a Redis restart.

Only the promise is asserted (no over-quota answer, never over the window); the
utilisation the recovery costs is reported by the benchmark, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "bench" / "quota.py"


def test_four_processes_keep_the_quota_across_a_redis_restart() -> None:
    arguments = ["--max-calls", "5", "--period", "0.5", "--periods", "3", "--json"]
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(BENCH), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = {row["limiter"]: row for row in json.loads(result.stdout)}
    restarted = rows["RedisLimiter, 4 processes, Redis restarted mid-run"]
    assert restarted["calls"] == 20
    assert restarted["rejected"] == 0
    assert restarted["max_in_window"] <= 5
