"""Agents and skill groups: 座席管理 and 技能组 (developer.7moor.com/v7/agent-management/,
/v7/peer-management/).

Routes:

- 获取座席信息 ``/openapi/v1/call/query/agent``: optional filters ``agentNumber``,
  ``sipNumber``, ``mobile``, ``crmId`` (strings, matched exactly, all given must match);
  ``page`` (at least 1, default 1) and ``limit`` (1 to 100, default 100) pick the slice;
  ``projection`` (an object, MongoDB style) keeps only the fields given a truthy value,
  plus ``_id`` unless it is given 0; a projection of falsy values only drops those
  fields instead. ``data`` is the page as a bare array, with no total (none was seen in
  the docs): a short or empty page is the last. A wrong type or a value out of range is
  400 naming the field.
- 查询账户下技能组列表 ``/openapi/v1/base/queue/list``: no parameters; ``data`` is every
  skill group. Its page gives the success ``message`` as ``"200 ok!"``, so this route
  answers with that message.

Other families ask :meth:`AgentsBackend.has_agent` whether a request names a known agent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from moor7._models import AgentPage, Queues

from ._routes import (
    Route,
    RouteRequest,
    check_fits,
    optional_int,
    optional_mapping,
    optional_str,
    plain_records,
)

__all__ = ["AGENTS_PATH", "AgentsBackend", "QUEUES_PATH", "SAMPLE_AGENTS", "SAMPLE_QUEUES"]

AGENTS_PATH: Final = "/openapi/v1/call/query/agent"
QUEUES_PATH: Final = "/openapi/v1/base/queue/list"

_FILTERS = ("agentNumber", "sipNumber", "mobile", "crmId")
_MAX_LIMIT = 100


def _made_up_agent(agent_number: str, sip_number: str = "") -> dict[str, Any]:
    # An agent the docs' examples name but never show: the fields are the agent table's
    # (plus agentName, which the example carries); every value is made up, the _id
    # obviously so.
    return {
        "_id": agent_number.rjust(24, "0"),
        "roles": ["座席"],
        "email": "",
        "crmId": "",
        "sipNumber": sip_number,
        "mobile": "",
        "agentNumber": agent_number,
        "agentName": f"座席{agent_number}",
        "status": "enable",
        "queue": [],
        "restTime": "0",
        "numbers": [],
    }


SAMPLE_AGENTS: Final[list[dict[str, Any]]] = [
    # The 获取座席信息 example, verbatim up to where the page is cut (inside `queue`).
    # Completed from the table: the queue's name, restTime and numbers are made up
    # (numbers: the display number of the number-pool sample).
    {
        "_id": "5fc9d54105fd0161a498c4fc",
        "roles": ["座席"],
        "email": "",
        "crmId": "",
        "sipNumber": "",
        "mobile": "10010",
        "agentNumber": "2000",
        "agentName": "张三",
        "status": "enable",
        "queue": [{"_id": "10000123", "name": "技能组10000123"}],
        "restTime": "0",
        "numbers": ["9813"],
    },
    # The creator of the 创建预览外呼任务 example.
    _made_up_agent("2001"),
    # The listener and the listened-to agent of the 监听 example.
    _made_up_agent("2002"),
    _made_up_agent("9527"),
    # The agent of the 获取SIP号列表 example, with its _id, name and SIP number.
    {
        **_made_up_agent("8734", sip_number="2000"),
        "_id": "5feb148e19a5207b5020e728",
        "agentName": "凯哥测试",
    },
]
"""Agents as 获取座席信息 (query agents) answers them: the docs' example agent 2000 张三
(completed where the page is cut), and the agents the other examples name (2001, 2002,
9527, and 8734 凯哥测试), so that every example request of the docs succeeds."""

SAMPLE_QUEUES: Final[list[dict[str, Any]]] = [
    # The 查询账户下技能组列表 example, verbatim up to createTime, where the page is cut.
    # Completed from the table with made-up values: updateTime, createUser, updateUser.
    # callConfig and webchatConfig are left out: the page gives neither their values nor
    # their types. The member's uid is not agent 2000's _id on the agent page: the two
    # examples come from different accounts.
    {
        "_id": "10000004",
        "members": [
            {
                "uid": "5fd2f31c63e3080021c14c5b",
                "weight": 1,
                "agentName": "张三",
                "agentNumber": "2000",
            }
        ],
        "account": "2000103",
        "status": "enable",
        "name": "默认技能组",
        "createTime": "2020-12-11 12:18:36",
        "updateTime": "2020-12-11 12:18:36",
        "createUser": "system",
        "updateUser": "system",
    }
]
"""The skill groups of the 查询账户下技能组列表 (list skill groups) example: 10000004
默认技能组 with member 2000 张三 (completed where the page is cut)."""


class AgentsBackend:
    """The account's agents and skill groups.

    Args:
        agents: Agent records; defaults to :data:`SAMPLE_AGENTS`. Copied.
        queues: Skill-group records; defaults to :data:`SAMPLE_QUEUES`. Copied.
    """

    def __init__(
        self,
        *,
        agents: Sequence[Mapping[str, Any]] | None = None,
        queues: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.agents = plain_records(SAMPLE_AGENTS if agents is None else agents, "agents")
        check_fits("agents", self.agents, AgentPage, AGENTS_PATH)
        self.queues = plain_records(SAMPLE_QUEUES if queues is None else queues, "queues")
        check_fits("queues", self.queues, Queues, QUEUES_PATH)

    def routes(self) -> list[Route]:
        return [
            Route(AGENTS_PATH, self.query_agents),
            Route(QUEUES_PATH, lambda _: self.queues, message="200 ok!"),
        ]

    def has_agent(self, agent_number: str) -> bool:
        """Whether an agent with this job number (工号) exists."""
        return any(agent.get("agentNumber") == agent_number for agent in self.agents)

    def query_agents(self, request: RouteRequest) -> list[dict[str, Any]]:
        body = request.body
        wanted = {
            field: value for field in _FILTERS if (value := optional_str(body, field)) is not None
        }
        page = optional_int(body, "page", default=1, low=1)
        limit = optional_int(body, "limit", default=_MAX_LIMIT, low=1, high=_MAX_LIMIT)
        projection = optional_mapping(body, "projection")
        matching = [
            agent
            for agent in self.agents
            if all(agent.get(field) == value for field, value in wanted.items())
        ]
        start = (page - 1) * limit
        chosen = matching[start : start + limit]
        if projection:
            return [_project(agent, projection) for agent in chosen]
        return chosen


def _project(record: dict[str, Any], projection: Mapping[str, Any]) -> dict[str, Any]:
    """A MongoDB-style projection: keep the truthy fields (and ``_id``), or drop the falsy."""
    kept = {name for name, flag in projection.items() if flag}
    if kept:
        if projection.get("_id", 1):
            kept.add("_id")
        return {name: value for name, value in record.items() if name in kept}
    dropped = {name for name, flag in projection.items() if not flag}
    return {name: value for name, value in record.items() if name not in dropped}
