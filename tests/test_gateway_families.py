"""Each API family of the fake gateway behaves as its docs page describes.

Like tests/test_gateway.py, these talk to the gateway with plain signed aiohttp
requests, so they do not depend on the moor7 client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from moor7.testing import SAMPLE_SIP_NUMBERS, FakeGateway
from tests.test_gateway import Answer, post

SIP_LIST = "/openapi/v1/call/sip/list"


@pytest.fixture
async def gw() -> AsyncIterator[FakeGateway]:
    async with FakeGateway(quota=None) as gateway:
        yield gateway


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def call(
    session: aiohttp.ClientSession, gw: FakeGateway, path: str, body: Any = None
) -> Answer:
    """POST *body* as JSON (nothing for ``None``), signed afresh."""
    raw = b"" if body is None else json.dumps(body).encode()
    return await post(session, gw, path, body=raw)


async def data_of(
    session: aiohttp.ClientSession, gw: FakeGateway, path: str, body: Any = None
) -> Any:
    """The ``data`` of a successful answer."""
    answer = await call(session, gw, path, body)
    assert answer.status == 200, answer.json()
    envelope = answer.json()
    assert envelope["success"] is True
    assert envelope["code"] == "200"
    return envelope["data"]


async def refused(
    session: aiohttp.ClientSession, gw: FakeGateway, path: str, body: Any, field: str
) -> dict[str, Any]:
    """Assert the answer is the 400 error envelope naming *field*; return the envelope."""
    answer = await call(session, gw, path, body)
    envelope: dict[str, Any] = answer.json()
    assert answer.status == 400, envelope
    assert envelope["success"] is False
    assert envelope["code"] == "400"
    assert "data" not in envelope
    assert field in envelope["message"]
    assert envelope["message"].startswith("参数错误")
    assert envelope["requestInfo"]["requestId"]
    return envelope


def sip(number: str, register_status: Any) -> dict[str, Any]:
    return {"number": number, "registerStatus": register_status, "sipId": f"id-{number}"}


class TestSipList:
    async def test_default_is_the_docs_example(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        data = await data_of(session, gw, SIP_LIST)

        assert data == SAMPLE_SIP_NUMBERS
        assert data[0]["number"] == "2000"
        assert data[0]["agent"] == {
            "agentId": "5feb148e19a5207b5020e728",
            "agentName": "凯哥测试",
            "agentNumber": "8734",
        }

    async def test_docs_example_request_finds_the_example_record(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {"number": "2000", "registerStatuses": [0, 1]}

        assert await data_of(session, gw, SIP_LIST, body) == SAMPLE_SIP_NUMBERS

    async def test_users_data_is_served_and_copied(self, session: aiohttp.ClientSession) -> None:
        records = [sip("1", 0), sip("2", 1)]
        async with FakeGateway(quota=None, sip_numbers=records) as gw:
            records.clear()
            assert await data_of(session, gw, SIP_LIST, {}) == [sip("1", 0), sip("2", 1)]

    async def test_number_filter_matches_exactly(self, session: aiohttp.ClientSession) -> None:
        records = [sip("200", 1), sip("2000", 1), sip("20001", 1)]
        async with FakeGateway(quota=None, sip_numbers=records) as gw:
            assert await data_of(session, gw, SIP_LIST, {"number": "2000"}) == [sip("2000", 1)]
            assert await data_of(session, gw, SIP_LIST, {"number": "9"}) == []

    async def test_register_status_filter(self, session: aiohttp.ClientSession) -> None:
        # The docs type registerStatus as a string and show it as a number: both match.
        records = [sip("1", 0), sip("2", 1), sip("3", "1"), sip("4", "0")]
        async with FakeGateway(quota=None, sip_numbers=records) as gw:
            registered = await data_of(session, gw, SIP_LIST, {"registerStatuses": [1]})
            assert [r["number"] for r in registered] == ["2", "3"]
            either = await data_of(session, gw, SIP_LIST, {"registerStatuses": [0, 1]})
            assert [r["number"] for r in either] == ["1", "2", "3", "4"]
            assert await data_of(session, gw, SIP_LIST, {"registerStatuses": []}) == []
            both = {"number": "4", "registerStatuses": [0]}
            assert await data_of(session, gw, SIP_LIST, both) == [sip("4", "0")]

    async def test_null_filters_are_no_filters(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {"number": None, "registerStatuses": None}

        assert await data_of(session, gw, SIP_LIST, body) == SAMPLE_SIP_NUMBERS

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"number": 2000}, "number"),
            ({"number": ["2000"]}, "number"),
            ({"registerStatuses": 1}, "registerStatuses"),
            ({"registerStatuses": ["1"]}, "registerStatuses"),
            ({"registerStatuses": [2]}, "registerStatuses"),
            ({"registerStatuses": [True]}, "registerStatuses"),
        ],
    )
    async def test_bad_types_are_400(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        body: dict[str, Any],
        field: str,
    ) -> None:
        await refused(session, gw, SIP_LIST, body, field)

    async def test_set_response_overrides_the_route(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.set_response(SIP_LIST, {"static": True})

        # No checks either: the static answer is served whatever the request.
        assert await data_of(session, gw, SIP_LIST, {"number": 5}) == {"static": True}
