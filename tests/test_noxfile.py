"""The noxfile: a Python that is missing skips its session on a developer's machine and
fails it in CI, where a skipped session would pass untested."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nox.project
import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
# A version the noxfile runs the tests on (from the classifiers) other than this
# interpreter's: nox would use this very interpreter for its own version.
MISSING = next(
    version
    for version in nox.project.python_versions(nox.project.load_toml(ROOT / "pyproject.toml"))
    if version != f"{sys.version_info.major}.{sys.version_info.minor}"
)


def _nox_without_pythons(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`nox -s tests-<MISSING>` where no Python but this one can be found: an empty
    PATH and a home of its own (no pyenv), and no download of one."""
    (tmp_path / "bin").mkdir()
    environment = {
        "PATH": str(tmp_path / "bin"),
        "HOME": str(tmp_path),
        "NOX_DOWNLOAD_PYTHON": "never",
        **env,
    }
    command = [sys.executable, "-m", "nox", "--noxfile", str(ROOT / "noxfile.py")]
    command += ["--envdir", str(tmp_path / "nox"), "--session", f"tests-{MISSING}"]
    return subprocess.run(  # noqa: S603 - this interpreter's nox, on our noxfile
        command,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize("ci", ["true", "1", ""])
def test_a_missing_python_fails_the_session_in_ci(tmp_path: Path, ci: str) -> None:
    # Set at all counts, as for nox's own default ("CI" in os.environ).
    result = _nox_without_pythons(tmp_path, CI=ci)
    assert result.returncode == 1, result.stderr
    assert f"Python interpreter {MISSING} not found" in result.stderr
    assert f"Session tests-{MISSING} failed" in result.stderr


def test_a_missing_python_skips_the_session_elsewhere(tmp_path: Path) -> None:
    result = _nox_without_pythons(tmp_path)  # no CI in its environment
    assert result.returncode == 0, result.stderr
    assert f"Session tests-{MISSING} skipped" in result.stderr
