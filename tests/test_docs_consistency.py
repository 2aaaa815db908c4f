"""What the README and the docs say of the code is read back from the code.

The documented defaults (timeouts, retries, backoff, base URL, quota, sizes, the
command line's defaults from its argparse parsers), the log lines and their levels,
and the exception hierarchy are not restated here: each claim is found in the text and
compared with the value, the call or the class the code has. A claim pattern that no
longer finds its claim fails too, so that a reworded page is looked at again.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import moor7
import moor7.exceptions
from moor7 import _answers, _cli, _client, _retries, _sync, _transport
from moor7._gateway import _server as _gateway_server
from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway, Fault

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [ROOT / "README.md", *(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts)]
)


def _text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def _default(function: Callable[..., Any], parameter: str) -> Any:
    return inspect.signature(function).parameters[parameter].default


def _number(value: float) -> str:
    """10.0 as the docs write it, 10; 0.5 as 0.5."""
    return f"{value:g}"


# -- the exception hierarchy -------------------------------------------------------------

EXCEPTIONS = {name: getattr(moor7.exceptions, name) for name in moor7.exceptions.__all__}


def _real_tree() -> set[tuple[str, str | None]]:
    """(class, its nearest public moor7 base) for every exception moor7 exports."""
    pairs: set[tuple[str, str | None]] = set()
    for name, cls in EXCEPTIONS.items():
        parent = next((b.__name__ for b in cls.__mro__[1:] if b.__name__ in EXCEPTIONS), None)
        pairs.add((name, parent))
    return pairs


_TREE_LINE = re.compile(r"^(?P<indent>(?:│   |    )*)(?:├── |└── )(?P<name>\w+)")


def _drawn_trees(text: str) -> list[set[tuple[str, str | None]]]:
    """Every tree drawn under a ``Moor7Error`` line: (class, parent) pairs."""
    trees = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().split(" ")[0] != "Moor7Error" or not line.lstrip().startswith("Moor7"):
            continue
        margin = len(line) - len(line.lstrip())
        pairs: set[tuple[str, str | None]] = {("Moor7Error", None)}
        stack = ["Moor7Error"]
        for row in lines[i + 1 :]:
            match = _TREE_LINE.match(row[margin:])
            if match is None:
                break
            depth = len(match["indent"]) // 4 + 1
            del stack[depth:]
            pairs.add((match["name"], stack[-1]))
            stack.append(match["name"])
        trees.append(pairs)
    return trees


@pytest.mark.parametrize(
    "source",
    ["README.md", "docs/guides/errors.md", "moor7/exceptions.py"],
    ids=["README", "errors guide", "exceptions reference (the module's docstring)"],
)
def test_every_drawn_exception_tree_is_the_real_one(source: str) -> None:
    trees = _drawn_trees(_text(source))
    assert trees, f"{source} draws no exception tree"
    real = _real_tree()
    for drawn in trees:
        assert drawn - real == set(), f"{source}: drawn, but not so in the code"
        assert real - drawn == set(), f"{source}: in the code, but not drawn"


def test_the_reference_page_renders_the_module_tree() -> None:
    # docs/reference/exceptions.md shows moor7.exceptions' docstring (automodule), which
    # the test above checks; tests/test_docs_build.py checks that it is in the HTML.
    assert ".. automodule:: moor7.exceptions" in _text("docs/reference/exceptions.md")


@pytest.mark.parametrize("page", ["docs/guides/errors.md", "docs/zh/quickstart.md"])
def test_the_tables_of_exceptions_name_every_one_a_user_can_catch(page: str) -> None:
    """Every exception with no subclass of its own has a row in the page's table."""
    rows = {
        name
        for line in _text(page).splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`(\w+)`", line.split("|")[1])
    }
    leaves = {name for name, cls in EXCEPTIONS.items() if not cls.__subclasses__()}
    assert leaves - rows == set()


# -- documented defaults -------------------------------------------------------------------

LOCAL_LIMITER = moor7.LocalLimiter.__init__
CLIENT = moor7.AsyncClient.__init__
# The constructors default to the environment (MOOR7_TIMEOUT, MOOR7_MAX_RETRIES), then
# to these: the documented defaults.
TIMEOUT = _number(_client.DEFAULT_TIMEOUT)
RETRIES = _client.DEFAULT_MAX_RETRIES
BACKOFF_INITIAL = _number(_default(CLIENT, "backoff_initial"))
BACKOFF_MAX = _number(_default(CLIENT, "backoff_max"))
DEADLINE = str(_default(CLIENT, "deadline")).replace("None", "none")
MAX_RESPONSE_MIB = str(_transport.DEFAULT_MAX_RESPONSE_SIZE >> 20)
MAX_CONNECTIONS = str(_transport.DEFAULT_MAX_CONNECTIONS)
RETRY_AFTER_CAP = _number(_retries.RETRY_AFTER_CAP)
BASE_URL = _client.DEFAULT_BASE_URL
QUOTA = str(_default(LOCAL_LIMITER, "max_calls"))
QUOTA_PERIOD = str(_default(LOCAL_LIMITER, "period"))
GATEWAY_QUOTA = str(_default(FakeGateway, "quota"))
GATEWAY_PERIOD = str(_default(FakeGateway, "quota_period"))
EXIT_CLOSE = _number(_sync._EXIT_CLOSE_TIMEOUT)
SLOW_FAULT = _number(_gateway_server._DEFAULT_SLOW_DELAY)

