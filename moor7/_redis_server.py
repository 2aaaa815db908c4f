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


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _command(port: int, *args: str) -> bytes:
    """One command in RESP, without redis-py; returns the answer's raw bytes."""
    request = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request.encode())
        answer = b""
        while b"\r\n" not in answer or len(answer) < _resp_length(answer):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _resp_length(answer: bytes) -> int:
    # A bulk string ($<n>) is its header line, n bytes and CRLF; the rest is one line.
    header, _ = answer.split(b"\r\n", 1)
    if header.startswith(b"$") and int(header[1:]) >= 0:
        return len(header) + 2 + int(header[1:]) + 2
    return len(header) + 2


class RedisProcess:
    """A redis-server on 127.0.0.1 that can be stopped, frozen and started again on
    the same port, keeping nothing on disk: a restart loses every key.

    For moor7's own tests and benchmarks of Redis failures; :func:`redis_server` is the
    public way to get a throwaway server.
    """

    def __init__(self, binary: str | None = None, *, startup_timeout: float = 10.0) -> None:
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
        self._workdir = tempfile.TemporaryDirectory(prefix="moor7-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, declare_fresh: bool = False) -> None:
        """Start the server (again) and wait until it answers ``PING``.

        Args:
            declare_fresh: Tell moor7's limiters that no call predates this instance
                (true of a new throwaway server, not of one restarted under running
                processes), so that they do not wait for a lost window to recover.
        """
        arguments = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        arguments += ["--appendonly", "no", "--dir", self._workdir.name]
        self._process = process = subprocess.Popen(  # noqa: S603 - the binary the caller chose
            [self.binary, *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + self.startup_timeout
        while not _answers_ping(self.port):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                msg = f"redis-server did not start on 127.0.0.1:{self.port}"
                raise RuntimeError(msg)
            time.sleep(0.05)
        if declare_fresh:
            info = _command(self.port, "INFO", "server").decode()
            run_id = info.split("run_id:", 1)[1].split("\r\n", 1)[0]
            _command(self.port, "SET", "moor7:fresh-server", run_id)

    def stop(self) -> None:
        """Stop the server; its keys are gone."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)  # a frozen server cannot exit
        process.terminate()
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
        self.stop()
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
    loopback interface only. It is declared new to :class:`moor7.RedisLimiter` (the
    ``moor7:fresh-server`` key), so limiters do not treat its first minutes as a
    recovery after a restart.

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
        # New and empty: no quota window can have been lost here.
        server.start(declare_fresh=True)
        yield server.url
    finally:
        server.close()
