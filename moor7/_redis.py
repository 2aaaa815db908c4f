"""The account quota across processes and hosts, kept in Redis.

Same promise as :class:`~moor7.LocalLimiter`, for every process and host that shares the
Redis server: never more than ``max_calls`` of an account's calls in any rolling
``period``, a slot held from its grant until ``period`` after its call finished.

Why redis-py with a Lua script, not the ``limits`` library: ``limits``' moving window
counts a hit at the moment it is taken and forgets the call after that, so it cannot
hold a slot until the call *finishes* (the part that makes the promise independent of
network latency), and it reads the clock of each host, where we read Redis's. A script
of a few lines does both, atomically.

Per account, three keys share one hash tag (so they live on one Redis Cluster slot)::

    moor7:quota:{2000103}:done    ZSET  finished calls, scored by when their slot frees
    moor7:quota:{2000103}:flight  ZSET  calls in flight, scored by when their lease ends
    moor7:quota:{2000103}:pause   STRING  pause-until, after an over-quota answer

Times are microseconds of Redis's clock.

All times come from Redis's own clock (``TIME``), so clock differences between hosts do
not matter. A call whose process dies mid-flight holds its slot until its lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

from ._arguments import seconds
from ._limits import LocalLimiter, next_pause
from .exceptions import ConfigurationError, LimiterUnavailableError

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["RedisLimiter"]

log = logging.getLogger("moor7")

# Times are microseconds of Redis's clock: exact in Lua's doubles (2^53 us is 285 years),
# and fine enough that rounding cannot shorten a window.
# KEYS: done, flight, pause. ARGV: max_calls, period_us, lease_us, member.
# Returns {1, 0} when granted, else {0, us to wait before asking again}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max_calls, period, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then
  return {0, paused - now}
end
if redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) < max_calls then
  redis.call('ZADD', KEYS[2], now + lease, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], math.ceil(lease / 1000) + 1000)
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then
  return {0, tonumber(first[2]) - now}
end
-- Every slot is in flight: none frees before a full period after the next finish.
return {0, period}
"""

# KEYS: done, flight. ARGV: period_us, lease_us, member.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[1], now + period, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil((period + lease) / 1000) + 1000)
return 1
"""

# KEYS: pause. ARGV: pause_us. Extends a pause, never shortens one.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_us = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_us > current then
  redis.call('SET', KEYS[1], until_us, 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 1
"""


def _import_redis() -> Any:
    try:
        import redis.asyncio
    except ImportError as exc:  # pragma: no cover - exercised by hand without the extra
        msg = "RedisLimiter needs redis-py: pip install 'moor7[redis]'"
        raise ImportError(msg) from exc
    return redis


