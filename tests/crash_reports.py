"""What a crash reporter records of an exception, and a check that it holds no secret.

Two reporters, as users run them:

- sentry-sdk 2.x with its default options (``include_local_variables`` on: the locals
  of every frame of the exception and of its ``__cause__``/``__context__`` chain,
  walked into mappings and sequences, every other object ``repr()``'d). Events are
  captured in memory by a transport of our own: nothing leaves the machine.
- ``traceback.TracebackException.from_exception(e, capture_locals=True)``, formatted in
  full, and every locals string it captured, a suppressed ``__context__`` included
  (it captures one even where it does not print it).

On Python 3.10 and 3.11 that second one raises if any local's ``repr()`` raises (3.12
swallows it): :func:`strict_local_reprs` applies those semantics on every version.
"""

from __future__ import annotations

import io
import json
import pickle
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport


class MemoryTransport(Transport):
    """Keeps every envelope sentry-sdk would send, in memory."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


class Sentry:
    """sentry-sdk initialised with its defaults, sending to a :class:`MemoryTransport`."""

    def __init__(self) -> None:
        # A DSN is needed for events to be made at all; the transport sends nowhere.
        sentry_sdk.init(dsn="https://public@sentry.invalid/1", transport=MemoryTransport)
        transport = sentry_sdk.get_client().transport
        assert isinstance(transport, MemoryTransport)
        self.transport = transport

    def close(self) -> None:
        sentry_sdk.get_client().close()

    def event_of(self, error: BaseException) -> str:
        """The serialized event sentry-sdk makes of *error*: every byte it would send."""
        self.transport.envelopes.clear()
        event_id = sentry_sdk.capture_exception(error)
        assert event_id is not None, "sentry-sdk made no event"
        sentry_sdk.flush()
        sent = [envelope.serialize() for envelope in self.transport.envelopes]
        events = [e.get_event() for e in self.transport.envelopes if e.get_event()]
        assert events, "no event reached the transport"
        # What it sends, and the event as JSON (its own serializer made it JSON-safe).
        text = b"".join(sent).decode("utf-8", "replace") + json.dumps(events)
        assert '"vars"' in text, "the event has no frame locals: not sentry's defaults"
        return text


def chain(error: BaseException) -> Iterator[BaseException]:
    """*error* and every exception linked from it (``__cause__``, ``__context__``)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]


def strict_local_reprs(error: BaseException) -> list[str]:
    """repr() of every local of every frame of *error*'s chain, errors not swallowed:
    what ``capture_locals=True`` does on Python 3.10 and 3.11."""
    texts = []
    for exc in chain(error):
        tb = exc.__traceback__
        while tb is not None:
            for name, value in tb.tb_frame.f_locals.items():
                texts.append(f"{name}={value!r}")
            tb = tb.tb_next
    return texts


def _captured(report: traceback.TracebackException) -> Iterator[str]:
    seen: set[int] = set()
    todo = [report]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for frame in current.stack:
            yield from (f"{k}={v}" for k, v in (frame.locals or {}).items())
        yield from current.format_exception_only()
        todo += [r for r in (current.__cause__, current.__context__) if r is not None]
        todo += getattr(current, "exceptions", None) or []


def traceback_report(error: BaseException) -> str:
    """The full ``capture_locals=True`` report: what it prints and what it captured."""
    report = traceback.TracebackException.from_exception(error, capture_locals=True)
    return "".join(report.format()) + "\n".join(_captured(report))


def everything_recorded(error: BaseException, sentry: Sentry) -> dict[str, str]:
    """Every text a reporter or a user's log can hold of *error*, by where it comes from."""
    return {
        "sentry event": sentry.event_of(error),
        "TracebackException(capture_locals=True)": traceback_report(error),
        "locals, repr() as on Python 3.10": "\n".join(strict_local_reprs(error)),
        "str()": str(error),
        "repr()": repr(error),
        "pickle": pickle.dumps(error).decode("latin-1"),
        "print() to a UTF-8 stream": printed(error, "utf-8"),
    }


def printed(error: BaseException, encoding: str) -> str:
    """What ``print(error)`` writes to a strict stream of *encoding* (raises if it cannot)."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict")
    print(error, file=stream)
    print(repr(error), file=stream)
    stream.flush()
    return stream.buffer.getvalue().decode(encoding)  # type: ignore[attr-defined]


def leaks(texts: dict[str, str], secrets: Iterable[str]) -> list[tuple[str, str]]:
    """(where, secret) for every secret found in *texts*."""
    secrets = [s for s in secrets if s]
    return [(where, s) for where, text in texts.items() for s in secrets if s in text]
