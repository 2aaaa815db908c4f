"""The pytest plugin, as a user meets it: a project of theirs, run by pytest in a subprocess.

Each test writes a small project into a temporary directory (a ``conftest.py`` that
redefines ``moor7_gateway``, sync and async tests) and runs ``python -m pytest`` on it
with no option that names the plugin: the fixtures can only come from the ``pytest11``
entry point of the installed package. The outcome counts of that run are asserted.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TIMEOUT = 120

# Tests that need no async test runner: the gateway and the blocking client.
SYNC_TESTS = """\
import time

from moor7.testing import SAMPLE_NUMBER_POOL, Fault


def test_the_gateway_serves_the_docs_example_data(moor7_gateway):
    assert moor7_gateway.url.startswith("http://127.0.0.1:")
    assert moor7_gateway.number_pool == SAMPLE_NUMBER_POOL


def test_the_client_reads_the_gateway(moor7_client, moor7_gateway):
    pool = moor7_client.get_number_pool()
    assert [number.number for number in pool.display_numbers] == ["9813"]
    assert [call.account for call in moor7_gateway.calls] == ["2000103"]


def test_the_client_retries_at_once(moor7_client, moor7_gateway):
    moor7_gateway.fail_next(Fault.SERVER_ERROR, times=3)
    started = time.monotonic()
    moor7_client.get_number_pool()
    assert time.monotonic() - started < 1.0  # the default backoff alone is 3.5 s
    assert [call.status for call in moor7_gateway.calls] == [500, 500, 500, 200]


def test_each_test_has_a_fresh_gateway(moor7_gateway):
    assert moor7_gateway.calls == []
"""

# The same gateway and its data in async tests; the mark chooses the async runner (anyio's
# default backend is asyncio, the one moor7 runs on).
ASYNC_TESTS = """\
import pytest

import moor7
from moor7.testing import Fault


{mark}
async def test_the_async_client_reads_the_gateway(moor7_async_client, moor7_gateway):
    moor7_gateway.fail_next(Fault.DROP)
    pool = await moor7_async_client.get_number_pool()
    assert [number.number for number in pool.display_numbers] == ["9813"]
    assert [call.status for call in moor7_gateway.calls] == [None, 200]
    assert isinstance(moor7_async_client.limiter, moor7.Unlimited)


{mark}
async def test_both_clients_share_the_gateway(moor7_async_client, moor7_client, moor7_gateway):
    await moor7_async_client.get_number_pool()
    moor7_client.list_display_number_groups()  # blocks this loop; the gateway has its own
    assert len(moor7_gateway.calls) == 2
"""

# A conftest.py of the user's, one directory down: its moor7_gateway replaces the
# plugin's there, and the client fixtures follow it.
OVERRIDE_CONFTEST = """\
import pytest

from moor7.testing import FakeGateway

EMPTY_POOL = {"displayNumberList": [], "serviceNumberList": [], "sipNumberList": []}


@pytest.fixture
def moor7_gateway():
    with FakeGateway(number_pool=EMPTY_POOL, quota=2) as gateway:
        yield gateway
"""

# A test module can redefine moor7_gateway for its own tests too.
NO_QUOTA_TESTS = """\
import time

import pytest

from moor7.testing import FakeGateway


@pytest.fixture
def moor7_gateway():
    with FakeGateway(quota=None) as gateway:
        yield gateway


def test_the_client_has_no_quota_wait(moor7_client):
    started = time.monotonic()
    for _ in range(25):  # the process-wide limiter would hold the 21st for a minute
        moor7_client.get_number_pool()
    assert time.monotonic() - started < 10
"""

OVERRIDE_TESTS = """\
import pytest

import moor7


def test_the_blocking_client_follows_the_override(moor7_client):
    assert moor7_client.get_number_pool().display_numbers == []


{mark}
async def test_the_async_client_follows_the_override(moor7_async_client):
    await moor7_async_client.get_number_pool()
    await moor7_async_client.get_number_pool()
    with pytest.raises(moor7.RateLimitError):
        await moor7_async_client.get_number_pool(max_retries=0)
"""

# Last, alphabetically: whatever the fixtures opened is closed by now. Every socket of
# the fake gateway and of the clients is TCP; the process's own TCP sockets are found
# by matching its file descriptors against the kernel's TCP tables.
LEAK_TESTS = """\
import gc
import os
import threading
from pathlib import Path


