"""The verdict's own rules: handshakes, violations, cut payloads, closing."""

from __future__ import annotations

from dataclasses import replace

from servers import SEED_REQUEST, SEED_RESPONSE

from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Role
from wirelog.protocol.connection import DecodedConnection, decode_connection
from wirelog.protocol.frames import encode_frame
from wirelog.replay.verdict import closing_of, compare, events_of
from wirelog.summary import Closing

TX, RX = Direction.TX, Direction.RX
MASK = b"\x01\x02\x03\x04"


def conn(
    client: list[bytes],
    server: list[bytes],
    *,
    request: bytes = SEED_REQUEST,
    response: bytes = SEED_RESPONSE,
    ends: bool = True,
) -> DecodedConnection:
    """Client frames ``opcode byte + payload`` (masked), then server frames."""
    c = Connection(0, "v", Role.CLIENT)
    wires = [(TX, request), (RX, response)]
    wires += [(TX, encode_frame(f[0], f[1:], mask=MASK)) for f in client]
    wires += [(RX, encode_frame(f[0], f[1:])) for f in server]
    for i, (d, data) in enumerate(wires):
        c.chunks.append(Chunk(d, data, len(data), i))
    if ends:
        c.markers.append(Marker(MarkerKind.FIN, len(wires), RX))
    return decode_connection(c)


CLOSE = b"\x08\x03\xe8"


def test_closing_is_the_summary_s() -> None:
    a = conn([CLOSE], [CLOSE])
    assert isinstance(closing_of(a), Closing)
    v = compare(a, a)
    assert v.equivalent and v.a_closing == v.b_closing
    d = v.as_dict()
    assert d["equivalent"] and d["closing"]["a"]["droppedBy"] == "server"
    assert d["events"] == {"a": [], "b": []}


def test_an_unknown_tcp_end_in_the_reference_is_no_difference() -> None:
    a = conn([CLOSE], [CLOSE], ends=False)
    b = conn([CLOSE], [CLOSE])
    assert not [d for d in compare(a, b).differences if d.topic == "closing"]
    lines = next(d.lines for d in compare(b, a).differences if d.topic == "closing")
    assert lines == ["droppedBy: server → -"]
    assert compare(a, b).as_dict()["closing"]["a"]["droppedBy"] == "-"


def test_no_closing_without_a_verdict_pair() -> None:
    from wirelog.replay.verdict import Verdict

    assert Verdict("a", "b").as_dict()["closing"] == {"a": None, "b": None}


def test_events_are_what_the_role_received() -> None:
    dc = conn([b"\x01hi"], [b"\x02" + bytes(50), b"\x0apong", CLOSE])
    assert events_of(dc, Role.CLIENT) == [
        ("message", "0x" + "00" * 40 + " ...", True),
        ("pong", "pong"),
    ]
    assert events_of(dc, Role.SERVER) == [("message", "hi", False)]


def test_handshake_differences() -> None:
    a = conn([CLOSE], [CLOSE])
    bad = SEED_RESPONSE.replace(b"101 Switching Protocols", b"400 Bad Request")
    b = conn([], [], response=bad)
    lines = next(d.lines for d in compare(a, b).differences if d.topic == "handshake")
    assert lines == ["status: 101 → 400"]
    proto = SEED_RESPONSE.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Protocol: chat\r\n\r\n")
    ext = SEED_RESPONSE.replace(
        b"\r\n\r\n",
        b"\r\nSec-WebSocket-Extensions: permessage-deflate;  client_no_context_takeover\r\n\r\n",
    )
    c = conn([CLOSE], [CLOSE], response=proto)
    lines = next(d.lines for d in compare(a, c).differences if d.topic == "handshake")
    assert lines == ["subprotocol: None → chat"]
    e = conn([CLOSE], [CLOSE], response=ext)
    lines = next(d.lines for d in compare(a, e).differences if d.topic == "handshake")
    assert lines == ["extensions: None → permessage-deflate; client_no_context_takeover"]


def test_a_missing_handshake_and_a_wrong_accept() -> None:
    a = conn([CLOSE], [CLOSE])
    none = replace(a, handshake=None)
    lines = next(d.lines for d in compare(a, none).differences if d.topic == "handshake")
    assert lines == ["handshake: present → absent"]
    assert compare(none, none).equivalent
    assert a.handshake is not None
    wrong = replace(a, handshake=replace(a.handshake, accept="AAAA", accept_ok=False))
    lines = next(d.lines for d in compare(a, wrong).differences if d.topic == "handshake")
    assert lines[0].startswith("Sec-WebSocket-Accept 'AAAA' does not fit key")
    other = replace(a, handshake=replace(a.handshake, accept="BBBB"))
    lines = next(d.lines for d in compare(a, other).differences if d.topic == "handshake")
    assert lines == [f"Sec-WebSocket-Accept: {a.handshake.accept} → BBBB"]


def test_new_violations_are_named_per_sender() -> None:
    a = conn([CLOSE], [CLOSE])
    b = conn([CLOSE], [b"\x03x", CLOSE])  # reserved opcode 3 from the server
    v = compare(a, b)
    topics = {d.topic: d.lines for d in v.differences}
    assert topics["server protocol violations"] == ["+ reserved_opcode"]
    assert v.new_violations == {Role.SERVER: ["reserved_opcode"]}
    back = compare(b, a)
    assert {d.topic: d.lines for d in back.differences}["server protocol violations"] == [
        "- reserved_opcode"
    ]
    assert back.new_violations == {}


def test_long_payloads_are_compared_in_full() -> None:
    a = conn([b"\x02" + bytes(100), CLOSE], [CLOSE])
    b = conn([b"\x02" + bytes(99) + b"\x01", CLOSE], [CLOSE])
    topics = {d.topic: d.lines for d in compare(a, b, roles=[Role.CLIENT]).differences}
    assert topics["client frames"][0].endswith("payload differs from octet 99")
    assert compare(a, b, roles=[Role.SERVER]).equivalent
