"""What an endpoint is: a declaration the pipeline can send, and nothing more.

Every endpoint of the V7 OpenAPI is one :class:`Endpoint`: its path, its kind (a
query reads, an action changes state at 7moor), the type its ``data`` decodes into and
its default priority for a slot of the quota (interactive, or batch for paging and
reports).
A family module (``numbers.py``, ``agents.py``, ...) declares its endpoints and the
methods that build their bodies; the pipeline in ``_client.py`` knows no endpoint.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, Final, Generic, Literal, TypeVar

import attrs

from moor7._arguments import choice, seconds
from moor7._envelope import Envelope
from moor7._limits import Priority
from moor7._models import ActionResult, ResultList
from moor7._models._base import printed_by_name
from moor7._reprs import tolerant_repr
from moor7.exceptions import ConfigurationError, ResponseShapeError

__all__ = [
    "USE_CLIENT_DEFAULT",
    "CallKind",
    "Endpoint",
    "EndpointMethods",
    "UseClientDefault",
    "check_max_age",
    "check_priority",
    "check_result_type",
    "declared_kind",
    "decode",
    "kind_for",
    "priority_for",
]

R = TypeVar("R")
T = TypeVar("T")


@printed_by_name
class CallKind(str, enum.Enum):
    """What a call does at 7moor, and so when it may be sent again.

    Attributes:
        QUERY: Reads. Retried after any failure worth another try (connection errors,
            timeouts, 5xx, over-quota answers).
        ACTION: Changes state (an agent goes online, a task is created). Sent at most
            once: tried again only when the gateway certainly did not act on it (no
            connection could be made, an over-quota or authentication rejection), never
            after a timeout, a dropped connection or a 5xx.
    """

    QUERY = "query"
    ACTION = "action"


class UseClientDefault(enum.Enum):
    """The type of :data:`USE_CLIENT_DEFAULT`."""

    USE_CLIENT_DEFAULT = "the client's setting"

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


#: The default of a per-call ``timeout=``: use the client's own. ``None`` would mean
#: "no limit", so the default needs a value of its own (httpx uses the same idea).
USE_CLIENT_DEFAULT: Final = UseClientDefault.USE_CLIENT_DEFAULT

# Every declared endpoint by path: request() sends a known path with its declared kind
# and, for a query, its declared priority.
_DECLARED: dict[str, CallKind] = {}
_PRIORITIES: dict[str, Priority] = {}


def declared_kind(path: str) -> CallKind | None:
    """The kind a family declared for *path*, or ``None`` if no family knows it."""
    return _DECLARED.get(path)


def priority_for(path: str, kind: CallKind) -> Priority:
    """The default priority of a ``request()`` to *path* sent as *kind*: interactive for
    an action; for a query, the priority its family declared, else interactive (someone
    is waiting for a call moor7 cannot tell is part of a batch)."""
    if kind is CallKind.ACTION:
        return Priority.INTERACTIVE
    return _PRIORITIES.get(path, Priority.INTERACTIVE)


def kind_for(path: object, kind: CallKind | str | None) -> CallKind:
    """The kind a call to *path* is sent as: *kind* if given (checked), else the kind a
    family declared, else an action: a path moor7 does not know might change state at
    7moor, so it is sent at most once unless the caller says it only reads."""
    if kind is not None:
        return choice("kind", kind, CallKind)
    declared = _DECLARED.get(path) if isinstance(path, str) else None
    return CallKind.ACTION if declared is None else declared


def check_priority(priority: object) -> Priority | None:
    """A ``priority=`` argument: a :class:`~moor7.Priority`, its value, or ``None``."""
    return None if priority is None else choice("priority", priority, Priority)


def check_max_age(max_age: object) -> float | UseClientDefault | None:
    """A per-call ``max_age=``: seconds >= 0, ``None``, or the client's."""
    if max_age is None or isinstance(max_age, UseClientDefault):
        return max_age
    return seconds("max_age", max_age, zero_ok=True)


@tolerant_repr
@attrs.frozen
class Endpoint(Generic[R]):
    """One endpoint: where it is, what kind of call it is, what its answer becomes.

    Attributes:
        path: The API path, e.g. ``/openapi/v1/call/query/number``.
        kind: Query or action: decides what is retried.
        result: The type ``data`` decodes into: an attrs model, a
            :class:`~moor7.ResultList` subclass, or :class:`~moor7.ActionResult` for
            answers whose ``data`` is only a message (or nothing).
        data_required: Whether an answer without ``data`` is an error. An endpoint
            that answers with data must say so: an absent ``data`` then raises
            :class:`~moor7.ResponseShapeError` instead of decoding to nothing.
        priority: How soon its calls take a slot of the quota when nobody says
            (per call or per client): interactive, the default (someone waits for the
            answer), or batch (paging, reports: calls that can wait their turn).
    """

    path: str
    kind: CallKind
    result: type[R]
    data_required: bool = True
    priority: Priority = Priority.INTERACTIVE

    def __attrs_post_init__(self) -> None:
        _DECLARED[self.path] = self.kind
        _PRIORITIES[self.path] = self.priority

    def decode(self, envelope: Envelope) -> R:
        """Turn a good envelope into the endpoint's result, with its request id."""
        return decode(envelope, self.result, data_required=self.data_required)


