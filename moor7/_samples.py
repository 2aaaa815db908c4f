"""The 7moor documentation's own example data, as Python constants.

Everything here is copied verbatim from the number-pool page of the V7 OpenAPI docs
(号码池管理: 获取号码池, 查询外显号组), wire names and all: the fields the tables omit
(``__v``, ``name``), the numbers and booleans where the tables say ``string``
(``callAbility: 3``, ``isNAT: false``) and the SIP number's password. Keeping the real
shapes is the point: a model or converter that only works on tidied-up data fails here.

The fake gateway serves deep copies of these; treat the constants as read-only.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["DEMO_APPKEY", "DEMO_SECRET_KEY", "SAMPLE_GROUPS", "SAMPLE_NUMBER_POOL"]

DEMO_APPKEY: Final = "2000103"
"""The appKey of the docs' signing example (页面「新平台鉴权规则」)."""

DEMO_SECRET_KEY: Final = "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3"  # noqa: S105 - the docs' public example
"""The secretKey of the docs' signing example; the sandbox accepts it for :data:`DEMO_APPKEY`."""

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
"""The ``data`` of the 获取号码池 (get the number pool) example answer."""

SAMPLE_GROUPS: Final[list[dict[str, Any]]] = [
    {"_id": "5ff7c305ba185200117836f8", "name": "客服号码组"},
]
"""The ``data`` of the 查询外显号组 (list display-number groups) example answer."""
