"""The secret key, the signatures and SIP passwords never show where people look.

One scan over everything a user or an operator sees: repr() and str() of the clients,
signers, models and every exception the client raised, DEBUG logs of every logger, and
the command line's output and errors.
"""

from __future__ import annotations

import gc
import inspect
import logging
import pickle
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import pytest

import moor7
from moor7._cli import main
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault

SIP_PASSWORD = "123456Aa"  # the sample SIP number's
MOOR7_DIR = str(Path(moor7.__file__).parent)


def assert_clean(text: str, signatures: list[str]) -> None:
    assert DEMO_SECRET_KEY not in text
    assert SIP_PASSWORD not in text
    leaked = [sign for sign in signatures if sign in text]
    assert not leaked, leaked


class TestEverythingAUserSees:
    async def test_reprs_errors_and_debug_logs(self, caplog: pytest.LogCaptureFixture) -> None:
        seen: list[str] = []
        async with FakeGateway(quota=None) as gateway:
            client = moor7.AsyncClient(
                DEMO_APPKEY,
                DEMO_SECRET_KEY,
                base_url=gateway.url,
                limiter=moor7.Unlimited(),
                backoff_initial=0,
                backoff_max=0,
            )
            with caplog.at_level(logging.DEBUG):  # every logger: moor7, stamina, aiohttp
                async with client:
                    pool = await client.get_number_pool()
                    seen += [repr(client), repr(client.signer), repr(pool), str(pool)]
                    seen += [repr(n) for n in pool.sip_numbers]
                    for fault in Fault:
                        if fault is Fault.SLOW:
                            continue
                        gateway.fail_next(fault, times=5)
                        try:
                            await client.get_number_pool(max_retries=1)
                        except moor7.Moor7Error as error:
                            seen += [repr(error), str(error), repr(error.__cause__)]
                async with moor7.AsyncClient(
                    DEMO_APPKEY, "a-wrong-secret", base_url=gateway.url, limiter=moor7.Unlimited()
                ) as wrong:
                    with pytest.raises(moor7.AuthenticationError) as excinfo:
                        await wrong.get_number_pool()
                    seen += [repr(excinfo.value), str(excinfo.value), repr(wrong)]
                    assert "a-wrong-secret" not in repr(wrong)
            signatures = [call.headers["m7-sign"] for call in gateway.calls if call.headers]
        assert len(signatures) > 10
        seen.append(caplog.text)
        assert "POST /openapi/v1/call/query/number" in caplog.text  # logs were recorded
        for text in seen:
            assert_clean(text, signatures)

    def test_sync_client_repr(self) -> None:
        client = moor7.Client(DEMO_APPKEY, DEMO_SECRET_KEY)
        try:
            assert_clean(repr(client), [])
        finally:
            client.close()

    def test_command_line_output_and_errors(self, capsys: pytest.CaptureFixture[str]) -> None:
        with FakeGateway() as gateway:
            assert main(["--sandbox", "-v", "numbers"]) == 0
            assert main(["--sandbox", "--json", "numbers"]) == 0
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY]
            gateway.fail_next(Fault.AUTH_REJECT, times=2)  # tried once more, then raised
            assert main([*argv, "--base-url", gateway.url, "-v", "numbers"]) == 1
            signatures = [call.headers["m7-sign"] for call in gateway.calls]
        captured = capsys.readouterr()
        assert "AuthenticationError" in captured.err
        assert_clean(captured.out + captured.err, signatures)


def reachable_strings(root: object, limit: int = 20_000) -> list[str]:
    """Every str reachable from *root* through the garbage collector's references."""
    seen: set[int] = set()
    found: list[str] = []
    todo = [root]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type) or inspect.ismodule(obj):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            found.append(obj)
            continue
        todo.extend(gc.get_referents(obj))
    return found


