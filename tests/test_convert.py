"""The converter: the gateway's JSON, as the docs show it and as it may really come."""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import moor7
from moor7._convert import (
    _TIMES,
    _TIMES_KEPT,
    _to_optional_datetime,
    describe_error,
    make_converter,
    structure,
)
from moor7._fastpath import FastPath
from moor7.testing import SAMPLE_GROUPS, SAMPLE_NUMBER_POOL

CST = timedelta(hours=8)


@pytest.fixture(scope="module")
def converter() -> cattrs.Converter:
    return make_converter()


def pool_from(converter: cattrs.Converter, data: Any) -> moor7.NumberPool:
    result: moor7.NumberPool = converter.structure(data, moor7.NumberPool)
    return result


class TestSeedExample:
    """The examples of the docs' page, field by field."""

    def test_display_number(self, converter: cattrs.Converter) -> None:
        pool = pool_from(converter, SAMPLE_NUMBER_POOL)
        (number,) = pool.display_numbers
        assert number == moor7.PhoneNumber(
            id="9813",
            number="9813",
            call_ability=moor7.CallAbility.SERVICE_AND_DISPLAY,
            line="R00002",
            account="2000113",
            status=moor7.NumberStatus.ENABLED,
            resource_type=moor7.ResourceType.TRUNK_NUMBER,
            concurrency=1,
            create_time=datetime(2020, 12, 8, 16, 48, 26, tzinfo=moor7.CHINA_STANDARD_TIME),
            update_time=datetime(2020, 12, 25, 20, 6, 54, tzinfo=moor7.CHINA_STANDARD_TIME),
            create_user="system",
            update_user="5fce1a69eabace555a6fe899",
            ivr_id="5fc9d5419740472c53b6099e",
            name="111",
            groups=[
                moor7.NumberGroup("5fe5d170c5d23f6117477723", "555"),
                moor7.NumberGroup("5fe5cecac5d23f6117477722", "888"),
            ],
        )

    def test_service_number_empty_ivr_id_is_none(self, converter: cattrs.Converter) -> None:
        (number,) = pool_from(converter, SAMPLE_NUMBER_POOL).service_numbers
        assert number.ivr_id is None
        assert number.groups == []
        assert number.concurrency == 2

    def test_sip_number(self, converter: cattrs.Converter) -> None:
        (sip,) = pool_from(converter, SAMPLE_NUMBER_POOL).sip_numbers
        assert sip == moor7.SipNumber(
            id="5fbf752eb7d53e5edee01af0",
            number="2000",
            password="123456Aa",
            status=moor7.SipStatus.ENABLED,
            is_deleted=False,
            register_status=moor7.RegisterStatus.REGISTERED,
            register_device="apple ar",
            register_time=datetime(2020, 10, 29, 16, 24, 6, tzinfo=moor7.CHINA_STANDARD_TIME),
            busy_reply_code="486",
            client_url="127.0.0.1:9998",
            server_url="127.0.0.1:9999",
            uid="5fbf752eb7d53e5edee01aeb",
            coding_formats=["G711A", "G711U"],
            is_nat=False,
            is_webrtc=False,
            account="2000063",
            create_time=datetime(2020, 11, 26, 17, 28, 14, tzinfo=moor7.CHINA_STANDARD_TIME),
            update_time=datetime(2020, 12, 21, 15, 58, 23, tzinfo=moor7.CHINA_STANDARD_TIME),
            create_user="system",
            update_user="5fbf752eb7d53e5edee01ae9",
        )

    def test_groups(self, converter: cattrs.Converter) -> None:
        groups = converter.structure(SAMPLE_GROUPS, list[moor7.NumberGroup])
        assert groups == [moor7.NumberGroup("5ff7c305ba185200117836f8", "客服号码组")]

    def test_times_are_aware_china_standard_time(self, converter: cattrs.Converter) -> None:
        (number,) = pool_from(converter, SAMPLE_NUMBER_POOL).display_numbers
        assert number.create_time is not None
        assert number.create_time.utcoffset() == CST
        assert number.create_time.isoformat() == "2020-12-08T16:48:26+08:00"


