"""Property tests: whatever the gateway sends, decoding ends in a result or a moor7 error.

Two stages turn an answer into a result, and each is fed what a broken gateway, proxy
or future API version could send:

- ``parse_response`` (the envelope): any bytes, any JSON document, any status, any
  headers (``Retry-After`` junk included). It returns an ``Envelope`` or raises an
  ``APIError`` or a ``ResponseDecodeError``: never a json, Unicode or arithmetic error.
- the converter (the models): any JSON, and the docs' own samples with keys deleted,
  values of other types, unknown keys and deeper nesting. It returns a well-typed model
  or raises an error that the client turns into ``ResponseShapeError``, whose text never
  quotes a value of the answer (a SIP password may be among them).

Hypothesis is derandomized (the same examples on every run, so CI cannot flake on a
lucky draw) and keeps no example database.
"""

from __future__ import annotations

import copy
import enum
import functools
import json
import math
import sys
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import example, find, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

import moor7
import moor7._json
from moor7._convert import _optional_of, _wire_name, describe_error, make_converter, structure
from moor7._endpoints import Endpoint, agents, calls, dialout, numbers, reports
from moor7._endpoints.numbers import GET_NUMBER_POOL, LIST_DISPLAY_NUMBER_GROUPS
from moor7._envelope import Envelope, parse_response, retry_after_seconds
from moor7._fastpath import FastPath
from moor7.testing import (
    SAMPLE_AGENTS,
    SAMPLE_ANSWER_RATES,
    SAMPLE_GROUPS,
    SAMPLE_IM_SESSION_REPORT,
    SAMPLE_NUMBER_POOL,
    SAMPLE_QUEUES,
    SAMPLE_SIP_NUMBERS,
)

PATH = "/openapi/v1/call/query/number"

# The same examples on every run, and no .hypothesis/ database written or read: a
# failure found in CI is found again on any machine from the test's name alone.
DETERMINISTIC = settings(derandomize=True, deadline=None, database=None)


# -- strategies: JSON, envelopes, bodies, headers -----------------------------------------

# Python's json reads NaN and Infinity, so a body may well contain them.
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


codes = st.one_of(
    st.sampled_from(["200", "400", "401", "403", "404", "429", "500", "502", "503", "0", ""]),
    st.from_regex(r"\A-?[0-9]{1,5}\Z"),
    json_values,
)
messages = st.one_of(
    st.sampled_from(
        [
            "requestSuccess",
            "签名错误 sign error",
            "账户限流:20次/分",
            "Too Many Requests",
            "appkey不存在",
            "服务器内部错误",
            "",
        ]
    ),
    json_values,
)
request_infos = json_values | st.fixed_dictionaries({"requestId": json_values})
# Mostly envelope-shaped: random JSON hardly ever has a "success" or "code" key.
envelope_documents = st.fixed_dictionaries(
    {},
    optional={
        "success": st.booleans() | json_values,
        "code": codes,
        "message": messages,
        "data": json_values,
        "requestInfo": request_infos,
        "extra": json_values,
    },
)


