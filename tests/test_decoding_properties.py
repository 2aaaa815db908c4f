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
import json
import math
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
from moor7._convert import make_converter
from moor7._endpoints import Endpoint
from moor7._endpoints.numbers import GET_NUMBER_POOL, LIST_DISPLAY_NUMBER_GROUPS
from moor7._envelope import Envelope, parse_response, retry_after_seconds
from moor7.testing import SAMPLE_GROUPS, SAMPLE_NUMBER_POOL

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
    # A converter error is kept as the cause; an absent data, or an object holding none
    # of the fields, is refused before the converter, with nothing to keep.
    refused_before = data is None or error.message.startswith("the answer's data holds none")
    assert error.__cause__ is not None or refused_before
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
