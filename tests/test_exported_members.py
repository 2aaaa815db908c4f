"""The public surface: what `import moor7` offers, and that it stays tidy."""

from __future__ import annotations

import importlib.metadata
import inspect

import moor7
import moor7.exceptions
import moor7.testing


class TestExports:
    def test_all_is_sorted(self) -> None:
        assert moor7.__all__ == sorted(moor7.__all__)

    def test_all_names_exist(self) -> None:
        for name in moor7.__all__:
            assert hasattr(moor7, name), name

    def test_every_public_name_is_in_all(self) -> None:
        """No public name is importable from moor7 without being listed in __all__."""
        public = {
            name
            for name, value in vars(moor7).items()
            if not name.startswith("_") and not inspect.ismodule(value)
        }
        assert public - {"annotations"} <= set(moor7.__all__)

    def test_every_exception_is_exported_from_the_package(self) -> None:
        assert set(moor7.exceptions.__all__) <= set(moor7.__all__)
        for name in moor7.exceptions.__all__:
            assert getattr(moor7, name) is getattr(moor7.exceptions, name)

    def test_testing_all_is_sorted_and_complete(self) -> None:
        assert moor7.testing.__all__ == sorted(moor7.testing.__all__)
        for name in moor7.testing.__all__:
            assert hasattr(moor7.testing, name), name

    def test_public_names_have_docstrings(self) -> None:
        for name in moor7.__all__:
            value = getattr(moor7, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                assert inspect.getdoc(value), name


class TestVersion:
    def test_version_comes_from_package_metadata(self) -> None:
        assert moor7.__version__ == importlib.metadata.version("moor7")

    def test_distribution_ships_py_typed(self) -> None:
        files = importlib.metadata.files("moor7") or []
        names = {f.name for f in files}
        # An editable install lists a .pth instead of the package's files.
        if any(name.endswith(".pth") for name in names) and "py.typed" not in names:
            from pathlib import Path

            assert (Path(moor7.__file__).parent / "py.typed").is_file()
        else:
            assert "py.typed" in names
