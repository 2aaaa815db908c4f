"""The account quota across processes and hosts, kept in Redis.

Same promise as :class:`~moor7.LocalLimiter`, for every process and host that shares the
Redis server: never more than ``max_calls`` of an account's calls in any rolling
``period``, a slot held from its grant until ``period`` after its call finished.

Why redis-py with a Lua script, not the ``limits`` library: ``limits``' moving window
counts a hit at the moment it is taken and forgets the call after that, so it cannot
hold a slot until the call *finishes* (the part that makes the promise independent of
network latency), and it reads the clock of each host, where we read Redis's. A script
of a few lines does both, atomically.

Per account, four keys share one hash tag (so they live on one Redis Cluster slot)::

    moor7:quota:{2000103}:done    ZSET  finished calls, scored by when their slot frees
    moor7:quota:{2000103}:flight  ZSET  calls in flight, scored by when their lease ends
    moor7:quota:{2000103}:pause   STRING  pause-until, after an over-quota answer
    moor7:quota:{2000103}:epoch   HASH  which server wrote the window, and its recovery

Times are microseconds of Redis's clock, so clock differences between hosts do not
matter. A call whose process dies mid-flight holds its slot until its lease ends.

Losing the window (a restart without persistence, a failover, a flush) would let a new
burst go on top of calls the gateway still counts. Every script therefore first checks
the ``epoch`` key against the server's ``run_id``: a missing or foreign epoch starts a
new one, and when the window may have been lost (the server started less than
``period + lease`` ago, the keys came from another server, or a process vouches that it
knew them) the new window *recovers*: the calls that may still count but are unknown are
at most ``max_calls`` minus those the processes re-seed, so it grants only the room that
re-seeded calls prove (as they expire), until ``period + lease`` has passed or every one
of the ``max_calls`` slots is accounted for. A new server looks like a restarted one,
unless its owner declares it in ``moor7:fresh-server`` (:data:`FRESH_SERVER_KEY`).
Each process keeps a log of its own recent grants for that, and to start its local
fallback from them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

from ._arguments import seconds
from ._limits import LocalLimiter, next_pause
from ._signing import redact_url
from .exceptions import ConfigurationError, LimiterUnavailableError, UsageError

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["RedisLimiter"]

log = logging.getLogger("moor7")

# Every script starts here. KEYS: done, flight, pause, epoch, fresh. ARGV: period_us, lease_us,
# vouch (an epoch this process saw, '' if none), max_calls, then the script's own.
# Times are microseconds of Redis's clock: exact in Lua's doubles (2^53 us is 285 years).
_PRELUDE = """
local done, flight, pause, epoch = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local period, lease, max_calls = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
-- Numbers reach Redis as text: whole, never in Lua's rounded '%.14g' form.
local function n(x) return string.format('%.0f', x) end
local keep = math.ceil((period + lease) / 1000) + 1000
redis.call('ZREMRANGEBYSCORE', done, '-inf', now)
redis.call('ZREMRANGEBYSCORE', flight, '-inf', now)
local info = redis.call('INFO', 'server')
local run_id = string.match(info, 'run_id:(%w+)')
local e = redis.call('HMGET', epoch, 'id', 'run', 'until', 'seeded')
local id, until_us, seeded = e[1], tonumber(e[3] or '0'), tonumber(e[4] or '0')
if not id or e[2] ~= run_id then
  -- A window this server did not write: was the old one lost with calls that count?
  local horizon = period + lease
  -- uptime_in_seconds counts whole seconds of the clock (now's minus the start's), so
  -- it may read 1 a millisecond after the start: the start may be a second later than
  -- it says, and a recovery must assume that.
  local reported = tonumber(string.match(info, 'uptime_in_seconds:(%d+)'))
  local uptime = math.max(0, reported - 1) * 1000000
  until_us = 0
  if id or ARGV[3] ~= '' then
    -- Keys from another server (failover, restart from disk), or a process knew them.
    until_us = now + horizon
  elseif uptime < horizon and redis.call('GET', KEYS[5]) ~= run_id then
    -- Started recently, and its owner did not declare this instance new: calls
    -- granted before the start may still count.
    until_us = now - uptime + horizon
  end
  -- What survived is known; what was lost is at most max_calls minus that.
  seeded = redis.call('ZCARD', done) + redis.call('ZCARD', flight)
  id = string.sub(run_id, 1, 12) .. '-' .. n(now)
  redis.call('HSET', epoch, 'id', id, 'run', run_id, 'until', n(until_us), 'seeded', seeded)
