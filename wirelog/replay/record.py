"""Write a replay's own wire log as an Autobahn case report (JSON).

The report has Autobahn's keys and entry shapes (spec §1.2-§1.4): TO/RO for
every write and read, TF before the TO that carries a frame's header, RF
after the RO that completes a frame, the CT/KL/TI timers and their firing,
the closing flags and the chop/opcode statistics. It is written the way
Autobahn writes it (``sort_keys``, ``indent=3``), so ``wirelog`` reads it
like any other report and can decode, report and replay it again.

The entries and the file are written by :mod:`wirelog.sources.autobahn.write`
(the format's one writer). One deliberate difference: TO/RO hex is never
cut at 64 octets. A reader following the spec's recovery rule ("complete
iff the decoded length equals ``len``") gets every octet back, so a replay
of a replay needs no ``--fill``. Frame payloads (TF/RF) are logged exactly
as Autobahn's ``asciiLogData`` does (``ed a0 80`` as ``"\\ud800"``).
Per-entry times, which Autobahn has no field for, are kept in an extra
top-level key ``wirelogTimes`` that Autobahn's own readers ignore.

The closing keys (who closed, who dropped TCP, clean and why not, codes and
reasons) are :meth:`wirelog.summary.closing.Closing.derived`, the rules every
report and verdict use, checked against Autobahn's own on the shared reports.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter
from typing import Any

from wirelog.model import Chunk, ClaimedFrame, Connection, Direction, Frame, Role
from wirelog.protocol.connection import DecodedConnection, decode_connection, iter_items
from wirelog.replay.quiet import Quiet, quieted
from wirelog.replay.verdict import events_of

# Re-exported: callers of the replay writer used its encoders from here.
from wirelog.sources.autobahn.entries import TAG_OF
from wirelog.sources.autobahn.write import LogItem, wirelog_entries, write_report
from wirelog.summary import closing_of


def _ends(conn: Connection) -> dict[tuple[Direction, int], int]:
    """Stream end offset of each chunk, per direction."""
    out: dict[tuple[Direction, int], int] = {}
    pos = {Direction.TX: 0, Direction.RX: 0}
    for c in conn.chunks:
        pos[c.direction] += c.length
        out[(c.direction, c.index)] = pos[c.direction]
    return out


def to_autobahn(
    conn: Connection,
    *,
    agent: str = "replay",
    case_id: str = "replay",
    decoded: DecodedConnection | None = None,
    quiet: Quiet | None = None,
) -> dict[str, Any]:
    """``conn`` as Autobahn's case JSON; ``decoded``: ``conn`` decoded
    already (a suite case judged first), not decoded again; ``quiet``: the
    case switches its log off for the data phase (:mod:`.quiet`)."""
    dc = decoded if decoded is not None else decode_connection(conn)
    ends = _ends(conn)
    me = conn.recorder
    # TF before the chunk holding the header; RF after the chunk completing it.
    tf: dict[int, list[Frame]] = {}
    rf: dict[int, list[Frame]] = {}
    rx_chunks = [c for c in conn.chunks if c.direction is Direction.RX]
    # The chunk completing a frame: the first whose end reaches the frame's
    # (ends grow with the stream: a binary search, not a scan per frame).
    rx_ends = [ends[(Direction.RX, c.index)] for c in rx_chunks]
    for f in dc.frames:
        if f.direction is Direction.TX and f.chunk is not None:
            tf.setdefault(f.chunk, []).append(f)
        elif f.direction is Direction.RX and f.offset is not None:
            at = bisect_left(rx_ends, f.offset + f.header_length + f.length)
            if at < len(rx_chunks):
                rf.setdefault(rx_chunks[at].index, []).append(f)
    items: list[LogItem] = []
    times: list[float | None] = []
    for it in iter_items(conn):
        if isinstance(it, Chunk):
            if it.direction is Direction.TX:
                for f in tf.get(it.index, []):
                    items.append(_claim(f, len(items), it.sync))
                    times.append(it.ts)
                items.append(it)
                times.append(it.ts)
            else:
                items.append(it)
                times.append(it.ts)
                for f in rf.get(it.index, []):
                    items.append(_claim(f, len(items), False))
                    times.append(it.ts)
        elif it.kind in TAG_OF:
            items.append(it)
            times.append(it.ts)
    start = conn.start_ts or (conn.chunks[0].ts if conn.chunks and conn.chunks[0].ts else 0.0)
    last = max((t for t in times if t is not None), default=start)
    hs = dc.handshake
    enabled = True
    if quiet is not None:
        logged = quieted(
            items,
            times,
            recorder=me,
            response_length=len(hs.response) if hs and hs.upgraded and hs.response else None,
            deflate=hs is not None and hs.deflate is not None,
            quiet=quiet,
        )
        items, times, enabled = logged.items, logged.times, logged.enabled
    # Octets are never cut: a replay of this replay needs no --fill.
    log = wirelog_entries(items, cut=False)
    # Autobahn's closing keys as every report derives them (codes, reasons,
    # clean, who dropped TCP, the reason it was not clean): the one place.
    closing = closing_of(dc).derived()

    def stats(d: Direction, frames: bool) -> dict[str, int]:
        if frames:
            counts = Counter(f.opcode for f in dc.frames if f.direction is d)
        else:
            counts = Counter(c.length for c in conn.chunks if c.direction is d)
        return {str(k): v for k, v in sorted(counts.items())}

    return {
        "agent": agent,
        "behavior": "INFORMATIONAL",
        "behaviorClose": "INFORMATIONAL",
        "case": 0,
        "closedByMe": closing["closedByMe"],
        "createStats": True,
        "createWirelog": enabled,
        "description": f"wirelog replay of {conn.meta.get('replayOf', conn.source)}",
        # a replay that saw no TCP end (the session timed out) drops nothing
        "droppedByMe": closing.get("droppedByMe", False),
        "duration": round((last - start) * 1000),
        "expectation": "The peer behaves as in the recording.",
        "expected": {},
        "expectedClose": {},
        "failedByMe": False,
        "httpRequest": _head(hs.request if hs else None),
        "httpResponse": _head(hs.response if hs else None),
        "id": case_id,
        "isServer": me is Role.SERVER,
        "localCloseCode": closing["localCloseCode"],
        "localCloseReason": closing["localCloseReason"],
        "received": [list(e) for e in events_of(dc, me)],
        "remoteCloseCode": closing["remoteCloseCode"],
        "remoteCloseReason": closing["remoteCloseReason"],
        "reportCompressionRatio": False,
        "reportTime": False,
        "result": "Replayed by wirelog.",
        "resultClose": "Replayed by wirelog.",
        "rxFrameStats": stats(Direction.RX, True),
        "rxOctetStats": stats(Direction.RX, False),
        "started": _iso(start),
        "trafficStats": None,
        "txFrameStats": stats(Direction.TX, True),
        "txOctetStats": stats(Direction.TX, False),
        "wasClean": closing.get("wasClean", False),
        "wasCloseHandshakeTimeout": bool(conn.meta.get("closeHandshakeTimeout", False)),
        "wasNotCleanReason": closing.get("wasNotCleanReason"),
        "wasOpenHandshakeTimeout": False,
        "wasServerConnectionDropTimeout": bool(conn.meta.get("neverClosed", False)),
        "wirelog": log,
        "wirelogTimes": times,
    }


def _claim(f: Frame, index: int, sync: bool) -> ClaimedFrame:
    """A decoded frame as the log claims it: the payload it carried."""
    return ClaimedFrame(
        direction=f.direction,
        index=index,
        opcode=f.opcode,
        fin=f.fin,
        rsv=f.rsv,
        masked=f.masked,
        mask=f.mask,
        length=f.length,
        payload=f.payload,
        logged_len=len(f.payload),
        sync=sync,
    )


def _head(head: bytes | None) -> str:
    return head.decode("latin-1") if head is not None else "?"


def _iso(ts: float) -> str:
    ms = round((ts % 1) * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{ms:03d}Z"


def write_autobahn_json(conn: Connection, path: str, *, agent: str = "replay") -> None:
    write_report(to_autobahn(conn, agent=agent), path)


__all__ = ["to_autobahn", "write_autobahn_json"]
