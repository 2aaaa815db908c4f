"""What follows a failed attempt: every decision in one place, read top to bottom.

A failed attempt of a call can lead to three things, decided here and nowhere else:

1. **Side effects** (:func:`after_failure`): an over-quota answer pauses the whole
   account in the limiter; an authentication rejection far off the gateway's clock
   makes the default signer adopt the gateway's time.
2. **One attempt more** (:func:`worth_one_more_attempt`): after an authentication
   rejection that the clock correction may have fixed, or that may be a nonce collision
   with another process of the account (the gateway remembers sign+nonce for 5
   minutes, and two processes may draw the same nonce in the same second). Outside the
   retry budget, at most once per call, for queries and actions alike: the gateway did
   not act on a rejected call.
3. **A retry** (:func:`retry_wait`, stamina's hook), by the call's kind:

   ============================  =====  ======  ==========================================
   failure                       query  action  why
   ============================  =====  ======  ==========================================
   over quota (RateLimitError)   yes    yes     refused before acting; Retry-After honoured
   no connection (ConnectError)  yes    yes     nothing was sent
   dropped connection, timeout   yes    **no**  it may have reached the gateway and acted
   5xx (ServerError)             yes    **no**  a service behind the gateway may have acted
   anything else                 no     no      retrying cannot change the answer
   ============================  =====  ======  ==========================================

Every attempt, retries included, is signed afresh and takes a slot of the quota. A
call's ``deadline`` bounds all of it (:class:`Call`): a retry whose wait would end past
the deadline is not waited for, and an attempt never runs past it.

A retry is logged (INFO, ``moor7_event="retry"``) once it is certain to be made: within
the call's budget as stamina will count it (its test mode and on/off switch included),
and before the deadline. The error that ends a call says how many attempts were sent
(``attempts``).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import time
from collections.abc import Callable, Iterator

import attrs

from ._endpoints import CallKind
from ._limits import Limiter, Priority
from ._reprs import tolerant_repr
from ._signing import HmacSigner, OutgoingRequest, Signer
from .exceptions import (
    CLOCK_SKEW_NOTICE,
    AuthenticationError,
    ConnectError,
    DeadlineExceeded,
    RateLimitError,
    ServerError,
    TransportError,
)

__all__ = [
    "RETRY_AFTER_CAP",
    "Call",
    "after_failure",
    "quiet_stamina",
    "retry_wait",
    "worth_one_more_attempt",
]

log = logging.getLogger("moor7")

# A Retry-After longer than the quota's whole period says more about the gateway than
# about when a slot frees; past it, let the caller decide.
RETRY_AFTER_CAP = 60.0
# stamina reads a wait of 0 as "do not retry": "retry now" waits this long instead.
_AT_ONCE = 0.001


async def after_failure(
    exc: Exception, *, account: str, limiter: Limiter, signer: Signer, signed_offset: float
) -> None:
    """Act on what a failed attempt tells about the account and this host.

    *signed_offset* is the signer's ``clock_offset`` the attempt was signed with.
    """
    if isinstance(exc, RateLimitError):
        # Over quota anyway (another program on the account, another counting rule): the
        # whole account waits, not only this call's retry.
        retry_after = exc.retry_after
        pause = None if retry_after is None else min(retry_after, RETRY_AFTER_CAP)
        await limiter.pause(account, pause)
    elif isinstance(exc, AuthenticationError) and _clock_was_off(exc, signer):
        assert isinstance(signer, HmacSigner)  # _clock_was_off checked it
        assert exc.clock_skew is not None
        # From the offset this attempt was signed with, not the current one: calls that
        # were in flight together all land on the same offset instead of adding up.
        corrected = signed_offset + round(exc.clock_skew)
        if signer.clock_offset != corrected:
            signer.clock_offset = corrected
            where = "behind" if exc.clock_skew > 0 else "ahead of"
            log.warning(
                "this host's clock is %.0f s %s the gateway's (from its Date header); "
                "signing with the gateway's time from now on: fix the clock (NTP)",
                abs(exc.clock_skew),
                where,
                extra={"moor7_event": "clock_skew", "moor7_account": account},
            )


def _clock_was_off(exc: AuthenticationError, signer: Signer) -> bool:
    skew = exc.clock_skew
    return isinstance(signer, HmacSigner) and skew is not None and abs(skew) >= CLOCK_SKEW_NOTICE


def worth_one_more_attempt(exc: Exception) -> bool:
    """Whether a failure that exhausted the retries is worth one attempt more.

    An authentication rejection is, once per call: either the clock was just corrected
    (:func:`after_failure`), or the rejection may be a replayed nonce (another process
    of the account drew the same one in the same second), which a new signature fixes.
    A real credential failure is rejected again, and that second rejection is raised.
    """
    return isinstance(exc, AuthenticationError)


def retry_wait(kind: CallKind, exc: Exception) -> bool | float:
    """stamina's hook: whether a failed attempt of a *kind* call is retried, and when.

    ``True`` retries after the backoff; a number of seconds overrides it; ``False``
    raises the failure.
    """
    if isinstance(exc, DeadlineExceeded):
        return False  # raised at once, the deadline being out of reach: no retry reaches it
    if isinstance(exc, RateLimitError):
        retry_after = exc.retry_after
        if retry_after is None:
            return True
        if retry_after > RETRY_AFTER_CAP:
            return False  # asked to wait longer than a whole quota period: the caller decides
        return max(retry_after, _AT_ONCE)  # "Retry-After: 0" means now
    if isinstance(exc, ConnectError):
        return True
    if kind is CallKind.ACTION:
        return False
    return isinstance(exc, (TransportError, ServerError))


def stamina_attempts(attempts: int) -> int:
    """How many of *attempts* stamina's retry loop will make, by its switches.

    An application's tests may turn stamina off (``stamina.set_active(False)``: one
    attempt) or put it in test mode (``stamina.set_testing(True, attempts=N)``: N
    attempts, or at most N with ``cap=True``, and no waits); moor7's retries follow
    them, and its log must say what stamina will do.
    """
    import stamina

    if not stamina.is_active():
        return 1
    if not stamina.is_testing():
        return attempts
    # stamina offers no public getter for its test mode's attempts; its own rule is
    # _Testing.get_attempts(). tests/test_client.py pins this against stamina itself.
    from stamina import _config

    testing = getattr(getattr(_config, "CONFIG", None), "testing", None)
    get_attempts = getattr(testing, "get_attempts", None)
    return attempts if get_attempts is None else int(get_attempts(attempts))


def backoff(failures: int, initial: float, maximum: float) -> float:
    """Seconds before retry number *failures*: doubling from *initial*, plus a jitter
    of up to *initial* (so clients do not retry in step), at most *maximum*. The same
    curve as stamina's ``wait_initial``, ``wait_max``, ``wait_jitter``."""
    jitter = random.uniform(0, initial)  # noqa: S311 - spreading retries, not a secret
    return float(min(maximum, initial * 2 ** (failures - 1) + jitter))


