"""What ``wirelog plot`` draws, from one streamed pass over an input.

:class:`~wirelog.analysis.loaded.Capture` holds every decoded object and
whole tables, payloads as hex included: a notebook may ask anything of
them, and a 200 MB capture took 2.9 GB to plot. The plots read a few
columns, so here the tables come a batch at a time
(:class:`~wirelog.analysis.batches.Batches`, the rows ``load`` makes) and
only those columns are kept, with the payloads of control frames alone
(the RTT plot pairs a ping with its pong by payload, RFC 6455 §5.5.3). A
ladder draws the first and last frames of a connection: only those rows
are kept (:class:`Ladder`), with what it marks besides frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from wirelog.analysis import table
from wirelog.analysis.batches import Batches
from wirelog.analysis.ladder import LADDER_LIMIT, PREVIEW, Mark, marks_from
from wirelog.errors import InputError
from wirelog.model import Chunk, Connection, Frame, Handshake, Marker
from wirelog.outputs import formats
from wirelog.pipeline import Options, StreamItem

if TYPE_CHECKING:
    import pandas as pd

#: The columns the plots of each table read (:mod:`wirelog.analysis.plots`,
#: and the titles and legends of :mod:`wirelog.analysis.plotkit`).
COLUMNS = {
    "chops": ("source", "conn", "dir", "sender", "index", "length", "time", "t"),
    "frames": (
        "source", "conn", "dir", "sender", "index", "opcode", "ts", "t", "time", "payload",
    ),
    "messages": ("source", "conn", "dir", "sender", "opcode", "length"),
}  # fmt: skip
_CONTROL_PINGS = (9, 10)
#: A ladder's label shows this much of a payload (:func:`~wirelog.analysis.ladder.preview`).
_PREVIEW_OCTETS = PREVIEW + 4


@dataclass
class Ladder:
    """One connection's ladder, kept as its frames pass: of a ladder of
    ``limit`` frames, the first ``limit // 2 + 1`` and the last ``limit -
    limit // 2 + 1`` frame rows (one more each side of the frames left out
    tells :func:`~wirelog.analysis.ladder.ladder` which marks fall among
    them), how many there were, and its handshake, first chunks and markers."""

    conn: Connection
    limit: int = LADDER_LIMIT
    head: list[tuple[Frame, bool]] = field(default_factory=list)
    """Frames with their payloads cut to what a label shows, and whether
    the payload was complete (kept, not made: most frames pass unseen)."""
    tail: deque[tuple[Frame, bool]] = field(default_factory=deque)
    total: int = 0
    handshake: Handshake | None = None
    firsts: dict[str, Chunk] = field(default_factory=dict)
    markers: list[Marker] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tail = deque(maxlen=self.limit - self.limit // 2 + 1)

    def add(self, item: StreamItem) -> None:
        if isinstance(item, Frame):
            whole = len(item.payload) == item.length
            if len(item.payload) > _PREVIEW_OCTETS:
                item = replace(item, payload=item.payload[:_PREVIEW_OCTETS])
            kept = (item, whole)
            if len(self.head) <= self.limit // 2:
                self.head.append(kept)
            self.tail.append(kept)
            self.total += 1
        elif isinstance(item, Chunk):
            if len(self.firsts) < 2:
                self.firsts.setdefault(self.conn.sender(item.direction).value, item)
        elif isinstance(item, Marker):
            self.markers.append(item)
        elif isinstance(item, Handshake):
            self.handshake = item

    def frames(self, starts: dict[tuple[str, int], float]) -> tuple[pd.DataFrame, list[int]]:
        """The rows kept, as a frames table (payloads cut to what a label
        shows), and each one's place among all."""
        places = dict(enumerate(self.head))
        places.update(enumerate(self.tail, self.total - len(self.tail)))
        order = sorted(places)
        rows = []
        for f, complete in (places[k] for k in order):
            row = formats.frame_row(self.conn, f)
            row["complete"] = complete
            rows.append(row)
        return table.from_rows(rows, "frames", starts), order

    def marks(self, start: float | None) -> list[Mark]:
        return marks_from(self.conn, self.handshake, self.firsts, self.markers, start)


@dataclass
class PlotData:
    """The slim tables, the connections table, the ladders asked for and
    the input's error when it failed part-way."""

    tables: dict[str, pd.DataFrame]
    connections: pd.DataFrame
    ladders: dict[int, Ladder]
    starts: dict[tuple[str, int], float]
    error: InputError | None


def collect(
    path: str, options: Options, levels: Sequence[str], ladders: Sequence[int] | None
) -> PlotData:
    """One pass over ``path``: the ``levels`` (of chops, frames, messages)
    the plots need, slim; ``ladders``: the connections to keep a ladder of
    (None: the first connection; empty: none)."""
    import pandas as pd

    batches = Batches([path], options, levels)
    kept: dict[int, Ladder] = {}

    def tap(conn: Connection, item: StreamItem) -> None:
        n = conn.conn
        ladder = kept.get(n)
        if ladder is None:
            if ladders is not None:
                if n not in ladders:
                    return
            elif kept:  # the first connection: the lowest number seen
                if n > min(kept):
                    return
                kept.clear()
            ladder = kept[n] = Ladder(conn)
        ladder.add(item)

    if ladders is None or ladders:
        batches.walk.tap = tap
    parts: dict[str, list[pd.DataFrame]] = {lv: [] for lv in levels}
    for got in batches.events():
        for level, df in got.items():
            slim = df[list(COLUMNS[level])]
            if level == "frames":  # only the RTT plot reads payloads: of pings and pongs
                pings = slim["opcode"].isin(_CONTROL_PINGS)
                slim = slim.assign(payload=slim["payload"].where(pings))
            parts[level].append(slim)
    tables = {
        level: pd.concat(dfs, ignore_index=True)
        if dfs
        else table.from_rows([], level)[list(COLUMNS[level])]
        for level, dfs in parts.items()
    }
    connections = batches.tail()["connections"]
    error = batches.errors[0] if batches.errors else None
    return PlotData(tables, connections, kept, batches.known_starts(), error)


__all__ = ["COLUMNS", "Ladder", "PlotData", "collect"]
