"""The typed results: plain frozen attrs classes with the user's names.

These classes know nothing of the wire format (``_id``, ``callAbility``, ``isNAT``): the
converter in ``_convert.py`` maps the gateway's JSON onto them. Every model keeps the
record it was built from in ``raw``, so a field 7moor adds tomorrow is not lost today.

Where the docs list the values of a field, it is an enum; a value the docs did not list
is kept as it came (an ``int`` or ``str``) instead of failing the whole call.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

__all__ = [
    "CHINA_STANDARD_TIME",
    "CallAbility",
    "NumberGroup",
    "NumberGroups",
    "NumberPool",
    "NumberStatus",
    "PhoneNumber",
    "RegisterStatus",
    "ResourceType",
    "SipNumber",
    "SipStatus",
]

#: The gateway's times ("2020-12-08 16:48:26") are Beijing time. China has kept UTC+08:00
#: without daylight saving since 1991, so a fixed offset is exact and needs no tz database.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


class CallAbility(enum.IntEnum):
    """What a number may be used for (``callAbility``)."""

    #: Receives inbound calls (服务号).
    SERVICE = 1
    #: Shown to the callee on outbound calls (外显号).
    DISPLAY = 2
    #: Both (服务号/外显号).
    SERVICE_AND_DISPLAY = 3


class NumberStatus(str, enum.Enum):
    """Whether a display or service number is in use (``status``)."""

    #: 启用
    ENABLED = "enable"
    #: 停用
    DISABLED = "disable"


class ResourceType(str, enum.Enum):
    """Where a number comes from (``resourceType``)."""

    #: A fixed-line trunk number (固话).
    TRUNK_NUMBER = "trunkNumber"
    #: A virtual (privacy) number (小号).
    X_NUMBER = "xNumber"


class SipStatus(enum.IntEnum):
    """Whether a SIP number is enabled (``status``)."""

    #: 未启用
    DISABLED = 0
    #: 已启用
    ENABLED = 1


class RegisterStatus(enum.IntEnum):
    """Whether a SIP number's device is registered (``registerStatus``)."""

    #: 未注册
    UNREGISTERED = 0
    #: 已注册
    REGISTERED = 1


def _raw_field() -> Any:
    # The wire record: excluded from repr (a SIP record holds its password) and from
    # equality (two records that map to the same model are the same number).
    return attrs.field(factory=dict, repr=False, eq=False, kw_only=True)


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
    raw: Mapping[str, Any] = _raw_field()


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
    call_ability: CallAbility | int | None = None
    line: str | None = None
    account: str | None = None
    status: NumberStatus | str | None = None
    resource_type: ResourceType | str | None = None
    concurrency: int | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    create_user: str | None = None
    update_user: str | None = None
    ivr_id: str | None = None
    name: str | None = None
    groups: list[NumberGroup] = attrs.field(factory=list)
    raw: Mapping[str, Any] = _raw_field()


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
    status: SipStatus | int | None = None
    is_deleted: bool | None = None
    register_status: RegisterStatus | int | None = None
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
    raw: Mapping[str, Any] = _raw_field()


class NumberGroups(list[NumberGroup]):
    """The display-number groups: a plain ``list`` of :class:`NumberGroup`, plus the
    request id of the call that returned it.

    Attributes:
        request_id: The gateway's ``requestInfo.requestId`` for that call: quote it to
            7moor support.
    """

    def __init__(self, groups: Iterable[NumberGroup] = (), request_id: str | None = None) -> None:
        super().__init__(groups)
        self.request_id = request_id


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
    """

    display_numbers: list[PhoneNumber] = attrs.field(factory=list)
    service_numbers: list[PhoneNumber] = attrs.field(factory=list)
    sip_numbers: list[SipNumber] = attrs.field(factory=list)
    request_id: str | None = attrs.field(default=None, eq=False)
    raw: Mapping[str, Any] = _raw_field()
