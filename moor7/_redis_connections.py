"""Where :class:`~moor7.RedisLimiter` talks to Redis: the target, its clients per event
loop, what a failure means, closing, and ``fork()``.

- **The target** is a URL or a client of the user's. A URL's password is held in an
  object that never shows it (reprs, frame locals a crash reporter records) and is
  scrubbed from any message quoted from redis-py. ``redis+cluster://`` (as the
  ``limits`` library spells it) and a ``redis.asyncio.RedisCluster`` client reach a
  Redis Cluster; a synchronous redis-py client is refused, since every step is awaited.
- **One client per event loop**, opened on first use from a URL: redis-py's asyncio
  connections belong to the loop that opened them (the sync ``Client``'s background
  loop and the application's own). A loop finished by ``asyncio.run()`` closes them as
  it shuts down; a loop closed by hand has its sockets closed at the next use.
- **A failure is either an outage or a refusal.** An outage (no connection, no answer,
  a failover in progress) may pass: ``on_unavailable`` applies. A refusal (a wrong
  password, an ACL without a command the scripts need, keys of the wrong type or in
  different cluster slots) does not pass by waiting: it is a
  :class:`~moor7.ConfigurationError`, never a silent fallback to per-process limiting.
  Neither keeps redis-py's exception as a cause: its frames hold the connection's
  ``auth_args``, the password among them.
- **After fork()** the child forgets the parent's clients without touching them: their
  sockets and the event loop's selector (an epoll set) are shared with the parent, and
  closing them there would break the parent's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import urllib.parse
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from ._signing import redact_url
from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from ._redis import RedisLimiter

__all__ = ["LoopState", "RedisTarget", "import_redis"]

# The Redis Cluster schemes (as the limits library spells them), and the single-node
# scheme each one's nodes speak.
_CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def import_redis() -> Any:
    try:
        import redis.asyncio
    except ImportError as exc:  # pragma: no cover - exercised by hand without the extra
        msg = "RedisLimiter needs redis-py: pip install '.[redis]' (from a clone of moor7)"
        raise ImportError(msg) from exc
    return redis


class RedisTarget:
    """The Redis the limiter uses: a URL (never shown whole) or a client of the user's."""

    __slots__ = ("_password", "_url", "client", "cluster")

    def __init__(self, redis: object) -> None:
        # Nothing here may raise: the caller holds the plain URL until this returns.
        self.client: Any = None
        self._url: str | None = None
        self._password: str | None = None
        self.cluster = False
        if isinstance(redis, str):
            self._url = redis
            with contextlib.suppress(Exception):
                self._password = urllib.parse.unquote(urllib.parse.urlsplit(redis).password or "")
        else:
            self.client = redis

    def __repr__(self) -> str:
        # getattr: a half-built target must show itself too (a crash reporter's frames).
        url = getattr(self, "_url", None)
        return "<client>" if url is None else repr(redact_url(url))

    def check(self, module: Any) -> None:
        """Refuse what cannot work, before the first call (ConfigurationError)."""
        problem = self._problem(module)
        if problem is not None:
            raise ConfigurationError(problem)

    def _problem(self, module: Any) -> str | None:
        if self._url is None:
            return self._client_problem(module)
        scheme = self._url.split("://", 1)[0].lower() if "://" in self._url else ""
        if scheme in _CLUSTER_SCHEMES:
            self.cluster = True
            try:
                # Its nodes, and the first node's URL as redis-py will read it (an option
                # it refuses would otherwise raise at the first call, URL and all).
                module.connection.parse_url(self._cluster_nodes()[0])
            except ValueError:
                return f"not a Redis Cluster URL: {redact_url(self._url)!r}"
            return None
        try:
            # Checked now, not at the first call, where redis-py's ValueError would
            # escape the client.
            module.connection.parse_url(self._url)
        except ValueError:
            pass
        else:
            return None
        return (
            "not a Redis URL (redis://, rediss://, unix://, or redis+cluster:// for a "
            f"Redis Cluster): {redact_url(self._url)!r}"
        )

    def _client_problem(self, module: Any) -> str | None:
        client = self.client
        if isinstance(client, module.asyncio.RedisCluster):
            self.cluster = True
            return None
        if isinstance(client, module.asyncio.Redis):
            return None
        name = type(client).__name__
        if isinstance(client, (module.Redis, module.RedisCluster)):
            return (
                f"RedisLimiter needs an asyncio Redis client, got the synchronous {name}: "
                "pass redis.asyncio.Redis(...) (or redis.asyncio.Redis.from_url(...), "
                "redis.asyncio.RedisCluster(...), or redis.asyncio.sentinel.Sentinel(...)"
                ".master_for(...)), or a redis:// URL"
            )
        return f"redis must be a URL or a redis.asyncio.Redis or RedisCluster client, got {name}"

    def scrub(self, text: str) -> str:
        """*text* (a message quoted from redis-py) without the URL's password."""
        if self._password and len(self._password) >= 3:
            text = text.replace(self._password, "***")
        return redact_url(text) if "://" in text else text

    def _cluster_nodes(self) -> tuple[str, list[tuple[str, int]]]:
        """The single-node URL of the first node, and every node's host and port."""
        assert self._url is not None
        parts = urllib.parse.urlsplit(self._url)
        userinfo, _, hosts = parts.netloc.rpartition("@")
        nodes = []
        for host_port in hosts.split(","):
            host, _, port = host_port.strip().rpartition(":")
            if not host:
                host, port = port, "6379"
            nodes.append((host.strip("[]"), int(port)))
        if not nodes or not nodes[0][0]:
            raise ValueError("no node")
        scheme = _CLUSTER_SCHEMES[parts.scheme.lower()]
        first = f"{userinfo}@{hosts.split(',')[0]}" if userinfo else hosts.split(",")[0]
        single = urllib.parse.urlunsplit((scheme, first, parts.path, parts.query, ""))
        return single, nodes

    def new_client(self, module: Any, **settings: Any) -> Any:
        """A new client of the URL, for one event loop."""
        assert self._url is not None
        if not self.cluster:
            return module.asyncio.Redis.from_url(self._url, **settings)
        from redis.asyncio.cluster import ClusterNode

        single, nodes = self._cluster_nodes()
        return module.asyncio.RedisCluster.from_url(
            single, startup_nodes=[ClusterNode(host, port) for host, port in nodes], **settings
        )


