"""The documentation's code examples run as tests, so that they cannot rot.

Every fenced ```` ```python ```` block of ``docs/**/*.md`` and ``README.md`` is run as a
script, in a fresh Python process with warnings as errors, against a real
:class:`~moor7.testing.FakeGateway` that the test starts and hands over the way a user
hands over credentials: ``MOOR7_APPKEY``, ``MOOR7_SECRET_KEY`` (the demo account) and
``MOOR7_BASE_URL``. A fresh process per block means a fresh process-wide quota limiter
too, as a reader who copies the block into a file gets.

A block that defines ``test_*`` functions is a test, and runs under pytest as the
reader would run it (pytest-asyncio in auto mode, warnings as errors).

A block that runs inside a framework (Django, Flask, FastAPI, Celery, a Jupyter cell) is
marked with the harness that runs it as the framework would, right above its fence::

    <!-- run-with: django -->

Its files are split at their ``# path/to/file.py`` header comments, written out as the
reader would, and the harness (:data:`HARNESSES`) drives them: Django with its settings
made in-process and a request through its test client, Flask through its test client,
FastAPI served by uvicorn, Celery with a real prefork worker on the test Redis, a notebook cell with
top-level ``await``. A harness makes the request a user would make and checks the
answer against the fake gateway's data; it never supplies an answer.

A block that cannot run at all (a fragment of the code around it, a configuration file
of another program) is marked instead::

    <!-- not-run: a gunicorn configuration file -->

It is still compiled, and :func:`test_inventory` prints how many blocks ran and each
that did not, with its reason; a new unmarked block runs, a new marked one shows up
there.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from moor7.testing import DEMO_APPKEY, DEMO_SECRET_KEY, SAMPLE_AGENTS, FakeGateway

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
EXCLUDED_DIRS = {"_build"}

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:(?P<reason>.*?)-->\s*$")
_RUN_WITH = re.compile(r"^\s*<!--\s*run-with:\s*(?P<harness>[\w-]*)\s*-->\s*$")
_PYTHON = {"python", "py", "python3"}

# Failures that point at an example leaving something open, which a script's exit
# status would not show (they are printed from __del__ or at loop shutdown).
LEAK_MARKERS = ("Exception ignored", "Unclosed", "Task was destroyed", "Traceback")
TIMEOUT = 60


@attrs.frozen
class Block:
    """One ```python block of a Markdown file."""

    path: Path
    line: int  # of the opening fence, 1-based
    code: str
    not_run: str | None  # the marker's reason, if it is marked
    run_with: str | None = None  # the harness that runs it, if it names one

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_test(self) -> bool:
        return re.search(r"^(async )?def test_", self.code, re.MULTILINE) is not None


def _blocks(path: Path) -> Iterator[Block]:
    """The python blocks of *path*, also those nested in MyST directives (```` ```{note} ````)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    markers = {i for i, line in enumerate(lines) if _NOT_RUN.match(line) or _RUN_WITH.match(line)}
    used: set[int] = set()
    containers: list[str] = []  # fences of the directives we are inside
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        if containers and not info and _closes(containers[-1], fence):
            containers.pop()
            i += 1
            continue
        if info.startswith("{") and not info.startswith(("{eval-rst}", "{code-block}")):
            containers.append(fence)  # a directive: its content is Markdown again
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines):
            close = _FENCE.match(lines[i])
            if close and not close["info"].strip() and _closes(fence, close["fence"]):
                break
            body.append(lines[i])
            i += 1
        else:
            raise AssertionError(f"{path}:{start + 1}: the code block is never closed")
        i += 1
        language = info.split()[0].lower() if info else ""
        marker = _marker_above(lines, start)
        if marker is not None:
            assert language in _PYTHON, (
                f"{path}:{start + 1}: a not-run marker above a {language or 'plain'} block"
            )
            used.add(marker[0])
        if language in _PYTHON:
            code = textwrap.dedent("\n".join(body)) + "\n"
            if marker is not None and marker[1] == "run-with":
                yield Block(path, start + 1, code, None, marker[2])
            else:
                yield Block(path, start + 1, code, None if marker is None else marker[2])
    stray = sorted(markers - used)
    assert not stray, f"{path}:{stray[0] + 1}: a not-run marker not right above a code block"


def _closes(opening: str, candidate: str) -> bool:
    return candidate[0] == opening[0] and len(candidate) >= len(opening)


def _marker_above(lines: list[str], fence_index: int) -> tuple[int, str, str] | None:
    """The marker right above a fence (blank lines between allowed): its line, its kind
    (not-run or run-with) and its reason or harness."""
    j = fence_index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0:
        return None
    run_with = _RUN_WITH.match(lines[j])
    if run_with is not None:
        harness = run_with["harness"]
        assert harness in HARNESSES, f"no harness {harness!r} above line {fence_index + 1}"
        return j, "run-with", harness
    match = _NOT_RUN.match(lines[j])
    if match is None:
        return None
    reason = match["reason"].strip()
    assert reason, f"a not-run marker without a reason above line {fence_index + 1}"
    return j, "not-run", reason


