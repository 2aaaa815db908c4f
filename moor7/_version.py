"""The installed version, read from the package metadata.

The version is written once, in pyproject.toml (``version``); the build writes it into
the metadata, whatever git tags the source tree has or lacks.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

__all__ = ["version"]

try:
    version: str = _distribution_version("moor7")
except PackageNotFoundError:  # pragma: no cover - running from a source tree never installed
    version = "0.0.0+unknown"
