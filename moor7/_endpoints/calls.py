"""座席功能 and 监控: put an agent online, listen in on an agent's call.

Docs pages: developer.7moor.com/v7/conversation/ and /v7/monitor/. Both are actions:
they change state at 7moor, so they are sent at most once (see
:class:`~moor7.CallKind`).
"""

from __future__ import annotations

from typing import Literal

from moor7._arguments import choice, optional_text, text
from moor7._limits import Priority
from moor7._models import ActionResult, ListenResult, LoginType, OnlineStatus

from ._base import USE_CLIENT_DEFAULT, CallKind, Endpoint, EndpointMethods, UseClientDefault

__all__ = ["CallsMethods"]

AGENT_ONLINE = Endpoint(
    "/openapi/v1/call/online", CallKind.ACTION, ActionResult, data_required=False
)
LISTEN = Endpoint("/openapi/v1/call/listen", CallKind.ACTION, ListenResult)

# The monitor page: actionId is "at most 40 characters".
MAX_ACTION_ID = 40


class CallsMethods(EndpointMethods):
    """Agents online and listening in (座席功能, 监控): actions."""

    async def agent_online(
        self,
        agent_number: str,
        *,
        login_type: LoginType | Literal["PSTN", "WEBRTC", "SIP"],
        status: OnlineStatus | Literal["0", "1"] = OnlineStatus.IDLE,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
    ) -> ActionResult:
        """Put an agent online (座席上线), ready to take calls.

        An outbound call can be made only for an agent who is online (idle, busy or in
        wrap-up). An action: sent at most once (see :class:`~moor7.CallKind`).

        Example:
            ::

                await client.agent_online("2000", login_type=moor7.LoginType.PSTN)

        Args:
            agent_number: The agent's job number (工号).
            login_type: How the agent takes calls: on a phone (``PSTN``), the browser
                softphone (``WEBRTC``) or a SIP phone (``SIP``).
            status: The agent's state once online: idle (default) or busy.
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
            The gateway's answer; its ``raw`` is the gateway's text, e.g.
            ``"座席上线成功"``.

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        body = {
            "agentNumber": text("agent_number", agent_number),
            "loginType": choice("login_type", login_type, LoginType).value,
            "status": choice("status", status, OnlineStatus).value,
        }
        return await self._perform(
            AGENT_ONLINE,
            body,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
        )

    async def listen(
        self,
        *,
        agent_number: str,
        listen_agent: str,
        action_id: str | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        max_retries: int | None = None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
    ) -> ListenResult:
        """Listen in on an agent's call (监听), silently.

        An action: sent at most once (see :class:`~moor7.CallKind`).

        Example:
            ::

                result = await client.listen(agent_number="9527", listen_agent="2002")
                print(result.media_server)

        Args:
            agent_number: The job number of the agent whose call is listened to.
            listen_agent: The job number of the agent who listens.
            action_id: Your tag for this request, at most 40 characters; the gateway
                uses its own request id when none is given.
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
            The listening leg's media server and the gateway's echo of the request.

        Raises:
            moor7.ConfigurationError: A bad argument; nothing was sent.
            moor7.exceptions.Moor7Error: A subclass saying what failed.
        """
        body = {
            "agentNumber": text("agent_number", agent_number),
            "listenAgent": text("listen_agent", listen_agent),
        }
        tag = optional_text("action_id", action_id, max_length=MAX_ACTION_ID)
        if tag is not None:
            body["actionId"] = tag
        return await self._perform(
            LISTEN,
            body,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            priority=priority,
        )
