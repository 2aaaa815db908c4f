"""座席功能 and 监控: an agent going online, listening in on a call."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from moor7._reprs import tolerant_repr

from ._base import age_field, from_cache_field, printed_by_name, raw_field, request_id_field

__all__ = ["WIRE_NAMES", "ListenResult", "LoginType", "OnlineStatus"]


@printed_by_name
class LoginType(str, enum.Enum):
    """How an agent takes calls once online (``loginType``)."""

    #: On a mobile or fixed phone (手机).
    PSTN = "PSTN"
    #: In the browser softphone (软电话).
    WEBRTC = "WEBRTC"
    #: On a SIP phone (SIP号).
    SIP = "SIP"


@printed_by_name
class OnlineStatus(str, enum.Enum):
    """An agent's state right after going online (``status``)."""

    #: Idle (空闲), ready for calls.
    IDLE = "0"
    #: Busy (忙碌), online but not offered calls.
    BUSY = "1"


@tolerant_repr
@attrs.frozen
class ListenResult:
    """The answer to :meth:`~moor7.AsyncClient.listen` (监听).

    Attributes:
        media_server: The media server carrying the listening leg (``ip:port``).
        action_id: The request's tag as the gateway echoes it (``request.requestId``):
            the ``action_id`` sent, or the gateway's own id when none was.
        code: The call service's own status code (a number, ``200`` when it worked).
        message: The call service's message, e.g. ``"call-api-server-ok"``.
        start_time: When the call service received the request (China Standard Time).
        end_time: When it answered (China Standard Time).
        request_id: The gateway's ``requestInfo.requestId`` for the call.
        raw: The ``data`` object as the gateway sent it.
        from_cache: Whether it was served from the client's recent answers
            (``max_age=``, queries only): always ``False`` for an action's answer.
        age: Seconds since its answer arrived from the gateway (``0.0`` when fresh).
    """

    media_server: str | None = None
    action_id: str | None = None
    code: int | None = None
    message: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    request_id: str | None = request_id_field()
    raw: Mapping[str, Any] = raw_field()
    from_cache: bool = from_cache_field()
    age: float = age_field()


# Wire names that are not the plain camelCase of the field; a tuple is a path into
# nested objects.
WIRE_NAMES: dict[type, dict[str, str | tuple[str, ...]]] = {
    ListenResult: {
        "media_server": ("response", "data", "mediaServer"),
        "action_id": ("request", "requestId"),
    },
}
