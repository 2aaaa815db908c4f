"""The documentation site builds as CI builds it, and its reference misses no public name.

The build is the one of ``nox -s docs``: Sphinx with warnings as errors (``-W``) and every
cross-reference checked (``-n``), so a broken link, a docstring Napoleon cannot read or a
page left out of the table of contents fails here. Sphinx, MyST and furo are in the
``test`` extra: this test always runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import moor7
import moor7.exceptions
import moor7.testing

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 240


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the HTML site once, from scratch, into a temporary directory."""
    out = tmp_path_factory.mktemp("docs")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q"]
    command += ["-b", "html", "-d", str(out / "doctrees"), str(ROOT / "docs"), str(out / "html")]
    result = subprocess.run(  # noqa: S603 - this interpreter's Sphinx, on our own docs
        command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout}\n{result.stderr}"
    return out / "html"


def _anchors(page: Path) -> set[str]:
    return set(re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', page.read_text()))


class TestDocsBuild:
    def test_builds_without_a_warning(self, site: Path) -> None:
        for page in ("index", "getting-started", "zh/quickstart", "quota", "changelog"):
            assert (site / f"{page}.html").is_file(), page

    def test_every_public_name_of_moor7_is_in_the_reference(self, site: Path) -> None:
        # The reference page, and the pages of the API's families (calls and models).
        pages = [site / "reference" / "api.html", *sorted((site / "api").glob("*.html"))]
        documented = set().union(*(_anchors(page) for page in pages))
        # The exceptions are documented once, under moor7.exceptions.
        expected = set(moor7.__all__) - set(moor7.exceptions.__all__) - {"__version__"}
        missing = {name for name in expected if f"moor7.{name}" not in documented}
        assert not missing

    def test_every_exception_is_in_the_reference(self, site: Path) -> None:
        documented = _anchors(site / "reference" / "exceptions.html")
        missing = {
            name
            for name in moor7.exceptions.__all__
            if f"moor7.exceptions.{name}" not in documented
        }
        assert not missing

    def test_every_name_of_moor7_testing_is_in_the_reference(self, site: Path) -> None:
        documented = _anchors(site / "reference" / "testing.html")
        missing = {
            name for name in moor7.testing.__all__ if f"moor7.testing.{name}" not in documented
        }
        assert not missing

    def test_the_exception_hierarchy_is_drawn(self, site: Path) -> None:
        page = (site / "reference" / "exceptions.html").read_text()
        assert "├── APIError" in page
        assert "│   ├── AuthenticationError" in page

    def test_the_changelog_is_included(self, site: Path) -> None:
        # Its newest heading: [Unreleased] while a release is prepared, the release's
        # own once it is cut (tests/test_packaging.py has the rule).
        changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
        newest = re.search(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)
        assert newest is not None
        page = (site / "changelog.html").read_text()
        assert newest[1] in page

    def test_every_page_says_its_language(self, site: Path) -> None:
        """The Chinese pages are marked lang="zh" (screen readers, fonts, translation
        offers); the rest are English."""
        pages = sorted(site.rglob("*.html"))
        assert pages
        for page in pages:
            match = re.search(r"<html[^>]* lang=\"([^\"]+)\"", page.read_text(encoding="utf-8"))
            assert match is not None, page
            relative = page.relative_to(site).as_posix()
            assert match[1] == ("zh" if relative.startswith("zh/") else "en"), relative

    def test_code_blocks_get_a_copy_button(self, site: Path) -> None:
        page = (site / "getting-started.html").read_text(encoding="utf-8")
        assert re.search(r'<script src="_static/copybutton\.js[^"]*"></script>', page)
        assert (site / "_static" / "copybutton.js").is_file()
        # The console blocks copy without their "$ " prompts (docs/conf.py).
        options = (site / "_static" / "copybutton.js").read_text(encoding="utf-8")
        assert "formatCopyText(text, '\\\\$ ', true, true, true, true, '\\\\'" in options

    def test_tables_keep_to_the_text_column(self, site: Path) -> None:
        """moor7.css is linked, with the rules that let a table's inline code break and
        a table that still does not fit scroll visibly (the screenshots in the report of
        issue 18 show the result)."""
        page = (site / "reference" / "testing.html").read_text(encoding="utf-8")
        assert 'href="../_static/moor7.css' in page
        assert 'class="table-wrapper' in page
        css = (site / "_static" / "moor7.css").read_text(encoding="utf-8")
        assert re.search(r"table\.docutils td code\.literal,[^{]*\{\s*overflow-wrap: anywhere", css)
        assert re.search(r"\.table-wrapper \{[^}]*box-sizing: border-box", css)
