"""The version, the distributions and the changelog tell the same story.

moor7's version is written once, as ``version`` in pyproject.toml; nothing reads git
(a clone without tags, an unpacked sdist and a wheel all report it). CHANGELOG.md says
what each version changed, by the rule of :func:`check_changelog` below.

The distributions are built here as CI's ``python -m build`` builds them, but without
build isolation (the backend, hatchling, is a test dependency), so that no test
downloads anything.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import moor7

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest's own dependency on 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
TIMEOUT = 180


def _run(command: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - this interpreter and git, on our own tree
        command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False, **kwargs
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


# -- the version -----------------------------------------------------------------------


class TestTheVersion:
    def test_is_written_once_in_pyproject_and_read_from_no_git_tag(self) -> None:
        assert "version" not in PYPROJECT["project"].get("dynamic", [])
        assert Version(VERSION).public == VERSION, "a release version, not a dev or local one"
        backend = " ".join(PYPROJECT["build-system"]["requires"])
        assert "vcs" not in backend, "nothing may take the version from git"
        assert "version" not in PYPROJECT.get("tool", {}).get("hatch", {})

    def test_moor7_reports_it(self) -> None:
        assert moor7.__version__ == VERSION

    def test_the_command_reports_it(self) -> None:
        result = _run([sys.executable, "-m", "moor7", "--version"], cwd=ROOT)
        assert result.stdout.strip() == f"moor7 {VERSION}"


@pytest.fixture(scope="module")
def clone_without_tags(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This tree as a git repository with one commit and no tag.

    Made from the working tree (tracked and new files, not ignored ones), not from
    HEAD, so that what is tested is what is about to be committed.
    """
    clone = tmp_path_factory.mktemp("clone") / "moor7"
    listed = _run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet staged is listed too
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    _run([*git, "init", "-q"], cwd=clone)
    _run([*git, "add", "-A"], cwd=clone)
    _run([*git, "commit", "-q", "--no-verify", "-m", "a clone without tags"], cwd=clone)
    assert _run(["git", "tag"], cwd=clone).stdout == ""
    return clone


def _installed_version(target: Path, cwd: Path) -> str:
    """``moor7.__version__`` of the moor7 installed in *target*, imported from there."""
    code = "import moor7, sys; print(moor7.__version__); print(moor7.__file__)"
    result = _run([sys.executable, "-c", code], cwd=cwd, env=_env(PYTHONPATH=str(target)))
    version, location = result.stdout.splitlines()
    assert Path(location).is_relative_to(target), location
    return version


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


def _pip_install(requirement: str, target: Path, cwd: Path) -> None:
    _run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"),
            *("--no-build-isolation", "--target", str(target), requirement),
        ],
        cwd=cwd,
    )


class TestDistributions:
    def test_the_sdist_and_the_wheel_built_from_it_carry_the_version(
        self, clone_without_tags: Path, tmp_path: Path
    ) -> None:
        dist = tmp_path / "dist"
        # As `python -m build` in CI: the sdist, then the wheel from the unpacked sdist.
        _run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), "."],
            cwd=clone_without_tags,
        )
        sdist = dist / f"moor7-{VERSION}.tar.gz"
        wheel = dist / f"moor7-{VERSION}-py3-none-any.whl"
        assert sorted(p.name for p in dist.iterdir()) == sorted([sdist.name, wheel.name])

        with tarfile.open(sdist) as archive:
            member = archive.extractfile(f"moor7-{VERSION}/PKG-INFO")
            assert member is not None
            pkg_info = member.read().decode()
        assert f"\nVersion: {VERSION}\n" in pkg_info
        with zipfile.ZipFile(wheel) as archive:
            metadata = archive.read(f"moor7-{VERSION}.dist-info/METADATA").decode()
            names = archive.namelist()
        assert f"\nVersion: {VERSION}\n" in metadata
        assert "moor7/py.typed" in names
        for extra in PYPROJECT["project"]["optional-dependencies"]:
            assert f"\nProvides-Extra: {extra}\n" in metadata

        target = tmp_path / "installed"
        _pip_install(str(wheel), target, cwd=tmp_path)
        assert _installed_version(target, cwd=tmp_path) == VERSION

    def test_a_git_requirement_installs_the_version(
        self, clone_without_tags: Path, tmp_path: Path
    ) -> None:
        """The form the docs give for depending on moor7 from one's own project."""
        target = tmp_path / "installed"
        # file://localhost/...: pip before 23.3 refuses a git+file:/// URL (no host).
        requirement = f"moor7[redis] @ git+file://localhost{clone_without_tags.as_posix()}"
        assert Requirement(requirement).extras == {"redis"}
        _pip_install(requirement, target, cwd=tmp_path)
        assert _installed_version(target, cwd=tmp_path) == VERSION


