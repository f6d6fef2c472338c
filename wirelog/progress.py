"""Progress for long work: a rich bar on a terminal, silence otherwise.

Parsers report progress through :func:`progress` so that the library stays
quiet in notebooks, pipes and CI while a person at a terminal sees how far a
multi-gigabyte capture or a folder of reports has come.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Progress(Protocol):
    def advance(self, amount: int) -> None: ...


class _Silent:
    def advance(self, amount: int) -> None:
        pass


class _Bar:
    def __init__(self, bar: object, task: object) -> None:
        self._bar = bar
        self._task = task

    def advance(self, amount: int) -> None:
        self._bar.advance(self._task, amount)  # type: ignore[attr-defined]


def enabled() -> bool:
    """Only on an interactive stderr, and never when WIRELOG_PROGRESS=0."""
    if os.environ.get("WIRELOG_PROGRESS") == "0":
        return False
    return sys.stderr.isatty()


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Progress]:
    """A progress context; ``total`` in whatever unit ``advance`` counts."""
    if not enabled():
        yield _Silent()
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import (
        Progress as RichProgress,
    )

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    ]
    with RichProgress(*columns, transient=True, console=None) as bar:
        task = bar.add_task(description, total=total)
        yield _Bar(bar, task)