class TestRaw:
    def test_every_model_keeps_its_wire_record(self, converter: cattrs.Converter) -> None:
        pool = pool_from(converter, SAMPLE_NUMBER_POOL)
        assert pool.raw is SAMPLE_NUMBER_POOL
        assert pool.display_numbers[0].raw["__v"] == 0
        assert pool.display_numbers[0].groups[0].raw == {
            "_id": "5fe5d170c5d23f6117477723",
            "name": "555",
        }
        assert pool.sip_numbers[0].raw["busyReplayCode"] == "486"

    def test_raw_is_not_part_of_equality_or_repr(self, converter: cattrs.Converter) -> None:
        group = converter.structure({"_id": "g", "name": "n", "extra": 1}, moor7.NumberGroup)
        assert group == moor7.NumberGroup("g", "n")
        assert "extra" not in repr(group)


class TestSecrets:
    def test_sip_password_is_not_in_repr(self, converter: cattrs.Converter) -> None:
        pool = pool_from(converter, SAMPLE_NUMBER_POOL)
        assert "123456Aa" not in repr(pool)
        assert "123456Aa" not in repr(pool.sip_numbers[0])
        assert "123456Aa" not in str(pool.sip_numbers[0])


def mutated(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE_NUMBER_POOL)
    record = data["displayNumberList"][0]
    for key, value in changes.items():
        if value is KeyError:
            del record[key]
        else:
            record[key] = value
    return data


class TestTolerance:
    """What the server may send that the docs do not promise."""

    def test_unknown_fields_are_ignored(self, converter: cattrs.Converter) -> None:
        pool = pool_from(converter, mutated(brandNew={"x": 1}))
        assert pool.display_numbers[0].raw["brandNew"] == {"x": 1}

    @pytest.mark.parametrize("field", ["line", "status", "createTime", "group", "callAbility"])
    def test_missing_optional_fields_default(self, converter: cattrs.Converter, field: str) -> None:
        number = pool_from(converter, mutated(**{field: KeyError})).display_numbers[0]
        assert number.number == "9813"

    def test_missing_lists_are_empty(self, converter: cattrs.Converter) -> None:
        assert pool_from(converter, {}) == moor7.NumberPool()

    def test_null_lists_are_empty(self, converter: cattrs.Converter) -> None:
        pool = pool_from(converter, {"displayNumberList": None, "sipNumberList": None})
        assert pool.display_numbers == []
        assert pool.sip_numbers == []

    def test_null_groups_and_codecs_are_empty(self, converter: cattrs.Converter) -> None:
        data = mutated(group=None)
        data["sipNumberList"][0]["codingFormat"] = None
        pool = pool_from(converter, data)
        assert pool.display_numbers[0].groups == []
        assert pool.sip_numbers[0].coding_formats == []

    @pytest.mark.parametrize(
        ("wire", "expected"),
        [
            (3, moor7.CallAbility.SERVICE_AND_DISPLAY),
            ("2", moor7.CallAbility.DISPLAY),  # the docs' table says "string"
            (1, moor7.CallAbility.SERVICE),
            (7, 7),  # not in the docs: kept, not fatal
            ("", None),
            (None, None),
        ],
    )
    def test_call_ability(self, converter: cattrs.Converter, wire: Any, expected: Any) -> None:
        number = pool_from(converter, mutated(callAbility=wire)).display_numbers[0]
        assert number.call_ability == expected
        assert type(number.call_ability) is type(expected)

    @pytest.mark.parametrize(
        ("wire", "expected"),
        [
            ("enable", moor7.NumberStatus.ENABLED),
            ("disable", moor7.NumberStatus.DISABLED),
            ("suspended", "suspended"),
        ],
    )
    def test_status(self, converter: cattrs.Converter, wire: str, expected: Any) -> None:
        assert pool_from(converter, mutated(status=wire)).display_numbers[0].status == expected

    def test_unlisted_resource_type_is_kept(self, converter: cattrs.Converter) -> None:
        number = pool_from(converter, mutated(resourceType="sipTrunk")).display_numbers[0]
        assert number.resource_type == "sipTrunk"

    @pytest.mark.parametrize(("wire", "expected"), [(1, 1), ("4", 4), ("", None), (2.0, 2)])
    def test_concurrency_number_or_string(
        self, converter: cattrs.Converter, wire: Any, expected: int | None
    ) -> None:
        number = pool_from(converter, mutated(concurrency=wire)).display_numbers[0]
        assert number.concurrency == expected

    def test_numeric_id_becomes_string(self, converter: cattrs.Converter) -> None:
        number = pool_from(converter, mutated(_id=9813, number=9813)).display_numbers[0]
        assert (number.id, number.number) == ("9813", "9813")

    @pytest.mark.parametrize(
        ("wire", "expected"),
        [(False, False), (True, True), (0, False), (1, True), ("true", True), ("false", False)],
    )
    def test_sip_booleans(self, converter: cattrs.Converter, wire: Any, expected: bool) -> None:
        data = copy.deepcopy(SAMPLE_NUMBER_POOL)
        data["sipNumberList"][0].update(isNAT=wire, isWebRtc=wire, isDel=wire)
        sip = pool_from(converter, data).sip_numbers[0]
        assert (sip.is_nat, sip.is_webrtc, sip.is_deleted) == (expected,) * 3

    def test_iso_and_epoch_times(self, converter: cattrs.Converter) -> None:
        data = mutated(createTime="2020-12-08T08:48:26+00:00", updateTime=1607417306000)
        number = pool_from(converter, data).display_numbers[0]
        expected = datetime(2020, 12, 8, 16, 48, 26, tzinfo=moor7.CHINA_STANDARD_TIME)
        assert number.create_time == expected
        assert number.update_time == expected