def tcp_sockets_of_this_process():
    tcp = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            tcp.add(f"socket:[{line.split()[9]}]")
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            mine.add(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:  # the directory listing's own descriptor, closed since
            pass
    return mine & tcp


def test_nothing_is_left_open():
    gc.collect()
    assert [t.name for t in threading.enumerate() if t.name == "moor7-fake-gateway"] == []
    assert tcp_sockets_of_this_process() == set()
"""

# Tests on a module-wide event loop: the client works if fixtures share that loop, and
# says so at its first call if they do not.
MODULE_LOOP_TESTS = """\
import pytest

import moor7

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_the_first_call(moor7_async_client, request):
    if request.config.getini("asyncio_default_fixture_loop_scope") == "module":
        await moor7_async_client.get_number_pool()
    else:
        with pytest.raises(moor7.WrongEventLoopError):
            await moor7_async_client.get_number_pool()
"""

AUTO_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

STRICT_INI = """\
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

PLAIN_INI = """\
[pytest]
filterwarnings = error
"""

# Runs pytest as if pytest-asyncio were not installed: `import pytest_asyncio` fails.
# (-p no:asyncio keeps pytest from loading its entry point first; pytest's own
# options, which a user could pass too, not the plugin's.)
WITHOUT_PYTEST_ASYNCIO = """\
import sys


class NoPytestAsyncio:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "pytest_asyncio":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NoPytestAsyncio())
import pytest

sys.exit(pytest.main(["-p", "no:asyncio", *sys.argv[1:]]))
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def _project(root: Path, ini: str, *, mark: str) -> None:
    """A user's project: default fixtures at the top, an override in own_data/."""
    _write(
        root,
        {
            "pytest.ini": ini,
            "test_sync.py": SYNC_TESTS,
            "test_no_quota.py": NO_QUOTA_TESTS,
            "test_async.py": ASYNC_TESTS.format(mark=mark),
            "own_data/conftest.py": OVERRIDE_CONFTEST,
            "own_data/test_own_data.py": OVERRIDE_TESTS.format(mark=mark),
            "test_zz_leaks.py": LEAK_TESTS,
        },
    )


def _run_pytest(
    root: Path, *command: str, env: dict[str, str] | None = None
) -> tuple[dict[str, int], str]:
    """Run *command* in *root* as a user's shell would, with *env* added to its environment.

    Returns:
        The counts of pytest's summary line, with its exit status as ``"exit"``, and
        everything it printed.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        # Not this test run's own settings (PYTEST_ADDOPTS, the current test), nor a
        # developer's credentials.
        if not name.startswith(("PYTEST_", "PYTHONWARNINGS", "MOOR7_"))
    }
    environment.update(env or {})
    result = subprocess.run(  # noqa: S603 - this interpreter, on a project of our making
        [sys.executable, *command],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )
    output = f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    counts = {
        outcome: int(n)
        for n, outcome in re.findall(r"(\d+) (passed|failed|skipped|errors?|warnings?)", summary)
    }
    counts["exit"] = result.returncode
    return counts, output


linux_only = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="the leak check reads Linux's /proc"
)


class TestEntryPoint:
    def test_the_package_registers_the_plugin(self) -> None:
        plugins = importlib.metadata.entry_points(group="pytest11")
        assert [(p.name, p.value) for p in plugins if p.name == "moor7"] == [
            ("moor7", "moor7.pytest_plugin")
        ]


@linux_only
class TestUsersProject:
    """One gateway on its own thread serves sync and async tests; overrides are followed."""

    def test_with_pytest_asyncio_in_auto_mode(self, tmp_path: Path) -> None:
        _project(tmp_path, AUTO_INI, mark="")
        counts, output = _run_pytest(tmp_path, "-m", "pytest")
        assert counts == {"passed": 10, "exit": 0}, output

    def test_with_pytest_asyncio_in_strict_mode(self, tmp_path: Path) -> None:
        _project(tmp_path, STRICT_INI, mark="@pytest.mark.asyncio")
        counts, output = _run_pytest(tmp_path, "-m", "pytest")
        assert counts == {"passed": 10, "exit": 0}, output

    def test_with_autoloading_off_and_the_plugins_named(self, tmp_path: Path) -> None:
        """Named after moor7's, pytest-asyncio still has its asserts rewritten: no warning."""
        _project(tmp_path, STRICT_INI, mark="@pytest.mark.asyncio")
        command = ["-m", "pytest", "-p", "moor7.pytest_plugin", "-p", "pytest_asyncio.plugin"]
        counts, output = _run_pytest(
            tmp_path, *command, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        )
        assert counts == {"passed": 10, "exit": 0}, output

    def test_with_anyio_and_without_pytest_asyncio(self, tmp_path: Path) -> None:
        _project(tmp_path, PLAIN_INI, mark="@pytest.mark.anyio")
        _write(tmp_path, {"run_pytest.py": WITHOUT_PYTEST_ASYNCIO})
        counts, output = _run_pytest(tmp_path, "run_pytest.py")
        assert counts == {"passed": 10, "exit": 0}, output


@linux_only
class TestLoopScope:
    @pytest.mark.parametrize("fixture_loop_scope", ["module", "function"])
    def test_tests_on_a_module_loop(self, tmp_path: Path, fixture_loop_scope: str) -> None:
        """With fixtures on that loop too, the client works; on their own, it says so."""
        _write(
            tmp_path,
            {
                "pytest.ini": STRICT_INI,
                "test_module_loop.py": MODULE_LOOP_TESTS,
                "test_zz_leaks.py": LEAK_TESTS,
            },
        )
        option = f"asyncio_default_fixture_loop_scope={fixture_loop_scope}"
        counts, output = _run_pytest(tmp_path, "-m", "pytest", "-o", option)
        assert counts == {"passed": 2, "exit": 0}, output


class TestWithoutAnAsyncRunner:
    def test_sync_tests_pass_and_the_async_client_says_what_it_needs(self, tmp_path: Path) -> None:
        _write(
            tmp_path,
            {
                "pytest.ini": PLAIN_INI,
                "test_sync.py": SYNC_TESTS,
                "test_async_client.py": """\
                    def test_asks_for_the_async_client(moor7_async_client):
                        pass
                """,
                "run_pytest.py": WITHOUT_PYTEST_ASYNCIO,
            },
        )
        counts, output = _run_pytest(tmp_path, "run_pytest.py", "-p", "no:anyio")
        assert counts == {"passed": 4, "error": 1, "exit": 1}, output
        # pytest's own message; moor7 adds nothing to it.
        assert "requested an async fixture 'moor7_async_client'" in output


# A project that has moor7 installed and never uses its fixtures: the last test writes
# down every module the run imported.
UNRELATED_TESTS = """\
import json
import sys


def test_arithmetic():
    assert 1 + 1 == 2


def test_zz_modules():
    with open("modules.json", "w") as out:
        json.dump(sorted(sys.modules), out)
"""

# The same, and a test that asks for a fixture after the modules are written down.
USES_A_FIXTURE_LAST = """\
def test_zzz_the_client(moor7_client):
    assert len(moor7_client.get_number_pool().display_numbers) == 1
"""


class TestCostsNothingUnused:
    """pytest imports the plugin in every run wherever moor7 is installed: a run that
    uses none of its fixtures must not import aiohttp or moor7's client."""

    def _modules(self, root: Path, *options: str) -> set[str]:
        counts, output = _run_pytest(root, "-m", "pytest", "-p", "no:cacheprovider", *options)
        assert counts["exit"] == 0, output
        return set(json.loads((root / "modules.json").read_text(encoding="utf-8")))

    def test_a_run_without_its_fixtures_imports_only_the_plugin(self, tmp_path: Path) -> None:
        _write(tmp_path, {"pytest.ini": STRICT_INI, "test_plain.py": UNRELATED_TESTS})
        with_plugin = self._modules(tmp_path)
        without = self._modules(tmp_path, "-p", "no:moor7")
        assert "moor7.pytest_plugin" in with_plugin  # loaded, by its entry point
        assert with_plugin - without == {"moor7", "moor7.pytest_plugin"}
        assert not {name for name in with_plugin if name.partition(".")[0] == "aiohttp"}

    def test_a_fixture_loads_the_client_when_it_is_asked_for(self, tmp_path: Path) -> None:
        _write(
            tmp_path,
            {
                "pytest.ini": STRICT_INI,
                "test_plain.py": UNRELATED_TESTS,
                "test_zzz_fixture.py": USES_A_FIXTURE_LAST,
            },
        )
        counts, output = _run_pytest(tmp_path, "-m", "pytest", "-p", "no:cacheprovider")
        assert counts == {"passed": 3, "exit": 0}, output
        modules = set(json.loads((tmp_path / "modules.json").read_text(encoding="utf-8")))
        # Written down before the fixture ran: nothing of the client yet; the fixture,
        # asked for afterwards, loaded it and worked.
        assert "moor7._client" not in modules
        assert "aiohttp" not in modules
