"""Turn one side of a recorded connection into timed writes (pure, no I/O).

A :class:`~wirelog.replay.steps.Plan` is what the replayer executes: one
write per recorded chunk of the replayed side, with its exact octets (as far
as :mod:`~wirelog.replay.rebuild` knows them), the peer progress it must wait
for (causal order comes first: a chunk that followed the peer's data in the
recording is not sent before the target has answered as much, counted in
the units of :mod:`~wirelog.replay.progress`), the recorded pause that then
applies, and the Autobahn timers (CT/KL/TI, spec §3.6) armed at their
recorded positions.
"""

from __future__ import annotations

from dataclasses import replace

from wirelog.errors import PlanError
from wirelog.model import Chunk, Connection, Marker, MarkerKind, Role
from wirelog.protocol.connection import iter_items
from wirelog.protocol.handshake import head_length
from wirelog.replay.head import request_key
from wirelog.replay.progress import Progress
from wirelog.replay.rebuild import hidden, known_chunks, recorded_head, unsent
from wirelog.replay.steps import FIRES, Plan, Timer, Write

_ARMED_BY = {fired: armed for armed, fired in FIRES.items()}
#: Markers that end the connection: the first one says who dropped TCP.
_DROPS = (MarkerKind.FIN, MarkerKind.RST, MarkerKind.DROPPED)
#: A head longer than this many chunks is not searched for its end.
_HEAD_CHUNKS = 8


def build_plan(
    conn: Connection,
    role: Role = Role.CLIENT,
    *,
    speed: float = 1.0,
    asap: bool = False,
    fill: bool = False,
    handshake: bool = True,
    complete: bool = False,
    events: bool = False,
) -> Plan:
    """The writes that replay ``role``'s side of ``conn``.

    ``speed`` divides every recorded pause and Autobahn delay (2.0 = twice as
    fast); ``asap`` drops pauses and CT delays but keeps causal order.
    Timers that did not fire in the recording (KL/TI safety nets) keep their
    delay divided by ``speed`` only. ``fill`` replays what cannot be known
    (see :func:`~wirelog.replay.rebuild.known_chunks`) instead of refusing.
    ``complete`` also sends, after the recorded writes and without waiting,
    the frames the recorder meant to send but never wrote because the peer
    dropped TCP first (:func:`~wirelog.replay.rebuild.unsent`): a fuzzer
    replay against a peer that keeps reading must send them. ``events``
    waits in the peer's events (messages, pongs, closes) instead of frames
    (:attr:`~wirelog.replay.progress.Need.by_events`).
    """
    if speed <= 0:
        raise PlanError(f"speed must be positive, not {speed}")
    mine = conn.direction_of(role)
    chunks = known_chunks(conn, role, fill)
    rebuilt = {c.index: c for c in chunks}
    notes: list[str] = []
    lacking = hidden(conn, mine)
    if lacking:
        if not fill:
            raise PlanError(f"{conn.label}: {lacking}; --fill replays what was recorded anyway")
        notes.append(f"not replayed: {lacking}")

    scale = 0.0 if asap else 1.0 / speed
    progress = Progress(role.other, handshake=handshake, head=recorded_head(conn, role.other))
    writes: list[Write] = []
    timers: list[Timer] = []
    gate: int | None = None
    last_ts: float | None = None  # ts of the latest event (own write or peer data)
    open_timers: dict[MarkerKind, list[int]] = {}
    head_left = _head_length(chunks) if handshake else 0
    pos = 0
    dropped_by: Role | None = None
    reset = False
    end_gap = 0.0
    for it in iter_items(conn):
        if isinstance(it, Chunk):
            if it.direction is mine:
                ch = rebuilt[it.index]
                delay = 0.0
                if ch.ts is not None and last_ts is not None:
                    delay = max(0.0, ch.ts - last_ts) * scale
                writes.append(
                    Write(
                        index=ch.index,
                        data=ch.data,
                        need=progress.need(events),
                        delay=delay,
                        gate=gate,
                        sync=ch.sync,
                        rebuilt=ch.rebuilt,
                        synthesized=ch.synthesized,
                        head=pos < head_left,
                    )
                )
                pos += len(ch.data)
                gate = None
            else:
                progress.feed(it.data, it.length)
            if it.ts is not None:
                last_ts = it.ts
            continue
        m: Marker = it
        # Autobahn's timers are the recorder's (the fuzzer's) own; the other
        # side's replay neither arms them nor waits for them.
        if (m.kind in FIRES or m.kind in _ARMED_BY) and role is not conn.recorder:
            continue
        if m.kind in FIRES:
            delay = float(m.value or 0.0)
            open_timers.setdefault(m.kind, []).append(len(timers))
            timers.append(Timer(m.kind, len(writes), delay / speed, fired=False, tag=m.tag))
        elif m.kind in _ARMED_BY:
            pending = open_timers.get(_ARMED_BY[m.kind])
            if pending:
                t = pending.pop(0)
                delay = timers[t].delay * speed * scale
                timers[t] = replace(timers[t], fired=True, delay=delay)
                gate = t
        elif m.kind in _DROPS and dropped_by is None and m.direction is not None:
            dropped_by = conn.sender(m.direction)
            reset = m.kind is MarkerKind.RST
            if m.ts is not None and last_ts is not None:
                end_gap = max(0.0, m.ts - last_ts)
        if m.ts is not None:
            last_ts = m.ts
    pieces = unsent(conn, role, chunks, fill) if complete and writes else []
    if pieces:
        last = writes[-1]
        writes.extend(Write(index=last.index, data=p, need=last.need, sync=True) for p in pieces)
        octets = sum(len(p) for p in pieces)
        notes.append(f"sent {octets} octets of claimed frames the recording never wrote")
    if dropped_by is None and "droppedByMe" in conn.meta:
        dropped_by = conn.recorder if conn.meta.get("droppedByMe") else conn.recorder.other
    end_delay = end_gap * scale if dropped_by is role else 0.0
    own_head = b"".join(w.data for w in writes if w.head)
    return Plan(
        source=conn.source,
        conn=conn.conn,
        role=role,
        direction=mine,
        writes=tuple(writes),
        timers=tuple(timers),
        final=progress.need(events),
        end_delay=end_delay,
        dropped_by=dropped_by,
        reset=reset,
        handshake=handshake,
        request_key=request_key(own_head) if role is Role.CLIENT else None,
        notes=tuple(notes),
    )


def _head_length(chunks: list[Chunk]) -> int:
    return head_length(b"".join(c.data for c in chunks[:_HEAD_CHUNKS])) or 0