@tolerant_repr
@attrs.define
class Call:
    """One call's retry budget and deadline, consulted after each failed attempt.

    Attributes:
        kind: Query or action.
        timeout: Seconds for one attempt (``None``: no limit).
        retries: The most retries.
        expires: When the deadline passes, in ``time.monotonic()`` seconds (``None``:
            never).
        account: The appkey, for the log records.
        priority: How soon each attempt takes a free slot of the quota (passed to a
            limiter that takes it).
        sent: Whether an attempt was sent.
        attempts: How many attempts were handed to the transport, every stage counted
            (the retries and the one attempt more after an authentication rejection).
        answer_bytes: The size of the last answer's body: what the client's kept
            answers count against their bound.
    """

    closed: Callable[[], bool]
    kind: CallKind
    timeout: float | None
    retries: int
    expires: float | None
    backoff_initial: float
    backoff_max: float
    account: str = ""
    priority: Priority = Priority.INTERACTIVE
    sent: bool = False
    attempts: int = 0
    answer_bytes: int = 0
    failures: int = 0
    # A retry was declined because it would start after the deadline.
    too_late: bool = False
    # The answer for the first attempt's failure, which stamina is handed once more.
    _handed: bool | float | None = None
    # The retries stamina will make of this stage's budget (see stamina_attempts).
    _allowed: int | None = None

    def one_more_attempt(self, exc: Exception, request: OutgoingRequest) -> None:
        """Make this call ready for one attempt more, outside the retry budget (after
        an authentication rejection), and log it."""
        self.retries = 0
        self.failures = 0
        self.too_late = False
        self._handed = None
        self._allowed = None
        log.info(
            "POST %s was rejected (AuthenticationError) on attempt %d; one attempt more "
            "with a fresh signature",
            request.path,
            request.attempt,
            extra=_retry_fields(exc, request.path, request.attempt, self.account, 0.0),
        )

    def first_wait(self, exc: Exception, request: OutgoingRequest) -> bool | float:
        """:meth:`next_wait` for the first attempt, which runs before stamina: stamina
        is then handed that failure as its first outcome, and gets the same answer."""
        self._handed = self.next_wait(exc, request)
        return self._handed

    def next_wait(self, exc: Exception, request: OutgoingRequest) -> bool | float:
        """stamina's hook: seconds to wait before retrying after *exc*, or ``False``."""
        if self._handed is not None:
            handed, self._handed = self._handed, None
            return handed
        if self.closed():
            return False  # closed meanwhile: no backoff, no further attempt
        self.failures += 1
        if self._allowed is None:
            self._allowed = stamina_attempts(self.retries + 1) - 1
        if self.failures > self._allowed:
            return False  # the budget is spent: stamina raises this failure, no retry
        wait: bool | float = retry_wait(self.kind, exc)
        if wait is not False:
            seconds = (
                backoff(self.failures, self.backoff_initial, self.backoff_max)
                if wait is True
                else float(wait)
            )
            wait = max(seconds, _AT_ONCE)
            # stamina's test mode waits for nothing, whatever the hook says.
            waits = 0.0 if _stamina_testing() else wait
            if self.expires is not None and time.monotonic() + waits >= self.expires:
                wait = False  # the retry would start too late; raise_if_past_deadline says so
                self.too_late = True
            else:
                # *request* is the stage's first attempt; this failure is its nth.
                failed = request.attempt + self.failures - 1
                log.info(
                    "POST %s failed (%s) on attempt %d; retry %d of %d in %.2fs",
                    request.path,
                    type(exc).__name__,
                    failed,
                    self.failures,
                    self._allowed,
                    waits,
                    extra=_retry_fields(exc, request.path, failed, self.account, waits),
                )
        return wait

    def attempt_timeout(self, request: OutgoingRequest) -> float | None:
        """The attempt's timeout: the client's, cut to what is left of the deadline."""
        if self.expires is None:
            return self.timeout
        remaining = self.expires - time.monotonic()
        if remaining <= 0:
            raise self.deadline_error(request, "the deadline passed before the attempt")
        return remaining if self.timeout is None else min(self.timeout, remaining)

    def raise_if_past_deadline(self, exc: Exception, request: OutgoingRequest) -> None:
        """Raise :class:`DeadlineExceeded` from *exc* if the deadline is why it ends here:
        a retry it would have had starts too late, or the deadline cut the attempt."""
        if self.expires is None or isinstance(exc, DeadlineExceeded):
            return
        cut = isinstance(exc, TransportError) and time.monotonic() >= self.expires - 0.001
        if self.too_late or cut:
            what = (
                "the next retry would start after the deadline"
                if self.too_late
                else "the deadline cut the attempt"
            )
            raise self.deadline_error(request, f"{what} (after {type(exc).__name__})") from exc

    def deadline_error(self, request: OutgoingRequest, why: str) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"the call's deadline cannot be met: {why}", path=request.path, sent=self.sent
        )


