"""`import moor7` loads nothing of the client until a name is asked for (PEP 562).

What a program pays is measured by ``python -m bench.perf --only 5`` (``import moor7``
then ``moor7.AsyncClient``); here, what each step loads, in fresh interpreters.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import moor7


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running *code*."""
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def _ours(modules: set[str]) -> set[str]:
    return {name for name in modules if name.partition(".")[0] in ("moor7", "aiohttp", "attr")}


class TestLazyPackage:
    def test_import_moor7_loads_only_the_package(self) -> None:
        assert _ours(_modules_after("import moor7")) == {"moor7"}

    def test_the_async_client_loads_what_it_needs_and_not_the_blocking_one(self) -> None:
        modules = _modules_after("import moor7; moor7.AsyncClient")
        assert {"moor7._client", "aiohttp"} <= modules
        assert "moor7._sync" not in modules
        assert "moor7._redis" not in modules

    def test_the_blocking_client(self) -> None:
        assert "moor7._sync" in _modules_after("import moor7; moor7.Client")

    def test_from_import_star_gets_every_name(self) -> None:
        namespace: dict[str, object] = {}
        exec("from moor7 import *", namespace)  # noqa: S102 - a fixed statement
        assert set(moor7.__all__) <= set(namespace)

    @pytest.mark.parametrize("name", sorted(set(moor7.__all__) - {"__version__"}))
    def test_each_name_is_the_object_its_module_defines(self, name: str) -> None:
        part = importlib.import_module(moor7._PARTS[name], "moor7")
        assert getattr(moor7, name) is getattr(part, name)
        assert name in vars(moor7)  # kept: asked for once
        assert name in dir(moor7)

    def test_every_public_name_has_a_part(self) -> None:
        assert set(moor7._PARTS) == set(moor7.__all__) - {"__version__"}

    def test_an_unknown_name_is_an_attribute_error(self) -> None:
        with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
            moor7.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