# -- the changelog ---------------------------------------------------------------------

_HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>.+))?$", re.MULTILINE)


def check_changelog(text: str, version: str) -> None:
    """The rule that keeps pyproject's version and CHANGELOG.md in step.

    The version headings (``## [...]``) read, newest first: an optional
    ``## [Unreleased]``, then released versions as ``## [X.Y.Z] - YYYY-MM-DD``, each
    older and dated no later than the one above it. pyproject's *version* is either

    - the newest released one: the release is cut (an ``[Unreleased]`` above it
      gathers what comes next); or
    - newer than every released one, while ``## [Unreleased]`` sits on top with
      what it will release: the release is being prepared.

    So a release is cut by renaming ``## [Unreleased]`` to ``## [<version>] - <date>``
    (and, if wanted, opening a new empty ``## [Unreleased]`` above it); the next one
    begins by raising pyproject's version.
    """
    headings = list(_HEADING.finditer(text))
    assert headings, "CHANGELOG.md has no version heading"
    unreleased = [h for h in headings if h["name"] == "Unreleased"]
    assert len(unreleased) <= 1, "one [Unreleased] section at most"
    if unreleased:
        assert unreleased[0] is headings[0], "[Unreleased] goes above every release"
        assert unreleased[0]["date"] is None, "[Unreleased] has no date"
    released = [h for h in headings if h["name"] != "Unreleased"]
    for heading in released:
        assert Version(heading["name"]).public == heading["name"], heading[0]
        assert heading["date"] is not None, f"{heading[0]}: a release needs its date"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", heading["date"]), heading[0]
        dt.date.fromisoformat(heading["date"])
    for newer, older in itertools.pairwise(released):
        assert Version(newer["name"]) > Version(older["name"]), (newer[0], older[0])
        assert newer["date"] >= older["date"], (newer[0], older[0])

    if released and Version(released[0]["name"]) == Version(version):
        return  # cut
    newest = Version(released[0]["name"]) if released else None
    assert newest is None or Version(version) > newest, (
        f"pyproject's version {version} is older than the newest release, {newest}"
    )
    assert unreleased, (
        f"pyproject says {version}, which CHANGELOG.md neither releases nor prepares: "
        "rename the [Unreleased] heading to the release, or add one"
    )
    body = text[unreleased[0].end() : released[0].start() if released else len(text)]
    assert re.search(r"^- ", body, re.MULTILINE), "[Unreleased] lists nothing to release"


class TestChangelog:
    def test_is_in_step_with_the_version(self) -> None:
        check_changelog((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), VERSION)

    @pytest.mark.parametrize(
        ("text", "version"),
        [
            ("## [Unreleased]\n\n- a\n", "0.2.0"),  # the first release, being prepared
            ("## [Unreleased]\n\n- b\n\n## [0.2.0] - 2025-01-31\n\n- a\n", "0.3.0"),
            ("## [0.2.0] - 2025-01-31\n\n- a\n", "0.2.0"),  # cut
            ("## [Unreleased]\n\n## [0.2.0] - 2025-01-31\n\n- a\n", "0.2.0"),
            ("## [0.3.0] - 2025-03-01\n\n- b\n\n## [0.2.0] - 2025-01-31\n\n- a\n", "0.3.0"),
        ],
    )
    def test_accepts(self, text: str, version: str) -> None:
        check_changelog(text, version)

    @pytest.mark.parametrize(
        ("text", "version", "complaint"),
        [
            # A release cut in the changelog but not in pyproject.
            ("## [0.3.0] - 2025-03-01\n\n- b\n", "0.2.0", "older than the newest"),
            # A version raised with nothing said about it.
            ("## [0.2.0] - 2025-01-31\n\n- a\n", "0.3.0", "neither releases nor prepares"),
            ("## [Unreleased]\n\n## [0.2.0] - 2025-01-31\n\n- a\n", "0.3.0", "lists nothing"),
            ("## [0.2.0]\n\n- a\n", "0.2.0", "needs its date"),
            ("## [0.2.0] - 31.01.2025\n\n- a\n", "0.2.0", "0.2.0"),
            ("## [0.2.0] - 2025-01-31\n\n## [Unreleased]\n\n- a\n", "0.3.0", "goes above"),
            ("## [0.1.0] - 2025-01-31\n\n## [0.2.0] - 2025-03-01\n", "0.2.0", "0.1.0"),
        ],
    )
    def test_refuses(self, text: str, version: str, complaint: str) -> None:
        with pytest.raises(AssertionError, match=re.escape(complaint)):
            check_changelog(text, version)


# -- the install commands of the docs ----------------------------------------------------

