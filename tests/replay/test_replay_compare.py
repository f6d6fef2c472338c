"""verdict.compare, the comparison behind ``wirelog diff`` and the replay
verdict: masks, chops and log cuts are not differences; what a peer did
differently is, at message, frame and closing level."""

from __future__ import annotations

import os
from dataclasses import replace

from servers import SERVER_REPORTS
from sessions import CLOSE, PING, PONG, echo_session

from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Role
from wirelog.pipeline import decode_recording, read
from wirelog.protocol.connection import decode_connection
from wirelog.protocol.frames import encode_frame
from wirelog.replay.render import render
from wirelog.replay.verdict import closing_of, compare

TX, RX = Direction.TX, Direction.RX
session = echo_session


def test_masks_and_chunking_are_ignored() -> None:
    a = decode_connection(session([PING, CLOSE], [PONG, CLOSE]))
    b = decode_connection(session([PING, CLOSE], [PONG, CLOSE], mask=b"zzzz", split=True))
    v = compare(a, b)
    assert v.equivalent and not v.differences
    assert v.a_events == v.b_events == [("pong", "Hello, world!")]


def test_a_different_pong_is_a_difference_at_both_levels() -> None:
    a = decode_connection(session([PING, CLOSE], [PONG, CLOSE]))
    b = decode_connection(session([PING, CLOSE], [b"\x0aHello, there!", CLOSE]))
    v = compare(a, b)
    topics = {d.topic: d.lines for d in v.differences}
    assert set(topics) == {"server messages", "server frames"}
    assert topics["server frames"] == [
        "- frame 0: PONG fin=1 rsv=0 len=13 'Hello, world!'",
        "+ frame 0: PONG fin=1 rsv=0 len=13 'Hello, there!'",
    ]
    text = render(v, title="t")
    assert "Actual events differ" in text and "Verdict: DIFFERENT" in text


def test_closing_behaviour() -> None:
    a = decode_connection(session([PING, CLOSE], [PONG, CLOSE]))
    b = decode_connection(session([PING, CLOSE], [PONG, b"\x08\x03\xea"], dropped=TX))
    ca, cb = closing_of(a), closing_of(b)
    assert (ca.closed_by, ca.server_code, ca.clean, ca.dropped_by) == (
        Role.CLIENT,
        1000,
        True,
        Role.SERVER,
    )
    assert (cb.server_code, cb.dropped_by) == (1002, Role.CLIENT)
    lines = next(d.lines for d in compare(a, b).differences if d.topic == "closing")
    assert lines == ["serverCloseCode: 1000 → 1002", "droppedBy: server → client"]
    c = decode_connection(session([PING, CLOSE], [PONG, b""]))
    assert not closing_of(c).clean and closing_of(c).server_code is None


def test_payload_prefixes_compare_as_far_as_both_go() -> None:
    long = b"\x02" + bytes(range(256)) * 2
    a_conn = session([long], [long])
    b_conn = session([long], [long])
    a = decode_connection(a_conn)
    assert compare(a, decode_connection(b_conn)).equivalent
    # The same echo, logged cut at 64 octets (as Autobahn does): still equal.
    cut = replace(a_conn.chunks[3], data=a_conn.chunks[3].data[:64])
    a_cut = Connection(0, "cut", Role.CLIENT, [*a_conn.chunks[:3], cut], a_conn.markers)
    assert not [
        d
        for d in compare(decode_connection(a_cut), decode_connection(b_conn)).differences
        if d.topic.startswith("server")
    ]
    # A difference after octet 64 in complete payloads is found.
    other = b"\x02" + bytes(range(256)) + bytes(256)
    v = compare(a, decode_connection(session([long], [other])))
    lines = [x for d in v.differences for x in d.lines]
    assert any("payload differs from octet 257" in x for x in lines)


def test_message_order_is_the_decoders_whichever_path_built_the_list() -> None:
    """5.20: pings between the fragments of a text message. The report's
    messages (built from log claims) and the live decode list them in
    different orders; the comparison must not see a difference there."""
    rec = read(os.path.join(SERVER_REPORTS, "websock_server_case_5_20.json"))
    (claimed,) = decode_recording(rec)
    octets = decode_connection(rec.connections[0])
    assert [m.index for m in claimed.messages if m.sender is Role.CLIENT] != sorted(
        m.index for m in claimed.messages if m.sender is Role.CLIENT
    )
    v = compare(claimed, octets)
    assert not [d for d in v.differences if d.topic.startswith("client")]


def test_a_frame_cut_by_the_end_of_the_connection_is_not_compared() -> None:
    """4.2.5 style: the peer dropped TCP while a frame was going out; where
    exactly it was cut is an accident, a frame that did complete is not."""
    whole = session([PING], [PONG])
    cut = session([PING], [PONG])
    frame = encode_frame(1, b"never finished", mask=b"abcd")
    cut.chunks.append(Chunk(TX, frame[:9], 9, 90))  # header and 3 payload octets
    done = session([PING], [PONG])
    done.chunks.append(Chunk(TX, frame, len(frame), 90))
    for c in (cut, done):
        c.markers = [Marker(MarkerKind.FIN, 99, RX)]
    dc_cut = decode_connection(cut)
    assert any(v.value == "truncated_frame" for f in dc_cut.frames for v in f.violations)
    assert compare(decode_connection(whole), dc_cut).equivalent
    v = compare(dc_cut, decode_connection(done))
    assert [d.topic for d in v.differences] == ["client messages", "client frames"]