end
redis.call('PEXPIRE', epoch, keep)
local recovering = until_us > now and seeded < max_calls
"""

# ARGV[5]: member. Returns {1, 0, epoch, 0} when granted, {0, us to wait, epoch,
# us of recovery left} when not, {2, 0, epoch, 0} when this process must re-seed first.
_ACQUIRE = (
    _PRELUDE
    + """
local left = 0
if recovering then left = until_us - now end
if ARGV[3] ~= '' and ARGV[3] ~= id then
  return {2, 0, id, left}
end
local paused = tonumber(redis.call('GET', pause) or '0')
if paused > now then
  return {0, paused - now, id, left}
end
local live = redis.call('ZCARD', done) + redis.call('ZCARD', flight)
-- Recovering: only the room that re-seeded calls of the lost window have freed.
local limit = max_calls
if recovering then limit = seeded end
if live < limit then
  redis.call('ZADD', flight, n(now + lease), ARGV[5])
  redis.call('PEXPIRE', flight, math.ceil(lease / 1000) + 1000)
  return {1, 0, id, left}
end
-- Every slot in flight: none frees before a full period after the next finish.
local wait = period
local first = redis.call('ZRANGE', done, 0, 0, 'WITHSCORES')
if first[2] then wait = tonumber(first[2]) - now end
if recovering then
  local f = redis.call('ZRANGE', flight, 0, 0, 'WITHSCORES')
  if f[2] and tonumber(f[2]) - now < wait then wait = tonumber(f[2]) - now end
  if left < wait then wait = left end
end
return {0, wait, id, left}
"""
)

# ARGV[5]: member; ARGV[3]: the epoch it was granted in.
_RELEASE = (
    _PRELUDE
    + """
local known = redis.call('ZREM', flight, ARGV[5]) == 1 or redis.call('ZSCORE', done, ARGV[5])
redis.call('ZADD', done, n(now + period), ARGV[5])
redis.call('PEXPIRE', done, keep)
if not known and until_us > now and ARGV[3] ~= id then
  -- A call of the lost window, now known: it counts towards the proven room.
  redis.call('HINCRBY', epoch, 'seeded', 1)
end
return 1
"""
)

# ARGV[5]: the epoch to seed; then per grant: member, 'd'one or 'f'light, us its slot
# still holds, '1' if it was in the lost window (granted by Redis in another epoch).
# Returns {1, epoch} when seeded, {0, epoch} when the epoch changed meanwhile.
_SEED = (
    _PRELUDE
    + """
if ARGV[5] ~= id then
  return {0, id}
end
local added = 0
for i = 6, #ARGV, 4 do
  local m = ARGV[i]
  if not redis.call('ZSCORE', done, m) and not redis.call('ZSCORE', flight, m) then
    local key = flight
    if ARGV[i + 1] == 'd' then key = done end
    redis.call('ZADD', key, n(now + tonumber(ARGV[i + 2])), m)
    if ARGV[i + 3] == '1' then added = added + 1 end
  end
end
redis.call('PEXPIRE', done, keep)
redis.call('PEXPIRE', flight, keep)
if added > 0 and until_us > now then
  redis.call('HINCRBY', epoch, 'seeded', added)
end
return {1, id}
"""
)

# KEYS: pause. ARGV: pause_us. Extends a pause, never shortens one.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_us = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_us > current then
  local px = math.ceil(tonumber(ARGV[1]) / 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', until_us), 'PX', px)
end
return 1
"""

