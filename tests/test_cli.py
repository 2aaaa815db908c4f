"""The moor7 command, in-process and as a real subprocess."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import pytest

import moor7
import moor7._client
from moor7._cli import main
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault


class TestSandbox:
    def test_numbers_table(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--sandbox", "numbers"]) == 0
        out = capsys.readouterr().out
        assert "外显号 display numbers (1)" in out
        assert "9813" in out
        assert "9804" in out
        assert "2000" in out
        assert "555, 888" in out  # the display number's groups
        assert "request id: " in out

    def test_groups_table(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--sandbox", "groups"]) == 0
        assert "客服号码组" in capsys.readouterr().out

    def test_numbers_json_after_the_command(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["numbers", "--sandbox", "--json"]) == 0
        document = json.loads(capsys.readouterr().out)
        display = document["display_numbers"][0]
        assert display["number"] == "9813"
        assert display["call_ability"] == "service_and_display"
        assert display["create_time"] == "2020-12-08T16:48:26+08:00"
        assert display["groups"][0] == {"id": "5fe5d170c5d23f6117477723", "name": "555"}
        assert document["sip_numbers"][0]["coding_formats"] == ["G711A", "G711U"]

    def test_groups_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--json", "--sandbox", "groups"]) == 0
        assert json.loads(capsys.readouterr().out) == [
            {"id": "5ff7c305ba185200117836f8", "name": "客服号码组"}
        ]

    @pytest.mark.parametrize("extra", [[], ["--json"]])
    def test_sip_password_is_never_printed(
        self, capsys: pytest.CaptureFixture[str], extra: list[str]
    ) -> None:
        assert main(["--sandbox", "numbers", *extra]) == 0
        assert "123456Aa" not in capsys.readouterr().out


class TestRealGateway:
    def test_credentials_from_the_environment(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with FakeGateway() as gateway:
            monkeypatch.setenv("MOOR7_APPKEY", DEMO_APPKEY)
            monkeypatch.setenv("MOOR7_SECRET_KEY", DEMO_SECRET_KEY)
            monkeypatch.setenv("MOOR7_BASE_URL", gateway.url)
            assert main(["groups"]) == 0
        assert "客服号码组" in capsys.readouterr().out

    def test_credentials_from_flags(self, capsys: pytest.CaptureFixture[str]) -> None:
        with FakeGateway() as gateway:
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY]
            assert main([*argv, "--base-url", gateway.url, "numbers"]) == 0
        assert "9813" in capsys.readouterr().out

    def test_missing_credentials_exit_2_and_say_how(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["numbers"]) == 2
        err = capsys.readouterr().err
        assert "pass --appkey or set MOOR7_APPKEY" in err
        assert "--sandbox" in err  # the way to try it without an account

    def test_rejected_credentials_exit_1_without_the_secret(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with FakeGateway() as gateway:
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", "WRONG-SECRET-123"]
            assert main([*argv, "--base-url", gateway.url, "numbers"]) == 1
            signatures = [call.headers["m7-sign"] for call in gateway.calls]
        captured = capsys.readouterr()
        assert "AuthenticationError" in captured.err
        assert "WRONG-SECRET-123" not in captured.err + captured.out
        assert not any(sign in captured.err for sign in signatures)

    def test_a_failed_call_prints_its_request_id(self, capsys: pytest.CaptureFixture[str]) -> None:
        with FakeGateway() as gateway:
            gateway.fail_next(Fault.SERVER_ERROR, times=4)
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY]
            assert main([*argv, "--base-url", gateway.url, "--max-retries", "0", "groups"]) == 1
            (call,) = gateway.calls
        assert f"\nrequest id: {call.request_id}\n" in capsys.readouterr().err

    def test_unreachable_gateway_exit_1(self, capsys: pytest.CaptureFixture[str]) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        argv = ["--appkey", "a", "--secret-key", "s", "--base-url", f"http://127.0.0.1:{port}"]
        assert main([*argv, "--max-retries", "0", "numbers"]) == 1
        assert "ConnectError" in capsys.readouterr().err

    def test_verbose_logs_attempts_to_stderr(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--sandbox", "-v", "groups"]) == 0
        err = capsys.readouterr().err
        assert "POST /openapi/v1/call/query/group -> 200" in err
        assert DEMO_SECRET_KEY not in err


def agents(count: int) -> list[dict[str, Any]]:
    return [
        {"_id": f"{n:024x}", "agentNumber": str(7000 + n), "agentName": f"座席{n}", "queue": []}
        for n in range(count)
    ]


class AnnouncingLimiter:
    """A LocalLimiter that logs the record the log contract gives the limiters (the
    lead's change): moor7_event="quota_wait" with moor7_wait, before a wait."""

    def __init__(self, max_calls: int, period: float) -> None:
        self.inner = moor7.LocalLimiter(max_calls, period)

    @contextlib.asynccontextmanager
    async def acquire(self, account: str) -> AsyncGenerator[None, None]:
        wait = self.inner.expected_wait(account)
        if wait > 0:
            logging.getLogger("moor7").info(
                "quota: no free slot for account %s; waiting %.1fs",
                account,
                wait,
                extra={"moor7_event": "quota_wait", "moor7_account": account, "moor7_wait": wait},
            )
        async with self.inner.acquire(account):
            yield

    async def pause(self, account: str, seconds: float | None = None) -> None:
        await self.inner.pause(account, seconds)


class TerminalStderr(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestLongWaitsAreNeverSilent:
    """A call waiting for the quota, a retry, a long paging: said on stderr."""

    def test_a_quota_wait_in_plain_words(self, capsys: pytest.CaptureFixture[str]) -> None:
        class Waiting(AnnouncingLimiter):
            @contextlib.asynccontextmanager
            async def acquire(self, account: str) -> AsyncGenerator[None, None]:
                logging.getLogger("moor7").info(
                    "quota: ...",
                    extra={
                        "moor7_event": "quota_wait",
                        "moor7_account": account,
                        "moor7_wait": 42.4,
                    },
                )
                yield

        with FakeGateway() as gateway, _limiter(Waiting(1, 1.0)):
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY, "--base-url"]
            assert main([*argv, gateway.url, "groups"]) == 0
        err = capsys.readouterr().err
        assert err.splitlines()[0] == (
            f"moor7: waiting 42 s for a free slot of account {DEMO_APPKEY}'s quota "
            "(7moor counts every call, each page and retry too)"
        )

    def test_moor7_agents_over_many_pages_with_a_small_quota(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with (
            FakeGateway(agents=agents(250), quota=None) as gateway,
            _limiter(AnnouncingLimiter(1, 1.0)),
        ):
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY, "--base-url"]
            assert main([*argv, gateway.url, "agents"]) == 0
            assert len(gateway.calls) == 3
        out, err = capsys.readouterr()
        assert "座席 agents (250)" in out
        waits = [line for line in err.splitlines() if line.startswith("moor7: waiting ")]
        assert len(waits) == 2  # before the second and the third page
        assert "\r" not in err  # not a terminal: no progress line

    def test_paging_progress_on_a_terminal(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        stderr = TerminalStderr()
        with FakeGateway(agents=agents(250), quota=None) as gateway:
            monkeypatch.setattr(sys, "stderr", stderr)
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY, "--base-url"]
            assert main([*argv, gateway.url, "agents"]) == 0
        written = stderr.getvalue()
        assert "\rmoor7: agents: 100 so far (1 page)" in written
        assert "\rmoor7: agents: 200 so far (2 pages)" in written
        assert "\rmoor7: agents: 250 so far (3 pages)" in written
        # Cleared before the table: the last thing on the line is blank.
        rest = written.rpartition("(3 pages)")[2]
        assert rest.startswith("\r" + " " * len("moor7: agents: 250 so far (3 pages)") + "\r")
        assert "座席 agents (250)" in capsys.readouterr().out

    def test_a_notice_during_paging_gets_a_line_of_its_own(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        stderr = TerminalStderr()
        with (
            FakeGateway(agents=agents(150), quota=None) as gateway,
            _limiter(AnnouncingLimiter(1, 1.0)),
        ):
            monkeypatch.setattr(sys, "stderr", stderr)
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY, "--base-url"]
            assert main([*argv, gateway.url, "--json", "agents"]) == 0
        blank = "\r" + " " * len("moor7: agents: 100 so far (1 page)") + "\r"
        assert blank + "moor7: waiting " in stderr.getvalue()

    def test_a_retry_is_said_without_v(self, capsys: pytest.CaptureFixture[str]) -> None:
        with FakeGateway() as gateway:
            gateway.fail_next(Fault.SERVER_ERROR)
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY, "--base-url"]
            assert main([*argv, gateway.url, "groups"]) == 0
        (line,) = [x for x in capsys.readouterr().err.splitlines() if "retry" in x]
        assert line.startswith(
            "moor7: POST /openapi/v1/call/query/group failed (ServerError) on attempt 1; "
            "retry 1 of 3 in "
        )

    def test_nothing_but_notices_without_v(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--sandbox", "groups"]) == 0
        assert capsys.readouterr().err == ""


@contextlib.contextmanager
def _limiter(limiter: Any) -> Iterator[None]:
    """The limiter the command's Client gets (the command has no flag for one)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moor7._client, "default_limiter", lambda: limiter)
        yield


class TestEntryPoints:
    def test_python_m_moor7_sandbox_numbers(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOOR7_")}
        result = subprocess.run(
            [sys.executable, "-W", "error", "-m", "moor7", "--sandbox", "numbers"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert "9813" in result.stdout
        assert result.stderr == ""

    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as excinfo:
            main(["--version"])
        assert excinfo.value.code == 0
        assert capsys.readouterr().out.startswith("moor7 ")

    def test_usage_error_exits_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as excinfo:
            main(["dial"])
        assert excinfo.value.code == 2


def moor7_process(
    *args: str, encoding: str, **variables: str
) -> subprocess.CompletedProcess[bytes]:
    """``python -m moor7 ARGS`` with its output in *encoding*, as a terminal gives it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOOR7_")}
    return subprocess.run(  # noqa: S603 - this interpreter, running moor7
        [sys.executable, "-W", "error", "-m", "moor7", *args],
        capture_output=True,
        timeout=60,
        check=False,
        env={**env, **variables, "PYTHONIOENCODING": encoding},
    )


class TestATerminalThatCannotShowChinese:
    """PYTHONIOENCODING=cp1252 (a Western Windows console) or ascii: the output degrades
    to escapes, it never crashes with UnicodeEncodeError."""

    @pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
    @pytest.mark.parametrize(
        "args",
        [
            ["--sandbox", "groups"],
            ["--sandbox", "numbers"],
            ["--sandbox", "agents"],
            ["--sandbox", "queues"],
            ["--sandbox", "sip"],
            ["--help"],
            ["gateway", "--help"],
        ],
    )
    def test_tables_and_help(self, encoding: str, args: list[str]) -> None:
        result = moor7_process(*args, encoding=encoding)
        assert result.returncode == 0, result.stderr.decode(encoding)
        out = result.stdout.decode(encoding)  # nothing the terminal cannot show
        assert "Error" not in result.stderr.decode(encoding)
        if args == ["--sandbox", "groups"]:
            # 外显号组 and 客服号码组, escaped; the columns still line up.
            assert "\\u5916\\u663e\\u53f7\\u7ec4 display-number groups (1)" in out
            header, row = out.splitlines()[1:3]
            assert header.index("name") == row.index("\\u5ba2")

    @pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
    @pytest.mark.parametrize(
        "args",
        [
            ["--sandbox", "--json", "groups"],
            ["--sandbox", "--json", "agents"],
            ["--sandbox", "call", "/openapi/v1/call/query/group"],
        ],
    )
    def test_json_stays_valid_json_with_the_same_values(
        self, encoding: str, args: list[str]
    ) -> None:
        degraded = moor7_process(*args, encoding=encoding)
        full = moor7_process(*args, encoding="utf-8")
        assert degraded.returncode == 0, degraded.stderr.decode(encoding)
        document = json.loads(degraded.stdout.decode(encoding))
        assert document == json.loads(full.stdout.decode("utf-8"))
        assert "客服号码组" in json.dumps(document, ensure_ascii=False) or "agents" in args[-1]

    def test_an_error_message_in_chinese(self) -> None:
        """The gateway's refusal (签名错误 ...) on stderr, escaped."""
        with FakeGateway() as gateway:
            result = moor7_process(
                "--base-url",
                gateway.url,
                "groups",
                encoding="cp1252",
                MOOR7_APPKEY=DEMO_APPKEY,
                MOOR7_SECRET_KEY="wrong",
            )
        assert result.returncode == 1
        err = result.stderr.decode("cp1252")
        assert "AuthenticationError" in err
        assert "\\u" in err  # the Chinese part of the gateway's message, escaped
        assert "UnicodeEncodeError" not in err

    def test_in_process_the_streams_are_restored(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--sandbox", "groups"]) == 0
        assert sys.stdout.errors == sys.stderr.errors == "strict"
        assert "客服号码组" in capsys.readouterr().out


class TestFamilies:
    @pytest.mark.parametrize(
        ("command", "expected"),
        [("agents", "张三"), ("sip", "凯哥测试"), ("queues", "默认技能组")],
    )
    def test_table_with_its_request_id(
        self, capsys: pytest.CaptureFixture[str], command: str, expected: str
    ) -> None:
        assert main(["--sandbox", command]) == 0
        out = capsys.readouterr().out
        assert expected in out
        assert re.search(r"^request id: [0-9a-f]{32}$", out, re.MULTILINE)

    def test_agents_json_is_every_page_with_each_pages_request_id_on_stderr(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["--sandbox", "--json", "agents"]) == 0
        captured = capsys.readouterr()
        agents = json.loads(captured.out)
        assert [agent["agent_number"] for agent in agents][:2] == ["2000", "2001"]
        assert re.fullmatch(r"request id: [0-9a-f]{32}\n", captured.err)

    def test_call_any_path_with_a_json_body(self, capsys: pytest.CaptureFixture[str]) -> None:
        argv = ["--sandbox", "call", "/openapi/v1/call/query/agent", '{"agentNumber": "2000"}']
        assert main(argv) == 0
        captured = capsys.readouterr()
        (agent,) = json.loads(captured.out)
        assert agent["agentName"] == "张三"  # the data as the gateway sent it
        assert captured.err.startswith("request id: ")

    def test_call_an_unknown_path_is_sent_once_unless_kind_query(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with FakeGateway() as gateway:
            gateway.set_response("/openapi/v1/call/elsewhere", {"ok": True})
            gateway.fail_next(Fault.SERVER_ERROR, times=2)
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY]
            argv += ["--base-url", gateway.url, "call", "/openapi/v1/call/elsewhere"]
            assert main(argv) == 1
            assert len(gateway.calls) == 1
            assert main([*argv, "--kind", "query"]) == 0
            assert [call.status for call in gateway.calls] == [500, 500, 200]
        assert "ServerError" in capsys.readouterr().err

    @pytest.mark.parametrize("body", ["{not json", "[1, 2]"])
    def test_call_with_a_body_that_is_not_a_json_object(
        self, capsys: pytest.CaptureFixture[str], body: str
    ) -> None:
        assert main(["--sandbox", "call", "/openapi/v1/call/query/agent", body]) == 2
        assert "BODY" in capsys.readouterr().err


class TestCallsBody:
    """moor7 call PATH BODY: the text, @FILE, or - for stdin, as curl -d reads them."""

    GROUPS = "/openapi/v1/call/query/agent"

    def test_from_a_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
        body = tmp_path / "body.json"
        body.write_text('\ufeff{"agentNumber": "2000"}', encoding="utf-8")  # a BOM too
        assert main(["--sandbox", "call", self.GROUPS, f"@{body}"]) == 0
        (agent,) = json.loads(capsys.readouterr().out)
        assert agent["agentNumber"] == "2000"

    def test_from_stdin(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        stdin = io.TextIOWrapper(io.BytesIO(b'{"agentNumber": "2000"}'), "cp1252")
        monkeypatch.setattr(sys, "stdin", stdin)
        assert main(["--sandbox", "call", self.GROUPS, "-"]) == 0
        (agent,) = json.loads(capsys.readouterr().out)
        assert agent["agentNumber"] == "2000"

    def test_from_stdin_through_a_pipe(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOOR7_")}
        result = subprocess.run(  # noqa: S603 - this interpreter, running moor7
            [sys.executable, "-m", "moor7", "--sandbox", "call", self.GROUPS, "-"],
            # UTF-8, whatever the locale says (LC_ALL=C: ASCII): the note is not ASCII.
            input='{"agentNumber": "2000", "note": "张三"}'.encode(),
            capture_output=True,
            timeout=60,
            check=False,
            env={**env, "PYTHONIOENCODING": "utf-8", "LC_ALL": "C"},
        )
        assert result.returncode == 0, result.stderr
        (agent,) = json.loads(result.stdout)
        assert agent["agentNumber"] == "2000"

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ("@{missing}", "BODY from {missing}: cannot read it: No such file or directory"),
            ("@{not_json}", "BODY from {not_json} is not JSON: "),
            ("@{a_list}", "BODY from {a_list} must be a JSON object"),
            ("@{latin1}", "BODY from {latin1} is not UTF-8 text"),
            ("{{", "BODY is not JSON: "),
        ],
    )
    def test_bad_bodies_exit_2_naming_where_they_came_from(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Any, body: str, message: str
    ) -> None:
        files = {
            "missing": tmp_path / "missing.json",
            "not_json": tmp_path / "not.json",
            "a_list": tmp_path / "list.json",
            "latin1": tmp_path / "latin1.json",
        }
        files["not_json"].write_text("{agentNumber: 2000}")
        files["a_list"].write_text("[1]")
        files["latin1"].write_bytes('{"agentName": "Zoë"}'.encode("latin-1"))
        with FakeGateway() as gateway:
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY]
            argv += ["--base-url", gateway.url, "call", self.GROUPS, body.format(**files)]
            assert main(argv) == 2
            assert gateway.calls == []
        assert f"moor7: error: {message.format(**files)}" in capsys.readouterr().err

    @pytest.mark.parametrize(
        "argv",
        [
            ["--sandbox", "call", "/openapi/v1/call/query/group", "--json"],
            ["--json", "--sandbox", "call", "/openapi/v1/call/query/group"],
        ],
    )
    def test_json_is_refused_where_it_does_nothing(
        self, capsys: pytest.CaptureFixture[str], argv: list[str]
    ) -> None:
        assert main(argv) == 2
        assert capsys.readouterr().err == (
            "moor7: error: moor7 call always prints JSON (the data as the gateway sent it): "
            "leave out --json\n"
        )


class TestMessagesInTheCommandsWords:
    """A configuration error names the flag or variable the user gave, never a parameter."""

    @pytest.mark.parametrize(
        ("argv", "environment", "expected"),
        [
            ([], {}, "no appkey: pass --appkey or set MOOR7_APPKEY"),
            (["--appkey", "1"], {}, "no secret key: pass --secret-key or set MOOR7_SECRET_KEY"),
            (["--appkey", " "], {}, "--appkey must not be empty"),
            (["--secret-key", ""], {"MOOR7_APPKEY": "1"}, "--secret-key must not be empty"),
            ([], {"MOOR7_APPKEY": " ", "MOOR7_SECRET_KEY": "s"}, "MOOR7_APPKEY must not be blank"),
            (
                ["--base-url", "v7openapi.7moor.com"],
                {"MOOR7_APPKEY": "1", "MOOR7_SECRET_KEY": "s"},
                "--base-url must be an http:// or https:// URL with a host",
            ),
            (
                [],
                {"MOOR7_APPKEY": "1", "MOOR7_SECRET_KEY": "s", "MOOR7_BASE_URL": "ftp://x"},
                "MOOR7_BASE_URL must be an http:// or https:// URL with a host",
            ),
            (["--sandbox", "--timeout", "0"], {}, "--timeout must be a number of seconds > 0"),
            (["--sandbox", "--timeout", "nan"], {}, "--timeout must be a number of seconds > 0"),
            (["--sandbox", "--max-retries", "-1"], {}, "--max-retries must be an integer >= 0"),
            (
                ["--sandbox"],
                {"MOOR7_TIMEOUT": "soon"},
                "MOOR7_TIMEOUT must be a number of seconds > 0, got 'soon'",
            ),
            (
                ["--sandbox"],
                {"MOOR7_MAX_RETRIES": "-2"},
                "MOOR7_MAX_RETRIES must be an integer >= 0, got -2",
            ),
        ],
    )
    def test_exit_2_naming_the_flag_or_variable(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        argv: list[str],
        environment: dict[str, str],
        expected: str,
    ) -> None:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        assert main([*argv, "groups"]) == 2
        err = capsys.readouterr().err
        assert f"moor7: error: {expected}" in err
        for parameter in ("appkey=", "secret_key", "base_url", "max_retries", "timeout="):
            assert parameter not in err

    def test_tuning_from_the_environment_and_flags_over_it(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MOOR7_MAX_RETRIES", "1")
        with FakeGateway() as gateway:
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY]
            argv += ["--base-url", gateway.url]
            gateway.fail_next(Fault.SERVER_ERROR, times=9)
            assert main([*argv, "groups"]) == 1
            assert len(gateway.calls) == 2
            assert main([*argv, "--max-retries", "0", "groups"]) == 1
            assert len(gateway.calls) == 3
        assert "attempts=2" in capsys.readouterr().err

    def test_timeout_0_is_refused_not_the_default(self, capsys: pytest.CaptureFixture[str]) -> None:
        with FakeGateway() as gateway:
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY]
            assert main([*argv, "--base-url", gateway.url, "--timeout", "0", "groups"]) == 2
            assert gateway.calls == []
        assert "--timeout must be a number of seconds > 0" in capsys.readouterr().err

    def test_sandbox_says_which_flags_and_variables_it_ignores(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MOOR7_BASE_URL", "http://127.0.0.1:9")
        argv = ["--sandbox", "--appkey", "1", "--secret-key", "s", "--base-url", "http://x"]
        assert main([*argv, "groups"]) == 0
        captured = capsys.readouterr()
        assert captured.err == (
            "moor7: --sandbox ignores --appkey, --secret-key, --base-url and MOOR7_BASE_URL: "
            "it calls its own fake gateway as the demo account\n"
        )
        assert "客服号码组" in captured.out

    def test_sandbox_alone_says_nothing(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--sandbox", "groups"]) == 0
        assert capsys.readouterr().err == ""


class TestTableAndJsonAgree:
    """The table and --json show the same value: an enum's lower-case member name."""

    def _both(self, capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[str, Any]:
        assert main(argv) == 0
        table = capsys.readouterr().out
        assert main([*argv, "--json"]) == 0
        return table, json.loads(capsys.readouterr().out)

    def test_number_pool(self, capsys: pytest.CaptureFixture[str]) -> None:
        table, document = self._both(capsys, ["--sandbox", "numbers"])
        display = document["display_numbers"][0]
        sip = document["sip_numbers"][0]
        values = [display["call_ability"], display["status"], display["resource_type"]]
        assert values == ["service_and_display", "enabled", "trunk_number"]
        assert [sip["status"], sip["register_status"]] == ["enabled", "registered"]
        row = next(line.split() for line in table.splitlines() if line.startswith("  9813"))
        assert row[1:4] == values
        sip_row = next(line.split() for line in table.splitlines() if line.startswith("  2000"))
        assert sip_row[1:3] == ["enabled", "registered"]

    @pytest.mark.parametrize(
        ("command", "field"),
        [("agents", "status"), ("queues", "status"), ("sip", "register_status")],
    )
    def test_each_family(
        self, capsys: pytest.CaptureFixture[str], command: str, field: str
    ) -> None:
        table, document = self._both(capsys, ["--sandbox", command])
        for record in document:
            assert isinstance(record[field], str)
            assert record[field] in table

    def test_a_value_the_docs_do_not_list_is_the_wires_in_both(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with FakeGateway() as gateway:
            pool = gateway.number_pool
            pool["displayNumberList"][0]["callAbility"] = 7
            gateway.number_pool = pool
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY]
            table, document = self._both(capsys, [*argv, "--base-url", gateway.url, "numbers"])
        assert document["display_numbers"][0]["call_ability"] == 7
        row = next(line.split() for line in table.splitlines() if line.startswith("  9813"))
        assert row[1] == "7"
