"""A throwaway redis-server on 127.0.0.1, for testing code that uses RedisLimiter.

Public through :mod:`moor7.testing` as :func:`redis_server`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
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


@contextlib.contextmanager
def redis_server(binary: str | None = None, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Start a private ``redis-server`` on 127.0.0.1; yield its URL; stop it on exit.

    It keeps nothing on disk (no RDB, no AOF) and listens on a free port of the
    loopback interface only.

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
    binary = binary or os.environ.get("MOOR7_TEST_REDIS_SERVER") or shutil.which("redis-server")
    if binary is None:
        msg = (
            "redis-server not found: install it (apt-get install redis-server, brew install "
            "redis) or set MOOR7_TEST_REDIS_SERVER to its path"
        )
        raise FileNotFoundError(msg)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="moor7-redis-") as workdir:
        arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        arguments += ["--appendonly", "no", "--dir", workdir]
        process = subprocess.Popen(  # noqa: S603 - the binary the caller chose
            [binary, *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + startup_timeout
            while not _answers_ping(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    msg = f"redis-server did not start on 127.0.0.1:{port}"
                    raise RuntimeError(msg)
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a wedged server
                process.kill()
                process.wait()
