"""The account quota across processes and hosts, kept in Redis.

Same promise as :class:`~moor7.LocalLimiter`, for every process and host that shares the
Redis server (or cluster): never more than ``max_calls`` of an account's calls in any
rolling ``period``, a slot held from its grant until ``period`` after its call finished.

Why redis-py with Lua scripts, not the ``limits`` library: ``limits``' moving window
counts a hit at the moment it is taken and forgets the call after that, so it cannot
hold a slot until the call *finishes* (the part that makes the promise independent of
network latency), and it reads the clock of each host, where we read Redis's. A few
scripts do both, atomically: ``_redis_scripts.py`` holds them and the window's rules
(leases, orphans, epochs, recovery). ``_redis_connections.py`` holds the connections.

What this module adds: the queue of each account per event loop (only its head polls
Redis, which says exactly when the next slot frees), this process's log of its recent
grants (to re-seed a lost window, and to start the local fallback from), and what a
failure means for a call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import math
import secrets
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from . import _redis_scripts as lua
from ._arguments import seconds
from ._limits import (
    NOTICE_WAIT,
    WAIT_REASONS,
    LocalLimiter,
    Priority,
    QuotaUsage,
    log_wait,
    next_pause,
    too_late,
)
from ._redis_connections import (
    ALL_LIMITERS,
    LoopState,
    RedisTarget,
    import_redis,
    running_loop_or_none,
)
from .exceptions import ConfigurationError, LimiterUnavailableError, UsageError

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["RedisLimiter"]

T = TypeVar("T")

log = logging.getLogger("moor7")

#: The most a call with no timeout (``timeout=None``) is assumed to hold its slot, when
#: no ``lease`` is given: past it, a call whose process died frees its slot.
UNBOUNDED_LEASE: Final = 300.0
# Added to an attempt's timeout: the time to sign it and for its bytes to leave, after
# Redis granted the slot.
_LEASE_MARGIN: Final = 0.5

# The synced epoch of an account whose process granted calls without Redis.
_LOCAL = "local"

_PRIORITY_CODES: Final = {Priority.INTERACTIVE: "i", Priority.BATCH: "b"}

# How Redis words the refusals that are not classes of their own in redis-py.
_REFUSED_ANSWERS: Final = ("WRONGTYPE", "moor7:", "ERR Error running script", "ERR unknown command")


class _Unavailable(Exception):
    """A step could not be done in Redis. Holds words only, never redis-py's exception
    (whose frames hold the connection's password)."""

    def __init__(self, description: str, *, refused: bool) -> None:
        super().__init__(description)
        self.description = description
        # Redis answered, and said no: retrying or falling back will not fix it.
        self.refused = refused

    def again(self) -> _Unavailable:
        return _Unavailable(self.description, refused=self.refused)


class _Grant:
    """One call this process was granted, for re-seeding a lost window."""

    __slots__ = ("epoch", "finished", "granted", "lease", "member")

    def __init__(self, member: str, epoch: str | None, lease: float) -> None:
        self.member = member
        # The epoch Redis granted it in; None: granted by the local fallback.
        self.epoch = epoch
        self.lease = lease
        self.granted = time.monotonic()
        self.finished: float | None = None


class _Account:
    __slots__ = ("grants", "synced")

    def __init__(self) -> None:
        self.grants: deque[_Grant] = deque()
        # The epoch of the shared window that holds every live grant of this process.
        self.synced = ""


class RedisLimiter:
    """At most ``max_calls`` calls per account in any rolling ``period``, across every
    process and host that shares one Redis server or cluster.

    Install with ``pip install '.[redis]'`` (from a clone of moor7). Pass the same
    limiter to every client of the process; give every process the same Redis,
    ``max_calls``, ``period`` and ``after_restart``.

    Example:
        ::

            limiter = moor7.RedisLimiter("redis://quota-redis:6379/0")
            async with moor7.AsyncClient(limiter=limiter) as client:
                ...
            await limiter.aclose()

    Args:
        redis: A Redis URL (``redis://``, ``rediss://`` for TLS, ``unix://``, or
            ``redis+cluster://host:7000,host:7001`` for a Redis Cluster), or a
            ``redis.asyncio.Redis`` or ``redis.asyncio.RedisCluster`` client (Sentinel's
            ``master_for()`` gives one). A URL lets the limiter open one client per
            event loop (the sync ``Client``'s and yours), closed with its loop; a client
            is bound to the event loop it is used on.
        max_calls: Calls allowed per ``period`` (7moor: 20 per minute).
        period: The window, in seconds.
        reserve: Slots of every window that batch calls never take, in any process, so
            that an interactive call never waits behind a batch job (see
            :class:`LocalLimiter`; give every process the same).
        on_unavailable: When Redis cannot be reached or does not answer within the
            timeouts: ``"raise"`` :class:`~moor7.LimiterUnavailableError` (the call is
            not sent), or ``"local"`` to fall back to a :class:`LocalLimiter` with the
            same quota, which starts from this process's recent grants (then each
            process counts only itself until Redis is back: choose it only if a few
            over-quota answers are better than failed calls). Never unlimited. A Redis
            that *refuses* the limiter (a wrong password, an ACL without a command it
            needs) raises :class:`~moor7.ConfigurationError` either way.
        after_restart: When an account's window is missing and no running process knew
            it, which is what a new server looks like, and a restart or flush that every
            process of the account went down with too: ``"serve"`` (the default) starts
            a new window at once, so a new server serves its first call at once; if the
            gateway still counts calls of before, it answers at most one burst over
            quota, which moor7 meets with a pause and safe retries; a window lost while
            running processes held calls of it stands, after the grace, as they
            re-seeded it. ``"wait"``: a server that started less than ``period`` plus
            one attempt's bound ago grants nothing until then, and a lost window grants
            only the room the re-seeded calls prove until as long after the loss
            (needs the ``INFO`` command; see docs/quota.md).
        lease: Seconds a call in flight holds its slot at most, if its process dies
            before saying that it finished. Default: learned per call, from the
            client's timeout (plus half a second), or 300 s for a call without one.
        key_prefix: Prefix of the Redis keys.
        socket_connect_timeout: Seconds to open a connection to Redis.
        socket_timeout: Seconds to wait for Redis's answer. Each step of the limiter
            (take, release, pause) waits at most ``socket_connect_timeout +
            socket_timeout`` for Redis, a given client too, before ``on_unavailable``
            applies; a release that fails is retried once on a fresh connection.

    Raises:
        ConfigurationError: A setting or the Redis target is not usable.
    """

    def __init__(
        self,
        redis: str | redis.asyncio.Redis | redis.asyncio.RedisCluster,
        *,
        max_calls: int = 20,
        period: float = 60.0,
        reserve: int = 0,
        on_unavailable: Literal["raise", "local"] = "raise",
        after_restart: Literal["serve", "wait"] = "serve",
        lease: float | None = None,
        key_prefix: str = "moor7:quota:",
        socket_connect_timeout: float = 2.0,
        socket_timeout: float = 2.0,
    ) -> None:
        # Wrapped before anything can raise, and the plain URL (password and all) dropped:
        # a crash reporter records the frame's locals.
        self._target = RedisTarget(redis)
        del redis
        module = import_redis()
        # LocalLimiter validates max_calls and period, and is the fallback.
        self._fallback = LocalLimiter(max_calls, period, reserve=reserve)
        if on_unavailable not in ("raise", "local"):
            msg = f"on_unavailable must be 'raise' or 'local', got {on_unavailable!r}"
            raise ConfigurationError(msg)
        if after_restart not in ("serve", "wait"):
            msg = f"after_restart must be 'serve' or 'wait', got {after_restart!r}"
            raise ConfigurationError(msg)
        if not isinstance(key_prefix, str):
            msg = f"key_prefix must be a string, got {type(key_prefix).__name__}"
            raise ConfigurationError(msg)
        self.max_calls: int = max_calls
        self.period: float = float(period)
        self.reserve: int = reserve
        self.on_unavailable = on_unavailable
        self.after_restart = after_restart
        self.lease: float | None = None if lease is None else seconds("lease", lease)
        self.key_prefix = key_prefix
        self.socket_connect_timeout: float = seconds(
            "socket_connect_timeout", socket_connect_timeout
        )
        self.socket_timeout: float = seconds("socket_timeout", socket_timeout)
        self._target.check(module)
        exceptions = module.exceptions
        self._redis_errors: tuple[type[BaseException], ...] = (
            module.RedisError,
            # Not a RedisError: "no reachable node", "cluster mode is not enabled".
            exceptions.RedisClusterException,
            OSError,
            asyncio.TimeoutError,
        )
        self._broken: tuple[type[BaseException], ...] = (module.ConnectionError, ConnectionError)
        # Redis answered no, and will again: a wrong password, an ACL, a script that
        # cannot run, keys in two cluster slots. (AuthenticationError is a
        # ConnectionError to redis-py.) Anything else may pass: an outage.
        self._refusals: tuple[type[BaseException], ...] = (
            exceptions.AuthenticationError,
            exceptions.AuthorizationError,
            exceptions.NoPermissionError,
            exceptions.ClusterCrossSlotError,
            exceptions.DataError,
        )
        self._response_error: type[BaseException] = exceptions.ResponseError
        self._scripts = (
            ("acquire", lua.ACQUIRE),
            ("release", lua.RELEASE),
            ("seed", lua.SEED),
            ("pause", lua.PAUSE),
            ("usage", lua.USAGE),
            ("withdraw", lua.WITHDRAW),
            ("cancel", lua.CANCEL),
        )
        self._poll = lua.grace(self.period) / 2
        # Names this process in the epochs it starts and the queues it registers.
        self._token = secrets.token_hex(6)
        self._queue_ids = itertools.count()
        self._loops: dict[asyncio.AbstractEventLoop, LoopState] = {}
        # This process's grants per account, for every event loop and thread.
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}
        self._grants_since_sweep = 0
        self._pauses: dict[str, deque[float]] = {}
        # Per account: the unusual wait last logged, and until when it lasts.
        self._warned: dict[str, tuple[str, float]] = {}
        self._unavailable_since: float | None = None
        ALL_LIMITERS.add(self)

    def __repr__(self) -> str:
        # getattr: a half-built limiter (its __init__ raised) must still show itself.
        return (
            f"RedisLimiter({getattr(self, '_target', None)!r}, "
            f"max_calls={getattr(self, 'max_calls', None)}, "
            f"period={getattr(self, 'period', None)})"
        )

    # -- connections -------------------------------------------------------------------

    def _new_client(self) -> Any:
        module = import_redis()
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        settings: dict[str, Any] = {
            "socket_connect_timeout": self.socket_connect_timeout,
            "socket_timeout": self.socket_timeout,
        }
        if not self._target.cluster:
            # One attempt per step: the limiter bounds the wait and retries itself. (A
            # cluster client follows MOVED and ASK answers with retries of its own.)
            settings["retry"] = Retry(NoBackoff(), 0)
        return self._target.new_client(module, **settings)

    def _loop_state(self) -> LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            # A loop closed without asyncio.run() (loop.close() by hand) is noticed here.
            for dead in [s for s in self._loops.values() if s.loop.is_closed()]:
                self._forget_loop(dead)
                dead.drop_without_its_loop()
            made: LoopState | None = None
            problem = ""
            try:
                made = LoopState(self, loop)
            except Exception as exc:  # redis-py refusing a setting of the URL, say
                problem = f"{type(exc).__name__}: {self._target.scrub(str(exc))}"
            if made is None:
                # Raised outside the except clause: redis-py's frames hold the URL.
                msg = f"cannot make a Redis client of {self._target!r}: {problem}"
                raise ConfigurationError(msg)
            state = self._loops[loop] = made
        return state

    def _forget_loop(self, state: LoopState) -> None:
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
        ``asyncio.run()`` per job, a program that uses the sync ``Client``). In a child
        process after ``fork()``, the parent's connections were already let go of,
        untouched: this closes only the child's own.

        Raises:
            UsageError: Called from an event loop that has connections of this limiter:
                use ``await limiter.aclose()`` there.
        """
        running = running_loop_or_none()
        if running is not None and running in self._loops:
            msg = "RedisLimiter.close() from a running event loop: use await limiter.aclose()"
            raise UsageError(msg)
        for future in self._close_other_loops():
            with contextlib.suppress(Exception):
                future.result(timeout=2.0)

    def _close_other_loops(self) -> list[concurrent.futures.Future[None]]:
        running = running_loop_or_none()
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

    def _after_fork_in_child(self) -> None:
        # The parent's lock may have been held by a thread that does not exist here, and
        # its loops do not run here: their connections are the parent's.
        self._lock = threading.Lock()
        for state in self._loops.values():
            state.forget_after_fork()
        self._loops.clear()

    # -- the steps in Redis ------------------------------------------------------------

    def _keys(self, account: str) -> list[str]:
        base = f"{self.key_prefix}{{{account}}}"
        return [f"{base}:{suffix}" for suffix in lua.KEY_SUFFIXES]

    def _args(self, vouch: str, lease: float, mode: str, *more: str | int) -> list[str | int]:
        strict = "1" if self.after_restart == "wait" else "0"
        return [
            *(_us(self.period), _us(lease), vouch, self.max_calls, strict, self._token, mode),
            *more,
        ]

    def _lease_for(self, timeout: float | None) -> float:
        """How long a call may hold its slot in flight: its attempt's bound."""
        if self.lease is not None:
            return self.lease
        if timeout is None:
            return UNBOUNDED_LEASE
        return timeout + _LEASE_MARGIN

    def _longest_lease(self, account: str) -> float:
        """The longest lease of this process's live grants of *account* (or the
        default), for the steps that take no call of their own."""
        with self._lock:
            entry = self._accounts.get(account)
            leases = [g.lease for g in entry.grants] if entry is not None else []
        return max(leases, default=self._lease_for(None))

    def _refused(self, exc: BaseException) -> bool:
        """Whether Redis said no in a way that no wait fixes (else: an outage)."""
        text = str(exc)
        return (
            isinstance(exc, self._refusals)
            # A key of another type under key_prefix; a command renamed away; this
            # limiter's script failing, or denied a command by the ACL (both are
            # reported "... @user_script:<line>").
            or (
                isinstance(exc, self._response_error)
                and (text.startswith(_REFUSED_ANSWERS) or "user_script" in text)
            )
            # A redis+cluster:// URL for a single server (or an ACL without CLUSTER SLOTS,
            # which redis-py reports the same way).
            or "Cluster mode is not enabled" in text
            # A certificate nobody trusts, TLS against a plain port.
            or _tls_failure(exc)
        )

    def _failure(self, exc: BaseException) -> _Unavailable:
        refused = self._refused(exc)
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) and not str(exc):
            what = "TimeoutError: no answer within the limiter's timeouts"
        else:
            what = f"{type(exc).__name__}: {self._target.scrub(str(exc))}"
        return _Unavailable(what, refused=refused)

    async def _run(self, state: LoopState, script: str, keys: list[str], args: list[Any]) -> Any:
        # redis-py's own timeouts do not bound every wait in every version (5.0 had no
        # default and could block forever on a frozen server), and a given client has
        # its own: so every step is bounded here too.
        bound = self.socket_connect_timeout + self.socket_timeout
        run = state.scripts[script]
        failure: _Unavailable | None = None
        for attempt in (1, 2):
            try:
                return await asyncio.wait_for(run(keys, args, state.client), bound)
            except self._redis_errors as exc:
                failure = self._failure(exc)
                if attempt == 1 and isinstance(exc, self._broken) and not failure.refused:
                    # A pooled connection that died (a Redis restart, an idle timeout):
                    # redis-py dropped it, so a second try opens a fresh one. Not after
                    # a timeout, which would only double the wait on a stalled server.
                    log.debug("quota: Redis connection broken (%s); trying a fresh one", failure)
                    continue
            break
        # Raised here, outside the except clause: no __context__ leads to redis-py's
        # frames, where the connection's password sits.
        assert failure is not None
        raise failure

    def _raise_for(self, failure: _Unavailable) -> None:
        if failure.refused:
            msg = (
                f"Redis refused the limiter ({failure.description}): check the password, "
                "the ACL (docs/quota.md lists the commands the limiter needs), TLS (the "
                "CA to trust: ?ssl_ca_certs=...), and that the key prefix is the "
                "limiter's alone"
            )
            raise ConfigurationError(msg)
        msg = (
            f"the Redis limiter is unreachable: {failure.description}. Check that Redis "
            "runs at the limiter's URL and answers within socket_timeout. To go on "
            "limiting in each process while Redis is away: on_unavailable='local'"
        )
        raise LimiterUnavailableError(msg)

    # -- the protocol ------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def acquire(
        self,
        account: str,
        *,
        priority: Priority | Literal["interactive", "batch"] = Priority.INTERACTIVE,
        timeout: float | None = None,
        deadline: float | None = None,
    ) -> AsyncIterator[None]:
        """Wait for a slot of *account*'s quota in Redis; hold it while the call runs.

        Args:
            account: The account (appkey).
            priority: Interactive calls take the next free slot before batch ones.
            timeout: The attempt's timeout: the slot's lease, unless ``lease`` is set.
            deadline: The :func:`time.monotonic` time by which the call needs its slot.

        Raises:
            LimiterUnavailableError: Redis is unreachable (``on_unavailable="raise"``).
            ConfigurationError: Redis refused the limiter.
            DeadlineExceeded: Redis said the slot frees after *deadline* (at once).
        """
        code = _PRIORITY_CODES[Priority(priority)]
        lease = self._lease_for(timeout)
        # A batch call's member says so ('b:'): batch calls hold max_calls - reserve
        # slots at most, in every process (see _redis_scripts).
        member = f"{'b:' if code == 'b' else ''}{time.time():.6f}:{secrets.token_hex(8)}"
        started = time.monotonic()
        state = self._loop_state()
        failure: _Unavailable | None = None
        try:
            epoch = await self._wait_in_redis(state, account, member, code, lease, deadline)
        except _Unavailable as exc:
            failure = exc
        if failure is not None:
            if failure.refused or self.on_unavailable == "raise":
                self._raise_for(failure)
            self._note_unavailable(failure)
            fallback = self._fallback.acquire(account, priority=priority, deadline=deadline)
            async with fallback:
                grant = self._log_grant(account, member, None, lease)
                try:
                    yield
                finally:
                    grant.finished = time.monotonic()
            return
        self._note_available()
        waited = time.monotonic() - started
        if waited > 0.001:
            log.debug("quota: waited %.3fs for a Redis slot of account %s", waited, account)
        grant = self._log_grant(account, member, epoch, lease)
        try:
            # The fallback counts every grant too, so that it starts from them.
            with self._fallback._count_granted_elsewhere(account, code == "i"):
                yield
        finally:
            grant.finished = time.monotonic()
            await self._release(state, account, member, epoch, lease)

    async def _wait_in_redis(
        self,
        state: LoopState,
        account: str,
        member: str,
        priority: str,
        lease: float,
        deadline: float | None,
    ) -> str:
        keys = self._keys(account)
        queue = state.queue(account, priority, lambda: f"{self._token}-{next(self._queue_ids)}")
        queue.users += 1
        outages = state.outages
        noticed = False
        try:
            if deadline is not None and queue.users > 1:
                # Calls of this process are ahead of it: fail now if they, and the slot
                # after theirs, take too long (the head alone learns it from Redis).
                await self._fail_if_too_late(account, priority, queue.users - 1, deadline)
            # Only the head of the queue polls Redis; the others wait their turn here.
            async with queue.lock:
                if state.outages != outages and state.last_error is not None:
                    # Redis failed while this one queued: fail with it, at once.
                    assert isinstance(state.last_error, _Unavailable)
                    raise state.last_error.again()
                while True:
                    vouch = self._synced(account)
                    queued = queue.users
                    args = self._args(
                        vouch, lease, "w", member, priority, self.reserve, queue.id, queued
                    )
                    try:
                        answer, wait_us, epoch, why, left_us = await self._acquire_step(
                            state, account, member, keys, args
                        )
                    except _Unavailable as exc:
                        state.outages += 1
                        state.last_error = exc
                        raise
                    epoch, why = _text(epoch), _text(why)
                    if why == "recovery" and self.after_restart == "serve":
                        # By default a recovery lasts the grace: a new window's wait,
                        # not after_restart='wait''s (see _redis_scripts).
                        why = "new"
                    if int(answer) == 1:
                        # Redis keeps the queue registered with the calls that were
                        # behind this one when it asked, whoever has left since.
                        queue.registered = queued > 1
                        return epoch
                    if int(answer) == 2:
                        await self._seed(state, account, epoch, lease, why)
                        continue
                    queue.registered = True
                    wait = int(wait_us) / 1_000_000
                    if deadline is not None and time.monotonic() + wait >= deadline:
                        raise too_late(wait, why)
                    if not noticed:
                        noticed = self._note_wait(account, why, wait, int(left_us) / 1e6)
                    # Never spin: Redis said when the slot this call waits for frees.
                    # Yet look twice per grace at least, to be among the first to see a
                    # window lost meanwhile (see _redis_scripts.GRACE).
                    await asyncio.sleep(max(min(wait, self._poll), 0.0001))
        finally:
            queue.users -= 1
            if queue.users == 0 and state.queues.get((account, priority)) is queue:
                del state.queues[account, priority]
                if queue.registered:
                    # The last waiter left (cancelled, failed, or granted while Redis
                    # counted calls behind it that have left since): stop counting as
                    # waiting now, not when the registration expires.
                    args = self._args("", self._longest_lease(account), "w", queue.id, priority)
                    self._in_background(state, "withdraw", keys, args)

    async def _acquire_step(
        self, state: LoopState, account: str, member: str, keys: list[str], args: list[Any]
    ) -> Any:
        """One ACQUIRE, seen through even if the caller is cancelled meanwhile: Redis may
        have granted the slot already, and a grant nobody holds would keep it until its
        lease and the period pass. Such a grant is given back (the call was not sent)."""
        step = asyncio.ensure_future(self._run(state, "acquire", keys, args))
        try:
            return await asyncio.shield(step)
        except asyncio.CancelledError:

            def give_back(done: asyncio.Future[Any]) -> None:
                if done.cancelled() or done.exception() is not None:
                    return
                if int(done.result()[0]) == 1:
                    back = self._args("", self._longest_lease(account), "w", member)
                    self._in_background(state, "cancel", keys, back)

            step.add_done_callback(give_back)
            raise

    async def _fail_if_too_late(
        self, account: str, priority: str, ahead: int, deadline: float
    ) -> None:
        left = deadline - time.monotonic()
        try:
            window = await asyncio.wait_for(self._snapshot(account), max(left, 0.001))
        except (asyncio.TimeoutError, LimiterUnavailableError, ConfigurationError):
            return  # Redis cannot say in time: the call meets it at its own turn
        wait, why = self._wait_behind(window, priority, ahead)
        if time.monotonic() + wait >= deadline:
            raise too_late(wait, why)

    def _wait_behind(self, window: _Snapshot, priority: str, ahead: int) -> tuple[float, str]:
        """Seconds until a call of *priority* behind *ahead* calls of this process could
        take a slot, and why (see WAIT_REASONS)."""
        interactive_ahead = window.waiting[Priority.INTERACTIVE] if priority == "b" else 0
        # Interactive calls waiting in any process go first.
        wait, orphan = window.wait_for(
            window.used + ahead + interactive_ahead - window.cap, self.period
        )
        why = window.reason(orphan, wait)
        if priority == "b":
            # And batch calls hold max_calls - reserve slots at most.
            needed = window.batch_used + ahead - (window.cap - self.reserve)
            if needed >= 0:
                own = (
                    window.batch_frees[needed] if needed < len(window.batch_frees) else self.period
                )
                if own > wait:
                    wait, why = own, "reserved"
        return max(window.paused, wait), (
            "pause" if window.paused > 0 and window.paused >= wait else why
        )

    def _in_background(
        self, state: LoopState, script: str, keys: list[str], args: list[Any]
    ) -> None:
        """Run a step no caller waits for (withdrawing a queue, giving a grant back),
        kept until done; aclose() lets it finish first."""
        if state.closed:
            return

        async def step() -> None:
            with contextlib.suppress(_Unavailable):
                await self._run(state, script, keys, args)

        task = state.loop.create_task(step())
        state.background.add(task)
        task.add_done_callback(state.background.discard)

    async def _seed(
        self, state: LoopState, account: str, epoch: str, lease: float, cause: str
    ) -> None:
        """Put this process's live grants into a window that lost them (*cause*
        ``"lost"``), or that moved to another server (``"moved"``)."""
        now = time.monotonic()
        args: list[str | int] = []
        with self._lock:
            live = self._live_grants(account, now)
            known = self._accounts[account].synced if live else ""
        for grant in live:
            if grant.finished is None:
                kind, left = "f", grant.granted + grant.lease - now
            else:
                kind, left = "d", grant.finished + self.period - now
            in_lost_window = grant.epoch is not None and grant.epoch != epoch
            args += [grant.member, kind, _us(max(left, 0.000001)), "1" if in_lost_window else "0"]
        try:
            seeded, _ = await self._run(
                state, "seed", self._keys(account), self._args(epoch, lease, "w", epoch, *args)
            )
        except _Unavailable as exc:
            state.outages += 1
            state.last_error = exc
            raise
        if int(seeded) != 1:
            return  # the epoch changed meanwhile: the next step finds out
        with self._lock:
            self._account(account).synced = epoch
        if known != _LOCAL:
            what = (
                "moved to another Redis server (a restart from disk, a failover); merged"
                if cause == "moved"
                else "was lost (Redis restarted empty, failed over or was flushed); re-seeded"
            )
            log.warning(
                "quota: the shared window of account %s %s this process's %d recent calls",
                account,
                what,
                len(live),
                extra={"moor7_event": "quota_reseed", "moor7_account": account},
            )

    async def _release(
        self, state: LoopState, account: str, member: str, epoch: str, lease: float
    ) -> None:
        args = self._args(epoch, lease, "w", member)
        # Shielded: a caller cancelled right after its call must still report it
        # finished, or its slot stays held until its lease ends.
        try:
            await asyncio.shield(self._release_once_more(state, self._keys(account), args))
        except _Unavailable as exc:
            log.warning(
                "quota: could not release a Redis slot of account %s (%s); it is held "
                "until %.0fs after its lease ends",
                account,
                exc.description,
                self.period,
            )
        finally:
            if state.closed and state.owned:
                # The limiter was closed while this call was in flight (or its loop is
                # shutting down): the release reopened a connection that nothing else
                # will close.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(state.client.aclose(), 1.0)

    async def _release_once_more(self, state: LoopState, keys: list[str], args: list[Any]) -> None:
        try:
            await self._run(state, "release", keys, args)
        except _Unavailable:
            # The connection may be the broken one: drop the idle ones (it is back among
            # them), so that the retry opens a fresh connection.
            if state.owned:
                with contextlib.suppress(Exception):
                    pool = getattr(state.client, "connection_pool", None)
                    if pool is not None:
                        await asyncio.wait_for(
                            pool.disconnect(inuse_connections=False),
                            self.socket_connect_timeout,
                        )
            await self._run(state, "release", keys, args)

    async def pause(self, account: str, seconds: float | None = None) -> None:
        """Hold every process's next call of *account* for *seconds* (after an
        over-quota answer). ``None``: 1/``max_calls`` of the period, doubling with
        each further over-quota answer within a period."""
        seconds = next_pause(self._pauses, account, seconds, self.max_calls, self.period)
        state = self._loop_state()
        failure: _Unavailable | None = None
        try:
            args = self._args("", self._longest_lease(account), "w", _us(seconds))
            await self._run(state, "pause", self._keys(account), args)
        except _Unavailable as exc:
            failure = exc
        if failure is not None:
            if failure.refused or self.on_unavailable == "raise":
                self._raise_for(failure)
            await self._fallback.pause(account, seconds)
            return
        log.warning(
            "quota: account %s paused for %.1fs in every process, after an over-quota answer",
            account,
            seconds,
            extra={"moor7_event": "quota_pause", "moor7_account": account, "moor7_wait": seconds},
        )
        with self._lock:
            self._warned[account] = ("pause", time.monotonic() + seconds)

    async def _snapshot(self, account: str) -> _Snapshot:
        state = self._loop_state()
        failure: _Unavailable | None = None
        try:
            args = self._args("", self._longest_lease(account), "r")
            raw = await self._run(state, "usage", self._keys(account), args)
        except _Unavailable as exc:
            failure = exc
        if failure is not None:
            self._raise_for(failure)
        return _Snapshot(raw, self.max_calls)

    async def ausage(self, account: str) -> QuotaUsage:
        """How *account*'s shared window stands now, in every process that shares it.

        Raises:
            LimiterUnavailableError: Redis is unreachable.
            ConfigurationError: Redis refused the limiter.
        """
        window = await self._snapshot(account)
        next_free, orphan = window.wait_for(window.used - window.cap, self.period)
        blocked_by: str | None = None
        if window.paused > 0 or window.used >= window.cap:
            blocked_by = window.reason(orphan, next_free if window.used >= window.cap else 0.0)
        return QuotaUsage(
            account=account,
            max_calls=self.max_calls,
            period=self.period,
            used=window.used,
            in_flight=window.in_flight,
            orphaned=window.orphans,
            waiting=window.waiting,
            next_free_in=max(window.paused, next_free),
            paused_for=window.paused,
            recovering_for=window.recovering,
            blocked_by=blocked_by,
            reserve=self.reserve,
        )

    def usage(self, account: str) -> QuotaUsage:
        """:meth:`ausage`, from code that does not await (a metrics exporter's thread, a
        Django view, ``moor7 quota``): it runs on moor7's own event loop, the one the sync
        ``Client`` uses. In async code, ``await limiter.ausage(account)``.

        Raises:
            LimiterUnavailableError: Redis is unreachable.
            ConfigurationError: Redis refused the limiter.
        """
        return _run_blocking(self.ausage(account))

    async def aexpected_wait(
        self,
        account: str,
        *,
        priority: Priority | Literal["interactive", "batch"] = Priority.INTERACTIVE,
    ) -> float:
        """Seconds at least until a call of *account* asked for now could take a slot:
        the quota, the reserve (for a batch call), a pause, a recovery, an orphan's slot
        and the calls queued ahead of it all count. ``0.0`` when Redis cannot say (a
        call then meets the outage itself). A call's ``deadline`` needs none of this:
        :meth:`acquire` checks it against Redis's answer.
        """
        code = _PRIORITY_CODES[Priority(priority)]
        try:
            window = await self._snapshot(account)
        except (LimiterUnavailableError, ConfigurationError):
            return 0.0
        state = self._loops.get(asyncio.get_running_loop())
        queue = None if state is None else state.queues.get((account, code))
        wait, _ = self._wait_behind(window, code, 0 if queue is None else queue.users)
        return wait

    def expected_wait(
        self,
        account: str,
        *,
        priority: Priority | Literal["interactive", "batch"] = Priority.INTERACTIVE,
    ) -> float:
        """:meth:`aexpected_wait`, from code that does not await (see :meth:`usage`)."""
        return _run_blocking(self.aexpected_wait(account, priority=priority))

    # -- this process's grants ---------------------------------------------------------

    def _account(self, account: str) -> _Account:
        entry = self._accounts.get(account)
        if entry is None:
            entry = self._accounts[account] = _Account()
        return entry

    def _alive(self, grant: _Grant, now: float) -> bool:
        # A call still running here holds its slot; a finished one for a period.
        return grant.finished is None or grant.finished + self.period > now

    def _live_grants(self, account: str, now: float) -> list[_Grant]:
        entry = self._accounts.get(account)
        if entry is None:
            return []
        live = [g for g in entry.grants if self._alive(g, now)]
        entry.grants = deque(live)
        return live

    def _synced(self, account: str) -> str:
        # '' when this process holds nothing in the window: nothing to vouch for.
        with self._lock:
            if not self._live_grants(account, time.monotonic()):
                self._accounts.pop(account, None)
                return ""
            return self._accounts[account].synced

    def _log_grant(self, account: str, member: str, epoch: str | None, lease: float) -> _Grant:
        grant = _Grant(member, epoch, lease)
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
        for account in [a for a, (_, until) in self._warned.items() if until < now]:
            del self._warned[account]

    # -- what the operator sees ----------------------------------------------------------

    def _note_wait(self, account: str, why: str, wait: float, recovery_left: float) -> bool:
        """Log a call's wait for a slot, once; True once logged (or never to log)."""
        if why in ("quota", "reserved", "new"):
            if wait < NOTICE_WAIT:
                return False  # the head may yet learn of a longer wait at its next poll
            log_wait(account, wait, why, warn=False)
            return True
        # Beyond the quota itself: once per account and episode, at WARNING.
        now = time.monotonic()
        until = now + max(wait, recovery_left)
        with self._lock:
            last = self._warned.get(account)
            self._warned[account] = (why, until)
            if last is not None and last[0] == why and last[1] > now:
                return True
        if why == "recovery":
            log.warning(
                "quota: no free slot for account %s: %s; the next frees in %.1fs, and the "
                "recovery ends in %.1fs at the latest",
                account,
                WAIT_REASONS[why],
                wait,
                recovery_left,
                extra={
                    "moor7_event": "quota_wait",
                    "moor7_account": account,
                    "moor7_wait": wait,
                    "moor7_reason": why,
                },
            )
        else:
            log_wait(account, wait, why, warn=True)
        return True

    def _note_unavailable(self, failure: _Unavailable) -> None:
        if self._unavailable_since is None:
            self._unavailable_since = time.monotonic()
            log.warning(
                "quota: Redis is unreachable (%s); limiting in this process only until it "
                "is back, starting from this process's recent calls",
                failure.description,
            )

    def _note_available(self) -> None:
        if self._unavailable_since is not None:
            log.warning(
                "quota: Redis is back after %.1fs; limiting across processes again",
                time.monotonic() - self._unavailable_since,
            )
            self._unavailable_since = None


