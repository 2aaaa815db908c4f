"""Signing: the headers that prove a request comes from the account's owner.

7moor's V7 gateway authenticates every call with four headers (页面「新平台鉴权规则」)::

    m7-appkey     the account id
    m7-nonce      a 6-digit random number, new for every request
    m7-timestamp  the client's clock, 10-digit Unix seconds
    m7-sign       base64(HMAC-SHA256(secretKey, appkey + timestamp + nonce))

The secret itself is never sent. The gateway remembers ``sign + nonce`` for five minutes
and rejects a repeat, so the pipeline asks the signer for fresh headers on *every*
attempt, retries included.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, runtime_checkable

import attrs

from .exceptions import ConfigurationError

__all__ = ["HmacSigner", "OutgoingRequest", "Signer"]


@attrs.frozen
class OutgoingRequest:
    """The request a signer is asked to sign, exactly as it is about to be sent.

    Attributes:
        method: The HTTP method (always ``"POST"`` for the V7 OpenAPI).
        url: The absolute URL.
        path: The path part of the URL, e.g. ``/openapi/v1/call/query/number``.
        body: The exact body bytes (empty for calls without parameters).
        attempt: 1 for the first attempt, 2 for the first retry, and so on.
    """

    method: str
    url: str
    path: str
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    attempt: int = 1


@runtime_checkable
class Signer(Protocol):
    """Anything that turns an :class:`OutgoingRequest` into authentication headers.

    The client calls :meth:`sign` once per attempt, right before sending. It may return
    the headers directly or an awaitable of them, so a signer can ask a vault or a KMS
    without blocking the event loop.

    Example:
        A signer whose secret lives in a vault::

            class VaultSigner:
                def __init__(self, appkey: str, vault: Vault) -> None:
                    self.appkey = appkey
                    self.vault = vault

                async def sign(self, request: moor7.OutgoingRequest) -> dict[str, str]:
                    secret = await self.vault.read("7moor/secret")
                    return moor7.HmacSigner(self.appkey, secret).sign(request)
    """

    def sign(self, request: OutgoingRequest) -> Mapping[str, str] | Awaitable[Mapping[str, str]]:
        """Return the headers to add to *request*."""
        ...


def _random_nonce() -> str:
    # A cryptographic source: a predictable nonce would let anyone who saw one signed
    # request guess which nonces are still unused.
    return f"{secrets.randbelow(900_000) + 100_000}"


class HmacSigner:
    """The default signer: HMAC-SHA256 over ``appkey + timestamp + nonce``.

    Args:
        appkey: The account id (``appKey`` in the 7moor console), e.g. ``"2000103"``.
        secret_key: The account's ``secretKey``. It is kept private: it never appears in
            ``repr()``, exceptions or logs.
        clock: Returns the current Unix time in seconds. Injectable for tests.
        nonce: Returns a fresh 6-digit nonce. Injectable for tests only.

    Attributes:
        clock_offset: Seconds added to ``clock()`` for ``m7-timestamp``. The gateway
            rejects a timestamp more than 5 minutes away from its own clock; when it
            does, the client learns the difference from the rejection's ``Date`` header,
            sets this, and tries once more (see :attr:`AuthenticationError.clock_skew`).
            Set it yourself if you know your host's clock is off.
    """

    __slots__ = (
        "_clock",
        "_issued",
        "_key",
        "_lock",
        "_nonce",
        "_second",
        "appkey",
        "clock_offset",
    )

    def __init__(
        self,
        appkey: str,
        secret_key: str,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = _random_nonce,
    ) -> None:
        if not isinstance(appkey, str) or not appkey.strip():
            msg = f"appkey must be a non-empty string, got {type(appkey).__name__}"
            raise ConfigurationError(msg)
        if not isinstance(secret_key, str) or not secret_key.strip():
            # Only the type: a wrong value may still be somebody's secret.
            msg = f"secret_key must be a non-empty string, got {type(secret_key).__name__}"
            raise ConfigurationError(msg)
        self.appkey = appkey
        self._key = secret_key.encode()
        self._clock = clock
        self._nonce = nonce
        self.clock_offset = 0.0
        # The nonces issued in the current second: the signature changes only with the
        # second, so a repeated nonce within it would be a replay to the gateway.
        self._second = ""
        self._issued: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HmacSigner(appkey={self.appkey!r}, secret_key='***')"

    def signature(self, timestamp: str, nonce: str) -> str:
        """Return ``m7-sign`` for the given timestamp and nonce.

        Args:
            timestamp: 10-digit Unix seconds, as sent in ``m7-timestamp``.
            nonce: The 6-digit nonce, as sent in ``m7-nonce``.
        """
        message = f"{self.appkey}{timestamp}{nonce}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")

    def sign(self, request: OutgoingRequest) -> dict[str, str]:
        """Return fresh ``m7-*`` headers: a new nonce and the current timestamp.

        The signature does not cover the body or the path, as the gateway defines it.
        """
        timestamp = str(int(self._clock() + self.clock_offset))
        with self._lock:  # one signer may serve several threads' event loops
            if timestamp != self._second:
                self._second, self._issued = timestamp, set()
            nonce = self._nonce()
            for _ in range(100):  # bounded: an injected constant nonce must not spin
                if nonce not in self._issued:
                    break
                nonce = self._nonce()
            self._issued.add(nonce)
        return {
            "m7-appkey": self.appkey,
            "m7-nonce": nonce,
            "m7-timestamp": timestamp,
            "m7-sign": self.signature(timestamp, nonce),
        }
