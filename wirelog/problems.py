"""Every problem of an input, each listed once, with where it is.

Violations travel two ways: stand-alone events (gaps, handshake, findings)
and kinds attached to the frame or message they concern. ``wirelog check``,
the analyzer's ``violations()`` table and tests all want one flat list with
each problem once, located at its frame, so that list is made here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from wirelog.model import Connection, Direction, Frame, Message, Violation, ViolationKind
from wirelog.pipeline import Options, StreamItem, stream


class Problems:
    """Turns stream items into located problems, remembering what it listed
    so that a message does not repeat its frames' kinds."""

    def __init__(self) -> None:
        self._seen: set[tuple[int, Direction, int, ViolationKind]] = set()

    def of(self, conn: Connection, item: StreamItem) -> list[tuple[Violation, str]]:
        """The problems ``item`` adds, each with what carries it: ``stream``
        (a stand-alone event), ``frame`` or ``message``."""
        if isinstance(item, Violation):
            located_at_frame = item.frame is not None and item.direction is not None
            if located_at_frame and (id(conn), item.direction, item.frame, item.kind) in self._seen:
                return []
            return [(item, "stream")]
        if isinstance(item, Frame):
            on, frame, offset, chunk = "frame", item.index, item.offset, item.chunk
            what = f"{item.opcode_name} frame of {item.length} bytes"
        elif isinstance(item, Message):
            on, frame, offset, chunk = "message", item.first_frame, None, None
            what = f"{item.opcode_name} message of {item.frames} frame(s)"
        else:
            return []
        out: list[tuple[Violation, str]] = []
        for kind in item.violations:
            key = (id(conn), item.direction, frame, kind)
            if key not in self._seen:
                self._seen.add(key)
                out.append((Violation(kind, what, item.direction, frame, offset, chunk), on))
        return out


def located(
    items: Iterable[tuple[Connection, StreamItem]],
) -> Iterator[tuple[Connection, Violation]]:
    """The problems of a stream of items, in order."""
    seen = Problems()
    for c, item in items:
        for v, _ in seen.of(c, item):
            yield c, v


def problems(
    path: str, options: Options | None = None
) -> Iterator[tuple[Connection | str, Violation]]:
    """Every violation and finding of one input; last, the finding about the
    input as a whole (``ignored_traffic``: what a capture skipped, and why),
    paired with the input's name instead of a connection."""
    s = stream(path, options)
    yield from located(s)
    for found in s.summary.listed() if s.summary is not None else []:
        yield path, found
