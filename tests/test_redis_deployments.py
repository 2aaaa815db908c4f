"""RedisLimiter on every Redis deployment operators run: a URL or a client (from_url,
Sentinel's master_for()), a three-master Redis Cluster, TLS, least-privilege ACL users;
no Redis password anywhere a crash reporter looks; and fork().

Real redis-server processes only (a cluster takes a few seconds to form).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.sentinel

import moor7
from moor7._redis_server import RedisProcess
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway
from tests.redis_servers import (
    APP_PASSWORD,
    Cluster,
    Sentinel,
    app_url,
    app_user,
    replica_of,
    silent_server,
    tls_server,
    wait_for,
)
from tests.test_limits import Interval, assert_never_over, timed_call

GUARD = 30.0


def prefix() -> str:
    return f"moor7:quota:test-{uuid.uuid4().hex}:"


@pytest.fixture
def server() -> Iterator[RedisProcess]:
    with RedisProcess(arguments=app_user()) as process:
        yield process


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster(arguments=app_user("cluster")) as made:
        yield made


def cluster_url(cluster: Cluster) -> str:
    return cluster.url.replace("://", f"://moor7-cluster:{APP_PASSWORD}@")


async def never_over(limiters: list[moor7.RedisLimiter], max_calls: int, period: float) -> None:
    """Limiters sharing one window (as processes do) never let more than *max_calls*
    calls go in any *period*, and each of them works."""
    intervals: list[Interval] = []
    calls = [timed_call(limiters[i % len(limiters)], "a", intervals) for i in range(3 * max_calls)]
    await asyncio.wait_for(asyncio.gather(*calls), GUARD)
    assert len(intervals) == 3 * max_calls
    assert_never_over(intervals, max_calls, period)


class TestClientForms:
    async def test_an_asyncio_client(self, server: RedisProcess) -> None:
        client = redis.asyncio.Redis(
            port=server.port, username="moor7-single", password=APP_PASSWORD
        )
        limiter = moor7.RedisLimiter(client, max_calls=3, period=0.3, key_prefix=prefix())
        await never_over([limiter], 3, 0.3)
        await limiter.aclose()
        assert await client.time()  # a client passed in is the caller's: left open
        await client.aclose()

    async def test_a_client_from_url(self, server: RedisProcess) -> None:
        client = redis.asyncio.Redis.from_url(app_url(server))
        limiter = moor7.RedisLimiter(client, max_calls=3, period=0.3, key_prefix=prefix())
        await never_over([limiter], 3, 0.3)
        await client.aclose()

    async def test_a_sentinel_master_across_a_failover(self, server: RedisProcess) -> None:
        """Sentinel's master_for() is a redis.asyncio.Redis; after SENTINEL FAILOVER it
        finds the promoted replica, and the window (replicated) goes on."""
        replica = replica_of(server, app_user())
        sentinel = Sentinel(server)
        sentinel.start()
        try:
            wait_for(
                lambda: (
                    b"num-other-sentinels" in sentinel.command("SENTINEL", "MASTER", "mymaster")
                    and b"slave" in sentinel.command("SENTINEL", "REPLICAS", "mymaster")
                ),
                "the sentinel to see the replica",
            )
            watcher = redis.asyncio.sentinel.Sentinel(
                [("127.0.0.1", sentinel.port)],
                socket_timeout=1.0,
                username="moor7-single",
                password=APP_PASSWORD,
            )
            master = watcher.master_for("mymaster", socket_timeout=1.0)
            key_prefix = prefix()
            first = moor7.RedisLimiter(master, max_calls=3, period=0.5, key_prefix=key_prefix)
            await never_over([first], 3, 0.5)
            assert sentinel.command("SENTINEL", "FAILOVER", "mymaster") == b"+OK\r\n"
            wait_for(
                lambda: (
                    str(replica.port).encode()
                    in sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
                ),
                "the failover",
            )
            # The first steps after it may meet the old master, now read-only: an outage,
            # retried as an application would.
            intervals: list[Interval] = []
            deadline = time.monotonic() + GUARD
            while len(intervals) < 6:
                assert time.monotonic() < deadline
                try:
                    await timed_call(first, "a", intervals)
                except moor7.LimiterUnavailableError:
                    await asyncio.sleep(0.1)
            assert_never_over(intervals, 3, 0.5)
            await first.aclose()
            await master.aclose()
            for connection in watcher.sentinels:
                await connection.aclose()
        finally:
            sentinel.close()
            replica.close()

    @pytest.mark.parametrize("synchronous", [redis.Redis, redis.RedisCluster])
    def test_a_synchronous_client_is_refused_saying_what_to_pass(
        self, synchronous: type[Any]
    ) -> None:
        client = synchronous.__new__(synchronous)  # never connected: only its type counts
        with pytest.raises(moor7.ConfigurationError, match=r"redis\.asyncio\.Redis"):
            moor7.RedisLimiter(client)

    def test_something_else_is_refused(self) -> None:
        with pytest.raises(moor7.ConfigurationError, match=r"URL or a redis\.asyncio"):
            moor7.RedisLimiter(42)  # type: ignore[arg-type]


class TestCluster:
    async def test_a_cluster_url_keeps_the_window_across_limiters(self, cluster: Cluster) -> None:
        key_prefix = prefix()
        limiters = [
            moor7.RedisLimiter(cluster_url(cluster), max_calls=4, period=0.4, key_prefix=key_prefix)
            for _ in range(3)
        ]
        await never_over(limiters, 4, 0.4)
        for limiter in limiters:
            await limiter.pause("a", 0.01)
            assert (await limiter.ausage("a")).max_calls == 4
            await limiter.aclose()

    async def test_a_redis_cluster_client(self, cluster: Cluster) -> None:
        node = cluster.nodes[0]
        client = redis.asyncio.RedisCluster(
            host="127.0.0.1", port=node.port, username="moor7-cluster", password=APP_PASSWORD
        )
        limiter = moor7.RedisLimiter(client, max_calls=3, period=0.3, key_prefix=prefix())
        await never_over([limiter], 3, 0.3)
        await client.aclose()

    async def test_every_key_of_an_account_is_in_its_slot(self, cluster: Cluster) -> None:
        """No key outside the account's hash tag (a CROSSSLOT error otherwise), for many
        accounts spread over the three masters."""
        key_prefix = prefix()
        limiter = moor7.RedisLimiter(
            cluster_url(cluster), max_calls=2, period=0.2, key_prefix=key_prefix
        )
        accounts = [f"20001{i:02d}" for i in range(12)]
        for account in accounts:
            async with limiter.acquire(account):
                pass
            await limiter.pause(account, 0.01)
        admin = redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port)
        try:
            holders = set()
            for account in accounts:
                keys = [k for k in limiter._keys(account) if admin.exists(k)]
                assert keys, account
                assert len({admin.keyslot(k) for k in limiter._keys(account)}) == 1
                holders.add(cluster.node_of(keys[0]).port)
            assert len(holders) == 3  # the accounts really are spread over the masters
        finally:
            admin.close()
        await limiter.aclose()

    async def test_a_cluster_down_is_an_outage_not_a_configuration_error(self) -> None:
        """Every master gone: unreachable, as for one server, so on_unavailable applies
        (here, the local fallback keeps limiting)."""
        with Cluster(arguments=app_user("cluster")) as down:
            url = cluster_url(down)
            raising = moor7.RedisLimiter(url, key_prefix=prefix(), socket_timeout=0.5)
            falling_back = moor7.RedisLimiter(
                url, key_prefix=prefix(), socket_timeout=0.5, on_unavailable="local"
            )
            for limiter in (raising, falling_back):
                async with limiter.acquire("a"):
                    pass
            for node in down.nodes:
                node.kill()
            with pytest.raises(moor7.LimiterUnavailableError):
                async with raising.acquire("a"):
                    pass
            async with falling_back.acquire("a"):
                pass
            await raising.aclose()
            await falling_back.aclose()

    def test_a_cluster_url_redis_py_would_refuse_is_refused_at_once(self) -> None:
        url = f"redis+cluster://user:{PASSWORD}@127.0.0.1:7000/0?socket_timeout=abc"
        with pytest.raises(moor7.ConfigurationError, match="not a Redis Cluster URL") as caught:
            moor7.RedisLimiter(url)
        assert PASSWORD not in crash_report(caught.value)

    async def test_a_cluster_url_for_a_single_server_is_a_configuration_error(
        self, server: RedisProcess
    ) -> None:
        url = app_url(server).replace("redis://", "redis+cluster://")
        limiter = moor7.RedisLimiter(url, on_unavailable="local", key_prefix=prefix())
        with pytest.raises(moor7.ConfigurationError, match="Cluster mode is not enabled"):
            async with limiter.acquire("a"):
                pass
        await limiter.aclose()


class TestAccessControl:
    async def test_the_documented_user_is_enough(self, server: RedisProcess) -> None:
        # The fixtures of every Redis test use it; here it does everything once more.
        limiter = moor7.RedisLimiter(
            app_url(server),
            max_calls=2,
            period=0.2,
            key_prefix=prefix(),
            after_restart="wait",  # INFO: a new server waits period + lease (0.3 s)
            lease=0.1,
        )
        await never_over([limiter], 2, 0.2)
        await limiter.pause("a", 0.01)
        await limiter.ausage("a")
        await limiter.aclose()
        assert server.command("ACL", "LOG").startswith(b"*0\r\n")  # nothing was denied

    async def test_the_documented_user_on_another_database(self, server: RedisProcess) -> None:
        url = app_url(server).removesuffix("/0") + "/3"  # redis-py sends SELECT 3
        limiter = moor7.RedisLimiter(url, max_calls=2, period=0.2, key_prefix=prefix())
        await never_over([limiter], 2, 0.2)
        await limiter.aclose()

    async def test_a_user_without_dangerous_commands(self, server: RedisProcess) -> None:
        """``+@all -@dangerous``: no INFO, and the limiter does without it."""
        server.command("ACL", "SETUSER", "safe", "on", ">pw", "~*", "+@all", "-@dangerous")
        url = f"redis://safe:pw@127.0.0.1:{server.port}/0"
        limiter = moor7.RedisLimiter(url, max_calls=2, period=0.2, key_prefix=prefix())
        await never_over([limiter], 2, 0.2)
        await limiter.aclose()
        # Refused at once, on a new window and on one other processes already use: a
        # setting that cannot work does not wait for an outage to show.
        serving = moor7.RedisLimiter(url, key_prefix=prefix())
        async with serving.acquire("a"):
            pass
        for key_prefix in (prefix(), serving.key_prefix):
            strict = moor7.RedisLimiter(url, key_prefix=key_prefix, after_restart="wait")
            with pytest.raises(moor7.ConfigurationError, match=r"INFO command \(ACL \+info\)"):
                async with strict.acquire("a"):
                    pass
            with pytest.raises(moor7.ConfigurationError, match=r"INFO command"):
                await strict.ausage("a")
            await strict.aclose()
        await serving.aclose()

    async def test_a_user_without_a_needed_command_is_told_so(self, server: RedisProcess) -> None:
        server.command("ACL", "SETUSER", "meagre", "on", ">pw", "~*", "+@all", "-zadd")
        limiter = moor7.RedisLimiter(
            f"redis://meagre:pw@127.0.0.1:{server.port}/0",
            key_prefix=prefix(),
            on_unavailable="local",  # not a silent fallback: a refusal
        )
        with pytest.raises(moor7.ConfigurationError, match="ACL"):
            async with limiter.acquire("a"):
                pass
        await limiter.aclose()


class TestTls:
    async def test_rediss_with_the_servers_ca(self, tmp_path: Path) -> None:
        with tls_server(tmp_path) as (_, port, ca):
            url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}"
            limiter = moor7.RedisLimiter(url, max_calls=2, period=0.2, key_prefix=prefix())
            await never_over([limiter], 2, 0.2)
            await limiter.aclose()

    async def test_a_certificate_nobody_trusts_is_a_configuration_error(
        self, tmp_path: Path
    ) -> None:
        with tls_server(tmp_path) as (_, port, _ca):
            limiter = moor7.RedisLimiter(
                f"rediss://127.0.0.1:{port}/0",
                key_prefix=prefix(),
                socket_timeout=1.0,
                on_unavailable="local",  # no wait fixes it: never a silent fallback
            )
            with pytest.raises(moor7.ConfigurationError, match=r"(?i)certificate"):
                async with limiter.acquire("a"):
                    pass
            await limiter.aclose()


# -- no Redis password where a crash reporter looks -----------------------------------

PASSWORD = "s3cr3t-redis-pw-7f1e"


MOOR7 = str(Path(moor7.__file__).parent)


def crash_report(error: BaseException) -> str:
    """What a crash reporter with default options records of *error*, as far as moor7
    answers for it: its message and repr, every frame local of moor7's frames in every
    traceback of the __cause__/__context__ chain (walked into dicts and lists, others
    by repr), as Sentry does; and Python's TracebackException with capture_locals=True,
    formatted from moor7's first frame. (The caller's own frames hold what the caller
    gave, the URL among it.)"""
    parts: list[str] = []
    seen: set[int] = set()

    def walk(value: Any, depth: int = 0) -> None:
        if depth > 6 or id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                parts.append(repr(key))
                walk(item, depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                walk(item, depth + 1)
        else:
            try:
                parts.append(repr(value))
            except Exception as exc:  # a repr that raises is what a reporter records too
                parts.append(f"<repr failed: {exc!r}>")

    def from_moor7(tb: Any) -> Any:
        while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(MOOR7):
            tb = tb.tb_next
        return tb

    chained: BaseException | None = error
    while chained is not None and id(chained) not in seen:
        seen.add(id(chained))
        parts += [str(chained), repr(chained)]
        tb = chained.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.startswith(MOOR7):
                walk(dict(tb.tb_frame.f_locals))
            tb = tb.tb_next
        chained = chained.__cause__ or chained.__context__
    report = traceback.TracebackException(
        type(error), error, from_moor7(error.__traceback__), capture_locals=True
    )
    parts += report.format()
    return "\n".join(parts)


class TestNoPasswordAnywhere:
    @pytest.fixture
    def locked(self) -> Iterator[RedisProcess]:
        with RedisProcess(arguments=("--requirepass", "the-right-one")) as process:
            yield process

    async def _failure(self, url: str, caplog: pytest.LogCaptureFixture) -> BaseException:
        limiter = moor7.RedisLimiter(url, key_prefix=prefix(), socket_timeout=1.0)
        assert PASSWORD not in repr(limiter)
        async with (
            FakeGateway() as gateway,
            moor7.AsyncClient(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
            ) as client,
        ):
            with caplog.at_level(0):
                try:
                    await client.get_number_pool()
                except moor7.Moor7Error as exc:
                    error: BaseException = exc
                else:
                    raise AssertionError("expected a failure")
        await limiter.aclose()
        assert PASSWORD not in caplog.text
        assert error.__cause__ is None
        assert error.__context__ is None
        return error

    async def test_a_wrong_password(
        self, locked: RedisProcess, caplog: pytest.LogCaptureFixture
    ) -> None:
        error = await self._failure(f"redis://:{PASSWORD}@127.0.0.1:{locked.port}/0", caplog)
        assert isinstance(error, moor7.ConfigurationError)
        assert "password" in str(error)
        assert PASSWORD not in crash_report(error)
        assert PASSWORD.encode() not in pickle.dumps(error)

    async def test_tls_against_a_plain_port(
        self, locked: RedisProcess, caplog: pytest.LogCaptureFixture
    ) -> None:
        error = await self._failure(
            f"rediss://user:{PASSWORD}@127.0.0.1:{locked.port}/0?password={PASSWORD}", caplog
        )
        # The server waits for a command the handshake never completes: a timeout.
        assert isinstance(error, moor7.LimiterUnavailableError)
        assert PASSWORD not in crash_report(error)

    def test_a_bad_option_with_the_url_in_hand(self) -> None:
        url = f"redis://:{PASSWORD}@127.0.0.1:6379/0"
        with pytest.raises(moor7.ConfigurationError) as caught:
            moor7.RedisLimiter(url, on_unavailable="ignore")  # type: ignore[arg-type]
        assert PASSWORD not in crash_report(caught.value)

    def test_a_bad_url(self) -> None:
        url = f"redis://:{PASSWORD}@127.0.0.1:port/0"
        with pytest.raises(moor7.ConfigurationError) as caught:
            moor7.RedisLimiter(url)
        assert PASSWORD not in crash_report(caught.value)


# -- deadlines against a Redis that does not answer ------------------------------------


async def test_a_deadline_is_kept_against_a_stalled_redis() -> None:
    """Redis accepts and never answers: a call with deadline=1.0 ends at its deadline
    (not after the limiter's 4 s of timeouts), without sending anything."""
    with silent_server() as port:
        limiter = moor7.RedisLimiter(f"redis://127.0.0.1:{port}/0", key_prefix=prefix())
        async with (
            FakeGateway() as gateway,
            moor7.AsyncClient(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
            ) as client,
        ):
            started = time.monotonic()
            with pytest.raises(moor7.DeadlineExceeded, match="before the deadline"):
                await client.get_number_pool(deadline=1.0)
            assert time.monotonic() - started < 1.5
            assert gateway.calls == []
        await limiter.aclose()


# -- fork() ---------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX")
class TestFork:
    def test_close_in_a_child_neither_stalls_nor_touches_the_parent(
        self, server: RedisProcess
    ) -> None:
        """The parent drives its own loop and uses the sync Client's too; a child
        (gunicorn, celery) closes the limiter: at once, and the parent's next step on
        either loop still works."""
        limiter = moor7.RedisLimiter(app_url(server), max_calls=50, period=1.0, key_prefix=prefix())
        loop = asyncio.new_event_loop()
        try:

            async def one() -> None:
                async with limiter.acquire("a"):
                    pass

            loop.run_until_complete(one())  # a connection on the parent's own loop
            with (
                FakeGateway() as gateway,
                moor7.Client(
                    DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=limiter
                ) as client,
            ):
                client.get_number_pool()  # and on the sync Client's background loop
                read, write = os.pipe()
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child reports through the pipe
                    code = 1
                    try:
                        started = time.monotonic()
                        limiter.close()
                        took = time.monotonic() - started
                        code = 0 if took < 0.5 else 2
                        os.write(write, f"{took:.3f}".encode())
                    finally:
                        os._exit(code)
                os.close(write)
                _, status = os.waitpid(pid, 0)
                took = os.read(read, 64).decode()
                os.close(read)
                assert os.waitstatus_to_exitcode(status) == 0, took
                # The parent's connections and loops are untouched.
                loop.run_until_complete(asyncio.wait_for(one(), 5))
                client.get_number_pool()
        finally:
            loop.run_until_complete(limiter.aclose())
            limiter.close()
            loop.close()

    def test_a_child_uses_the_limiter_with_connections_of_its_own(
        self, server: RedisProcess
    ) -> None:
        limiter = moor7.RedisLimiter(app_url(server), max_calls=50, period=1.0, key_prefix=prefix())

        async def one() -> None:
            async with limiter.acquire("a"):
                pass

        asyncio.run(one())
        pid = os.fork()
        if pid == 0:  # pragma: no cover - reported by the exit status
            code = 1
            try:
                signal.alarm(10)
                asyncio.run(one())
                limiter.close()
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        asyncio.run(one())
        limiter.close()
        assert sys.platform != "win32"
