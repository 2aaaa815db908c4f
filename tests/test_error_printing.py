"""Every moor7 error prints: what the gateway sent that no stream can write is escaped.

A lone surrogate (``"bad \\ud800 request"``, which JSON can carry) cannot be encoded in
UTF-8 at all, so ``print(error)`` raised ``UnicodeEncodeError`` in the user's code, and
a logging handler lost the line. Control characters could rewrite a terminal or forge
a log line. Both are escaped as ``repr()`` escapes them; printable text, Chinese
included, stays as it came.
"""

from __future__ import annotations

import io
import json
import logging
import pickle
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

import moor7
from moor7.exceptions import __all__ as EXCEPTION_NAMES
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY

from .crash_reports import printed

UNPRINTABLE = "bad \ud800 request\x1b[31m\n\u202e"  # a lone surrogate, controls, a bidi override
ESCAPED = "bad \\ud800 request\\x1b[31m\\n\\u202e"


def every_error(message: str) -> list[moor7.Moor7Error]:
    errors = []
    for name in EXCEPTION_NAMES:
        cls = getattr(moor7.exceptions, name)
        errors.append(cls(message))
    errors.append(moor7.APIError(message, path="/p", status=400, code=message, request_id=message))
    return errors


@pytest.fixture
async def gateway_saying() -> AsyncIterator[tuple[str, list[str]]]:
    """A server whose every answer is an error envelope with the message set in the list."""
    said = [UNPRINTABLE]

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        document = {"success": False, "code": "400", "message": said[0]}
        # ensure_ascii: "\ud800" travels as its JSON escape, as any gateway may send it.
        body = json.dumps(document, ensure_ascii=True).encode()
        return web.Response(status=200, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", said
    await runner.cleanup()


async def error_from(url: str) -> moor7.Moor7Error:
    async with moor7.AsyncClient(
        DEMO_APPKEY, DEMO_SECRET_KEY, base_url=url, limiter=moor7.Unlimited()
    ) as client:
        with pytest.raises(moor7.APIError) as excinfo:
            await client.get_number_pool()
    return excinfo.value


class TestPrinting:
    async def test_a_lone_surrogate_from_the_gateway_prints(
        self, gateway_saying: tuple[str, list[str]]
    ) -> None:
        url, _ = gateway_saying
        error = await error_from(url)
        assert error.message == ESCAPED
        for encoding in ("utf-8", "ascii", "cp1252"):
            text = printed(error, encoding)  # a strict stream: raises if it cannot
            assert ESCAPED in text

    async def test_chinese_stays_as_it_came(self, gateway_saying: tuple[str, list[str]]) -> None:
        url, said = gateway_saying
        said[0] = "签名错误 \ud800"
        error = await error_from(url)
        assert error.message == "签名错误 \\ud800"
        assert "签名错误 \\ud800" in printed(error, "utf-8")
        assert "签名错误" in printed(error, "gbk")

    @pytest.mark.parametrize("encoding", ["utf-8", "ascii", "cp1252"])
    def test_every_kind_of_error_prints(self, encoding: str) -> None:
        for error in every_error(UNPRINTABLE):
            text = printed(error, encoding)
            assert ESCAPED in text
            assert type(error).__name__ in text  # repr()
            assert "\x1b" not in str(error) + repr(error)

    def test_escaped_once_and_kept_through_pickling(self) -> None:
        for error in every_error(UNPRINTABLE):
            again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own pickle
            assert str(again) == str(error)
            assert ESCAPED in str(again)
            assert "\\\\" not in str(again)  # not escaped twice

    def test_a_log_line_of_the_error_is_written(self, tmp_path: Any) -> None:
        path = tmp_path / "app.log"
        handler = logging.FileHandler(path, encoding="utf-8")  # errors="strict"
        log = logging.getLogger("test_error_printing")
        log.addHandler(handler)
        try:
            for error in every_error(UNPRINTABLE):
                log.error("call failed: %s (%r)", error, error)
        finally:
            log.removeHandler(handler)
            handler.close()
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(every_error(UNPRINTABLE))  # one line each: no forged line
        assert all(ESCAPED in line for line in lines)

    def test_an_error_message_of_moor7s_own_is_unchanged(self) -> None:
        error = moor7.ConfigurationError("timeout must be > 0, got -1")
        assert str(error) == "timeout must be > 0, got -1"
        assert repr(error) == "ConfigurationError('timeout must be > 0, got -1')"
        stream = io.StringIO()
        print(error, file=stream)
        assert stream.getvalue() == "timeout must be > 0, got -1\n"
