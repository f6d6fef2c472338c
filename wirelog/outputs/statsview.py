"""Per-connection statistics of an input, as ``wirelog stats`` shows them.

Streams the input, so a multi-gigabyte capture costs memory per open
connection only. For Autobahn inputs the report's own numbers are set
beside the ones derived from the log, and what the log does not show
(logging switched off) is reported as ``hidden`` instead of being passed
off as complete.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from wirelog.model import Chunk, Connection, Frame, Marker
from wirelog.pipeline import ConnectionEnd, Options, stream
from wirelog.stats import STAT_KEYS, WireStats, reported
from wirelog.summary import Tally


def connection_stats(path: str, options: Options | None = None) -> Iterator[dict[str, Any]]:
    """One :func:`stats_entry` per connection, counted by :class:`wirelog.summary.Tally`
    (the count ``wirelog.load`` makes), as each connection ends."""
    tallies: dict[int, Tally] = {}
    for conn, item in stream(path, options):
        tally = tallies.get(id(conn))
        if tally is None:
            tally = tallies[id(conn)] = Tally(conn)
        if isinstance(item, Chunk):
            tally.chunk(item)
        elif isinstance(item, Marker):  # a TLS connection's TCP segment counts
            tally.marker(item)
        elif isinstance(item, Frame):
            tally.frame(item)
        elif isinstance(item, ConnectionEnd):
            del tallies[id(conn)]
            yield stats_entry(conn, tally.stats)


def stats_entry(conn: Connection, logged: WireStats) -> dict[str, Any]:
    """The JSON object of one connection (README: ``wirelog stats --format json``)."""
    entry: dict[str, Any] = {"source": conn.source, "conn": conn.conn}
    entry.update(logged.to_autobahn())
    rep = reported(conn)
    if rep is not None:
        hidden = rep.minus(logged)
        extra = logged.minus(rep)
        entry["complete"] = hidden.is_empty() and extra.is_empty()
        entry["reported"] = rep.to_autobahn()
        entry["hidden"] = hidden.to_autobahn()
    else:
        entry["complete"] = True
    return entry


TITLES = {
    "rxOctetStats": "Octets Received by Chop Size",
    "txOctetStats": "Octets Transmitted by Chop Size",
    "rxFrameStats": "Frames Received by Opcode",
    "txFrameStats": "Frames Transmitted by Opcode",
}


def render_stats_table(entry: dict[str, Any]) -> str:
    """The four tables the way an Autobahn report prints them."""
    lines = [f"== {entry['source']} conn {entry['conn']} =="]
    if not entry.get("complete", True):
        lines.append(
            "NOTE: the wire log does not cover the whole connection; numbers below are "
            "what the log shows, 'hidden' is what the report counted beyond it."
        )
    for key in STAT_KEYS:
        lines.append("")
        lines.append(TITLES[key])
        hist = {int(k): v for k, v in entry[key].items()}
        if key.endswith("OctetStats"):
            lines.append(f"{'Chop Size':>10} {'Count':>8} {'Octets':>12}")
            for size, count in sorted(hist.items()):
                lines.append(f"{size:>10} {count:>8} {size * count:>12}")
            total_c = sum(hist.values())
            total_o = sum(s * c for s, c in hist.items())
            lines.append(f"{'Total':>10} {total_c:>8} {total_o:>12}")
        else:
            lines.append(f"{'Opcode':>10} {'Count':>8}")
            for op, count in sorted(hist.items()):
                lines.append(f"{op:>10} {count:>8}")
            lines.append(f"{'Total':>10} {sum(hist.values()):>8}")
        hidden = entry.get("hidden", {}).get(key)
        if hidden:
            shown = ", ".join(f"{k}: {v}" for k, v in hidden.items())
            lines.append(f"{'hidden':>10} {shown}")
    return "\n".join(lines) + "\n\n"
