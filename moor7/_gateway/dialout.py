"""Preview dial-out tasks: 预览外呼任务 (developer.7moor.com/v7/dialout_task/).

Routes:

- 创建预览外呼任务 ``/openapi/v1/call/dialout/task/create``: ``taskName`` (required, a
  non-empty string), ``agentNumber`` (required, the creator, a known agent),
  ``description`` (optional string), ``agentNumberList`` and ``queueNumberList``
  (optional lists of strings; their members are not checked, the docs say nothing of
  it). Creates a task with a new 24-hex id. The answer has no ``data``, as the docs'
  example: the docs show no way for a client to learn the id, so a test reads it from
  :attr:`moor7.testing.FakeGateway.dialout_tasks`.
- 更新预览外呼任务 ``/openapi/v1/call/dialout/task/update``: ``taskId`` (required, an
  existing task), ``taskName`` (required, as the docs' table says even for an update),
  ``description`` (optional; kept when absent). Updates the task; no ``data`` either
  (the docs' answer example is MISSING, so this follows the create answer).

Every bad or missing field, and an unknown agent or task, is 400 naming the field.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from ._routes import (
    NO_DATA,
    Route,
    RouteRequest,
    bad_argument,
    optional_str,
    optional_str_list,
    required_str,
)
from .agents import AgentsBackend

__all__ = ["CREATE_TASK_PATH", "DialoutBackend", "UPDATE_TASK_PATH"]

CREATE_TASK_PATH: Final = "/openapi/v1/call/dialout/task/create"
UPDATE_TASK_PATH: Final = "/openapi/v1/call/dialout/task/update"


class DialoutBackend:
    """The account's preview dial-out tasks.

    Args:
        agents: The backend that knows which agents exist.
    """

    def __init__(self, agents: AgentsBackend) -> None:
        self._agents = agents
        # taskId -> {taskName, description, agentNumber, agentNumberList, queueNumberList}
        self.tasks: dict[str, dict[str, Any]] = {}

    def routes(self) -> list[Route]:
        return [
            Route(CREATE_TASK_PATH, self.create_task),
            Route(UPDATE_TASK_PATH, self.update_task),
        ]

    def create_task(self, request: RouteRequest) -> Any:
        body = request.body
        task_name = required_str(body, "taskName")
        agent_number = required_str(body, "agentNumber")
        if not self._agents.has_agent(agent_number):
            raise bad_argument("agentNumber", f"unknown agent {agent_number!r}")
        record = {
            "taskName": task_name,
            "description": optional_str(body, "description") or "",
            "agentNumber": agent_number,
            "agentNumberList": optional_str_list(body, "agentNumberList") or [],
            "queueNumberList": optional_str_list(body, "queueNumberList") or [],
        }
        # A 24-hex id, the shape of the other V7 ids (MongoDB ObjectIds).
        self.tasks[uuid.uuid4().hex[:24]] = record
        return NO_DATA

    def update_task(self, request: RouteRequest) -> Any:
        body = request.body
        task_id = required_str(body, "taskId")
        task = self.tasks.get(task_id)
        if task is None:
            raise bad_argument("taskId", f"unknown task {task_id!r}")
        task_name = required_str(body, "taskName")
        description = optional_str(body, "description")
        task["taskName"] = task_name
        if description is not None:
            task["description"] = description
        return NO_DATA