# (what the claim looks like, with the value as its group; the value the code has). A
# space in a pattern matches any white space, line breaks included.
DEFAULT_CLAIMS: list[tuple[str, str]] = [
    (r"`timeout` \((\S+) s by default", TIMEOUT),
    (r"`timeout`（默认 (\S+) 秒）", TIMEOUT),  # noqa: RUF001
    (r"`max_retries=(\d+)` by default", str(RETRIES)),
    (r"默认 `max_retries=(\d+)`", str(RETRIES)),
    (r"\((\d+) by default, so \d+ attempts", str(RETRIES)),
    (r"by default, so (\d+) attempts", str(RETRIES + 1)),
    (r"（共 (\d+) 次尝试）", str(RETRIES + 1)),  # noqa: RUF001
    (r"`max_retries`, default (\d+)", str(RETRIES)),
    (r"already retried a call \((\d+) times by default\)", str(RETRIES)),
    (r"`backoff_initial` seconds \((\S+) by default\)", BACKOFF_INITIAL),
    (r"up to `backoff_max` \((\S+) s\)", BACKOFF_MAX),
    (r"`deadline` \((\w+) by default", DEADLINE),
    (r"`max_response_size` \((\d+) MiB by default", MAX_RESPONSE_MIB),
    (r"`max_connections=` bounds the pool \((\d+) by default\)", MAX_CONNECTIONS),
    (r"honoured \(up to (\d+) s\)", RETRY_AFTER_CAP),
    (r"One over (\d+) s is not waited", RETRY_AFTER_CAP),
    (r"（超过 (\d+) 秒则不等待", RETRY_AFTER_CAP),  # noqa: RUF001
    (r"the loop \(for at most (\d+) seconds\) before it stops", EXIT_CLOSE),
    (r"or nesting over (\d+) levels", str(_client._MAX_BODY_DEPTH)),
    (r"\| `slow` \| the normal answer, after (\d+) seconds \|", SLOW_FAULT),
    (r"defaults to `(https?://[^`]+)`", BASE_URL),
    (r"默认为 `(https?://[^`]+)`", BASE_URL),
    (r"MOOR7_BASE_URL=(\S+) # optional: the default", BASE_URL),
    # The account quota: the default limiter's, and the fake gateway's.
    (r"\*\*(\d+) calls per minute per account\*\*", QUOTA),
    (r"[（(]`LocalLimiter\(max_calls=(\d+), period=[\d.]+\)`[）)]", QUOTA),  # noqa: RUF001
    (r"[（(]`LocalLimiter\(max_calls=\d+, period=([\d.]+)\)`[）)]", QUOTA_PERIOD),  # noqa: RUF001
    (r"quota of (\d+) calls per minute", QUOTA),
    (r"\((\d+) calls per minute\)", QUOTA),
    (r"每账户每分钟 (\d+) 次", QUOTA),
    (r"quota \((\d+) calls in any rolling \d+ s by default\)", GATEWAY_QUOTA),
    (r"quota \(\d+ calls in any rolling (\d+) s by default\)", _number(float(GATEWAY_PERIOD))),
    (r"`quota_period` seconds \((\d+) and [\d.]+ by default", GATEWAY_QUOTA),
    (r"`quota_period` seconds \(\d+ and ([\d.]+) by default", GATEWAY_PERIOD),
    # The answers a client keeps for max_age=.
    (r"keeps at most (\d+) answers and \d+ MiB", str(_answers.MAX_ANSWERS)),
    (r"keeps at most \d+ answers and (\d+) MiB", str(_answers.MAX_ANSWER_BYTES >> 20)),
]


def _claims(pattern: str) -> Iterator[tuple[str, str]]:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(pattern.replace(" ", r"\s+"), text):
            line = text.count("\n", 0, match.start()) + 1
            yield f"{page.relative_to(ROOT)}:{line}", match[1]


@pytest.mark.parametrize(("pattern", "value"), DEFAULT_CLAIMS, ids=[p for p, _ in DEFAULT_CLAIMS])
def test_documented_defaults_are_the_code_s(pattern: str, value: str) -> None:
    claims = list(_claims(pattern))
    assert claims, f"no page says this any more: {pattern}"
    wrong = [(where, said) for where, said in claims if said != value]
    assert not wrong, f"the code says {value!r}"


