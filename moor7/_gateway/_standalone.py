"""The fake gateway as a server of its own, for ``moor7 gateway``.

What the command line gives it, read here: the data file (``--data``), the quota
(``--quota``) and the faults to play first (``--fault``); and :class:`StandaloneGateway`,
a :class:`FakeGateway` that logs each call instead of keeping it, and :func:`serve`,
which runs one until SIGINT or SIGTERM.

Every reading function raises :class:`~moor7.exceptions.ConfigurationError` with a
message that names the flag, as the command prints it.
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import attrs

from moor7._reprs import tolerant_repr
from moor7.exceptions import ConfigurationError

from ._server import FakeGateway, Fault, ReceivedCall

__all__ = [
    "DATA_KEYS",
    "FaultPlan",
    "StandaloneGateway",
    "load_data",
    "parse_quota",
    "serve",
]

#: The keys a ``--data`` file may have: the data arguments of :class:`FakeGateway`.
DATA_KEYS = (
    "number_pool",
    "groups",
    "sip_numbers",
    "agents",
    "queues",
    "answer_rates",
    "im_session_report",
)


def load_data(path: str) -> dict[str, Any]:
    """The ``--data`` file: a JSON object whose keys are among :data:`DATA_KEYS`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        msg = f"--data {path}: cannot read it: {exc}"
        raise ConfigurationError(msg) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        msg = f"--data {path}: not JSON: {exc}"
        raise ConfigurationError(msg) from exc
    if not isinstance(data, dict):
        msg = f"--data {path}: must be a JSON object with any of the keys {', '.join(DATA_KEYS)}"
        raise ConfigurationError(msg)
    unknown = sorted(set(data) - set(DATA_KEYS))
    if unknown:
        msg = (
            f"--data {path}: unknown key {', '.join(map(repr, unknown))}; "
            f"the keys are {', '.join(DATA_KEYS)}"
        )
        raise ConfigurationError(msg)
    return data


def parse_quota(text: str) -> tuple[int | None, float]:
    """``--quota``: ``N/PERIOD`` (calls per seconds, e.g. ``20/60``), or ``none``."""
    if text.strip().lower() == "none":
        return None, 60.0
    calls, _, period = text.partition("/")
    try:
        quota, seconds = int(calls), float(period)
    except ValueError:
        quota, seconds = 0, 0.0
    if quota < 1 or not (math.isfinite(seconds) and seconds > 0):
        msg = (
            "--quota must be N/PERIOD, at least 1 call in a positive number of seconds "
            f"(e.g. 20/60, 5/1.5), or none; got {text!r}"
        )
        raise ConfigurationError(msg)
    return quota, seconds


@tolerant_repr
@attrs.frozen
class FaultPlan:
    """One ``--fault NAME[:TIMES][@PATH]``: what :meth:`FakeGateway.fail_next` is told."""

    fault: Fault
    times: int = 1
    path: str | None = None

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        """Read ``NAME[:TIMES][@PATH]``, e.g. ``server_error``, ``drop:2@/openapi/...``."""
        rest, at, path = text.partition("@")
        name, colon, times = rest.partition(":")
        names = ", ".join(fault.value for fault in Fault)
        try:
            fault = Fault(name.strip().lower())
        except ValueError:
            msg = f"--fault {text!r}: unknown fault {name!r}; the faults are {names}"
            raise ConfigurationError(msg) from None
        count = 1
        if colon:
            count = int(times) if times.isdigit() else 0
        if count < 1:
            msg = f"--fault {text!r}: TIMES must be a whole number >= 1, got {times!r}"
            raise ConfigurationError(msg)
        if at and not path.startswith("/"):
            msg = f"--fault {text!r}: PATH must start with '/', e.g. @/openapi/v1/call/query/number"
            raise ConfigurationError(msg)
        return cls(fault, count, path if at else None)

    def __str__(self) -> str:
        times = f":{self.times}" if self.times != 1 else ""
        path = f"@{self.path}" if self.path else ""
        return f"{self.fault.value}{times}{path}"


class StandaloneGateway(FakeGateway):
    """A :class:`FakeGateway` that writes a line per call to *log* and keeps none.

    A server that runs for days must not hold every request it received, and nothing
    reads :attr:`calls` here.
    """

    def __init__(self, *, log: TextIO | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._log = log

    def _record(self, call: ReceivedCall) -> None:
        if self._log is None:
            return
        answer = "dropped" if call.status is None else str(call.status)
        request_id = f" (request id {call.request_id})" if call.request_id else ""
        self._log.write(f"moor7 gateway: {call.method} {call.path} -> {answer}{request_id}\n")
        self._log.flush()


async def serve(gateway: FakeGateway, *, started: Callable[[FakeGateway], None]) -> None:
    """Run *gateway* until SIGINT or SIGTERM; call *started* once it listens."""
    stopping = asyncio.Event()
    with _stopped_by((signal.SIGINT, signal.SIGTERM), stopping):
        async with gateway:
            started(gateway)
            await stopping.wait()


@contextmanager
def _stopped_by(signals: Sequence[signal.Signals], stopping: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    try:
        for sig in signals:
            loop.add_signal_handler(sig, stopping.set)
    except NotImplementedError:  # pragma: no cover - Windows: Ctrl-C is a KeyboardInterrupt
        yield
        return
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
