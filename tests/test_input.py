"""Bad input fails at the call site, with a ConfigurationError that says what is wrong."""

from __future__ import annotations

import collections
import types
from typing import Any

import pytest

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway


class TestSettings:
    @pytest.mark.parametrize(
        ("base_url", "named"),
        [
            ("https://v7openapi.7moor.com/?x=1", "query"),
            ("https://v7openapi.7moor.com/#top", "fragment"),
            ("https://v7openapi.7moor.com?", "query"),
            ("https://user:hunter2@v7openapi.7moor.com", "user or password"),
            ("https://user@v7openapi.7moor.com", "user or password"),
        ],
    )
    def test_a_base_url_that_cannot_take_a_path(self, base_url: str, named: str) -> None:
        with pytest.raises(moor7.ConfigurationError, match=named) as excinfo:
            moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, base_url=base_url)
        assert "hunter2" not in str(excinfo.value)

    @pytest.mark.parametrize("appkey", [" 2000103", "2000103\n", "\t2000103"])
    def test_an_appkey_with_spaces_around_it(self, appkey: str) -> None:
        with pytest.raises(moor7.ConfigurationError, match="appkey has spaces"):
            moor7.AsyncClient(appkey, DEMO_SECRET_KEY)

    @pytest.mark.parametrize("secret", [DEMO_SECRET_KEY + "\n", " " + DEMO_SECRET_KEY])
    def test_a_secret_with_spaces_around_it_is_refused_without_showing_it(
        self, secret: str
    ) -> None:
        for make in (moor7.AsyncClient, moor7.Client):
            with pytest.raises(moor7.ConfigurationError, match="secret_key has spaces") as excinfo:
                make(DEMO_APPKEY, secret)
            assert DEMO_SECRET_KEY not in str(excinfo.value)

    def test_a_secret_from_the_environment_with_a_line_break(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MOOR7_SECRET_KEY", DEMO_SECRET_KEY + "\n")
        with pytest.raises(moor7.ConfigurationError, match="secret_key has spaces"):
            moor7.AsyncClient(DEMO_APPKEY)


class TestPaths:
    @pytest.mark.parametrize(
        "path",
        [
            "/openapi/v1/../admin",
            "/openapi/v1/./call",
            "/openapi/v1/%2e%2e/admin",
            "/openapi/v1/%2E%2e/admin",
            "/openapi/v1/.%2E/admin",
            "/openapi/v1/%2e/x",
            "/..",
        ],
    )
    async def test_dot_segments_are_refused_before_sending(
        self, client: moor7.AsyncClient, gateway: FakeGateway, path: str
    ) -> None:
        with pytest.raises(moor7.ConfigurationError, match="segments"):
            await client.request(path)
        assert gateway.calls == []

    async def test_dots_inside_a_segment_are_fine(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response("/openapi/v1/a..b", [])
        assert await client.request("/openapi/v1/a..b", kind="query") == []


class TestBodies:
    @pytest.mark.parametrize(
        ("body", "named"),
        [
            ({1: "a"}, "keys must be strings"),
            ({"a": {("x",): 1}}, "keys must be strings, got tuple at \\$.a"),
            ({1: "a", "1": "b"}, "keys must be strings"),  # would collide as "1"
            ({"n": float("nan")}, "cannot be sent as JSON"),
            ({"when": object()}, "cannot be sent as JSON: object at \\$.when"),
        ],
    )
    async def test_a_body_that_cannot_be_sent(
        self, client: moor7.AsyncClient, gateway: FakeGateway, body: Any, named: str
    ) -> None:
        with pytest.raises(moor7.ConfigurationError, match=named):
            await client.request("/openapi/v1/call/query/agent", body)
        assert gateway.calls == []

    async def test_nesting_too_deep_or_a_cycle_is_a_configuration_error(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        deep: dict[str, Any] = {}
        node = deep
        for _ in range(100_000):
            node["x"] = {}
            node = node["x"]
        cycle: dict[str, Any] = {}
        cycle["self"] = cycle
        for body in (deep, cycle):
            with pytest.raises(moor7.ConfigurationError, match="nested deeper"):
                await client.request("/openapi/v1/call/query/agent", body)
        assert gateway.calls == []

    @pytest.mark.parametrize(
        "body",
        [
            types.MappingProxyType({"agentNumber": "2000"}),
            collections.ChainMap({"agentNumber": "2000"}, {"page": 1}),
            collections.OrderedDict(agentNumber="2000"),
        ],
        ids=["MappingProxyType", "ChainMap", "OrderedDict"],
    )
    async def test_read_only_mappings_are_valid_bodies(
        self, client: moor7.AsyncClient, gateway: FakeGateway, body: Any
    ) -> None:
        (agent,) = await client.request("/openapi/v1/call/query/agent", body)
        assert agent["agentNumber"] == "2000"

    async def test_tuples_are_sent_as_lists(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        await client.request("/openapi/v1/call/sip/list", {"registerStatuses": (0, 1)})
        assert gateway.calls[-1].body == b'{"registerStatuses": [0, 1]}'
