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
import logging
import math
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

__all__ = ["Limiter", "LocalLimiter", "Unlimited", "default_limiter"]

log = logging.getLogger("moor7")


@runtime_checkable
class Limiter(Protocol):
    """Grants permission for one call of an account, within the account's quota.

    The client enters ``acquire(account)`` right before each attempt (retries
    included, because the gateway counts them) and leaves it when the attempt has
    finished::

        async with limiter.acquire("2000103"):
            ...  # send the request and read the answer
    """

    def acquire(self, account: str) -> AbstractAsyncContextManager[None]:
        """Wait until *account* may make one more call; hold the slot while inside."""
        ...


class Unlimited:
    """A limiter that never waits. For benchmarks and for tests against a fake gateway.

    Against the real gateway, over-quota calls are rejected (and retried): prefer
    :class:`LocalLimiter`.
    """

    def __repr__(self) -> str:
        return "Unlimited()"

    @contextlib.asynccontextmanager
    async def acquire(self, account: str) -> AsyncIterator[None]:
        """Grant at once."""
        yield


class _Waiter:
    """One task waiting for a slot, woken on its own event loop from any thread."""

    __slots__ = ("event", "loop")

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()

    def wake(self) -> None:
        # Another thread or event loop may hold the slot this waiter wants, so waking
        # always goes through the waiter's own loop.
        with contextlib.suppress(RuntimeError):  # its loop is closed: nobody to wake
            self.loop.call_soon_threadsafe(self.event.set)


class _Window:
    """One account's state: finished grants (ascending times), calls in flight, queue."""

    __slots__ = ("finished", "in_flight", "waiters")

    def __init__(self) -> None:
        self.finished: deque[float] = deque()
        self.in_flight = 0
        self.waiters: deque[_Waiter] = deque()

    def prune(self, horizon: float) -> None:
        while self.finished and self.finished[0] <= horizon:
            self.finished.popleft()

    @property
    def idle(self) -> bool:
        return not self.finished and not self.in_flight and not self.waiters

    def wake_head(self) -> None:
        if self.waiters:
            self.waiters[0].wake()


_ALL_LOCAL_LIMITERS: weakref.WeakSet[LocalLimiter] = weakref.WeakSet()


class LocalLimiter:
    """At most ``max_calls`` calls per account in any rolling ``period``, in this process.

    - From idle, a burst of up to ``max_calls`` goes out at once; past that, each call
      goes as soon as the window allows, so the quota is used in full.
    - Waiters are served in arrival order. A task cancelled while waiting takes no slot.
    - One instance serves any number of accounts, each with its own window, and any
      number of event loops and threads (the sync ``Client`` uses it from its own loop).
      Accounts that fall idle are forgotten, so memory does not grow with their number.

    The default limiter of every client is one process-wide instance,
    :func:`default_limiter`, so all clients of one account share its quota.

    It counts only this process's calls. For several processes or hosts on one account,
    give each a share of the quota (``max_calls=5`` for four workers), or use a
    distributed limiter.

    Args:
        max_calls: Calls allowed per ``period`` (the 7moor quota is 20 per minute).
        period: The window, in seconds.
        clock: A monotonic clock in seconds. Injectable for tests.
    """

    def __init__(
        self,
        max_calls: int = 20,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_calls, bool) or not isinstance(max_calls, int) or max_calls < 1:
            msg = f"max_calls must be a positive integer, got {max_calls!r}"
            raise ValueError(msg)
        if not isinstance(period, (int, float)) or not math.isfinite(period) or period <= 0:
            msg = f"period must be a positive number of seconds, got {period!r}"
            raise ValueError(msg)
        self.max_calls = max_calls
        self.period = float(period)
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._grants_since_sweep = 0
        _ALL_LOCAL_LIMITERS.add(self)

    def __repr__(self) -> str:
        return f"LocalLimiter(max_calls={self.max_calls}, period={self.period})"

    def calls_in_window(self, account: str) -> int:
        """How many of *account*'s calls hold a slot now (in flight or recently done)."""
        with self._lock:
            window = self._windows.get(account)
            if window is None:
                return 0
            window.prune(self._clock() - self.period)
            return len(window.finished) + window.in_flight

    @contextlib.asynccontextmanager
    async def acquire(self, account: str) -> AsyncIterator[None]:
        """Wait for a slot of *account*'s quota; hold it while the call runs."""
        waited = await self._wait_for_slot(account)
        if waited > 0.001:
            log.debug("quota: waited %.3fs for a slot of account %s", waited, account)
        try:
            yield
        finally:
            self._release(account)

    async def _wait_for_slot(self, account: str) -> float:
        start = self._clock()
        waiter: _Waiter | None = None
        while True:
            with self._lock:
                window = self._windows.get(account)
                if window is None:
                    window = self._windows[account] = _Window()
                now = self._clock()
                window.prune(now - self.period)
                at_head = window.waiters[0] is waiter if waiter else not window.waiters
                used = len(window.finished) + window.in_flight
                if at_head and used < self.max_calls:
                    window.in_flight += 1
                    if waiter is not None:
                        window.waiters.popleft()
                        # The next in line may be able to go too, or must learn its wait.
                        window.wake_head()
                    return now - start
                if waiter is None:
                    waiter = _Waiter()
                    window.waiters.append(waiter)
                waiter.event.clear()
                # Only the head sleeps on a deadline; the others wait their turn. With
                # every slot in flight there is no deadline yet: a finishing call wakes us.
                delay = (
                    window.finished[0] + self.period - now
                    if at_head and window.finished and window.in_flight < self.max_calls
                    else None
                )
            try:
                if delay is None:
                    await waiter.event.wait()
                else:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(waiter.event.wait(), delay)
            except BaseException:
                self._leave_queue(account, waiter)
                raise

    def _leave_queue(self, account: str, waiter: _Waiter) -> None:
        with self._lock:
            window = self._windows.get(account)
            if window is None:
                return
            was_head = bool(window.waiters) and window.waiters[0] is waiter
            with contextlib.suppress(ValueError):
                window.waiters.remove(waiter)
            if was_head:
                window.wake_head()

    def _release(self, account: str) -> None:
        with self._lock:
            window = self._windows.get(account)
            if window is None:  # pragma: no cover - only after a fork reset mid-call
                return
            window.in_flight = max(0, window.in_flight - 1)
            window.finished.append(self._clock())
            window.wake_head()
            self._grants_since_sweep += 1
            if self._grants_since_sweep >= 1024:
                self._sweep_locked()

    def _sweep_locked(self) -> None:
        # Forget accounts with nothing in their window, so a service that cycles through
        # many tenants does not keep a window per tenant forever.
        self._grants_since_sweep = 0
        horizon = self._clock() - self.period
        for account in list(self._windows):
            window = self._windows[account]
            window.prune(horizon)
            if window.idle:
                del self._windows[account]

    def _after_fork_in_child(self) -> None:
        # The parent's lock may have been held by a thread that does not exist here, and
        # its waiters belong to event loops that do not run here. Keep the grants: the
        # parent's calls still count against the account's quota for a while.
        self._lock = threading.Lock()
        now = self._clock()
        for window in self._windows.values():
            window.waiters.clear()
            window.finished.extend([now] * window.in_flight)
            window.in_flight = 0


def _reset_after_fork() -> None:
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