def _all_blocks() -> list[Block]:
    return [
        block
        for source in SOURCES
        if not EXCLUDED_DIRS & set(source.relative_to(ROOT).parts)
        for block in _blocks(source)
    ]


# -- harnesses: the frameworks' own ways of running the examples ----------------------

_HEADER = re.compile(r"^# (?P<path>[\w/.-]+\.py)$", re.MULTILINE)


def _files(code: str, default: str) -> dict[str, str]:
    """A block's files, split at its ``# path/to/file.py`` header comments."""
    headers = list(_HEADER.finditer(code))
    if not headers or headers[0].start() != 0:
        return {default: code}
    return {
        match["path"]: code[match.start() : next_start].rstrip() + "\n"
        for match, next_start in zip(
            headers, [h.start() for h in headers[1:]] + [len(code)], strict=True
        )
    }


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for package in path.relative_to(root).parents:
            if package.parts:
                (root / package / "__init__.py").touch()


def _display_numbers(gateway: FakeGateway) -> object:
    return [n["number"] for n in gateway.number_pool["displayNumberList"]]


def _agent_numbers(gateway: FakeGateway) -> object:
    return [agent["agentNumber"] for agent in SAMPLE_AGENTS]


@attrs.frozen
class Harness:
    """How to run a framework's example: the file a block without a header is, and the
    driver script that makes the request a user would make and prints ``RESULT: json``.

    The result must be *expected* (from the gateway's own data), every call to *path*
    answered, and at most *most_calls* of them made if it is given (what an example
    promises of the quota)."""

    default_file: str
    driver: str
    needs_redis: bool = False
    expected: Callable[[FakeGateway], Any] = _display_numbers
    path: str = "/query/number"
    most_calls: int | None = None


_DJANGO_SETUP = """\
import json, os
import django
from django.conf import settings

# The project's settings, made in-process: the two the example reads, and what Django
# needs to serve one view.
settings.configure(
    MOOR7_APPKEY=os.environ["MOOR7_APPKEY"],
    MOOR7_SECRET_KEY=os.environ["MOOR7_SECRET_KEY"],
    ROOT_URLCONF="myproject.urls",
    SECRET_KEY="docs-example",
    ALLOWED_HOSTS=["testserver"],
    DEBUG=False,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
)
django.setup()
"""

_DJANGO = (
    _DJANGO_SETUP
    + """\
from django.test import Client

response = Client().get("/display-numbers")
assert response.status_code == 200, response.content
print("RESULT:", json.dumps(json.loads(response.content)["numbers"]))
"""
)

# Page views of many visitors at once, as a threaded WSGI server serves them: 40 views
# from 8 threads, each answer the same.
_DJANGO_PAGE_VIEWS = (
    _DJANGO_SETUP
    + """\
from concurrent.futures import ThreadPoolExecutor
from django.test import Client

def page_view(_: int) -> list[str]:
    response = Client().get("/display-numbers")
    assert response.status_code == 200, response.content
    return json.loads(response.content)["numbers"]

with ThreadPoolExecutor(max_workers=8) as pool:
    pages = list(pool.map(page_view, range(40)))
assert all(page == pages[0] for page in pages), pages
print("RESULT:", json.dumps(pages[0]))
"""
)

_FLASK = """\
import json
from app import app

response = app.test_client().get("/display-numbers")
assert response.status_code == 200, response.get_data(as_text=True)
print("RESULT:", json.dumps(response.get_json()))
"""

# uvicorn serving the app on a free port of 127.0.0.1, lifespan and all, and one request.
_FASTAPI = """\
import asyncio, json
import aiohttp, uvicorn
from main import app

async def serve_and_ask() -> object:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), serving.exception()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/display-numbers") as response:
                assert response.status == 200, await response.text()
                return await response.json()
    finally:
        server.should_exit = True  # as on SIGTERM: the lifespan closes the client
        await serving

print("RESULT:", json.dumps(asyncio.run(serve_and_ask())))
"""

# A worker as `celery -A tasks worker` starts it (the prefork pool), on the test Redis.
_CELERY = """\
import json, os, signal, subprocess, sys, time

worker = subprocess.Popen(
    [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=prefork",
     "--concurrency=2", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
     "--without-heartbeat"],
)
try:
    from tasks import CELERY_TASK

    numbers = CELERY_TASK.delay().get(timeout=45)
    print("RESULT:", json.dumps(numbers))
finally:
    worker.send_signal(signal.SIGTERM)  # a warm shutdown, as `docker stop` asks for
    worker.wait(timeout=30)
"""

