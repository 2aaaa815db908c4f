"""号码池管理 and SIP号管理: the number pool, display-number groups, SIP registrations.

These classes know nothing of the wire format (``_id``, ``callAbility``, ``isNAT``): the
converter in ``_convert.py`` maps the gateway's JSON onto them. Every model keeps the
record it was built from in ``raw``, so a field 7moor adds tomorrow is not lost today.

Where the docs list the values of a field, it is an enum; a value the docs did not list
is kept as it came (an ``int`` or ``str``) instead of failing the whole call.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from moor7._reprs import tolerant_repr

from ._base import (
    ResultList,
    UnlistedInt,
    UnlistedStr,
    age_field,
    from_cache_field,
    printed_by_name,
    raw_field,
    request_id_field,
)

__all__ = [
    "WIRE_NAMES",
    "CallAbility",
    "NumberGroup",
    "NumberGroups",
    "NumberPool",
    "NumberStatus",
    "PhoneNumber",
    "RegisterStatus",
    "ResourceType",
    "SipAgent",
    "SipNumber",
    "SipRegistration",
    "SipRegistrations",
    "SipStatus",
]


@printed_by_name
class CallAbility(enum.IntEnum):
    """What a number may be used for (``callAbility``)."""

    #: Receives inbound calls (服务号).
    SERVICE = 1
    #: Shown to the callee on outbound calls (外显号).
    DISPLAY = 2
    #: Both (服务号/外显号).
    SERVICE_AND_DISPLAY = 3


@printed_by_name
class NumberStatus(str, enum.Enum):
    """Whether a display or service number is in use (``status``)."""

    #: 启用
    ENABLED = "enable"
    #: 停用
    DISABLED = "disable"


@printed_by_name
class ResourceType(str, enum.Enum):
    """Where a number comes from (``resourceType``)."""

    #: A fixed-line trunk number (固话).
    TRUNK_NUMBER = "trunkNumber"
    #: A virtual (privacy) number (小号).
    X_NUMBER = "xNumber"


@printed_by_name
class SipStatus(enum.IntEnum):
    """Whether a SIP number is enabled (``status``)."""

    #: 未启用
    DISABLED = 0
    #: 已启用
    ENABLED = 1


@printed_by_name
class RegisterStatus(enum.IntEnum):
    """Whether a SIP number's device is registered (``registerStatus``)."""

    #: 未注册
    UNREGISTERED = 0
    #: 已注册
    REGISTERED = 1


@tolerant_repr
@attrs.frozen
class NumberGroup:
    """A display-number group (外显号组). Name its ``id`` in an outbound call to use the
    group's numbers.

    Attributes:
        id: The group id (``_id``).
        name: The group's name.
        raw: The record as the gateway sent it.
    """

    id: str
    name: str | None = None
    raw: Mapping[str, Any] = raw_field()


@tolerant_repr
@attrs.frozen
class PhoneNumber:
    """A display number (外显号) or service number (服务号) of the account.

    Attributes:
        id: The record id (``_id``; in practice the number itself).
        number: The phone number.
        call_ability: What it may be used for; an ``int`` if 7moor sends a value the docs
            do not list.
        line: The line (线路编号), e.g. ``"R00002"``.
        account: The account id that owns it.
        status: Enabled or disabled; a ``str`` for an unlisted value.
        resource_type: Fixed line or virtual number; a ``str`` for an unlisted value.
        concurrency: How many calls it carries at once.
        create_time: When it was created (China Standard Time).
        update_time: When it was last changed (China Standard Time).
        create_user: Who created it.
        update_user: Who last changed it.
        ivr_id: The IVR (语音导航) it is bound to, ``None`` if none.
        name: Its display name, if it has one (sent, though not in the docs' table).
        groups: The display-number groups it belongs to.
        raw: The record as the gateway sent it.
    """

    id: str
    number: str
    call_ability: CallAbility | UnlistedInt | None = None
    line: str | None = None
    account: str | None = None
    status: NumberStatus | UnlistedStr | None = None
    resource_type: ResourceType | UnlistedStr | None = None
    concurrency: int | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    create_user: str | None = None
    update_user: str | None = None
    ivr_id: str | None = None
    name: str | None = None
    groups: list[NumberGroup] = attrs.field(factory=list)
    raw: Mapping[str, Any] = raw_field()


