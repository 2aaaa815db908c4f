"""The demo credentials of 7moor's documentation, and (by their old name) its example data.

The example data now lives with the fake gateway's API families (``moor7._gateway.numbers``
and the other family modules), public through :mod:`moor7.testing`; the names that used to
be defined here are still importable from this module.
"""

from __future__ import annotations

from typing import Any, Final

# SAMPLE_GROUPS and SAMPLE_NUMBER_POOL are served by __getattr__ below.
__all__ = ["DEMO_APPKEY", "DEMO_SECRET_KEY"]

DEMO_APPKEY: Final = "2000103"
"""The appKey of the docs' signing example (页面「新平台鉴权规则」)."""

DEMO_SECRET_KEY: Final = "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3"  # noqa: S105 - the docs' public example
"""The secretKey of the docs' signing example; the sandbox accepts it for :data:`DEMO_APPKEY`."""


def __getattr__(name: str) -> Any:
    # Imported when asked for, not at import time: the gateway package imports the
    # credentials above, so importing it from here eagerly would be circular.
    if name in ("SAMPLE_GROUPS", "SAMPLE_NUMBER_POOL"):
        from moor7._gateway import numbers

        return getattr(numbers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
