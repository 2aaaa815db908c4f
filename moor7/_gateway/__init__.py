"""A fake 7moor V7 gateway, organised like the API: one module per family.

- :mod:`._server`: :class:`FakeGateway`, the HTTP server. It authenticates, enforces
  the quota, plays scripted faults, records calls and writes the envelope; it knows no
  endpoint.
- :mod:`._routes`: what a family declares (:class:`~._routes.Route`) and raises
  (:class:`~._routes.GatewayError`), and the helpers that read request fields.
- One module per API family, each a backend with its own state and the docs' example
  data: :mod:`.numbers` (number pool, groups, SIP list), :mod:`.agents` (agents, skill
  groups), :mod:`.calls` (agent online, listen), :mod:`.dialout` (preview dial-out
  tasks), :mod:`.reports` (answer-rate and IM session reports).

- :mod:`._standalone`: what ``moor7 gateway`` needs to run one as a server of its own
  (its data file, quota and faults; a gateway that logs each call instead of keeping it).

A new endpoint is a :class:`~._routes.Route` in its family's ``routes()``.
Public through :mod:`moor7.testing`.
"""

from __future__ import annotations

from ._server import FakeGateway, Fault, ReceivedCall

__all__ = ["FakeGateway", "Fault", "ReceivedCall"]
