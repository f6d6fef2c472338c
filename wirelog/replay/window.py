"""What a replay keeps of what its peer sends: a bounded window (pure).

A replay must judge the peer, not store it: a server that answers with
endless frames, endless zeros or a frame declaring 2**62 octets must cost
bounded memory and time. :class:`Window` keeps (and has the progress
decoder read) the peer's HTTP head, then twice what the peer sent in the
recording plus :data:`RX_SLACK` octets, or up to the end of the frame that
makes twice its recorded frames plus :data:`FRAME_SLACK`, whichever comes
first. Past it, octets are counted, not kept: the progress
decoder is told of a gap and the recording gets the length only, like the
cut chunks of an Autobahn wire log (``Chunk.length`` beyond ``data``), so
the verdict's decoder reads exactly what was kept and how much more came.
"""

from __future__ import annotations

from wirelog.model import Chunk, Connection, Direction, Frame
from wirelog.replay.progress import Progress
from wirelog.replay.steps import Plan

#: Octets the peer may send beyond twice its recorded total that are still
#: kept (its HTTP head apart). A deflate bomb inflates a thousandfold, so
#: this also bounds what the verdict's decoder inflates: 16 MiB.
RX_SLACK = 16 * 1024
#: The same for frames: judging costs per frame, and two octets make one.
FRAME_SLACK = 256
#: Octets fed to the progress decoder at once near the frame window.
_FEED_SLICE = 4096


def rx_window(plan: Plan) -> int:
    """Octets kept after the peer's HTTP head: enough to judge a peer that
    behaves as recorded, with room for other chops or payload sizes."""
    return 2 * plan.final.octets + RX_SLACK


class Positions:
    """Positions in the recording, shared by chunks and markers."""

    def __init__(self) -> None:
        self.taken = 0

    def next(self) -> int:
        i = self.taken
        self.taken += 1
        return i


class Window:
    """The peer's side of a live connection, kept within the window."""

    def __init__(
        self,
        plan: Plan,
        progress: Progress,
        conn: Connection,
        positions: Positions,
        notes: list[str],
    ) -> None:
        self.progress = progress
        self.conn = conn
        self._positions = positions
        self._notes = notes
        self._who = plan.role.other.value
        self.octets = rx_window(plan)
        self.frames = 2 * plan.final.frames + FRAME_SLACK
        self.kept = 0
        self._closed_at: int | None = None
        """Where the window closed early (the frame window was passed)."""
        self._overflow: Chunk | None = None
        """The last chunk past the window, grown while nothing else happens."""

    def limit(self) -> int:
        """How many of the peer's octets are kept: its HTTP head (as long as
        the decoder looks for one while it is not complete), then the window."""
        if self._closed_at is not None:
            return self._closed_at
        return self.progress.head_octets + self.octets

    def take(self, data: bytes, ts: int) -> bytes:
        """One read: feed the progress decoder, record it, and return the
        octets kept (all of ``data`` inside the window)."""
        n = len(data)
        kept = data[: max(0, self.limit() - self.kept)]
        start = self.progress.octets
        frames = self._feed(kept, n)
        # The window closes at the end of the frame that fills it, in
        # whichever read that frame completes: octets after it are never
        # kept, so where the reads were split does not move the cut.
        over = self.progress.frames - self.frames
        if over >= 0 and kept:
            last = frames[len(frames) - over - 1] if over < len(frames) else None
            cut = 0
            if last is not None and last.offset is not None:
                cut = last.offset + last.header_length + last.length - start
            kept = kept[: max(0, cut)]
            self._closed_at = self.kept + len(kept)
        # The head may have ended in this read: the window is now exact.
        kept = kept[: max(0, self.limit() - self.kept)]
        self.kept += len(kept)
        self._record(kept, n, ts)
        return kept

    def _feed(self, kept: bytes, n: int) -> list[Frame]:
        """Feed the progress decoder ``kept`` and then a gap to ``n``; the
        frames of the last feed. Where ``kept`` may hold more frames than
        the window has left (two octets make one), it goes in slices, and
        decoding stops at the slice that passes the window."""
        progress = self.progress
        if progress.frames + len(kept) // 2 < self.frames:
            return progress.feed(kept, n)
        frames: list[Frame] = []
        pos = 0
        while pos < len(kept) and progress.frames < self.frames:
            frames = progress.feed(kept[pos : pos + _FEED_SLICE])
            pos += _FEED_SLICE
        pos = min(pos, len(kept))
        if n > pos:
            progress.feed(b"", n - pos)
        return frames

    def _record(self, kept: bytes, n: int, ts: int) -> None:
        """One read in the recording: past the window only its length (a
        cut chunk), and later reads with nothing in between grow that one."""
        chunks = self.conn.chunks
        if len(kept) == n:
            chunks.append(Chunk(Direction.RX, kept, n, self._positions.next(), ts))
            return
        last = self._overflow
        if not kept and last is not None and self._positions.taken == last.index + 1:
            grown = Chunk(Direction.RX, last.data, last.length + n, last.index, last.ts_ns)
            chunks[-1] = self._overflow = grown
            return
        if last is None:
            self._notes.append(
                f"the {self._who} sent more than {self.kept} octets or {self.frames} frames;"
                " past them octets are counted, not kept"
            )
        self._overflow = Chunk(Direction.RX, kept, n, self._positions.next(), ts)
        chunks.append(self._overflow)
