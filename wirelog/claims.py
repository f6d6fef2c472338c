"""Cross-checking frames decoded from octets against frames a log claims.

Placeholder until the Autobahn parsers land: decoded frames are kept as
they are and claims are not used.
"""

from __future__ import annotations

from wirelog.model import ClaimedFrame, Connection, Direction, Frame, Violation


def reconcile(
    conn: Connection,
    direction: Direction,
    frames: list[Frame],
    claims: list[ClaimedFrame],
    lost: bool,
) -> tuple[list[Frame], list[Violation]]:
    return frames, []
