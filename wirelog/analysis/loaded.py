"""``wirelog.load``: decoded traffic as DataFrames. Not yet written."""

from __future__ import annotations

from typing import Any

from wirelog.errors import UsageError


class Capture:
    """Placeholder for the analysis entry point."""


def load(paths: Any, **options: Any) -> Capture:
    raise UsageError("wirelog.load is not implemented yet")
