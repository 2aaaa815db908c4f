"""Write ``moor7/_sync_methods.py``: the blocking twin of every AsyncClient endpoint method.

The sync ``Client`` has no logic per method: each method here forwards its arguments
to the ``AsyncClient`` method of the same name on the background loop, with the same
signature and docstring (``await`` dropped). Generated, not hand-written, so the two
cannot drift; ``tests/test_sync.py`` fails when the file is out of date.

    python scripts/generate_sync.py          # rewrite the file
    python scripts/generate_sync.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import ast
import enum
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "moor7" / "_sync_methods.py"

HEADER = '''\
"""The blocking twin of every ``AsyncClient`` endpoint method. GENERATED: do not edit.

Written by ``python scripts/generate_sync.py`` from the async methods' signatures and
docstrings; ``tests/test_sync.py`` checks that it is up to date.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, overload

{runtime_imports}

if TYPE_CHECKING:
{typing_imports}

__all__ = ["SyncEndpoints"]

T = TypeVar("T")
R = TypeVar("R")


class SyncEndpoints:
    """Every endpoint method of ``AsyncClient``, blocking."""

    def _run(self, call: Callable[[AsyncClient], Coroutine[Any, Any, T]]) -> T:
        raise NotImplementedError  # pragma: no cover - Client implements it

    def _iterate(self, make: Callable[[AsyncClient], AsyncIterator[T]]) -> Iterator[T]:
        raise NotImplementedError  # pragma: no cover - Client implements it
