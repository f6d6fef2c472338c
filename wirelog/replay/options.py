"""The settings of a replay, shared by the library calls and the CLI.

Kept apart from the asyncio modules so that the command line can show the
defaults without importing them (``wirelog --help`` stays instant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wirelog.replay.chop import Chop

DEFAULT_TIMEOUT = 3.0
"""Seconds a replay waits for the peer's answers (all waits for answers
share it), and again for its close."""
DEFAULT_ACCEPT_TIMEOUT = 60.0
"""Seconds a server replay (``--listen``) waits for its client to connect."""


@dataclass(frozen=True, slots=True)
class Options:
    speed: float = 1.0
    asap: bool = False
    fill: bool = False
    timeout: float = DEFAULT_TIMEOUT
    accept_timeout: float = DEFAULT_ACCEPT_TIMEOUT
    insecure: bool = False
    keep_host: bool = False
    new_key: bool = False
    conn: int | None = None
    chop: Chop | None = None
    """Re-cut the writes after the HTTP head (``--chop``, :mod:`~wirelog.replay.chop`)."""
