"""AsyncClient against the fake gateway over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import attrs
import pytest

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault

NUMBER_PATH = "/openapi/v1/call/query/number"
GROUP_PATH = "/openapi/v1/call/query/group"


def make_client(gateway: FakeGateway, **kwargs: Any) -> moor7.AsyncClient:
    options: dict[str, Any] = {
        "base_url": gateway.url,
        "limiter": moor7.Unlimited(),
        "backoff_initial": 0,
        "backoff_max": 0,
        "secret_key": DEMO_SECRET_KEY,
    }
    options.update(kwargs)
    return moor7.AsyncClient(DEMO_APPKEY, **options)


class TestEndpoints:
    async def test_get_number_pool_is_typed(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        pool = await client.get_number_pool()
        assert isinstance(pool, moor7.NumberPool)
        assert [n.number for n in pool.display_numbers] == ["9813"]
        assert [n.number for n in pool.service_numbers] == ["9804"]
        assert [n.number for n in pool.sip_numbers] == ["2000"]
        assert pool.display_numbers[0].call_ability is moor7.CallAbility.SERVICE_AND_DISPLAY
        (call,) = gateway.calls
        assert (call.path, call.method, call.status) == (NUMBER_PATH, "POST", 200)
        assert pool.request_id == call.request_id

    async def test_list_display_number_groups_is_typed(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        groups = await client.list_display_number_groups()
        assert groups == [moor7.NumberGroup("5ff7c305ba185200117836f8", "客服号码组")]
        assert isinstance(groups, list)
        assert isinstance(groups, moor7.NumberGroups)
        assert groups.request_id == gateway.calls[-1].request_id
        assert groups.request_id is not None

    def test_number_groups_pickle_with_their_request_id(self) -> None:
        import pickle

        groups = moor7.NumberGroups([moor7.NumberGroup("g", "n")], request_id="r-1")
        copy = pickle.loads(pickle.dumps(groups))  # noqa: S301 - our own object
        assert copy == groups
        assert copy.request_id == "r-1"

    async def test_calls_without_parameters_send_an_empty_json_post(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        await client.list_display_number_groups()
        (call,) = gateway.calls
        assert call.body == b""
        assert call.headers["content-type"] == "application/json"
        assert call.headers["user-agent"].startswith("moor7/")

    async def test_request_reaches_any_endpoint_and_returns_data(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        agents = [{"_id": "a1", "displayName": "小王"}]
        gateway.set_response("/openapi/v1/call/query/agent", agents)
        data = await client.request("/openapi/v1/call/query/agent", {"page": 1, "limit": 100})
        assert data == agents
        call = gateway.calls[-1]
        assert json.loads(call.body) == {"page": 1, "limit": 100}

    async def test_request_sends_chinese_text_as_utf8_json(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response("/openapi/v1/call/echo", None)
        await client.request("/openapi/v1/call/echo", {"name": "客服"})
        assert json.loads(gateway.calls[-1].body.decode("utf-8")) == {"name": "客服"}

    async def test_empty_pool_and_no_groups(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.number_pool = {"displayNumberList": [], "serviceNumberList": []}
        gateway.groups = []
        assert await client.get_number_pool() == moor7.NumberPool()
        assert await client.list_display_number_groups() == []

    @pytest.mark.parametrize("data", [{}, {"somethingElse": []}, None])
    async def test_a_pool_without_any_of_its_lists_is_a_shape_error_not_empty(
        self, client: moor7.AsyncClient, gateway: FakeGateway, data: Any
    ) -> None:
        """A CRM syncing its numbers must not conclude that the account has none."""
        gateway.set_response(NUMBER_PATH, data)
        with pytest.raises(moor7.ResponseShapeError) as excinfo:
            await client.get_number_pool()
        assert excinfo.value.request_id == gateway.calls[-1].request_id

    async def test_default_limiter_is_the_shared_one(self, gateway: FakeGateway) -> None:
        async with moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url) as c:
            assert c.limiter is moor7.default_limiter()


class TestSigning:
    async def test_every_retry_is_signed_afresh(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR, times=2)
        await client.get_number_pool()
        calls = gateway.calls
        assert [c.status for c in calls] == [500, 500, 200]
        # The gateway accepted all three signatures; none re-used a nonce.
        assert len({c.headers["m7-nonce"] for c in calls}) == 3
        assert len({c.headers["m7-sign"] for c in calls}) == 3

    async def test_an_async_signer_is_awaited_once_per_attempt(self, gateway: FakeGateway) -> None:
        attempts: list[int] = []

        class VaultSigner:
            async def sign(self, request: moor7.OutgoingRequest) -> dict[str, str]:
                await asyncio.sleep(0)
                attempts.append(request.attempt)
                return moor7.HmacSigner(DEMO_APPKEY, DEMO_SECRET_KEY).sign(request)

        gateway.fail_next(Fault.SERVER_ERROR)
        async with moor7.AsyncClient(
            DEMO_APPKEY,
            signer=VaultSigner(),
            base_url=gateway.url,
            limiter=moor7.Unlimited(),
            backoff_initial=0,
            backoff_max=0,
        ) as c:
            await c.list_display_number_groups()
        assert attempts == [1, 2]

    async def test_a_signer_returning_garbage_is_a_clear_error(self, gateway: FakeGateway) -> None:
        class BrokenSigner:
            def sign(self, request: moor7.OutgoingRequest) -> Any:
                return "m7-sign: oops"

        async with moor7.AsyncClient(
            DEMO_APPKEY, signer=BrokenSigner(), base_url=gateway.url, limiter=moor7.Unlimited()
        ) as c:
            with pytest.raises(moor7.ConfigurationError, match="not a mapping"):
                await c.list_display_number_groups()
        assert gateway.calls == []


class TestRejections:
    async def test_wrong_secret_is_tried_once_more_then_an_authentication_error(
        self, gateway: FakeGateway
    ) -> None:
        """Once more, newly signed: the first rejection may be a replayed nonce."""
        async with moor7.AsyncClient(
            DEMO_APPKEY, "not-the-secret", base_url=gateway.url, limiter=moor7.Unlimited()
        ) as c:
            with pytest.raises(moor7.AuthenticationError) as excinfo:
                await c.get_number_pool()
        error = excinfo.value
        assert (error.status, error.code, error.path) == (401, "401", NUMBER_PATH)
        assert error.request_id == gateway.calls[-1].request_id
        assert "m7-sign" in error.message
        assert [call.status for call in gateway.calls] == [401, 401]
        first, second = (call.headers for call in gateway.calls)
        assert first["m7-nonce"] != second["m7-nonce"]

    async def test_unknown_appkey(self, gateway: FakeGateway) -> None:
        async with moor7.AsyncClient(
            "9999999", DEMO_SECRET_KEY, base_url=gateway.url, limiter=moor7.Unlimited()
        ) as c:
            with pytest.raises(moor7.AuthenticationError, match="appkey"):
                await c.get_number_pool()

    async def test_one_auth_rejection_is_tried_once_more_a_second_is_raised(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        """A nonce collision with another process is not the caller's fault."""
        gateway.fail_next(Fault.AUTH_REJECT)
        await client.get_number_pool()
        gateway.fail_next(Fault.AUTH_REJECT, times=2)
        with pytest.raises(moor7.AuthenticationError):
            await client.get_number_pool()
        assert [call.status for call in gateway.calls] == [401, 200, 401, 401]

    async def test_a_replayed_nonce_is_retried_for_an_action_too(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response("/openapi/v1/call/online", "座席上线成功")
        gateway.fail_next(Fault.AUTH_REJECT)
        await client.agent_online("2000", login_type=moor7.LoginType.PSTN)
        assert [call.status for call in gateway.calls] == [401, 200]

    async def test_over_quota_is_retried_after_retry_after(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.RATE_LIMIT)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await client.get_number_pool()
        # backoff is 0 for this client, so the wait is the gateway's Retry-After: 1.
        assert loop.time() - started >= 0.95
        assert [c.status for c in gateway.calls] == [429, 200]

    async def test_over_quota_without_retries_carries_retry_after(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.RATE_LIMIT)
        with pytest.raises(moor7.RateLimitError) as excinfo:
            await client.get_number_pool(max_retries=0)
        assert excinfo.value.retry_after == 1.0
        assert excinfo.value.status == 429

    async def test_gateway_quota_reached_without_a_limiter(self) -> None:
        async with FakeGateway(quota=2, quota_period=30) as gateway, make_client(gateway) as c:
            await c.get_number_pool()
            await c.get_number_pool()
            with pytest.raises(moor7.RateLimitError):
                await c.get_number_pool(max_retries=0)

    async def test_server_errors_are_retried_then_raised(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR, times=10)
        with pytest.raises(moor7.ServerError) as excinfo:
            await client.get_number_pool(max_retries=2)
        assert excinfo.value.status == 500
        assert excinfo.value.request_id is not None
        assert len(gateway.calls) == 3

    async def test_html_502_is_a_server_error(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.BAD_GATEWAY_HTML, times=10)
        with pytest.raises(moor7.ServerError, match="HTTP 502") as excinfo:
            await client.get_number_pool(max_retries=1)
        assert excinfo.value.code is None
        assert len(gateway.calls) == 2

    async def test_unknown_path_is_an_api_error(self, client: moor7.AsyncClient) -> None:
        with pytest.raises(moor7.APIError) as excinfo:
            await client.request("/openapi/v1/no/such/thing")
        assert type(excinfo.value) is moor7.APIError
        assert (excinfo.value.status, excinfo.value.code) == (404, "404")

    @pytest.mark.parametrize(
        "undocumented",
        [
            (200, {"success": False, "code": "403", "message": "签名校验失败"}),
            (403, {"code": 403, "message": "forbidden"}),
            (200, {"success": False, "code": "10007", "message": "请求过于频繁"}),
        ],
    )
    async def test_undocumented_rejections_over_real_http(
        self,
        client: moor7.AsyncClient,
        gateway: FakeGateway,
        undocumented: tuple[int, dict[str, Any]],
    ) -> None:
        status, body = undocumented
        gateway.respond_next(status, body, times=2)  # an auth rejection is tried once more
        with pytest.raises(moor7.APIError) as excinfo:
            await client.get_number_pool(max_retries=0)
        expected = moor7.RateLimitError if "频繁" in body["message"] else moor7.AuthenticationError
        assert type(excinfo.value) is expected
        assert excinfo.value.message == body["message"]


class TestBadAnswers:
    @pytest.mark.parametrize("fault", [Fault.MALFORMED_JSON, Fault.NOT_ENVELOPE, Fault.EMPTY_BODY])
    async def test_undecodable_answers_raise_decode_error_without_retry(
        self, client: moor7.AsyncClient, gateway: FakeGateway, fault: Fault
    ) -> None:
        gateway.fail_next(fault)
        with pytest.raises(moor7.ResponseDecodeError) as excinfo:
            await client.get_number_pool()
        assert excinfo.value.status == 200
        assert len(gateway.calls) == 1

    async def test_data_of_the_wrong_shape_is_a_shape_error(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        # set_response(): assigning number_pool refuses data of the wrong shape.
        gateway.set_response(NUMBER_PATH, {"displayNumberList": [{"_id": "1"}]})  # no number
        with pytest.raises(moor7.ResponseShapeError) as excinfo:
            await client.get_number_pool()
        error = excinfo.value
        assert "$.display_numbers[0].number" in str(error)
        assert error.request_id == gateway.calls[0].request_id
        # Not chained to cattrs' error, whose frames hold the records (SIP passwords).
        assert error.__cause__ is None
        assert error.__context__ is None

    async def test_groups_that_are_not_a_list(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response(GROUP_PATH, {"_id": "x"})
        with pytest.raises(moor7.ResponseShapeError, match="expected a list"):
            await client.list_display_number_groups()


class TestTransport:
    async def test_timeout_raises_request_timeout(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SLOW, delay=2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(moor7.RequestTimeout) as excinfo:
            await client.get_number_pool(timeout=0.2, max_retries=0)
        assert loop.time() - started < 1.5
        assert excinfo.value.__cause__ is None  # aiohttp's frames hold the signature
        assert excinfo.value.path == NUMBER_PATH

    async def test_timeout_is_retried(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SLOW, delay=2)
        pool = await client.get_number_pool(timeout=0.2, max_retries=1)
        assert pool.display_numbers

    async def test_dropped_connection_is_a_network_error(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.DROP)
        with pytest.raises(moor7.NetworkError) as excinfo:
            await client.get_number_pool(max_retries=0)
        assert excinfo.value.__cause__ is None  # aiohttp's frames hold the signature
        assert "ServerDisconnectedError" in str(excinfo.value)

    async def test_dropped_connection_is_retried(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.DROP)
        assert await client.list_display_number_groups()
        assert [c.status for c in gateway.calls] == [None, 200]

    async def test_connection_refused_is_a_network_error(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        # Nothing listens on the port now.
        async with moor7.AsyncClient(
            DEMO_APPKEY,
            DEMO_SECRET_KEY,
            base_url=f"http://127.0.0.1:{port}",
            limiter=moor7.Unlimited(),
            backoff_initial=0,
            backoff_max=0,
        ) as c:
            with pytest.raises(moor7.ConnectError, match="could not connect to the gateway"):
                await c.get_number_pool(max_retries=1)


class TestLimiterInPipeline:
    async def test_each_attempt_takes_a_slot(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        acquired: list[str] = []

        class CountingLimiter:
            @asynccontextmanager
            async def acquire(self, account: str) -> AsyncIterator[None]:
                acquired.append(account)
                yield

            async def pause(self, account: str, seconds: float | None = None) -> None:
                pass

        gateway.fail_next(Fault.SERVER_ERROR)
        async with make_client(gateway, limiter=CountingLimiter()) as c:
            await c.get_number_pool()
        assert acquired == [DEMO_APPKEY, DEMO_APPKEY]

    async def test_local_limiter_keeps_a_strict_gateway_happy(self) -> None:
        max_calls, period = 4, 0.3
        async with (
            FakeGateway(quota=max_calls, quota_period=period) as gateway,
            make_client(
                gateway, limiter=moor7.LocalLimiter(max_calls=max_calls, period=period)
            ) as c,
        ):
            results = await asyncio.gather(*(c.list_display_number_groups() for _ in range(12)))
        assert len(results) == 12
        assert all(call.status == 200 for call in gateway.calls)
        assert gateway.max_calls_in_window(DEMO_APPKEY, period) <= max_calls


class TestConfiguration:
    def test_missing_appkey_names_both_ways_to_give_it(self) -> None:
        with pytest.raises(moor7.ConfigurationError) as excinfo:
            moor7.AsyncClient(secret_key="s")
        assert "appkey=" in str(excinfo.value)
        assert "MOOR7_APPKEY" in str(excinfo.value)

    def test_missing_secret_names_both_ways_to_give_it(self) -> None:
        with pytest.raises(moor7.ConfigurationError) as excinfo:
            moor7.AsyncClient("2000103")
        assert "secret_key=" in str(excinfo.value)
        assert "MOOR7_SECRET_KEY" in str(excinfo.value)

    async def test_everything_from_the_environment(
        self, gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MOOR7_APPKEY", DEMO_APPKEY)
        monkeypatch.setenv("MOOR7_SECRET_KEY", DEMO_SECRET_KEY)
        monkeypatch.setenv("MOOR7_BASE_URL", gateway.url)
        async with moor7.AsyncClient(limiter=moor7.Unlimited()) as c:
            assert c.base_url == gateway.url
            assert await c.list_display_number_groups()

    def test_arguments_win_over_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MOOR7_APPKEY", "env-key")
        monkeypatch.setenv("MOOR7_BASE_URL", "http://env.example")
        c = moor7.AsyncClient("arg-key", "s", base_url="https://arg.example/")
        assert (c.appkey, c.base_url) == ("arg-key", "https://arg.example")

    def test_default_base_url_is_the_documented_host(self) -> None:
        assert moor7.AsyncClient("a", "s").base_url == "https://v7openapi.7moor.com"

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"appkey": ""},
            {"appkey": 2000103},
            {"secret_key": ""},
            {"secret_key": b"bytes"},
            {"base_url": "v7openapi.7moor.com"},
            {"base_url": "ftp://v7openapi.7moor.com"},
            {"base_url": 42},
            {"timeout": -1},
            {"timeout": 0},
            {"timeout": float("nan")},
            {"timeout": "10"},
            {"max_retries": -1},
            {"max_retries": 1.5},
            {"backoff_initial": -1},
            {"limiter": object()},
            {"session": object()},
            {"signer": object(), "secret_key": None},
            {"signer": moor7.HmacSigner("a", "s")},  # and a secret_key: which one?
        ],
    )
    def test_bad_settings_fail_at_construction(self, kwargs: dict[str, Any]) -> None:
        options: dict[str, Any] = {"appkey": "2000103", "secret_key": "s", **kwargs}
        with pytest.raises(moor7.ConfigurationError):
            moor7.AsyncClient(**options)

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("openapi/v1/call/query/agent", None),
            ("/openapi/v1/call/query/agent", {"when": object()}),
            ("/openapi/v1/call/query/agent", ["not", "an", "object"]),
            ("/openapi/v1/call/query/agent", {"n": float("nan")}),
        ],
    )
    async def test_bad_calls_fail_before_anything_is_sent(
        self, client: moor7.AsyncClient, gateway: FakeGateway, path: str, body: Any
    ) -> None:
        with pytest.raises(moor7.ConfigurationError):
            await client.request(path, body)
        assert gateway.calls == []

    async def test_bad_per_call_settings(self, client: moor7.AsyncClient) -> None:
        with pytest.raises(moor7.ConfigurationError, match="timeout"):
            await client.get_number_pool(timeout=-5)
        with pytest.raises(moor7.ConfigurationError, match="max_retries"):
            await client.get_number_pool(max_retries=-1)

    def test_repr_never_shows_the_secret(self) -> None:
        c = moor7.AsyncClient("2000103", "TOP-SECRET-VALUE")
        assert "TOP-SECRET-VALUE" not in repr(c)
        assert "TOP-SECRET-VALUE" not in repr(c.signer)
        assert "2000103" in repr(c)


class TestTuningFromTheEnvironment:
    """MOOR7_TIMEOUT and MOOR7_MAX_RETRIES, as openai-python's and stripe's users expect."""

    def test_the_defaults_without_them(self) -> None:
        c = moor7.AsyncClient("2000103", "s")
        assert (c.timeout, c.max_retries) == (10.0, 3)

    def test_read_when_no_argument_is_given(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MOOR7_TIMEOUT", "2.5")
        monkeypatch.setenv("MOOR7_MAX_RETRIES", "0")
        c = moor7.AsyncClient("2000103", "s")
        assert (c.timeout, c.max_retries) == (2.5, 0)
        with moor7.Client("2000103", "s") as sync:
            assert (sync._async_client.timeout, sync._async_client.max_retries) == (2.5, 0)

    def test_arguments_win(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MOOR7_TIMEOUT", "2.5")
        monkeypatch.setenv("MOOR7_MAX_RETRIES", "7")
        c = moor7.AsyncClient("2000103", "s", timeout=None, max_retries=1)
        assert (c.timeout, c.max_retries) == (None, 1)

    def test_empty_counts_as_unset(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("MOOR7_TIMEOUT", "")
        monkeypatch.setenv("MOOR7_MAX_RETRIES", "")
        c = moor7.AsyncClient("2000103", "s")
        assert (c.timeout, c.max_retries) == (10.0, 3)

    @pytest.mark.parametrize(
        ("variable", "value", "expected"),
        [
            ("MOOR7_TIMEOUT", "ten", "MOOR7_TIMEOUT must be a number of seconds > 0, got 'ten'"),
            ("MOOR7_TIMEOUT", "0", "MOOR7_TIMEOUT must be a number of seconds > 0, got 0.0"),
            ("MOOR7_TIMEOUT", "nan", "MOOR7_TIMEOUT must be a number of seconds > 0, got nan"),
            ("MOOR7_TIMEOUT", "-3", "MOOR7_TIMEOUT must be a number of seconds > 0, got -3.0"),
            ("MOOR7_MAX_RETRIES", "2.5", "MOOR7_MAX_RETRIES must be an integer >= 0, got '2.5'"),
            ("MOOR7_MAX_RETRIES", "-1", "MOOR7_MAX_RETRIES must be an integer >= 0, got -1"),
            ("MOOR7_MAX_RETRIES", "many", "MOOR7_MAX_RETRIES must be an integer >= 0, got 'many'"),
        ],
    )
    def test_a_bad_value_is_refused_naming_the_variable(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
    ) -> None:
        monkeypatch.setenv(variable, value)
        with pytest.raises(moor7.ConfigurationError) as caught:
            moor7.AsyncClient("2000103", "s")
        assert str(caught.value) == expected
        with pytest.raises(moor7.ConfigurationError, match=variable):
            moor7.Client("2000103", "s")

    def test_a_bad_value_is_harmless_when_an_argument_wins(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MOOR7_TIMEOUT", "ten")
        assert moor7.AsyncClient("2000103", "s", timeout=1).timeout == 1.0

    async def test_they_govern_the_calls(
        self, gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MOOR7_MAX_RETRIES", "1")
        gateway.fail_next(Fault.SERVER_ERROR, times=5)
        async with make_client(gateway) as c:
            with pytest.raises(moor7.ServerError):
                await c.get_number_pool()
        assert len(gateway.calls) == 2

    def test_a_client_made_again_after_a_fork_keeps_what_was_read(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MOOR7_TIMEOUT", "2.5")
        with moor7.Client("2000103", "s") as c:
            monkeypatch.setenv("MOOR7_TIMEOUT", "9")
            assert c._make_async_client().timeout == 2.5


@attrs.frozen
class Member:
    """A caller's own model of an answer moor7 does not model."""

    agent_number: str
    agent_name: str | None = None  # the wire's agentName
    status: moor7.AgentStatus | moor7.UnlistedStr | None = None
    request_id: str | None = attrs.field(default=None, eq=False)
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


class TestTypedRequest:
    """request(path, body, result_type=...): the data read by moor7's own rules."""

    AGENTS = "/openapi/v1/call/query/agent"

    async def test_a_list_of_a_callers_model(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        members = await client.request(self.AGENTS, {"page": 1}, result_type=list[Member])
        assert type(members) is list
        assert (members[0].agent_number, members[0].status) == ("2000", moor7.AgentStatus.ENABLED)
        assert members[0].agent_name == members[0].raw["agentName"]
        assert members[0].raw["agentNumber"] == "2000"  # the record, kept
        assert members[0].request_id is None  # a model in a plain list: no call of its own
        assert len(gateway.calls) == 1

    async def test_moor7s_own_result_with_its_request_id(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        page = await client.request(self.AGENTS, {"page": 1}, result_type=moor7.AgentPage)
        assert isinstance(page, moor7.AgentPage)
        assert page[0].agent_number == "2000"
        assert page.request_id == gateway.calls[-1].request_id

    async def test_a_callers_model_gets_the_request_id(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response("/openapi/v1/custom", {"agentNumber": "2000", "agentName": "x"})
        member = await client.request("/openapi/v1/custom", result_type=Member, kind="query")
        assert member == Member("2000", "x")
        assert member.request_id == gateway.calls[-1].request_id

    def test_the_sync_client(self, sync_client: moor7.Client) -> None:
        members = sync_client.request(self.AGENTS, {"page": 1}, result_type=list[Member])
        assert members[0].agent_number == "2000"

    @pytest.mark.parametrize("result_type", [dict, dict[str, Any], set[str], "Member", 42])
    async def test_a_type_with_no_rule_is_refused_before_sending(
        self, client: moor7.AsyncClient, gateway: FakeGateway, result_type: Any
    ) -> None:
        with pytest.raises(moor7.ConfigurationError, match="result_type"):
            await client.request(self.AGENTS, {"page": 1}, result_type=result_type)
        assert gateway.calls == []

    async def test_a_model_with_a_field_of_no_rule_is_refused_before_sending(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        @attrs.frozen
        class Odd:
            tags: frozenset[str]

        with pytest.raises(moor7.ConfigurationError, match="result_type") as caught:
            await client.request(self.AGENTS, result_type=Odd)
        assert "frozenset[str]" in str(caught.value)
        assert "make_converter" not in str(caught.value)  # moor7's own bug report, not yours
        assert gateway.calls == []

    async def test_data_that_does_not_fit_is_a_shape_error(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response("/openapi/v1/custom", [{"agentName": "no agent number"}])
        with pytest.raises(moor7.ResponseShapeError) as caught:
            await client.request("/openapi/v1/custom", result_type=list[Member], kind="query")
        assert "agent_number" in str(caught.value)
        assert caught.value.attempts == 1


class TestLifecycle:
    async def test_closed_client_raises_a_clear_error(self, gateway: FakeGateway) -> None:
        c = make_client(gateway)
        await c.get_number_pool()
        await c.aclose()
        await c.aclose()  # idempotent
        assert c.closed
        with pytest.raises(moor7.ClientClosedError):
            await c.get_number_pool()

    async def test_a_shared_session_is_used_and_left_open(self, gateway: FakeGateway) -> None:
        async with aiohttp.ClientSession() as session:
            async with make_client(gateway, session=session) as c:
                await c.get_number_pool()
            assert not session.closed
            async with session.post(gateway.url + GROUP_PATH) as response:
                assert response.status == 401  # still usable (unsigned, so rejected)

    def test_use_from_another_event_loop_is_a_clear_error(self, gateway_url: str) -> None:
        first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
        c = moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway_url, limiter=moor7.Unlimited()
        )
        try:
            first.run_until_complete(c.list_display_number_groups())
            with pytest.raises(moor7.WrongEventLoopError, match="one AsyncClient per event loop"):
                second.run_until_complete(c.list_display_number_groups())
        finally:
            first.run_until_complete(c.aclose())
            first.close()
            second.close()

    async def test_closing_while_a_call_is_in_flight(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SLOW, delay=2)
        c = make_client(gateway)
        call = asyncio.create_task(c.get_number_pool())
        await asyncio.sleep(0.2)
        await c.aclose()
        with pytest.raises(moor7.ClientClosedError):
            await asyncio.wait_for(call, timeout=3)

    async def test_cancelling_a_call_leaves_the_client_usable(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SLOW, delay=2)
        call = asyncio.create_task(client.get_number_pool())
        await asyncio.sleep(0.2)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert await client.list_display_number_groups()


@pytest.fixture
def gateway_url() -> Any:
    with FakeGateway() as gw:
        yield gw.url


class TestLogging:
    async def test_debug_log_has_the_facts_and_no_secrets(
        self, client: moor7.AsyncClient, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        with caplog.at_level(logging.DEBUG):
            await client.get_number_pool()
        text = caplog.text
        request_id = gateway.calls[-1].request_id
        assert f"POST {NUMBER_PATH} -> 200 request_id={request_id} attempt=2" in text
        assert "-> 500" in text
        assert "attempt=1" in text
        for call in gateway.calls:
            assert call.headers["m7-sign"] not in text
        assert DEMO_SECRET_KEY not in text


class TestSecretsInErrors:
    async def test_no_error_shows_the_secret_or_a_signature(self, gateway: FakeGateway) -> None:
        faults = [
            Fault.SERVER_ERROR,
            Fault.BAD_GATEWAY_HTML,
            Fault.MALFORMED_JSON,
            Fault.NOT_ENVELOPE,
            Fault.AUTH_REJECT,
            Fault.RATE_LIMIT,
            Fault.DROP,
        ]
        errors: list[BaseException] = []
        async with make_client(gateway, max_retries=0) as c:
            for fault in faults:
                gateway.fail_next(fault, times=2)  # an auth rejection is tried once more
                with pytest.raises(moor7.Moor7Error) as excinfo:
                    await c.get_number_pool()
                errors.append(excinfo.value)
        signatures = [call.headers["m7-sign"] for call in gateway.calls]
        for error in errors:
            for text in (str(error), repr(error)):
                assert DEMO_SECRET_KEY not in text
                assert not any(sign in text for sign in signatures), text


class TestReviewRegressions:
    """Each of these once escaped as a non-moor7 exception, or was retried wrongly."""

    async def test_closed_while_waiting_for_a_slot(self, gateway: FakeGateway) -> None:
        limiter = moor7.LocalLimiter(max_calls=1, period=0.3)
        c = make_client(gateway, limiter=limiter)
        await c.get_number_pool()
        waiting = asyncio.create_task(c.get_number_pool())  # gets the slot in ~0.3 s
        await asyncio.sleep(0.1)
        await c.aclose()
        # Then it must not reach aiohttp's closed session ("Session is closed").
        with pytest.raises(moor7.ClientClosedError):
            await asyncio.wait_for(waiting, timeout=5)
        assert len(gateway.calls) == 1

    async def test_closed_during_retry_backoff(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        c = make_client(gateway, backoff_initial=0.5, backoff_max=0.5)
        call = asyncio.create_task(c.get_number_pool())
        await asyncio.sleep(0.2)  # the first attempt failed; the retry is waiting
        await c.aclose()
        with pytest.raises(moor7.ClientClosedError):
            await asyncio.wait_for(call, timeout=5)

    async def test_a_closed_shared_session(self, gateway: FakeGateway) -> None:
        session = aiohttp.ClientSession()
        await session.close()
        async with make_client(gateway, session=session) as c:
            with pytest.raises(moor7.ClientClosedError):
                await c.get_number_pool()

    def test_a_session_from_another_loop(self, gateway_url: str) -> None:
        other = asyncio.new_event_loop()
        session = other.run_until_complete(_make_session())
        try:

            async def use() -> None:
                async with moor7.AsyncClient(
                    DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway_url, session=session
                ) as c:
                    await c.get_number_pool()

            with pytest.raises(moor7.WrongEventLoopError, match="session="):
                asyncio.run(use())
        finally:
            other.run_until_complete(session.close())
            other.close()

    async def test_max_retries_0_sends_once_even_in_stamina_testing_mode(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        import stamina

        gateway.fail_next(Fault.SERVER_ERROR, times=5)
        with stamina.set_testing(True, attempts=3), pytest.raises(moor7.ServerError):
            await client.request(NUMBER_PATH, {"dial": 1}, max_retries=0)
        assert len(gateway.calls) == 1

    @pytest.mark.parametrize(
        ("headers", "match"),
        [
            ({"m7-sign": 123}, "not str -> str"),
            ({"m7-sign": "abc\r\nX-Injected: 1"}, "line break"),
        ],
    )
    async def test_signer_headers_are_checked(
        self, gateway: FakeGateway, headers: dict[str, Any], match: str
    ) -> None:
        class OddSigner:
            def sign(self, request: moor7.OutgoingRequest) -> dict[str, Any]:
                return headers

        async with make_client(gateway, secret_key=None, signer=OddSigner()) as c:
            with pytest.raises(moor7.ConfigurationError, match=match):
                await c.get_number_pool()
        assert gateway.calls == []

    @pytest.mark.parametrize("base_url", ["http://xn--zz.com", "http://" + "a" * 64 + ".com"])
    def test_hosts_that_cannot_be_sent_fail_at_construction(self, base_url: str) -> None:
        with pytest.raises(moor7.ConfigurationError, match="base_url"):
            moor7.AsyncClient("2000103", "s", base_url=base_url)

    async def test_an_invalid_url_is_not_retried(self) -> None:
        async with moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url="http://1.2.3.4.5", limiter=moor7.Unlimited()
        ) as c:
            with pytest.raises(moor7.ConfigurationError, match="cannot be requested"):
                await c.get_number_pool()

    @pytest.mark.parametrize(
        "path", ["/a b", "/a\r\nHost: x", "/a\x00b", "//evil.example/x", "/a?b=1", "/a#b"]
    )
    async def test_paths_that_are_not_plain_api_paths(
        self, client: moor7.AsyncClient, gateway: FakeGateway, path: str
    ) -> None:
        with pytest.raises(moor7.ConfigurationError, match="path"):
            await client.request(path)
        assert gateway.calls == []

    async def test_a_retry_after_longer_than_a_period_is_not_waited(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.respond_next(
            429,
            {"success": False, "code": "429", "message": "limited"},
            headers={"Retry-After": "3600"},
        )
        with pytest.raises(moor7.RateLimitError) as excinfo:
            await asyncio.wait_for(client.get_number_pool(), timeout=5)
        assert excinfo.value.retry_after == 3600
        assert len(gateway.calls) == 1


async def _make_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


class TestOverQuotaPausesTheAccount:
    async def test_other_calls_of_the_account_wait_out_the_pause(
        self, gateway: FakeGateway
    ) -> None:
        limiter = moor7.LocalLimiter(max_calls=10, period=10.0)
        gateway.respond_next(
            429,
            {"success": False, "code": "429", "message": "limited"},
            headers={"Retry-After": "0.5"},
        )
        async with make_client(gateway, limiter=limiter, max_retries=0) as c:
            with pytest.raises(moor7.RateLimitError):
                await c.get_number_pool()
            loop = asyncio.get_running_loop()
            started = loop.time()
            await c.list_display_number_groups()  # another call, same account
            assert loop.time() - started >= 0.45


class TestClockSkew:
    """The gateway rejects a timestamp more than 5 minutes off its own clock."""

    @staticmethod
    def skewed_signer(seconds: float) -> moor7.HmacSigner:
        return moor7.HmacSigner(DEMO_APPKEY, DEMO_SECRET_KEY, clock=lambda: time.time() + seconds)

    @pytest.mark.parametrize("skew", [-1000.0, 1000.0])
    async def test_learned_from_the_rejection_and_corrected_once(
        self, gateway: FakeGateway, skew: float, caplog: pytest.LogCaptureFixture
    ) -> None:
        signer = self.skewed_signer(skew)
        with caplog.at_level(logging.WARNING, logger="moor7"):
            async with make_client(gateway, secret_key=None, signer=signer) as c:
                assert await c.get_number_pool()
                assert await c.list_display_number_groups()  # no rejection any more
        assert [call.status for call in gateway.calls] == [401, 200, 200]
        assert abs(signer.clock_offset + skew) <= 2  # the Date header has 1 s steps
        assert "clock is" in caplog.text

    async def test_the_error_names_the_skew_when_not_corrected(self, gateway: FakeGateway) -> None:
        class SkewedVaultSigner:  # a custom signer: the client does not touch its clock
            def sign(self, request: moor7.OutgoingRequest) -> dict[str, str]:
                return TestClockSkew.skewed_signer(-1000).sign(request)

        async with make_client(gateway, secret_key=None, signer=SkewedVaultSigner()) as c:
            with pytest.raises(moor7.AuthenticationError) as excinfo:
                await c.get_number_pool()
        error = excinfo.value
        assert error.clock_skew is not None
        assert 998 <= error.clock_skew <= 1002
        assert re.search(r"clock is (999|1000|1001)s behind the gateway's", str(error))
        assert len(gateway.calls) == 2  # once more, in case it was a replayed nonce

    async def test_a_small_skew_is_not_the_reason_and_is_left_alone(
        self, gateway: FakeGateway
    ) -> None:
        signer = self.skewed_signer(5)
        gateway.fail_next(Fault.AUTH_REJECT, times=2)
        async with make_client(gateway, secret_key=None, signer=signer) as c:
            with pytest.raises(moor7.AuthenticationError) as excinfo:
                await c.get_number_pool()
        assert excinfo.value.clock_skew is not None
        assert abs(excinfo.value.clock_skew) < 10
        assert signer.clock_offset == 0
        assert len(gateway.calls) == 2

    async def test_a_wrong_secret_is_not_retried_even_with_a_skew(
        self, gateway: FakeGateway
    ) -> None:
        signer = moor7.HmacSigner(DEMO_APPKEY, "wrong", clock=lambda: time.time() - 1000)
        async with make_client(gateway, secret_key=None, signer=signer) as c:
            with pytest.raises(moor7.AuthenticationError):
                await c.get_number_pool()
        assert len(gateway.calls) == 2  # the timestamp fixed, then the signature refused


class TestSignerAccount:
    def test_the_appkey_comes_from_the_signer(self) -> None:
        client = moor7.AsyncClient(signer=moor7.HmacSigner("2000103", "s"))
        assert client.appkey == "2000103"

    def test_a_signer_for_another_account_is_refused(self) -> None:
        with pytest.raises(moor7.ConfigurationError, match="signs for appkey"):
            moor7.AsyncClient("2000104", signer=moor7.HmacSigner("2000103", "s"))


class TestDocsReviewRegressions:
    async def test_a_shared_session_that_raises_for_status(self, gateway: FakeGateway) -> None:
        async with aiohttp.ClientSession(raise_for_status=True) as session:
            gateway.fail_next(Fault.AUTH_REJECT, times=2)
            async with make_client(gateway, session=session) as c:
                with pytest.raises(moor7.AuthenticationError):
                    await c.get_number_pool(max_retries=3)
        # Not mistaken for a network error and retried: only the one attempt more that
        # every authentication rejection gets.
        assert len(gateway.calls) == 2

    async def test_shape_errors_carry_the_path(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response(NUMBER_PATH, {"displayNumberList": "nope"})
        with pytest.raises(moor7.ResponseShapeError) as excinfo:
            await client.get_number_pool()
        assert excinfo.value.path == NUMBER_PATH


class TestClockSkewUnderConcurrency:
    async def test_calls_in_flight_together_all_succeed_and_agree(
        self, gateway: FakeGateway
    ) -> None:
        """Found in review: each rejected call once added the skew again."""
        signer = TestClockSkew.skewed_signer(-1000)
        async with make_client(gateway, secret_key=None, signer=signer) as c:
            pools = await asyncio.gather(*(c.get_number_pool() for _ in range(5)))
            assert len(pools) == 5
            assert abs(signer.clock_offset - 1000) <= 2
            assert await c.get_number_pool()  # and it stays corrected
        assert abs(signer.clock_offset - 1000) <= 2


class TestGatewayClock:
    async def test_a_gateway_whose_clock_is_off_is_followed(self) -> None:
        async with (
            FakeGateway(clock=lambda: time.time() + 1000) as gateway,
            make_client(gateway, max_retries=0) as c,
        ):
            assert await c.get_number_pool()
            assert await c.list_display_number_groups()
            assert [call.status for call in gateway.calls] == [401, 200, 200]
            assert isinstance(c.signer, moor7.HmacSigner)
            assert abs(c.signer.clock_offset - 1000) <= 2


class TestOwnSignerHeadersStillChecked:
    """The sign step trusts moor7's own HmacSigner's headers without checking them for
    line breaks: only safe while every value in them is of moor7's making. The appkey and
    an injected nonce are the user's."""

    @pytest.mark.parametrize("appkey", ["2000\r\nX-Injected: 1", "2000\n103", "2000\x00103"])
    def test_an_appkey_with_a_control_character_inside_is_refused(self, appkey: str) -> None:
        for make in (moor7.AsyncClient, moor7.Client):
            with pytest.raises(moor7.ConfigurationError, match="appkey"):
                make(appkey, DEMO_SECRET_KEY)
        with pytest.raises(moor7.ConfigurationError, match="appkey"):
            moor7.HmacSigner(appkey, DEMO_SECRET_KEY)

    async def test_an_injected_nonce_with_a_line_break_is_caught(
        self, gateway: FakeGateway
    ) -> None:
        signer = moor7.HmacSigner(DEMO_APPKEY, DEMO_SECRET_KEY, nonce=lambda: "1\r\nX-Injected: 1")
        async with make_client(gateway, secret_key=None, signer=signer) as c:
            with pytest.raises(moor7.ConfigurationError, match="line break"):
                await c.get_number_pool()
        assert gateway.calls == []

    async def test_an_appkey_changed_on_the_signer_afterwards_is_caught(
        self, gateway: FakeGateway
    ) -> None:
        signer = moor7.HmacSigner(DEMO_APPKEY, DEMO_SECRET_KEY)
        async with make_client(gateway, secret_key=None, signer=signer) as c:
            signer.appkey = DEMO_APPKEY + "\r\nX-Injected: 1"
            with pytest.raises(moor7.ConfigurationError, match="line break"):
                await c.get_number_pool()
        assert gateway.calls == []

    async def test_a_subclass_of_hmac_signer_is_checked(self, gateway: FakeGateway) -> None:
        class Odd(moor7.HmacSigner):
            __slots__ = ()

            def sign(self, request: moor7.OutgoingRequest) -> dict[str, str]:
                return {**super().sign(request), "m7-sign": "abc\r\nX-Injected: 1"}

        async with make_client(
            gateway, secret_key=None, signer=Odd(DEMO_APPKEY, DEMO_SECRET_KEY)
        ) as c:
            with pytest.raises(moor7.ConfigurationError, match="line break"):
                await c.get_number_pool()
        assert gateway.calls == []