class Queue:
    """The waiters of one account and priority on one event loop, first come first
    served: only the head polls Redis. Dropped when none is left."""

    __slots__ = ("id", "lock", "registered", "users")

    def __init__(self, queue_id: str) -> None:
        self.id = queue_id
        self.lock = asyncio.Lock()
        self.users = 0
        # Whether Redis holds this queue as waiting (for other processes to see).
        self.registered = False


class LoopState:
    """What the limiter keeps for one event loop: its Redis client and its queues."""

    def __init__(self, limiter: RedisLimiter, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        target = limiter._target
        self.owned = target.client is None
        self.client: Any = target.client if target.client is not None else limiter._new_client()
        self.scripts = {name: self.client.register_script(s) for name, s in limiter._scripts}
        self.queues: dict[tuple[str, str], Queue] = {}
        # Bumped by each failure, so that waiters queued behind it fail at once instead
        # of each waiting out the timeouts in turn.
        self.outages = 0
        self.last_error: BaseException | None = None
        self.closed = False
        # Fire-and-forget steps (withdrawing a cancelled queue), kept until done.
        self.background: set[asyncio.Task[Any]] = set()
        # asyncio.run() and asyncio.Runner finish the loop's async generators before
        # closing it: this one closes the connections while the loop still runs.
        self.closer = _close_at_loop_shutdown(limiter, self)
        with contextlib.suppress(StopIteration):
            self.closer.asend(None).send(None)

    def queue(self, account: str, priority: str, make_id: Callable[[], str]) -> Queue:
        queue = self.queues.get((account, priority))
        if queue is None:
            queue = self.queues[account, priority] = Queue(make_id())
        return queue

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        current = asyncio.current_task()
        pending = [task for task in self.background if task is not current]
        if pending:
            # A withdrawal or a grant given back: short, and worth finishing; past a
            # second, cancelled (they would reopen a connection nothing closes).
            _, late = await asyncio.wait(pending, timeout=1.0)
            for task in late:
                task.cancel()
        if self.owned:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.aclose(), 1.0)

    def drop_without_its_loop(self) -> None:
        """Close the connections of a loop that is closed or not running: no coroutine
        can run on it now."""
        self.closed = True
        # Finish the closer here, where it finds this state closed and does nothing,
        # so that it is not finalized later on a loop that may never run it.
        with contextlib.suppress(StopIteration, RuntimeError):
            self.closer.aclose().send(None)
        if self.owned:
            _close_sockets_of_stopped_loop(self.client, self.loop)

    def forget_after_fork(self) -> None:
        """In a child after fork(): let go of the parent's connections without a word
        to Redis, the loop or its selector, all of which the parent still uses."""
        self.closed = True
        with contextlib.suppress(StopIteration, RuntimeError):
            self.closer.aclose().send(None)
        if not self.owned:
            return
        for connection in _connections_of(self.client):
            writer = getattr(connection, "_writer", None)
            if writer is None:
                continue
            connection._reader = connection._writer = None
            transport = writer.transport
            sock = getattr(transport, "_sock", None)
            # Closing for good, as far as this copy knows: nothing will close it again
            # (the writer's finalizer closes a transport that is not closing, through
            # the selector the parent still uses).
            transport._closing = True
            if sock is not None:
                # The child's copy of the descriptor only: the parent's socket and its
                # registration in the (shared) epoll set stay as they are. Detached
                # first, so that nothing closes the number again once it is reused.
                transport._sock = None
                with contextlib.suppress(OSError):
                    os.close(sock.detach())


