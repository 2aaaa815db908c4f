"""Shared answers: a query asked again is answered without another call of the quota.

The account's quota (20 calls a minute) is spent on answers, and many callers ask the
same question: a page that shows the number pool, opened by 30 people in a minute; 50
coroutines that list the skill groups at once. Two ways serve them with fewer calls,
both for queries only (an action is sent for each caller, and at most once):

- **Shared**, always: a query identical to one of the same client that is waiting for
  its slot or in flight (same path, same encoded body: the same account, since a client
  is one account) waits for that call's answer instead of sending its own. The call is
  sent once, retried once for all, and every caller decodes a result of its own from
  the one envelope, or gets an exception of its own (a copy: one exception object
  raised in several tasks would have their tracebacks spliced together). The call
  runs in a task of its own (:class:`SharedCall`), so a caller that is cancelled or
  whose ``deadline=`` passes leaves the others their answer and their place in the
  limiter's queue; the last caller to leave cancels it, and a call cancelled before it
  was sent takes no slot.
- **Kept**, opt in with ``max_age=``: the client keeps its queries' recent answers
  (:class:`AnswerCache`: bounded in number and in bytes, least recently used first
  out, none older than the longest ``max_age`` asked, none once the client is closed),
  and a query asked with ``max_age`` is served one no older than that, without the
  limiter or the gateway.

Neither may serve an answer older than a change this client made: once an action of
the client has finished, the kept answers are dropped, and a call sent before it is no
longer joined (its answer may predate the change).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

import attrs

from ._models import ResultList
from ._models._base import NOT_FROM_DATA

if TYPE_CHECKING:
    from ._envelope import Envelope
    from ._retries import Call

__all__ = [
    "MAX_ANSWERS",
    "MAX_ANSWER_BYTES",
    "AnswerCache",
    "SharedCall",
    "copied_error",
    "mark_from_cache",
]

#: The most answers a client keeps for ``max_age=``.
MAX_ANSWERS: Final = 128
#: The most bytes of answers a client keeps, counted as their bodies arrived (after
#: decompression): four pools of 5,000 numbers (about 2 MB each). Decoded into Python
#: objects, an answer takes a few times its body's size in memory.
MAX_ANSWER_BYTES: Final = 8 * 1024 * 1024

# A query is known by its path and its encoded body.
Key = tuple[str, bytes]


class SharedCall:
    """One query on its way to the gateway, and the callers waiting for its outcome.

    Each caller waits on a future of its own (cancelling a caller cancels only its
    future), which the sending task settles as it ends, in the same step: the callers
    resume one step of the event loop after the answer, as if they had awaited it.

    Attributes:
        call: The call's budget and progress (its priority, deadline, attempts).
        epoch: How many actions of the client had finished when it was made: an action
            finished since then may have changed what it reads.
        task: The task that sends it.
        envelope: Its answer, once it came.
        error: Its failure, once it failed.
        settled: Whether it ended (with an answer, a failure, or cancelled).
    """

    __slots__ = ("_waiters", "call", "envelope", "epoch", "error", "settled", "task")

    def __init__(self, call: Call, epoch: int) -> None:
        self.call = call
        self.epoch = epoch
        self.task: asyncio.Task[None] | None = None
        self.envelope: Envelope | None = None
        self.error: Exception | None = None
        self.settled = False
        self._waiters: list[asyncio.Future[bool]] = []

    def __repr__(self) -> str:
        # getattr: a half-built one (its __init__ raised) must still show itself.
        priority = getattr(getattr(self, "call", None), "priority", None)
        shown = getattr(priority, "value", None)
        waiting = len(getattr(self, "_waiters", ()))
        return f"<SharedCall priority={shown} waiting={waiting}>"

    @property
    def waiting(self) -> int:
        """How many callers wait for it."""
        return len(self._waiters)

    def joinable(self, expires: float | None, epoch: int) -> bool:
        """Whether a caller whose deadline is *expires* may wait for this call's answer,
        *epoch* actions of the client having finished.

        Not if the call was sent before an action finished (its answer may predate
        the change), nor if it may take longer than the caller's deadline allows: the
        caller would wait for it to fail, where its own call fails at once.
        """
        if epoch != self.epoch and self.call.attempts:
            return False
        if expires is None:
            return True
        return self.call.expires is not None and self.call.expires <= expires

    def waiter(self) -> asyncio.Future[bool]:
        """A future of one caller's own: ``True`` once the call ended, ``False`` if the
        caller's deadline came first (see :meth:`time_out`)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        return future

    def leave(self, future: asyncio.Future[bool]) -> bool:
        """The caller of *future* no longer waits; whether it was the last one."""
        with contextlib.suppress(ValueError):  # settled: the list was emptied
            self._waiters.remove(future)
        return not self._waiters

    def settle(self) -> None:
        """The call ended: wake every caller."""
        self.settled = True
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(True)

    @staticmethod
    def time_out(future: asyncio.Future[bool]) -> None:
        """A caller's deadline came: wake it alone."""
        if not future.done():
            future.set_result(False)