def _run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run *coroutine* on moor7's own event loop (the sync Client's), and wait."""
    from ._sync import _get_loop_thread

    return _get_loop_thread().run(coroutine)


def _tls_failure(exc: BaseException) -> bool:
    """Whether *exc* (redis-py's, which wraps the socket's error) is a TLS failure."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _us(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1_000_000))


class _Snapshot:
    """The USAGE script's answer, read."""

    def __init__(self, raw: list[Any], max_calls: int) -> None:
        done, flight, orphans, paused_us, left_us, wait_i, wait_b, cap, frees = raw[:9]
        batch_held, batch_frees = raw[9:11]
        self.used = int(done) + int(flight)
        self.in_flight = int(flight)
        self.orphans = int(orphans)
        self.paused = int(paused_us) / 1e6
        self.recovering = int(left_us) / 1e6
        self.cap = max_calls if int(cap) < 0 else int(cap)
        self.waiting = {Priority.INTERACTIVE: int(wait_i), Priority.BATCH: int(wait_b)}
        # When each held slot frees (earliest first), and whether it is an orphan's.
        self.frees = [(int(_text(f).rstrip("o")) / 1e6, _text(f).endswith("o")) for f in frees]
        self.batch_used = int(batch_held)
        # When each done batch slot frees, earliest first.
        self.batch_frees = [int(_text(f)) / 1e6 for f in batch_frees]

    def reason(self, orphan: bool, wait: float | None = None) -> str:
        """Why a call would wait (see WAIT_REASONS): what ends last of a pause and the
        slot it waits for (*wait*, without the pause), that slot being an orphan's or
        not, in a recovery or not."""
        if self.paused > 0 and (wait is None or self.paused >= wait):
            return "pause"
        if self.recovering > 0:
            return "recovery"
        return "orphan" if orphan else "quota"

    def wait_for(self, index: int, period: float) -> tuple[float, bool]:
        """Seconds until held slot number *index* (0: the first to free) frees, and
        whether it is an orphan's. Past the ones done, slots held in flight free no
        sooner than a period from now; a recovery's end frees all it holds back."""
        if index < 0:
            return 0.0, False
        wait, orphan = self.frees[index] if index < len(self.frees) else (period, False)
        if self.recovering > 0 and self.recovering < wait:
            wait, orphan = self.recovering, False
        return max(0.0, wait), orphan