# A notebook cell: top-level await, on the kernel's running event loop.
_JUPYTER = """\
import ast, asyncio, contextlib, io, json

async def kernel() -> str:
    with open("cell.py", encoding="utf-8") as file:
        cell = file.read()
    code = compile(cell, "cell.py", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = eval(code, {"__name__": "__main__"})
        if result is not None:
            await result
    return out.getvalue()

printed = asyncio.run(kernel())
print("RESULT:", json.dumps(eval(printed)))
"""

HARNESSES = {
    "django": Harness("myproject/views.py", _DJANGO),
    # One call of the quota for every view, shared then kept (docs/quota.md).
    "django-page-views": Harness("myproject/views.py", _DJANGO_PAGE_VIEWS, most_calls=1),
    "flask": Harness("app.py", _FLASK),
    "fastapi": Harness("main.py", _FASTAPI),
    "celery": Harness(
        "tasks.py", _CELERY.replace("CELERY_TASK", "sync_display_numbers"), needs_redis=True
    ),
    "celery-agents": Harness(
        "tasks.py",
        _CELERY.replace("CELERY_TASK", "sync_agents"),
        needs_redis=True,
        expected=_agent_numbers,
        path="/query/agent",
    ),
    "jupyter": Harness("cell.py", _JUPYTER),
}


BLOCKS = _all_blocks()
RUN = [b for b in BLOCKS if b.not_run is None and b.run_with is None]
RUN_WITH = [b for b in BLOCKS if b.run_with is not None]
NOT_RUN = [b for b in BLOCKS if b.not_run is not None]


@pytest.fixture
def docs_gateway() -> Iterator[FakeGateway]:
    """The gateway the examples reach through MOOR7_BASE_URL: the demo account and the
    docs' example data, as the sandbox serves them: no answer is injected."""
    with FakeGateway() as gw:
        yield gw


_CREDENTIALS = ("MOOR7_APPKEY", "MOOR7_SECRET_KEY", "MOOR7_BASE_URL")


