"""Signing: the doc's test vector, fresh headers per call, and a secret that stays secret."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import pytest

import moor7

# The authorization page's own example inputs (see shared/7moor-v7-api.md).
APPKEY = "2000103"
SECRET = "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3"
TIMESTAMP = "1608119594"
NONCE = "123221"
EXPECTED_SIGN = "ybCwXrg9CMo39xv1kdfVLemqFmk+2Elz+vXYu1CyHlo="

REQUEST = moor7.OutgoingRequest("POST", "http://x/openapi/v1/call/query/number", "/p", b"")


class TestHmacSigner:
    def test_signature_matches_the_documented_test_vector(self) -> None:
        signer = moor7.HmacSigner(APPKEY, SECRET)
        assert signer.signature(TIMESTAMP, NONCE) == EXPECTED_SIGN

    def test_sign_builds_all_four_headers_from_clock_and_nonce(self) -> None:
        signer = moor7.HmacSigner(APPKEY, SECRET, clock=lambda: 1608119594.9, nonce=lambda: NONCE)
        assert signer.sign(REQUEST) == {
            "m7-appkey": APPKEY,
            "m7-nonce": NONCE,
            "m7-timestamp": TIMESTAMP,  # seconds, truncated, 10 digits
            "m7-sign": EXPECTED_SIGN,
        }

    def test_signature_is_standard_padded_base64_of_hmac_sha256(self) -> None:
        signer = moor7.HmacSigner("a", "b")
        raw = hmac.new(b"b", b"a" + b"1" + b"2", hashlib.sha256).digest()
        assert signer.signature("1", "2") == base64.b64encode(raw).decode()

    def test_each_call_gets_a_fresh_six_digit_nonce(self) -> None:
        signer = moor7.HmacSigner(APPKEY, SECRET)
        nonces = [signer.sign(REQUEST)["m7-nonce"] for _ in range(200)]
        assert all(len(n) == 6 and n.isdigit() for n in nonces)
        # 200 draws from 900,000 values: a repeat would mean a broken source.
        assert len(set(nonces)) == len(nonces)

    def test_timestamp_is_ten_digit_seconds_of_the_real_clock(self) -> None:
        import time

        headers = moor7.HmacSigner(APPKEY, SECRET).sign(REQUEST)
        assert len(headers["m7-timestamp"]) == 10
        assert abs(int(headers["m7-timestamp"]) - time.time()) < 5

    def test_repr_hides_the_secret(self) -> None:
        signer = moor7.HmacSigner(APPKEY, SECRET)
        assert SECRET not in repr(signer)
        assert APPKEY in repr(signer)

    @pytest.mark.parametrize(
        ("appkey", "secret"),
        [("", SECRET), (APPKEY, ""), (APPKEY, "  "), (2000103, SECRET), (APPKEY, None)],
    )
    def test_rejects_bad_credentials(self, appkey: object, secret: object) -> None:
        with pytest.raises(moor7.ConfigurationError):
            moor7.HmacSigner(appkey, secret)  # type: ignore[arg-type]

    def test_is_a_signer(self) -> None:
        assert isinstance(moor7.HmacSigner(APPKEY, SECRET), moor7.Signer)


class TestOutgoingRequest:
    def test_repr_shows_body_size_not_content(self) -> None:
        request = moor7.OutgoingRequest("POST", "http://x/p", "/p", b'{"secret": 1}')
        assert "secret" not in repr(request)
        assert "13 bytes" in repr(request)


class TestAsyncSigner:
    async def test_an_async_signer_is_a_signer(self) -> None:
        class VaultSigner:
            async def sign(self, request: moor7.OutgoingRequest) -> dict[str, str]:
                await asyncio.sleep(0)
                return moor7.HmacSigner(APPKEY, SECRET).sign(request)

        assert isinstance(VaultSigner(), moor7.Signer)
        headers = await VaultSigner().sign(REQUEST)
        assert set(headers) == {"m7-appkey", "m7-nonce", "m7-timestamp", "m7-sign"}
