"""The number pool's models as the best Python peers write them: pydantic v2, msgspec.

pydantic v2 is the engine of the Stainless-generated SDKs (openai, anthropic): their
models are ``BaseModel`` subclasses filled by ``model_validate_json``. msgspec is the
floor for typed decoding in Python. Both are bench-only dependencies (``pip install
-e '.[bench]'``); without them the scenario that uses them says so and reports nothing.

The models have moor7's fields, wire names (aliases), optional values, enums that keep
unlisted values (``CallAbility | int | None``) and aware China Standard Time datetimes.
They do less than moor7's converter: they keep no ``raw`` record, read ``""`` as ``""``
rather than ``None``, and take no number where the docs say "string" (the bench pool
sends none). Each such difference makes the peer's work lighter, not heavier.
"""

# No `from __future__ import annotations`: msgspec resolves the annotations of classes
# defined inside a function only when they are real objects.
from datetime import datetime
from typing import Annotated, Any

from moor7 import CHINA_STANDARD_TIME, CallAbility, NumberStatus, RegisterStatus, ResourceType
from moor7 import SipStatus as _SipStatus

__all__ = ["msgspec_decoder", "pydantic_decoder", "pydantic_envelope"]


def _in_china(value: datetime) -> datetime:
    # The gateway's times carry no offset: they are Beijing time, as moor7 reads them.
    return value.replace(tzinfo=CHINA_STANDARD_TIME) if value.tzinfo is None else value


def pydantic_decoder() -> Any:
    """``NumberPool.model_validate_json`` for a pydantic v2 twin of moor7's models."""
    return _pydantic_models()[1].model_validate_json


def pydantic_envelope() -> Any:
    """``Envelope.model_validate_json``: the whole answer, as a pydantic-v2 SDK reads it.

    The envelope's ``data`` is the twin ``NumberPool``; ``requestInfo`` keeps only the
    request id, as moor7 does; ``success`` is for the caller to check.
    """
    return _pydantic_models()[0].model_validate_json


def _pydantic_models() -> tuple[Any, Any]:
    """The twin models: (the envelope around a number pool, the number pool)."""
    from pydantic import AfterValidator, BaseModel, ConfigDict, Field

    cst_time = Annotated[datetime, AfterValidator(_in_china)]

    class Model(BaseModel):
        model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    class NumberGroup(Model):
        id: str = Field(alias="_id")
        name: str | None = None

    class PhoneNumber(Model):
        id: str = Field(alias="_id")
        number: str
        call_ability: CallAbility | int | None = Field(None, alias="callAbility")
        line: str | None = None
        account: str | None = None
        status: NumberStatus | str | None = None
        resource_type: ResourceType | str | None = Field(None, alias="resourceType")
        concurrency: int | None = None
        create_time: cst_time | None = Field(None, alias="createTime")
        update_time: cst_time | None = Field(None, alias="updateTime")
        create_user: str | None = Field(None, alias="createUser")
        update_user: str | None = Field(None, alias="updateUser")
        ivr_id: str | None = Field(None, alias="ivrId")
        name: str | None = None
        groups: list[NumberGroup] = Field(default_factory=list, alias="group")

    class SipNumber(Model):
        id: str = Field(alias="_id")
        number: str
        password: str | None = Field(None, repr=False)
        status: _SipStatus | int | None = None
        is_deleted: bool | None = Field(None, alias="isDel")
        register_status: RegisterStatus | int | None = Field(None, alias="registerStatus")
        register_device: str | None = Field(None, alias="registerDevice")
        register_time: cst_time | None = Field(None, alias="registerTime")
        busy_reply_code: str | None = Field(None, alias="busyReplayCode")
        client_url: str | None = Field(None, alias="clientUrl")
        server_url: str | None = Field(None, alias="serverUrl")
        uid: str | None = None
        coding_formats: list[str] = Field(default_factory=list, alias="codingFormat")
        is_nat: bool | None = Field(None, alias="isNAT")
        is_webrtc: bool | None = Field(None, alias="isWebRtc")
        account: str | None = None
        create_time: cst_time | None = Field(None, alias="createTime")
        update_time: cst_time | None = Field(None, alias="updateTime")
        create_user: str | None = Field(None, alias="createUser")
        update_user: str | None = Field(None, alias="updateUser")

    class NumberPool(Model):
        display_numbers: list[PhoneNumber] = Field(default_factory=list, alias="displayNumberList")
        service_numbers: list[PhoneNumber] = Field(default_factory=list, alias="serviceNumberList")
        sip_numbers: list[SipNumber] = Field(default_factory=list, alias="sipNumberList")

    class RequestInfo(Model):
        request_id: str | None = Field(None, alias="requestId")

    class Envelope(Model):
        success: bool | None = None
        code: str | None = None
        message: str | None = None
        data: NumberPool | None = None
        request_info: RequestInfo | None = Field(None, alias="requestInfo")

    return Envelope, NumberPool


def msgspec_decoder() -> Any:
    """``msgspec.json.Decoder(NumberPool).decode`` for msgspec twins of moor7's models.

    msgspec reads times without an offset as naive: the decoded pool's times are made
    aware in a pass over it afterwards, counted in its time. The pool's one SIP number is
    left out.
    """
    import msgspec

    # Not frozen: the times are made aware in place after decoding.
    class Struct(msgspec.Struct):
        pass

    class NumberGroup(Struct):
        id: str = msgspec.field(name="_id")
        name: str | None = None

    class PhoneNumber(Struct):
        id: str = msgspec.field(name="_id")
        number: str
        call_ability: int | None = msgspec.field(default=None, name="callAbility")
        line: str | None = None
        account: str | None = None
        status: str | None = None
        resource_type: str | None = msgspec.field(default=None, name="resourceType")
        concurrency: int | None = None
        create_time: datetime | None = msgspec.field(default=None, name="createTime")
        update_time: datetime | None = msgspec.field(default=None, name="updateTime")
        create_user: str | None = msgspec.field(default=None, name="createUser")
        update_user: str | None = msgspec.field(default=None, name="updateUser")
        ivr_id: str | None = msgspec.field(default=None, name="ivrId")
        name: str | None = None
        groups: list[NumberGroup] = msgspec.field(default_factory=list, name="group")

    class NumberPool(Struct):
        display_numbers: list[PhoneNumber] = msgspec.field(
            default_factory=list, name="displayNumberList"
        )
        service_numbers: list[PhoneNumber] = msgspec.field(
            default_factory=list, name="serviceNumberList"
        )

    decoder = msgspec.json.Decoder(NumberPool)

    def decode(body: bytes) -> Any:
        # msgspec has no unions of an enum and its plain type, and reads "2020-12-08
        # 16:48:26" as naive: the enums stay plain values, the times are made aware.
        pool = decoder.decode(body)
        for number in pool.display_numbers:
            if number.create_time is not None:
                number.create_time = _in_china(number.create_time)
            if number.update_time is not None:
                number.update_time = _in_china(number.update_time)
        return pool

    return decode