DOCS = sorted(
    [ROOT / "README.md", *(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts)]
)
EXTRAS = set(PYPROJECT["project"]["optional-dependencies"])
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]
_PIP_INSTALL = re.compile(r"pip install (?P<args>[^\n`#\"]+)")  # "": docker-compose's sh -c
_PATH_REQUIREMENT = re.compile(
    r"^(?P<path>\.|\.?/[^\[\s]*|dist/[^\[\s]+)(?:\[(?P<extras>[^\]]+)\])?$"
)


def _pip_installs() -> list[tuple[str, str]]:
    found = []
    for page in DOCS:
        text = page.read_text(encoding="utf-8")
        for match in _PIP_INSTALL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", match["args"].strip()))
    return found


PIP_INSTALLS = _pip_installs()


def _check_requirement(argument: str, where: str, *, from_an_index: bool) -> None:
    path = _PATH_REQUIREMENT.match(argument)
    if path is not None:
        extras = set(filter(None, (path["extras"] or "").split(",")))
        assert extras <= EXTRAS, f"{where}: no such extra: {extras - EXTRAS}"
        wheel = re.search(r"moor7-(?P<version>[^-]+)-py3-none-any\.whl$", path["path"])
        if path["path"].startswith("dist/"):
            assert wheel is not None, f"{where}: {argument}"
            assert wheel["version"] == VERSION, f"{where}: {argument}"
        return
    requirement = Requirement(argument)
    if requirement.name != "moor7":
        return  # another project's package (nox, build): from PyPI
    assert requirement.extras <= EXTRAS, f"{where}: no such extra in {argument}"
    if requirement.url is not None:
        assert requirement.url.startswith(f"git+{REPOSITORY}.git@"), f"{where}: {argument}"
    else:
        assert from_an_index, f"{where}: moor7 is not on PyPI, `pip install {argument}` fails"


class TestInstallCommands:
    """Every install command of the README and the docs works as written from a clone."""

    def test_there_are_some(self) -> None:
        places = {where.split(":")[0] for where, _ in PIP_INSTALLS}
        assert {"README.md", "docs/getting-started.md", "docs/zh/quickstart.md"} <= places

    @pytest.mark.parametrize(("where", "args"), PIP_INSTALLS, ids=[w for w, _ in PIP_INSTALLS])
    def test_installs_what_exists(self, where: str, args: str) -> None:
        words = shlex.split(args)
        for end, word in enumerate(words):
            if word in {"&&", "||", ";", "|"}:  # what follows is the next command
                words = words[:end]
                break
        from_an_index = any(w.startswith(("--index-url", "--extra-index-url")) for w in words)
        requirements = [w for w in words if not w.startswith("-")]
        assert requirements, f"{where}: pip install what?"
        for argument in requirements:
            _check_requirement(argument, where, from_an_index=from_an_index)

    def test_the_git_requirements_and_the_versions_named(self) -> None:
        seen = 0
        for page in DOCS:
            text = page.read_text(encoding="utf-8")
            where = str(page.relative_to(ROOT))
            for requirement in re.findall(r"^(moor7\S* @ git\+\S+)", text, re.MULTILINE):
                _check_requirement(requirement, where, from_an_index=False)
                seen += 1
            for version in re.findall(r"\bmoor7(?:\[[\w,]+\])?==([\w.]+)", text):
                assert version == VERSION, f"{where}: moor7=={version}"
            for version in re.findall(r"\bmoor7-(\d[\w.]*?)(?:\.tar\.gz|-py3)", text):
                assert version == VERSION, f"{where}: moor7-{version}"
        assert seen >= 3, "README, getting started and the 中文 page show the git requirement"

    @pytest.mark.parametrize(
        "argument", ["moor7", "'moor7[redis]'", ".[redix]", "dist/moor7-0.1.0-py3-none-any.whl"]
    )
    def test_refuses_what_fails_from_a_clone(self, argument: str) -> None:
        with pytest.raises(AssertionError):
            _check_requirement(shlex.split(argument)[0], "here", from_an_index=False)


def test_no_merge_conflict_markers_are_committed() -> None:
    """A merge resolved in one file and committed with markers left in another (it
    happened to CHANGELOG.md once): every tracked text file is checked."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607 - git from PATH, as CI has it
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if tracked.returncode != 0:
        pytest.skip("not a git checkout: nothing tracked to check")
    marker = re.compile(r"^(<{7}|>{7}) |^={7}$", re.MULTILINE)
    found = []
    for name in tracked.stdout.decode().split("\0"):
        path = ROOT / name
        if not name or not path.is_file() or path.suffix not in {".py", ".md", ".toml", ".txt"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{name}: {match.group(0)!r}" for match in marker.finditer(text)]
    assert found == []
