"""The fake 7moor gateway (moor7.testing.FakeGateway) behaves as the docs describe.

These tests talk to it with plain aiohttp (and urllib for thread mode), signing with
HmacSigner, so they do not depend on the moor7 client.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp
import attrs
import pytest

import moor7
from moor7._signing import HmacSigner
from moor7.testing import (
    DEMO_APPKEY,
    DEMO_SECRET_KEY,
    SAMPLE_GROUPS,
    SAMPLE_NUMBER_POOL,
    FakeGateway,
    Fault,
    ReceivedCall,
)

NUMBER = "/openapi/v1/call/query/number"
GROUP = "/openapi/v1/call/query/group"
AGENT = "/openapi/v1/call/query/agent"

# The authorization page's worked example: these inputs must give this signature.
DOC_TIMESTAMP = 1608119594
DOC_NONCE = "123221"
DOC_SIGN = "ybCwXrg9CMo39xv1kdfVLemqFmk+2Elz+vXYu1CyHlo="

# Sequential nonces: random ones could collide and be rejected as replays.
_nonces = itertools.count(100_000)


def auth_headers(
    appkey: str = DEMO_APPKEY,
    secret: str = DEMO_SECRET_KEY,
    *,
    timestamp: float | str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Fresh m7-* headers, signed like a client would."""
    ts = str(int(time.time())) if timestamp is None else str(timestamp).split(".")[0]
    nonce = str(next(_nonces)) if nonce is None else nonce
    return {
        "m7-appkey": appkey,
        "m7-timestamp": ts,
        "m7-nonce": nonce,
        "m7-sign": HmacSigner(appkey, secret).signature(ts, nonce),
        "content-type": "application/json",
    }


@attrs.frozen
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def post(
    session: aiohttp.ClientSession,
    gw: FakeGateway,
    path: str = NUMBER,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    method: str = "POST",
) -> Answer:
    headers = auth_headers() if headers is None else headers
    async with session.request(method, gw.url + path, headers=headers, data=body) as resp:
        return Answer(resp.status, dict(resp.headers), await resp.read())


@pytest.fixture
async def gw() -> AsyncIterator[FakeGateway]:
    async with FakeGateway(quota=None) as gateway:
        yield gateway


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


