"""Every public enum prints the same on every Python: ``Class.MEMBER``.

Left alone, Python 3.11 made an ``IntEnum``'s ``str()`` its number and 3.12 made an
f-string of a ``str`` enum its name where 3.10 gave the value. The suite runs on each
supported Python (``nox -s tests``), so these exact strings pin all of them.
"""

from __future__ import annotations

import enum
import json
import logging

import pytest

import moor7
import moor7.testing

ENUMS = sorted(
    (
        value
        for module in (moor7, moor7.testing)
        for name in module.__all__
        if isinstance(value := getattr(module, name), type) and issubclass(value, enum.Enum)
    ),
    key=lambda cls: cls.__name__,
)
MEMBERS = [member for cls in ENUMS for member in cls]


def test_every_public_enum_is_here() -> None:
    names = {cls.__name__ for cls in ENUMS}
    assert {"CallAbility", "LoginType", "CallKind", "ReportDimension", "Fault"} <= names
    assert len(ENUMS) >= 13


class TestPrinted:
    def test_the_issues_example(self) -> None:
        member = moor7.CallAbility.SERVICE_AND_DISPLAY
        assert str(member) == "CallAbility.SERVICE_AND_DISPLAY"
        assert f"{member}" == "CallAbility.SERVICE_AND_DISPLAY"
        assert repr(member) == "<CallAbility.SERVICE_AND_DISPLAY: 3>"

    @pytest.mark.parametrize("member", MEMBERS, ids=str)
    def test_str_format_and_percent_agree(self, member: enum.Enum) -> None:
        expected = f"{type(member).__name__}.{member.name}"
        assert str(member) == expected
        assert f"{member}" == expected
        assert format(member) == expected
        assert "%s" % member == expected  # noqa: UP031 - what logging does with args
        assert f"{member:>60}" == expected.rjust(60)

    def test_in_a_log_message(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.INFO, logger="test"):
            logging.getLogger("test").info("status %s", moor7.SipStatus.ENABLED)
        assert caplog.records[0].getMessage() == "status SipStatus.ENABLED"


class TestStillTheirValues:
    """The printing changes nothing else: they compare, hash and serialise as values."""

    def test_int_enums(self) -> None:
        member = moor7.CallAbility.SERVICE_AND_DISPLAY
        assert member == 3
        assert member + 1 == 4
        assert "%d" % member == "3"  # noqa: UP031
        assert json.dumps({"callAbility": member}) == '{"callAbility": 3}'

    def test_str_enums(self) -> None:
        member = moor7.LoginType.PSTN
        assert member == "PSTN"
        assert hash(member) == hash("PSTN")
        assert {"PSTN": 1}[member] == 1
        assert json.dumps({"loginType": member}) == '{"loginType": "PSTN"}'
        assert member.value == "PSTN"
