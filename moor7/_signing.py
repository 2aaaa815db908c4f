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
import os
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, ItemsView, Iterator, KeysView, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from ._reprs import MASK, is_secret_field, tolerant_repr
from .exceptions import ConfigurationError

__all__ = [
    "HmacSigner",
    "OutgoingRequest",
    "Secret",
    "SignedHeaders",
    "Signer",
    "check_appkey",
    "redact_url",
    "revealed",
]


@tolerant_repr
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


class Secret:
    """A secret string that never shows itself.

    Not in ``repr()`` or ``str()``, so not in the frame locals a crash reporter records
    (Sentry records them by default), and never pickled. The functions that take a
    secret wrap it first and drop the plain string, before anything can raise.
    """

    __slots__ = ("_value",)

    def __init__(self, value: object) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        msg = "a moor7 secret is not pickled"
        raise TypeError(msg)

    @classmethod
    def from_environment(cls, variable: str) -> Secret | None:
        """The environment variable's value, wrapped; ``None`` if unset or empty."""
        value = os.environ.get(variable)
        return cls(value) if value else None

    def problem(self, name: str) -> str | None:
        """What is wrong with it as a secret named *name*, in words that do not show it."""
        value = self._value
        if not isinstance(value, str) or not value.strip():
            return f"{name} must be a non-empty string, got {type(value).__name__}"
        if value != value.strip():
            # A key pasted with its line break: the gateway would refuse every signature.
            return f"{name} has spaces or a line break around it: remove them"
        return None

    def encode(self) -> bytes:
        """The secret's UTF-8 bytes."""
        assert isinstance(self._value, str)  # problem() said so
        return self._value.encode()

    def reveal(self) -> Any:
        """The value itself: for the one call that needs it, never kept in a local."""
        return self._value


def revealed(secret: Secret | None) -> Any:
    """``secret.reveal()``, or ``None``."""
    return None if secret is None else secret.reveal()


class SignedHeaders(Mapping[str, str]):
    """The headers of one signed attempt, as a transport receives them: a read-only
    mapping that never shows its signature.

    Until the gateway has read it, an attempt's ``m7-sign`` is a credential: the
    signature covers neither the path nor the body, so for five minutes it authorises
    any call of the account. So the mapping's ``repr()`` (what a crash reporter records
    of a frame local) masks every secret header, sentry-sdk is asked for that ``repr()``
    instead of walking the mapping (``__sentry_repr__``), and it is never pickled.
    ``dict(headers)`` is a plain copy, for a transport that needs one.
    """

    __slots__ = ("_headers",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    def __getitem__(self, name: str) -> str:
        return self._headers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)

    def __contains__(self, name: object) -> bool:
        return name in self._headers

    # The dict's own views: aiohttp copies the headers through items() on every request.
    def keys(self) -> KeysView[str]:
        return self._headers.keys()

    def items(self) -> ItemsView[str, str]:
        return self._headers.items()

    def __repr__(self) -> str:
        headers = getattr(self, "_headers", {})  # {} on a half-built one
        shown = {name: MASK if is_secret_field(name) else value for name, value in headers.items()}
        return f"SignedHeaders({shown!r})"

    __str__ = __repr__

    def __sentry_repr__(self) -> str:
        return repr(self)

    def __reduce__(self) -> Any:
        msg = "signed headers are not pickled (the signature is a credential): copy them"
        raise TypeError(msg)


def redact_url(url: str) -> str:
    """*url* without the secrets a URL carries: its user and password
    (``scheme://user:password@host``) and a ``password=`` parameter (which redis-py
    reads). For reprs, errors and logs."""
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1", url)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url, flags=re.IGNORECASE)


def check_appkey(appkey: object) -> str | None:
    """What is wrong with *appkey*, or ``None``."""
    if not isinstance(appkey, str) or not appkey.strip():
        return f"appkey must be a non-empty string, got {type(appkey).__name__}"
    if appkey != appkey.strip():
        return f"appkey has spaces or a line break around it: {appkey!r}"
    if "\r" in appkey or "\n" in appkey or "\0" in appkey:
        # It is sent as the m7-appkey header, which the client does not check again
        # for moor7's own signer.
        return f"appkey has a line break or a NUL character in it: {appkey!r}"
    return None


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
        # Wrapped before anything can raise, and the plain string dropped: a crash
        # reporter recording this frame's locals sees "<secret>".
        secret = Secret(secret_key)
        del secret_key
        self._setup(appkey, secret, clock, nonce)

    @classmethod
    def _from_secret(cls, appkey: str, secret: Secret) -> HmacSigner:
        """A signer for a secret already wrapped (the clients wrap it first)."""
        signer = cls.__new__(cls)
        signer._setup(appkey, secret, time.time, _random_nonce)
        return signer

    def _setup(
        self,
        appkey: str,
        secret: Secret,
        clock: Callable[[], float],
        nonce: Callable[[], str],
    ) -> None:
        problem = check_appkey(appkey) or secret.problem("secret_key")
        if problem is not None:
            raise ConfigurationError(problem)
        self.appkey: str = appkey
        self._key = secret.encode()
        self._clock = clock
        self._nonce = nonce
        self.clock_offset: float = 0.0
        # The nonces issued in the current second: the signature changes only with the
        # second, so a repeated nonce within it would be a replay to the gateway.
        self._second = ""
        self._issued: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        # getattr: a half-built signer (its __init__ raised) must still show itself.
        return f"HmacSigner(appkey={getattr(self, 'appkey', None)!r}, secret_key='***')"

    def _forked(self) -> HmacSigner:
        """A copy for a child process after ``os.fork()``: the lock may have been held
        by a thread the child does not have."""
        twin = HmacSigner.__new__(HmacSigner)
        twin.appkey, twin._key = self.appkey, self._key
        twin._clock, twin._nonce = self._clock, self._nonce
        twin.clock_offset = self.clock_offset
        twin._second, twin._issued = "", set()
        twin._lock = threading.Lock()
        return twin

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
