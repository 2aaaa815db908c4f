"""Call control and monitoring: 座席功能接口 and 通话监控类接口
(developer.7moor.com/v7/conversation/, /v7/monitor/).

Routes:

- 座席上线 ``/openapi/v1/call/online``: ``agentNumber`` (required, a known agent),
  ``loginType`` (required, ``PSTN``, ``WEBRTC`` or ``SIP``, case as the docs write it)
  and ``status`` (required, the string ``"0"`` idle or ``"1"`` busy; the docs type it
  as a string, so the numbers 0 and 1 are refused). Records the agent's state (going
  online again replaces it); ``data`` is the string ``"座席上线成功"``.
- 监听 ``/openapi/v1/call/listen``: ``listenAgent`` (who listens) and ``agentNumber``
  (who is listened to), both required and known agents (the docs lost the required
  column; a listen without either cannot mean anything); ``actionId`` optional, at most
  40 characters, defaulting to the answer's request id. Whether the listened-to agent
  must be online the docs do not say, so it is not checked. ``data`` has the shape of
  the docs' example: ``code`` the number 200, ``startTime``/``endTime`` as
  ``yyyy-MM-dd HH:mm:ss.SSS`` in UTC+8 by the gateway's clock (arrival and answer),
  ``request.requestId`` the actionId, ``response.data.mediaServer`` the example's
  ``ip:port``. The example's cut top-level key after ``requestInfo`` (``"actio…"``) is
  not served.

Every bad or missing field is 400 naming the field.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Final

from ._routes import Route, RouteRequest, bad_argument, optional_str, required_str
from .agents import AgentsBackend

__all__ = ["CallsBackend", "LISTEN_PATH", "ONLINE_PATH"]

ONLINE_PATH: Final = "/openapi/v1/call/online"
LISTEN_PATH: Final = "/openapi/v1/call/listen"

LOGIN_TYPES: Final = ("PSTN", "WEBRTC", "SIP")
AGENT_STATUSES: Final = ("0", "1")  # 空闲 idle, 忙碌 busy
_ONLINE_ANSWER: Final = "座席上线成功"
_MAX_ACTION_ID = 40
_UTC8 = timezone(timedelta(hours=8))
# The values of the 监听 example answer.
_MEDIA_SERVER: Final = "172.31.15.8:11100"
_CALL_API_VERSION: Final = "2020102501"
_CALL_API_OK: Final = "call-api-server-ok"


def _utc8(moment: float) -> str:
    """Unix seconds as ``yyyy-MM-dd HH:mm:ss.SSS`` in UTC+8, as the 监听 answer writes times."""
    text = datetime.fromtimestamp(moment, _UTC8).strftime("%Y-%m-%d %H:%M:%S.%f")
    return text[:-3]


class CallsBackend:
    """Agents' online state, and listening in.

    Args:
        agents: The backend that knows which agents exist.
    """

    def __init__(self, agents: AgentsBackend) -> None:
        self._agents = agents
        # agentNumber -> {"loginType": ..., "status": ...} of the agents put online.
        self.agent_states: dict[str, dict[str, str]] = {}

    def routes(self) -> list[Route]:
        return [
            Route(ONLINE_PATH, self.go_online),
            Route(LISTEN_PATH, self.listen),
        ]

    def _known_agent(self, request: RouteRequest, field: str) -> str:
        agent_number = required_str(request.body, field)
        if not self._agents.has_agent(agent_number):
            raise bad_argument(field, f"unknown agent {agent_number!r}")
        return agent_number

    def go_online(self, request: RouteRequest) -> str:
        agent_number = self._known_agent(request, "agentNumber")
        login_type = required_str(request.body, "loginType")
        if login_type not in LOGIN_TYPES:
            raise bad_argument("loginType", f"must be one of {', '.join(LOGIN_TYPES)}")
        status = request.body.get("status")
        if status not in AGENT_STATUSES or not isinstance(status, str):
            raise bad_argument("status", 'must be the string "0" (空闲 idle) or "1" (忙碌 busy)')
        self.agent_states[agent_number] = {"loginType": login_type, "status": status}
        return _ONLINE_ANSWER

    def listen(self, request: RouteRequest) -> dict[str, Any]:
        self._known_agent(request, "listenAgent")
        self._known_agent(request, "agentNumber")
        action_id = optional_str(request.body, "actionId")
        if action_id is not None and len(action_id) > _MAX_ACTION_ID:
            raise bad_argument("actionId", f"must be at most {_MAX_ACTION_ID} characters")
        return {
            "code": 200,
            "startTime": _utc8(request.received_at),
            "endTime": _utc8(request.now),
            "timezone": "UTC+8",
            "version": _CALL_API_VERSION,
            "request": {"requestId": action_id or request.request_id},
            "response": {"data": {"mediaServer": _MEDIA_SERVER}, "message": _CALL_API_OK},
            "message": _CALL_API_OK,
        }
