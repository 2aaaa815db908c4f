"""The types catch misuse: mypy and pyright, run as users run them, on tests/typing/.

``tests/typing/api_usage.py`` must pass both checkers (strict); each line of
``tests/typing/misuse.py`` must be an error in both, with the code its ignore comment
names; and the testing guide's examples must pass ``mypy --strict`` as a reader would
copy them.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import subprocess
import sys
import types
import typing
from pathlib import Path

import moor7
from tests.test_docs import _blocks

ROOT = Path(__file__).resolve().parents[1]
TYPING = ROOT / "tests" / "typing"
# "# type: ignore[arg-type]  # pyright: ignore[reportArgumentType]" at a line's end.
_IGNORES = re.compile(
    r"\s*# type: ignore\[(?P<mypy>[\w,-]+)\]\s*# pyright: ignore\[(?P<pyright>[\w,]+)\]\s*$"
)
_MYPY_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A checker of this interpreter's environment (``python -m mypy``, ...)."""
    return subprocess.run(  # noqa: S603 - our own checkers on our own files
        [sys.executable, "-m", *map(str, command)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def mypy(*paths: Path) -> subprocess.CompletedProcess[str]:
    """mypy with the project's settings (pyproject.toml: strict, Python 3.10)."""
    return run("mypy", "--config-file", ROOT / "pyproject.toml", *paths, cwd=ROOT)


def pyright(project: Path) -> dict[str, typing.Any]:
    """pyright in strict mode on *project* (a folder with a pyrightconfig.json), as JSON."""
    config = project / "pyrightconfig.json"
    result = run(
        "pyright", "--outputjson", "--pythonpath", sys.executable, "-p", config, cwd=project
    )
    report: dict[str, typing.Any] = json.loads(result.stdout)
    return report


def errors(report: dict[str, typing.Any]) -> list[str]:
    return [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']} ({d.get('rule')})"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]


class TestTheTypingExamples:
    def test_mypy_strict(self) -> None:
        """api_usage.py passes; every misuse is an error (an ignore silencing nothing is
        one too, under --strict)."""
        result = mypy(TYPING)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_pyright_strict(self) -> None:
        report = pyright(TYPING)
        assert errors(report) == []
        assert report["summary"]["filesAnalyzed"] >= 2


class TestEachMisuseIsAnError:
    """misuse.py without its ignore comments: each checker reports those lines alone."""

    @staticmethod
    def stripped(tmp_path: Path) -> dict[int, tuple[set[str], set[str]]]:
        expected: dict[int, tuple[set[str], set[str]]] = {}
        lines = []
        for number, line in enumerate((TYPING / "misuse.py").read_text().splitlines(), 1):
            found = _IGNORES.search(line)
            if found:
                expected[number] = (
                    set(found["mypy"].split(",")),
                    set(found["pyright"].split(",")),
                )
                line = line[: found.start()]
            lines.append(line)
        (tmp_path / "misuse.py").write_text("\n".join(lines) + "\n")
        config = json.loads((TYPING / "pyrightconfig.json").read_text())
        (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
        return expected

    def test_mypy(self, tmp_path: Path) -> None:
        expected = self.stripped(tmp_path)
        assert len(expected) >= 15
        result = mypy(tmp_path / "misuse.py")
        reported: dict[int, set[str]] = {}
        for line in result.stdout.splitlines():
            match = _MYPY_ERROR.match(line)
            if match:
                reported.setdefault(int(match["line"]), set()).add(match["code"])
        assert reported == {line: codes for line, (codes, _) in expected.items()}, result.stdout

    def test_pyright(self, tmp_path: Path) -> None:
        expected = self.stripped(tmp_path)
        report = pyright(tmp_path)
        reported: dict[int, set[str]] = {}
        for diagnostic in report["generalDiagnostics"]:
            if diagnostic["severity"] == "error":
                line = diagnostic["range"]["start"]["line"] + 1
                reported.setdefault(line, set()).add(diagnostic["rule"])
        assert reported == {line: rules for line, (_, rules) in expected.items()}, errors(report)


class TestTheWireValuesBesideTheEnums:
    """A parameter typed ``E | Literal[...]`` lists exactly E's values."""

    def annotated(self) -> list[tuple[str, type[enum.Enum], set[object]]]:
        found = []
        for name, method in inspect.getmembers(moor7.AsyncClient, inspect.isfunction):
            if name.startswith("_"):
                continue
            for parameter, hint in typing.get_type_hints(method).items():
                for union in self.unions(hint):
                    args = typing.get_args(union)
                    enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.Enum)]
                    literals = [a for a in args if typing.get_origin(a) is typing.Literal]
                    if enums and literals:
                        (enum_cls,) = enums
                        values = {v for lit in literals for v in typing.get_args(lit)}
                        found.append((f"{name}({parameter})", enum_cls, values))
        return found

    def unions(self, hint: object) -> list[object]:
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            return [hint, *(u for a in typing.get_args(hint) for u in self.unions(a))]
        return [u for a in typing.get_args(hint) for u in self.unions(a)]

    def test_every_such_parameter(self) -> None:
        found = self.annotated()
        named = {where for where, _, _ in found}
        assert {
            "agent_online(login_type)",
            "agent_online(status)",
            "get_im_session_report(dimension)",
            "list_sip_numbers(register_statuses)",
            "request(kind)",
        } <= named
        for where, enum_cls, values in found:
            assert values == {member.value for member in enum_cls}, where

    def test_no_enum_parameter_takes_any_str_or_int(self) -> None:
        for name, method in inspect.getmembers(moor7.AsyncClient, inspect.isfunction):
            for parameter, hint in typing.get_type_hints(method).items():
                for union in self.unions(hint):
                    args = typing.get_args(union)
                    if any(isinstance(a, type) and issubclass(a, enum.Enum) for a in args):
                        assert str not in args, f"{name}({parameter})"
                        assert int not in args, f"{name}({parameter})"


def test_the_testing_guides_examples_pass_mypy_strict(tmp_path: Path) -> None:
    """As a reader copies them into their own test files."""
    blocks = list(_blocks(ROOT / "docs" / "guides" / "testing.md"))
    assert len(blocks) >= 8
    paths = []
    for block in blocks:
        path = tmp_path / f"test_guide_line_{block.line}.py"
        path.write_text(block.code)
        paths.append(path)
    result = run("mypy", "--strict", "--python-version", "3.10", *paths, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
