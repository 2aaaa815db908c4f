"""The command line masks SIP passwords everywhere, unless asked with --show-secrets."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest

from moor7._cli import main
from moor7.testing import (
    DEMO_APPKEY,
    DEMO_SECRET_KEY,
    SAMPLE_NUMBER_POOL,
    SAMPLE_SIP_NUMBERS,
    FakeGateway,
)

SAMPLE_PASSWORD = SAMPLE_NUMBER_POOL["sipNumberList"][0]["password"]
LIST_PASSWORD = "sip-list-password-4b8e"  # a password the SIP list may send one day


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    records = [{**copy.deepcopy(SAMPLE_SIP_NUMBERS[0]), "password": LIST_PASSWORD}]
    with FakeGateway(sip_numbers=records) as gw:
        yield gw


def run(gateway: FakeGateway, *argv: str) -> None:
    account = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY, "--base-url", gateway.url]
    assert main([*account, *argv]) == 0


COMMANDS = [
    ["numbers"],
    ["numbers", "--json"],
    ["sip"],
    ["sip", "--json"],
    ["call", "/openapi/v1/call/query/number"],
    ["call", "/openapi/v1/call/sip/list", "{}"],
    ["call", "/openapi/v1/call/sip/list", "{}", "--kind", "query"],
]


class TestMasked:
    @pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
    def test_no_sip_password_is_printed(
        self, gateway: FakeGateway, capsys: pytest.CaptureFixture[str], argv: list[str]
    ) -> None:
        run(gateway, *argv)
        printed = capsys.readouterr()
        assert SAMPLE_PASSWORD not in printed.out + printed.err
        assert LIST_PASSWORD not in printed.out + printed.err

    def test_the_json_says_there_is_one(
        self, gateway: FakeGateway, capsys: pytest.CaptureFixture[str]
    ) -> None:
        run(gateway, "numbers", "--json")
        document = json.loads(capsys.readouterr().out)
        assert document["sip_numbers"][0]["password"] == "***"

    def test_call_prints_the_wire_data_masked(
        self, gateway: FakeGateway, capsys: pytest.CaptureFixture[str]
    ) -> None:
        run(gateway, "call", "/openapi/v1/call/sip/list", "{}")
        data = json.loads(capsys.readouterr().out)
        assert data[0]["password"] == "***"
        assert data[0]["number"] == SAMPLE_SIP_NUMBERS[0]["number"]  # the rest as it came


class TestShown:
    def test_numbers_table(self, gateway: FakeGateway, capsys: pytest.CaptureFixture[str]) -> None:
        run(gateway, "numbers", "--show-secrets")
        out = capsys.readouterr().out
        assert "SIP passwords (1)" in out
        assert SAMPLE_PASSWORD in out

    def test_numbers_json(self, gateway: FakeGateway, capsys: pytest.CaptureFixture[str]) -> None:
        run(gateway, "--show-secrets", "--json", "numbers")
        document = json.loads(capsys.readouterr().out)
        assert document["sip_numbers"][0]["password"] == SAMPLE_PASSWORD

    def test_call(self, gateway: FakeGateway, capsys: pytest.CaptureFixture[str]) -> None:
        run(gateway, "call", "/openapi/v1/call/sip/list", "{}", "--show-secrets")
        assert json.loads(capsys.readouterr().out)[0]["password"] == LIST_PASSWORD


@pytest.mark.parametrize("argv", [["--help"], ["numbers", "--help"], ["call", "--help"]])
def test_help_says_so(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--show-secrets" in text
    assert "instead of ***" in text
