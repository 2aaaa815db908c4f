"""The V7 OpenAPI's endpoints, one module per family (the docs' pages).

Each family declares its endpoints (:class:`~moor7._endpoints._base.Endpoint`: path,
query or action, result type) and the methods that check their arguments and build
their bodies. :class:`AsyncEndpoints` gathers the families: ``AsyncClient`` inherits
their methods and supplies the pipeline they call. Adding an endpoint to a family is a
change to its modules alone (here, ``_models/``, the fake gateway's route, the docs).
"""

from __future__ import annotations

from ._base import USE_CLIENT_DEFAULT, CallKind, Endpoint, UseClientDefault, declared_kind, kind_for
from .agents import AgentsMethods
from .calls import CallsMethods
from .dialout import DialoutMethods
from .numbers import NumbersMethods
from .reports import ReportsMethods

__all__ = [
    "USE_CLIENT_DEFAULT",
    "AsyncEndpoints",
    "CallKind",
    "Endpoint",
    "UseClientDefault",
    "declared_kind",
    "kind_for",
]


class AsyncEndpoints(NumbersMethods, AgentsMethods, CallsMethods, DialoutMethods, ReportsMethods):
    """Every family's methods, for ``AsyncClient`` to inherit."""