async def _close_at_loop_shutdown(
    limiter: RedisLimiter, state: LoopState
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if not state.loop.is_closed() and not state.closed:
            limiter._forget_loop(state)
            await state.aclose()


def _connections_of(client: Any) -> list[Any]:
    # Best effort across redis-py versions: a Redis client's pool, or a cluster's nodes.
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        return [
            *getattr(pool, "_available_connections", ()),
            *getattr(pool, "_in_use_connections", ()),
        ]
    nodes = getattr(getattr(client, "nodes_manager", None), "nodes_cache", None) or {}
    return [c for node in list(nodes.values()) for c in getattr(node, "_connections", ())]


def _close_sockets_of_stopped_loop(client: Any, loop: asyncio.AbstractEventLoop) -> None:
    # A transport closes itself through its loop, which is not running: abort() has it
    # close its socket when the loop runs again. A closed loop never will, so the socket
    # is closed here, and the transport and redis-py's connection marked closed, so that
    # neither warns about it when collected.
    for connection in _connections_of(client):
        writer = getattr(connection, "_writer", None)
        if writer is None:
            continue
        connection._reader = connection._writer = None
        transport = writer.transport
        with contextlib.suppress(RuntimeError):
            transport.abort()  # stops it; its close cannot be scheduled on a closed loop
        sock = getattr(transport, "_sock", None)
        if sock is not None and loop.is_closed():
            sock.close()
            transport._sock = None


# Every limiter of the process, for fork().
ALL_LIMITERS: weakref.WeakSet[RedisLimiter] = weakref.WeakSet()


def _forget_parents_connections() -> None:
    for limiter in list(ALL_LIMITERS):
        limiter._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parents_connections)


def running_loop_or_none() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
