"""The typed results: plain frozen attrs classes with the user's names, one module per
API family (the docs' pages), and what they share in ``_base.py``."""

from __future__ import annotations

from typing import Any

from . import agents, calls, numbers, reports
from ._base import CHINA_STANDARD_TIME, ActionResult, ResultList, UnlistedInt, UnlistedStr
from .agents import (
    Agent,
    AgentPage,
    AgentQueue,
    AgentStatus,
    Queue,
    QueueMember,
    Queues,
    QueueStatus,
)
from .calls import ListenResult, LoginType, OnlineStatus
from .numbers import (
    CallAbility,
    NumberGroup,
    NumberGroups,
    NumberPool,
    NumberStatus,
    PhoneNumber,
    RegisterStatus,
    ResourceType,
    SipAgent,
    SipNumber,
    SipRegistration,
    SipRegistrations,
    SipStatus,
)
from .reports import AnswerRate, AnswerRates, ImSessionReport, ReportColumn, ReportDimension

__all__ = [
    "CHINA_STANDARD_TIME",
    "WIRE_NAMES",
    "ActionResult",
    "Agent",
    "AgentPage",
    "AgentQueue",
    "AgentStatus",
    "AnswerRate",
    "AnswerRates",
    "CallAbility",
    "ImSessionReport",
    "ListenResult",
    "LoginType",
    "NumberGroup",
    "NumberGroups",
    "NumberPool",
    "NumberStatus",
    "OnlineStatus",
    "PhoneNumber",
    "Queue",
    "QueueMember",
    "QueueStatus",
    "Queues",
    "RegisterStatus",
    "ReportColumn",
    "ReportDimension",
    "ResourceType",
    "ResultList",
    "SipAgent",
    "SipNumber",
    "SipRegistration",
    "SipRegistrations",
    "SipStatus",
    "UnlistedInt",
    "UnlistedStr",
]

#: Every family's wire names that differ from the rule (camelCase, ``id`` as ``_id``).
WIRE_NAMES: dict[type, dict[str, Any]] = {
    **numbers.WIRE_NAMES,
    **agents.WIRE_NAMES,
    **calls.WIRE_NAMES,
    **reports.WIRE_NAMES,
}
