"""A recorded case as the judge sees it: its expectations and what the
fuzzer observed, read from a case report through wirelog's one reader
(:func:`wirelog.pipeline.decode`), never from its verdict fields.

* The **expectations** are the report's ``expected`` and ``expectedClose``
  (the JSON form; the HTML and text forms lose ``expectedClose``, spec §2.3).
* The **events** are the report's ``received``: what the case's handlers
  were told, which the octets alone cannot show (a message the fuzzer got
  after failing the connection is in the octets but not in the events).
* The **closing facts** come from :func:`wirelog.summary.closing_of`, the one
  "who closed" rule; a report's own closing keys win there, as they do for
  every consumer.
* The **data phase** of 9.x/12.x/13.x, whose wire log is off, is bounded
  from Autobahn's statistics, which count everything (spec §1.5): the
  received octets and frames the log does not show are the echoes. A lone
  unfragmented echo has an exact length (its header size follows from it);
  otherwise the payload total is bounded by the header sizes each frame may
  have. For 12.x/13.x the payload is compressed on the wire, so the
  fuzzer's own ``trafficStats`` counters (set when every echo matched) are
  read instead; a text echo's length counts code points there, which the
  octet total bounds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from wirelog.errors import InputError
from wirelog.model import Direction, Opcode, Role
from wirelog.protocol.connection import DecodedConnection
from wirelog.stats import WireStats
from wirelog.suite.cases import data_case
from wirelog.suite.model import DataPhase, Echo, Expectation, Observation, events
from wirelog.summary import closing_of

_DATA = (Opcode.CONT, Opcode.TEXT, Opcode.BINARY)


@dataclass(frozen=True, slots=True)
class RecordedCase:
    """One case report, ready to judge."""

    source: str
    case_id: str
    expectation: Expectation
    observation: Observation


def recorded_case(dc: DecodedConnection) -> RecordedCase:
    """Read one decoded case report (module docstring)."""
    conn = dc.connection
    meta = conn.meta
    source = conn.source
    case_id = meta.get("case_id") or meta.get("id")
    if not isinstance(case_id, str):
        raise InputError(source, "not an Autobahn case report (no case id)")
    expected, close = meta.get("expected"), meta.get("expectedClose")
    if not isinstance(expected, dict) or not isinstance(close, dict):
        raise InputError(
            source,
            f"case {case_id}: the report has no expected/expectedClose (the HTML and "
            "text forms lose them); judge its JSON twin",
        )
    try:
        expectation = Expectation.from_autobahn(expected, close)
        received = events(meta.get("received") or [])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(source, f"case {case_id}: malformed expectations ({exc})") from None
    keys = closing_of(dc).autobahn()
    hs = dc.handshake
    reported: WireStats | None = meta.get("reported_stats")
    tx_frames = (
        dict(reported.tx_frames) if reported is not None else _frame_counts(dc, Direction.TX)
    )
    observation = Observation(
        received=received,
        was_open=hs is not None and hs.upgraded,
        closed_by_me=bool(keys.get("closedByMe")),
        was_clean=bool(keys.get("wasClean")),
        remote_close_code=keys.get("remoteCloseCode"),
        dropped_by_me=bool(keys.get("droppedByMe")),
        is_server=conn.recorder is Role.SERVER,
        tx_frames=tx_frames,
        deflate=hs is not None and hs.deflate is not None,
        data=_data_phase(dc, case_id, reported, meta.get("trafficStats")),
    )
    return RecordedCase(source, case_id, expectation, observation)


def _frame_counts(dc: DecodedConnection, direction: Direction) -> dict[int, int]:
    return dict(Counter(int(f.opcode) for f in dc.frames_of(direction)))


def _data_phase(
    dc: DecodedConnection, case_id: str, reported: WireStats | None, traffic: Any
) -> DataPhase | None:
    case = data_case(case_id)
    if case is None or reported is None:
        return None
    conn = dc.connection
    logged_octets = sum(c.length for c in conn.chunks if c.direction is Direction.RX)
    hidden_octets = sum(n * k for n, k in reported.rx_octets.items()) - logged_octets
    logged = Counter(c.opcode for c in conn.claims if c.direction is Direction.RX)
    hidden = {op: max(reported.rx_frames.get(op, 0) - logged.get(op, 0), 0) for op in range(16)}
    types = [False] * hidden[Opcode.TEXT] + [True] * hidden[Opcode.BINARY]
    if case.kind == "deflate":
        return _deflate_phase(traffic, types)
    frames = sum(hidden.values())
    control = frames - sum(hidden[op] for op in _DATA)
    masked = conn.recorder is Role.SERVER
    if len(types) == 1 and frames == 1:
        length = _lone_payload(hidden_octets, masked)
        if length is not None:
            return DataPhase((Echo(types[0], length),))
    extra = 4 if masked else 0
    low = hidden_octets - frames * (10 + extra) - control * 125
    high = hidden_octets - frames * (2 + extra)
    echoes = tuple(Echo(b, None) for b in types)
    return DataPhase(echoes, lengths_known=False, total=(max(low, 0), max(high, 0)))


def _lone_payload(octets: int, masked: bool) -> int | None:
    """The payload length of the one frame of ``octets`` octets: the header
    is 2, 4 or 10 octets (+4 masked) as the length needs (RFC 6455 §5.2)."""
    extra = 4 if masked else 0
    for head, low, high in ((2, 0, 125), (4, 126, 0xFFFF), (10, 0x10000, 1 << 63)):
        length = octets - head - extra
        if low <= length <= high:
            return length
    return None


def _deflate_phase(traffic: Any, types: list[bool]) -> DataPhase:
    """12.x/13.x: the echoes' types from the frame statistics; their
    decompressed total from the fuzzer's counters, which Autobahn keeps only
    when every echo matched (otherwise the lengths stay unknown)."""
    echoes = tuple(Echo(b, None) for b in types)
    octets = traffic.get("incomingOctetsAppLevel") if isinstance(traffic, dict) else None
    if not isinstance(octets, int):
        return DataPhase(echoes, lengths_known=False)
    if any(not b for b in types):
        # Since 0.8.0 a text echo's length is counted in code points, of
        # one to four UTF-8 octets each (spec §1.7).
        return DataPhase(echoes, lengths_known=False, total=(-(-octets // 4), octets))
    return DataPhase(echoes, lengths_known=False, total=(octets, octets))


__all__ = ["RecordedCase", "recorded_case"]
