"""Exceptions wirelog raises, and why there are so few.

Bad *wire data* never raises: a peer that breaks RFC 6455 is what an
analyzer is for, so it becomes a :class:`~wirelog.model.Violation`. Exceptions
are for inputs wirelog cannot read at all, targets it cannot talk to, and
API misuse::

    WirelogError                  base; ``str(e)`` is one line fit for stderr
    ├── InputError                a file or folder that cannot be read as claimed
    │   │                         (.source = path, .location = where: "line 12",
    │   │                          "entry 7", "packet 1043", "byte 4096")
    │   ├── UnknownFormatError    not any input kind wirelog knows
    │   └── TruncatedInputError   ends early; what came before is still usable
    ├── ReplayError               the replay could not be carried out
    │   ├── TargetError           refused, reset, stalled, not a WebSocket server
    │   │                         (.peer = "host:port")
    │   └── PlanError             the recording cannot be replayed faithfully
    └── UsageError                the caller asked for something impossible

A partial result travels with the error where one exists (``.partial``), so
that nothing already decoded is lost. Where the library keeps going with a
partial result (``wirelog.load`` on a cut capture), it warns with
:class:`PartialInputWarning` instead.
"""

from __future__ import annotations

from typing import Any


class WirelogError(Exception):
    """Base class. The message is a single line meant for a human."""


class InputError(WirelogError):
    def __init__(
        self, source: str, message: str, location: str | None = None, partial: Any = None
    ) -> None:
        self.source = source
        self.location = location
        self.message = message
        self.partial = partial
        where = f"{source}: {location}: " if location else f"{source}: "
        super().__init__(where + message)


class UnknownFormatError(InputError):
    pass


class TruncatedInputError(InputError):
    pass


class ReplayError(WirelogError):
    pass


class TargetError(ReplayError):
    def __init__(self, peer: str, message: str) -> None:
        self.peer = peer
        super().__init__(f"{peer}: {message}")


class PlanError(ReplayError):
    pass


class UsageError(WirelogError):
    pass


class PartialInputWarning(UserWarning):
    """An input failed part-way; what came before the failure was kept."""
