"""moor7: the Python SDK for the 7moor (七陌) V7 OpenAPI.

An asyncio client (:class:`AsyncClient`) with a blocking facade (:class:`Client`), typed
models, signing, retries and the account quota built in::

    import moor7

    async with moor7.AsyncClient(appkey="2000103", secret_key="...") as client:
        pool = await client.get_number_pool()

    with moor7.Client(appkey="2000103", secret_key="...") as client:
        groups = client.list_display_number_groups()
"""

from __future__ import annotations

import logging
import typing

from ._arguments import CollectionNotStr
from ._client import DEFAULT_BASE_URL, AsyncClient
from ._endpoints import USE_CLIENT_DEFAULT, CallKind, UseClientDefault
from ._limits import Limiter, LocalLimiter, Priority, QuotaUsage, Unlimited, default_limiter
from ._models import (
    CHINA_STANDARD_TIME,
    ActionResult,
    Agent,
    AgentPage,
    AgentQueue,
    AgentStatus,
    AnswerRate,
    AnswerRates,
    CallAbility,
    ImSessionReport,
    ListenResult,
    LoginType,
    NumberGroup,
    NumberGroups,
    NumberPool,
    NumberStatus,
    OnlineStatus,
    PhoneNumber,
    Queue,
    QueueMember,
    Queues,
    QueueStatus,
    RegisterStatus,
    ReportColumn,
    ReportDimension,
    ResourceType,
    ResultList,
    SipAgent,
    SipNumber,
    SipRegistration,
    SipRegistrations,
    SipStatus,
    UnlistedInt,
    UnlistedStr,
)
from ._redis import RedisLimiter
from ._signing import HmacSigner, OutgoingRequest, Signer
from ._sync import Client
from ._transport import AiohttpTransport, HttpResponse, Transport
from .exceptions import (
    APIError,
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    ConnectError,
    DeadlineExceeded,
    InvalidResponseError,
    LimiterUnavailableError,
    Moor7Error,
    NetworkError,
    RateLimitError,
    RequestTimeout,
    ResponseDecodeError,
    ResponseShapeError,
    ServerError,
    TransportError,
    UsageError,
    WrongEventLoopError,
)

# Sorted with plain sorted(); tests/test_exported_members.py checks it.
__all__ = [
    "APIError",
    "ActionResult",
    "Agent",
    "AgentPage",
    "AgentQueue",
    "AgentStatus",
    "AiohttpTransport",
    "AnswerRate",
    "AnswerRates",
    "AsyncClient",
    "AuthenticationError",
    "CHINA_STANDARD_TIME",
    "CallAbility",
    "CallKind",
    "Client",
    "ClientClosedError",
    "CollectionNotStr",
    "ConfigurationError",
    "ConnectError",
    "DEFAULT_BASE_URL",
    "DeadlineExceeded",
    "HmacSigner",
    "HttpResponse",
    "ImSessionReport",
    "InvalidResponseError",
    "Limiter",
    "LimiterUnavailableError",
    "ListenResult",
    "LocalLimiter",
    "LoginType",
    "Moor7Error",
    "NetworkError",
    "NumberGroup",
    "NumberGroups",
    "NumberPool",
    "NumberStatus",
    "OnlineStatus",
    "OutgoingRequest",
    "PhoneNumber",
    "Priority",
    "Queue",
    "QueueMember",
    "QueueStatus",
    "Queues",
    "QuotaUsage",
    "RateLimitError",
    "RedisLimiter",
    "RegisterStatus",
    "ReportColumn",
    "ReportDimension",
    "RequestTimeout",
    "ResourceType",
    "ResponseDecodeError",
    "ResponseShapeError",
    "ResultList",
    "ServerError",
    "Signer",
    "SipAgent",
    "SipNumber",
    "SipRegistration",
    "SipRegistrations",
    "SipStatus",
    "Transport",
    "TransportError",
    "USE_CLIENT_DEFAULT",
    "Unlimited",
    "UnlistedInt",
    "UnlistedStr",
    "UsageError",
    "UseClientDefault",
    "WrongEventLoopError",
    "__version__",
    "default_limiter",
]


# A library logs, and the application decides where it goes: without this, Python's
# last-resort handler would print moor7's warnings to stderr in a program that
# configured no logging (and into gunicorn's logs).
logging.getLogger("moor7").addHandler(logging.NullHandler())

if typing.TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> str:
    # The version is read from the package metadata, which costs a few milliseconds of
    # every `import moor7`: only when someone asks for it.
    if name == "__version__":
        from ._version import version

        return version
    msg = f"module 'moor7' has no attribute {name!r}"
    raise AttributeError(msg)
