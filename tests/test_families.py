"""Every documented V7 endpoint, from both clients, against the fake gateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

import moor7
from moor7._convert import MissingRuleError
from moor7._endpoints import CallKind, Endpoint
from moor7._envelope import Envelope
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault, MockTransport

ONLINE_PATH = "/openapi/v1/call/online"
AGENT_PATH = "/openapi/v1/call/query/agent"


def sent(gateway: FakeGateway, index: int = -1) -> Any:
    """The JSON body of a recorded call."""
    body = gateway.calls[index].body
    return json.loads(body) if body else None


def agents(count: int) -> list[dict[str, Any]]:
    return [
        {"_id": f"{n:024x}", "agentNumber": str(8000 + n), "agentName": f"座席{n}"}
        for n in range(count)
    ]


# Every call of the families, as a user writes it, and the type it answers with.
CALLS: list[tuple[str, dict[str, Any], type]] = [
    ("get_number_pool", {}, moor7.NumberPool),
    ("list_display_number_groups", {}, moor7.NumberGroups),
    ("list_sip_numbers", {"number": "2000", "register_statuses": [1]}, moor7.SipRegistrations),
    ("list_queues", {}, moor7.Queues),
    ("agent_online", {"agent_number": "2000", "login_type": "PSTN"}, moor7.ActionResult),
    ("listen", {"agent_number": "9527", "listen_agent": "2002"}, moor7.ListenResult),
    ("create_dialout_task", {"name": "回访", "creator": "2001"}, moor7.ActionResult),
    (
        "get_display_number_answer_report",
        {
            "numbers": ["01081401967"],
            "start": datetime(2020, 9, 25, 20, 32, 3),
            "end": datetime(2020, 12, 25, 20, 32, 3),
        },
        moor7.AnswerRates,
    ),
    (
        "get_im_session_report",
        {"start": datetime(2021, 8, 1), "end": datetime(2021, 8, 31), "dimension": "hour"},
        moor7.ImSessionReport,
    ),
]


class TestEveryCall:
    @pytest.mark.parametrize(
        ("method", "arguments", "result_type"), CALLS, ids=[c[0] for c in CALLS]
    )
    async def test_async_client(
        self,
        client: moor7.AsyncClient,
        gateway: FakeGateway,
        method: str,
        arguments: dict[str, Any],
        result_type: type,
    ) -> None:
        result = await getattr(client, method)(**arguments)
        assert type(result) is result_type
        assert result.request_id == gateway.calls[-1].request_id is not None
        assert [call.status for call in gateway.calls] == [200]

    @pytest.mark.parametrize(
        ("method", "arguments", "result_type"), CALLS, ids=[c[0] for c in CALLS]
    )
    def test_sync_client(
        self,
        sync_client: moor7.Client,
        thread_gateway: FakeGateway,
        method: str,
        arguments: dict[str, Any],
        result_type: type,
    ) -> None:
        result = getattr(sync_client, method)(**arguments)
        assert type(result) is result_type
        assert result.request_id == thread_gateway.calls[-1].request_id is not None

    def test_every_family_method_is_listed_here(self) -> None:
        listed = {name for name, _, _ in CALLS} | {
            "list_agents",
            "list_agent_pages",
            "update_dialout_task",
        }
        families = {
            name
            for name, value in vars(moor7.AsyncClient).items()
            if callable(value) and not name.startswith("_")
        }
        inherited = {
            name
            for cls in moor7.AsyncClient.__mro__[1:]
            if cls.__module__.startswith("moor7._endpoints.")
            for name in vars(cls)
            if not name.startswith("_")
        }
        assert inherited == listed
        assert families <= {"request", "aclose"}  # the pipeline holds no endpoint


class TestResults:
    async def test_the_docs_examples_decode_into_the_users_words(
        self, client: moor7.AsyncClient
    ) -> None:
        (registration,) = await client.list_sip_numbers()
        assert (registration.number, registration.sip_id) == ("2000", "5fc9d54105fd0161a498c503")
        assert registration.register_status is moor7.RegisterStatus.REGISTERED
        assert registration.agent == moor7.SipAgent(
            agent_id="5feb148e19a5207b5020e728", name="凯哥测试", agent_number="8734"
        )
        assert registration.register_time == datetime(
            2020, 12, 4, 14, 33, 27, tzinfo=moor7.CHINA_STANDARD_TIME
        )
        queue = (await client.list_queues())[0]
        assert (queue.id, queue.name, queue.status) == ("10000004", "默认技能组", "enable")
        assert queue.members[0].agent_number == "2000"
        assert queue.members[0].weight == 1
        (rate,) = await client.get_display_number_answer_report(
            numbers=["01081401967"], start=datetime(2020, 9, 25), end=datetime(2020, 12, 25)
        )
        assert (rate.number, rate.calls, rate.answered, rate.percentage) == (
            "01081401967",
            4,
            0,
            0.0,
        )
        report = await client.get_im_session_report(
            start=datetime(2021, 8, 1), end=datetime(2021, 8, 31)
        )
        assert [column.prop for column in report.columns][:3] == ["time", "initCount", "validCount"]
        assert report.columns[0].width == 200  # sent as the string "200"
        assert report.columns[1].label == "总会话数"

    async def test_list_results_keep_the_raw_data(self, client: moor7.AsyncClient) -> None:
        queues = await client.list_queues()
        assert queues.raw[0]["_id"] == "10000004"
        assert queues[0].raw is queues.raw[0]

    async def test_listen_echoes_the_action_id_and_the_media_server(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        result = await client.listen(agent_number="9527", listen_agent="2002", action_id="tag-1")
        assert result.action_id == "tag-1"
        assert result.media_server is not None
        assert ":" in result.media_server
        assert result.code == 200
        assert sent(gateway) == {"agentNumber": "9527", "listenAgent": "2002", "actionId": "tag-1"}

    async def test_agent_online_changes_the_agents_state(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        result = await client.agent_online("2000", login_type=moor7.LoginType.WEBRTC, status="1")
        assert result.raw == "座席上线成功"
        assert sent(gateway) == {"agentNumber": "2000", "loginType": "WEBRTC", "status": "1"}
        assert gateway.agent_states["2000"]["loginType"] == "WEBRTC"

    async def test_a_task_is_created_then_updated(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        created = await client.create_dialout_task(
            name="回访", creator="2001", description="first", agent_numbers=["2000"]
        )
        assert created.raw is None  # the docs' answer carries no data
        assert sent(gateway) == {
            "taskName": "回访",
            "agentNumber": "2001",
            "agentNumberList": ["2000"],
            "queueNumberList": [],
            "description": "first",
        }
        (task_id,) = gateway.dialout_tasks
        await client.update_dialout_task(task_id, name="回访2")
        assert sent(gateway) == {"taskId": task_id, "taskName": "回访2"}
        assert gateway.dialout_tasks[task_id]["taskName"] == "回访2"
        with pytest.raises(moor7.APIError) as excinfo:
            await client.update_dialout_task("no-such-task", name="x")
        assert excinfo.value.status == 400


class TestArgumentsAreCheckedBeforeSending:
    @pytest.mark.parametrize(
        ("call", "arguments", "named"),
        [
            ("list_sip_numbers", {"register_statuses": [2]}, "register_statuses"),
            ("list_sip_numbers", {"register_statuses": "1"}, "register_statuses"),
            ("agent_online", {"agent_number": "2000", "login_type": "phone"}, "login_type"),
            ("agent_online", {"agent_number": "", "login_type": "PSTN"}, "agent_number"),
            (
                "agent_online",
                {"agent_number": "2000", "login_type": "PSTN", "status": 0},
                "status",
            ),
            (
                "listen",
                {"agent_number": "1", "listen_agent": "2", "action_id": "x" * 41},
                "action_id",
            ),
            (
                "create_dialout_task",
                {"name": "t", "creator": "2001", "agent_numbers": "2000"},
                "agent_numbers",
            ),
            ("update_dialout_task", {"task_id": "", "name": "t"}, "task_id"),
            (
                "get_display_number_answer_report",
                {"numbers": [], "start": datetime(2020, 1, 1), "end": datetime(2020, 1, 2)},
                "numbers",
            ),
            (
                "get_display_number_answer_report",
                {"numbers": ["1"], "start": datetime(2020, 2, 1), "end": datetime(2020, 1, 1)},
                "start",
            ),
            (
                "get_display_number_answer_report",
                {
                    "numbers": ["1"],
                    "start": datetime(2020, 9, 25),
                    "end": datetime(2020, 12, 25, 0, 0, 1),
                },
                "3 months",
            ),
            (
                "get_display_number_answer_report",
                {"numbers": ["1"], "start": "2020-09-25 00:00:00", "end": datetime(2020, 9, 26)},
                "start",
            ),
            (
                "get_im_session_report",
                {"start": datetime(2020, 1, 1), "end": datetime(2021, 1, 1, 0, 0, 1)},
                "1 year",
            ),
            (
                "get_im_session_report",
                {"start": datetime(2020, 1, 1), "end": datetime(2020, 2, 1), "dimension": "week"},
                "dimension",
            ),
            # What the types refuse (tests/typing/misuse.py), refused at run time too.
            ("agent_online", {"agent_number": "2000", "login_type": "PTSN"}, "login_type"),
            (
                "agent_online",
                {"agent_number": "2000", "login_type": moor7.OnlineStatus.IDLE},
                "login_type",
            ),
            (
                "get_im_session_report",
                {"start": datetime(2020, 1, 1), "end": datetime(2020, 2, 1), "dimension": "hours"},
                "dimension",
            ),
            (
                "get_im_session_report",
                {"start": datetime(2020, 1, 1), "end": datetime(2020, 2, 1), "access_ids": "ab"},
                "access_ids",
            ),
            (
                "create_dialout_task",
                {"name": "t", "creator": "2001", "queue_numbers": "q1"},
                "queue_numbers",
            ),
            (
                "get_display_number_answer_report",
                {"numbers": "9813", "start": datetime(2020, 1, 1), "end": datetime(2020, 1, 2)},
                "numbers",
            ),
            ("request", {"path": "/openapi/v1/x", "kind": "querry"}, "kind"),
        ],
    )
    async def test_a_bad_argument_names_itself_and_sends_nothing(
        self,
        client: moor7.AsyncClient,
        gateway: FakeGateway,
        call: str,
        arguments: dict[str, Any],
        named: str,
    ) -> None:
        with pytest.raises(moor7.ConfigurationError, match=named):
            await getattr(client, call)(**arguments)
        assert gateway.calls == []

    @pytest.mark.parametrize("page_size", [0, 101, 1.5, True])
    def test_a_page_size_outside_1_to_100_fails_at_the_call_itself(
        self, client: moor7.AsyncClient, sync_client: moor7.Client, page_size: Any
    ) -> None:
        with pytest.raises(moor7.ConfigurationError, match="page_size"):
            client.list_agents(page_size=page_size)
        with pytest.raises(moor7.ConfigurationError, match="page_size"):
            sync_client.list_agents(page_size=page_size)

    async def test_exactly_three_months_is_allowed_as_in_the_docs(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        await client.get_display_number_answer_report(
            numbers=["01081401967"],
            start=datetime(2020, 9, 25, 20, 32, 3),
            end=datetime(2020, 12, 25, 20, 32, 3),
        )
        assert sent(gateway) == {
            "startTime": "2020-09-25 20:32:03",
            "endTime": "2020-12-25 20:32:03",
            "numbers": ["01081401967"],
        }

    async def test_aware_times_are_sent_in_china_standard_time(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        utc = timezone.utc
        await client.get_im_session_report(
            start=datetime(2021, 7, 31, 16, tzinfo=utc),
            end=datetime(2021, 8, 1, 16, tzinfo=utc) + timedelta(seconds=1),
            access_ids=("a",),
        )
        assert sent(gateway) == {
            "createTime": ["2021-08-01 00:00:00", "2021-08-02 00:00:01"],
            "dimension": "hour",
            "accessIds": ["a"],
        }

    async def test_enums_and_their_values_send_the_same(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        await client.agent_online(
            "2000", login_type=moor7.LoginType.SIP, status=moor7.OnlineStatus.BUSY
        )
        await client.agent_online("2000", login_type="SIP", status="1")
        assert sent(gateway, 0) == sent(gateway, 1)


class TestAgentPages:
    @pytest.fixture
    async def five_agents(self) -> Any:
        async with FakeGateway(agents=agents(5)) as gateway:
            yield gateway

    def client_for(self, gateway: FakeGateway) -> moor7.AsyncClient:
        return moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=moor7.Unlimited()
        )

    async def test_a_page_is_fetched_only_when_the_previous_is_used_up(
        self, five_agents: FakeGateway
    ) -> None:
        async with self.client_for(five_agents) as client:
            iterator = client.list_agents(page_size=2)
            assert five_agents.calls == []  # nothing sent before the first item is asked
            seen = [(await anext(iterator)).agent_number]
            assert len(five_agents.calls) == 1
            seen.append((await anext(iterator)).agent_number)
            assert len(five_agents.calls) == 1
            seen += [agent.agent_number async for agent in iterator]
        assert seen == ["8000", "8001", "8002", "8003", "8004"]
        assert [sent(five_agents, i) for i in range(3)] == [
            {"page": 1, "limit": 2},
            {"page": 2, "limit": 2},
            {"page": 3, "limit": 2},
        ]

    async def test_a_short_page_is_the_last_and_a_full_one_asks_once_more(
        self, five_agents: FakeGateway
    ) -> None:
        async with self.client_for(five_agents) as client:
            pages = [page async for page in client.list_agent_pages(page_size=5)]
        assert [len(page) for page in pages] == [5, 0]
        assert [page.page for page in pages] == [1, 2]
        assert all(page.request_id for page in pages)

    async def test_stopping_early_fetches_no_further_page(self, five_agents: FakeGateway) -> None:
        async with self.client_for(five_agents) as client:
            async for agent in client.list_agents(page_size=2):
                if agent.agent_number == "8000":
                    break
        assert len(five_agents.calls) == 1

    async def test_filters_are_sent_by_their_wire_names(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        found = [a async for a in client.list_agents(agent_number="2000", mobile="10010")]
        assert [agent.name for agent in found] == ["张三"]
        assert sent(gateway) == {"agentNumber": "2000", "mobile": "10010", "page": 1, "limit": 100}

    def test_the_sync_client_iterates_lazily_too(self) -> None:
        with (
            FakeGateway(agents=agents(5)) as gateway,
            moor7.Client(
                DEMO_APPKEY, DEMO_SECRET_KEY, base_url=gateway.url, limiter=moor7.Unlimited()
            ) as client,
        ):
            iterator = client.list_agents(page_size=2)
            assert gateway.calls == []
            first = next(iterator)
            assert first.agent_number == "8000"
            assert len(gateway.calls) == 1
            assert [agent.agent_number for agent in iterator][-1] == "8004"
            assert len(gateway.calls) == 3
            for page in client.list_agent_pages(page_size=2):
                assert page.page == 1
                break
            assert len(gateway.calls) == 4


class TestActionsAreSentAtMostOnce:
    """An action is retried only when the gateway certainly did not act on it."""

    async def test_a_timed_out_action_reached_the_gateway_once(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SLOW, delay=0.5, times=5)
        with pytest.raises(moor7.RequestTimeout):
            await client.agent_online("2000", login_type="PSTN", timeout=0.1, max_retries=3)
        # The gateway records a call when it has answered it: after the delay. Three
        # retries with no backoff would all have arrived by then too.
        await asyncio.sleep(0.8)
        assert len(gateway.calls) == 1

    @pytest.mark.parametrize("fault", [Fault.DROP, Fault.SERVER_ERROR, Fault.BAD_GATEWAY_HTML])
    @pytest.mark.parametrize(
        ("call", "arguments"),
        [
            ("agent_online", {"agent_number": "2000", "login_type": "PSTN"}),
            ("listen", {"agent_number": "9527", "listen_agent": "2002"}),
            ("create_dialout_task", {"name": "t", "creator": "2001"}),
        ],
    )
    async def test_an_action_that_may_have_acted_is_not_sent_again(
        self,
        client: moor7.AsyncClient,
        gateway: FakeGateway,
        fault: Fault,
        call: str,
        arguments: dict[str, Any],
    ) -> None:
        gateway.fail_next(fault, times=5)
        with pytest.raises(moor7.Moor7Error):
            await getattr(client, call)(**arguments, max_retries=3)
        assert len(gateway.calls) == 1

    async def test_an_over_quota_action_is_retried(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.respond_next(
            429,
            {"success": False, "code": "429", "message": "账户限流"},
            headers={"Retry-After": "0"},
        )
        await client.create_dialout_task(name="t", creator="2001")
        assert [call.status for call in gateway.calls] == [429, 200]
        assert len(gateway.dialout_tasks) == 1

    async def test_a_query_that_timed_out_is_retried(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SLOW, delay=0.5)
        await client.list_queues(timeout=0.1)
        await asyncio.sleep(0.6)  # until the slow first attempt is recorded too
        assert [call.status for call in gateway.calls] == [200, 200]

    async def test_an_action_whose_connection_was_refused_is_retried(self) -> None:
        attempts: list[str] = []

        def answer(
            request: moor7.OutgoingRequest, headers: Mapping[str, str]
        ) -> moor7.HttpResponse:
            attempts.append(headers["m7-nonce"])
            if len(attempts) == 1:
                raise moor7.ConnectError("refused", path=request.path)
            return moor7.HttpResponse(200, body=b'{"success": true, "data": "ok"}')

        async with moor7.AsyncClient(
            DEMO_APPKEY,
            DEMO_SECRET_KEY,
            transport=MockTransport(answer),
            limiter=moor7.Unlimited(),
            backoff_initial=0,
            backoff_max=0,
        ) as client:
            await client.agent_online("2000", login_type="PSTN")
        assert len(attempts) == 2
        assert attempts[0] != attempts[1]  # signed afresh

    async def test_request_to_an_unknown_path_is_an_action_unless_told(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response("/openapi/v1/call/somewhere", {"ok": True})
        gateway.fail_next(Fault.SERVER_ERROR, times=2)
        with pytest.raises(moor7.ServerError):
            await client.request("/openapi/v1/call/somewhere")
        assert len(gateway.calls) == 1
        assert await client.request("/openapi/v1/call/somewhere", kind="query") == {"ok": True}
        assert [call.status for call in gateway.calls] == [500, 500, 200]

    async def test_request_to_a_known_path_keeps_its_declared_kind(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        await client.request("/openapi/v1/base/queue/list")  # a query: retried
        gateway.fail_next(Fault.SERVER_ERROR)
        with pytest.raises(moor7.ServerError):
            await client.request(
                ONLINE_PATH, {"agentNumber": "2000", "loginType": "PSTN", "status": "0"}
            )
        assert [call.status for call in gateway.calls] == [500, 200, 500]

    async def test_an_unknown_kind_is_refused(self, client: moor7.AsyncClient) -> None:
        with pytest.raises(moor7.ConfigurationError, match="kind"):
            await client.request("/openapi/v1/x", kind="read")


class TestConverterRules:
    def models(self) -> Iterator[type]:
        """Every model reachable from every declared endpoint's result."""
        from moor7._endpoints import agents, calls, dialout, numbers, reports

        seen: set[type] = set()
        todo: list[Any] = [
            value.result
            for module in (agents, calls, dialout, numbers, reports)
            for value in vars(module).values()
            if isinstance(value, Endpoint)
        ]
        while todo:
            type_ = todo.pop()
            for arg in getattr(type_, "__args__", ()):
                todo.append(arg)
            for base in getattr(type_, "__orig_bases__", ()):
                todo.extend(getattr(base, "__args__", ()))
            if isinstance(type_, type) and attrs.has(type_) and type_ not in seen:
                seen.add(type_)
                attrs.resolve_types(type_)
                todo.extend(field.type for field in attrs.fields(type_))
        yield from seen

    def test_every_model_has_a_rule_for_every_field(self) -> None:
        converter = __import__("moor7._convert", fromlist=["make_converter"]).make_converter()
        models = list(self.models())
        assert len(models) >= 15
        for model in models:
            converter.get_structure_hook(model)  # raises MissingRuleError if one is missing

    def test_a_missing_rule_is_a_loud_error_not_a_shape_error(self) -> None:
        @attrs.frozen
        class WithComplex:
            value: complex

        endpoint = Endpoint("/openapi/test/missing-rule", CallKind.QUERY, WithComplex)
        envelope = Envelope(
            data={"value": 1}, code="200", message="", request_id="r", status=200, path="/"
        )
        with pytest.raises(MissingRuleError, match="complex"):
            endpoint.decode(envelope)

    async def test_an_answer_without_data_is_a_shape_error_where_data_is_due(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response("/openapi/v1/base/queue/list", None)
        with pytest.raises(moor7.ResponseShapeError, match="no data"):
            await client.list_queues()


class TestMockTransport:
    async def test_the_pipeline_runs_in_process(self) -> None:
        seen: list[tuple[moor7.OutgoingRequest, Mapping[str, str]]] = []

        def answer(
            request: moor7.OutgoingRequest, headers: Mapping[str, str]
        ) -> moor7.HttpResponse:
            seen.append((request, headers))
            body = {"success": True, "code": "200", "data": [{"_id": "g", "name": "组"}]}
            return moor7.HttpResponse(
                200, {"content-type": "application/json"}, json.dumps(body).encode()
            )

        async with moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, transport=MockTransport(answer), limiter=moor7.Unlimited()
        ) as client:
            groups = await client.list_display_number_groups()
        assert groups == [moor7.NumberGroup(id="g", name="组")]
        ((request, headers),) = seen
        assert request.path == "/openapi/v1/call/query/group"
        assert headers["m7-appkey"] == DEMO_APPKEY
        assert (
            moor7.HmacSigner(DEMO_APPKEY, DEMO_SECRET_KEY).signature(
                headers["m7-timestamp"], headers["m7-nonce"]
            )
            == headers["m7-sign"]
        )

    def test_session_and_transport_together_are_refused(self) -> None:
        with pytest.raises(moor7.ConfigurationError, match="session or transport"):
            moor7.AsyncClient(
                DEMO_APPKEY,
                DEMO_SECRET_KEY,
                session=object(),  # type: ignore[arg-type]
                transport=MockTransport(lambda r, h: moor7.HttpResponse(200)),
            )