class TestShapeErrors:
    """A value that cannot mean what the model says is an error, named by its path."""

    @pytest.mark.parametrize(
        ("changes", "where"),
        [
            ({"_id": {"nested": 1}}, "$.display_numbers[0].id"),
            ({"number": KeyError}, "$.display_numbers[0].number"),
            ({"createTime": "yesterday"}, "$.display_numbers[0].create_time"),
            ({"concurrency": "many"}, "$.display_numbers[0].concurrency"),
            ({"group": "555"}, "$.display_numbers[0].groups"),
            ({"group": [{"name": "no id"}]}, "$.display_numbers[0].groups[0].id"),
        ],
    )
    def test_error_names_the_field(
        self, converter: cattrs.Converter, changes: dict[str, Any], where: str
    ) -> None:
        with pytest.raises(Exception) as excinfo:  # noqa: PT011 - cattrs' own error types
            pool_from(converter, mutated(**changes))
        messages = cattrs.transform_error(excinfo.value)
        assert any(where in m for m in messages), messages

    def test_data_that_is_not_an_object(self, converter: cattrs.Converter) -> None:
        with pytest.raises(Exception, match="expected an object"):
            pool_from(converter, ["not", "a", "pool"])

    def test_error_messages_do_not_quote_values(self, converter: cattrs.Converter) -> None:
        data = copy.deepcopy(SAMPLE_NUMBER_POOL)
        data["sipNumberList"][0]["password"] = {"secret": "hunter2"}
        with pytest.raises(Exception) as excinfo:  # noqa: PT011
            pool_from(converter, data)
        assert "hunter2" not in " ".join(cattrs.transform_error(excinfo.value))
        assert "hunter2" not in str(excinfo.value)


