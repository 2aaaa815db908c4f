"""Test against a fake 7moor gateway instead of the real one.

:class:`FakeGateway` is a real HTTP server on 127.0.0.1 that behaves like the V7 OpenAPI
gateway as documented: it checks the ``m7-*`` signature, the timestamp window and
nonce replays, enforces the per-account quota, serves every endpoint of the V7 docs as
they describe it (filters, paging, range checks, agents' online state, dial-out tasks)
with the docs' example data or yours, answers in 7moor's envelope, records every
request, and fails on demand.

In an async test, it runs on the test's event loop::

    import moor7
    from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault

    async def test_retries_a_server_error():
        async with FakeGateway() as gw:
            gw.fail_next(Fault.SERVER_ERROR)
            async with moor7.AsyncClient(
                appkey=DEMO_APPKEY, secret_key=DEMO_SECRET_KEY, base_url=gw.url
            ) as client:
                pool = await client.get_number_pool()
            assert [call.status for call in gw.calls] == [500, 200]

In a synchronous test, it runs on its own event loop in a background thread::

    def test_over_quota():
        with FakeGateway(quota=2, quota_period=0.5) as gw:
            ...  # point any client at gw.url
            assert gw.max_calls_in_window(DEMO_APPKEY) <= 2

The default account is the docs' signing example (:data:`DEMO_APPKEY`,
:data:`DEMO_SECRET_KEY`); pass ``accounts={appkey: secret_key}`` for others.

To test code that uses :class:`moor7.RedisLimiter`, :func:`redis_server` starts a
throwaway ``redis-server`` on 127.0.0.1 and yields its URL.
"""

from __future__ import annotations

from moor7._gateway import FakeGateway, Fault, ReceivedCall
from moor7._gateway.agents import SAMPLE_AGENTS, SAMPLE_QUEUES
from moor7._gateway.numbers import SAMPLE_GROUPS, SAMPLE_NUMBER_POOL, SAMPLE_SIP_NUMBERS
from moor7._gateway.reports import SAMPLE_ANSWER_RATES, SAMPLE_IM_SESSION_REPORT
from moor7._redis_server import redis_server
from moor7._samples import DEMO_APPKEY, DEMO_SECRET_KEY
from moor7._transport import MockTransport

# Sorted with plain sorted(), like moor7.__all__.
__all__ = [
    "DEMO_APPKEY",
    "DEMO_SECRET_KEY",
    "FakeGateway",
    "Fault",
    "MockTransport",
    "ReceivedCall",
    "SAMPLE_AGENTS",
    "SAMPLE_ANSWER_RATES",
    "SAMPLE_GROUPS",
    "SAMPLE_IM_SESSION_REPORT",
    "SAMPLE_NUMBER_POOL",
    "SAMPLE_QUEUES",
    "SAMPLE_SIP_NUMBERS",
    "redis_server",
]
