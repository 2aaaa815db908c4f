"""The moor7 command, in-process and as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest

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
        assert display["call_ability"] == 3
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
        assert "MOOR7_APPKEY" in err
        assert "appkey=" in err

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
