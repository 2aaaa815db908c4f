"""The secret key, the signatures and SIP passwords never show where people look.

One scan over everything a user or an operator sees: repr() and str() of the clients,
signers, models and every exception the client raised, DEBUG logs of every logger, and
the command line's output and errors.
"""

from __future__ import annotations

import logging

import pytest

import moor7
from moor7._cli import main
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault

SIP_PASSWORD = "123456Aa"  # the sample SIP number's


def assert_clean(text: str, signatures: list[str]) -> None:
    assert DEMO_SECRET_KEY not in text
    assert SIP_PASSWORD not in text
    leaked = [sign for sign in signatures if sign in text]
    assert not leaked, leaked


class TestEverythingAUserSees:
    async def test_reprs_errors_and_debug_logs(self, caplog: pytest.LogCaptureFixture) -> None:
        seen: list[str] = []
        async with FakeGateway(quota=None) as gateway:
            client = moor7.AsyncClient(
                DEMO_APPKEY,
                DEMO_SECRET_KEY,
                base_url=gateway.url,
                limiter=moor7.Unlimited(),
                backoff_initial=0,
                backoff_max=0,
            )
            with caplog.at_level(logging.DEBUG):  # every logger: moor7, stamina, aiohttp
                async with client:
                    pool = await client.get_number_pool()
                    seen += [repr(client), repr(client.signer), repr(pool), str(pool)]
                    seen += [repr(n) for n in pool.sip_numbers]
                    for fault in Fault:
                        if fault is Fault.SLOW:
                            continue
                        gateway.fail_next(fault, times=5)
                        try:
                            await client.get_number_pool(max_retries=1)
                        except moor7.Moor7Error as error:
                            seen += [repr(error), str(error), repr(error.__cause__)]
                async with moor7.AsyncClient(
                    DEMO_APPKEY, "a-wrong-secret", base_url=gateway.url, limiter=moor7.Unlimited()
                ) as wrong:
                    with pytest.raises(moor7.AuthenticationError) as excinfo:
                        await wrong.get_number_pool()
                    seen += [repr(excinfo.value), str(excinfo.value), repr(wrong)]
                    assert "a-wrong-secret" not in repr(wrong)
            signatures = [call.headers["m7-sign"] for call in gateway.calls if call.headers]
        assert len(signatures) > 10
        seen.append(caplog.text)
        assert "POST /openapi/v1/call/query/number" in caplog.text  # logs were recorded
        for text in seen:
            assert_clean(text, signatures)

    def test_sync_client_repr(self) -> None:
        client = moor7.Client(DEMO_APPKEY, DEMO_SECRET_KEY)
        try:
            assert_clean(repr(client), [])
        finally:
            client.close()

    def test_command_line_output_and_errors(self, capsys: pytest.CaptureFixture[str]) -> None:
        with FakeGateway() as gateway:
            assert main(["--sandbox", "-v", "numbers"]) == 0
            assert main(["--sandbox", "--json", "numbers"]) == 0
            argv = ["--appkey", DEMO_APPKEY, "--secret-key", DEMO_SECRET_KEY]
            gateway.fail_next(Fault.AUTH_REJECT, times=2)  # tried once more, then raised
            assert main([*argv, "--base-url", gateway.url, "-v", "numbers"]) == 1
            signatures = [call.headers["m7-sign"] for call in gateway.calls]
        captured = capsys.readouterr()
        assert "AuthenticationError" in captured.err
        assert_clean(captured.out + captured.err, signatures)