@st.composite
def encoded(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> bytes:
    """A JSON document as a body: any UTF, escaped or not, maybe cut short."""
    text = json.dumps(draw(documents), ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        text = f" \n{text}\r\n"
    # Lone surrogates survive as invalid UTF-8/16/32 bytes: the decoder must cope.
    body = text.encode(draw(st.sampled_from(["utf-8", "utf-16", "utf-32"])), "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        body = body[: draw(st.integers(0, len(body)))]
    return body


statuses = st.integers(100, 599)
http_dates = st.builds(
    "{}, {:02d} {} {} {:02d}:{:02d}:{:02d} {}".format,
    st.sampled_from(["Mon", "Fri", "Xyz"]),
    st.integers(0, 99),
    st.sampled_from(["Jan", "Feb", "Dec", "Foo"]),
    st.integers(0, 99_999),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.sampled_from(["GMT", "UTC", "+0800", "-2359", "+9999", "EST", ""]),
)
retry_after_values = st.one_of(
    st.sampled_from(["0", "1", "-1", "60", "1e999", "-1e999", "nan", "inf", " 5 ", "0x10"]),
    st.integers().map(str),
    st.floats().map(repr),
    http_dates,
    st.text(max_size=30),
)
header_names = st.sampled_from(
    ["Retry-After", "retry-after", "Date", "X-Request-Id", "traceId", "Content-Type"]
) | st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10)


@st.composite
def response_headers(draw: st.DrawFn) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    for name in draw(st.lists(header_names, max_size=4)):
        # Retry-After and Date (read for the clock skew of an authentication error)
        # get dates and numbers, valid and not; the others any text.
        is_a_time = name.lower() in ("retry-after", "date")
        headers.add(name, draw(retry_after_values if is_a_time else st.text(max_size=20)))
    return headers


# -- the envelope -------------------------------------------------------------------------


def parse_or_error(status: int, headers: Mapping[str, str], body: bytes) -> Any:
    """parse_response's outcome, checked to be one of the documented two.

    Any other exception (json's RecursionError, int()'s ValueError...) propagates and
    fails the property with the example that raised it.
    """
    try:
        result = parse_response(
            status=status, reason="Reason", headers=headers, body=body, path=PATH
        )
    except (moor7.APIError, moor7.ResponseDecodeError) as caught:
        error = caught
    else:
        assert isinstance(result, Envelope)
        assert status < 400  # an error status is never a success
        assert result.status == status
        return result
    assert (error.status, error.path) == (status, PATH)
    if status == 429:
        assert isinstance(error, moor7.RateLimitError)
    if isinstance(error, moor7.RateLimitError) and error.retry_after is not None:
        assert math.isfinite(error.retry_after)
        assert error.retry_after >= 0
    # A newer attribute (the gateway's Date minus our clock): absent is fine, junk is not.
    clock_skew = getattr(error, "clock_skew", None)
    assert clock_skew is None or math.isfinite(clock_skew)
    if isinstance(error, moor7.ResponseDecodeError):
        assert status < 400  # an error status is an APIError, body or not
        assert error.body == body[:4096]
    assert isinstance(str(error), str)  # formatting must not fail either
    assert isinstance(repr(error), str)
    return error


class TestParseResponse:
    @settings(DETERMINISTIC, max_examples=300)
    @given(status=statuses, headers=response_headers(), body=st.binary(max_size=300))
    def test_any_bytes(self, status: int, headers: CIMultiDict[str], body: bytes) -> None:
        parse_or_error(status, headers, body)

    @settings(DETERMINISTIC, max_examples=300)
    @given(status=statuses, headers=response_headers(), body=encoded(json_values))
    def test_any_json_document(self, status: int, headers: CIMultiDict[str], body: bytes) -> None:
        parse_or_error(status, headers, body)

    @settings(DETERMINISTIC, max_examples=500)
    @given(status=statuses, headers=response_headers(), body=encoded(envelope_documents))
    @example(status=200, headers=CIMultiDict(), body=b'{"success": true, "code": 200}')
    @example(status=429, headers=CIMultiDict({"Retry-After": "1e999"}), body=b'{"code": 1}')
    @example(status=200, headers=CIMultiDict(), body=b'{"code": NaN, "message": Infinity}')
    def test_any_envelope_shaped_document(
        self, status: int, headers: CIMultiDict[str], body: bytes
    ) -> None:
        parse_or_error(status, headers, body)

    @settings(DETERMINISTIC, max_examples=300)
    @given(value=retry_after_values, now=st.floats(0, 2**33))
    @example(value="Mon, 01 Jan 0001 00:00:00 +2359", now=0.0)
    @example(value="Fri, 31 Dec 9999 23:59:59 -2359", now=0.0)
    def test_retry_after_is_none_or_a_finite_wait(self, value: str, now: float) -> None:
        seconds = retry_after_seconds({"Retry-After": value}, now=now)
        assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


# -- the converter ------------------------------------------------------------------------

for _model in (moor7.NumberGroup, moor7.PhoneNumber, moor7.SipNumber, moor7.NumberPool):
    attrs.resolve_types(_model)


def conforms(value: Any, type_: Any) -> bool:
    """Whether *value* is what the annotation *type_* says (models checked field by field)."""
    # A NewType (the models' UnlistedInt) is its supertype at run time.
    type_ = getattr(type_, "__supertype__", type_)
    origin = typing.get_origin(type_)
    if type_ is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in typing.get_args(type_))
    if type_ is type(None):
        return value is None
    if origin is list:
        (item_type,) = typing.get_args(type_)
        return isinstance(value, list) and all(conforms(item, item_type) for item in value)
    if origin is Mapping:
        return isinstance(value, Mapping)
    if type_ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ is datetime:
        # The models promise aware times, never naive ones.
        return isinstance(value, datetime) and value.tzinfo is not None
    if isinstance(type_, type) and issubclass(type_, moor7.ResultList):
        (item_type,) = typing.get_args(type_.__orig_bases__[0])  # type: ignore[attr-defined]
        return isinstance(value, type_) and conforms(list(value), list[item_type])
    if attrs.has(type_):
        return isinstance(value, type_) and all(
            conforms(getattr(value, field.name), field.type) for field in attrs.fields(type_)
        )
    return isinstance(value, type_)


_OTHER_VALUES: dict[type, st.SearchStrategy[Any]] = {
    type(None): st.none(),
    bool: st.booleans(),
    int: st.integers(),
    float: st.floats(),
    str: st.sampled_from(["", " ", "0", "1", "true", "2020-13-45 25:61:61", "a, b"])
    | st.text(max_size=12),
    list: st.lists(json_values, max_size=3),
    dict: st.dictionaries(st.text(max_size=8), json_values, max_size=3),
}


def of_another_type(value: Any) -> st.SearchStrategy[Any]:
    return st.one_of(*(s for t, s in _OTHER_VALUES.items() if t is not type(value)))


def slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in a JSON tree, depth first."""
    found: list[tuple[Any, Any]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        found.append((node, key))
        if isinstance(child, (dict, list)):
            found.extend(slots(child))
    return found


@st.composite
def mutated(draw: st.DrawFn, sample: Any) -> Any:
    """The sample with 1 to 4 mutations, each anywhere in the tree."""
    data = copy.deepcopy(sample)
    for _ in range(draw(st.integers(1, 4))):
        where = slots(data)
        operation = draw(st.sampled_from(["delete", "retype", "insert", "nest"]))
        if operation == "insert" or not where:
            containers = [data] + [c[k] for c, k in where if isinstance(c[k], (dict, list))]
            container = draw(st.sampled_from(containers))
            if isinstance(container, dict):
                container[draw(st.text(max_size=10))] = draw(json_values)
            else:
                container.insert(draw(st.integers(0, len(container))), draw(json_values))
            continue
        container, key = draw(st.sampled_from(where))
        if operation == "delete":
            del container[key]
        elif operation == "retype":
            container[key] = draw(of_another_type(container[key]))
        else:
            value = container[key]
            container[key] = draw(st.sampled_from([[value], {"value": value}, [[value]]]))
    return data


def structure_or_error(data: Any, type_: Any) -> Any:
    """The converter's outcome: a model that matches its annotations, or an error that
    the client can describe (it passes every converter error through
    ``cattrs.transform_error`` into a ``ResponseShapeError``)."""
    try:
        result = CONVERTER.structure(data, type_)
    except Exception as error:  # the converter's contract: any Exception, described below
        descriptions = cattrs.transform_error(error)
        assert descriptions
        assert all(isinstance(d, str) for d in descriptions)
        return error
    assert conforms(result, type_), result
    return result


CONVERTER = make_converter()
pool_like = st.fixed_dictionaries(
    {},
    optional={
        "displayNumberList": json_values | st.lists(json_values, max_size=3),
        "serviceNumberList": json_values,
        "sipNumberList": json_values | st.lists(json_values, max_size=3),
    },
)
group_like = st.lists(
    st.fixed_dictionaries({"_id": json_values}, optional={"name": json_values}) | json_values,
    max_size=4,
)


class TestConverter:
    @settings(DETERMINISTIC, max_examples=200)
    @given(data=json_values | pool_like)
    def test_any_json_as_a_number_pool(self, data: Any) -> None:
        structure_or_error(data, moor7.NumberPool)

    @settings(DETERMINISTIC, max_examples=200)
    @given(data=json_values | group_like)
    def test_any_json_as_groups(self, data: Any) -> None:
        structure_or_error(data, list[moor7.NumberGroup])

    @settings(DETERMINISTIC, max_examples=400)
    @given(data=mutated(SAMPLE_NUMBER_POOL))
    def test_mutations_of_the_sample_number_pool(self, data: Any) -> None:
        structure_or_error(data, moor7.NumberPool)

    @settings(DETERMINISTIC, max_examples=200)
    @given(data=mutated(SAMPLE_GROUPS))
    def test_mutations_of_the_sample_groups(self, data: Any) -> None:
        structure_or_error(data, list[moor7.NumberGroup])

    def test_the_mutations_reach_both_outcomes(self) -> None:
        # A guard on the strategy itself: mutations that never broke the sample, or
        # always did, would test one outcome only. find() raises if it finds no example.
        def is_a_pool(data: Any) -> bool:
            return type(structure_or_error(data, moor7.NumberPool)) is moor7.NumberPool

        find(mutated(SAMPLE_NUMBER_POOL), is_a_pool, settings=DETERMINISTIC)
        find(mutated(SAMPLE_NUMBER_POOL), lambda d: not is_a_pool(d), settings=DETERMINISTIC)


# -- end to end: what the client raises ---------------------------------------------------

_TIME_FIELDS = {"createTime", "updateTime", "registerTime"}


@st.composite
def with_a_secret(draw: st.DrawFn, sample: Any) -> tuple[Any, str]:
    """The sample, maybe mutated, with a secret planted in some field of the wrong type."""
    data = draw(mutated(sample)) if draw(st.booleans()) else copy.deepcopy(sample)
    secret = draw(st.from_regex(r"\ASECRET-[A-Za-z0-9]{3,12}\Z"))
    nested = [[secret], {"password": secret}, [{"_id": secret}], {"x": [secret, 1]}]
    where = [(c, k) for c, k in slots(data) if isinstance(c, dict)]
    if not where:
        return data, secret
    container, key = draw(st.sampled_from(where))
    forms = [secret, *nested]
    container[key] = draw(st.sampled_from(forms))
    return data, secret


def good_envelope(data: Any) -> Envelope:
    return Envelope(data=data, code="200", message="ok", request_id="r", status=200, path="/p")


def through_the_client(endpoint: Endpoint[Any], data: Any, secret: str | None = None) -> None:
    """What the client makes of *data*: the endpoint's result, or a shape error."""
    try:
        result = endpoint.decode(good_envelope(data))
    except moor7.ResponseShapeError as caught:
        error = caught
    else:
        assert conforms(result, endpoint.result), result
        assert result.request_id == "r"
        return
    assert (error.status, error.request_id) == (200, "r")
    # Never chained to the converter's error: its frames hold the records.
    assert error.__cause__ is None
    assert error.__context__ is None
    if secret is not None:
        assert secret not in str(error)
        assert secret not in repr(error)


class TestThroughTheClient:
    @settings(DETERMINISTIC, max_examples=150)
    @given(planted=with_a_secret(SAMPLE_NUMBER_POOL))
    def test_number_pool_is_a_model_or_a_shape_error_without_the_secret(
        self, planted: tuple[Any, str]
    ) -> None:
        data, secret = planted
        through_the_client(GET_NUMBER_POOL, data, secret)

    @settings(DETERMINISTIC, max_examples=75)
    @given(planted=with_a_secret(SAMPLE_GROUPS))
    def test_groups_are_models_or_a_shape_error_without_the_secret(
        self, planted: tuple[Any, str]
    ) -> None:
        data, secret = planted
        through_the_client(LIST_DISPLAY_NUMBER_GROUPS, data, secret)

    @settings(DETERMINISTIC, max_examples=75)
    @given(data=json_values)
    def test_any_json_data_is_a_model_or_a_shape_error(self, data: Any) -> None:
        through_the_client(GET_NUMBER_POOL, data)
        through_the_client(LIST_DISPLAY_NUMBER_GROUPS, data)


# -- defects found by the properties above, pinned until fixed ----------------------------


class TestOnceDefects:
    """Defects these properties found, each fixed and pinned here."""

    @pytest.mark.parametrize(
        "code", ["²", "①", "1" * 5000], ids=["superscript", "circled", "over-4300-digits"]
    )
    def test_a_code_int_cannot_read(self, code: str) -> None:
        """Once a raw ValueError: isdigit() accepts digits that int() refuses."""
        body = json.dumps({"success": False, "code": code, "message": "no"}).encode()
        assert isinstance(parse_or_error(200, CIMultiDict(), body), moor7.APIError)

    @pytest.mark.parametrize("status", [200, 500])
    def test_deeply_nested_json(self, status: int) -> None:
        """Once a raw RecursionError from json.loads()."""
        error = parse_or_error(status, CIMultiDict(), b"[" * 100_000)
        assert isinstance(error, (moor7.ResponseDecodeError, moor7.ServerError))

    @pytest.mark.parametrize("field", sorted(_TIME_FIELDS))
    def test_a_time_field_does_not_quote_its_value(self, field: str) -> None:
        """Once quoted: "not a date-time: 'SECRET-xyz'" reached ResponseShapeError."""
        data = copy.deepcopy(SAMPLE_NUMBER_POOL)
        data["sipNumberList"][0][field] = "SECRET-xyz"
        through_the_client(GET_NUMBER_POOL, data, secret="SECRET-xyz")


# -- the fast path against the converter --------------------------------------------------

# Every result type an endpoint decodes into, and every model within them.
RESULT_TYPES = sorted(
    {
        endpoint.result
        for module in (agents, calls, dialout, numbers, reports)
        for endpoint in vars(module).values()
        if isinstance(endpoint, Endpoint) and endpoint.result is not moor7.ActionResult
    },
    key=lambda t: t.__name__,
)


def _models_within(type_: Any, found: dict[str, type]) -> None:
    for arg in typing.get_args(type_):
        _models_within(arg, found)
    if isinstance(type_, type) and issubclass(type_, moor7.ResultList):
        _models_within(typing.get_args(type_.__orig_bases__[0])[0], found)  # type: ignore[attr-defined]
    if attrs.has(type_) and type_.__name__ not in found:
        found[type_.__name__] = type_
        attrs.resolve_types(type_)
        for field in attrs.fields(type_):
            _models_within(field.type, found)


_found: dict[str, type] = {}
for _type in RESULT_TYPES:
    _models_within(_type, _found)
MODELS = [_found[name] for name in sorted(_found)]
# Each once: a result that is a model is among the models too.
EVERY_TYPE = RESULT_TYPES + [model for model in MODELS if model not in RESULT_TYPES]

# Values as the gateway sends them for each leaf, with the edge cases of the rules
# ("" for none, numbers as text, unlisted enum values); any JSON at all besides.
times = st.sampled_from(
    [
        "2020-12-08 16:48:26",
        "2020-12-25 20:06:54",
        "2020-12-08T08:48:26+00:00",
        "2020-1-8 1:2:3",
        # The gateway's length and separators, read otherwise: a day with a space in
        # front (strptime reads it), non-ASCII digits, impossible dates.
        "2020-12- 8 16:48:26",
        "\uff12\uff10\uff12\uff10-12-08 16:48:26",
        "2020-02-30 16:48:26",
        "2020-12-08 16:48+08",
    ]
) | st.builds(
    "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format,
    st.integers(1, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
)
texts = st.text(max_size=8) | st.sampled_from(["", "0", "1", "2", "true", "a, b", "66.67%"])
numbers_ = st.integers(-3, 5) | st.integers() | st.floats() | st.booleans()


def mostly(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """*usual* nine times in ten: a record of many fields is then often whole."""
    return st.integers(0, 9).flatmap(lambda draw: rare if draw == 0 else usual)


def wire_values(type_: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """What the gateway may send for a field of *type_*: mostly plausible, sometimes not."""
    optional = _optional_of(type_)
    inner = optional if optional is not None else type_
    if typing.get_origin(type_) is list:
        (item,) = typing.get_args(type_)
        items = st.lists(wire_values(item, depth + 1), max_size=3)
        return mostly(items, (texts if item is str else st.none()) | json_values)
    if attrs.has(inner):
        return mostly(records(inner, depth + 1), st.sampled_from([None, ""]) | json_values)
    union = [arg for arg in typing.get_args(type_) if arg is not type(None)]
    enums = [arg for arg in union if isinstance(arg, type) and issubclass(arg, enum.Enum)]
    plausible: st.SearchStrategy[Any]
    if enums:
        plausible = st.sampled_from([member.value for member in enums[0]]) | texts | numbers_
    elif inner is datetime:
        plausible = times | st.integers(0, 2 * 10**12)
    elif inner in (int, float):
        plausible = numbers_ | texts
    elif inner is bool:
        plausible = st.booleans() | st.sampled_from([0, 1, 2, "true", "false", "yes", "x"])
    else:
        plausible = texts | numbers_
    return mostly(plausible, st.none() | json_values)


def records(model: type, depth: int = 0) -> st.SearchStrategy[Any]:
    """A record for *model* by its wire names, each field present or not, of any value."""
    if depth > 2:
        return json_values
    required: dict[str, st.SearchStrategy[Any]] = {}
    fields: dict[str, st.SearchStrategy[Any]] = {}
    nested: dict[tuple[str, ...], st.SearchStrategy[Any]] = {}
    for field in attrs.fields(model):
        if field.name in ("raw", "request_id"):
            continue
        wire = _wire_name(model, field.name)
        if isinstance(wire, tuple):
            nested[wire] = wire_values(field.type, depth)
        elif field.default is attrs.NOTHING:
            required[wire] = wire_values(field.type, depth)
        else:
            fields[wire] = wire_values(field.type, depth)
    extra = st.dictionaries(st.text(max_size=6), json_values, max_size=2)

    def build(found: dict[str, Any], inside: dict[tuple[str, ...], Any], more: Any) -> Any:
        record = {**more, **found}
        for path, value in inside.items():
            node = record
            for key in path[:-1]:
                node = node.setdefault(key, {}) if isinstance(node.get(key), dict) else {}
            node[path[-1]] = value
        return record

    return st.builds(
        build,
        # A required field is mostly there: its absence is one error among others.
        mostly(
            st.fixed_dictionaries(required, optional=fields),
            st.fixed_dictionaries({}, optional={**required, **fields}),
        ),
        st.fixed_dictionaries({}, optional=nested),
        extra,
    )


def answers(type_: Any) -> st.SearchStrategy[Any]:
    """``data`` for a result type: its records, in a list for a ResultList."""
    if isinstance(type_, type) and issubclass(type_, moor7.ResultList):
        (item,) = typing.get_args(type_.__orig_bases__[0])  # type: ignore[attr-defined]
        return mostly(st.lists(records(item), max_size=3), json_values)
    return mostly(records(type_), json_values)


def same(ours: Any, theirs: Any) -> bool:
    """Equal, and of the same types all the way down (``CallAbility(3) == 3`` is not)."""
    if ours is theirs:
        return True
    if type(ours) is not type(theirs):
        return False
    if attrs.has(type(ours)):
        return all(
            same(getattr(ours, field.name), getattr(theirs, field.name))
            for field in attrs.fields(type(ours))
        )
    if isinstance(ours, list):
        extra = ("raw", "request_id") if isinstance(ours, moor7.ResultList) else ()
        return (
            len(ours) == len(theirs)
            and all(same(a, b) for a, b in zip(ours, theirs, strict=True))
            and all(same(getattr(ours, name), getattr(theirs, name)) for name in extra)
        )
    if isinstance(ours, float) and math.isnan(ours):
        return math.isnan(theirs)
    return bool(ours == theirs)


def outcome(structure: Any, data: Any, type_: Any) -> tuple[str, Any]:
    try:
        return "result", structure(data, type_)
    except Exception as error:  # any converter error: compared below by its description
        return "error", (type(error), describe_error(error))


FAST_PATH = FastPath(make_converter())


class TestFastPath:
    """The compiled fast path makes what the converter makes, or hands over to it."""

    @pytest.mark.parametrize("type_", EVERY_TYPE, ids=lambda t: t.__name__)
    @settings(DETERMINISTIC, max_examples=40)
    @given(data=st.data())
    def test_the_same_result_or_the_same_error(self, type_: Any, data: st.DataObject) -> None:
        """structure() against cattrs alone: an equal model, or an identical error; and
        the compiled function alone, before any fallback, answers as cattrs or raises."""
        answer = data.draw(answers(type_))
        ours = outcome(structure, answer, type_)
        theirs = outcome(CONVERTER.structure, answer, type_)
        assert ours[0] == theirs[0], (ours, theirs)
        if ours[0] == "result":
            assert same(ours[1], theirs[1]), (ours, theirs)
            assert ours[1].raw is answer
        else:
            assert ours[1] == theirs[1]
        fast = outcome(lambda answer, _: FAST_PATH.function(type_)(answer), answer, type_)
        if fast[0] == "result":  # else handed over to cattrs, as checked above
            assert theirs[0] == "result", (fast, theirs)
            assert same(fast[1], theirs[1]), (fast, theirs)

    @pytest.mark.parametrize(
        ("type_", "sample"),
        [
            (moor7.AgentPage, SAMPLE_AGENTS),
            (moor7.Queues, SAMPLE_QUEUES),
            (moor7.NumberPool, SAMPLE_NUMBER_POOL),
            (moor7.NumberGroups, SAMPLE_GROUPS),
            (moor7.SipRegistrations, SAMPLE_SIP_NUMBERS),
            (
                moor7.AnswerRates,
                [
                    {"number": number, **counts, "answerPercentage": "25.00%"}
                    for number, counts in SAMPLE_ANSWER_RATES.items()
                ],
            ),
            (moor7.ImSessionReport, SAMPLE_IM_SESSION_REPORT),
        ],
        ids=lambda v: getattr(v, "__name__", ""),
    )
    def test_the_docs_samples_take_the_fast_path(self, type_: Any, sample: Any) -> None:
        """No fallback on the docs' own answers: the fast path is the one taken."""
        fast = FAST_PATH.function(type_)(sample)
        assert same(fast, CONVERTER.structure(sample, type_))

    def test_every_model_is_compiled(self) -> None:
        """Every model's function is written from its fields, not the hook's stand-in."""
        for model in MODELS:
            assert FAST_PATH.function(model).__name__ == f"structure_{model.__name__}"

    @pytest.mark.parametrize("type_", RESULT_TYPES, ids=lambda t: t.__name__)
    def test_the_records_reach_both_paths(self, type_: Any) -> None:
        """A guard on the strategy: some records the fast path answers, some it hands over
        (the models within a result are drawn as its parts)."""

        def answered(answer: Any) -> bool:
            try:
                FAST_PATH.function(type_)(answer)
            except Exception:  # handed over
                return False
            return True

        find(answers(type_), answered, settings=DETERMINISTIC)
        find(answers(type_), lambda answer: not answered(answer), settings=DETERMINISTIC)


# -- the JSON parser: msgspec's, read as json reads -------------------------------------


def parsed(loads: Any, body: bytes) -> tuple[str, Any]:
    try:
        return "value", loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # as parse_response
        return "error", type(error)


def same_json(ours: Any, theirs: Any) -> bool:
    """Equal, of the same types all the way down, NaN equal to NaN (walked without
    recursion: a body may nest a thousand deep)."""
    pending = [(ours, theirs)]
    while pending:
        a, b = pending.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            if list(a) != list(b):
                return False
            pending += [(a[key], b[key]) for key in a]
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            pending += list(zip(a, b, strict=True))
        elif isinstance(a, float) and math.isnan(a):
            if not math.isnan(b):
                return False
        elif a != b:
            return False
    return True


# Numbers where parsers part ways: beyond 64 bits, beyond a float's range, past Python's
# limit of 4,300 digits for an int, more digits than a double holds.
edge_numbers = (
    st.sampled_from(
        [
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1" * 40,
            "1" * 4300,
            "1" * 4301,
            "1" * 400 + ".5",
            "1e400",
            "-1e400",
            "1e-400",
            "-0",
            "-0.0",
            "0.1234567890123456789012",
            "2.2250738585072011e-308",
            "4.9406564584124654e-324",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "NaN",
            "Infinity",
            "-Infinity",
        ]
    )
    | st.integers().map(str)
    | st.floats(allow_nan=False, allow_infinity=False).map(repr)
    # Decimal strings of any length: each parser rounds them to a double its own way.
    | st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,40})?([eE][-+]?[0-9]{1,3})?", fullmatch=True)
)


@st.composite
def bodies_with_edges(draw: st.DrawFn) -> bytes:
    """A JSON document with the edge numbers spliced in where values go."""
    document = draw(json_values)
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    edge = draw(edge_numbers)
    text = draw(st.sampled_from([edge, f"[{edge}]", f'{{"a": {edge}, "b": {text}}}', text]))
    if draw(st.booleans()):
        text = draw(st.sampled_from(["\ufeff", " ", ""])) + text
    return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "utf-32"])), "surrogatepass")


