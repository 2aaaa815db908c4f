"""The installed version, read from the package metadata that hatch-vcs wrote."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

__all__ = ["version"]

try:
    version: str = _distribution_version("moor7")
except PackageNotFoundError:  # pragma: no cover - running from a source tree never installed
    version = "0.0.0+unknown"
