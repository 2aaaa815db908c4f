"""bench/quota.py with redis-servers of its own: restarts, failovers, a killed worker.

Only the promises about the quota are asserted (no over-quota answer where the limiter
can know, one burst at most where it cannot); the waits and the utilisation are reported
by the benchmark, and pinned by tests/test_redis_restarts.py, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "bench" / "quota.py"


def test_every_scenario_of_failures_runs_and_keeps_its_promise() -> None:
    arguments = ["--max-calls", "5", "--period", "0.5", "--periods", "3", "--timeout", "0.5"]
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(BENCH), *arguments, "--only", "restarts,available", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    kept = {row["limiter"]: row for row in report["kept"]}
    assert set(kept) == {
        "4 processes, Redis restarted empty",
        "4 processes, restarted from AOF",
        "4 processes, replica promoted",
    }
    for row in kept.values():
        assert row["calls"] == 20
        assert row["rejected"] == 0
        assert row["max_in_window"] <= 5
    available = report["available"]
    assert len(available) == 4
    # A loss nobody witnessed costs one burst at most; waiting instead costs none.
    assert available[2]["rejected"] <= 5
    assert available[3]["rejected"] == 0