class TestJsonParser:
    """moor7's parser gives json.loads' value, or json's error, for any body."""

    @settings(DETERMINISTIC, max_examples=600)
    @given(body=st.binary(max_size=200) | encoded(json_values) | bodies_with_edges())
    @example(body=b'{"a": 18446744073709551616}')
    @example(body=b"[-9223372036854775809]")
    @example(body=b"[NaN, Infinity, 1e400]")
    @example(body=b'"\\ud800"')
    @example(body=b"\xef\xbb\xbf{}")
    @example(body=b"[" * 1025 + b"]" * 1025)
    def test_the_same_as_json(self, body: bytes) -> None:
        ours = parsed(moor7._json.loads, body)
        theirs = parsed(json.loads, body)
        assert ours[0] == theirs[0], (ours, theirs)
        if ours[0] == "value":
            assert same_json(ours[1], theirs[1]), (ours, theirs)
        else:
            assert ours[1] is theirs[1]

    @pytest.mark.parametrize("shape", ["[{}]", '{{"a": {}}}'])
    def test_nesting_at_the_recursion_limit(self, shape: str) -> None:
        """Around the depth where json runs out of stack, both read or both refuse,
        called from the same depth of the stack."""
        limit = sys.getrecursionlimit()
        for depth in range(limit - 40, limit + 5):
            body = functools.reduce(lambda inner, _: shape.format(inner), range(depth), "1")
            ours = parsed(moor7._json.loads, body.encode())
            theirs = parsed(json.loads, body.encode())
            assert ours[0] == theirs[0], depth
            if ours[0] == "error":
                assert ours[1] is theirs[1]

    def test_msgspec_is_the_one_used(self) -> None:
        """msgspec is a dependency on CPython: a plain answer is parsed by it."""
        assert moor7._json.parser() == "msgspec"
        assert type(getattr(moor7._json._fast_loads, "__self__", None)).__module__ == "msgspec.json"

    def test_without_msgspec_json_parses(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """On an interpreter msgspec does not support, every body goes to json."""
        monkeypatch.setitem(sys.modules, "msgspec", None)  # import msgspec fails
        monkeypatch.setattr(moor7._json, "_looked_up", False)
        monkeypatch.setattr(moor7._json, "_fast_loads", None)
        assert moor7._json.parser() == "json"
        assert moor7._json.loads(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
        with pytest.raises(json.JSONDecodeError):
            moor7._json.loads(b"{")
