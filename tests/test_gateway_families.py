"""Each API family of the fake gateway behaves as its docs page describes.

Like tests/test_gateway.py, these talk to the gateway with plain signed aiohttp
requests, so they do not depend on the moor7 client.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import moor7
from moor7.testing import (
    SAMPLE_AGENTS,
    SAMPLE_ANSWER_RATES,
    SAMPLE_IM_SESSION_REPORT,
    SAMPLE_QUEUES,
    SAMPLE_SIP_NUMBERS,
    FakeGateway,
    Fault,
)
from tests.test_gateway import Answer, _urllib_post, auth_headers, post

SIP_LIST = "/openapi/v1/call/sip/list"
AGENT = "/openapi/v1/call/query/agent"
QUEUE_LIST = "/openapi/v1/base/queue/list"
ONLINE = "/openapi/v1/call/online"
LISTEN = "/openapi/v1/call/listen"
CREATE_TASK = "/openapi/v1/call/dialout/task/create"
UPDATE_TASK = "/openapi/v1/call/dialout/task/update"
ANSWER_REPORT = "/openapi/v1/call/query/displayNumber/answer/report"
IM_SESSION_REPORT = "/openapi/im-report/session/time"

# 2021-08-11 08:03:05.673 UTC: the startTime of the docs' listen example, in UTC+8.
LISTEN_EXAMPLE_TIME = 1628668985.673


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


def agent(number: str, **fields: Any) -> dict[str, Any]:
    return {"_id": f"id{number}", "agentNumber": number, "agentName": f"a{number}", **fields}


class TestQueryAgents:
    async def test_default_is_every_sample_agent(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        data = await data_of(session, gw, AGENT)

        assert data == SAMPLE_AGENTS
        # The docs' example agent, and every agent another example names.
        assert [a["agentNumber"] for a in data] == ["2000", "2001", "2002", "9527", "8734"]

    async def test_docs_example_request_finds_zhang_san(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        [found] = await data_of(session, gw, AGENT, {"agentNumber": "2000"})

        # The fields the docs' example shows before it is cut.
        assert found["_id"] == "5fc9d54105fd0161a498c4fc"
        assert found["agentName"] == "张三"
        assert found["mobile"] == "10010"
        assert found["roles"] == ["座席"]
        assert found["status"] == "enable"
        assert found["queue"][0]["_id"] == "10000123"
        # Completed from the table's fields.
        assert set(found) >= {"restTime", "numbers", "crmId", "sipNumber", "email"}
        assert set(found["queue"][0]) == {"_id", "name"}

    async def test_users_agents_are_served_and_copied(self, session: aiohttp.ClientSession) -> None:
        agents = [agent("1"), agent("2")]
        async with FakeGateway(quota=None, agents=agents) as gw:
            agents.clear()
            assert await data_of(session, gw, AGENT, {}) == [agent("1"), agent("2")]

    @pytest.mark.parametrize("field", ["agentNumber", "sipNumber", "mobile", "crmId"])
    async def test_each_filter_matches_exactly(
        self, session: aiohttp.ClientSession, field: str
    ) -> None:
        agents = [agent("1", **{field: "10"}), agent("2", **{field: "100"}), agent("3")]
        async with FakeGateway(quota=None, agents=agents) as gw:
            found = await data_of(session, gw, AGENT, {field: "10"})
            assert [a["_id"] for a in found] == ["id1"]
            assert await data_of(session, gw, AGENT, {field: "1000"}) == []

    async def test_filters_combine(self, session: aiohttp.ClientSession) -> None:
        agents = [agent("1", mobile="5"), agent("2", mobile="5", crmId="c"), agent("3", crmId="c")]
        async with FakeGateway(quota=None, agents=agents) as gw:
            found = await data_of(session, gw, AGENT, {"mobile": "5", "crmId": "c"})
            assert [a["agentNumber"] for a in found] == ["2"]

    async def test_pages_slice_the_matches(self, session: aiohttp.ClientSession) -> None:
        agents = [agent(str(n)) for n in range(1, 251)]
        async with FakeGateway(quota=None, agents=agents) as gw:

            async def numbers(body: dict[str, Any]) -> list[str]:
                return [a["agentNumber"] for a in await data_of(session, gw, AGENT, body)]

            # Default: page 1, limit 100.
            assert await numbers({}) == [str(n) for n in range(1, 101)]
            assert await numbers({"page": 3}) == [str(n) for n in range(201, 251)]
            assert await numbers({"page": 4}) == []
            assert await numbers({"page": 2, "limit": 7}) == [str(n) for n in range(8, 15)]
            assert await numbers({"limit": 1}) == ["1"]
            assert await numbers({"limit": 100, "page": 1}) == [str(n) for n in range(1, 101)]

    async def test_the_answer_is_a_bare_array_without_a_total(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        envelope = (await call(session, gw, AGENT, {"limit": 2})).json()

        assert isinstance(envelope["data"], list)
        assert len(envelope["data"]) == 2
        assert set(envelope) == {"success", "code", "message", "data", "requestInfo"}

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"page": 0}, "page"),
            ({"page": -1}, "page"),
            ({"page": "1"}, "page"),
            ({"page": 1.5}, "page"),
            ({"page": True}, "page"),
            ({"limit": 0}, "limit"),
            ({"limit": 101}, "limit"),
            ({"limit": "10"}, "limit"),
            ({"agentNumber": 2000}, "agentNumber"),
            ({"sipNumber": 1}, "sipNumber"),
            ({"mobile": ["10010"]}, "mobile"),
            ({"crmId": {}}, "crmId"),
            ({"projection": ["agentName"]}, "projection"),
            ({"projection": "agentName"}, "projection"),
        ],
    )
    async def test_bad_arguments_are_400_naming_the_field(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        body: dict[str, Any],
        field: str,
    ) -> None:
        await refused(session, gw, AGENT, body, field)

    async def test_limit_out_of_range_says_the_range(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        envelope = await refused(session, gw, AGENT, {"limit": 101}, "limit")

        assert "between 1 and 100" in envelope["message"]

    async def test_projection_keeps_the_truthy_fields_and_id(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        # The docs' own example projection.
        projection = {"_id": 1, "agentName": 1, "agentNumber": 1}
        [found] = await data_of(
            session, gw, AGENT, {"agentNumber": "2000", "projection": projection}
        )

        assert found == {
            "_id": "5fc9d54105fd0161a498c4fc",
            "agentNumber": "2000",
            "agentName": "张三",
        }

    @pytest.mark.parametrize(
        ("projection", "expected"),
        [
            ({"agentName": 1}, {"_id", "agentName"}),
            ({"agentName": True, "mobile": 1}, {"_id", "agentName", "mobile"}),
            ({"agentName": 1, "_id": 0}, {"agentName"}),
            ({"_id": 1}, {"_id"}),
            ({"agentName": 1, "mobile": 0}, {"_id", "agentName"}),
            ({"nosuchfield": 1}, {"_id"}),
        ],
    )
    async def test_projection_inclusion(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        projection: dict[str, Any],
        expected: set[str],
    ) -> None:
        body = {"agentNumber": "2000", "projection": projection}
        [found] = await data_of(session, gw, AGENT, body)

        assert set(found) == expected

    async def test_projection_of_falsy_values_drops_those_fields(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {"agentNumber": "2000", "projection": {"_id": 0, "queue": 0}}
        [found] = await data_of(session, gw, AGENT, body)

        assert set(SAMPLE_AGENTS[0]) - set(found) == {"_id", "queue"}

    async def test_empty_projection_keeps_everything(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {"agentNumber": "2000", "projection": {}}

        assert await data_of(session, gw, AGENT, body) == [SAMPLE_AGENTS[0]]


class TestQueueList:
    async def test_default_is_the_docs_example_with_its_own_message(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        envelope = (await call(session, gw, QUEUE_LIST, {})).json()

        # The queue-list page's envelope says "200 ok!", not "requestSuccess".
        assert envelope["message"] == "200 ok!"
        assert envelope["code"] == "200"
        assert envelope["data"] == SAMPLE_QUEUES
        [queue] = envelope["data"]
        assert queue["_id"] == "10000004"
        assert queue["name"] == "默认技能组"
        assert queue["members"] == [
            {
                "uid": "5fd2f31c63e3080021c14c5b",
                "weight": 1,
                "agentName": "张三",
                "agentNumber": "2000",
            }
        ]

    async def test_empty_body_is_accepted(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        assert await data_of(session, gw, QUEUE_LIST) == SAMPLE_QUEUES

    async def test_users_queues_are_served(self, session: aiohttp.ClientSession) -> None:
        queues = [{"_id": "1", "name": "a"}, {"_id": "2", "name": "b"}]
        async with FakeGateway(quota=None, queues=queues) as gw:
            queues.pop()
            assert await data_of(session, gw, QUEUE_LIST) == [
                {"_id": "1", "name": "a"},
                {"_id": "2", "name": "b"},
            ]

    async def test_other_paths_keep_the_usual_message(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        assert (await call(session, gw, AGENT)).json()["message"] == "requestSuccess"


class TestAgentOnline:
    async def test_docs_example_puts_the_agent_online(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        assert gw.agent_states == {}
        body = {"agentNumber": "2000", "loginType": "PSTN", "status": "0"}

        assert await data_of(session, gw, ONLINE, body) == "座席上线成功"
        assert gw.agent_states == {"2000": {"loginType": "PSTN", "status": "0"}}

    async def test_going_online_again_replaces_the_state(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        await data_of(
            session, gw, ONLINE, {"agentNumber": "2000", "loginType": "PSTN", "status": "0"}
        )
        await data_of(
            session, gw, ONLINE, {"agentNumber": "2000", "loginType": "SIP", "status": "1"}
        )
        await data_of(
            session, gw, ONLINE, {"agentNumber": "8734", "loginType": "WEBRTC", "status": "0"}
        )

        assert gw.agent_states == {
            "2000": {"loginType": "SIP", "status": "1"},
            "8734": {"loginType": "WEBRTC", "status": "0"},
        }

    async def test_agent_states_is_a_copy(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        await data_of(
            session, gw, ONLINE, {"agentNumber": "2000", "loginType": "PSTN", "status": "0"}
        )
        gw.agent_states["2000"]["status"] = "1"

        assert gw.agent_states["2000"]["status"] == "0"

    async def test_users_agents_are_the_known_ones(self, session: aiohttp.ClientSession) -> None:
        async with FakeGateway(quota=None, agents=[agent("77")]) as gw:
            ok = {"agentNumber": "77", "loginType": "SIP", "status": "1"}
            assert await data_of(session, gw, ONLINE, ok) == "座席上线成功"
            await refused(session, gw, ONLINE, {**ok, "agentNumber": "2000"}, "agentNumber")

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"agentNumber": None}, "agentNumber"),
            ({"agentNumber": ""}, "agentNumber"),
            ({"agentNumber": 2000}, "agentNumber"),
            ({"agentNumber": "9999"}, "agentNumber"),
            ({"loginType": None}, "loginType"),
            ({"loginType": "pstn"}, "loginType"),
            ({"loginType": "PHONE"}, "loginType"),
            ({"loginType": 1}, "loginType"),
            ({"status": None}, "status"),
            ({"status": "2"}, "status"),
            ({"status": 0}, "status"),
            ({"status": 1}, "status"),
            ({"status": False}, "status"),
        ],
    )
    async def test_bad_arguments_are_400_and_change_nothing(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        change: dict[str, Any],
        field: str,
    ) -> None:
        body = {"agentNumber": "2000", "loginType": "PSTN", "status": "0", **change}
        body = {name: value for name, value in body.items() if value is not None}

        await refused(session, gw, ONLINE, body, field)
        assert gw.agent_states == {}

    async def test_unknown_agent_message_names_it(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {"agentNumber": "9999", "loginType": "PSTN", "status": "0"}
        envelope = await refused(session, gw, ONLINE, body, "agentNumber")

        assert "9999" in envelope["message"]


class TestListen:
    async def test_docs_example_answers_in_the_docs_shape(
        self, session: aiohttp.ClientSession
    ) -> None:
        async with FakeGateway(quota=None, clock=lambda: LISTEN_EXAMPLE_TIME) as gw:
            # The auth check uses the same clock: sign at the gateway's time.
            body = {"listenAgent": "2002", "agentNumber": "9527", "actionId": "437783670040322048"}
            headers = auth_headers(timestamp=LISTEN_EXAMPLE_TIME)
            answer = await post(
                session, gw, LISTEN, headers=headers, body=json.dumps(body).encode()
            )

        assert answer.status == 200
        assert answer.json()["data"] == {
            "code": 200,
            "startTime": "2021-08-11 16:03:05.673",
            "endTime": "2021-08-11 16:03:05.673",
            "timezone": "UTC+8",
            "version": "2020102501",
            "request": {"requestId": "437783670040322048"},
            "response": {
                "data": {"mediaServer": "172.31.15.8:11100"},
                "message": "call-api-server-ok",
            },
            "message": "call-api-server-ok",
        }

    async def test_times_come_from_the_gateway_clock_in_utc8(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        data = await data_of(session, gw, LISTEN, {"listenAgent": "2002", "agentNumber": "9527"})

        pattern = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}")
        assert pattern.fullmatch(data["startTime"])
        assert pattern.fullmatch(data["endTime"])
        assert data["startTime"] <= data["endTime"]

    async def test_action_id_defaults_to_the_request_id(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {"listenAgent": "2002", "agentNumber": "9527"}
        envelope = (await call(session, gw, LISTEN, body)).json()

        assert envelope["data"]["request"]["requestId"] == envelope["requestInfo"]["requestId"]

    async def test_action_id_of_forty_characters_is_accepted(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {"listenAgent": "2002", "agentNumber": "9527", "actionId": "a" * 40}

        data = await data_of(session, gw, LISTEN, body)
        assert data["request"]["requestId"] == "a" * 40

    async def test_the_listened_agent_need_not_be_online(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        assert gw.agent_states == {}
        body = {"listenAgent": "2000", "agentNumber": "8734"}

        assert (await data_of(session, gw, LISTEN, body))["code"] == 200

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"listenAgent": None}, "listenAgent"),
            ({"listenAgent": "0000"}, "listenAgent"),
            ({"listenAgent": 2002}, "listenAgent"),
            ({"agentNumber": None}, "agentNumber"),
            ({"agentNumber": "0000"}, "agentNumber"),
            ({"agentNumber": ["9527"]}, "agentNumber"),
            ({"actionId": "a" * 41}, "actionId"),
            ({"actionId": 437783670040322048}, "actionId"),
        ],
    )
    async def test_bad_arguments_are_400(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        change: dict[str, Any],
        field: str,
    ) -> None:
        body = {"listenAgent": "2002", "agentNumber": "9527", **change}
        body = {name: value for name, value in body.items() if value is not None}

        await refused(session, gw, LISTEN, body, field)


# The docs' create example.
EXAMPLE_TASK = {
    "taskName": "222122",
    "description": "remark",
    "agentNumberList": ["2000"],
    "queueNumberList": [],
    "agentNumber": "2001",
}


class TestDialoutTasks:
    async def test_docs_example_creates_a_task_and_answers_without_data(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        answer = await call(session, gw, CREATE_TASK, EXAMPLE_TASK)

        assert answer.status == 200
        envelope = answer.json()
        assert envelope["success"] is True
        assert envelope["code"] == "200"
        assert envelope["message"] == "requestSuccess"
        assert "data" not in envelope
        assert envelope["requestInfo"]["body"] == EXAMPLE_TASK
        [(task_id, task)] = gw.dialout_tasks.items()
        assert re.fullmatch(r"[0-9a-f]{24}", task_id)
        assert task == {
            "taskName": "222122",
            "description": "remark",
            "agentNumber": "2001",
            "agentNumberList": ["2000"],
            "queueNumberList": [],
        }

    async def test_optional_fields_default_to_empty(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        await call(session, gw, CREATE_TASK, {"taskName": "t", "agentNumber": "2000"})

        [task] = gw.dialout_tasks.values()
        assert task == {
            "taskName": "t",
            "description": "",
            "agentNumber": "2000",
            "agentNumberList": [],
            "queueNumberList": [],
        }

    async def test_each_task_gets_a_new_id(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        for name in ("a", "b", "c"):
            await call(session, gw, CREATE_TASK, {"taskName": name, "agentNumber": "2000"})

        tasks = gw.dialout_tasks
        assert len(tasks) == 3
        assert [task["taskName"] for task in tasks.values()] == ["a", "b", "c"]

    async def test_a_created_task_is_then_updated(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        await call(session, gw, CREATE_TASK, EXAMPLE_TASK)
        [task_id] = gw.dialout_tasks

        body = {"taskId": task_id, "taskName": "renamed", "description": "new remark"}
        answer = await call(session, gw, UPDATE_TASK, body)

        assert answer.status == 200
        assert "data" not in answer.json()
        assert gw.dialout_tasks == {
            task_id: {
                "taskName": "renamed",
                "description": "new remark",
                "agentNumber": "2001",
                "agentNumberList": ["2000"],
                "queueNumberList": [],
            }
        }

    async def test_update_without_description_keeps_it(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        await call(session, gw, CREATE_TASK, EXAMPLE_TASK)
        [task_id] = gw.dialout_tasks

        answer = await call(session, gw, UPDATE_TASK, {"taskId": task_id, "taskName": "x"})
        assert answer.status == 200

        assert gw.dialout_tasks[task_id]["taskName"] == "x"
        assert gw.dialout_tasks[task_id]["description"] == "remark"

    async def test_dialout_tasks_is_a_copy(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        await call(session, gw, CREATE_TASK, EXAMPLE_TASK)
        [task] = gw.dialout_tasks.values()
        task["taskName"] = "changed here"

        assert next(iter(gw.dialout_tasks.values()))["taskName"] == "222122"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"taskName": None}, "taskName"),
            ({"taskName": ""}, "taskName"),
            ({"taskName": 222122}, "taskName"),
            ({"agentNumber": None}, "agentNumber"),
            ({"agentNumber": "9999"}, "agentNumber"),
            ({"agentNumber": 2001}, "agentNumber"),
            ({"description": 1}, "description"),
            ({"agentNumberList": "2000"}, "agentNumberList"),
            ({"agentNumberList": [2000]}, "agentNumberList"),
            ({"queueNumberList": {}}, "queueNumberList"),
            ({"queueNumberList": [10000004]}, "queueNumberList"),
        ],
    )
    async def test_bad_create_is_400_and_creates_nothing(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        change: dict[str, Any],
        field: str,
    ) -> None:
        body = {**EXAMPLE_TASK, **change}
        body = {name: value for name, value in body.items() if value is not None}

        await refused(session, gw, CREATE_TASK, body, field)
        assert gw.dialout_tasks == {}

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"taskId": None}, "taskId"),
            ({"taskId": "0" * 24}, "taskId"),
            ({"taskId": 1}, "taskId"),
            ({"taskName": None}, "taskName"),
            ({"taskName": ""}, "taskName"),
            ({"description": ["x"]}, "description"),
        ],
    )
    async def test_bad_update_is_400_and_changes_nothing(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        change: dict[str, Any],
        field: str,
    ) -> None:
        await call(session, gw, CREATE_TASK, EXAMPLE_TASK)
        before = gw.dialout_tasks
        [task_id] = before
        body = {"taskId": task_id, "taskName": "renamed", **change}
        body = {name: value for name, value in body.items() if value is not None}

        await refused(session, gw, UPDATE_TASK, body, field)
        assert gw.dialout_tasks == before

    async def test_unknown_task_message_names_it(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {"taskId": "f" * 24, "taskName": "x"}
        envelope = await refused(session, gw, UPDATE_TASK, body, "taskId")

        assert "f" * 24 in envelope["message"]


# The docs' answer-rate example: exactly three months.
EXAMPLE_RANGE = {"startTime": "2020-09-25 20:32:03", "endTime": "2020-12-25 20:32:03"}


class TestAnswerRateReport:
    async def test_docs_example_answers_the_docs_row(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {**EXAMPLE_RANGE, "numbers": ["01081401967"]}

        assert await data_of(session, gw, ANSWER_REPORT, body) == [
            {"number": "01081401967", "sum": 4, "answerSum": 0, "answerPercentage": "00.00%"}
        ]
        assert SAMPLE_ANSWER_RATES == {"01081401967": {"sum": 4, "answerSum": 0}}

    async def test_one_row_per_number_asked_unknown_ones_zero(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {**EXAMPLE_RANGE, "numbers": ["9813", "01081401967"]}

        assert await data_of(session, gw, ANSWER_REPORT, body) == [
            {"number": "9813", "sum": 0, "answerSum": 0, "answerPercentage": "00.00%"},
            {"number": "01081401967", "sum": 4, "answerSum": 0, "answerPercentage": "00.00%"},
        ]

    @pytest.mark.parametrize(
        ("total", "answered", "percentage"),
        [
            (4, 0, "00.00%"),
            (4, 1, "25.00%"),
            (3, 1, "33.33%"),
            (3, 2, "66.67%"),
            (200, 1, "00.50%"),
            (7, 7, "100.00%"),
            (0, 0, "00.00%"),
        ],
    )
    async def test_users_stats_and_the_percentage_format(
        self, session: aiohttp.ClientSession, total: int, answered: int, percentage: str
    ) -> None:
        rates = {"1": {"sum": total, "answerSum": answered}}
        async with FakeGateway(quota=None, answer_rates=rates) as gw:
            rates.clear()
            body = {**EXAMPLE_RANGE, "numbers": ["1"]}
            assert await data_of(session, gw, ANSWER_REPORT, body) == [
                {"number": "1", "sum": total, "answerSum": answered, "answerPercentage": percentage}
            ]

    @pytest.mark.parametrize(
        "rates",
        [
            {"1": {"sum": 1}},
            {"1": {"sum": "4", "answerSum": 0}},
            {"1": {"sum": 4, "answerSum": True}},
            {"1": {"sum": -1, "answerSum": 0}},
            {"1": {"sum": 1, "answerSum": 2}},
        ],
    )
    def test_bad_stats_are_refused_at_construction(self, rates: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="answer_rates"):
            FakeGateway(answer_rates=rates)

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            ("2020-09-25 20:32:03", "2020-09-25 20:32:03"),
            ("2020-11-30 00:00:00", "2021-02-28 00:00:00"),
            ("2020-01-01 00:00:00", "2020-04-01 00:00:00"),
        ],
    )
    async def test_spans_up_to_three_months_are_accepted(
        self, gw: FakeGateway, session: aiohttp.ClientSession, start: str, end: str
    ) -> None:
        body = {"startTime": start, "endTime": end, "numbers": ["1"]}

        assert len(await data_of(session, gw, ANSWER_REPORT, body)) == 1

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"startTime": None}, "startTime"),
            ({"endTime": None}, "endTime"),
            ({"startTime": "2020-09-25"}, "startTime"),
            ({"startTime": "2020-09-25T20:32:03"}, "startTime"),
            ({"endTime": 1608719083}, "endTime"),
            ({"endTime": "2020-02-30 00:00:00"}, "endTime"),
            ({"numbers": None}, "numbers"),
            ({"numbers": []}, "numbers"),
            ({"numbers": "01081401967"}, "numbers"),
            ({"numbers": [1081401967]}, "numbers"),
            # The end before the start.
            ({"endTime": "2020-09-25 20:32:02"}, "endTime"),
            # A second over three months.
            ({"endTime": "2020-12-25 20:32:04"}, "endTime"),
            ({"startTime": "2020-11-30 00:00:00", "endTime": "2021-02-28 00:00:01"}, "endTime"),
        ],
    )
    async def test_bad_arguments_are_400(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        change: dict[str, Any],
        field: str,
    ) -> None:
        body = {**EXAMPLE_RANGE, "numbers": ["01081401967"], **change}
        body = {name: value for name, value in body.items() if value is not None}

        await refused(session, gw, ANSWER_REPORT, body, field)

    async def test_over_three_months_says_so(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {**EXAMPLE_RANGE, "endTime": "2021-01-01 00:00:00", "numbers": ["1"]}
        envelope = await refused(session, gw, ANSWER_REPORT, body, "endTime")

        assert "three months" in envelope["message"]


# The docs' IM report example request.
IM_EXAMPLE = {
    "createTime": ["2021-08-01 00:00:00", "2021-08-31 00:00:00"],
    "dimension": "hour",
    "accessIds": ["XhRRVj3VLLVYsoNA"],
}


class TestImSessionReport:
    async def test_docs_example_answers_the_recovered_header(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        data = await data_of(session, gw, IM_SESSION_REPORT, IM_EXAMPLE)

        assert data == SAMPLE_IM_SESSION_REPORT
        # The rows' key is MISSING in the docs: none is served.
        assert list(data) == ["header"]
        header = data["header"]
        assert [h["prop"] for h in header] == [
            "time",
            "initCount",
            "validCount",
            "robotCount",
            "robotOnlyCount",
        ]
        assert header[0] == {
            "isCustomHeader": False,
            "prop": "time",
            "show": True,
            "width": "200",
            "label": "时间",
        }
        assert all(h["width"] == 120 for h in header[1:])
        assert all(h["show"] is True and h["isCustomHeader"] is False for h in header)

    async def test_users_report_is_served_and_copied(self, session: aiohttp.ClientSession) -> None:
        report = {"header": [], "rows": [{"time": "2021-08-01 00:00", "initCount": 3}]}
        async with FakeGateway(quota=None, im_session_report=report) as gw:
            report["rows"].clear()
            data = await data_of(session, gw, IM_SESSION_REPORT, IM_EXAMPLE)
            assert data == {"header": [], "rows": [{"time": "2021-08-01 00:00", "initCount": 3}]}

    @pytest.mark.parametrize("dimension", [None, "half_hour", "hour", "day", "month", "year"])
    async def test_every_dimension_is_accepted(
        self, gw: FakeGateway, session: aiohttp.ClientSession, dimension: str | None
    ) -> None:
        body = {"createTime": IM_EXAMPLE["createTime"], "dimension": dimension}

        assert await data_of(session, gw, IM_SESSION_REPORT, body) == SAMPLE_IM_SESSION_REPORT

    @pytest.mark.parametrize(
        "span",
        [
            ["2021-01-01 00:00:00", "2022-01-01 00:00:00"],
            ["2020-02-29 00:00:00", "2021-02-28 00:00:00"],
            ["2021-08-01 00:00:00", "2021-08-01 00:00:00"],
        ],
    )
    async def test_spans_up_to_one_year_are_accepted(
        self, gw: FakeGateway, session: aiohttp.ClientSession, span: list[str]
    ) -> None:
        assert await data_of(session, gw, IM_SESSION_REPORT, {"createTime": span})

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"createTime": None}, "createTime"),
            ({"createTime": "2021-08-01 00:00:00"}, "createTime"),
            ({"createTime": ["2021-08-01 00:00:00"]}, "createTime"),
            ({"createTime": ["2021-08-01", "2021-08-31"]}, "createTime"),
            ({"createTime": ["2021-08-31 00:00:00", "2021-08-01 00:00:00"]}, "createTime"),
            ({"createTime": ["2021-01-01 00:00:00", "2022-01-01 00:00:01"]}, "createTime"),
            ({"dimension": "week"}, "dimension"),
            ({"dimension": "HOUR"}, "dimension"),
            ({"dimension": 1}, "dimension"),
            ({"accessIds": "XhRRVj3VLLVYsoNA"}, "accessIds"),
            ({"accessIds": [1]}, "accessIds"),
        ],
    )
    async def test_bad_arguments_are_400(
        self,
        gw: FakeGateway,
        session: aiohttp.ClientSession,
        change: dict[str, Any],
        field: str,
    ) -> None:
        body = {**IM_EXAMPLE, **change}
        body = {name: value for name, value in body.items() if value is not None}

        await refused(session, gw, IM_SESSION_REPORT, body, field)


# Every request example of the docs' pages, path and body.
DOCS_EXAMPLES: list[tuple[str, dict[str, Any] | None]] = [
    ("/openapi/v1/call/query/number", None),
    ("/openapi/v1/call/query/group", None),
    (SIP_LIST, {"number": "2000", "registerStatuses": [0, 1]}),
    (AGENT, {"agentNumber": "2000"}),
    (QUEUE_LIST, {}),
    (ONLINE, {"agentNumber": "2000", "loginType": "PSTN", "status": "0"}),
    (LISTEN, {"listenAgent": "2002", "agentNumber": "9527", "actionId": "437783670040322048"}),
    (CREATE_TASK, EXAMPLE_TASK),
    (ANSWER_REPORT, {**EXAMPLE_RANGE, "numbers": ["01081401967"]}),
    (IM_SESSION_REPORT, IM_EXAMPLE),
]


class TestDocsExamples:
    @pytest.mark.parametrize(("path", "body"), DOCS_EXAMPLES, ids=[p for p, _ in DOCS_EXAMPLES])
    async def test_each_docs_example_succeeds_against_the_defaults(
        self, client: moor7.AsyncClient, path: str, body: dict[str, Any] | None
    ) -> None:
        await client.request(path, body)

    async def test_the_update_example_succeeds_on_a_created_task(
        self, gateway: FakeGateway, client: moor7.AsyncClient
    ) -> None:
        # The docs cut the update example before its body; its table gives these fields.
        assert await client.request(CREATE_TASK, EXAMPLE_TASK) is None
        [task_id] = gateway.dialout_tasks

        body = {"taskId": task_id, "taskName": "222122", "description": "remark"}
        assert await client.request(UPDATE_TASK, body) is None

    async def test_a_refusal_reaches_the_client_as_an_api_error(
        self, client: moor7.AsyncClient
    ) -> None:
        with pytest.raises(moor7.APIError) as caught:
            await client.request(AGENT, {"limit": 101})

        assert type(caught.value) is moor7.APIError
        assert caught.value.status == 400
        assert caught.value.code == "400"
        assert "limit" in str(caught.value)


class TestAcrossFamilies:
    async def test_a_refused_call_counts_against_the_quota(
        self, session: aiohttp.ClientSession
    ) -> None:
        async with FakeGateway(quota=1) as gw:
            await refused(session, gw, AGENT, {"page": 0}, "page")
            assert (await call(session, gw, AGENT)).status == 429

    async def test_a_fault_on_a_family_route_changes_no_state(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        body = {"agentNumber": "2000", "loginType": "PSTN", "status": "0"}
        gw.fail_next(Fault.SERVER_ERROR, path=ONLINE)

        assert (await call(session, gw, ONLINE, body)).status == 500
        assert gw.agent_states == {}
        assert (await call(session, gw, ONLINE, body)).status == 200
        assert gw.agent_states == {"2000": {"loginType": "PSTN", "status": "0"}}

    async def test_a_slow_answer_is_the_routes_answer(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.fail_next(Fault.SLOW, delay=0.05, path=CREATE_TASK)

        answer = await call(session, gw, CREATE_TASK, EXAMPLE_TASK)

        assert answer.status == 200
        assert len(gw.dialout_tasks) == 1

    async def test_respond_next_replaces_a_family_answer_once(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.respond_next(200, {"success": True, "code": "200", "data": []}, path=AGENT)

        assert (await call(session, gw, AGENT)).json()["data"] == []
        assert (await call(session, gw, AGENT)).json()["data"] == SAMPLE_AGENTS

    async def test_a_static_answer_replaces_the_routes_state_changes(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        gw.set_response(ONLINE, "ok")
        body = {"agentNumber": "nobody", "loginType": "PSTN", "status": "0"}

        assert await data_of(session, gw, ONLINE, body) == "ok"
        assert gw.agent_states == {}

    async def test_assigning_the_pool_drops_a_static_answer(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        number = "/openapi/v1/call/query/number"
        gw.set_response(number, {"static": True})
        assert gw.number_pool == {"static": True}

        gw.number_pool = {"sipNumberList": []}

        assert await data_of(session, gw, number) == {"sipNumberList": []}

    async def test_concurrent_creates_each_make_one_task(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        bodies = [{"taskName": f"t{n}", "agentNumber": "2000"} for n in range(50)]

        answers = await asyncio.gather(*(call(session, gw, CREATE_TASK, b) for b in bodies))

        assert {a.status for a in answers} == {200}
        names = sorted(task["taskName"] for task in gw.dialout_tasks.values())
        assert names == sorted(f"t{n}" for n in range(50))

    def test_family_routes_work_in_thread_mode(self) -> None:
        with FakeGateway(quota=None) as gw:
            status, envelope = _urllib_post(gw.url + QUEUE_LIST, auth_headers())

            assert status == 200
            assert envelope["message"] == "200 ok!"
            assert envelope["data"] == SAMPLE_QUEUES

    @pytest.mark.parametrize("argument", ["sip_numbers", "agents", "queues"])
    def test_records_must_be_mappings(self, argument: str) -> None:
        with pytest.raises(TypeError, match=argument):
            FakeGateway(**{argument: ["2000"]})
        with pytest.raises(TypeError, match=argument):
            FakeGateway(**{argument: {"number": "2000"}})

    async def test_unknown_paths_are_still_404(
        self, gw: FakeGateway, session: aiohttp.ClientSession
    ) -> None:
        answer = await call(session, gw, "/openapi/v1/call/dialout/task/delete", {})

        assert answer.status == 404
