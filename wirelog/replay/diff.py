"""Compare two recordings: :func:`diff_recordings` is what ``wirelog diff A B``
calls, :func:`pick` chooses the connection of a recording both diff and
replay work on. :func:`wirelog.replay.render.render` prints the verdict.
"""

from __future__ import annotations

from wirelog.errors import UsageError
from wirelog.model import Recording
from wirelog.pipeline import decode_recording
from wirelog.protocol.connection import DecodedConnection
from wirelog.replay.verdict import Verdict, compare


def pick(decoded: list[DecodedConnection], conn: int | None, source: str) -> DecodedConnection:
    """The connection numbered ``conn``; without a number the input must hold
    exactly one WebSocket connection (the first with a handshake wins if
    several connections exist but only one upgraded)."""
    if not decoded:
        raise UsageError(f"{source}: no connections")
    if conn is not None:
        for dc in decoded:
            if dc.conn == conn:
                return dc
        have = ", ".join(str(dc.conn) for dc in decoded[:20])
        raise UsageError(f"{source}: no connection {conn} (have {have})")
    if len(decoded) == 1:
        return decoded[0]
    upgraded = [dc for dc in decoded if dc.handshake is not None and dc.handshake.upgraded]
    if len(upgraded) == 1:
        return upgraded[0]
    have = ", ".join(str(dc.conn) for dc in decoded[:20])
    raise UsageError(f"{source}: {len(decoded)} connections ({have}); pick one with --conn")


def diff_recordings(
    a: Recording,
    b: Recording,
    *,
    conn_a: int | None = None,
    conn_b: int | None = None,
) -> Verdict:
    da = pick(decode_recording(a), conn_a, a.source)
    db = pick(decode_recording(b), conn_b, b.source)
    return compare(da, db)