@tolerant_repr
@attrs.frozen
class SipNumber:
    """A SIP number (SIP号) of the account.

    Attributes:
        id: The record id (``_id``).
        number: The SIP number.
        password: The SIP password. A secret: never shown by ``repr()``.
        status: Enabled or not; an ``int`` for an unlisted value.
        is_deleted: Whether it was deleted (``isDel``).
        register_status: Whether a device is registered; an ``int`` for an unlisted value.
        register_device: The registered device.
        register_time: When it last registered (China Standard Time).
        busy_reply_code: The SIP status it answers with when busy (``busyReplayCode``,
            default ``"486"``).
        client_url: The client's registration address.
        server_url: The SIP server's registration address.
        uid: The agent (座席) it belongs to.
        coding_formats: The voice codecs, e.g. ``["G711A", "G711U"]`` (``codingFormat``).
        is_nat: Whether it is behind NAT (``isNAT``).
        is_webrtc: Whether it is a WebRTC number (``isWebRtc``).
        account: The account id that owns it.
        create_time: When it was created (China Standard Time).
        update_time: When it was last changed (China Standard Time).
        create_user: Who created it.
        update_user: Who last changed it.
        raw: The record as the gateway sent it (password included: handle with care).
    """

    id: str
    number: str
    password: str | None = attrs.field(default=None, repr=False)
    status: SipStatus | UnlistedInt | None = None
    is_deleted: bool | None = None
    register_status: RegisterStatus | UnlistedInt | None = None
    register_device: str | None = None
    register_time: datetime | None = None
    busy_reply_code: str | None = None
    client_url: str | None = None
    server_url: str | None = None
    uid: str | None = None
    coding_formats: list[str] = attrs.field(factory=list)
    is_nat: bool | None = None
    is_webrtc: bool | None = None
    account: str | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    create_user: str | None = None
    update_user: str | None = None
    raw: Mapping[str, Any] = raw_field()


class NumberGroups(ResultList[NumberGroup]):
    """The display-number groups: a ``list`` of :class:`NumberGroup`, with the call's
    ``request_id`` and ``raw`` (see :class:`~moor7.ResultList`)."""


@tolerant_repr
@attrs.frozen
class NumberPool:
    """The account's number pool (号码池): every number it can call with or be called on.

    Attributes:
        display_numbers: 外显号, the numbers shown to callees (``displayNumberList``).
        service_numbers: 服务号, the numbers customers call (``serviceNumberList``).
        sip_numbers: SIP号 (``sipNumberList``).
        request_id: The gateway's ``requestInfo.requestId`` for the call that returned
            this pool: quote it to 7moor support.
        raw: The ``data`` object as the gateway sent it.
        from_cache: Whether it was served from the client's recent answers
            (``max_age=``) instead of a call of the quota.
        age: Seconds since its answer arrived from the gateway: ``0.0`` for an answer
            that came for this call (or for an identical call it shared).
    """

    display_numbers: list[PhoneNumber] = attrs.field(factory=list)
    service_numbers: list[PhoneNumber] = attrs.field(factory=list)
    sip_numbers: list[SipNumber] = attrs.field(factory=list)
    request_id: str | None = request_id_field()
    raw: Mapping[str, Any] = raw_field()
    from_cache: bool = from_cache_field()
    age: float = age_field()


@tolerant_repr
@attrs.frozen
class SipAgent:
    """The agent (座席) a SIP number is assigned to, as the SIP list names it.

    Attributes:
        agent_id: The agent's record id (``agentId``).
        name: The agent's name (``agentName``).
        agent_number: The agent's job number (工号, ``agentNumber``).
        raw: The record as the gateway sent it.
    """

    agent_id: str | None = None
    name: str | None = None
    agent_number: str | None = None
    raw: Mapping[str, Any] = raw_field()


@tolerant_repr
@attrs.frozen
class SipRegistration:
    """A SIP number and where its device registered (获取SIP号列表).

    The SIP number and the agent's job number are separate identifiers: the docs'
    example shows SIP number ``"2000"`` assigned to agent ``"8734"``.

    Attributes:
        number: The SIP number.
        sip_id: The SIP number's record id (``sipId``).
        register_status: Whether a device is registered; an ``int`` for an unlisted
            value.
        register_device: The registered device, e.g. ``"Telephone"``.
        register_time: When it last registered (China Standard Time).
        client_url: The client's registration address (``ip:port``).
        server_url: The SIP server's registration address.
        account_id: The account id that owns it.
        agent: The agent it is assigned to, if any.
        raw: The record as the gateway sent it.
    """

    number: str
    sip_id: str | None = None
    register_status: RegisterStatus | UnlistedInt | None = None
    register_device: str | None = None
    register_time: datetime | None = None
    client_url: str | None = None
    server_url: str | None = None
    account_id: str | None = None
    agent: SipAgent | None = None
    raw: Mapping[str, Any] = raw_field()


class SipRegistrations(ResultList[SipRegistration]):
    """The SIP numbers of :meth:`~moor7.AsyncClient.list_sip_numbers`: a ``list`` of
    :class:`SipRegistration`, with the call's ``request_id`` and ``raw``."""


# Wire names that are not the plain camelCase of the field (``id`` is always ``_id``).
WIRE_NAMES: dict[type, dict[str, str]] = {
    PhoneNumber: {"groups": "group"},
    SipNumber: {
        # sic: the gateway spells it "Replay"; the model uses the word users mean.
        "busy_reply_code": "busyReplayCode",
        "is_deleted": "isDel",
        "is_nat": "isNAT",
        "is_webrtc": "isWebRtc",
        "coding_formats": "codingFormat",
    },
    NumberPool: {
        "display_numbers": "displayNumberList",
        "service_numbers": "serviceNumberList",
        "sip_numbers": "sipNumberList",
    },
    SipAgent: {"name": "agentName"},
}
