"""HTTPS by default, proxies from the environment or proxy=, and a quiet library."""

from __future__ import annotations

import asyncio
import logging
import ssl
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault

GROUPS = b'{"success": true, "code": "200", "data": [{"_id": "g", "name": "n"}]}'


class ForwardProxy:
    """A plain-HTTP forward proxy stand-in: records each request line and answers it."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        writer.write(answer + f"Content-Length: {len(GROUPS)}\r\n\r\n".encode() + GROUPS)
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def proxy() -> AsyncIterator[ForwardProxy]:
    async with ForwardProxy() as server:
        yield server


def client_for(base_url: str, **settings: object) -> moor7.AsyncClient:
    options: dict[str, object] = {"limiter": moor7.Unlimited(), "max_retries": 0}
    options.update(settings)
    return moor7.AsyncClient(
        DEMO_APPKEY,
        DEMO_SECRET_KEY,
        base_url=base_url,
        backoff_initial=0,
        backoff_max=0,
        **options,  # type: ignore[arg-type]
    )


class TestHttpsByDefault:
    def test_the_default_gateway_is_https(self) -> None:
        assert moor7.DEFAULT_BASE_URL == "https://v7openapi.7moor.com"
        assert moor7.Client(DEMO_APPKEY, DEMO_SECRET_KEY).base_url.startswith("https://")

    def test_http_only_when_asked_for(self) -> None:
        client = moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, base_url="http://example.com")
        assert client.base_url == "http://example.com"


class TestProxies:
    async def test_the_environments_proxy_is_honoured(
        self, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        async with client_for("http://v7.gateway.invalid") as client:
            (group,) = await client.list_display_number_groups()
        assert group.id == "g"
        (head,) = proxy.requests
        assert head.startswith(b"POST http://v7.gateway.invalid/openapi/v1/call/query/group ")

    async def test_no_proxy_bypasses_it(
        self, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with FakeGateway() as gateway, client_for(gateway.url) as client:
            await client.list_display_number_groups()
        assert proxy.requests == []

    async def test_proxy_argument_with_credentials_that_never_show(
        self, proxy: ForwardProxy
    ) -> None:
        with_password = proxy.url.replace("http://", "http://ops:hunter2@")
        client = client_for("http://v7.gateway.invalid", proxy=with_password)
        async with client:
            await client.list_display_number_groups()
            assert "hunter2" not in repr(client.transport)
        (head,) = proxy.requests
        assert b"proxy-authorization: basic " in head.lower()

    def test_a_bad_proxy_is_refused_without_quoting_its_password(self) -> None:
        with pytest.raises(moor7.ConfigurationError) as excinfo:
            moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, proxy="socks5://u:hunter2@h:1")
        assert "hunter2" not in str(excinfo.value)

    def test_the_blocking_client_reaches_the_transport_settings(self) -> None:
        context = ssl.create_default_context()
        client = moor7.Client(
            DEMO_APPKEY,
            DEMO_SECRET_KEY,
            proxy="http://proxy.example:3128",
            verify=context,
            max_connections=7,
        )
        transport = client._async_client.transport
        assert isinstance(transport, moor7.AiohttpTransport)
        assert transport.max_connections == 7
        client.close()

    def test_transport_settings_with_a_session_or_transport_are_refused(self) -> None:
        mock = moor7.testing.MockTransport(lambda r, h: moor7.HttpResponse(200))
        with pytest.raises(moor7.ConfigurationError, match="default transport"):
            moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, transport=mock, max_connections=3)

    async def test_verify_and_max_connections_are_refused_with_a_shared_session(self) -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(moor7.ConfigurationError, match="verify"):
                moor7.AiohttpTransport(session, verify=False)


class TestQuietUnlessAsked:
    def test_a_retried_call_prints_nothing_without_logging_configured(self, tmp_path: Path) -> None:
        script = tmp_path / "job.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import moor7
                from moor7.testing import FakeGateway, Fault

                with FakeGateway() as gateway, moor7.Client(
                    {DEMO_APPKEY!r}, {DEMO_SECRET_KEY!r}, base_url=gateway.url,
                    backoff_initial=0, backoff_max=0, limiter=moor7.Unlimited(),
                ) as client:
                    gateway.fail_next(Fault.SERVER_ERROR, times=2)
                    client.get_number_pool()
                    gateway.respond_next(401, {{"code": "401", "message": "签名错误"}}, times=2)
                    try:
                        client.get_number_pool()
                    except moor7.AuthenticationError:
                        pass
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
        assert (result.stdout, result.stderr) == ("", "")

    async def test_retries_are_logged_on_moor7s_logger_only(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with FakeGateway() as gateway, client_for(gateway.url, max_retries=2) as client:
            gateway.fail_next(Fault.SERVER_ERROR)
            with caplog.at_level(logging.DEBUG):
                await client.list_queues(max_retries=2)
        assert {record.name for record in caplog.records} <= {"moor7"}, caplog.text
        retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
        assert retries == [
            next(m for m in retries if m.startswith("POST /openapi/v1/base/queue/list failed"))
        ]
        assert "ServerError" in retries[0]
        assert "retry 1" in retries[0]


class TestTls:
    async def test_a_tls_failure_is_not_retried_and_says_where_to_look(self) -> None:
        """No retry can fix a handshake, and each would take a slot of the quota."""
        limiter = moor7.LocalLimiter(max_calls=10, period=60.0)
        async with FakeGateway() as gateway:  # plain HTTP: the handshake fails
            url = gateway.url.replace("http://", "https://")
            async with client_for(url, max_retries=3, limiter=limiter) as client:
                with pytest.raises(moor7.ConfigurationError, match="verify="):
                    await client.list_queues()
        assert limiter.calls_in_window(DEMO_APPKEY) == 1