class TestFastPath:
    """The compiled fast path (moor7/_fastpath.py): the converter's outcome, faster."""

    def test_the_sample_pool_is_the_converters(self, converter: cattrs.Converter) -> None:
        fast = structure(SAMPLE_NUMBER_POOL, moor7.NumberPool)
        assert fast == converter.structure(SAMPLE_NUMBER_POOL, moor7.NumberPool)
        assert fast.raw is SAMPLE_NUMBER_POOL
        assert fast.display_numbers[0].raw is SAMPLE_NUMBER_POOL["displayNumberList"][0]
        assert type(fast.display_numbers[0].call_ability) is moor7.CallAbility

    def test_a_record_missing_a_key_is_read_key_by_key(self) -> None:
        data = mutated(line=KeyError, group=KeyError)
        (number,) = structure(data, moor7.NumberPool).display_numbers
        assert (number.line, number.groups) == (None, [])

    def test_a_bad_record_fails_with_the_converters_error(
        self, converter: cattrs.Converter
    ) -> None:
        data = mutated(createTime="yesterday")
        with pytest.raises(Exception) as ours:  # noqa: PT011 - cattrs' own error types
            structure(data, moor7.NumberPool)
        with pytest.raises(Exception) as theirs:  # noqa: PT011
            converter.structure(data, moor7.NumberPool)
        assert type(ours.value) is type(theirs.value)
        assert describe_error(ours.value) == describe_error(theirs.value)
        assert "$.display_numbers[0].create_time" in describe_error(ours.value)

    def test_a_time_read_once_is_reused(self) -> None:
        first = _to_optional_datetime("2021-03-04 05:06:07")
        assert first is _to_optional_datetime("2021-03-04 05:06:07")
        assert first == datetime(2021, 3, 4, 5, 6, 7, tzinfo=moor7.CHINA_STANDARD_TIME)

    def test_the_times_kept_are_bounded(self) -> None:
        for second in range(_TIMES_KEPT + 10):
            _to_optional_datetime(f"2021-01-01 {second // 3600:02d}:{second // 60 % 60:02d}:00")
        assert len(_TIMES) <= _TIMES_KEPT

    @pytest.mark.parametrize(
        "extra",
        [
            {"validator": attrs.validators.instance_of(str)},
            {"converter": str},
        ],
        ids=["validator", "converter"],
    )
    def test_attrs_features_it_does_not_reproduce_keep_attrs_init(
        self, extra: dict[str, Any]
    ) -> None:
        """A model with a validator or converter is built by cattrs, through __init__."""
        model = attrs.make_class(
            "Checked",
            {"name": attrs.field(type=str, **extra), "raw": attrs.field(factory=dict)},
            frozen=True,
        )
        fast = FastPath(make_converter())
        assert fast.function(model).__name__ != "structure_Checked"
        assert fast.function(model)({"name": "x"}).name == "x"

    def test_a_model_with_post_init_keeps_attrs_init(self) -> None:
        @attrs.frozen
        class Seen:
            name: str
            raw: Any = attrs.field(factory=dict)

            def __attrs_post_init__(self) -> None:
                object.__setattr__(self, "name", self.name.upper())

        assert FastPath(make_converter()).function(Seen)({"name": "x"}).name == "X"

    def test_an_instance_is_the_model_itself_and_stays_frozen(self) -> None:
        """Built on a subclass that takes plain stores, then made the model: nothing of
        the building class remains on it."""
        number = structure(SAMPLE_NUMBER_POOL, moor7.NumberPool).display_numbers[0]
        assert type(number) is moor7.PhoneNumber
        assert type(number.groups[0]) is moor7.NumberGroup
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            number.line = "changed"  # type: ignore[misc]
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            del number.groups[0].name  # type: ignore[misc]

    def test_one_building_class_per_model(self) -> None:
        """Shared by the whole-record and key-by-key functions and by every FastPath."""
        structure(SAMPLE_NUMBER_POOL, moor7.NumberPool)
        FastPath(make_converter()).function(moor7.NumberPool)(SAMPLE_NUMBER_POOL)
        for model in (moor7.PhoneNumber, moor7.NumberGroup, moor7.SipNumber):
            (building,) = model.__subclasses__()
            assert building.__name__ == f"{model.__name__}Building"

    def test_a_group_record_missing_a_key_in_the_inlined_list(self) -> None:
        """A number's groups are built in its own loop; a group without every key is
        read key by key, another that is not an object falls back to the converter."""
        data = copy.deepcopy(SAMPLE_NUMBER_POOL)
        data["displayNumberList"][0]["group"] = [{"_id": "g1"}, {"_id": "g2", "name": "two"}]
        (number,) = structure(data, moor7.NumberPool).display_numbers
        assert [(g.id, g.name) for g in number.groups] == [("g1", None), ("g2", "two")]
        assert number.groups[0].raw is data["displayNumberList"][0]["group"][0]
        data["displayNumberList"][0]["group"] = [{"_id": "g1"}, "not an object"]
        with pytest.raises(Exception) as caught:  # noqa: PT011 - cattrs' own error types
            structure(data, moor7.NumberPool)
        assert "$.display_numbers[0].groups[1]" in describe_error(caught.value)


