"""Developer sessions: `nox` runs tests on every supported Python found, lint and typing."""

from __future__ import annotations

import os

import nox

PYPROJECT = nox.project.load_toml("pyproject.toml")
# The supported versions are the classifiers': one list to keep up to date.
PYTHONS = nox.project.python_versions(PYPROJECT)

nox.options.sessions = ["tests", "lint", "typing", "docs"]
nox.options.default_venv_backend = "venv"
# On a developer's machine, run what is installed: one rarely has all four Pythons. In
# CI (the CI variable set, as every CI service and .ci/run set it) a missing Python is
# an error: a skipped session would pass untested (`nox -s tests-3.13` exited 0).
nox.options.error_on_missing_interpreters = "CI" in os.environ


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite (warnings are errors, see pyproject.toml)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and format check."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; warnings are errors, every reference checked."""
    session.install("-e", ".[docs]")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Performance: moor7 against raw aiohttp and a pydantic-v2 SDK, as ratios
    (docs/performance.md).

    Not run by default; `nox -s bench -- --quick` for a smoke run, `-- --list` for what
    each row measures.
    """
    # The peers (pydantic) and pytest (the plugin's row), as docs/performance.md says.
    session.install("-e", ".[bench]")
    session.run("python", "-m", "bench.perf", *session.posargs)


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over the package and the typing examples of the public API, and
    pyright's type completeness of the public API (100%, as Pylance users see it)."""
    session.install("-e", ".[lint,test]")
    session.run("mypy")
    session.run("pyright", "--verifytypes", "moor7", "--ignoreexternal")