def _environment(gateway: FakeGateway, extra: dict[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _CREDENTIALS and not name.startswith(("PYTEST_", "PYTHONWARNINGS"))
    }
    env.update(
        MOOR7_APPKEY=DEMO_APPKEY,
        MOOR7_SECRET_KEY=DEMO_SECRET_KEY,
        MOOR7_BASE_URL=gateway.url,
        PYTHONIOENCODING="utf-8",
        **extra,
    )
    return env


_SCRIPT_RUNNER = """\
import gc, runpy, sys
runpy.run_path(sys.argv[1], run_name="__main__")
gc.collect()  # an unclosed session is reported now, not lost at interpreter exit
"""

_PYTEST_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_example_runs(
    block: Block, docs_gateway: FakeGateway, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    extra = {}
    if "RedisLimiter(" in block.code:
        extra["REDIS_URL"] = request.getfixturevalue("redis_url")
    if block.is_test:
        (tmp_path / "pytest.ini").write_text(_PYTEST_INI)
        (tmp_path / "test_example.py").write_text(block.code, encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command.append("test_example.py")
    else:
        (tmp_path / "example.py").write_text(block.code, encoding="utf-8")
        command = [sys.executable, "-W", "error", "-c", _SCRIPT_RUNNER, "example.py"]
    result = subprocess.run(  # noqa: S603 - this interpreter, on the docs' own code
        command,
        cwd=tmp_path,
        env=_environment(docs_gateway, extra),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, f"{block.id} failed:\n{block.code}\n{output}"
    if block.is_test:
        assert re.search(r"\b\d+ passed\b", result.stdout), output
        assert not re.search(r"\b(failed|skipped|error)", result.stdout.splitlines()[-1]), output
    else:
        leaks = [marker for marker in LEAK_MARKERS if marker in result.stderr]
        assert not leaks, f"{block.id} left something open ({leaks}):\n{output}"


@pytest.mark.parametrize("block", RUN_WITH, ids=[f"{b.id}:{b.run_with}" for b in RUN_WITH])
def test_framework_example_runs(
    block: Block, docs_gateway: FakeGateway, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The example, as its files, in its framework; the answer is the gateway's data."""
    assert block.run_with is not None
    harness = HARNESSES[block.run_with]
    _write(tmp_path, _files(block.code, harness.default_file))
    (tmp_path / "_harness.py").write_text(harness.driver, encoding="utf-8")
    extra = {"PYTHONPATH": str(tmp_path)}
    if harness.needs_redis:
        # A database of its own on the test Redis, for the broker and the results, as
        # the default user (the application's user may only touch the quota's keys).
        url = request.getfixturevalue("redis_admin_url").rsplit("/", 1)[0] + "/14"
        extra.update(CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url)
    result = subprocess.run(
        [sys.executable, "-W", "error", "_harness.py"],
        cwd=tmp_path,
        env=_environment(docs_gateway, extra),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT + 30,
        check=False,
    )
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, f"{block.id} failed:\n{block.code}\n{output}"
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT: ")]
    assert json.loads(line.removeprefix("RESULT: ")) == harness.expected(docs_gateway), output
    answered = [c for c in docs_gateway.calls if c.path.endswith(harness.path)]
    assert answered, "the example never reached the gateway"
    assert all(call.status == 200 for call in answered)
    if harness.most_calls is not None:
        assert len(answered) <= harness.most_calls, output
    leaks = [marker for marker in LEAK_MARKERS if marker in result.stderr]
    assert not leaks, f"{block.id} left something open ({leaks}):\n{output}"


@pytest.mark.parametrize("block", NOT_RUN, ids=[b.id for b in NOT_RUN])
def test_not_run_example_compiles(block: Block) -> None:
    """A block marked not-run is still valid Python (top-level await allowed: Jupyter)."""
    compile(block.code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    """Count what ran and list what did not, and why: nothing is skipped unseen."""
    assert RUN, "no documentation example found to run"
    assert len(RUN) > 3 * len(NOT_RUN), "most examples must run as they are written"
    harnesses = ", ".join(sorted({b.run_with for b in RUN_WITH if b.run_with}))
    lines = [
        f"docs examples: {len(RUN)} run, {len(RUN_WITH)} run in their framework "
        f"({harnesses}), {len(NOT_RUN)} marked not-run"
    ]
    lines += [f"  not run: {block.id}: {block.not_run}" for block in NOT_RUN]
    with capsys.disabled():
        print("\n" + "\n".join(lines))


class TestExtraction:
    """The Markdown scanner itself: what counts as a block and as a marker."""

    def test_finds_marked_nested_and_indented_blocks(self, tmp_path: Path) -> None:
        page = tmp_path / "page.md"
        page.write_text(
            textwrap.dedent(
                """\
                # Page

                ```python
                a = 1
                ```

                <!-- not-run: needs django -->
                ```python
                b = 2
                ```

                ````{note}
                ```python
                c = 3
                ```
                ````

                - item

                  ```py
                  d = 4
                  ```

                ```console
                $ moor7 numbers
                ```
                """
            )
        )
        blocks = list(_blocks(page))
        assert [(b.code, b.not_run) for b in blocks] == [
            ("a = 1\n", None),
            ("b = 2\n", "needs django"),
            ("c = 3\n", None),
            ("d = 4\n", None),
        ]

    def test_a_marker_needs_a_reason(self, tmp_path: Path) -> None:
        page = tmp_path / "page.md"
        page.write_text("<!-- not-run: -->\n```python\nx = 1\n```\n")
        with pytest.raises(AssertionError, match="without a reason"):
            list(_blocks(page))

    def test_a_marker_above_another_language_is_an_error(self, tmp_path: Path) -> None:
        page = tmp_path / "page.md"
        page.write_text("<!-- not-run: shell -->\n```console\n$ ls\n```\n")
        with pytest.raises(AssertionError, match="not-run marker above a console block"):
            list(_blocks(page))

    def test_a_stray_marker_is_an_error(self, tmp_path: Path) -> None:
        page = tmp_path / "page.md"
        page.write_text("<!-- not-run: lost -->\n\nSome text.\n\n```python\nx = 1\n```\n")
        with pytest.raises(AssertionError, match="not right above a code block"):
            list(_blocks(page))

    def test_a_run_with_marker_names_its_harness(self, tmp_path: Path) -> None:
        page = tmp_path / "page.md"
        page.write_text("<!-- run-with: flask -->\n```python\n# app.py\nx = 1\n```\n")
        (block,) = _blocks(page)
        assert (block.run_with, block.not_run) == ("flask", None)
        assert _files(block.code, "other.py") == {"app.py": "# app.py\nx = 1\n"}

    def test_a_run_with_marker_of_no_harness_is_an_error(self, tmp_path: Path) -> None:
        page = tmp_path / "page.md"
        page.write_text("<!-- run-with: pyramid -->\n```python\nx = 1\n```\n")
        with pytest.raises(AssertionError, match="no harness 'pyramid'"):
            list(_blocks(page))

    def test_files_split_at_their_headers(self) -> None:
        code = "# a/b.py\nx = 1\n\n\n# c.py\ny = 2\n"
        assert _files(code, "d.py") == {"a/b.py": "# a/b.py\nx = 1\n", "c.py": "# c.py\ny = 2\n"}
        assert _files("x = 1\n", "d.py") == {"d.py": "x = 1\n"}