def reference_datetime(value: Any) -> datetime | None:
    """The time hook as it was before the gateway's shape got its own first branch
    (moor7 0.1's rules): the new hook must answer exactly as this does."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", value):
                parsed = datetime.fromisoformat(value)
            else:
                parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError("expected a date-time such as '2020-12-08 16:48:26'") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=moor7.CHINA_STANDARD_TIME)
        return parsed
    raise TypeError(value)


FAST_PATH = FastPath(make_converter())


def _offset(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


# Characters a time of the gateway's shape is made of, and some it is not.
_TIME_CHARS = "0123456789-: T+Z.W\t\u3000\u0663\uff12"


class TestTimes:
    """The gateway's times, read in their own first branch, as the general rule reads them."""

    @pytest.mark.parametrize(
        "text",
        [
            "2020-12-08 16:48:26",
            "2020-12- 8 16:48:26",  # strptime reads a day with a space in front
            "2020-12-08  6:48:26",
            "\uff12\uff10\uff12\uff10-12-08 16:48:26",  # non-ASCII digits: strptime reads those
            "2020-12-08 16:48:2\u0663",
            "2020-02-30 16:48:26",
            "2020-12-08 24:00:00",
            "0000-12-08 16:48:26",
            "2020-12-08T16:48:26",
            "2020-12-08 16:48+08",
            "2020-12-08 16:48:26+08:00",
            "20201208 16:48:26",
            "2020-12-08\t16:48:26",
            "2020-12-08\u300016:48:26",  # any one character between date and time
            "2020-12-08 16:48:26.5",
            "2020-W50-2 16:48:26",
            "2020-12-08 23:59:60",
            "2020-12-08 16:48:26Z",
        ],
    )
    def test_as_the_rule_reads_them(self, text: str) -> None:
        _TIMES.clear()
        self._same(text)

    @settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        text=st.text(alphabet=_TIME_CHARS, min_size=8, max_size=27)
        | st.builds(
            "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format,
            *(st.integers(0, bound) for bound in (9999, 13, 32, 25, 61, 61)),
        )
    )
    def test_any_text_of_about_that_shape(self, text: str) -> None:
        self._same(text)

    @settings(max_examples=500, deadline=None)
    @given(
        when=st.datetimes(
            timezones=st.none()
            | st.builds(
                lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-1439, 1439)
            )
        ),
        sep=st.sampled_from([" ", "T", "\t", "\u3000"]),
        timespec=st.sampled_from(["seconds", "milliseconds", "microseconds", "minutes"]),
    )
    def test_any_iso_time(self, when: datetime, sep: str, timespec: str) -> None:
        """Every text isoformat() writes, naive or with an offset, where strptime()
        reads some of them and fromisoformat() all."""
        self._same(when.isoformat(sep=sep, timespec=timespec))

    @staticmethod
    def _same(text: str) -> None:
        """The hook, and the fast path's copy of its first branches (in a whole record
        and in one read key by key), answer as the reference does."""
        try:
            expected: Any = reference_datetime(text)
        except ValueError as error:
            expected = error
        whole = dict(SAMPLE_NUMBER_POOL["displayNumberList"][0], createTime=text)
        sparse = {"_id": "1", "number": "2", "createTime": text}
        compiled = FAST_PATH.function(moor7.PhoneNumber)
        readers = [
            _to_optional_datetime,
            lambda text: compiled(whole).create_time,
            lambda text: compiled(sparse).create_time,
        ]
        for read in readers * 2:  # read, then from the times kept
            if isinstance(expected, ValueError):
                with pytest.raises(ValueError, match=re.escape(str(expected))):
                    read(text)
                continue
            got = read(text)
            assert got == expected
            assert got is not None
            assert expected is not None
            assert got.tzinfo == expected.tzinfo
            assert got.tzname() == expected.tzname()
            if expected.tzinfo is moor7.CHINA_STANDARD_TIME:
                assert got.tzinfo is moor7.CHINA_STANDARD_TIME