class TestConverterLeaves:
    """Every leaf type a field may be has a strict rule; anything else is refused loudly."""

    def test_exact_leaves_are_strict_and_quote_no_value(self) -> None:
        from moor7._convert import describe_error, make_converter

        @attrs.frozen
        class Leaves:
            flag: bool
            rate: float
            when: datetime

        converter = make_converter()
        good = converter.structure(
            {"flag": "true", "rate": "25.00%", "when": "2020-01-01 00:00:00"}, Leaves
        )
        assert (good.flag, good.rate) == (True, 25.0)
        for bad in ({"rate": "hunter2"}, {"flag": 2}, {"rate": float("nan")}):
            record = {"flag": True, "rate": 1, "when": "2020-01-01 00:00:00", **bad}
            with pytest.raises(Exception) as excinfo:  # noqa: PT011 - cattrs' group, described below
                converter.structure(record, Leaves)
            assert "hunter2" not in describe_error(excinfo.value)

    @pytest.mark.parametrize("type_", [moor7.AgentStatus, bytes, complex])
    def test_a_type_that_would_slip_past_the_rules_is_refused_when_met(self, type_: type) -> None:
        from moor7._convert import make_converter

        model = attrs.make_class("Odd", {"value": attrs.field(type=type_)}, frozen=True)
        with pytest.raises(MissingRuleError, match="no rule"):
            make_converter().structure({"value": "x"}, model)


class TestPagingThatTheGatewayIgnores:
    async def test_the_same_full_page_again_ends_the_iteration(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response(AGENT_PATH, agents(2))  # whatever page is asked for
        found = [agent async for agent in client.list_agents(page_size=2)]
        assert len(found) == 4  # page 1, then page 2 the same: the last
        assert len(gateway.calls) == 2

    async def test_a_page_longer_than_asked_for_is_the_last(
        self, client: moor7.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.set_response(AGENT_PATH, agents(5))
        found = [agent async for agent in client.list_agents(page_size=2)]
        assert len(found) == 5
        assert len(gateway.calls) == 1
