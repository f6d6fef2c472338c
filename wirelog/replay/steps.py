"""What a replay executes: writes, timers and the plan holding them (data only).

:func:`wirelog.replay.plan.build_plan` makes a :class:`Plan` from a
recording, :mod:`wirelog.replay.head` edits its HTTP head, and
:mod:`wirelog.replay.session` plays it. Every recorded chunk of the replayed
side is one :class:`Write`, sent and let out before the next (what Autobahn's
``sync`` flag asks for, spec §3.2, done for every chunk, so the flag is kept
but needs nothing more).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wirelog.model import Direction, MarkerKind, Role
from wirelog.replay.progress import Need

#: Autobahn's timers (spec §3.6) a replay arms, and the entry that says each
#: fired (CT → CTE, KL → KLE, TI → TIE).
FIRES: dict[MarkerKind, MarkerKind] = {
    MarkerKind.DELAY: MarkerKind.DELAY_FIRED,
    MarkerKind.KILL_AFTER: MarkerKind.KILL_FIRED,
    MarkerKind.CLOSE_AFTER: MarkerKind.CLOSE_FIRED,
}


@dataclass(frozen=True, slots=True)
class Write:
    """One TCP write: the octets of one recorded chunk."""

    index: int
    """The chunk's position in the recording."""
    data: bytes
    need: Need = field(default_factory=Need)
    delay: float = 0.0
    """Pause (already scaled) once ``need`` and ``gate`` are met."""
    gate: int | None = None
    """Index into :attr:`Plan.timers` of the timer that must fire first."""
    sync: bool = False
    rebuilt: bool = False
    synthesized: int = 0
    head: bool = False
    """This write carries (part of) the HTTP head."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "length": len(self.data),
            "delay": self.delay,
            "sync": self.sync,
            "rebuilt": self.rebuilt,
            "synthesized": self.synthesized,
        }


@dataclass(frozen=True, slots=True)
class Timer:
    """An Autobahn timer (CT/KL/TI) armed after ``after`` writes."""

    kind: MarkerKind
    after: int
    delay: float
    fired: bool
    """It fired in the recording (a CTE/KLE/TIE entry follows)."""
    tag: str | None = None

    @property
    def fired_kind(self) -> MarkerKind:
        """The marker that says this timer fired."""
        return FIRES[self.kind]


@dataclass(frozen=True, slots=True)
class Plan:
    source: str
    conn: int
    role: Role
    """The side being replayed."""
    direction: Direction
    """Direction of that side's chunks in the recording."""
    writes: tuple[Write, ...]
    timers: tuple[Timer, ...] = ()
    final: Need = field(default_factory=Need)
    """Everything the peer sent in the recording."""
    end_delay: float = 0.0
    """Pause between the last event of the recording and our own drop."""
    dropped_by: Role | None = None
    """Who dropped TCP first in the recording, if known."""
    reset: bool = False
    """The recording ended with a reset by ``dropped_by``."""
    handshake: bool = True
    request_key: str | None = None
    notes: tuple[str, ...] = ()
    """What the replay will not reproduce (said in the verdict)."""

    @property
    def octets(self) -> int:
        return sum(len(w.data) for w in self.writes)

    @property
    def synthesized(self) -> list[tuple[int, int]]:
        return [(w.index, w.synthesized) for w in self.writes if w.synthesized]
