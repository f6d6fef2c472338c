"""The one table schema of decoded traffic. Not yet written."""

from __future__ import annotations

from typing import Any

from wirelog.errors import UsageError


def write_parquet(rows: list[dict[str, Any]], level: str, path: str) -> None:
    raise UsageError("Parquet export is not implemented yet")