# -- the command line's defaults, from its parsers --------------------------------------------


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = _cli._parser()
    commands = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    return {"moor7": parser, **commands.choices}


def _help_default(parser: argparse.ArgumentParser, flag: str) -> str | None:
    action = parser._option_string_actions[flag]
    match = re.search(r"default: (?:\$\w+ or )?([^;)]+)", action.help or "")
    return None if match is None else match[1]


def _documented_settings() -> dict[str, str]:
    """The command-line guide's settings table: flag -> its default column."""
    rows = {}
    for line in _text("docs/guides/command-line.md").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`--"):
            flag = cells[0].strip("`").split()[0]
            rows[flag] = cells[2]
    return rows


def test_the_settings_table_gives_the_client_s_defaults() -> None:
    """`--timeout` and the others default to what the client does (argparse's default
    is None: "not given"), and say so in their --help too."""
    parser = _parsers()["moor7"]
    documented = _documented_settings()
    expected = {
        "--base-url": _client.DEFAULT_BASE_URL,
        "--timeout": _number(_client.DEFAULT_TIMEOUT),
        "--max-retries": str(_client.DEFAULT_MAX_RETRIES),
    }
    for flag, value in expected.items():
        assert flag in parser._option_string_actions
        assert parser._option_string_actions[flag].default is None
        assert re.match(rf"`{re.escape(value)}`", documented[flag]), (flag, documented[flag])
        assert _help_default(parser, flag) == value, flag
    assert set(documented) <= set(parser._option_string_actions), "a flag the command lacks"


def test_the_gateway_synopsis_gives_its_parser_s_defaults() -> None:
    gateway = _parsers()["gateway"]
    synopsis = re.search(
        r"```text\n(moor7 gateway .*?)```", _text("docs/guides/command-line.md"), re.S
    )
    assert synopsis is not None
    shown = dict(re.findall(r"\[(--[\w-]+) ([^\]A-Z][^\]]*)\]", synopsis[1]))
    assert shown, synopsis[1]
    for flag, value in shown.items():
        assert str(gateway._option_string_actions[flag].default) == value, flag
    flags = set(re.findall(r"\[(--[\w-]+)", synopsis[1]))
    assert flags <= set(gateway._option_string_actions)
    quota = re.search(
        r"The default is the real gateway's, `([^`]+)`", _text("docs/guides/command-line.md")
    )
    assert quota is not None
    assert gateway._option_string_actions["--quota"].default == quota[1]
    assert (
        quota[1]
        == f"{_default(LOCAL_LIMITER, 'max_calls')}/{_number(_default(LOCAL_LIMITER, 'period'))}"
    )


# -- the command line's error examples, run in a fresh shell --------------------------------


def _error_examples() -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """Console blocks that show `moor7: error:` lines: each as (command, output) pairs."""
    examples = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in re.finditer(r"```console\n(.*?)```", text, re.S):
            if "moor7: error:" not in block[1]:
                continue
            steps: list[tuple[str, list[str]]] = []
            for line in block[1].splitlines():
                if line.startswith("$ "):
                    steps.append((line[2:].split("  #")[0].strip(), []))
                elif steps:
                    steps[-1][1].append(line)
            line = text.count("\n", 0, block.start()) + 1
            examples.append((f"{page.relative_to(ROOT)}:{line}", steps))
    return examples


ERROR_EXAMPLES = _error_examples()


@pytest.mark.parametrize(("where", "steps"), ERROR_EXAMPLES, ids=[w for w, _ in ERROR_EXAMPLES])
def test_error_examples_print_what_they_show_in_a_fresh_shell(
    where: str, steps: list[tuple[str, list[str]]], tmp_path: Path
) -> None:
    """Run one after the other in one bash, as a reader types them, with none of the
    reader's MOOR7_ variables: each prints what the page shows."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The moor7 command of this interpreter, whatever PATH the tests run with.
    (bin_dir / "moor7").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m moor7 "$@"\n')
    (bin_dir / "moor7").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOOR7_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONIOENCODING="utf-8")
    script = "\n".join(
        f"echo '@@@ {i}'; echo '@@@ {i}' >&2; {command} 2>&1"
        for i, (command, _) in enumerate(steps)
    )
    result = subprocess.run(  # noqa: S603 - bash on the docs' own commands
        ["bash", "-c", script],  # noqa: S607
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    outputs = re.split(r"^@@@ \d+\n", result.stdout, flags=re.M)[1:]
    assert len(outputs) == len(steps), result
    for (command, shown), printed in zip(steps, outputs, strict=True):
        shown_text = "\n".join(shown).strip()
        if shown_text in {"", "..."}:
            continue
        assert printed.strip() == shown_text, f"{where}: $ {command}"


def test_there_are_error_examples() -> None:
    assert any(w.startswith("docs/guides/command-line.md") for w, _ in ERROR_EXAMPLES)


# -- log lines and their levels ------------------------------------------------------------

LEVELS = {"debug": "DEBUG", "info": "INFO", "warning": "WARNING", "error": "ERROR"}
_PRINTF = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdfr]")


def _log_calls() -> list[tuple[str, str, str]]:
    """Every log.<level>("format", ...) of moor7's code: (where, LEVEL, format)."""
    calls = []
    for path in sorted((ROOT / "moor7").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"
                and node.func.attr in LEVELS
            ):
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path}:{node.lineno}: not a literal"
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                calls.append((where, LEVELS[node.func.attr], first.value))
    return calls


