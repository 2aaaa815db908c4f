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

import importlib
import logging
import typing

if typing.TYPE_CHECKING:
    # What type checkers and IDEs see; at run time each name is loaded when first asked
    # for (see __getattr__ below).
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

    __version__: str

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


# Where each public name lives. `import moor7` loads none of them: a program pays for
# what it touches (moor7.AsyncClient loads the async client and what it needs, and
# pytest, which imports moor7.pytest_plugin in every run wherever moor7 is installed,
# pays nothing until a test asks for one of its fixtures). Each name is kept in this
# module's namespace once loaded, so this lookup runs once per name.
_PARTS: dict[str, str] = {
    "DEFAULT_BASE_URL": "._client",
    "AsyncClient": "._client",
    "USE_CLIENT_DEFAULT": "._endpoints",
    "CallKind": "._endpoints",
    "UseClientDefault": "._endpoints",
    "CollectionNotStr": "._arguments",
    "Limiter": "._limits",
    "LocalLimiter": "._limits",
    "Priority": "._limits",
    "QuotaUsage": "._limits",
    "Unlimited": "._limits",
    "default_limiter": "._limits",
    "CHINA_STANDARD_TIME": "._models",
    "ActionResult": "._models",
    "Agent": "._models",
    "AgentPage": "._models",
    "AgentQueue": "._models",
    "AgentStatus": "._models",
    "AnswerRate": "._models",
    "AnswerRates": "._models",
    "CallAbility": "._models",
    "ImSessionReport": "._models",
    "ListenResult": "._models",
    "LoginType": "._models",
    "NumberGroup": "._models",
    "NumberGroups": "._models",
    "NumberPool": "._models",
    "NumberStatus": "._models",
    "OnlineStatus": "._models",
    "PhoneNumber": "._models",
    "Queue": "._models",
    "QueueMember": "._models",
    "Queues": "._models",
    "QueueStatus": "._models",
    "RegisterStatus": "._models",
    "ReportColumn": "._models",
    "ReportDimension": "._models",
    "ResourceType": "._models",
    "ResultList": "._models",
    "SipAgent": "._models",
    "SipNumber": "._models",
    "SipRegistration": "._models",
    "SipRegistrations": "._models",
    "SipStatus": "._models",
    "UnlistedInt": "._models",
    "UnlistedStr": "._models",
    "RedisLimiter": "._redis",
    "HmacSigner": "._signing",
    "OutgoingRequest": "._signing",
    "Signer": "._signing",
    "Client": "._sync",
    "AiohttpTransport": "._transport",
    "HttpResponse": "._transport",
    "Transport": "._transport",
    "APIError": ".exceptions",
    "AuthenticationError": ".exceptions",
    "ClientClosedError": ".exceptions",
    "ConfigurationError": ".exceptions",
    "ConnectError": ".exceptions",
    "DeadlineExceeded": ".exceptions",
    "InvalidResponseError": ".exceptions",
    "LimiterUnavailableError": ".exceptions",
    "Moor7Error": ".exceptions",
    "NetworkError": ".exceptions",
    "RateLimitError": ".exceptions",
    "RequestTimeout": ".exceptions",
    "ResponseDecodeError": ".exceptions",
    "ResponseShapeError": ".exceptions",
    "ServerError": ".exceptions",
    "TransportError": ".exceptions",
    "UsageError": ".exceptions",
    "WrongEventLoopError": ".exceptions",
}

# A library logs, and the application decides where it goes: without this, Python's
# last-resort handler would print moor7's warnings to stderr in a program that
# configured no logging (and into gunicorn's logs).
logging.getLogger("moor7").addHandler(logging.NullHandler())


def __getattr__(name: str) -> typing.Any:
    part = _PARTS.get(name)
    if part is not None:
        value = getattr(importlib.import_module(part, __name__), name)
        globals()[name] = value
        return value
    if name == "__version__":
        # Read from the package metadata, which costs a few milliseconds: only when
        # someone asks for it.
        from ._version import version

        return version
    msg = f"module 'moor7' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
