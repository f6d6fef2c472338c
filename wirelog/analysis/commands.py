"""CLI commands of this feature, registered on the main app by :mod:`wirelog.cli`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this feature's commands to ``app`` (heavy imports inside each command)."""