def decode(envelope: Envelope, result_type: type[R], *, data_required: bool = True) -> R:
    """Turn a good envelope into *result_type*, with its request id where it has one.

    *result_type* is a declared endpoint's result, or what a caller gave
    ``request(result_type=...)``: any type the converter has a rule for.
    """
    result: Any
    if result_type is ActionResult:
        result = ActionResult(message=envelope.message, raw=envelope.data)
    else:
        if envelope.data is None and data_required:
            raise ResponseShapeError(
                "the answer carries no data",
                path=envelope.path,
                status=envelope.status,
                request_id=envelope.request_id,
            )
        result = _structure(envelope, result_type, data_required)
    if _carries_request_id(result_type):
        # Every result carries the request id the same way, models and lists alike. The
        # result was made just now and nobody else holds it: set the attribute in place
        # (attrs' recipe for frozen classes) rather than copy it.
        object.__setattr__(result, "request_id", envelope.request_id)
    return result  # type: ignore[no-any-return]  # structure() is typed Any


# Per result type, once: decode() runs on every call.
_REQUEST_ID_CARRIERS: dict[object, bool] = {}


def _carries_request_id(result_type: object) -> bool:
    known = _REQUEST_ID_CARRIERS.get(result_type)
    if known is None:
        # moor7's results all do; a caller's own model does if it has the field, and a
        # plain list cannot.
        known = isinstance(result_type, type) and (
            issubclass(result_type, ResultList)
            or (attrs.has(result_type) and "request_id" in attrs.fields_dict(result_type))
        )
        _REQUEST_ID_CARRIERS[result_type] = known
    return known


def check_result_type(result_type: object) -> None:
    """Refuse, before anything is sent, a ``result_type`` the converter cannot build."""
    from moor7._convert import check_type

    try:
        check_type(result_type)
    except Exception as exc:  # no rule for it, or an annotation that does not resolve
        why = str(exc).removesuffix(": add one to make_converter()")
        msg = (
            "result_type must be a type moor7's converter can read the data into: an "
            "attrs class (fields of str, int, float, bool, datetime, enums, models and "
            f"lists of them), a ResultList subclass or a list[...] of one; {result_type!r}"
            f" is not ({why})"
        )
        raise ConfigurationError(msg) from exc


def _structure(envelope: Envelope, type_: Any, data_required: bool) -> Any:
    # Imported here: cattrs and the converter load with the first answer, not with
    # `import moor7` (and once imported, this is a dictionary lookup).
    from moor7._convert import MissingRuleError, describe_error, failing_records, structure

    if data_required and isinstance(envelope.data, Mapping) and attrs.has(type_):
        problem = _no_expected_field(envelope.data, type_)
        if problem is not None:
            raise ResponseShapeError(
                problem,
                path=envelope.path,
                status=envelope.status,
                request_id=envelope.request_id,
                records=[envelope.data],
            )
    try:
        return structure(envelope.data, type_)
    except MissingRuleError:
        raise  # our bug, not the gateway's: never blamed on the answer
    except Exception as exc:  # cattrs raises many types; each means "does not fit"
        error = ResponseShapeError(
            f"the answer's data does not fit the model: {describe_error(exc)}",
            path=envelope.path,
            status=envelope.status,
            request_id=envelope.request_id,
            records=failing_records(exc, envelope.data),
        )
    # Raised here, out of the except clause, so not chained to the converter's error:
    # its frames hold the records (every SIP password of the account, in a pool), and a
    # crash reporter records every frame of the chain. The message says what failed
    # and where; error.records holds the records, masked.
    raise error


def _no_expected_field(data: Mapping[str, Any], type_: Any) -> str | None:
    from moor7._convert import wire_keys

    expected = wire_keys(type_)
    if expected.intersection(data):
        return None
    # An object with none of the fields (a number pool without any of its three lists)
    # would decode to an empty result: a CRM syncing its numbers would conclude the
    # account has none.
    return f"the answer's data holds none of the fields expected ({', '.join(sorted(expected))})"


class EndpointMethods:
    """The base of every family's methods: what they may ask of the pipeline."""

    async def _perform(
        self,
        endpoint: Endpoint[R],
        body: Mapping[str, Any] | None,
        *,
        timeout: float | UseClientDefault | None,
        max_retries: int | None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> R:
        """Send *body* to *endpoint* through the pipeline and decode the answer."""
        raise NotImplementedError  # pragma: no cover - AsyncClient implements it

    async def _pages(
        self,
        endpoint: Endpoint[R],
        body: Mapping[str, Any],
        *,
        page_size: int,
        timeout: float | UseClientDefault | None,
        max_retries: int | None,
        deadline: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> AsyncGenerator[R, None]:
        """Fetch page 1, 2, ... of *endpoint*, one call each, until a short page.

        A page is fetched only when the caller asks for the next one, so a loop that
        stops early spends no call of the quota on pages it never reads. Each page is
        a call of its own: ``timeout``, ``max_retries``, ``deadline``, ``priority`` and
        ``max_age`` apply to each.
        """
        page = 1
        previous: object = None
        while True:
            result = await self._perform(
                endpoint,
                {**body, "page": page, "limit": page_size},
                timeout=timeout,
                max_retries=max_retries,
                deadline=deadline,
                priority=priority,
                max_age=max_age,
            )
            object.__setattr__(result, "page", page)
            yield result
            # No total comes back (the docs show none): a short page is the last one. A
            # page longer than asked for, or the same as the one before, means the
            # gateway ignored the paging: stop, rather than spend the quota forever.
            if not isinstance(result, ResultList) or len(result) != page_size:
                return
            if result.raw == previous:
                return
            previous = result.raw
            page += 1

    @staticmethod
    async def _items(pages: AsyncIterator[ResultList[T]]) -> AsyncIterator[T]:
        """The items of each page in turn."""
        try:
            async for page in pages:
                for item in page:
                    yield item
        finally:
            # Closing this iterator (a loop that breaks early) closes the pages' at once.
            close = getattr(pages, "aclose", None)
            if close is not None:
                await close()
