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

Every attempt, retries included, is signed afresh and takes a slot of the quota.
"""

from __future__ import annotations

import logging

from ._endpoints import CallKind
from ._limits import Limiter
from ._signing import HmacSigner, Signer
from .exceptions import (
    CLOCK_SKEW_NOTICE,
    AuthenticationError,
    ConnectError,
    RateLimitError,
    ServerError,
    TransportError,
)

__all__ = ["RETRY_AFTER_CAP", "after_failure", "retry_wait", "worth_one_more_attempt"]

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
