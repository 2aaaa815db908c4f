"""预览外呼任务: create and update preview-dialling tasks.

Docs page: developer.7moor.com/v7/dialout_task/. Both are actions: sent at most once
(see :class:`~moor7.CallKind`). The docs' example answer to creating a task carries no
``data``, so no task id: the id that updating needs comes from the 7moor console (or
from ``raw`` if the gateway sends more than the docs show).
"""

from __future__ import annotations

from typing import Literal

from moor7._arguments import CollectionNotStr, optional_text, text, texts
from moor7._limits import Priority
from moor7._models import ActionResult

from ._base import USE_CLIENT_DEFAULT, CallKind, Endpoint, EndpointMethods, UseClientDefault

__all__ = ["DialoutMethods"]

CREATE_DIALOUT_TASK = Endpoint(
    "/openapi/v1/call/dialout/task/create", CallKind.ACTION, ActionResult, data_required=False
)
UPDATE_DIALOUT_TASK = Endpoint(
    "/openapi/v1/call/dialout/task/update", CallKind.ACTION, ActionResult, data_required=False
)


class DialoutMethods(EndpointMethods):
    """Preview dial-out tasks (预览外呼任务): actions."""

    async def create_dialout_task(
        self,
        *,
        name: str,
        creator: str,
        description: str | None = None,
        agent_numbers: CollectionNotStr[str] = (),
        queue_numbers: CollectionNotStr[str] = (),
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
    ) -> ActionResult:
        """Create a preview-dialling task (创建预览外呼任务).

        An action: sent at most once (see :class:`~moor7.CallKind`), so a timeout
        leaves you to check in the console whether the task exists.

        Example:
            ::

                await client.create_dialout_task(
                    name="回访", creator="2001", agent_numbers=["2000"]
                )

        Args:
            name: The task's name (``taskName``).
            creator: The job number of the agent creating it (``agentNumber``).
            description: A remark.
            agent_numbers: The job numbers of the agents who work the task.
            queue_numbers: The skill groups (their ids) that work the task.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: The most times it is tried again, and only when the gateway
                certainly did not act on it.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client\'s; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` (someone waits for it).

        Returns:
            The gateway's answer: the docs show no ``data`` (so no task id) in it.

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        body: dict[str, object] = {
            "taskName": text("name", name),
            "agentNumber": text("creator", creator),
            "agentNumberList": texts("agent_numbers", agent_numbers),
            "queueNumberList": texts("queue_numbers", queue_numbers),
        }
        remark = optional_text("description", description)
        if remark is not None:
            body["description"] = remark
        return await self._perform(
            CREATE_DIALOUT_TASK,
            body,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
        )

    async def update_dialout_task(
        self,
        task_id: str,
        *,
        name: str,
        description: str | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
    ) -> ActionResult:
        """Rename a preview-dialling task, or change its remark (更新预览外呼任务).

        The gateway requires the name even when only the remark changes. An action:
        sent at most once (see :class:`~moor7.CallKind`).

        Args:
            task_id: The task's id (``taskId``).
            name: The task's name (``taskName``), required by the gateway.
            description: A new remark; ``None`` leaves it out of the request.
            timeout: Seconds for one attempt, overriding the client's; ``None`` for no
                limit.
            max_retries: The most times it is tried again, and only when the gateway
                certainly did not act on it.
            deadline: Seconds for the whole call (quota wait, attempts, backoffs),
                overriding the client\'s; ``None`` for no limit.
            priority: How soon this call takes a free slot of the quota, among the
                calls waiting for one: ``"interactive"`` or ``"batch"``. Default: the
                client's ``priority``, else ``"interactive"`` (someone waits for it).

        Returns:
            The gateway's answer.

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        body = {"taskId": text("task_id", task_id), "taskName": text("name", name)}
        remark = optional_text("description", description)
        if remark is not None:
            body["description"] = remark
        return await self._perform(
            UPDATE_DIALOUT_TASK,
            body,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
        )
