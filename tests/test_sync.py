"""The sync facade: the same client, blocking, where users really call it from."""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


class TestParity:
    """Client mirrors AsyncClient name for name, so the docs of one serve both."""

    def test_same_methods(self) -> None:
        async_methods = set(public_methods(moor7.AsyncClient)) - {"aclose"}
        sync_methods = set(public_methods(moor7.Client)) - {"close"}
        assert async_methods == sync_methods

    def test_same_parameters(self) -> None:
        sync = public_methods(moor7.Client)
        for name, signature in public_methods(moor7.AsyncClient).items():
            if name == "aclose":
                continue
            assert list(signature.parameters) == list(sync[name].parameters), name
            for parameter in signature.parameters.values():
                other = sync[name].parameters[parameter.name]
                assert (parameter.kind, parameter.default) == (other.kind, other.default)

    def test_the_generated_methods_are_up_to_date(self) -> None:
        """moor7/_sync_methods.py is written from AsyncClient by scripts/generate_sync.py."""
        script = Path(__file__).resolve().parents[1] / "scripts" / "generate_sync.py"
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_help_shows_what_users_can_pass(self) -> None:
        """No private sentinel in a signature; every sync method has the full docstring."""
        for cls in (moor7.AsyncClient, moor7.Client):
            for name, signature in public_methods(cls).items():
                assert "_Unset" not in str(signature), name
                assert "_" + "UNSET" not in str(signature), name
        for name in public_methods(moor7.AsyncClient):
            if name in ("aclose", "close"):
                continue
            doc = inspect.getdoc(getattr(moor7.Client, name)) or ""
            assert "Args:" in doc, name
            assert "Raises:" in doc, name
            assert "See :meth:" not in doc, name

    def test_iterators_become_plain_iterators_and_docs_drop_await(self) -> None:
        assert "Iterator[Agent]" in str(inspect.signature(moor7.Client.list_agents))
        assert "AsyncIterator" not in str(inspect.signature(moor7.Client.list_agents))
        doc = moor7.Client.list_agent_pages.__doc__ or ""
        assert "for page in client.list_agent_pages" in doc
        assert "await" not in (moor7.Client.listen.__doc__ or "")

    def test_same_constructor_but_session(self) -> None:
        async_parameters = dict(inspect.signature(moor7.AsyncClient).parameters)
        sync_parameters = dict(inspect.signature(moor7.Client).parameters)
        # An aiohttp session (and the transport holding it) belongs to one event loop;
        # the Client's loop is private.
        del async_parameters["session"]
        del async_parameters["transport"]
        assert list(async_parameters) == list(sync_parameters)
        for name, parameter in async_parameters.items():
            assert parameter.default == sync_parameters[name].default, name

    def test_same_properties(self) -> None:
        for name in ("appkey", "base_url", "closed"):
            assert hasattr(moor7.Client, name)


class TestCalls:
    def test_both_endpoints_are_typed(self, sync_client: moor7.Client) -> None:
        pool = sync_client.get_number_pool()
        assert isinstance(pool, moor7.NumberPool)
        assert pool.display_numbers[0].number == "9813"
        groups = sync_client.list_display_number_groups()
        assert groups[0].name == "客服号码组"
        assert groups.request_id is not None

    def test_request(self, sync_client: moor7.Client, thread_gateway: FakeGateway) -> None:
        thread_gateway.set_response("/openapi/v1/call/sip/list", [{"number": "2000"}])
        assert sync_client.request("/openapi/v1/call/sip/list", {"page": 1}) == [{"number": "2000"}]

    def test_errors_are_the_same_exceptions(self, thread_gateway: FakeGateway) -> None:
        with (
            moor7.Client(
                DEMO_APPKEY, "wrong", base_url=thread_gateway.url, limiter=moor7.Unlimited()
            ) as client,
            pytest.raises(moor7.AuthenticationError) as excinfo,
        ):
            client.get_number_pool()
        assert excinfo.value.status == 401

    def test_bad_arguments_fail_at_the_call_site(self) -> None:
        with pytest.raises(moor7.ConfigurationError, match="MOOR7_APPKEY"):
            moor7.Client()
        with pytest.raises(moor7.ConfigurationError):
            moor7.Client("a", "s", timeout=-1)

    def test_bad_call_arguments_raise_in_the_caller(self, sync_client: moor7.Client) -> None:
        with pytest.raises(moor7.ConfigurationError):
            sync_client.request("no-slash")

    def test_retries_and_timeouts(
        self, sync_client: moor7.Client, thread_gateway: FakeGateway
    ) -> None:
        thread_gateway.fail_next(Fault.SERVER_ERROR)
        assert sync_client.get_number_pool().sip_numbers
        thread_gateway.fail_next(Fault.SLOW, delay=2)
        with pytest.raises(moor7.RequestTimeout):
            sync_client.get_number_pool(timeout=0.2, max_retries=0)