class TestCrashReports:
    """What a crash reporter records: frame locals, and repr() of what they hold."""

    def test_a_mistyped_base_url_does_not_leave_the_secret_in_a_local(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MOOR7_SECRET_KEY", DEMO_SECRET_KEY)
        monkeypatch.setenv("MOOR7_BASE_URL", "htps://v7openapi.7moor.com")
        for make in (moor7.AsyncClient, moor7.Client):
            with pytest.raises(moor7.ConfigurationError) as excinfo:
                make(DEMO_APPKEY)
            report = traceback.TracebackException.from_exception(excinfo.value, capture_locals=True)
            assert_clean("".join(report.format()), [])

    @pytest.mark.parametrize(
        "arguments",
        [
            {"base_url": "ftp://x"},
            {"timeout": -1},
            {"limiter": object()},
            {"max_retries": -1},
        ],
    )
    def test_a_secret_passed_in_is_hidden_in_every_frame_of_ours(
        self, arguments: dict[str, object]
    ) -> None:
        for make in (moor7.AsyncClient, moor7.Client):
            with pytest.raises(moor7.ConfigurationError) as excinfo:
                make(DEMO_APPKEY, DEMO_SECRET_KEY, **arguments)
            # Only moor7's frames: the test's own frame holds the constant it passed.
            tb = excinfo.value.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code.co_filename.startswith(MOOR7_DIR):
                    text = "".join(f"{k}={v!r}" for k, v in tb.tb_frame.f_locals.items())
                    assert_clean(text, [])
                tb = tb.tb_next

    def test_a_bad_secret_is_not_in_the_signers_frame(self) -> None:
        with pytest.raises(moor7.ConfigurationError) as excinfo:
            moor7.HmacSigner(DEMO_APPKEY, DEMO_SECRET_KEY + " ")
        report = traceback.TracebackException.from_exception(excinfo.value, capture_locals=True)
        lines = [line for line in report.format() if "_signing.py" in line or "=" in line]
        assert lines
        assert_clean("".join(report.format()).replace(repr(DEMO_SECRET_KEY + " "), ""), [])

    @pytest.mark.parametrize(
        "cls",
        [
            moor7.AsyncClient,
            moor7.Client,
            moor7.HmacSigner,
            moor7.AiohttpTransport,
            moor7.RedisLimiter,
        ],
    )
    def test_repr_of_a_half_built_object_works(self, cls: type) -> None:
        half_built = cls.__new__(cls)
        text = repr(half_built)
        assert cls.__name__ in text

    @pytest.mark.parametrize(
        "url",
        [
            "redis://ops:hunter2@127.0.0.1:6379/0",
            "redis://127.0.0.1:6379/0?password=hunter2",
            "rediss://:hunter2@127.0.0.1:6380?db=1&Password=hunter2",
        ],
    )
    def test_a_redis_urls_password_never_shows(self, url: str) -> None:
        assert "hunter2" not in repr(moor7.RedisLimiter(url))

    def test_a_proxys_password_never_shows(self) -> None:
        client = moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, proxy="http://ops:hunter2@proxy.example:3128"
        )
        assert "hunter2" not in repr(client) + repr(client.transport)

    def test_the_sync_client_keeps_no_secret_in_clear(self) -> None:
        secret = "".join(reversed(DEMO_SECRET_KEY))  # not interned as the constant is
        client = moor7.Client(DEMO_APPKEY, secret)
        try:
            assert secret not in reachable_strings(client)
            assert secret not in repr(vars(client))
        finally:
            client.close()

    def test_a_secret_is_never_pickled(self) -> None:
        from moor7._signing import Secret

        with pytest.raises(TypeError, match="not pickled"):
            pickle.dumps(Secret(DEMO_SECRET_KEY))


class TestExit:
    def test_a_call_from_an_atexit_handler_registered_before_moor7s_works(
        self, tmp_path: Path
    ) -> None:
        script = tmp_path / "job.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import atexit
                import moor7
                from moor7.testing import FakeGateway

                gateway = FakeGateway().__enter__()  # serves until the process ends
                # A host name, not an address: resolved at exit too, without the
                # executor that refuses work by then.
                url = gateway.url.replace("127.0.0.1", "localhost")
                client = moor7.Client({DEMO_APPKEY!r}, {DEMO_SECRET_KEY!r}, base_url=url)

                def flush_last_report():
                    # Registered before moor7's own handler (made at the first call),
                    # so it runs after moor7 stopped its event loop.
                    pool = client.get_number_pool()
                    agents = list(client.list_agents())
                    print("at exit:", len(pool.display_numbers), len(agents), flush=True)

                atexit.register(flush_last_report)
                print("groups:", len(client.list_display_number_groups()), flush=True)
                """
            )
        )
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-W", "error", str(script)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["groups: 1", "at exit: 1 5"]
        assert result.stderr == ""