def copied_error(error: BaseException) -> BaseException:
    """An exception equal to *error* for one more caller: same type, message and
    attributes (``status``, ``request_id``, ``attempts``...), same cause and traceback
    so far, but an object of its own to raise."""
    try:
        copied = copy.copy(error)
    except Exception:  # an exception type that cannot be rebuilt from its state
        return error
    if type(copied) is not type(error):  # pragma: no cover - a __reduce__ that lies
        return error
    copied.__cause__ = error.__cause__
    copied.__context__ = error.__context__
    copied.__suppress_context__ = error.__suppress_context__
    copied.__traceback__ = error.__traceback__
    return copied


# Per result type, once: whether it has from_cache and age fields to set.
_CACHE_FIELDS: dict[type, bool] = {}


def mark_from_cache(result: object, age: float) -> None:
    """Say on *result*, decoded from a kept answer, that it is one, and how old."""
    if isinstance(result, ResultList):
        result.from_cache = True
        result.age = age
        return
    cls = type(result)
    marked = _CACHE_FIELDS.get(cls)
    if marked is None:
        # moor7's results; a caller's own model only through fields made as moor7's
        # (a field of its own called "age" is its data, not ours).
        fields = attrs.fields_dict(cls) if attrs.has(cls) else {}
        marked = all(
            name in fields and fields[name].metadata.get(NOT_FROM_DATA)
            for name in ("from_cache", "age")
        )
        _CACHE_FIELDS[cls] = marked
    if marked:
        # A result made just now, held by nobody else: set in place (attrs' recipe for
        # frozen classes), as decode() sets the request id.
        object.__setattr__(result, "from_cache", True)
        object.__setattr__(result, "age", age)


class _Kept:
    __slots__ = ("arrived", "envelope", "size")

    def __init__(self, envelope: Envelope, size: int, arrived: float) -> None:
        self.envelope = envelope
        self.size = size
        self.arrived = arrived


class AnswerCache:
    """A client's recent answers to queries, for ``max_age=``.

    Nothing is kept until some call asks with a ``max_age`` (or the client has one): an
    answer is of use only while it is younger than the longest ``max_age`` asked so
    far, and is dropped once older (on a timer of the client's event loop). At most
    :data:`MAX_ANSWERS` answers and :data:`MAX_ANSWER_BYTES` bytes of them are kept,
    the least recently used evicted first; an answer larger than that is not kept.

    Its ``repr()`` shows how much it holds, never what: an answer may hold SIP
    passwords.
    """

    __slots__ = ("_bytes", "_entries", "_timer", "longest")

    def __init__(self) -> None:
        self._entries: OrderedDict[Key, _Kept] = OrderedDict()
        self._bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        #: The longest ``max_age`` asked so far: no answer older is of use.
        self.longest = 0.0

    def __repr__(self) -> str:
        # getattr: a half-built one (its __init__ raised) must still show itself.
        entries = getattr(self, "_entries", {})
        return f"<AnswerCache answers={len(entries)} bytes={getattr(self, '_bytes', 0)}>"

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """The bytes of the answers kept, as their bodies arrived."""
        return self._bytes

    def asked(self, max_age: float) -> None:
        """A call asked for answers at most *max_age* seconds old."""
        if max_age > self.longest:
            self.longest = max_age

    def get(self, key: Key, max_age: float) -> tuple[Envelope, float] | None:
        """The answer kept for *key* and its age, if it is at most *max_age* old."""
        kept = self._entries.get(key)
        if kept is None:
            return None
        age = time.monotonic() - kept.arrived
        if age > self.longest:
            self._drop(key)
            return None
        if age > max_age:
            return None
        self._entries.move_to_end(key)
        return kept.envelope, age

    def put(self, key: Key, envelope: Envelope, size: int) -> None:
        """Keep the answer to *key* that just arrived (*size*: its body's bytes)."""
        if self.longest <= 0 or size > MAX_ANSWER_BYTES:
            return
        self._drop(key)
        self._entries[key] = _Kept(envelope, size, time.monotonic())
        self._bytes += size
        while len(self._entries) > MAX_ANSWERS or self._bytes > MAX_ANSWER_BYTES:
            self._drop(next(iter(self._entries)))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.longest, self._expire)

    def clear(self) -> None:
        """Drop every answer (the client closed, or an action of it finished)."""
        self._entries.clear()
        self._bytes = 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def forget(self) -> None:
        """Drop every answer without touching the timer: in a child process after
        ``fork()``, where the timer's event loop does not run."""
        self._entries.clear()
        self._bytes = 0
        self._timer = None

    def _drop(self, key: Key) -> None:
        kept = self._entries.pop(key, None)
        if kept is not None:
            self._bytes -= kept.size

    def _expire(self) -> None:
        self._timer = None
        now = time.monotonic()
        horizon = now - self.longest
        for key in [key for key, kept in self._entries.items() if kept.arrived <= horizon]:
            self._drop(key)
        if self._entries:
            oldest = min(kept.arrived for kept in self._entries.values())
            delay = max(0.0, oldest + self.longest - now)
            self._timer = asyncio.get_running_loop().call_later(delay, self._expire)
