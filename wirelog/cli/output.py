"""Where a command's output goes: ``-o`` files written whole or not at all,
and the format an ``-o`` name implies.

An interrupted run (Ctrl-C, a bad input, a full disk) must not leave a file
that poses as complete: output goes to a hidden temporary name in the same
folder (so the final rename cannot cross file systems) and is renamed over
the target only when the command has written everything.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO

from wirelog.cli.app import check_output, output_failed

EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "table",
    ".html": "html",
    ".htm": "html",
    ".png": "png",
    ".svg": "svg",
}


def pick_format(
    given: str | None, output: str | None, choices: tuple[str, ...], default: str
) -> str:
    """The format asked for with ``-f``; else the one ``-o``'s extension
    names (``-o frames.parquet``), if the command has it; else ``default``."""
    if given is not None:
        return given
    if output:
        ext = os.path.splitext(output)[1].lower()
        implied = EXTENSIONS.get(ext)
        if implied in choices:
            return implied
        if implied == "table" and "text" in choices:
            return "text"
    return default


@contextlib.contextmanager
def atomic_path(path: str, flag: str = "--output") -> Iterator[str]:
    """A temporary path beside ``path``; renamed to ``path`` when the block
    ends normally, removed when it raises (or is interrupted)."""
    check_output(path, flag)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise output_failed(flag, path, exc) from None
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a file -o wrote is not
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise output_failed(flag, path, exc) from None
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_text(path: str, flag: str = "--output") -> Iterator[IO[str]]:
    """:func:`atomic_path` opened for text (UTF-8, newlines as written)."""
    with atomic_path(path, flag) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        yield fh


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)