class TestLifecycle:
    def test_close_is_idempotent_and_final(self, thread_gateway: FakeGateway) -> None:
        client = moor7.Client(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=thread_gateway.url, limiter=moor7.Unlimited()
        )
        client.get_number_pool()
        client.close()
        client.close()
        assert client.closed
        with pytest.raises(moor7.ClientClosedError):
            client.get_number_pool()

    def test_close_before_any_call(self) -> None:
        client = moor7.Client("2000103", "s")
        client.close()
        assert client.closed

    def test_repr_never_shows_the_secret(self) -> None:
        client = moor7.Client("2000103", "TOP-SECRET-VALUE")
        assert "TOP-SECRET-VALUE" not in repr(client)
        assert "2000103" in repr(client)
        client.close()

    def test_a_forgotten_client_is_closed_without_warnings(
        self, thread_gateway: FakeGateway
    ) -> None:
        client = moor7.Client(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=thread_gateway.url, limiter=moor7.Unlimited()
        )
        client.get_number_pool()
        del client
        # warnings are errors in this suite: an unclosed aiohttp session would fail here
        # or at the end of the session.
        gc.collect()
        time.sleep(0.1)  # the close runs on the background loop
        gc.collect()


class TestWhereUsersCallFrom:
    def test_sixteen_threads_share_one_client(self) -> None:
        with (
            FakeGateway(quota=None) as gateway,
            # Each thread's every call through the pipeline: none shares another's answer
            # (tests/test_shared_answers.py pins the sharing across threads).
            moor7.Client(
                DEMO_APPKEY,
                DEMO_SECRET_KEY,
                base_url=gateway.url,
                limiter=moor7.Unlimited(),
                share_answers=False,
            ) as client,
        ):

            def work(_: int) -> int:
                return sum(len(client.get_number_pool().display_numbers) for _ in range(5))

            with ThreadPoolExecutor(max_workers=16) as pool:
                results = list(pool.map(work, range(16)))
            assert results == [5] * 16
            assert len(gateway.calls) == 80
            assert {call.status for call in gateway.calls} == {200}

    def test_inside_a_running_event_loop(self, sync_client: moor7.Client) -> None:
        """A Jupyter cell or an async framework calling a blocking helper."""

        async def notebook_cell() -> moor7.NumberPool:
            return sync_client.get_number_pool()

        pool = asyncio.run(notebook_cell())
        assert pool.display_numbers

    def test_from_its_own_loop_is_a_clear_error_not_a_deadlock(
        self, thread_gateway: FakeGateway
    ) -> None:
        """A signer that (wrongly) makes a blocking call would wait for itself."""
        inner = moor7.Client(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=thread_gateway.url, limiter=moor7.Unlimited()
        )

        class BlockingSigner:
            def sign(self, request: moor7.OutgoingRequest) -> dict[str, str]:
                inner.list_display_number_groups()
                raise AssertionError("unreachable")

        with (
            moor7.Client(
                DEMO_APPKEY, signer=BlockingSigner(), base_url=thread_gateway.url
            ) as outer,
            pytest.raises(moor7.UsageError, match="wait for itself"),
        ):
            outer.get_number_pool()
        inner.close()

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")
    def test_in_a_child_after_fork(
        self, sync_client: moor7.Client, thread_gateway: FakeGateway
    ) -> None:
        """gunicorn and celery fork workers after the app made its client."""
        sync_client.get_number_pool()  # the parent's loop thread and session are live
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a threaded process may deadlock; that is
            # exactly the case under test.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            status = 1
            try:
                pool = sync_client.get_number_pool()
                os.write(write_end, pool.display_numbers[0].number.encode())
                sync_client.close()
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        _, wait_status = os.waitpid(pid, 0)
        answer = os.read(read_end, 100)
        os.close(read_end)
        assert os.waitstatus_to_exitcode(wait_status) == 0
        assert answer == b"9813"
        # And the parent's client still works.
        assert sync_client.get_number_pool().display_numbers

    def test_ctrl_c_during_a_call_leaves_the_client_usable(
        self, sync_client: moor7.Client, thread_gateway: FakeGateway
    ) -> None:
        thread_gateway.fail_next(Fault.SLOW, delay=5)
        # A real SIGINT, as a terminal sends it: it interrupts the blocked wait, where
        # _thread.interrupt_main() would only be noticed after the call returned.
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                sync_client.get_number_pool()
        finally:
            timer.cancel()
        assert time.monotonic() - started < 3
        assert sync_client.get_number_pool().display_numbers

    def test_interpreter_exit_without_close(self, thread_gateway: FakeGateway) -> None:
        script = textwrap.dedent(
            f"""
            import moor7
            client = moor7.Client(
                {DEMO_APPKEY!r}, {DEMO_SECRET_KEY!r},
                base_url={thread_gateway.url!r}, limiter=moor7.Unlimited(),
            )
            print(client.get_number_pool().display_numbers[0].number)
            """
        )
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-W", "error", "-X", "dev", "-c", script],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "9813"
        assert result.stderr == ""


