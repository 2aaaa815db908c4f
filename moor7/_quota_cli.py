"""``moor7 quota``: how an account's shared quota stands, read from Redis.

The window of a :class:`~moor7.RedisLimiter` lives in Redis, so any process can look
at it; a :class:`~moor7.LocalLimiter`'s lives in its own process only (ask it with
``limiter.usage(account)`` there).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from ._limits import WAIT_REASONS, Priority, QuotaUsage
from .exceptions import ConfigurationError

__all__ = ["add_quota_command", "run_quota"]


def add_quota_command(commands: Any) -> argparse.ArgumentParser:
    """Add ``quota`` to the ``moor7`` command's subcommands."""
    text = "how an account's shared quota stands now, read from the RedisLimiter's Redis"
    quota: argparse.ArgumentParser = commands.add_parser(
        "quota",
        help=text,
        description=(
            f"Show {text}: slots used (in flight, orphaned), calls waiting by priority, "
            "when the next slot frees, and any pause or recovery. Give the limiter's "
            "settings (--max-calls, --period, --reserve, --key-prefix) if yours differ "
            "from the defaults. A LocalLimiter's window lives in each process: ask it "
            "with limiter.usage(account) there."
        ),
    )
    quota.add_argument("--redis", help="the limiter's Redis URL (default: $MOOR7_REDIS_URL)")
    quota.add_argument("--max-calls", type=int, default=20, help="calls per period (20)")
    quota.add_argument("--period", type=float, default=60.0, help="the window, seconds (60)")
    quota.add_argument("--reserve", type=int, default=0, help="slots batch calls never take (0)")
    quota.add_argument("--key-prefix", default="moor7:quota:", help="(default: moor7:quota:)")
    # The options it shares with the other commands; given before the command, they
    # stand (SUPPRESS: left out here, they do not reset it).
    quota.add_argument(
        "--appkey", default=argparse.SUPPRESS, help="the account id (default: $MOOR7_APPKEY)"
    )
    quota.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    quota.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log to stderr"
    )
    return quota


def run_quota(args: argparse.Namespace, out: TextIO) -> int:
    """Print the account's usage; the exit status."""
    from ._redis import RedisLimiter

    url = args.redis or os.environ.get("MOOR7_REDIS_URL") or None
    appkey = args.appkey or os.environ.get("MOOR7_APPKEY") or None
    if url is None:
        msg = (
            "moor7 quota reads a RedisLimiter's window: give --redis URL (or set "
            "MOOR7_REDIS_URL). A LocalLimiter's window lives in each process: ask it with "
            "limiter.usage(account) there"
        )
        raise ConfigurationError(msg)
    if appkey is None:
        msg = "moor7 quota needs the account: give --appkey (or set MOOR7_APPKEY)"
        raise ConfigurationError(msg)
    limiter = RedisLimiter(
        url,
        max_calls=args.max_calls,
        period=args.period,
        reserve=args.reserve,
        key_prefix=args.key_prefix,
    )
    try:
        usage = limiter.usage(appkey)
    finally:
        limiter.close()
    if args.json:
        json.dump(as_json(usage), out, indent=2)
        out.write("\n")
    else:
        print_usage(out, usage)
    if not (usage.used or any(usage.waiting.values()) or usage.paused_for):
        # Nothing at all: a quiet account, or a window under another name.
        sys.stderr.write(
            f"moor7 quota: no call of account {appkey} in the last {usage.period:g} s under "
            f"the key prefix {args.key_prefix!r}: a quiet account, or an --appkey or "
            "--key-prefix that is not your limiter's\n"
        )
    return 0


def as_json(usage: QuotaUsage) -> dict[str, Any]:
    return {
        "account": usage.account,
        "max_calls": usage.max_calls,
        "period": usage.period,
        "reserve": usage.reserve,
        "used": usage.used,
        "free": usage.free,
        "in_flight": usage.in_flight,
        "orphaned": usage.orphaned,
        "waiting": {priority.value: count for priority, count in usage.waiting.items()},
        "next_free_in": round(usage.next_free_in, 3),
        "paused_for": round(usage.paused_for, 3),
        "recovering_for": round(usage.recovering_for, 3),
        "blocked_by": usage.blocked_by,
    }


def print_usage(out: TextIO, usage: QuotaUsage) -> None:
    reserved = f", {usage.reserve} reserved for interactive calls" if usage.reserve else ""
    waiting = usage.waiting
    if usage.next_free_in <= 0:
        next_slot = "free now"
    else:
        why = WAIT_REASONS.get(usage.blocked_by or "", "")
        next_slot = f"in {usage.next_free_in:.1f} s" + (f" ({why})" if why else "")
    rows = [
        ("used", f"{usage.used} of {usage.max_calls}"),
        ("in flight", str(usage.in_flight)),
        ("orphaned", str(usage.orphaned)),
        (
            "waiting",
            f"interactive {waiting.get(Priority.INTERACTIVE, 0)}, "
            f"batch {waiting.get(Priority.BATCH, 0)}",
        ),
        ("next slot", next_slot),
        ("paused", f"{usage.paused_for:.1f} s more" if usage.paused_for > 0 else "no"),
        (
            "recovering",
            f"{usage.recovering_for:.1f} s more" if usage.recovering_for > 0 else "no",
        ),
    ]
    out.write(
        f"quota of account {usage.account}: {usage.max_calls} calls per "
        f"{usage.period:g} s{reserved}, shared in Redis\n"
    )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        out.write(f"  {name:<{width}}  {value}\n")