class TestSuccess:
    async def test_number_pool_endpoint_returns_the_sample_in_the_envelope(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        answer = await post(session, gw, NUMBER)

        assert answer.status == 200
        envelope = answer.json()
        assert envelope["success"] is True
        assert envelope["code"] == "200"
        assert envelope["message"] == "requestSuccess"
        assert envelope["data"] == SAMPLE_NUMBER_POOL

    async def test_groups_endpoint_returns_the_sample_groups(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        answer = await post(session, gw, GROUP)

        assert answer.status == 200
        assert (
            answer.json()["data"]
            == SAMPLE_GROUPS
            == [{"_id": "5ff7c305ba185200117836f8", "name": "客服号码组"}]
        )

    async def test_answer_is_utf8_json_with_chinese_unescaped(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        answer = await post(session, gw, GROUP)

        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        assert "客服号码组".encode() in answer.body

    async def test_request_info_echoes_path_body_headers_and_span(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        headers = auth_headers()
        answer = await post(session, gw, NUMBER, headers=headers, body=b'{"page": 1}')

        info = answer.json()["requestInfo"]
        assert len(info["requestId"]) == 32
        int(info["requestId"], 16)
        assert info["url"] == NUMBER
        assert info["body"] == {"page": 1}
        for name, value in headers.items():
            assert info["headers"][name] == value
        assert info["headers"]["traceId"] == info["requestId"]
        assert info["headers"]["accountId"] == DEMO_APPKEY
        span = info["span"]
        assert span["reqEndTime"] >= span["requestStartTime"] > 1_600_000_000_000
        assert span["bizSpan"].endswith("ms")

    async def test_empty_body_is_echoed_as_empty_object(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        answer = await post(session, gw, NUMBER)

        assert answer.json()["requestInfo"]["body"] == {}

    async def test_each_answer_has_a_new_request_id(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        first = await post(session, gw)
        second = await post(session, gw)

        assert (
            first.json()["requestInfo"]["requestId"] != (second.json()["requestInfo"]["requestId"])
        )

    @pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"{not json", b"\xff\xfe"])
    async def test_body_that_is_not_a_json_object_is_400(
        self, gw: FakeGateway, session: aiohttp.ClientSession, body: bytes
    ) -> None:
        answer = await post(session, gw, NUMBER, body=body)

        assert answer.status == 400
        envelope = answer.json()
        assert envelope["success"] is False
        assert envelope["code"] == "400"
        assert envelope["requestInfo"]["requestId"]

    async def test_unknown_path_is_404(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        answer = await post(session, gw, "/openapi/v1/call/nothing")

        assert answer.status == 404
        assert answer.json()["code"] == "404"

    @pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
    async def test_methods_other_than_post_are_405(
        self, gw: FakeGateway, session: aiohttp.ClientSession, method: str
    ) -> None:
        answer = await post(session, gw, NUMBER, method=method)

        assert answer.status == 405
        assert answer.headers["Allow"] == "POST"
        assert answer.json()["code"] == "405"

    async def test_set_response_serves_data_for_any_path(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.set_response(AGENT, [{"_id": "a1", "displayName": "小王"}])

        answer = await post(session, gw, AGENT, body=b'{"page": 1, "limit": 10}')

        assert answer.status == 200
        assert answer.json()["data"] == [{"_id": "a1", "displayName": "小王"}]

    async def test_number_pool_and_groups_are_settable(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.number_pool = {"displayNumberList": [], "serviceNumberList": [], "sipNumberList": []}
        gw.groups = [{"_id": "g", "name": "n"}]

        assert (await post(session, gw, NUMBER)).json()["data"]["displayNumberList"] == []
        assert (await post(session, gw, GROUP)).json()["data"] == [{"_id": "g", "name": "n"}]
        assert gw.groups == [{"_id": "g", "name": "n"}]

    async def test_constructor_data_is_served_and_copied(
        self, session: aiohttp.ClientSession
    ) -> None:
        groups = [{"_id": "g1", "name": "one"}]
        async with FakeGateway(groups=groups, number_pool={"sipNumberList": []}) as gw:
            groups.append({"_id": "g2", "name": "two"})
            assert (await post(session, gw, GROUP)).json()["data"] == [{"_id": "g1", "name": "one"}]
            assert (await post(session, gw, NUMBER)).json()["data"] == {"sipNumberList": []}

    async def test_reading_data_returns_a_copy_that_does_not_change_what_is_served(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.number_pool["displayNumberList"].clear()

        assert (await post(session, gw)).json()["data"] == SAMPLE_NUMBER_POOL

    def test_set_response_rejects_what_json_cannot_send(self) -> None:
        gateway = FakeGateway()
        with pytest.raises(TypeError):
            gateway.set_response(AGENT, {"when": object()})
        with pytest.raises(ValueError, match="must start with '/'"):
            gateway.set_response("openapi/v1", {})


class TestAuthentication:
    async def test_docs_signing_example_is_accepted_at_its_own_time(
        self, session: aiohttp.ClientSession
    ) -> None:
        headers = auth_headers(timestamp=DOC_TIMESTAMP, nonce=DOC_NONCE)
        assert headers["m7-sign"] == DOC_SIGN
        async with FakeGateway(clock=lambda: DOC_TIMESTAMP + 10.0) as gw:
            answer = await post(session, gw, headers=headers)

        assert answer.status == 200

    @pytest.mark.parametrize(
        ("make_headers", "message"),
        [
            pytest.param(
                lambda: auth_headers(appkey="9999999", secret="other"),
                "appkey不存在 unknown appkey",
                id="unknown-appkey",
            ),
            pytest.param(
                lambda: auth_headers(secret="wrong-secret"),
                "签名错误 invalid m7-sign",
                id="bad-sign",
            ),
            pytest.param(
                lambda: auth_headers(timestamp=time.time() - 301),
                "时间戳超出范围 timestamp out of range",
                id="old-timestamp",
            ),
            pytest.param(
                lambda: auth_headers(timestamp=time.time() + 301),
                "时间戳超出范围 timestamp out of range",
                id="future-timestamp",
            ),
            pytest.param(
                lambda: auth_headers(timestamp=int(time.time() * 1000)),
                "时间戳格式错误 m7-timestamp must be 10-digit Unix seconds",
                id="millisecond-timestamp",
            ),
        ],
    )
    async def test_bad_credentials_are_401_with_a_specific_message(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        make_headers: Callable[[], dict[str, str]],
        message: str,
    ) -> None:
        answer = await post(session, gw, headers=make_headers())

        assert answer.status == 401
        envelope = answer.json()
        assert envelope["success"] is False
        assert envelope["code"] == "401"
        assert envelope["message"] == message
        assert envelope["requestInfo"]["requestId"]
        assert "data" not in envelope

    @pytest.mark.parametrize("missing", ["m7-appkey", "m7-timestamp", "m7-nonce", "m7-sign"])
    async def test_missing_header_is_401(
        self, gw: FakeGateway, session: aiohttp.ClientSession, missing: str
    ) -> None:
        headers = auth_headers()
        del headers[missing]

        answer = await post(session, gw, headers=headers)

        assert answer.status == 401
        assert answer.json()["message"] == f"缺少鉴权头 missing {missing} header"

    async def test_timestamp_within_five_minutes_is_accepted(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        early = await post(session, gw, headers=auth_headers(timestamp=time.time() - 290))
        late = await post(session, gw, headers=auth_headers(timestamp=time.time() + 290))

        assert (early.status, late.status) == (200, 200)

    async def test_replayed_headers_are_401(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        headers = auth_headers()

        first = await post(session, gw, headers=headers)
        replay = await post(session, gw, headers=headers)

        assert first.status == 200
        assert replay.status == 401
        assert replay.json()["message"] == "nonce重复 replayed nonce"

    async def test_same_nonce_with_a_new_timestamp_is_not_a_replay(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        now = int(time.time())
        first = await post(session, gw, headers=auth_headers(timestamp=now, nonce="123456"))
        second = await post(session, gw, headers=auth_headers(timestamp=now - 1, nonce="123456"))

        assert (first.status, second.status) == (200, 200)

    async def test_a_rejected_signature_does_not_burn_the_nonce(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        good = auth_headers()
        bad = {**good, "m7-sign": "AAAA" + good["m7-sign"][4:]}

        assert (await post(session, gw, headers=bad)).status == 401
        assert (await post(session, gw, headers=good)).status == 200

    async def test_nonce_memory_is_pruned_as_the_clock_moves(
        self, session: aiohttp.ClientSession
    ) -> None:
        now = [float(DOC_TIMESTAMP)]
        async with FakeGateway(clock=lambda: now[0], quota=None) as gw:
            for _ in range(3):
                await post(session, gw, headers=auth_headers(timestamp=now[0]))
            assert len(gw._seen) == 3
            now[0] += 301
            await post(session, gw, headers=auth_headers(timestamp=now[0]))
            assert len(gw._seen) == 1

    async def test_several_accounts_each_sign_with_their_own_secret(
        self, session: aiohttp.ClientSession
    ) -> None:
        async with FakeGateway(accounts={"1": "s1", "2": "s2"}) as gw:
            one = await post(session, gw, headers=auth_headers("1", "s1"))
            two = await post(session, gw, headers=auth_headers("2", "s2"))
            crossed = await post(session, gw, headers=auth_headers("2", "s1"))

        assert (one.status, two.status, crossed.status) == (200, 200, 401)

    async def test_header_names_are_case_insensitive(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        headers = {name.upper(): value for name, value in auth_headers().items()}

        assert (await post(session, gw, headers=headers)).status == 200


class TestQuota:
    async def test_call_over_quota_is_429_with_retry_after_and_message(
        self, session: aiohttp.ClientSession
    ) -> None:
        async with FakeGateway(quota=3) as gw:
            statuses = [(await post(session, gw)).status for _ in range(3)]
            over = await post(session, gw)

        assert statuses == [200, 200, 200]
        assert over.status == 429
        assert 55 <= int(over.headers["Retry-After"]) <= 60
        envelope = over.json()
        assert envelope["success"] is False
        assert envelope["code"] == "429"
        assert envelope["message"] == "账户限流:3次/分 rate limit exceeded"
        assert envelope["requestInfo"]["requestId"]

    async def test_default_quota_is_the_documented_20_per_minute(
        self, session: aiohttp.ClientSession
    ) -> None:
        async with FakeGateway() as gw:
            for _ in range(20):
                assert (await post(session, gw)).status == 200
            over = await post(session, gw)

        assert over.status == 429
        assert over.json()["message"] == "账户限流:20次/分 rate limit exceeded"

    async def test_call_is_accepted_again_once_the_window_has_passed(
        self, session: aiohttp.ClientSession
    ) -> None:
        async with FakeGateway(quota=2, quota_period=0.3) as gw:
            await post(session, gw)
            await post(session, gw)
            over = await post(session, gw)
            await asyncio.sleep(0.35)
            again = await post(session, gw)

        assert over.status == 429
        assert over.headers["Retry-After"] == "1"  # never less than a whole second
        assert over.json()["message"] == "账户限流:2次/0.3秒 rate limit exceeded"
        assert again.status == 200

    async def test_rejected_and_unauthenticated_calls_do_not_count(
        self, session: aiohttp.ClientSession
    ) -> None:
        async with FakeGateway(quota=2, quota_period=0.3) as gw:
            await post(session, gw, headers=auth_headers(secret="wrong"))
            await post(session, gw)
            await post(session, gw)
            for _ in range(3):
                assert (await post(session, gw)).status == 429
            await asyncio.sleep(0.35)
            again = [(await post(session, gw)).status for _ in range(2)]

        assert again == [200, 200]

    async def test_quota_is_per_account(self, session: aiohttp.ClientSession) -> None:
        async with FakeGateway(accounts={"1": "s1", "2": "s2"}, quota=1) as gw:
            one = await post(session, gw, headers=auth_headers("1", "s1"))
            two = await post(session, gw, headers=auth_headers("2", "s2"))
            one_again = await post(session, gw, headers=auth_headers("1", "s1"))

        assert (one.status, two.status, one_again.status) == (200, 200, 429)

    async def test_no_quota_means_unlimited(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        statuses = {(await post(session, gw)).status for _ in range(30)}

        assert statuses == {200}

    async def test_max_calls_in_window_counts_accepted_calls_only(
        self, session: aiohttp.ClientSession
    ) -> None:
        async with FakeGateway(quota=3, quota_period=0.3) as gw:
            for _ in range(4):
                await post(session, gw)
            await asyncio.sleep(0.35)
            for _ in range(3):
                await post(session, gw)

            assert gw.max_calls_in_window(DEMO_APPKEY) == 3
            assert gw.max_calls_in_window(DEMO_APPKEY, period=10) == 6
            assert gw.max_calls_in_window(DEMO_APPKEY, period=1e-9) == 1
            assert gw.max_calls_in_window("unknown") == 0

    def test_bad_quota_settings_are_refused(self) -> None:
        with pytest.raises(ValueError, match="quota"):
            FakeGateway(quota=0)
        with pytest.raises(ValueError, match="quota_period"):
            FakeGateway(quota_period=0)


def _envelope_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


class TestFaults:
    async def test_server_error_is_500_envelope(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.SERVER_ERROR)

        answer = await post(session, gw)

        assert answer.status == 500
        assert answer.json()["code"] == "500"
        assert answer.json()["message"] == "服务器内部错误 internal server error"

    async def test_bad_gateway_is_an_nginx_html_page(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.BAD_GATEWAY_HTML)

        answer = await post(session, gw)

        assert answer.status == 502
        assert answer.headers["Content-Type"].startswith("text/html")
        assert b"<center><h1>502 Bad Gateway</h1></center>" in answer.body

    async def test_malformed_json_is_a_200_json_answer_cut_short(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.MALFORMED_JSON)

        answer = await post(session, gw)

        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("application/json")
        assert answer.body.startswith(b'{"success": true')
        assert _envelope_or_none(answer.body) is None

    async def test_not_envelope_is_valid_json_of_another_shape(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.NOT_ENVELOPE)

        answer = await post(session, gw)

        assert (answer.status, answer.json()) == (200, ["unexpected"])

    async def test_empty_body_is_a_200_with_nothing(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.EMPTY_BODY)

        answer = await post(session, gw)

        assert (answer.status, answer.body) == (200, b"")

    async def test_rate_limit_is_the_over_quota_answer(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.RATE_LIMIT)

        answer = await post(session, gw)

        assert answer.status == 429
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["code"] == "429"
        assert answer.json()["message"].startswith("账户限流:20次/")

    async def test_auth_reject_is_a_bad_signature_answer(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.AUTH_REJECT)

        answer = await post(session, gw)

        assert answer.status == 401
        assert answer.json()["message"] == "签名错误 invalid m7-sign"

    async def test_drop_closes_the_connection_without_an_answer(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.DROP)

        with pytest.raises(aiohttp.ServerDisconnectedError):
            await post(session, gw)
        after = await post(session, gw)

        assert after.status == 200
        assert [call.status for call in gw.calls] == [None, 200]

    async def test_slow_answers_normally_after_the_delay(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.SLOW, delay=0.2)

        started = time.monotonic()
        answer = await post(session, gw)

        assert time.monotonic() - started >= 0.2
        assert answer.json()["data"] == SAMPLE_NUMBER_POOL

    async def test_slow_does_not_block_other_requests(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.SLOW, delay=0.5)
        slow = asyncio.create_task(post(session, gw))
        await asyncio.sleep(0.05)  # let the slow one take the fault

        started = time.monotonic()
        quick = await post(session, gw, GROUP)

        assert time.monotonic() - started < 0.3
        assert quick.status == 200
        assert not slow.done()
        assert (await slow).status == 200

    async def test_faults_are_consumed_in_order_one_request_each(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.SERVER_ERROR)
        gw.fail_next(Fault.RATE_LIMIT, times=2)

        statuses = [(await post(session, gw)).status for _ in range(4)]

        assert statuses == [500, 429, 429, 200]

    async def test_a_fault_for_a_path_waits_for_that_path(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.SERVER_ERROR, path=GROUP)

        number = await post(session, gw, NUMBER)
        group = await post(session, gw, GROUP)

        assert (number.status, group.status) == (200, 500)

    async def test_unauthenticated_requests_do_not_take_a_fault(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.SERVER_ERROR)

        rejected = await post(session, gw, headers=auth_headers(secret="wrong"))
        faulted = await post(session, gw)

        assert (rejected.status, faulted.status) == (401, 500)

    async def test_a_faulted_request_consumes_its_nonce(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.SERVER_ERROR)
        headers = auth_headers()

        await post(session, gw, headers=headers)
        retry_with_old_headers = await post(session, gw, headers=headers)

        assert retry_with_old_headers.status == 401
        assert retry_with_old_headers.json()["message"] == "nonce重复 replayed nonce"

    async def test_faults_skip_the_quota(self, session: aiohttp.ClientSession) -> None:
        async with FakeGateway(quota=1) as gw:
            gw.fail_next(Fault.SLOW, delay=0.01, times=2)
            slow = [(await post(session, gw)).status for _ in range(2)]
            first_counted = await post(session, gw)
            over = await post(session, gw)

        assert slow == [200, 200]
        assert (first_counted.status, over.status) == (200, 429)

    def test_fail_next_checks_its_arguments(self) -> None:
        gateway = FakeGateway()
        with pytest.raises(TypeError):
            gateway.fail_next("SLOW")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="times"):
            gateway.fail_next(Fault.DROP, times=0)
        with pytest.raises(ValueError, match="delay"):
            gateway.fail_next(Fault.DROP, delay=-1)


class TestRespondNext:
    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ({"success": False, "code": "403", "message": "鉴权失败"}, None),
            (["a", 1], None),
            ('{"code": 403}', b'{"code": 403}'),
            (b"\x00raw", b"\x00raw"),
        ],
    )
    async def test_answers_exactly_the_given_status_and_body(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        body: Any,
        expected: bytes | None,
    ) -> None:
        gw.respond_next(403, body)

        answer = await post(session, gw)

        assert answer.status == 403
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        if expected is None:
            assert answer.json() == body
        else:
            assert answer.body == expected

    async def test_headers_are_added_and_may_replace_the_content_type(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.respond_next(
            503,
            "<h1>维护中</h1>",
            headers={"Content-Type": "text/html; charset=utf-8", "Retry-After": "7"},
        )

        answer = await post(session, gw)

        assert answer.status == 503
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        assert answer.headers["Retry-After"] == "7"
        assert answer.body.decode() == "<h1>维护中</h1>"

    async def test_times_and_path_and_order_with_faults(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.respond_next(200, {"success": False, "code": "403"}, times=2, path=GROUP)
        gw.fail_next(Fault.SERVER_ERROR)

        statuses = [
            (await post(session, gw, GROUP)).status,
            (await post(session, gw, NUMBER)).status,
            (await post(session, gw, GROUP)).status,
            (await post(session, gw, GROUP)).status,
        ]

        assert statuses == [200, 500, 200, 200]
        assert [call.request_id is None for call in gw.calls] == [True, False, True, False]

    def test_status_must_be_an_http_status(self) -> None:
        with pytest.raises(ValueError, match="status"):
            FakeGateway().respond_next(42, b"")


class TestRecordedCalls:
    async def test_every_request_is_recorded_with_its_answer(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        before = time.monotonic()
        ok = await post(session, gw, NUMBER, body=b'{"a": 1}')
        await post(session, gw, GROUP, headers=auth_headers(secret="wrong"))

        first, second = gw.calls
        assert isinstance(first, ReceivedCall)
        assert first.path == NUMBER
        assert first.method == "POST"
        assert first.body == b'{"a": 1}'
        assert first.headers["m7-appkey"] == DEMO_APPKEY
        assert first.account == DEMO_APPKEY
        assert first.status == 200
        assert first.request_id == ok.json()["requestInfo"]["requestId"]
        assert before <= first.received_at <= second.received_at <= time.monotonic()
        assert (second.path, second.status, second.account) == (GROUP, 401, None)

    async def test_calls_is_a_copy_and_clear_calls_forgets(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        await post(session, gw)
        snapshot = gw.calls
        snapshot.clear()
        assert len(gw.calls) == 1

        gw.clear_calls()

        assert gw.calls == []
        assert gw.max_calls_in_window(DEMO_APPKEY) == 0

    def test_received_call_is_frozen(self) -> None:
        call = ReceivedCall(
            path="/", method="POST", headers={}, body=b"", account=None, status=None,
            request_id=None, received_at=0.0,
        )  # fmt: skip
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            call.status = 200  # type: ignore[misc]


def _urllib_post(url: str, headers: Mapping[str, str]) -> tuple[int, Any]:
    # S310 (urlopen may follow file: URLs): the URL is the fake gateway's own http:// one.
    request = urllib.request.Request(url, data=b"", headers=dict(headers), method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def _gateway_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "moor7-fake-gateway"]


class TestLifecycle:
    def test_url_raises_when_not_running(self) -> None:
        with pytest.raises(RuntimeError, match="not running"):
            _ = FakeGateway().url

    async def test_url_names_the_bound_ephemeral_port(self) -> None:
        async with FakeGateway() as gw:
            host, port = gw.url.removeprefix("http://").split(":")
            assert host == "127.0.0.1"
            assert int(port) > 0
        with pytest.raises(RuntimeError):
            _ = gw.url

    async def test_start_twice_is_refused_and_stop_twice_is_harmless(self) -> None:
        gw = FakeGateway()
        await gw.start()
        try:
            with pytest.raises(RuntimeError, match="already running"):
                await gw.start()
        finally:
            await gw.stop()
        await gw.stop()

    def test_thread_mode_serves_a_blocking_client(self) -> None:
        with FakeGateway(quota=1) as gw:
            status, envelope = _urllib_post(gw.url + GROUP, auth_headers())
            over_status, over = _urllib_post(gw.url + GROUP, auth_headers())
            gw.fail_next(Fault.SERVER_ERROR)
            failed_status, _ = _urllib_post(gw.url + NUMBER, auth_headers())

            assert (status, envelope["data"]) == (200, SAMPLE_GROUPS)
            assert (over_status, over["code"]) == (429, "429")
            assert failed_status == 500
            assert [c.status for c in gw.calls] == [200, 429, 500]
        assert _gateway_threads() == []

    def test_thread_mode_can_restart_after_exit(self) -> None:
        gw = FakeGateway()
        for _ in range(2):
            with gw:
                assert _urllib_post(gw.url + GROUP, auth_headers())[0] == 200
        assert _gateway_threads() == []

    async def test_stop_with_a_slow_request_in_flight_is_prompt(
        self, session: aiohttp.ClientSession
    ) -> None:
        gw = FakeGateway()
        await gw.start()
        gw.fail_next(Fault.SLOW)  # 5 seconds
        slow = asyncio.create_task(post(session, gw))
        await asyncio.sleep(0.05)

        started = time.monotonic()
        await gw.stop()

        assert time.monotonic() - started < 1.0
        with pytest.raises(aiohttp.ClientConnectionError):
            await slow
        assert [call.status for call in gw.calls] == [None]

    def test_thread_mode_exit_with_a_slow_request_in_flight_is_prompt(self) -> None:
        errors: list[BaseException] = []

        def blocking_call(url: str) -> None:
            try:
                _urllib_post(url, auth_headers())
            except Exception as exc:
                errors.append(exc)

        with FakeGateway() as gw:
            gw.fail_next(Fault.SLOW)  # 5 seconds
            client = threading.Thread(target=blocking_call, args=(gw.url + NUMBER,))
            client.start()
            deadline = time.monotonic() + 2
            while gw._scripted and time.monotonic() < deadline:
                time.sleep(0.01)  # wait until the slow request has taken the fault
            started = time.monotonic()
        client.join(timeout=2)

        assert time.monotonic() - started < 1.0
        assert not client.is_alive()
        assert len(errors) == 1  # the connection was closed without an answer
        assert _gateway_threads() == []


class TestDataOfTheWrongShape:
    """Every data argument is checked at start-up against the model the client reads it
    into: a wrong shape fails there, naming the argument, not as a ResponseShapeError at
    every call (or an AttributeError from the gateway's thread)."""

    @pytest.mark.parametrize(
        ("data", "error", "message"),
        [
            ({"groups": 5}, TypeError, "groups must be a sequence of mappings"),
            ({"groups": [{"name": "no id"}]}, ValueError, "groups does not fit"),
            ({"number_pool": []}, TypeError, "number_pool must be a mapping"),
            ({"number_pool": {}}, ValueError, "number_pool does not fit"),
            ({"number_pool": {"sipNumberList": "x"}}, ValueError, "$.sip_numbers"),
            ({"answer_rates": {"9813": 5}}, TypeError, "answer_rates['9813'] must be a mapping"),
            ({"answer_rates": [1]}, TypeError, "answer_rates must be a mapping"),
            ({"sip_numbers": [{"number": "1", "registerStatus": "on"}]}, ValueError, "sip_numbers"),
            ({"agents": [{"_id": "1"}]}, ValueError, "$[0].agent_number"),
            ({"queues": [{"_id": "q", "members": "all"}]}, ValueError, "queues does not fit"),
            ({"im_session_report": []}, TypeError, "im_session_report must be a mapping"),
            ({"im_session_report": {"header": [5]}}, ValueError, "im_session_report"),
        ],
    )
    def test_refused_at_start_up_naming_the_argument(
        self, data: dict[str, Any], error: type[Exception], message: str
    ) -> None:
        with pytest.raises(error) as caught:
            FakeGateway(**data)
        assert message in str(caught.value)
        assert type(caught.value) is error

    @pytest.mark.parametrize(
        ("attribute", "value", "message"),
        [
            ("number_pool", [], "number_pool must be a mapping"),
            ("number_pool", {"displayNumberList": [{"_id": "1"}]}, "$.display_numbers[0].number"),
            ("groups", 5, "groups must be a sequence of mappings"),
            ("groups", [{"name": "x"}], "$[0].id"),
        ],
    )
    async def test_assigning_data_is_checked_too(
        self, gw: FakeGateway, attribute: str, value: Any, message: str
    ) -> None:
        before = getattr(gw, attribute)
        with pytest.raises((TypeError, ValueError)) as caught:
            setattr(gw, attribute, value)
        assert message in str(caught.value)
        assert getattr(gw, attribute) == before  # what is served is unchanged

    def test_the_samples_and_the_shapes_the_docs_give_are_accepted(self) -> None:
        empty = {"displayNumberList": [], "serviceNumberList": [], "sipNumberList": []}
        with FakeGateway(number_pool=empty, groups=[], agents=[], queues=[], sip_numbers=[]):
            pass
        with FakeGateway(number_pool={"sipNumberList": []}, answer_rates={}):
            pass

    async def test_a_wrong_shape_on_purpose_through_set_response(self, gw: FakeGateway) -> None:
        """The way to test a client against data that does not fit."""
        gw.set_response("/openapi/v1/call/query/number", {"displayNumberList": "nope"})
        async with moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gw.url, limiter=moor7.Unlimited()
        ) as client:
            with pytest.raises(moor7.ResponseShapeError):
                await client.get_number_pool()
