"""Every problem of an input, each listed once, with where it is.

Violations travel two ways: stand-alone events (gaps, handshake, findings)
and kinds attached to the frame or message they concern. ``wirelog check``,
the analyzer's ``violations()`` table and tests all want one flat list with
each problem once, located at its frame, so that list is made here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from wirelog.capture import Options, StreamItem, stream
from wirelog.model import Connection, Frame, Message, Violation


def located(
    items: Iterable[tuple[Connection, StreamItem]],
) -> Iterator[tuple[Connection, Violation]]:
    """Flatten the problems of a stream of events; a message's problems that
    its frames already carry are not repeated."""
    seen: set[tuple[int, int, str, int, str]] = set()
    for c, item in items:
        if isinstance(item, Violation):
            if item.frame is not None and item.direction is not None:
                key = (id(c), c.conn, item.direction.value, item.frame, item.kind.value)
                if key in seen:
                    continue
                seen.add(key)
            yield c, item
            continue
        if isinstance(item, Frame):
            frame, offset, chunk = item.index, item.offset, item.chunk
            what = f"{item.opcode_name} frame of {item.length} bytes"
        elif isinstance(item, Message):
            frame, offset, chunk = item.first_frame, None, None
            what = f"{item.opcode_name} message of {item.frames} frame(s)"
        else:
            continue
        for kind in item.violations:
            key = (id(c), c.conn, item.direction.value, frame, kind.value)
            if key not in seen:
                seen.add(key)
                yield c, Violation(kind, what, item.direction, frame, offset, chunk)


def problems(path: str, options: Options | None = None) -> Iterator[tuple[Connection, Violation]]:
    """Every violation and finding of one input."""
    return located(stream(path, options))
