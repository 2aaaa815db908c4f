"""`moor7 quota`: the shared window as an operator reads it, from a real Redis."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid

import pytest

import moor7


def quota(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "moor7", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def busy_account(redis_url: str) -> tuple[str, str]:
    """An account with 3 calls of 3 made and a pause: its key prefix and appkey."""
    prefix = f"moor7:quota:test-{uuid.uuid4().hex}:"
    limiter = moor7.RedisLimiter(redis_url, max_calls=3, period=30.0, reserve=1, key_prefix=prefix)

    async def calls() -> None:
        for _ in range(3):
            async with limiter.acquire("2000103"):
                pass
        await limiter.pause("2000103", 5.0)
        await limiter.aclose()

    asyncio.run(calls())
    return prefix, "2000103"


def test_it_shows_the_window(redis_url: str, busy_account: tuple[str, str]) -> None:
    prefix, appkey = busy_account
    settings = ["--max-calls", "3", "--period", "30", "--reserve", "1", "--key-prefix", prefix]
    result = quota("quota", "--redis", redis_url, "--appkey", appkey, *settings)
    assert result.returncode == 0, result.stderr
    assert "3 calls per 30 s, 1 reserved for interactive calls" in result.stdout
    assert "used        3 of 3" in result.stdout
    # The window frees in about 30 s, the pause in 5 s: the window is why.
    assert "every slot of the window is in use" in result.stdout
    assert "paused      4." in result.stdout

    result = quota("--json", "quota", "--redis", redis_url, "--appkey", appkey, *settings)
    document = json.loads(result.stdout)
    assert (document["used"], document["free"], document["reserve"]) == (3, 0, 1)
    assert document["blocked_by"] == "quota"
    assert document["waiting"] == {"interactive": 0, "batch": 0}
    assert redis_url.split("@")[0].split(":")[-1] not in result.stdout + result.stderr


def test_an_empty_window_says_what_to_check(redis_url: str) -> None:
    prefix = f"moor7:quota:test-{uuid.uuid4().hex}:"  # the documented user's keys
    result = quota("quota", "--redis", redis_url, "--appkey", "20001O3", "--key-prefix", prefix)
    assert result.returncode == 0, result.stderr
    assert "used        0 of 20" in result.stdout
    said = f"no call of account 20001O3 in the last 60 s under the key prefix {prefix!r}"
    assert said in result.stderr


def test_from_the_environment(
    redis_url: str, busy_account: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix, appkey = busy_account
    monkeypatch.setenv("MOOR7_REDIS_URL", redis_url)
    monkeypatch.setenv("MOOR7_APPKEY", appkey)
    result = quota("quota", "--max-calls", "3", "--period", "30", "--key-prefix", prefix)
    assert result.returncode == 0, result.stderr
    assert "used        3 of 3" in result.stdout
    assert "no call" not in result.stderr


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["quota", "--appkey", "2000103"], "give --redis URL"),
        (["quota", "--redis", "redis://127.0.0.1:1/0"], "needs the account"),
        (["--timeout", "3", "quota", "--redis", "redis://x/0", "--appkey", "1"], "no --timeout"),
        (["--sandbox", "quota"], "no --sandbox"),
    ],
)
def test_what_it_needs_is_said(arguments: list[str], said: str) -> None:
    result = quota(*arguments)
    assert result.returncode == 2
    assert said in result.stderr


def test_an_unreachable_redis_is_exit_1() -> None:
    result = quota("quota", "--redis", "redis://127.0.0.1:1/0", "--appkey", "2000103")
    assert result.returncode == 1
    assert "LimiterUnavailableError" in result.stderr
