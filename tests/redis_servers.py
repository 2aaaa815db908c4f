"""The Redis deployments operators run, on 127.0.0.1, for RedisLimiter's tests: a
three-master cluster, TLS, a least-privilege ACL user, a Sentinel with a replica, and a
TCP proxy that moves to a promoted replica as a failover's DNS or virtual IP does.

Nothing here declares a server new or makes it kinder than a user's: they start as
redis-server starts.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from moor7._redis_server import RedisProcess, _free_port

#: The Redis ACL of a least-privilege user, as docs/quota.md gives it (read from there,
#: so that the tests run with exactly what the docs tell operators to create).
DOCS = Path(__file__).parent.parent / "docs" / "quota.md"


def documented_acl(which: str = "single") -> list[str]:
    """The rules of the ``ACL SETUSER`` line in docs/quota.md for *which* ("single" or
    "cluster"), without the user's name and password."""
    text = DOCS.read_text(encoding="utf-8")
    lines = re.findall(r"^ACL SETUSER moor7-(\w+) (.+)$", text, flags=re.MULTILINE)
    rules = dict(lines)[which].split()
    return [rule for rule in rules if not rule.startswith(">")]


#: The password of the application's Redis user in the tests' servers.
APP_PASSWORD = "app-pw-0d9a7c41"


def app_user(which: str = "single") -> tuple[str, ...]:
    """redis-server arguments that create the documented least-privilege user
    ``moor7-<which>`` (a ``user`` directive: it survives restarts, as an operator's
    config file or ACL file does)."""
    return ("--user", f"moor7-{which}", f">{APP_PASSWORD}", *documented_acl(which))


def app_url(server: RedisProcess, which: str = "single") -> str:
    """The URL an application uses: the least-privilege user's."""
    return f"redis://moor7-{which}:{APP_PASSWORD}@127.0.0.1:{server.port}/0"


def wait_for(check: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Cluster:
    """Three masters (no replicas), every slot covered: ``redis-server
    --cluster-enabled yes``, joined with CLUSTER MEET, slots given with ADDSLOTSRANGE
    (what ``redis-cli --cluster create`` does, without needing redis-cli)."""

    def __init__(self, masters: int = 3, *, arguments: tuple[str, ...] = ()) -> None:
        self.bus_ports = [_free_port() for _ in range(masters)]
        self.nodes = [
            RedisProcess(
                arguments=(
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "2000",
                    # The bus port is the client port + 10000 unless set: often taken,
                    # or past 65535.
                    "--cluster-port",
                    str(bus),
                    *arguments,
                )
            )
            for bus in self.bus_ports
        ]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"redis+cluster://{hosts}/0"

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        step = 16384 // len(self.nodes)
        for i, node in enumerate(self.nodes):
            last = 16383 if i == len(self.nodes) - 1 else (i + 1) * step - 1
            answer = node.command("CLUSTER", "ADDSLOTSRANGE", str(i * step), str(last))
            assert answer == b"+OK\r\n", answer
        for node, bus in zip(self.nodes[1:], self.bus_ports[1:], strict=True):
            self.nodes[0].command("CLUSTER", "MEET", "127.0.0.1", str(node.port), str(bus))

        def ready() -> bool:
            for node in self.nodes:
                info = node.command("CLUSTER", "INFO").decode()
                if (
                    "cluster_state:ok" not in info
                    or f"cluster_known_nodes:{len(self.nodes)}" not in info
                ):
                    return False
            return True

        wait_for(ready, "the cluster to form")

    def node_of(self, key: str) -> RedisProcess:
        """The master that holds *key*'s slot."""
        answer = self.nodes[0].command("CLUSTER", "KEYSLOT", key)
        slot = int(answer[1:].split(b"\r\n")[0])
        step = 16384 // len(self.nodes)
        return self.nodes[min(slot // step, len(self.nodes) - 1)]

    def close(self) -> None:
        for node in self.nodes:
            node.close()

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Proxy:
    """A TCP proxy on 127.0.0.1 whose target can be moved: what a failover looks like
    to clients behind a DNS name or a virtual IP. Moving it drops every connection."""

    def __init__(self, target: int) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def move_to(self, target: int) -> None:
        with self._lock:
            self.target = target
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()

    def _serve(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                client, _ = self._listener.accept()
                with self._lock:
                    target = self.target
                try:
                    upstream = socket.create_connection(("127.0.0.1", target), timeout=2)
                except OSError:
                    client.close()
                    continue
                with self._lock:
                    self._pairs.append((client, upstream))
                threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError):
            while not self._stop.is_set():
                readable, _, _ = select.select([a, b], [], [], 0.1)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        raise OSError("closed")
                    (b if source is a else a).sendall(data)
        for sock in (a, b):
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        self._stop.set()
        self.move_to(self.target)
        self._thread.join()
        self._listener.close()


class Sentinel:
    """One redis-sentinel (redis-server in sentinel mode) watching *master* as
    ``mymaster``, quorum 1, so that ``SENTINEL FAILOVER`` promotes its replica."""

    def __init__(self, master: RedisProcess) -> None:
        self.port = _free_port()
        self._server = RedisProcess(master.binary)  # for its directory and binary only
        self.config = Path(self._server.directory) / "sentinel.conf"
        self.config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self._server.directory}\n"
            f"sentinel monitor mymaster 127.0.0.1 {master.port} 1\n"
            "sentinel down-after-milliseconds mymaster 1000\n"
            "sentinel failover-timeout mymaster 5000\n",
            encoding="utf-8",
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - the test's own redis-server
            [self._server.binary, str(self.config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from moor7._redis_server import _command

        wait_for(lambda: _alive(self.port), "the sentinel")
        self.command = lambda *args: _command(self.port, *args)

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self._server.close()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a stalled
    Redis, a gateway that keeps calls in flight): yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def clock_and_count(admin: Any, key: str) -> Callable[[], tuple[float, int]]:
    """A look at Redis's clock (seconds) and the size of the sorted set *key*, read
    together in one script: when calls were granted, by the clock that granted them."""
    look = admin.register_script(
        "local t = redis.call('TIME') return {t[1] * 1000000 + t[2], redis.call('ZCARD', KEYS[1])}"
    )

    def read() -> tuple[float, int]:
        now_us, count = look(keys=[key])
        return now_us / 1e6, int(count)

    return read


def _alive(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def replica_of(master: RedisProcess, arguments: tuple[str, ...] = ()) -> RedisProcess:
    """A new replica of *master*, started and in sync."""
    replica = RedisProcess(arguments=("--replicaof", "127.0.0.1", str(master.port), *arguments))
    replica.start()
    wait_for(
        lambda: b"master_link_status:up" in replica.command("INFO", "replication"),
        "the replica to sync",
    )
    return replica


@contextlib.contextmanager
def tls_server(directory: Path) -> Iterator[tuple[RedisProcess, int, str]]:
    """A redis-server with a TLS port (and its plain port for the test's own commands):
    yields the server, the TLS port and the CA file clients must trust."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    tls_port = _free_port()
    server = RedisProcess(
        arguments=(
            "--tls-port",
            str(tls_port),
            "--tls-cert-file",
            str(cert_file),
            "--tls-key-file",
            str(key_file),
            "--tls-ca-cert-file",
            str(ca_file),
            "--tls-auth-clients",
            "no",
        )
    )
    server.start()
    try:
        yield server, tls_port, str(ca_file)
    finally:
        server.close()
