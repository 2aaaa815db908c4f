"""The envelope and the many undocumented ways the gateway may say no.

Narrow unit tests of the classifier; the client's end-to-end behaviour for the same
answers is tested against the fake gateway in test_client.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import moor7
from moor7._envelope import parse_response, retry_after_seconds

PATH = "/openapi/v1/call/query/number"


def parse(status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return parse_response(
        status=status, reason="Reason", headers=headers or {}, body=raw, path=PATH
    )


def envelope(code: str | int, message: str, success: bool = False) -> dict[str, Any]:
    return {
        "success": success,
        "code": code,
        "message": message,
        "requestInfo": {"requestId": "rid-1"},
    }


class TestSuccess:
    def test_unwraps_data_and_request_id(self) -> None:
        result = parse(200, {**envelope("200", "requestSuccess", True), "data": {"a": 1}})
        assert result.data == {"a": 1}
        assert result.request_id == "rid-1"
        assert result.code == "200"

    def test_absent_data_is_none(self) -> None:
        assert parse(200, envelope("200", "ok", True)).data is None

    def test_code_200_without_success_flag_is_success(self) -> None:
        assert parse(200, {"code": 200, "data": [1]}).data == [1]

    def test_string_data(self) -> None:
        assert parse(200, {**envelope("200", "ok", True), "data": "done"}).data == "done"


# (HTTP status, envelope or raw body, expected class): every way we imagine 7moor (or a
# proxy in front of it) answering, since the docs show none of them.
REJECTIONS = [
    (401, envelope("401", "签名错误 invalid m7-sign"), moor7.AuthenticationError),
    (403, envelope("403", "forbidden"), moor7.AuthenticationError),
    (200, envelope("403", "鉴权失败"), moor7.AuthenticationError),
    (200, envelope("400", "时间戳超出范围"), moor7.AuthenticationError),
    (200, envelope("400", "nonce重复"), moor7.AuthenticationError),
    (200, envelope("1001", "appkey不存在"), moor7.AuthenticationError),
    (200, envelope("500", "sign error"), moor7.AuthenticationError),
    (429, envelope("429", "too many requests"), moor7.RateLimitError),
    (200, envelope("429", "账户限流"), moor7.RateLimitError),
    (200, envelope("400", "请求过于频繁"), moor7.RateLimitError),
    (200, envelope("403", "账户限流:20次/分"), moor7.RateLimitError),
    (429, b"", moor7.RateLimitError),
    (500, envelope("500", "服务器内部错误"), moor7.ServerError),
    (200, envelope("500", "internal error"), moor7.ServerError),
    (502, b"<html><body>502 Bad Gateway</body></html>", moor7.ServerError),
    (503, b"", moor7.ServerError),
    (401, b"Unauthorized", moor7.AuthenticationError),
    (200, envelope("400", "参数错误"), moor7.APIError),
    (404, envelope("404", "not found"), moor7.APIError),
    (400, b"bad request", moor7.APIError),
    (200, {"success": False}, moor7.APIError),
    (500, {"success": True, "code": "200"}, moor7.ServerError),
    # Words inside other words are not the words: found in review.
    (500, envelope("500", "failed to assign the agent"), moor7.ServerError),
    (200, envelope("400", "designer not found"), moor7.APIError),
    (400, envelope("400", "too many numbers in one request"), moor7.APIError),
    (200, envelope("400", "Unauthorized"), moor7.AuthenticationError),
    (200, envelope("400", "invalid m7-sign"), moor7.AuthenticationError),
    (200, envelope("400", "Too Many Requests"), moor7.RateLimitError),
]


class TestRejections:
    @pytest.mark.parametrize(("status", "body", "expected"), REJECTIONS)
    def test_classified_by_status_code_and_message(
        self, status: int, body: Any, expected: type[moor7.APIError]
    ) -> None:
        with pytest.raises(moor7.APIError) as excinfo:
            parse(status, body)
        assert type(excinfo.value) is expected
        assert excinfo.value.status == status
        assert excinfo.value.path == PATH

    def test_error_carries_status_code_message_and_request_id(self) -> None:
        with pytest.raises(moor7.APIError) as excinfo:
            parse(200, envelope("400", "参数错误"))
        error = excinfo.value
        assert (error.status, error.code, error.message, error.request_id) == (
            200,
            "400",
            "参数错误",
            "rid-1",
        )
        assert "rid-1" in str(error)
        assert "参数错误" in str(error)
        assert "'400'" in str(error)

    def test_rate_limit_carries_retry_after(self) -> None:
        with pytest.raises(moor7.RateLimitError) as excinfo:
            parse(429, envelope("429", "limited"), {"Retry-After": "7"})
        assert excinfo.value.retry_after == 7.0

    def test_rate_limit_without_retry_after(self) -> None:
        with pytest.raises(moor7.RateLimitError) as excinfo:
            parse(200, envelope("429", "limited"))
        assert excinfo.value.retry_after is None


class TestUndecodable:
    @pytest.mark.parametrize(
        ("body", "what"),
        [
            (b"", "empty body"),
            (b"   ", "empty body"),
            (b'{"success": true, "da', "not JSON"),
            (b"\xff\xfe", "not JSON"),
            (b"<html>ok</html>", "not JSON"),
            (b'["unexpected"]', "not 7moor's envelope"),
            (b'{"data": 1}', "not 7moor's envelope"),
            (b"42", "not 7moor's envelope"),
        ],
    )
    def test_raises_decode_error(self, body: bytes, what: str) -> None:
        with pytest.raises(moor7.ResponseDecodeError, match=what) as excinfo:
            parse(200, body)
        assert excinfo.value.body == body
        assert excinfo.value.status == 200

    def test_body_is_kept_masked_and_never_printed(self) -> None:
        # The body is kept for debugging, but not the echo's signature (issue 16: an
        # error's body reaches pickles, Celery's result backends and reports).
        body = b'{"requestInfo": {"headers": {"m7-sign": "SIGNATURE", "m7-nonce": "123456"}}}'
        with pytest.raises(moor7.ResponseDecodeError) as excinfo:
            parse(200, body)
        assert excinfo.value.body == (
            b'{"requestInfo": {"headers": {"m7-sign": "***", "m7-nonce": "123456"}}}'
        )
        assert "SIGNATURE" not in str(excinfo.value)
        assert "SIGNATURE" not in repr(excinfo.value)


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("soon", None), ("", None), ("inf", None)],
    )
    def test_seconds(self, value: str, expected: float | None) -> None:
        assert retry_after_seconds({"Retry-After": value}) == expected

    def test_http_date(self) -> None:
        headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}
        assert retry_after_seconds(headers, now=1445412480.0) == 10.0

    def test_absent(self) -> None:
        assert retry_after_seconds({}) is None


class TestExceptionsPickle:
    """Celery and multiprocessing send exceptions between processes."""

    def test_round_trip_keeps_every_attribute(self) -> None:
        import pickle

        error = moor7.RateLimitError(
            "limited", path=PATH, status=429, code="429", request_id="r", retry_after=2.0
        )
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
        assert type(copy) is moor7.RateLimitError
        assert (copy.path, copy.status, copy.code, copy.request_id, copy.retry_after) == (
            PATH,
            429,
            "429",
            "r",
            2.0,
        )
        assert str(copy) == str(error)

    def test_invalid_response_round_trip(self) -> None:
        import pickle

        error = moor7.ResponseDecodeError("bad", status=200, body=b"x")
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
        assert copy.body == b"x"
        assert copy.status == 200