_SCRIPTS = (_ACQUIRE, _RELEASE, _SEED, _PAUSE)

#: Holds the ``run_id`` of a server instance its owner started empty, for moor7 (as
#: :func:`moor7.testing.redis_server` does): no call granted before it can still count,
#: so a window missing there needs no recovery. A restart changes the ``run_id``.
FRESH_SERVER_KEY = "moor7:fresh-server"

# The synced epoch of an account whose process granted calls without Redis.
_LOCAL = "local"


def _import_redis() -> Any:
    try:
        import redis.asyncio
    except ImportError as exc:  # pragma: no cover - exercised by hand without the extra
        msg = "RedisLimiter needs redis-py: pip install 'moor7[redis]'"
        raise ImportError(msg) from exc
    return redis


class _Unavailable(Exception):
    """Redis did not answer in time or at all; carries the cause for the user's error."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(cause)
        self.cause = cause

    def __str__(self) -> str:
        cause = self.cause
        if isinstance(cause, (asyncio.TimeoutError, TimeoutError)):
            return "TimeoutError: no answer within the limiter's timeouts"
        return f"{type(cause).__name__}: {cause}"


class _Grant:
    """One call this process was granted, for re-seeding a lost window."""

    __slots__ = ("epoch", "finished", "granted", "member")

    def __init__(self, member: str, epoch: str | None) -> None:
        self.member = member
        # The epoch Redis granted it in; None: granted by the local fallback.
        self.epoch = epoch
        self.granted = time.monotonic()
        self.finished: float | None = None


class _Account:
    __slots__ = ("grants", "synced")

    def __init__(self) -> None:
        self.grants: deque[_Grant] = deque()
        # The epoch of the shared window that holds every live grant of this process.
        self.synced = ""


class _Queue:
    """The waiters of one account on one event loop; dropped when none is left."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class _LoopState:
    """What the limiter keeps for one event loop: its Redis client and its queues."""

    def __init__(self, limiter: RedisLimiter, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.owned = limiter._given is None
        self.client: Any = limiter._given if limiter._given is not None else limiter._new_client()
        self.scripts = tuple(self.client.register_script(s) for s in _SCRIPTS)
        self.queues: dict[str, _Queue] = {}
        # Bumped by each failure, so that waiters queued behind it fail at once instead
        # of each waiting out the timeouts in turn.
        self.outages = 0
        self.last_error: _Unavailable | None = None
        self.closed = False
        # asyncio.run() and asyncio.Runner finish the loop's async generators before
        # closing it: this one closes the connections while the loop still runs.
        self.closer = _close_at_loop_shutdown(limiter, self)
        with contextlib.suppress(StopIteration):
            self.closer.asend(None).send(None)

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.owned:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.aclose(), 1.0)

    def drop_without_its_loop(self) -> None:
        """Close the connections of a loop that is closed or not running: no coroutine
        can run on it now."""
        self.closed = True
        # Finish the closer here, where it finds this state closed and does nothing,
        # so that it is not finalized later on a loop that may never run it.
        with contextlib.suppress(StopIteration, RuntimeError):
            self.closer.aclose().send(None)
        if self.owned:
            _close_sockets_of_stopped_loop(self.client, self.loop)


