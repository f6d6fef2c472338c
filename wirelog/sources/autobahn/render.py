"""Any connection's wire log, rendered as Autobahn prints it (spec §2.2).

Where the log comes from:

* An Autobahn input carries its own wire log: TO/RO are its chunks, TF/RF
  its claims, CT/KL/TI/WLM its markers, all in entry order.
* Any other input (a pcap connection) has no log, so one is derived: TO/RO
  are the recorded chunks (a capture's TCP payloads), a TF is placed before
  the chunk holding its first header octet (Autobahn logs TF before writing)
  and an RF after the chunk that completes the frame (Autobahn logs RF when a
  frame completes). ``ME`` is the recorder (``tx``; for a pcap the client).

The lines themselves are :mod:`.grammar`'s; the page around them is
:mod:`wirelog.outputs.report`'s.
"""

from __future__ import annotations

import bisect

from wirelog.model import Chunk, ClaimedFrame, Direction, Frame, Marker, MarkerKind
from wirelog.protocol.connection import DecodedConnection
from wirelog.sources.autobahn.encoding import ascii_log
from wirelog.sources.autobahn.grammar import (
    LOG_OFF_NOTE,
    LogLine,
    dropped_line,
    marker_line,
    octets_line,
    rf_line,
    tf_line,
)

Item = Chunk | Marker | ClaimedFrame | Frame


def _claim(n: int, c: ClaimedFrame) -> LogLine:
    text = ascii_log(c.payload, c.logged_len)
    if c.direction is Direction.RX:
        return rf_line(n, c.opcode, c.fin, c.rsv, c.logged_len, c.masked, c.mask, text)
    return tf_line(
        n, c.opcode, c.fin, c.rsv, c.logged_len, c.mask, c.repeat_len, c.chopsize, c.sync, text
    )


def _frame(n: int, f: Frame, inflated: bytes | None = None) -> LogLine:
    if f.direction is Direction.RX:
        # Autobahn's RF shows what the frame inflated to (spec §1.3).
        data = f.payload if inflated is None else inflated
        plen = f.length if inflated is None else len(inflated)
        text = ascii_log(data, plen)
        return rf_line(n, f.opcode, f.fin, f.rsv, plen, f.masked, f.mask, text)
    text = ascii_log(f.payload, f.length)
    return tf_line(n, f.opcode, f.fin, f.rsv, f.length, f.mask, None, None, False, text)


def log_items(dc: DecodedConnection) -> list[Item]:
    """The wire log's entries in order (see the module docstring)."""
    conn = dc.connection
    keyed: list[tuple[tuple[int, int, int], Item]] = []
    for ch in conn.chunks:
        keyed.append(((ch.index, 1, 0), ch))
    for m in conn.markers:
        keyed.append(((m.index, 1, 0), m))
    if conn.claims:
        for c in conn.claims:
            keyed.append(((c.index, 1, 0), c))
    else:
        ends = _chunk_ends(dc)
        for i, f in enumerate(dc.frames):
            if f.direction is Direction.TX:
                at = f.chunk if f.chunk is not None else _locate(ends, f, start=True)
                keyed.append(((at, 0, i), f))
            elif "truncated_frame" not in {v.value for v in f.violations}:
                keyed.append(((_locate(ends, f, start=False), 2, i), f))
    keyed.sort(key=lambda kv: kv[0])
    return [it for _, it in keyed]


def _chunk_ends(dc: DecodedConnection) -> dict[Direction, tuple[list[int], list[int]]]:
    """Per direction: cumulative stream end offset of each chunk, and its index."""
    out: dict[Direction, tuple[list[int], list[int]]] = {d: ([], []) for d in Direction}
    pos = dict.fromkeys(Direction, 0)
    items: list[Chunk | Marker] = [*dc.connection.chunks, *dc.connection.markers]
    items.sort(key=lambda it: it.index)
    for it in items:
        if isinstance(it, Chunk):
            pos[it.direction] += it.length
            out[it.direction][0].append(pos[it.direction])
            out[it.direction][1].append(it.index)
        elif it.kind is MarkerKind.GAP and it.direction is not None:
            pos[it.direction] += int(it.value or 0)
    return out


def _locate(ends: dict[Direction, tuple[list[int], list[int]]], f: Frame, start: bool) -> int:
    offs, idxs = ends[f.direction]
    if f.offset is None or not offs:
        return f.chunk if f.chunk is not None else 0
    target = f.offset if start else f.offset + f.header_length + f.length - 1
    k = bisect.bisect_right(offs, target)
    return idxs[min(k, len(idxs) - 1)]


def wire_log(dc: DecodedConnection) -> list[LogLine]:
    """Every wire-log entry of a connection, rendered, with the final TCP line."""
    out: list[LogLine] = []
    n = 0
    # A compressed message of one frame: that frame's inflated output is known.
    inflated = {
        (m.direction, m.first_frame): m.data
        for m in dc.messages
        if m.compressed and m.frames == 1 and m.complete
    }
    dropped: bool | None = None
    for it in log_items(dc):
        if isinstance(it, Chunk):
            out.append(octets_line(n, it))
        elif isinstance(it, ClaimedFrame):
            out.append(_claim(n, it))
        elif isinstance(it, Frame):
            out.append(_frame(n, it, inflated.get((it.direction, it.index))))
        else:
            if it.kind in (MarkerKind.DROPPED, MarkerKind.FIN, MarkerKind.RST):
                if dropped is None and it.direction is not None:
                    dropped = it.direction is Direction.TX
                continue
            line = marker_line(n, it)
            if line is None:
                continue
            out.append(line)
        n += 1
    if dropped is None:
        meta = dc.connection.meta.get("droppedByMe")
        if isinstance(meta, bool):
            dropped = meta
    if dropped is not None:
        out.append(dropped_line(n, dropped))
    else:
        out.append(LogLine("wirelog_open", (f"{n:03d} TCP STILL OPEN AT END OF RECORDING",)))
    return out


def encode_text(page: str) -> bytes:
    """The bytes Autobahn would have written: payload text that held encoded
    surrogates (fuzz cases 6.x) goes out as those same octets."""
    return page.encode("utf-8", "surrogatepass")


def wire_log_text(dc: DecodedConnection) -> str:
    return "\n".join(line for entry in wire_log(dc) for line in entry.lines) + "\n"


def wire_log_html(dc: DecodedConnection) -> str:
    """The page's ``<div id="wirelog">`` as Autobahn writes it: one ``<pre>``
    per line, classed, and not escaped (Autobahn inserts payloads raw; pass
    the result through :func:`encode_text` for its bytes)."""
    parts = ['      <div id="wirelog">']
    if dc.connection.meta.get("createWirelog") is False:
        parts.append(f'         <p style="color: #f00;">{LOG_OFF_NOTE}</p>')
    for entry in wire_log(dc):
        parts += [f'         <pre class="{entry.css}">{line}</pre>' for line in entry.lines]
    parts.append("      </div>")
    return "\n".join(parts) + "\n"
