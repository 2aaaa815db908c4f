"""Number management: 号码池管理 and SIP号管理 (developer.7moor.com/v7/number-management/,
/v7/sip-management/).

Routes:

- 获取号码池 ``/openapi/v1/call/query/number``: no parameters; ``data`` is the pool object
  (``displayNumberList``, ``serviceNumberList``, ``sipNumberList``).
- 查询外显号组 ``/openapi/v1/call/query/group``: no parameters; ``data`` is the list of
  ``{_id, name}`` groups.
- 获取SIP号列表 ``/openapi/v1/call/sip/list``: optional filters ``number`` (a string,
  matched exactly) and ``registerStatuses`` (a list of 0 and 1, matched against each
  record's ``registerStatus``, which the docs show as a number and type as a string, so
  both match); with none, every SIP number. ``data`` is a bare array, no paging. An empty
  ``registerStatuses`` matches nothing, as a MongoDB ``$in: []`` would (the docs do not
  say). A wrong type is 400.

The samples are the pages' own example data, copied verbatim, wire names and all: the
fields the tables omit (``__v``, ``name``), the numbers and booleans where the tables say
``string`` (``callAbility: 3``, ``isNAT: false``) and the SIP number's password. Keeping
the real shapes is the point: a model or converter that only works on tidied-up data
fails here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from moor7._models import NumberGroups, NumberPool, SipRegistrations

from ._routes import (
    Route,
    RouteRequest,
    bad_argument,
    check_fits,
    optional_str,
    plain_object,
    plain_records,
)

__all__ = [
    "GROUPS_PATH",
    "NUMBER_POOL_PATH",
    "NumbersBackend",
    "SAMPLE_GROUPS",
    "SAMPLE_NUMBER_POOL",
    "SAMPLE_SIP_NUMBERS",
    "SIP_LIST_PATH",
]

NUMBER_POOL_PATH: Final = "/openapi/v1/call/query/number"
GROUPS_PATH: Final = "/openapi/v1/call/query/group"
SIP_LIST_PATH: Final = "/openapi/v1/call/sip/list"

SAMPLE_NUMBER_POOL: Final[dict[str, Any]] = {
    "displayNumberList": [
        {
            "_id": "9813",
            "__v": 0,
            "number": "9813",
            "callAbility": 3,
            "line": "R00002",
            "account": "2000113",
            "status": "enable",
            "resourceType": "trunkNumber",
            "concurrency": 1,
            "createTime": "2020-12-08 16:48:26",
            "updateTime": "2020-12-25 20:06:54",
            "createUser": "system",
            "updateUser": "5fce1a69eabace555a6fe899",
            "ivrId": "5fc9d5419740472c53b6099e",
            "name": "111",
            "group": [
                {"_id": "5fe5d170c5d23f6117477723", "name": "555"},
                {"_id": "5fe5cecac5d23f6117477722", "name": "888"},
            ],
        }
    ],
    "serviceNumberList": [
        {
            "_id": "9804",
            "__v": 0,
            "number": "9804",
            "callAbility": 3,
            "line": "R00002",
            "account": "2000063",
            "status": "enable",
            "resourceType": "trunkNumber",
            "concurrency": 2,
            "createTime": "2020-12-14 15:48:24",
            "updateTime": "2020-12-14 15:48:24",
            "createUser": "system",
            "updateUser": "system",
            "ivrId": "",
        }
    ],
    "sipNumberList": [
        {
            "_id": "5fbf752eb7d53e5edee01af0",
            "busyReplayCode": "486",
            "clientUrl": "127.0.0.1:9998",
            "serverUrl": "127.0.0.1:9999",
            "status": 1,
            "isDel": 0,
            "registerDevice": "apple ar",
            "registerTime": "2020-10-29 16:24:06",
            "uid": "5fbf752eb7d53e5edee01aeb",
            "registerStatus": 1,
            "codingFormat": ["G711A", "G711U"],
            "number": "2000",
            "password": "123456Aa",
            "isNAT": False,
            "account": "2000063",
            "createTime": "2020-11-26 17:28:14",
            "updateTime": "2020-12-21 15:58:23",
            "createUser": "system",
            "updateUser": "5fbf752eb7d53e5edee01ae9",
            "__v": 0,
            "isWebRtc": False,
        }
    ],
}
"""The ``data`` of the 获取号码池 (get the number pool) example answer (the seed page)."""

SAMPLE_GROUPS: Final[list[dict[str, Any]]] = [
    {"_id": "5ff7c305ba185200117836f8", "name": "客服号码组"},
]
"""The ``data`` of the 查询外显号组 (list display-number groups) example answer."""

SAMPLE_SIP_NUMBERS: Final[list[dict[str, Any]]] = [
    {
        "clientUrl": "111.202.78.82:54869",
        "serverUrl": "opensips.pbxtest.7moor.com:32760",
        "registerDevice": "Telephone",
        "registerTime": "2020-12-04 14:33:27",
        "registerStatus": 1,
        "number": "2000",
        "sipId": "5fc9d54105fd0161a498c503",
        "accountId": "2000113",
        "agent": {
            "agentId": "5feb148e19a5207b5020e728",
            "agentName": "凯哥测试",
            "agentNumber": "8734",
        },
    }
]
"""The ``data`` of the 获取SIP号列表 (list SIP numbers) example answer."""

_REGISTER_STATUSES = (0, 1)


def checked_number_pool(value: Any) -> dict[str, Any]:
    """*value* as the number pool's ``data``, checked against :class:`moor7.NumberPool`.

    Raises:
        TypeError: Not a mapping, or not JSON.
        ValueError: It does not fit the model.
    """
    pool = plain_object(value, "number_pool")
    check_fits("number_pool", pool, NumberPool, NUMBER_POOL_PATH)
    return pool


def checked_groups(value: Any) -> list[dict[str, Any]]:
    """*value* as the groups' ``data``, checked against :class:`moor7.NumberGroups`.

    Raises:
        TypeError: Not a sequence of mappings, or not JSON.
        ValueError: It does not fit the model.
    """
    groups = plain_records(value, "groups")
    check_fits("groups", groups, NumberGroups, GROUPS_PATH)
    return groups


class NumbersBackend:
    """The account's number pool, display-number groups and SIP numbers.

    Args:
        number_pool: The pool object; defaults to :data:`SAMPLE_NUMBER_POOL`. Copied.
        groups: The groups; defaults to :data:`SAMPLE_GROUPS`. Copied.
        sip_numbers: The records of the SIP list; defaults to :data:`SAMPLE_SIP_NUMBERS`.
            Copied.
    """

    def __init__(
        self,
        *,
        number_pool: Mapping[str, Any] | None = None,
        groups: Sequence[Mapping[str, Any]] | None = None,
        sip_numbers: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.number_pool = checked_number_pool(
            SAMPLE_NUMBER_POOL if number_pool is None else number_pool
        )
        self.groups = checked_groups(SAMPLE_GROUPS if groups is None else groups)
        self.sip_numbers = plain_records(
            SAMPLE_SIP_NUMBERS if sip_numbers is None else sip_numbers, "sip_numbers"
        )
        check_fits("sip_numbers", self.sip_numbers, SipRegistrations, SIP_LIST_PATH)

    def routes(self) -> list[Route]:
        return [
            Route(NUMBER_POOL_PATH, lambda _: self.number_pool),
            Route(GROUPS_PATH, lambda _: self.groups),
            Route(SIP_LIST_PATH, self.list_sip_numbers),
        ]

    def list_sip_numbers(self, request: RouteRequest) -> list[dict[str, Any]]:
        number = optional_str(request.body, "number")
        statuses = request.body.get("registerStatuses")
        if statuses is not None and (
            not isinstance(statuses, list)
            or not all(type(status) is int and status in _REGISTER_STATUSES for status in statuses)
        ):
            raise bad_argument("registerStatuses", "must be a list of 0 (未注册) and 1 (已注册)")
        wanted = None if statuses is None else {str(status) for status in statuses}
        return [
            record
            for record in self.sip_numbers
            if (number is None or record.get("number") == number)
            and (wanted is None or str(record.get("registerStatus")) in wanted)
        ]