LOG_CALLS = _log_calls()


def _documented_lines() -> list[tuple[str, re.Pattern[str]]]:
    """The logging guide's table: (LEVEL, a pattern per message shown in the row)."""
    documented = []
    for line in _text("docs/guides/logging.md").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] not in LEVELS.values():
            continue
        for template in re.findall(r"`([^`]+)`", cells[1]):
            parts = re.split(r"(<[^>]+>|\.\.\.)", template)
            pattern = "".join(
                ".*" if part == "..." else ".+?" if part.startswith("<") else re.escape(part)
                for part in parts
            )
            documented.append((cells[0], re.compile(pattern)))
    return documented


DOCUMENTED_LINES = _documented_lines()


def _as_logged(fmt: str) -> str:
    return _PRINTF.sub("X", fmt)


def test_every_log_line_of_the_code_is_documented_at_its_level() -> None:
    assert len(LOG_CALLS) >= 8, LOG_CALLS
    undocumented = [
        (where, level, fmt)
        for where, level, fmt in LOG_CALLS
        if not any(lv == level and p.fullmatch(_as_logged(fmt)) for lv, p in DOCUMENTED_LINES)
    ]
    assert not undocumented


def test_every_documented_log_line_is_one_the_code_writes() -> None:
    phantom = [
        (level, pattern.pattern)
        for level, pattern in DOCUMENTED_LINES
        if not any(lv == level and pattern.fullmatch(_as_logged(f)) for _, lv, f in LOG_CALLS)
    ]
    assert not phantom


def test_what_the_pages_say_of_the_retry_log_level() -> None:
    (retry,) = [level for _, level, fmt in LOG_CALLS if "; retry " in fmt]
    said = [
        (page.relative_to(ROOT), level)
        for page in PAGES
        for level in re.findall(
            r"(?:each|every) retry\b[^.]*?\bat (DEBUG|INFO|WARNING|ERROR)\b",
            page.read_text(encoding="utf-8"),
            re.I | re.S,
        )
    ]
    assert len(said) >= 2, "the README and the errors guide say it"
    assert all(level == retry for _, level in said), said


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def moor7_records() -> Iterator[list[logging.LogRecord]]:
    logger = logging.getLogger("moor7")
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_the_lines_logged_for_failures_are_the_documented_ones(
    moor7_records: list[logging.LogRecord],
) -> None:
    """A timeout, a dropped connection, a 5xx and an over-quota answer, each retried; a
    connection refused; a quota wait: every line logged is one of the table's rows."""
    async with FakeGateway(quota=None) as gateway:
        settings: dict[str, Any] = {"base_url": gateway.url, "backoff_initial": 0, "backoff_max": 0}
        limiter = moor7.LocalLimiter(max_calls=6, period=0.5)
        async with moor7.AsyncClient(
            DEMO_APPKEY, DEMO_SECRET_KEY, timeout=0.3, limiter=limiter, **settings
        ) as client:
            for fault in (Fault.SLOW, Fault.DROP, Fault.SERVER_ERROR, Fault.RATE_LIMIT):
                gateway.fail_next(fault)
                await client.get_number_pool()
            await client.get_number_pool()  # waits for a slot
    async with moor7.AsyncClient(
        DEMO_APPKEY,
        DEMO_SECRET_KEY,
        base_url="http://127.0.0.1:9",
        max_retries=1,
        backoff_initial=0,
        limiter=moor7.Unlimited(),
    ) as closed:
        with pytest.raises(moor7.ConnectError):
            await closed.get_number_pool()

    logged = [(r.levelname, r.getMessage()) for r in moor7_records]
    messages = " ".join(message for _, message in logged)
    for outcome in ("RequestTimeout", "NetworkError", "ConnectError", "-> 500", "-> 429"):
        assert outcome in messages, outcome
    assert "waited" in messages
    assert "paused" in messages
    undocumented = [
        (level, message)
        for level, message in logged
        if not any(lv == level and p.fullmatch(message) for lv, p in DOCUMENTED_LINES)
    ]
    assert not undocumented
