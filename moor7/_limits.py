"""The account quota: never more than ``max_calls`` calls in any rolling ``period``.

7moor allows 20 calls per minute per account ("账户限流:20次/分") and does not say how it
counts. The only promise that is safe under every counting rule is a strict rolling
window, so that is what :class:`LocalLimiter` enforces, exactly.

Why not aiolimiter's ``AsyncLimiter(20, 60)``, the engine the design first named: it
is a leaky bucket, and a leaky bucket of capacity *C* draining at rate *r* admits
``C + r * period`` calls in one rolling period. A burst of 20 from idle needs ``C = 20``
and using the quota in full needs ``r = 20/60``: together up to 40 calls in a minute
(aiolimiter issues #240, #298). No setting of the bucket gives both the burst and the
bound, so the limiter keeps a log of its grants instead, which does.

A slot is held from the moment it is granted until ``period`` after the call *finished*
(the response arrived or the attempt failed). The gateway counts a call somewhere
between those two instants, so measuring from the end keeps the promise whatever the
network latency; it costs one latency per minute of quota (well under 1%).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Container, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from typing import Final, Literal, Protocol, runtime_checkable

import attrs

from ._arguments import seconds, whole_number
from ._reprs import tolerant_repr
from .exceptions import ConfigurationError, DeadlineExceeded, UsageError

__all__ = [
    "Limiter",
    "LocalLimiter",
    "Priority",
    "QuotaUsage",
    "Unlimited",
    "acquire_options",
    "check_reserve",
    "default_limiter",
    "is_interactive",
    "log_wait",
    "too_late",
]

log = logging.getLogger("moor7")

#: A call that must wait at least this long for a slot says so at INFO (a wait for a
#: reason other than the quota itself, at WARNING, whatever its length).
NOTICE_WAIT: Final = 5.0


class Priority(str, enum.Enum):
    """How soon a call takes a slot of the quota, among the calls waiting for one.

    Attributes:
        INTERACTIVE: Someone is waiting for it: actions, and single queries.
        BATCH: Paging through a list, reports: calls that can wait their turn.
    """

    INTERACTIVE = "interactive"
    BATCH = "batch"


@tolerant_repr
@attrs.frozen(kw_only=True)
class QuotaUsage:
    """A snapshot of one account's quota, from :meth:`LocalLimiter.usage` or
    :meth:`RedisLimiter.usage <moor7.RedisLimiter.usage>`.

    Attributes:
        account: The account (appkey).
        max_calls: Calls allowed per ``period``.
        period: The window, in seconds.
        used: Slots held now: calls finished within the last period, calls in flight,
            and orphans.
        in_flight: Calls sent and not yet finished.
        orphaned: Slots held by calls that never said they finished (their process
            died mid-call?): each frees a period after its lease ended. Always 0 for
            :class:`LocalLimiter`.
        waiting: Calls waiting for a slot, by priority (:class:`RedisLimiter`: in every
            process that shares the window).
        next_free_in: Seconds until a call asked now could take a slot: 0.0 when one is
            free. At least this long: a slot held in flight frees no sooner than a
            period after its call finishes.
        paused_for: Seconds left of a pause after an over-quota answer.
        recovering_for: Seconds left of a recovery (:class:`RedisLimiter`, after Redis
            lost the window: the grace by default, up to ``period + lease`` with
            ``after_restart="wait"``), during which only room proven free is granted.
        blocked_by: Why an interactive call asked now would wait: ``None`` (it would
            not), ``"quota"`` (every slot of the window is held), ``"pause"``,
            ``"recovery"`` or ``"orphan"`` (the next slot is an orphan's).
        reserve: Slots of every window that batch calls never take.
    """

    account: str
    max_calls: int
    period: float
    used: int
    in_flight: int
    orphaned: int = 0
    waiting: Mapping[Priority, int] = attrs.field(factory=dict)
    next_free_in: float = 0.0
    paused_for: float = 0.0
    recovering_for: float = 0.0
    blocked_by: str | None = None
    reserve: int = 0

    @property
    def free(self) -> int:
        """Slots an interactive call could take now (0 while paused). Batch calls hold
        at most ``max_calls - reserve`` slots in all, so with a reserve fewer of these
        may be theirs to take."""
        return 0 if self.paused_for > 0 else max(0, self.max_calls - self.used)


#: What ``blocked_by`` says, in words, for logs and errors.
WAIT_REASONS: Final = {
    "quota": "every slot of the window is in use",
    "reserved": "the free slots are reserved for interactive calls",
    "pause": "the account is paused after an over-quota answer",
    "recovery": (
        "after_restart='wait': Redis lost the shared window (it restarted empty, failed "
        "over or was flushed) or started less than a period and one attempt's bound ago, "
        "and calls made before may still count at the gateway: until they no longer "
        "can, only slots of calls known to have finished are granted"
    ),
    "orphan": (
        "a slot is held by a call that never said it finished (its process died "
        "mid-call?), until a period after its lease ended"
    ),
}


def log_wait(account: str, seconds: float, reason: str, *, warn: bool) -> None:
    """Log that a call of *account* found no free slot and waits *seconds* for one: at
    WARNING for a wait beyond the quota itself, else at INFO."""
    fields = {
        "moor7_event": "quota_wait",
        "moor7_account": account,
        "moor7_wait": seconds,
        "moor7_reason": reason,
    }
    why = WAIT_REASONS.get(reason, reason)
    if warn:
        log.warning(
            "quota: no free slot for account %s: %s; the next frees in %.1fs",
            account,
            why,
            seconds,
            extra=fields,
        )
    else:
        log.info(
            "quota: no free slot for account %s: %s; the next frees in %.1fs",
            account,
            why,
            seconds,
            extra=fields,
        )


_ACQUIRE_OPTIONS = ("priority", "timeout", "deadline")


def acquire_options(limiter: object) -> frozenset[str]:
    """Which of the optional keywords of ``acquire()`` *limiter* takes: ``priority``,
    ``timeout`` and ``deadline`` (a limiter written before them takes only the
    account)."""
    import inspect

    try:
        parameters = inspect.signature(limiter.acquire).parameters  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError):
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return frozenset(_ACQUIRE_OPTIONS)
    return frozenset(name for name in _ACQUIRE_OPTIONS if name in parameters)


def check_reserve(reserve: object, max_calls: int) -> int:
    """*reserve* as the slots kept for interactive calls: 0 up to ``max_calls - 1``."""
    if isinstance(reserve, bool) or not isinstance(reserve, int) or not 0 <= reserve < max_calls:
        msg = (
            f"reserve must be an integer from 0 to max_calls - 1 ({max_calls - 1}), got {reserve!r}"
        )
        raise ConfigurationError(msg)
    return reserve


def is_interactive(priority: object) -> bool:
    """Whether *priority* (a :class:`Priority` or its value) is interactive; a wrong one
    is a ConfigurationError."""
    if isinstance(priority, Priority):
        return priority is Priority.INTERACTIVE
    if priority in ("interactive", "batch"):
        return priority == "interactive"
    msg = f"priority must be moor7.Priority.INTERACTIVE or BATCH, got {priority!r}"
    raise ConfigurationError(msg)


def too_late(seconds: float, reason: str | None) -> DeadlineExceeded:
    """The error of a call whose slot frees *seconds* from now, past its deadline."""
    why = WAIT_REASONS.get(reason or "")
    msg = (
        "the call's deadline cannot be met: no quota slot frees before the deadline: the "
        f"next slot for this call frees in {seconds:.1f}s" + (f" ({why})" if why else "")
    )
    return DeadlineExceeded(msg)


@runtime_checkable
class Limiter(Protocol):
    """Grants permission for one call of an account, within the account's quota.

    The client enters ``acquire(account)`` right before each attempt (retries
    included, because the gateway counts them) and leaves it when the attempt has
    finished::

        async with limiter.acquire("2000103", priority=Priority.INTERACTIVE, timeout=10.0):
            ...  # send the request and read the answer

    ``priority`` (a :class:`Priority`), ``timeout`` (the attempt's timeout in seconds,
    ``None`` for none: the longest the call can hold its slot) and ``deadline`` (the
    :func:`time.monotonic` time by which the call needs its slot, ``None`` for none; a
    limiter that knows its wait passes it raises :class:`~moor7.DeadlineExceeded` at
    once, saying why) are passed only to a limiter whose ``acquire`` takes them.

    When the gateway answers over-quota anyway, the client awaits
    ``pause(account, retry_after)`` so that the account's next calls wait.

    A limiter that takes no ``deadline`` may offer ``expected_wait(account) -> float``,
    a lower bound of the seconds until a slot (see :meth:`LocalLimiter.expected_wait`;
    it may be a coroutine function): a call with a ``deadline`` that the wait would pass
    then fails at once instead of waiting. Without either, the call waits until its
    deadline and fails then, having taken no slot.

    One limiter may serve several event loops of a process at once: the sync
    :class:`~moor7.Client` runs its calls on a background loop. A limiter whose waiters
    queue across loops may also offer ``loop_blocked(loop)``, a context manager (see
    :meth:`LocalLimiter.loop_blocked`): the sync ``Client`` enters it while a blocking
    call made from inside a running event loop (a Jupyter cell, an async framework
    calling a blocking helper) keeps *loop* from running. Until it exits, that loop's
    waiters cannot take a slot and its calls in flight cannot finish, so the limiter must
    not let them hold up the blocking call (a deadlock otherwise).
    """

    def acquire(self, account: str) -> AbstractAsyncContextManager[None]:
        """Wait until *account* may make one more call; hold the slot while inside."""
        ...

    async def pause(self, account: str, seconds: float | None = None) -> None:
        """Hold *account*'s next calls: *seconds* from the gateway, or the limiter's choice."""
        ...


class Unlimited:
    """A limiter that never waits. For benchmarks and for tests against a fake gateway.

    Against the real gateway, over-quota calls are rejected (and retried): prefer
    :class:`LocalLimiter`.
    """

    def __repr__(self) -> str:
        return "Unlimited()"

    def acquire(self, account: str) -> AbstractAsyncContextManager[None]:
        """Grant at once."""
        return _GRANTED

    async def pause(self, account: str, seconds: float | None = None) -> None:
        """Do nothing: the client's retry backoff is the only wait."""


class _Granted:
    """A slot granted at once, with nothing to release: one object for every call (a
    generator-based context manager would cost more than the rest of the step)."""

    __slots__ = ()

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> None:
        return None


_GRANTED: Final = _Granted()


class _Waiter:
    """One task waiting for a slot, woken on its own event loop from any thread."""

    __slots__ = ("event", "interactive", "loop")

    def __init__(self, interactive: bool) -> None:
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()
        self.interactive = interactive

    def wake(self) -> bool:
        """Wake the waiter; False if its loop is closed and it never will run again."""
        # Another thread or event loop may hold the slot this waiter wants, so waking
        # always goes through the waiter's own loop.
        try:
            self.loop.call_soon_threadsafe(self.event.set)
        except RuntimeError:
            return False
        return True


# The event loop a blocking moor7.Client call keeps from running, in the task that
# serves that call (set by LocalLimiter.loop_blocked(), copied into the task's context).
_serving_blocked: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar(
    "moor7_serving_blocked_loop", default=None
)


def next_pause(
    history: dict[str, deque[float]],
    account: str,
    seconds: float | None,
    max_calls: int,
    period: float,
) -> float:
    """How long to pause *account* after an over-quota answer, and remember it.

    The gateway's own ``Retry-After`` wins. Without one: one slot's share of the period
    (3 s for 20 calls a minute), doubling with each further over-quota answer within a
    period, up to the whole period.
    """
    now = time.monotonic()
    recent = history.setdefault(account, deque())
    while recent and recent[0] <= now - period:
        recent.popleft()
    recent.append(now)
    if seconds is not None:
        return max(0.0, float(seconds))
    return float(min(period, period / max_calls * 2 ** (len(recent) - 1)))


class _Window:
    """One account's state: finished grants (ascending times), calls in flight, queue;
    and the batch calls among them (the reserve bounds what those hold)."""

    __slots__ = (
        "batch_finished",
        "batch_in_flight",
        "finished",
        "in_flight",
        "paused_until",
        "waiters",
    )

    def __init__(self) -> None:
        self.finished: deque[float] = deque()
        # Calls in flight, per event loop: a blocked loop's calls cannot finish.
        self.in_flight: dict[asyncio.AbstractEventLoop, int] = {}
        self.batch_finished: deque[float] = deque()
        self.batch_in_flight = 0
        self.waiters: deque[_Waiter] = deque()
        self.paused_until = -math.inf

    def prune(self, horizon: float) -> None:
        while self.finished and self.finished[0] <= horizon:
            self.finished.popleft()
        while self.batch_finished and self.batch_finished[0] <= horizon:
            self.batch_finished.popleft()

    @property
    def used(self) -> int:
        return len(self.finished) + sum(self.in_flight.values())

    @property
    def batch_used(self) -> int:
        return len(self.batch_finished) + self.batch_in_flight

    @property
    def in_flight_count(self) -> int:
        return sum(self.in_flight.values())

    def stuck_in_flight(self, blocked: Container[asyncio.AbstractEventLoop]) -> int:
        return sum(n for loop, n in self.in_flight.items() if loop in blocked)

    def idle(self, now: float) -> bool:
        """Whether nothing is held, waiting or paused at *now* (the limiter's clock)."""
        return not (self.finished or self.in_flight or self.waiters or self.paused_until >= now)

    def head(self, blocked: Container[asyncio.AbstractEventLoop]) -> _Waiter | None:
        """The first waiter that can run (on a live loop that is not *blocked*): the
        first interactive one, else the first batch one."""
        while self.waiters and self.waiters[0].loop.is_closed():
            # Its loop was closed without cancelling it: it will never take its turn.
            self.waiters.popleft()
        first_batch = None
        for waiter in self.waiters:
            if waiter.loop in blocked or waiter.loop.is_closed():
                continue
            if waiter.interactive:
                return waiter
            if first_batch is None:
                first_batch = waiter
        return first_batch

    def ahead_of(self, interactive: bool) -> int:
        """How many waiters go before a call of this priority that queues now."""
        if interactive:
            return sum(1 for waiter in self.waiters if waiter.interactive)
        return len(self.waiters)

    def wake_head(self, blocked: Container[asyncio.AbstractEventLoop]) -> None:
        while (head := self.head(blocked)) is not None and not head.wake():
            self.waiters.remove(head)


class _LocalSlot:
    """One call's slot of a :class:`LocalLimiter`, as ``async with`` enters and leaves
    it."""

    __slots__ = ("_account", "_deadline", "_interactive", "_limiter", "_loop")

    def __init__(
        self, limiter: LocalLimiter, account: str, interactive: bool, deadline: float | None
    ) -> None:
        self._limiter = limiter
        self._account = account
        self._interactive = interactive
        self._deadline = deadline
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> None:
        limiter, account = self._limiter, self._account
        self._loop = loop = asyncio.get_running_loop()
        # A blocking Client call served from a loop it keeps from running takes the
        # long way, which knows what to do about that loop (loop_blocked()).
        if _serving_blocked.get() is None and limiter._grant_now(account, loop, self._interactive):
            return
        waited = await limiter._wait_for_slot(account, loop, self._deadline, self._interactive)
        if waited > 0.001:
            log.debug("quota: waited %.3fs for a slot of account %s", waited, account)

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._loop is not None
        self._limiter._release(self._account, self._loop, self._interactive)


_ALL_LOCAL_LIMITERS: weakref.WeakSet[LocalLimiter] = weakref.WeakSet()


class LocalLimiter:
    """At most ``max_calls`` calls per account in any rolling ``period``, in this process.

    - From idle, a burst of up to ``max_calls`` goes out at once; past that, each call
      goes as soon as the window allows, so the quota is used in full.
    - Waiters are served by priority, then in arrival order: an interactive call takes
      the next free slot before any batch call (see :class:`Priority`), and ``reserve``
      slots of every window are for interactive calls only. A task cancelled while
      waiting takes no slot.
    - One instance serves any number of accounts, each with its own window, and any
      number of event loops and threads (the sync ``Client`` uses it from its own loop).
      Accounts that fall idle are forgotten, so memory does not grow with their number.
    - After an over-quota answer, :meth:`pause` holds the account's next calls, so
      waiters do not retry in lock-step.

    The default limiter of every client is one process-wide instance,
    :func:`default_limiter`, so all clients of one account share its quota.

    It counts only this process's calls. For several processes or hosts on one account,
    use :class:`~moor7.RedisLimiter`, or give each process a share of the quota.

    Args:
        max_calls: Calls allowed per ``period`` (the 7moor quota is 20 per minute).
        period: The window, in seconds.
        reserve: Slots of every window that batch calls never take, so that an
            interactive call (an agent going online, a supervisor listening) never waits
            behind a batch job: with ``reserve=5``, a report export uses 15 calls a
            minute at most and an action finds a slot at once. ``0`` (the default):
            batch calls may use the whole quota, and interactive ones only go first.
        clock: A monotonic clock in seconds. Injectable for tests.
    """

    def __init__(
        self,
        max_calls: int = 20,
        period: float = 60.0,
        *,
        reserve: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_calls: int = whole_number("max_calls", max_calls, least=1)
        self.period: float = seconds("period", period)
        self.reserve: int = check_reserve(reserve, self.max_calls)
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._pauses: dict[str, deque[float]] = {}
        self._grants_since_sweep = 0
        # Event loops kept from running by a blocking moor7.Client call (loop_blocked()).
        self._blocked: dict[asyncio.AbstractEventLoop, int] = {}
        _ALL_LOCAL_LIMITERS.add(self)

    def __repr__(self) -> str:
        # getattr: a half-built limiter (its __init__ raised) must still show itself.
        max_calls, period = getattr(self, "max_calls", None), getattr(self, "period", None)
        reserve = getattr(self, "reserve", None)
        return f"LocalLimiter(max_calls={max_calls}, period={period}, reserve={reserve})"

    def calls_in_window(self, account: str) -> int:
        """How many of *account*'s calls hold a slot now (in flight or recently done)."""
        with self._lock:
            window = self._windows.get(account)
            if window is None:
                return 0
            window.prune(self._clock() - self.period)
            return len(window.finished) + window.in_flight_count

    def expected_wait(
        self,
        account: str,
        *,
        priority: Priority | Literal["interactive", "batch"] = Priority.INTERACTIVE,
    ) -> float:
        """Seconds at least until a call of *account* asked for now could take a slot.

        A lower bound: calls in flight may finish later than it assumes, never earlier.
        (A call's ``deadline`` is checked by :meth:`acquire` itself.)
        """
        interactive = is_interactive(priority)
        with self._lock:
            window = self._windows.get(account)
            if window is None:
                return 0.0
            now = self._clock()
            window.prune(now - self.period)
            # The slot this call would take: after the waiters ahead of it.
            return self._wait_for(window, now, window.ahead_of(interactive), interactive)

    def _wait_for(self, window: _Window, now: float, ahead: int, interactive: bool) -> float:
        """Seconds until a call behind *ahead* waiters could take a slot (lock held)."""
        return self._wait_and_reason(window, now, ahead, interactive)[0]

    def _wait_and_reason(
        self, window: _Window, now: float, ahead: int, interactive: bool
    ) -> tuple[float, str]:
        """:meth:`_wait_for`, and why (see WAIT_REASONS): whichever wait ends last."""
        paused = max(0.0, window.paused_until - now)
        wait = self._wait_in(window.finished, window.used + ahead - self.max_calls, now)
        why = "quota"
        if not interactive:
            # Its own kind counts too: at most max_calls - reserve batch slots held.
            batch_ahead = ahead - window.ahead_of(interactive=True)
            needed = window.batch_used + batch_ahead - (self.max_calls - self.reserve)
            own = self._wait_in(window.batch_finished, needed, now)
            if own > wait:
                wait, why = own, "reserved"
        if paused > 0 and paused >= wait:
            return paused, "pause"
        return wait, why

    def _wait_in(self, finished: deque[float], needed: int, now: float) -> float:
        """Seconds until the finished slot number *needed* (0: the earliest) frees, 0
        if none needs to; one held in flight frees no sooner than a period from now."""
        if needed < 0:
            return 0.0
        if needed < len(finished):
            return finished[needed] + self.period - now
        return self.period

    def usage(self, account: str) -> QuotaUsage:
        """How *account*'s window stands now, in this process."""
        with self._lock:
            window = self._windows.get(account)
            if window is None:
                return QuotaUsage(
                    account=account,
                    max_calls=self.max_calls,
                    period=self.period,
                    used=0,
                    in_flight=0,
                    waiting={Priority.INTERACTIVE: 0, Priority.BATCH: 0},
                    reserve=self.reserve,
                )
            now = self._clock()
            window.prune(now - self.period)
            used = window.used
            paused = max(0.0, window.paused_until - now)
            interactive = window.ahead_of(interactive=True)
            full = used >= self.max_calls
            # What ends last: the pause, or the slot a call asked now would wait for.
            next_free, why = self._wait_and_reason(window, now, 0, interactive=True)
            blocked_by = why if paused > 0 or full else None
            return QuotaUsage(
                account=account,
                max_calls=self.max_calls,
                period=self.period,
                used=used,
                in_flight=window.in_flight_count,
                waiting={
                    Priority.INTERACTIVE: interactive,
                    Priority.BATCH: len(window.waiters) - interactive,
                },
                next_free_in=next_free,
                paused_for=paused,
                blocked_by=blocked_by,
                reserve=self.reserve,
            )

    async def ausage(self, account: str) -> QuotaUsage:
        """:meth:`usage`, for code that awaits (as :meth:`RedisLimiter.ausage
        <moor7.RedisLimiter.ausage>` is)."""
        return self.usage(account)

    @contextlib.contextmanager
    def loop_blocked(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """Treat *loop* as unable to run while inside (the optional :class:`Limiter` hook).

        The sync :class:`~moor7.Client` enters this around a blocking call made from
        inside the running event loop *loop*. Meanwhile that loop's waiters do not keep
        the head of a queue, and a blocking call whose account has every slot held by
        that loop's calls in flight raises :class:`~moor7.UsageError` instead of waiting
        for ever (those calls cannot finish until it returns).
        """
        with self._lock:
            self._blocked[loop] = self._blocked.get(loop, 0) + 1
        # Copied into the context of the task that serves the blocking call.
        token = _serving_blocked.set(loop)
        try:
            yield
        finally:
            _serving_blocked.reset(token)
            with self._lock:
                if self._blocked[loop] == 1:
                    del self._blocked[loop]
                else:
                    self._blocked[loop] -= 1
                # Its waiters may take their turn again.
                for window in self._windows.values():
                    window.wake_head(self._blocked)

    def acquire(
        self,
        account: str,
        *,
        priority: Priority | Literal["interactive", "batch"] = Priority.INTERACTIVE,
        deadline: float | None = None,
    ) -> AbstractAsyncContextManager[None]:
        """Wait for a slot of *account*'s quota; hold it while the call runs.

        Args:
            account: The account (appkey).
            priority: Interactive calls take the next free slot before batch ones, and
                only they take the ``reserve``.
            deadline: The :func:`time.monotonic` time by which the call needs its slot.

        Raises:
            DeadlineExceeded: The slot frees after *deadline* (raised at once).
        """
        return _LocalSlot(self, account, is_interactive(priority), deadline)

    def _grant_now(self, account: str, loop: asyncio.AbstractEventLoop, interactive: bool) -> bool:
        """Take a slot if one is free for a newcomer now, without waiting (the usual
        case): no coroutine, no queue."""
        with self._lock:
            window = self._windows.get(account)
            if window is None:
                window = self._windows[account] = _Window()
            elif window.waiters and (not interactive or window.ahead_of(interactive=True)):
                return False  # others are ahead of it
            now = self._clock()
            window.prune(now - self.period)
            if not self._has_room(window, interactive) or now < window.paused_until:
                return False
            self._take(window, loop, interactive)
            return True

    def _has_room(self, window: _Window, interactive: bool) -> bool:
        """Whether a call of this priority may take a slot now (the pause aside): every
        call counts towards max_calls, batch calls towards max_calls - reserve too."""
        if window.used >= self.max_calls:
            return False
        return interactive or window.batch_used < self.max_calls - self.reserve

    @staticmethod
    def _take(window: _Window, loop: asyncio.AbstractEventLoop, interactive: bool) -> None:
        window.in_flight[loop] = window.in_flight.get(loop, 0) + 1
        if not interactive:
            window.batch_in_flight += 1

    @contextlib.contextmanager
    def _count_granted_elsewhere(self, account: str, interactive: bool = True) -> Iterator[None]:
        """Hold a slot for a call another limiter granted, without waiting.

        RedisLimiter counts its grants here too, so that when it falls back to this
        limiter, the window starts from this process's recent calls, not empty.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            self._take(self._window(account), loop, interactive)
        try:
            yield
        finally:
            self._release(account, loop, interactive)

    async def pause(self, account: str, seconds: float | None = None) -> None:
        """Hold *account*'s next calls for *seconds*, after an over-quota answer.

        ``None``: one slot's share of the period, doubling with each further over-quota
        answer within a period, up to the whole period.
        """
        with self._lock:
            seconds = next_pause(self._pauses, account, seconds, self.max_calls, self.period)
            window = self._window(account)
            window.paused_until = max(window.paused_until, self._clock() + seconds)
        log.warning(
            "quota: account %s paused for %.1fs after an over-quota answer",
            account,
            seconds,
            extra={"moor7_event": "quota_pause", "moor7_account": account, "moor7_wait": seconds},
        )

    def _window(self, account: str) -> _Window:
        window = self._windows.get(account)
        if window is None:
            window = self._windows[account] = _Window()
        return window

    async def _wait_for_slot(
        self,
        account: str,
        loop: asyncio.AbstractEventLoop,
        deadline: float | None = None,
        interactive: bool = True,
    ) -> float:
        start = self._clock()
        waiter: _Waiter | None = None
        noticed = False
        while True:
            with self._lock:
                window = self._window(account)
                now = self._clock()
                window.prune(now - self.period)
                head = window.head(self._blocked)
                if waiter is not None:
                    at_head = head is waiter
                else:
                    # A newcomer goes first if nobody waits, or if only batch calls do
                    # and it is interactive.
                    at_head = head is None or (interactive and not head.interactive)
                if at_head and self._has_room(window, interactive) and now >= window.paused_until:
                    self._take(window, loop, interactive)
                    if waiter is not None:
                        window.waiters.remove(waiter)
                    # The next in line may be able to go too, or must learn its wait.
                    window.wake_head(self._blocked)
                    return now - start
                serving = _serving_blocked.get()
                if serving is not None and window.stuck_in_flight(self._blocked) >= self.max_calls:
                    if waiter is not None:
                        window.waiters.remove(waiter)
                    msg = (
                        "a blocking moor7.Client call was made from an event loop whose own "
                        "calls in flight hold the whole quota: they cannot finish while it "
                        "waits. Await the AsyncClient in async code."
                    )
                    raise UsageError(msg)
                if waiter is None:
                    if deadline is not None:
                        # It would wait behind every waiter that goes before it.
                        ahead = window.ahead_of(interactive)
                        wait, why = self._wait_and_reason(window, now, ahead, interactive)
                        if time.monotonic() + wait >= deadline:
                            raise too_late(wait, why)
                    # The old head, if it goes after this one, may sleep on a timer: it
                    # finds it is no longer first when that fires.
                    waiter = _Waiter(interactive)
                    window.waiters.append(waiter)
                waiter.event.clear()
                delay = self._delay(window, now, interactive) if at_head else None
                paused = now < window.paused_until
                full = window.used >= self.max_calls
            if not noticed and delay is not None and delay >= NOTICE_WAIT:
                # Once per call, as it becomes the head of the queue (a pause was logged
                # at WARNING when it began).
                noticed = True
                if not paused:
                    reason = "quota" if full else "reserved"
                    log_wait(account, delay, reason, warn=False)
            # Only the head sleeps on a deadline; the others wait for their turn, and a
            # head whose slots are all in flight waits for one to finish.
            timer = None if delay is None else waiter.loop.call_later(delay, waiter.event.set)
            try:
                await waiter.event.wait()
            except BaseException:
                self._leave_queue(account, waiter)
                raise
            finally:
                if timer is not None:
                    timer.cancel()

    def _delay(self, window: _Window, now: float, interactive: bool) -> float | None:
        """Seconds until the head could take a slot; ``None`` when it needs a slot
        held in flight (its release wakes the head)."""
        paused = max(0.0, window.paused_until - now)
        waits = [(window.finished, window.used - self.max_calls)]
        if not interactive:
            cap = self.max_calls - self.reserve
            waits.append((window.batch_finished, window.batch_used - cap))
        delay = paused
        for finished, needed in waits:
            if needed < 0:
                continue
            if needed >= len(finished):
                return None
            delay = max(delay, finished[needed] + self.period - now)
        return delay

    def _leave_queue(self, account: str, waiter: _Waiter) -> None:
        with self._lock:
            window = self._windows.get(account)
            if window is None:
                return
            with contextlib.suppress(ValueError):
                window.waiters.remove(waiter)
            window.wake_head(self._blocked)

    def _release(
        self, account: str, loop: asyncio.AbstractEventLoop, interactive: bool = True
    ) -> None:
        with self._lock:
            window = self._windows.get(account)
            if window is None:  # pragma: no cover - only after a fork reset mid-call
                return
            count = window.in_flight.get(loop, 0)
            if count <= 1:
                window.in_flight.pop(loop, None)
            else:
                window.in_flight[loop] = count - 1
            finished = self._clock()
            window.finished.append(finished)
            if not interactive:
                window.batch_in_flight -= 1
                window.batch_finished.append(finished)
            window.wake_head(self._blocked)
            self._grants_since_sweep += 1
            if self._grants_since_sweep >= 1024:
                self._sweep_locked()

    def _sweep_locked(self) -> None:
        # Forget accounts with nothing in their window, so a service that cycles through
        # many tenants does not keep a window per tenant forever.
        self._grants_since_sweep = 0
        now = self._clock()
        horizon = now - self.period
        for account in list(self._windows):
            window = self._windows[account]
            window.prune(horizon)
            if window.idle(now):
                del self._windows[account]
        stale = time.monotonic() - self.period
        for account in [a for a, times in self._pauses.items() if not times or times[-1] < stale]:
            del self._pauses[account]

    def _after_fork_in_child(self) -> None:
        # The parent's lock may have been held by a thread that does not exist here, and
        # its waiters belong to event loops that do not run here. Keep the grants: the
        # parent's calls still count against the account's quota for a while.
        self._lock = threading.Lock()
        self._blocked.clear()
        now = self._clock()
        for window in self._windows.values():
            window.waiters.clear()
            window.finished.extend([now] * window.in_flight_count)
            window.in_flight.clear()
            window.batch_finished.extend([now] * window.batch_in_flight)
            window.batch_in_flight = 0


def _reset_after_fork() -> None:
    global _default_lock
    _default_lock = threading.Lock()
    for limiter in list(_ALL_LOCAL_LIMITERS):
        limiter._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


_default: LocalLimiter | None = None
_default_lock = threading.Lock()


def default_limiter() -> LocalLimiter:
    """The process-wide ``LocalLimiter(max_calls=20, period=60.0)`` that clients share.

    Every client created without ``limiter=`` uses it, so several clients of the same
    account in one process together stay within the account's 20 calls per minute.
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = LocalLimiter()
        return _default