'''


def endpoint_methods() -> Iterator[tuple[str, Callable[..., Any]]]:
    """The public methods the sync Client mirrors: every family's, and request()."""
    from moor7._client import AsyncClient
    from moor7._endpoints import AsyncEndpoints

    names = [
        name
        for cls in AsyncEndpoints.__mro__
        if cls.__module__.startswith("moor7._endpoints.") and cls.__name__.endswith("Methods")
        for name in cls.__dict__
        if not name.startswith("_")
    ]
    for name in [*dict.fromkeys(names), "request"]:
        yield name, getattr(AsyncClient, name)


def _default(value: Any) -> str:
    from moor7._endpoints import USE_CLIENT_DEFAULT

    if value is USE_CLIENT_DEFAULT:
        return "USE_CLIENT_DEFAULT"
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    return repr(value)


def _sync_doc(doc: str) -> str:
    doc = doc.replace("await client.", "client.").replace("async for ", "for ")
    return doc.replace("An async iterator", "An iterator")


def _overload_nodes(function: Callable[..., Any]) -> list[ast.AsyncFunctionDef]:
    """The ``@overload`` definitions of *function* in its source (``typing.get_overloads``
    is Python 3.11+, and the check runs on 3.10 too)."""
    source_file = inspect.getsourcefile(function)
    assert source_file is not None
    tree = ast.parse(Path(source_file).read_text(encoding="utf-8"))
    owner, name = function.__qualname__.split(".")
    (cls,) = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == owner]
    return [
        node
        for node in cls.body
        if isinstance(node, ast.AsyncFunctionDef)
        and node.name == name
        and any(isinstance(d, ast.Name) and d.id == "overload" for d in node.decorator_list)
    ]


def overloads(function: Callable[..., Any]) -> list[str]:
    """The ``@overload`` signatures of *function*, as its sync twin's."""
    rendered = []
    for node in _overload_nodes(function):
        assert node.returns is not None
        signature = f"{node.name}({ast.unparse(node.args)}) -> {ast.unparse(node.returns)}"
        rendered.append(f"@overload\ndef {signature}: ...")
    return rendered


def _overload_annotations(function: Callable[..., Any]) -> list[str]:
    annotations = []
    for node in _overload_nodes(function):
        arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        annotations += [ast.unparse(a.annotation) for a in arguments if a.annotation]
        annotations += [ast.unparse(node.returns)] if node.returns else []
    return annotations


def render_method(name: str, function: Callable[..., Any]) -> str:
    signature = inspect.signature(function)
    params: list[str] = []
    call: list[str] = []
    star_done = False
    for parameter in signature.parameters.values():
        if parameter.name == "self":
            params.append("self")
            continue
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not star_done:
            params.append("*")
            star_done = True
        text = f"{parameter.name}: {parameter.annotation}"
        if parameter.default is not inspect.Parameter.empty:
            text += f" = {_default(parameter.default)}"
        params.append(text)
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            call.append(f"{parameter.name}={parameter.name}")
        else:
            call.append(parameter.name)
    returns = str(signature.return_annotation)
    iterator = returns.startswith("AsyncIterator[")
    if iterator:
        returns = "Iterator[" + returns.removeprefix("AsyncIterator[")
    doc = _sync_doc(inspect.getdoc(function) or "")
    forward = "self._iterate" if iterator else "self._run"
    arguments = ", ".join(call)
    body = f"return {forward}(lambda c: c.{name}({arguments}))"
    lines = [
        *overloads(function),
        f"def {name}(",
        *(f"    {param}," for param in params),
        f") -> {returns}:",
        textwrap.indent(f'"""{doc}\n"""', "    "),
        f"    {body}",
    ]
    return textwrap.indent("\n".join(lines), "    ")


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The values of a Literal["query", "action"] are no names to import.
_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")
_BUILTINS = {"str", "int", "float", "bool", "None", "Any", "self", "type", "R"}
_FROM = {
    "Iterable": "collections.abc",
    "Mapping": "collections.abc",
    "Sequence": "collections.abc",
    "datetime": "datetime",
    "Literal": "typing",
}


def _names(annotation: object) -> list[str]:
    return _NAME.findall(_STRING.sub("", str(annotation)))


def render() -> str:
    methods = [render_method(name, function) for name, function in endpoint_methods()]
    annotation_names: set[str] = set()
    runtime_names: set[str] = set()
    for _, function in endpoint_methods():
        for parameter in inspect.signature(function).parameters.values():
            if parameter.name == "self":
                continue
            annotation_names.update(_names(parameter.annotation))
            if parameter.default is not inspect.Parameter.empty:
                runtime_names.update(_NAME.findall(_default(parameter.default)))
        annotation_names.update(_names(inspect.signature(function).return_annotation))
        for annotation in _overload_annotations(function):
            annotation_names.update(_names(annotation))
    runtime_names -= _BUILTINS
    runtime_names -= {"AsyncIterator", "Iterator"}
    enum_members = {name for name in runtime_names if name.isupper()}
    runtime_classes = sorted(runtime_names - enum_members - {"USE_CLIENT_DEFAULT"})
    # The enums whose members are defaults are needed at run time, not only when
    # type checking.
    runtime = ["from ._endpoints import USE_CLIENT_DEFAULT"]
    if runtime_classes:
        runtime.append(f"from ._models import {', '.join(runtime_classes)}")
    typing_names = annotation_names - _BUILTINS - runtime_names - {"AsyncIterator", "Iterator"}
    typing_lines = []
    by_module: dict[str, list[str]] = {}
    for name in sorted(typing_names | {"AsyncClient"}):
        by_module.setdefault(_FROM.get(name, "moor7"), []).append(name)
    for module in sorted(by_module):
        typing_lines.append(f"    from {module} import {', '.join(by_module[module])}")
    header = HEADER.format(
        runtime_imports="\n".join(runtime), typing_imports="\n".join(typing_lines)
    )
    return header + "\n" + "\n\n".join(methods) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    text = _formatted(render())
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run scripts/generate_sync.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


def _formatted(text: str) -> str:
    # ruff's import order and formatting, so the generated file passes CI's checks.
    import subprocess

    for command in (["check", "--fix", "--select", "I", "--quiet"], ["format"]):
        result = subprocess.run(  # noqa: S603 - this interpreter's ruff, on our own text
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", str(TARGET), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        )
        text = result.stdout
    return text


if __name__ == "__main__":
    raise SystemExit(main())
