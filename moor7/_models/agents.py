"""座席管理 and 技能组: agents and skill groups (queues)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from moor7._reprs import tolerant_repr

from ._base import ResultList, UnlistedStr, printed_by_name, raw_field

__all__ = [
    "WIRE_NAMES",
    "Agent",
    "AgentPage",
    "AgentQueue",
    "AgentStatus",
    "Queue",
    "QueueMember",
    "QueueStatus",
    "Queues",
]


@printed_by_name
class AgentStatus(str, enum.Enum):
    """Whether an agent account may be used (``status``)."""

    #: 启用
    ENABLED = "enable"
    #: 停用
    DISABLED = "disable"
    #: 锁定
    LOCKED = "lock"


@printed_by_name
class QueueStatus(str, enum.Enum):
    """Whether a skill group is in use (``status``)."""

    #: 启用
    ENABLED = "enable"
    #: 停用
    DISABLED = "disable"


@tolerant_repr
@attrs.frozen
class AgentQueue:
    """A skill group an agent belongs to, as the agent query names it.

    Attributes:
        id: The skill group's id (``_id``), e.g. ``"10000123"``.
        name: The skill group's name.
        raw: The record as the gateway sent it.
    """

    id: str
    name: str | None = None
    raw: Mapping[str, Any] = raw_field()


@tolerant_repr
@attrs.frozen
class Agent:
    """An agent (座席) of the account (获取座席信息).

    Attributes:
        id: The agent's record id (``_id``).
        agent_number: The agent's job number (工号), what the call endpoints name.
        name: The agent's name (``agentName``; in the docs' example, not their table).
        status: Enabled, disabled or locked; a ``str`` for an unlisted value.
        roles: The agent's roles, e.g. ``["座席"]``.
        email: The agent's email address.
        mobile: The agent's mobile number.
        sip_number: The agent's SIP number.
        crm_id: The agent's user id in your CRM (``crmId``).
        queues: The skill groups the agent belongs to (``queue``).
        rest_time: The agent's wrap-up time (后处理时长), as the gateway sends it.
        numbers: The display numbers bound to the agent.
        raw: The record as the gateway sent it.
    """

    id: str
    agent_number: str
    name: str | None = None
    status: AgentStatus | UnlistedStr | None = None
    roles: list[str] = attrs.field(factory=list)
    email: str | None = None
    mobile: str | None = None
    sip_number: str | None = None
    crm_id: str | None = None
    queues: list[AgentQueue] = attrs.field(factory=list)
    rest_time: str | None = None
    numbers: list[str] = attrs.field(factory=list)
    raw: Mapping[str, Any] = raw_field()


class AgentPage(ResultList[Agent]):
    """One page of :meth:`~moor7.AsyncClient.list_agent_pages`: a ``list`` of
    :class:`Agent`, with the call's ``request_id`` and ``raw``.

    Attributes:
        page: The page number, from 1.
    """

    page: int = 1


@tolerant_repr
@attrs.frozen
class QueueMember:
    """An agent's place in a skill group.

    Attributes:
        agent_id: The agent's record id (``uid``).
        weight: The agent's weight in the group's distribution.
        name: The agent's name (``agentName``).
        agent_number: The agent's job number (``agentNumber``).
        raw: The record as the gateway sent it.
    """

    agent_id: str | None = None
    weight: int | None = None
    name: str | None = None
    agent_number: str | None = None
    raw: Mapping[str, Any] = raw_field()


@tolerant_repr
@attrs.frozen
class Queue:
    """A skill group (技能组) of the account (查询账户下技能组列表).

    Attributes:
        id: The skill group's id (``_id``), an 8-digit string such as ``"10000004"``.
        name: The skill group's name.
        status: Enabled or disabled; a ``str`` for an unlisted value.
        members: The agents in the group.
        account: The account id that owns it.
        create_time: When it was created (China Standard Time).
        update_time: When it was last changed (China Standard Time).
        create_user: Who created it.
        update_user: Who last changed it.
        call_config: The voice group's call settings (``callConfig``: assignStrategy,
            maxLimit, sayJobNumber, timeOut, userFreeTransfer, waitTime), as sent: the
            docs give neither their types nor their values.
        webchat_config: The online-chat group's settings (``webchatConfig``:
            assignStrategy, maxTime, maxNum), as sent.
        raw: The record as the gateway sent it.
    """

    id: str
    name: str | None = None
    status: QueueStatus | UnlistedStr | None = None
    members: list[QueueMember] = attrs.field(factory=list)
    account: str | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    create_user: str | None = None
    update_user: str | None = None
    call_config: Mapping[str, Any] | None = None
    webchat_config: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = raw_field()


class Queues(ResultList[Queue]):
    """The skill groups of :meth:`~moor7.AsyncClient.list_queues`: a ``list`` of
    :class:`Queue`, with the call's ``request_id`` and ``raw``."""


# Wire names that are not the plain camelCase of the field (``id`` is always ``_id``).
WIRE_NAMES: dict[type, dict[str, str]] = {
    Agent: {"name": "agentName", "queues": "queue"},
    QueueMember: {"agent_id": "uid", "name": "agentName"},
}
