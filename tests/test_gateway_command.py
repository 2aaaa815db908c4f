"""``moor7 gateway``: the fake gateway as a standalone server, run as a real subprocess."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest

import moor7
from moor7._cli import main
from moor7._gateway import _standalone
from moor7._gateway._server import client_host
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY

ROOT = Path(__file__).resolve().parents[1]
STARTUP = 30.0  # seconds; generous, for a loaded machine


@attrs.frozen
class Served:
    """A running ``moor7 gateway`` and what it printed first."""

    process: subprocess.Popen[bytes]
    settings: dict[str, str]
    stderr: Path

    @property
    def url(self) -> str:
        return self.settings["MOOR7_BASE_URL"]

    def client(self) -> moor7.Client:
        return moor7.Client(
            self.settings["MOOR7_APPKEY"],
            self.settings["MOOR7_SECRET_KEY"],
            base_url=self.url,
            max_retries=0,
            limiter=moor7.Unlimited(),
        )

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=STARTUP)


def _first_lines(process: subprocess.Popen[bytes], count: int) -> list[str]:
    """The first *count* lines of stdout, read without blocking past STARTUP."""
    assert process.stdout is not None
    fd, text, deadline = process.stdout.fileno(), b"", time.monotonic() + STARTUP
    while text.count(b"\n") < count:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            pytest.fail(f"moor7 gateway printed {text!r}, then nothing (exit {process.poll()})")
        text += chunk
    return text.decode().splitlines()[:count]


@contextmanager
def served(tmp_path: Path, *args: str) -> Iterator[Served]:
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, running moor7
            [sys.executable, "-W", "error", "-m", "moor7", "gateway", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            env={k: v for k, v in os.environ.items() if not k.startswith("MOOR7_")},
        )
    try:
        lines = _first_lines(process, 3)
        yield Served(process, dict(line.split("=", 1) for line in lines), stderr)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=STARTUP)
        assert process.stdout is not None
        process.stdout.close()


def raw_call(url: str, path: str, body: bytes = b"{}") -> tuple[int, dict[str, Any]]:
    """A request signed by hand, as curl and openssl would send it (no moor7 involved)."""
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(900_000) + 100_000)
    message = f"{DEMO_APPKEY}{timestamp}{nonce}".encode()
    digest = hmac.new(DEMO_SECRET_KEY.encode(), message, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "m7-appkey": DEMO_APPKEY,
        "m7-timestamp": timestamp,
        "m7-nonce": nonce,
        "m7-sign": base64.b64encode(digest).decode(),
    }
    # S310 (urlopen may follow file: URLs): the URL is the gateway's own http:// one.
    request = urllib.request.Request(url + path, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=STARTUP) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def _port_is_closed(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


class TestServing:
    def test_prints_where_it_listens_and_the_demo_account_first(self, tmp_path: Path) -> None:
        with served(tmp_path) as gateway:
            assert list(gateway.settings) == ["MOOR7_BASE_URL", "MOOR7_APPKEY", "MOOR7_SECRET_KEY"]
            assert gateway.url.startswith("http://127.0.0.1:")
            assert not gateway.url.endswith(":0")  # the bound port, not the one asked for
            assert gateway.settings["MOOR7_APPKEY"] == DEMO_APPKEY
            assert gateway.settings["MOOR7_SECRET_KEY"] == DEMO_SECRET_KEY
            assert gateway.stop() == 0

    def test_every_interface_prints_a_url_a_client_can_use(self, tmp_path: Path) -> None:
        """--host 0.0.0.0 (a container's setting) prints the loopback, not 0.0.0.0."""
        with served(tmp_path, "--host", "0.0.0.0") as gateway:
            assert gateway.url.startswith("http://127.0.0.1:")
            with gateway.client() as client:
                assert client.list_display_number_groups()
            assert gateway.stop() == 0
        err = gateway.stderr.read_text()
        port = gateway.url.rpartition(":")[2]
        assert "listening on every interface (0.0.0.0)" in err
        assert f"http://{socket.gethostname()}:{port}" in err

    @pytest.mark.parametrize(
        ("host", "url_host"),
        [
            ("0.0.0.0", "127.0.0.1"),
            ("::", "[::1]"),
            ("", "127.0.0.1"),
            ("127.0.0.1", "127.0.0.1"),
            ("::1", "[::1]"),
            ("moor7", "moor7"),
        ],
    )
    def test_the_host_a_client_connects_to(self, host: str, url_host: str) -> None:
        assert client_host(host) == url_host

    def test_a_moor7_client_and_a_hand_signed_request(self, tmp_path: Path) -> None:
        with served(tmp_path) as gateway:
            with gateway.client() as client:
                pool = client.get_number_pool()
            assert pool.display_numbers[0].number == "9813"
            status, envelope = raw_call(gateway.url, "/openapi/v1/call/query/group")
            assert status == 200
            assert envelope["data"] == [{"_id": "5ff7c305ba185200117836f8", "name": "客服号码组"}]
            status, envelope = raw_call(gateway.url, "/openapi/v1/nowhere")
            assert (status, envelope["code"]) == (404, "404")
            assert gateway.stop() == 0
            log = gateway.stderr.read_text()
        assert f"POST /openapi/v1/call/query/number -> 200 (request id {pool.request_id})" in log
        assert "POST /openapi/v1/call/query/group -> 200" in log

    @pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
    def test_a_signal_stops_it_with_exit_0_and_nothing_left(
        self, tmp_path: Path, sig: signal.Signals
    ) -> None:
        with served(tmp_path) as gateway:
            assert raw_call(gateway.url, "/openapi/v1/call/query/group")[0] == 200
            assert gateway.stop(sig) == 0
            assert _port_is_closed(gateway.url)
            log = gateway.stderr.read_text()
        assert log.endswith("moor7 gateway: stopped\n")
        assert "Traceback" not in log

    def test_quiet_logs_no_call(self, tmp_path: Path) -> None:
        with served(tmp_path, "--quiet") as gateway:
            assert raw_call(gateway.url, "/openapi/v1/call/query/group")[0] == 200
            assert gateway.stop() == 0
            assert "POST" not in gateway.stderr.read_text()

    def test_data_file(self, tmp_path: Path) -> None:
        data = {
            "groups": [{"_id": "g1", "name": "夜班"}],
            "agents": [{"_id": "a1", "agentNumber": "7001", "agentName": "李四"}],
        }
        path = tmp_path / "data.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        with served(tmp_path, "--data", str(path)) as gateway, gateway.client() as client:
            assert [group.name for group in client.list_display_number_groups()] == ["夜班"]
            assert [agent.name for agent in client.list_agents()] == ["李四"]
            # What the file leaves out is the docs' example.
            assert client.get_number_pool().display_numbers[0].number == "9813"

    def test_quota(self, tmp_path: Path) -> None:
        with served(tmp_path, "--quota", "2/60") as gateway:
            statuses = [raw_call(gateway.url, "/openapi/v1/call/query/group") for _ in range(3)]
        assert [status for status, _ in statuses] == [200, 200, 429]
        assert statuses[2][1]["message"] == "账户限流:2次/分 rate limit exceeded"

    def test_no_quota(self, tmp_path: Path) -> None:
        with served(tmp_path, "--quota", "none") as gateway:
            statuses = {raw_call(gateway.url, "/openapi/v1/call/query/group")[0] for _ in range(25)}
        assert statuses == {200}

    def test_faults_in_order_and_by_path(self, tmp_path: Path) -> None:
        groups = "/openapi/v1/call/query/group"
        args = ["--fault", f"server_error:2@{groups}", "--fault", "rate_limit"]
        with served(tmp_path, *args) as gateway:
            number = raw_call(gateway.url, "/openapi/v1/call/query/number")[0]
            calls = [raw_call(gateway.url, groups)[0] for _ in range(3)]
            after = raw_call(gateway.url, "/openapi/v1/call/query/number")[0]
        assert (number, calls, after) == (429, [500, 500, 200], 200)

    def test_data_file_in_the_guide(self, tmp_path: Path) -> None:
        """The example file of the command-line guide is one the command accepts."""
        guide = (ROOT / "docs" / "guides" / "command-line.md").read_text(encoding="utf-8")
        example = guide.split("```json\n", 1)[1].split("```", 1)[0]
        path = tmp_path / "data.json"
        path.write_text(example, encoding="utf-8")
        with served(tmp_path, "--data", str(path)) as gateway, gateway.client() as client:
            assert client.list_display_number_groups()[0].name == "夜班外显"


async def _never_served(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("the data was accepted and the gateway started")


class TestRefused:
    """A wrong flag is exit 2 with a message naming it, before anything listens."""

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (["--quota", "20"], "--quota must be N/PERIOD"),
            (["--quota", "0/60"], "--quota must be N/PERIOD"),
            (["--quota", "5/-1"], "--quota must be N/PERIOD"),
            (["--fault", "meltdown"], "unknown fault 'meltdown'; the faults are server_error"),
            (["--fault", "drop:0"], "TIMES must be a whole number >= 1"),
            (["--fault", "drop:x"], "TIMES must be a whole number >= 1"),
            (["--fault", "drop@openapi"], "PATH must start with '/'"),
            (["--port", "70000"], "--port must be from 0 to 65535"),
        ],
    )
    def test_bad_flag(
        self, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
    ) -> None:
        assert main(["gateway", *args]) == 2
        assert expected in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            ("{not json", "not JSON"),
            ("[]", "must be a JSON object"),
            ('{"groups": [], "accounts": {}}', "unknown key 'accounts'; the keys are number_pool"),
            ('{"agents": 5}', "agents"),
            # The shape of each key, checked against the models at start-up.
            ('{"groups": 5}', "groups must be a sequence of mappings"),
            ('{"number_pool": []}', "number_pool must be a mapping (a JSON object), not list"),
            ('{"answer_rates": {"9813": 5}}', "answer_rates['9813'] must be a mapping"),
            ('{"number_pool": {}}', "number_pool does not fit the model"),
            (
                '{"number_pool": {"displayNumberList": [{"_id": "1"}]}}',
                "number_pool does not fit the model the client reads it into (moor7.NumberPool, "
                "the data of /openapi/v1/call/query/number): required field missing @ "
                "$.display_numbers[0].number",
            ),
            ('{"agents": [{"agentName": "x"}]}', "agents does not fit the model"),
            ('{"queues": [{"members": 5}]}', "queues does not fit the model"),
            ('{"sip_numbers": [{"number": "1", "registerStatus": "on"}]}', "sip_numbers does not"),
            ('{"im_session_report": {"header": 5}}', "im_session_report does not fit"),
        ],
    )
    def test_bad_data_file(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        content: str,
        expected: str,
    ) -> None:
        # Data that passed would be served until SIGINT: fail at once instead.
        monkeypatch.setattr(_standalone, "serve", _never_served)
        path = tmp_path / "data.json"
        path.write_text(content, encoding="utf-8")
        assert main(["gateway", "--data", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"moor7: error: --data {path}: ")
        assert expected in err
        assert "Traceback" not in err

    def test_missing_data_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        assert main(["gateway", "--data", str(tmp_path / "none.json")]) == 2
        assert "cannot read it" in capsys.readouterr().err

    def test_the_options_of_the_calling_commands(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--json", "--appkey", "1", "gateway"]) == 2
        assert "moor7 gateway takes no --appkey, --json" in capsys.readouterr().err

    def test_a_port_in_use_exits_1(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = str(taken.getsockname()[1])
            result = subprocess.run(  # noqa: S603 - this interpreter, running moor7
                [sys.executable, "-W", "error", "-m", "moor7", "gateway", "--port", port],
                capture_output=True,
                text=True,
                timeout=STARTUP,
                check=False,
            )
        assert result.returncode == 1
        assert f"moor7: error: cannot listen on 127.0.0.1:{port}" in result.stderr
        assert result.stdout == ""