class TestSharedLimiterFromARunningLoop:
    """A blocking call from async code, with the same limiter as that code's own tasks."""

    def test_does_not_wait_behind_the_blocked_loops_own_waiters(
        self, thread_gateway: FakeGateway
    ) -> None:
        shared = moor7.LocalLimiter(max_calls=1, period=0.5)
        sync_client = moor7.Client(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=thread_gateway.url, limiter=shared
        )

        async def service() -> float:
            async with moor7.AsyncClient(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=thread_gateway.url, limiter=shared
            ) as async_client:
                await async_client.get_number_pool()  # the window is full for 0.5 s
                queued = asyncio.create_task(async_client.get_number_pool())
                await asyncio.sleep(0.05)  # queued is now first in line
                started = time.monotonic()
                sync_client.get_number_pool()  # a blocking helper, from async code
                elapsed = time.monotonic() - started
                await queued
                return elapsed

        try:
            elapsed = asyncio.run(asyncio.wait_for(service(), timeout=10))
        finally:
            sync_client.close()
        assert elapsed < 2  # it went when the window allowed, instead of never

    def test_a_quota_held_by_the_blocked_loop_is_a_clear_error(
        self, thread_gateway: FakeGateway
    ) -> None:
        shared = moor7.LocalLimiter(max_calls=1, period=0.2)
        thread_gateway.fail_next(Fault.SLOW, delay=3)
        sync_client = moor7.Client(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=thread_gateway.url, limiter=shared
        )

        async def service() -> None:
            async with moor7.AsyncClient(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=thread_gateway.url, limiter=shared
            ) as async_client:
                slow = asyncio.create_task(async_client.get_number_pool())
                await asyncio.sleep(0.1)  # slow holds the only slot, in flight
                with pytest.raises(moor7.UsageError, match="hold the whole quota"):
                    sync_client.get_number_pool()
                slow.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await slow

        try:
            asyncio.run(asyncio.wait_for(service(), timeout=10))
        finally:
            sync_client.close()


class TestForkWithAThreadInsideTheClient:
    @pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")
    def test_child_call_does_not_hang_on_a_lock_held_at_fork(
        self, sync_client: moor7.Client
    ) -> None:
        sync_client.get_number_pool()
        held, release = threading.Event(), threading.Event()

        def inside_the_client() -> None:
            # What a thread in the middle of a call or close() holds for a moment.
            # _lock is private: holding it is how this test stands in for that thread.
            with sync_client._lock:
                held.set()
                release.wait()

        thread = threading.Thread(target=inside_the_client, daemon=True)
        thread.start()
        held.wait()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            signal.alarm(10)  # a hang ends the child with SIGALRM
            status = 1
            try:
                sync_client.get_number_pool()
                status = 0
            finally:
                os._exit(status)
        release.set()
        thread.join()
        _, wait_status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(wait_status) == 0


class TestThreadsWithTheQuota:
    def test_sixteen_threads_never_exceed_a_strict_gateway(self) -> None:
        max_calls, period = 5, 0.3
        with (
            FakeGateway(quota=max_calls, quota_period=period) as gateway,
            moor7.Client(
                DEMO_APPKEY,
                DEMO_SECRET_KEY,
                base_url=gateway.url,
                limiter=moor7.LocalLimiter(max_calls, period),
                max_retries=0,
            ) as client,
        ):
            with ThreadPoolExecutor(max_workers=16) as pool:
                results = list(pool.map(lambda _: client.list_display_number_groups(), range(32)))
            assert len(results) == 32
            assert {call.status for call in gateway.calls} == {200}
            assert gateway.max_calls_in_window(DEMO_APPKEY, period) <= max_calls