class RedisLimiter:
    """At most ``max_calls`` calls per account in any rolling ``period``, across every
    process and host that shares one Redis server.

    Install with ``pip install 'moor7[redis]'``. Pass the same limiter to every client of
    the process; give every process the same Redis, ``max_calls`` and ``period``.

    Example:
        ::

            limiter = moor7.RedisLimiter("redis://quota-redis:6379/0")
            async with moor7.AsyncClient(limiter=limiter) as client:
                ...
            await limiter.aclose()

    Args:
        redis: A Redis URL, or a ``redis.asyncio.Redis`` client. A URL lets the limiter
            open one connection pool per event loop (the sync ``Client``'s and yours);
            a client is bound to the event loop it was made on.
        max_calls: Calls allowed per ``period`` (7moor: 20 per minute).
        period: The window, in seconds.
        on_unavailable: When Redis cannot be reached: ``"raise"``
            :class:`~moor7.LimiterUnavailableError` (the call is not sent), or
            ``"local"`` to fall back to a :class:`LocalLimiter` with the same quota
            (then each process counts only itself until Redis is back: choose it only if
            a few over-quota answers are better than failed calls). Never unlimited.
        lease: Seconds a call in flight may hold its slot if its process dies before
            reporting that it finished. Longer than any call's timeout plus retries.
        key_prefix: Prefix of the Redis keys.
    """

    def __init__(
        self,
        redis: str | redis.asyncio.Redis,
        *,
        max_calls: int = 20,
        period: float = 60.0,
        on_unavailable: Literal["raise", "local"] = "raise",
        lease: float = 300.0,
        key_prefix: str = "moor7:quota:",
    ) -> None:
        module = _import_redis()
        # LocalLimiter validates max_calls and period, and is the fallback.
        self._fallback = LocalLimiter(max_calls, period)
        if on_unavailable not in ("raise", "local"):
            msg = f"on_unavailable must be 'raise' or 'local', got {on_unavailable!r}"
            raise ConfigurationError(msg)
        if isinstance(redis, str):
            try:
                # Checked now, not at the first call, where redis-py's ValueError would
                # escape the client.
                module.connection.parse_url(redis)
            except ValueError as exc:
                msg = f"not a Redis URL (redis://, rediss:// or unix://): {_redact(redis)!r}"
                raise ConfigurationError(msg) from exc
            self._url: str | None = redis
            self._given: Any = None
        elif isinstance(redis, module.Redis):
            self._url = None
            self._given = redis
        else:
            msg = f"redis must be a URL or a redis.asyncio.Redis, got {type(redis).__name__}"
            raise ConfigurationError(msg)
        self.max_calls = max_calls
        self.period = float(period)
        self.on_unavailable = on_unavailable
        self.lease = seconds("lease", lease)
        self.key_prefix = key_prefix
        self._redis_errors: tuple[type[BaseException], ...] = (module.RedisError, OSError)
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        # Within one process and loop, waiters of an account queue here, first come
        # first served, so that only the head of the queue polls Redis.
        self._queues: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()
        self._pauses: dict[str, deque[float]] = {}
        self._unavailable_since: float | None = None

    def __repr__(self) -> str:
        where = "<client>" if self._url is None else _redact(self._url)
        return f"RedisLimiter({where!r}, max_calls={self.max_calls}, period={self.period})"

    # -- connections -------------------------------------------------------------------

    def _client(self) -> Any:
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = _import_redis().asyncio.Redis.from_url(self._url)
            self._clients[loop] = client
        return client

    def _scripts(self, client: Any) -> tuple[Any, Any, Any]:
        # redis-py's Script objects fall back from EVALSHA to EVAL after a Redis restart
        # has flushed the script cache.
        scripts = getattr(client, "_moor7_scripts", None)
        if scripts is None:
            scripts = tuple(client.register_script(s) for s in (_ACQUIRE, _RELEASE, _PAUSE))
            client._moor7_scripts = scripts
        return scripts

    async def aclose(self) -> None:
        """Close the connections this limiter opened on the running event loop.

        A client passed in is left open: it belongs to the caller.
        """
        with contextlib.suppress(RuntimeError):
            client = self._clients.pop(asyncio.get_running_loop(), None)
            if client is not None:
                await client.aclose()

    # -- the protocol ------------------------------------------------------------------

    def _keys(self, account: str) -> tuple[str, str, str]:
        base = f"{self.key_prefix}{{{account}}}"
        return f"{base}:done", f"{base}:flight", f"{base}:pause"

    def _queue(self, account: str) -> asyncio.Lock:
        queues = self._queues.setdefault(asyncio.get_running_loop(), {})
        lock = queues.get(account)
        if lock is None:
            lock = queues[account] = asyncio.Lock()
        return lock

    @contextlib.asynccontextmanager
    async def acquire(self, account: str) -> AsyncIterator[None]:
        """Wait for a slot of *account*'s quota in Redis; hold it while the call runs."""
        member = f"{time.time():.6f}:{secrets.token_hex(8)}"
        started = time.monotonic()
        try:
            async with self._queue(account):
                await self._wait_in_redis(account, member)
        except self._redis_errors as exc:
            if self.on_unavailable == "raise":
                msg = f"the Redis limiter is unreachable: {type(exc).__name__}: {exc}"
                raise LimiterUnavailableError(msg) from exc
            self._note_unavailable(exc)
            fall_back = True
        else:
            fall_back = False
        if fall_back:
            async with self._fallback.acquire(account):
                yield
            return
        self._note_available()
        waited = time.monotonic() - started
        if waited > 0.001:
            log.debug("quota: waited %.3fs for a Redis slot of account %s", waited, account)
        try:
            yield
        finally:
            await self._release(account, member)

    async def _wait_in_redis(self, account: str, member: str) -> None:
        acquire, _, _ = self._scripts(self._client())
        keys = list(self._keys(account))
        args = [self.max_calls, _us(self.period), _us(self.lease), member]
        while True:
            granted, wait_us = await acquire(keys=keys, args=args)
            if int(granted):
                return
            # Never spin: Redis said when the earliest slot frees.
            await asyncio.sleep(max(int(wait_us), 100) / 1_000_000)

    async def _release(self, account: str, member: str) -> None:
        _, release, _ = self._scripts(self._client())
        done, flight, _ = self._keys(account)
        try:
            # Shielded: a caller cancelled right after its call must still report it
            # finished, or its slot stays held until the lease ends.
            await asyncio.shield(
                release(keys=[done, flight], args=[_us(self.period), _us(self.lease), member])
            )
        except self._redis_errors as exc:
            log.warning(
                "quota: could not release a Redis slot of account %s (%s); it is held "
                "until its lease ends in %.0fs",
                account,
                type(exc).__name__,
                self.lease,
            )

    async def pause(self, account: str, seconds: float | None = None) -> None:
        """Hold every process's next call of *account* for *seconds* (after an
        over-quota answer). ``None``: 1/``max_calls`` of the period, doubling with
        each further over-quota answer within a period."""
        seconds = next_pause(self._pauses, account, seconds, self.max_calls, self.period)
        _, _, pause = self._scripts(self._client())
        try:
            await pause(keys=[self._keys(account)[2]], args=[_us(seconds)])
        except self._redis_errors as exc:
            if self.on_unavailable == "raise":
                msg = f"the Redis limiter is unreachable: {type(exc).__name__}: {exc}"
                raise LimiterUnavailableError(msg) from exc
            await self._fallback.pause(account, seconds)

    # -- outages -------------------------------------------------------------------------

    def _note_unavailable(self, exc: BaseException) -> None:
        if self._unavailable_since is None:
            self._unavailable_since = time.monotonic()
            log.warning(
                "quota: Redis is unreachable (%s); limiting in this process only until it is back",
                type(exc).__name__,
            )

    def _note_available(self) -> None:
        if self._unavailable_since is not None:
            log.warning(
                "quota: Redis is back after %.1fs; limiting across processes again",
                time.monotonic() - self._unavailable_since,
            )
            self._unavailable_since = None


def _us(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1_000_000))


def _redact(url: str) -> str:
    # redis://user:password@host: the password stays out of reprs and logs.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url
