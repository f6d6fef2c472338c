"""The wire log switched off for a case's data phase, as Autobahn does it
(spec ``autobahn-wirelog.md`` §1.3, §3.8).

Autobahn's 9.x, 12.x and 13.x cases log their opening handshake and their
close, never their messages:

* the log goes off when the opening handshake completes (``onOpen``, so
  frames that came in the same read as the 101 are not logged either);
* it comes back on just before the case sends its own close, which it does
  once every echo came back (12.x/13.x: only when permessage-deflate was
  agreed, else the case is UNIMPLEMENTED and its close goes out unlogged);
* 9.7/9.8, 12.x and 13.x switch with ``enableWirelog``, which logs a WLM
  entry each time; 9.1-9.6 set the flag directly and log none;
* only the octet and frame entries (RO/TO/RF/TF) obey the flag: timers are
  logged throughout, and the statistics count everything.

A case whose close is not its own (the peer closed first, closeAfter fired,
TCP ended) never switches back on, and its report says so with
``createWirelog`` false. A suite run applies this (:mod:`wirelog.suite.run`)
so that its reports hold what Autobahn's would: 9.1.6's 16 MiB echo is in
the statistics and the verdict, not twice more in the log as hex.
"""

from __future__ import annotations

from dataclasses import dataclass

from wirelog.model import Chunk, ClaimedFrame, Direction, Marker, MarkerKind, Opcode, Role
from wirelog.sources.autobahn.write import LogItem


@dataclass(frozen=True, slots=True)
class Quiet:
    """How a case switches its log off for the data phase."""

    marked: bool
    """WLM entries mark the switches (``enableWirelog``), or none (9.1-9.6)."""
    needs_deflate: bool = False
    """12.x/13.x: the log comes back on only if permessage-deflate was agreed."""


@dataclass(frozen=True, slots=True)
class Logged:
    """What the log holds once the flag is applied."""

    items: list[LogItem]
    times: list[float | None]
    enabled: bool
    """The flag's final value (the report's ``createWirelog``)."""


def quieted(
    items: list[LogItem],
    times: list[float | None],
    *,
    recorder: Role,
    response_length: int | None,
    deflate: bool,
    quiet: Quiet,
) -> Logged:
    """``items`` (with their ``times``) as a case that switches its log off
    writes them. ``response_length``: the length of the 101's head (None
    when the handshake did not succeed: ``onOpen`` never ran, nothing goes
    off); ``deflate``: whether permessage-deflate was agreed."""
    if response_length is None:
        return Logged(items, times, True)
    # The 101 is read by a client and written by a server.
    answer = Direction.RX if recorder is Role.CLIENT else Direction.TX
    seen = 0
    enabled = True
    returned = False
    out: list[LogItem] = []
    out_times: list[float | None] = []

    def switch(to: bool, when: float | None) -> None:
        nonlocal enabled
        enabled = to
        if quiet.marked:
            out.append(Marker(MarkerKind.WIRELOG, len(out), value=to))
            out_times.append(when)

    for it, when in zip(items, times, strict=True):
        if isinstance(it, Marker):
            out.append(it)
            out_times.append(when)
            if it.kind is MarkerKind.CLOSE_FIRED:
                returned = True  # the fuzzer's close, not the case's: stays off
            continue
        if not enabled and not returned and _own_close(it):
            returned = True
            if deflate or not quiet.needs_deflate:
                switch(True, when)
        elif isinstance(it, ClaimedFrame) and it.opcode == Opcode.CLOSE:
            returned = True  # a close while on, or the peer's first: no switch back
        if enabled:
            out.append(it)
            out_times.append(when)
        if isinstance(it, Chunk) and it.direction is answer:
            if seen < response_length <= seen + it.length and not returned:
                switch(False, when)  # the read or write completing the 101: onOpen
            seen += it.length
    return Logged(out, out_times, enabled)


def _own_close(it: LogItem) -> bool:
    """The TF of a close frame the case sends (a TX close claim)."""
    return (
        isinstance(it, ClaimedFrame) and it.direction is Direction.TX and it.opcode == Opcode.CLOSE
    )


__all__ = ["Logged", "Quiet", "quieted"]