def _stamina_testing() -> bool:
    import stamina

    return stamina.is_testing()


def _retry_fields(
    exc: Exception, path: str, attempt: int, account: str, wait: float
) -> dict[str, object]:
    """The flat moor7_* extras of the log contract (docs/guides/logging.md) of a retry,
    for JSON loggers; the message says the same in words."""
    return {
        "moor7_event": "retry",
        "moor7_path": path,
        "moor7_attempt": attempt,
        "moor7_status": getattr(exc, "status", None),
        "moor7_request_id": getattr(exc, "request_id", None),
        "moor7_error": type(exc).__name__,
        "moor7_account": account,
        "moor7_wait": wait,
    }


# Set while moor7 runs its retry loop: stamina's own log records are then dropped, since
# moor7 logs each retry itself on the "moor7" logger (with the path and attempt), and a
# program that configured no logging would see stamina's bare "stamina.retry_scheduled"
# on stderr. Other code's stamina records pass untouched.
_retrying: contextvars.ContextVar[bool] = contextvars.ContextVar("moor7_retrying", default=False)


class _DropMoor7Retries(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _retrying.get()


_stamina_filter = _DropMoor7Retries()


@contextlib.contextmanager
def quiet_stamina() -> Iterator[None]:
    """Inside: stamina's log records of this task are dropped (moor7 logs its own)."""
    stamina_log = logging.getLogger("stamina")
    if _stamina_filter not in stamina_log.filters:
        stamina_log.addFilter(_stamina_filter)
    token = _retrying.set(True)
    try:
        yield
    finally:
        _retrying.reset(token)
