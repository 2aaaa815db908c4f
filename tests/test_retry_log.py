"""The retry log tells the truth, the final error counts the attempts, and every record
carries the log contract's flat ``moor7_*`` fields (docs/guides/logging.md)."""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import stamina

import moor7
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault
from tests.test_faults import RawServer

NUMBER_PATH = "/openapi/v1/call/query/number"
ONLINE_PATH = "/openapi/v1/call/online"


def make_client(url: str, **kwargs: Any) -> moor7.AsyncClient:
    options: dict[str, Any] = {
        "base_url": url,
        "limiter": moor7.Unlimited(),
        "backoff_initial": 0,
        "backoff_max": 0,
    }
    options.update(kwargs)
    return moor7.AsyncClient(DEMO_APPKEY, DEMO_SECRET_KEY, **options)


def events(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "moor7_event", None) == event]


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    async with FakeGateway(quota=None) as gw:
        yield gw


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="moor7"):
        yield caplog


class TestARetryIsLoggedOnlyWhenItIsMade:
    async def test_max_retries_2_against_repeated_5xx(
        self, gateway: FakeGateway, log: pytest.LogCaptureFixture
    ) -> None:
        """The issue's case: three attempts reach the gateway, two retries are logged."""
        gateway.fail_next(Fault.SERVER_ERROR, times=10)
        async with make_client(gateway.url, max_retries=2) as client:
            with pytest.raises(moor7.ServerError) as caught:
                await client.get_number_pool()
        assert len(gateway.calls) == 3
        assert [r.getMessage() for r in events(log, "retry")] == [
            f"POST {NUMBER_PATH} failed (ServerError) on attempt 1; retry 1 of 2 in 0.00s",
            f"POST {NUMBER_PATH} failed (ServerError) on attempt 2; retry 2 of 2 in 0.00s",
        ]
        assert caught.value.attempts == 3
        assert "attempts=3" in str(caught.value)

    async def test_a_server_that_never_answers(self, log: pytest.LogCaptureFixture) -> None:
        """The issue's other case: no 'retry 4' after the fourth and last attempt."""
        server = RawServer()

        async def never_answer(
            srv: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await srv.read_request(reader)
            await reader.read()

        server.handler = never_answer
        await server.start()
        try:
            async with make_client(server.url, timeout=0.2, max_retries=3) as client:
                with pytest.raises(moor7.RequestTimeout) as caught:
                    await client.get_number_pool()
        finally:
            await server.stop()
        assert len(server.requests) == 4
        retries = events(log, "retry")
        assert [r.moor7_attempt for r in retries] == [1, 2, 3]  # type: ignore[attr-defined]
        assert [r.getMessage().split("; ")[1] for r in retries] == [
            "retry 1 of 3 in 0.00s",
            "retry 2 of 3 in 0.00s",
            "retry 3 of 3 in 0.00s",
        ]
        assert caught.value.attempts == 4
        assert str(caught.value).endswith(f"(path='{NUMBER_PATH}', attempts=4)")

    async def test_an_action_is_not_retried_after_a_5xx_and_nothing_says_it_is(
        self, gateway: FakeGateway, log: pytest.LogCaptureFixture
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        async with make_client(gateway.url) as client:
            with pytest.raises(moor7.ServerError) as caught:
                await client.agent_online("2000", login_type="PSTN")
        assert len(gateway.calls) == 1
        assert events(log, "retry") == []
        assert caught.value.attempts == 1

    async def test_the_wait_logged_is_the_wait_made(
        self, gateway: FakeGateway, log: pytest.LogCaptureFixture
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        async with make_client(gateway.url, backoff_initial=0.3, backoff_max=0.3) as client:
            await client.get_number_pool()
        (retry,) = events(log, "retry")
        first, second = gateway.calls
        waited = second.received_at - first.received_at
        assert retry.moor7_wait == pytest.approx(0.3)  # type: ignore[attr-defined]
        assert 0.3 <= waited < 0.3 + 1.0

    async def test_a_retry_that_would_start_after_the_deadline_is_not_logged(
        self, gateway: FakeGateway, log: pytest.LogCaptureFixture
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR, times=3)
        async with make_client(gateway.url, backoff_initial=5, backoff_max=5) as client:
            with pytest.raises(moor7.DeadlineExceeded) as caught:
                await client.get_number_pool(deadline=1.0)
        assert events(log, "retry") == []
        assert len(gateway.calls) == 1
        assert caught.value.attempts == 1

    async def test_the_attempt_more_after_an_authentication_rejection(
        self, gateway: FakeGateway, log: pytest.LogCaptureFixture
    ) -> None:
        """Outside the retry budget, logged, and numbered after the attempts before it."""
        gateway.fail_next(Fault.SERVER_ERROR)
        gateway.fail_next(Fault.AUTH_REJECT, times=2)
        async with make_client(gateway.url, max_retries=3) as client:
            with pytest.raises(moor7.AuthenticationError) as caught:
                await client.get_number_pool()
        assert [c.status for c in gateway.calls] == [500, 401, 401]
        assert [(r.moor7_attempt, r.getMessage()) for r in events(log, "retry")] == [  # type: ignore[attr-defined]
            (1, f"POST {NUMBER_PATH} failed (ServerError) on attempt 1; retry 1 of 3 in 0.00s"),
            (
                2,
                f"POST {NUMBER_PATH} was rejected (AuthenticationError) on attempt 2; "
                "one attempt more with a fresh signature",
            ),
        ]
        assert [r.moor7_attempt for r in events(log, "request")] == [1, 2, 3]  # type: ignore[attr-defined]
        assert caught.value.attempts == 3


class TestStaminasSwitches:
    """An application's tests may switch stamina; the log says what stamina then does."""

    @pytest.mark.parametrize(
        ("switch", "attempts"),
        [
            ({"testing": True}, 1),
            ({"testing": True, "attempts": 3}, 3),
            ({"testing": True, "attempts": 9}, 9),
            ({"testing": True, "attempts": 2, "cap": True}, 2),
            ({"testing": True, "attempts": 9, "cap": True}, 6),  # capped at 1 + max_retries
        ],
    )
    async def test_testing_mode(
        self,
        gateway: FakeGateway,
        log: pytest.LogCaptureFixture,
        switch: dict[str, Any],
        attempts: int,
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR, times=20)
        async with make_client(gateway.url, backoff_initial=5, max_retries=5) as client:
            with stamina.set_testing(**switch), pytest.raises(moor7.ServerError) as caught:
                await asyncio.wait_for(client.get_number_pool(), timeout=5)
        assert len(gateway.calls) == attempts == caught.value.attempts
        retries = events(log, "retry")
        assert len(retries) == attempts - 1
        assert {r.moor7_wait for r in retries} <= {0.0}  # type: ignore[attr-defined]
        assert all(f"of {attempts - 1} in 0.00s" in r.getMessage() for r in retries)

    async def test_stamina_turned_off(
        self, gateway: FakeGateway, log: pytest.LogCaptureFixture
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR, times=5)
        stamina.set_active(False)
        try:
            async with make_client(gateway.url) as client:
                with pytest.raises(moor7.ServerError) as caught:
                    await client.get_number_pool()
        finally:
            stamina.set_active(True)
        assert len(gateway.calls) == 1 == caught.value.attempts
        assert events(log, "retry") == []


class TestAttempts:
    async def test_none_sent_when_no_slot_frees_before_the_deadline(
        self, gateway: FakeGateway
    ) -> None:
        limiter = moor7.LocalLimiter(1, 60.0)
        async with make_client(gateway.url, limiter=limiter) as client:
            await client.get_number_pool()
            with pytest.raises(moor7.DeadlineExceeded) as caught:
                await client.get_number_pool(deadline=1)
        assert caught.value.attempts == 0
        assert caught.value.sent is False

    async def test_an_answer_that_does_not_fit_counts_its_attempts(
        self, gateway: FakeGateway
    ) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        gateway.set_response(NUMBER_PATH, {"displayNumberList": "nope"})
        async with make_client(gateway.url) as client:
            with pytest.raises(moor7.ResponseShapeError) as caught:
                await client.get_number_pool()
        assert caught.value.attempts == 2

    async def test_request_counts_them_too(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.BAD_GATEWAY_HTML, times=9)
        async with make_client(gateway.url) as client:
            with pytest.raises(moor7.ServerError) as caught:
                await client.request(NUMBER_PATH, max_retries=1)
        assert caught.value.attempts == 2 == len(gateway.calls)

    def test_the_sync_client_raises_the_same(
        self, sync_client: moor7.Client, thread_gateway: FakeGateway
    ) -> None:
        thread_gateway.fail_next(Fault.SERVER_ERROR, times=9)
        with pytest.raises(moor7.ServerError) as caught:
            sync_client.get_number_pool(max_retries=1)
        assert caught.value.attempts == 2

    def test_attempts_survive_pickling(self) -> None:
        """Celery and multiprocessing carry errors across processes."""
        error = moor7.ServerError("boom", path=NUMBER_PATH, status=500, code="500")
        error.attempts = 4
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
        assert (copy.attempts, str(copy)) == (4, str(error))
        assert "attempts=4" in str(copy)

    def test_an_error_raised_outside_a_call_says_nothing_of_attempts(self) -> None:
        error = moor7.RequestTimeout("no answer", path=NUMBER_PATH)
        assert error.attempts is None
        assert str(error) == f"no answer (path='{NUMBER_PATH}')"


class JsonFormatter(logging.Formatter):
    """What a JSON logger (python-json-logger, structlog's stdlib bridge) does."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in record.__dict__.items() if k.startswith("moor7_")}
        return json.dumps({"message": record.getMessage(), **fields})


class TestStructuredFields:
    async def test_each_attempt_and_retry_as_json(self, gateway: FakeGateway) -> None:
        gateway.fail_next(Fault.SERVER_ERROR)
        lines: list[str] = []

        class Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                lines.append(self.format(record))

        handler = Collect()
        handler.setFormatter(JsonFormatter())
        logger = logging.getLogger("moor7")
        logger.addHandler(handler)
        level = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            async with make_client(gateway.url) as client:
                await client.get_number_pool()
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        records = [json.loads(line) for line in lines]
        first, retry, second = records
        failed, answered = gateway.calls
        assert {k: v for k, v in first.items() if k != "moor7_elapsed"} == {
            "message": first["message"],
            "moor7_event": "request",
            "moor7_path": NUMBER_PATH,
            "moor7_attempt": 1,
            "moor7_status": 500,
            "moor7_request_id": failed.request_id,
            "moor7_account": DEMO_APPKEY,
            "moor7_error": "ServerError",
        }
        assert isinstance(first["moor7_elapsed"], float)
        assert retry == {
            "message": retry["message"],
            "moor7_event": "retry",
            "moor7_path": NUMBER_PATH,
            "moor7_attempt": 1,
            "moor7_status": 500,
            "moor7_request_id": failed.request_id,
            "moor7_error": "ServerError",
            "moor7_account": DEMO_APPKEY,
            "moor7_wait": 0.001,
        }
        assert second["moor7_attempt"] == 2
        assert second["moor7_status"] == 200
        assert second["moor7_request_id"] == answered.request_id
        assert second["moor7_error"] is None

    async def test_an_attempt_without_an_answer(self, log: pytest.LogCaptureFixture) -> None:
        async with make_client("http://127.0.0.1:9", max_retries=0) as client:
            with pytest.raises(moor7.ConnectError):
                await client.get_number_pool()
        (record,) = events(log, "request")
        assert record.moor7_status is None  # type: ignore[attr-defined]
        assert record.moor7_error == "ConnectError"  # type: ignore[attr-defined]
        assert record.getMessage().startswith(f"POST {NUMBER_PATH} -> ConnectError ")