async def _close_at_loop_shutdown(
    limiter: RedisLimiter, state: _LoopState
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if not state.loop.is_closed():
            limiter._forget_loop(state)
            await state.aclose()


def _close_sockets_of_stopped_loop(client: Any, loop: asyncio.AbstractEventLoop) -> None:
    # A transport closes itself through its loop, which is not running: abort() has it
    # close its socket when the loop runs again. A closed loop never will, so the socket
    # is closed here, and the transport and redis-py's connection marked closed, so that
    # neither warns about it when collected. Best effort across redis-py versions.
    pool = getattr(client, "connection_pool", None)
    connections = [
        *getattr(pool, "_available_connections", ()),
        *getattr(pool, "_in_use_connections", ()),
    ]
    for connection in connections:
        writer = getattr(connection, "_writer", None)
        if writer is None:
            continue
        connection._reader = connection._writer = None
        transport = writer.transport
        with contextlib.suppress(RuntimeError):
            transport.abort()  # stops it; its close cannot be scheduled on a closed loop
        sock = getattr(transport, "_sock", None)
        if sock is not None and loop.is_closed():
            sock.close()
            transport._sock = None


class RedisLimiter:
    """At most ``max_calls`` calls per account in any rolling ``period``, across every
    process and host that shares one Redis server.

    Install with ``pip install 'moor7[redis]'``. Pass the same limiter to every client of
    the process; give every process the same Redis, ``max_calls``, ``period`` and
    ``lease``.

    Example:
        ::

            limiter = moor7.RedisLimiter("redis://quota-redis:6379/0")
            async with moor7.AsyncClient(limiter=limiter) as client:
                ...
            await limiter.aclose()

    Args:
        redis: A Redis URL, or a ``redis.asyncio.Redis`` client. A URL lets the limiter
            open one connection pool per event loop (the sync ``Client``'s and yours),
            closed with its loop; a client is bound to the event loop it was made on.
        max_calls: Calls allowed per ``period`` (7moor: 20 per minute).
        period: The window, in seconds.
        on_unavailable: When Redis cannot be reached or does not answer within the
            timeouts: ``"raise"`` :class:`~moor7.LimiterUnavailableError` (the call is
            not sent), or ``"local"`` to fall back to a :class:`LocalLimiter` with the
            same quota, which starts from this process's recent grants (then each
            process counts only itself until Redis is back: choose it only if a few
            over-quota answers are better than failed calls). Never unlimited.
        lease: Seconds a call in flight may hold its slot if its process dies before
            reporting that it finished. Longer than any call's timeout plus retries.
            After the shared window is lost, it recovers for ``period + lease``.
        key_prefix: Prefix of the Redis keys.
        socket_connect_timeout: Seconds to open a connection to Redis.
        socket_timeout: Seconds to wait for Redis's answer. Each step of the limiter
            (take, release, pause) waits at most ``socket_connect_timeout +
            socket_timeout`` for Redis, a given client too, before ``on_unavailable``
            applies; a release that fails is retried once on a fresh connection.
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
        socket_connect_timeout: float = 2.0,
        socket_timeout: float = 2.0,
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
                msg = f"not a Redis URL (redis://, rediss:// or unix://): {redact_url(redis)!r}"
                raise ConfigurationError(msg) from exc
            self._url: str | None = redis
            self._given: Any = None
        elif isinstance(redis, module.Redis):
            self._url = None
            self._given = redis
        else:
            msg = f"redis must be a URL or a redis.asyncio.Redis, got {type(redis).__name__}"
            raise ConfigurationError(msg)
        self.max_calls: int = max_calls
        self.period: float = float(period)
        self.on_unavailable = on_unavailable
        self.lease: float = seconds("lease", lease)
        self.key_prefix = key_prefix
        self.socket_connect_timeout: float = seconds(
            "socket_connect_timeout", socket_connect_timeout
        )
        self.socket_timeout: float = seconds("socket_timeout", socket_timeout)
        self._redis_errors: tuple[type[BaseException], ...] = (
            module.RedisError,
            OSError,
            asyncio.TimeoutError,
        )
        self._broken: tuple[type[BaseException], ...] = (module.ConnectionError, ConnectionError)
        self._loops: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        # This process's grants per account, for every event loop and thread.
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}
        self._grants_since_sweep = 0
        self._pauses: dict[str, deque[float]] = {}
        self._unavailable_since: float | None = None

    def __repr__(self) -> str:
        # getattr: a half-built limiter (its __init__ raised) must still show itself.
        url = getattr(self, "_url", None)
        where = "<client>" if url is None else redact_url(url)
        return (
            f"RedisLimiter({where!r}, max_calls={getattr(self, 'max_calls', None)}, "
            f"period={getattr(self, 'period', None)})"
        )

    # -- connections -------------------------------------------------------------------

    def _new_client(self) -> Any:
        module = _import_redis()
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        return module.asyncio.Redis.from_url(
            self._url,
            socket_connect_timeout=self.socket_connect_timeout,
            socket_timeout=self.socket_timeout,
            # One attempt per step: the limiter bounds the wait and retries itself.
            retry=Retry(NoBackoff(), 0),
        )

    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            # A loop closed without asyncio.run() (loop.close() by hand) is noticed here.
            for dead in [s for s in self._loops.values() if s.loop.is_closed()]:
                self._forget_loop(dead)
                dead.drop_without_its_loop()
            state = self._loops[loop] = _LoopState(self, loop)
        return state

    def _forget_loop(self, state: _LoopState) -> None:
        if self._loops.get(state.loop) is state:
            del self._loops[state.loop]

    async def aclose(self) -> None:
        """Close every connection this limiter opened, on every event loop.

        Those of the running loop are closed here; those of other running loops (the
        sync ``Client``'s) on their own loops; those of closed loops at once. The limiter
        stays usable: a later call opens new connections. A client passed in is left
        open: it belongs to the caller.
        """
        futures = self._close_other_loops()
        state = self._loops.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.aclose()
            with contextlib.suppress(StopIteration, RuntimeError):
                await state.closer.aclose()
        for future in futures:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.wrap_future(future), 2.0)

    def close(self) -> None:
        """Close every connection this limiter opened, from synchronous code.

        The same as :meth:`aclose`, for code without an event loop (a worker that runs
        ``asyncio.run()`` per job, a program that uses the sync ``Client``).

        Raises:
            UsageError: Called from an event loop that has connections of this limiter:
                use ``await limiter.aclose()`` there.
        """
        running = _running_loop_or_none()
        if running is not None and running in self._loops:
            msg = "RedisLimiter.close() from a running event loop: use await limiter.aclose()"
            raise UsageError(msg)
        for future in self._close_other_loops():
            with contextlib.suppress(Exception):
                future.result(timeout=2.0)

    def _close_other_loops(self) -> list[concurrent.futures.Future[None]]:
        running = _running_loop_or_none()
        futures = []
        for state in list(self._loops.values()):
            if state.loop is running:
                continue
            self._forget_loop(state)
            if state.loop.is_running():
                with contextlib.suppress(RuntimeError):  # closed meanwhile
                    futures.append(asyncio.run_coroutine_threadsafe(state.aclose(), state.loop))
                    continue
            state.drop_without_its_loop()
        return futures

    # -- the protocol ------------------------------------------------------------------

    def _keys(self, account: str) -> list[str]:
        base = f"{self.key_prefix}{{{account}}}"
        keys = [f"{base}:done", f"{base}:flight", f"{base}:pause", f"{base}:epoch"]
        return [*keys, FRESH_SERVER_KEY]

    def _args(self, vouch: str, *more: str | int) -> list[str | int]:
        return [_us(self.period), _us(self.lease), vouch, self.max_calls, *more]

    async def _run(self, state: _LoopState, script: Any, keys: list[str], args: list[Any]) -> Any:
        # redis-py's own timeouts do not bound every wait in every version (5.0 had no
        # default and could block forever on a frozen server), and a given client has
        # its own: so every call is bounded here too.
        bound = self.socket_connect_timeout + self.socket_timeout
        try:
            try:
                return await asyncio.wait_for(script(keys, args, state.client), bound)
            except self._broken as exc:
                # A pooled connection that died (a Redis restart, an idle timeout):
                # redis-py dropped it, so this opens a fresh one. Not after a timeout,
                # which would only double the wait on a stalled server.
                log.debug("quota: Redis connection broken (%s); trying a fresh one", exc)
                return await asyncio.wait_for(script(keys, args, state.client), bound)
        except self._redis_errors as exc:
            raise _Unavailable(exc) from exc

    @contextlib.asynccontextmanager
    async def acquire(self, account: str) -> AsyncIterator[None]:
        """Wait for a slot of *account*'s quota in Redis; hold it while the call runs."""
        member = f"{time.time():.6f}:{secrets.token_hex(8)}"
        started = time.monotonic()
        state = self._loop_state()
        try:
            epoch = await self._wait_in_redis(state, account, member)
        except _Unavailable as exc:
            if self.on_unavailable == "raise":
                msg = f"the Redis limiter is unreachable: {exc}"
                raise LimiterUnavailableError(msg) from exc.cause
            self._note_unavailable(exc)
            async with self._fallback.acquire(account):
                grant = self._log_grant(account, member, None)
                try:
                    yield
                finally:
                    grant.finished = time.monotonic()
            return
        self._note_available()
        waited = time.monotonic() - started
        if waited > 0.001:
            log.debug("quota: waited %.3fs for a Redis slot of account %s", waited, account)
        grant = self._log_grant(account, member, epoch)
        try:
            # The fallback counts every grant too, so that it starts from them.
            with self._fallback._count_granted_elsewhere(account):
                yield
        finally:
            grant.finished = time.monotonic()
            await self._release(state, account, member, epoch)

    async def _wait_in_redis(self, state: _LoopState, account: str, member: str) -> str:
        acquire = state.scripts[0]
        keys = self._keys(account)
        queue = state.queues.get(account)
        if queue is None:
            queue = state.queues[account] = _Queue()
        queue.users += 1
        outages = state.outages
        try:
            # Waiters of one account on one loop queue here, first come first served, so
            # that only the head of the queue polls Redis.
            async with queue.lock:
                if state.outages != outages and state.last_error is not None:
                    # Redis failed while this one queued: fail with it, at once.
                    raise _Unavailable(state.last_error.cause)
                while True:
                    vouch = self._synced(account)
                    try:
                        granted, wait_us, epoch, _ = await self._run(
                            state, acquire, keys, self._args(vouch, member)
                        )
                    except _Unavailable as exc:
                        state.outages += 1
                        state.last_error = exc
                        raise
                    epoch = epoch.decode() if isinstance(epoch, bytes) else str(epoch)
                    if int(granted) == 1:
                        return epoch
                    if int(granted) == 2:
                        await self._seed(state, account, epoch, vouch)
                        continue
                    # Never spin: Redis said when the earliest slot frees.
                    await asyncio.sleep(max(int(wait_us), 100) / 1_000_000)
        finally:
            queue.users -= 1
            if queue.users == 0 and state.queues.get(account) is queue:
                del state.queues[account]

    async def _seed(self, state: _LoopState, account: str, epoch: str, known: str) -> None:
        """Put this process's live grants into a window that lost them."""
        now = time.monotonic()
        args: list[str | int] = []
        with self._lock:
            live = self._live_grants(account, now)
        for grant in live:
            if grant.finished is None:
                kind, left = "f", grant.granted + self.lease - now
            else:
                kind, left = "d", grant.finished + self.period - now
            in_lost_window = grant.epoch is not None and grant.epoch != epoch
            args += [grant.member, kind, _us(left), "1" if in_lost_window else "0"]
        if known != _LOCAL:
            log.warning(
                "quota: the shared window of account %s was lost (Redis restarted, failed "
                "over or was flushed); re-seeding this process's %d recent calls",
                account,
                len(live),
            )
        try:
            seeded, _ = await self._run(
                state, state.scripts[2], self._keys(account), self._args(epoch, epoch, *args)
            )
        except _Unavailable as exc:
            state.outages += 1
            state.last_error = exc
            raise
        if int(seeded) == 1:
            with self._lock:
                self._account(account).synced = epoch

    async def _release(self, state: _LoopState, account: str, member: str, epoch: str) -> None:
        release = state.scripts[1]
        keys = self._keys(account)
        args = self._args(epoch, member)
        # Shielded: a caller cancelled right after its call must still report it
        # finished, or its slot stays held until the lease ends.
        try:
            await asyncio.shield(self._release_once_more(state, release, keys, args))
        except _Unavailable as exc:
            log.warning(
                "quota: could not release a Redis slot of account %s (%s); it is held "
                "until its lease ends in %.0fs",
                account,
                exc,
                self.lease,
            )

    async def _release_once_more(
        self, state: _LoopState, release: Any, keys: list[str], args: list[Any]
    ) -> None:
        try:
            await self._run(state, release, keys, args)
        except _Unavailable:
            # The connection may be the broken one: drop the idle ones (it is back among
            # them), so that the retry opens a fresh connection.
            if state.owned:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        state.client.connection_pool.disconnect(inuse_connections=False),
                        self.socket_connect_timeout,
                    )
            await self._run(state, release, keys, args)

    async def pause(self, account: str, seconds: float | None = None) -> None:
        """Hold every process's next call of *account* for *seconds* (after an
        over-quota answer). ``None``: 1/``max_calls`` of the period, doubling with
        each further over-quota answer within a period."""
        seconds = next_pause(self._pauses, account, seconds, self.max_calls, self.period)
        state = self._loop_state()
        try:
            await self._run(state, state.scripts[3], [self._keys(account)[2]], [_us(seconds)])
        except _Unavailable as exc:
            if self.on_unavailable == "raise":
                msg = f"the Redis limiter is unreachable: {exc}"
                raise LimiterUnavailableError(msg) from exc.cause
            await self._fallback.pause(account, seconds)

    # -- this process's grants ---------------------------------------------------------

    def _account(self, account: str) -> _Account:
        entry = self._accounts.get(account)
        if entry is None:
            entry = self._accounts[account] = _Account()
        return entry

    def _alive(self, grant: _Grant, now: float) -> bool:
        if grant.finished is None:
            return grant.granted + self.lease > now
        return grant.finished + self.period > now

    def _live_grants(self, account: str, now: float) -> list[_Grant]:
        entry = self._accounts.get(account)
        if entry is None:
            return []
        live = [g for g in entry.grants if self._alive(g, now)]
        entry.grants = deque(live)
        return live

    def _synced(self, account: str) -> str:
        # '' when this process holds nothing in the window: nothing to re-seed.
        with self._lock:
            if not self._live_grants(account, time.monotonic()):
                self._accounts.pop(account, None)
                return ""
            return self._accounts[account].synced

    def _log_grant(self, account: str, member: str, epoch: str | None) -> _Grant:
        grant = _Grant(member, epoch)
        with self._lock:
            entry = self._account(account)
            entry.grants.append(grant)
            if epoch is None:
                entry.synced = _LOCAL  # Redis does not know it: re-seed when it is back
            elif not entry.synced or entry.synced == epoch or len(entry.grants) == 1:
                entry.synced = epoch
            self._grants_since_sweep += 1
            if self._grants_since_sweep >= 1024:
                self._sweep_locked()
        return grant

    def _sweep_locked(self) -> None:
        # Forget accounts with no live grant, so that a service cycling through many
        # tenants does not keep a log per tenant forever.
        self._grants_since_sweep = 0
        now = time.monotonic()
        for account in list(self._accounts):
            if not self._live_grants(account, now):
                del self._accounts[account]
        stale = now - self.period
        for account in [a for a, times in self._pauses.items() if not times or times[-1] < stale]:
            del self._pauses[account]

    # -- outages -------------------------------------------------------------------------

    def _note_unavailable(self, exc: _Unavailable) -> None:
        if self._unavailable_since is None:
            self._unavailable_since = time.monotonic()
            log.warning(
                "quota: Redis is unreachable (%s); limiting in this process only until it is "
                "back, starting from this process's recent calls",
                type(exc.cause).__name__,
            )

    def _note_available(self) -> None:
        if self._unavailable_since is not None:
            log.warning(
                "quota: Redis is back after %.1fs; limiting across processes again",
                time.monotonic() - self._unavailable_since,
            )
            self._unavailable_since = None


def _running_loop_or_none() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _us(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1_000_000))
