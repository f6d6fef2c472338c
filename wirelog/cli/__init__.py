"""The ``wirelog`` command: thin typer wrappers over the library calls.

:mod:`wirelog.cli.app` holds the typer app, exit codes and the one-line
error convention; each other module adds the commands of one feature by
decorating that app when it is imported. Nothing in the library imports this
package, so the core never depends on the command line.
"""

from __future__ import annotations

from wirelog.cli import analysis, conns, convert, core, export, replay, sql, suite
from wirelog.cli.app import app, main, one_line_summaries

one_line_summaries(app)  # every command module above has registered its commands

__all__ = [
    "analysis",
    "app",
    "conns",
    "convert",
    "core",
    "export",
    "main",
    "replay",
    "sql",
    "suite",
]
