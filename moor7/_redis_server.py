"""A throwaway redis-server on 127.0.0.1, for testing code that uses RedisLimiter.

Public through :mod:`moor7.testing` as :func:`redis_server`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

__all__ = ["redis_server"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command(port: int, *args: str, pipelined: bool = False) -> bytes:
    """One command in RESP, without redis-py; returns the answer's raw bytes. With
    *pipelined*, ``args`` start with ``AUTH password``, whose ``+OK`` is dropped."""
    request = _resp(*args[:2]) + _resp(*args[2:]) if pipelined else _resp(*args)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request.encode())
        answer = b""
        while True:
            if pipelined and answer.startswith(b"+OK\r\n"):
                answer = answer[5:]
                pipelined = False
            if b"\r\n" in answer and len(answer) >= _resp_length(answer):
                return answer
            chunk = conn.recv(65536)
            if not chunk:
                return answer
            answer += chunk


def _resp(*args: str) -> str:
    return f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)


def _resp_length(answer: bytes) -> int:
    # A bulk string ($<n>) is its header line, n bytes and CRLF; the rest is one line.
    header, _ = answer.split(b"\r\n", 1)
    if header.startswith(b"$") and int(header[1:]) >= 0:
        return len(header) + 2 + int(header[1:]) + 2
    return len(header) + 2


class RedisProcess:
    """A redis-server on 127.0.0.1 that can be stopped, killed, frozen and started again
    on the same port.

    By default it keeps nothing on disk, so a restart loses every key; with
    ``appendonly=True`` it keeps an append-only file in its own directory and a restart
    loads it back, as a server with an AOF volume does. ``arguments`` go to
    redis-server as they are (``--requirepass``, ``--cluster-enabled yes``, TLS, ...).

    For moor7's own tests and benchmarks of Redis deployments and failures;
    :func:`redis_server` is the public way to get a throwaway server.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        startup_timeout: float = 10.0,
        appendonly: bool = False,
        arguments: tuple[str, ...] = (),
        password: str | None = None,
    ) -> None:
        binary = binary or os.environ.get("MOOR7_TEST_REDIS_SERVER") or shutil.which("redis-server")
        if binary is None:
            msg = (
                "redis-server not found: install it (apt-get install redis-server, brew "
                "install redis) or set MOOR7_TEST_REDIS_SERVER to its path"
            )
            raise FileNotFoundError(msg)
        self.binary = binary
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.startup_timeout = startup_timeout
        self.appendonly = appendonly
        self.arguments = arguments
        # The default user's password, for the commands this helper sends itself.
        self.password = password
        self._workdir = tempfile.TemporaryDirectory(prefix="moor7-redis-")
        self.directory = self._workdir.name
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (again) and wait until it answers ``PING``."""
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        arguments += ["--appendonly", "yes" if self.appendonly else "no"]
        arguments += ["--dir", self.directory, *self.arguments]
        self._process = process = subprocess.Popen(  # noqa: S603 - the binary the caller chose
            [self.binary, *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + self.startup_timeout
        while not self._answers():
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                msg = f"redis-server did not start on 127.0.0.1:{self.port}"
                raise RuntimeError(msg)
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            return not self.command("PING").startswith(b"-LOADING")
        except OSError:
            return False

    def command(self, *args: str) -> bytes:
        """One command, as the default user (with ``password`` if set); the raw answer."""
        if self.password is None:
            return _command(self.port, *args)
        return _command(self.port, "AUTH", self.password, *args, pipelined=True)

    def stop(self) -> None:
        """Stop the server as ``docker stop`` does (SIGTERM): it exits cleanly, writing
        its append-only file if it has one. Without one, its keys are gone."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the server (SIGKILL), as the OOM killer or a lost host does: nothing is
        written on the way out."""
        self._end(signal.SIGKILL)

    def _end(self, how: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)  # a frozen server cannot exit
            process.send_signal(how)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a wedged server
            process.kill()
            process.wait()

    def freeze(self) -> None:
        """Stop the server's process (SIGSTOP): it accepts connections, answers nothing."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server run again (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.kill()
        self._workdir.cleanup()

    def __enter__(self) -> RedisProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextlib.contextmanager
def redis_server(binary: str | None = None, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Start a private ``redis-server`` on 127.0.0.1; yield its URL; stop it on exit.

    It keeps nothing on disk (no RDB, no AOF) and listens on a free port of the
    loopback interface only. It is a new server like any other: a
    :class:`moor7.RedisLimiter` serves its first call at once.

    Example:
        ::

            with moor7.testing.redis_server() as url:
                limiter = moor7.RedisLimiter(url, max_calls=5, period=1.0)

    Args:
        binary: The server to run. Default: ``$MOOR7_TEST_REDIS_SERVER``, then
            ``redis-server`` on ``PATH``.
        startup_timeout: Seconds to wait for it to answer ``PING``.

    Raises:
        FileNotFoundError: No redis-server binary was found.
        RuntimeError: It did not start in time.
    """
    server = RedisProcess(binary, startup_timeout=startup_timeout)
    try:
        server.start()
        yield server.url
    finally:
        server.close()
