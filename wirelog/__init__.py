"""wirelog: decode, measure, draw and replay WebSocket traffic.

The public API, shared by the CLI and notebooks:

* :func:`load` (``wirelog.load(path)``) for DataFrames and plots, and
  :func:`load_many` for the same tables as Dask DataFrames,
* :func:`read`, :func:`decode` and :func:`stream` in :mod:`wirelog.pipeline`
  (the one path every input takes; its docstring gives the order of events),
  with the typed :class:`Options` and the input's :class:`Summary`,
* the model types in :mod:`wirelog.model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wirelog.model import (
    Chunk,
    ClaimedFrame,
    CloseCode,
    Connection,
    Direction,
    Frame,
    Handshake,
    Marker,
    MarkerKind,
    Message,
    Opcode,
    Recording,
    Role,
    Violation,
    ViolationKind,
)
from wirelog.pipeline import Options, Summary, decode, detect, read, stream

__version__ = "0.1.0"
"""The package's version, read by pyproject.toml (one place) and ``--version``."""

if TYPE_CHECKING:
    from wirelog.analysis.loaded import Capture
    from wirelog.analysis.many import Many

__all__ = [
    "Chunk",
    "ClaimedFrame",
    "CloseCode",
    "Connection",
    "Direction",
    "Frame",
    "Handshake",
    "Marker",
    "MarkerKind",
    "Message",
    "Opcode",
    "Options",
    "Recording",
    "Role",
    "Summary",
    "Violation",
    "ViolationKind",
    "decode",
    "detect",
    "load",
    "load_many",
    "read",
    "stream",
]


def load(paths: Any, **options: Any) -> Capture:
    """Load one input or several for analysis (DataFrames, statistics, plots).

    pandas is imported here, not at ``import wirelog``, so the CLI stays fast.
    """
    from wirelog.analysis.loaded import load as _load

    return _load(paths, **options)


def load_many(paths: Any, client: Any = None, **options: Any) -> Many:
    """The tables of many inputs as lazy Dask DataFrames (see
    :mod:`wirelog.analysis.many`); Dask is imported here, not at ``import wirelog``."""
    from wirelog.analysis.many import load_many as _load_many

    return _load_many(paths, client, **options)
