"""The replayer as Autobahn's fuzzer: payload patterns extended, frames the
log claimed but never wrote sent, the request target changed, and a peer's
pings and close answered (a real ``websockets`` server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator

import pytest
from servers import SERVER_REPORTS

from wirelog.model import Direction, Opcode, Role
from wirelog.pipeline import read
from wirelog.protocol.connection import decode_connection
from wirelog.replay.client import replay_client
from wirelog.replay.fuzzer import FuzzerRunner
from wirelog.replay.head import edit_path
from wirelog.replay.plan import build_plan
from wirelog.replay.rebuild import extend, known_chunks, unsent
from wirelog.replay.target import client_plan, parse_target


def _case(name: str):  # type: ignore[no-untyped-def]
    [conn] = read(os.path.join(SERVER_REPORTS, f"websock_server_case_{name}.json")).connections
    return conn


def test_a_cut_payload_extends_as_its_pattern() -> None:
    assert extend(b"*" * 64, 125) == b"*" * 125
    # a close payload: the code, then the repeated reason (7.3.5)
    assert extend(b"\x03\xe8" + b"*" * 62, 125) == b"\x03\xe8" + b"*" * 123
    assert extend(b"BAsd7&jh23" * 6 + b"BAsd", 70) == (b"BAsd7&jh23" * 7)
    # no pattern: the prefix repeats
    assert extend(bytes(range(64)), 70) == bytes(range(64)) + bytes(range(6))


def test_frames_the_log_never_wrote_are_sent() -> None:
    # 5.11: the nim server dropped TCP while the fuzzer's 1-octet chops of a
    # 24-octet continuation and a text frame were still queued.
    conn = _case("5_11")
    chunks = known_chunks(conn, Role.CLIENT, True)
    pieces = unsent(conn, Role.CLIENT, chunks, True)
    sent = sum(c.length for c in chunks if c.direction is Direction.TX)
    claimed = sum(len(c.payload) + 6 for c in conn.claims if c.direction is Direction.TX)
    assert pieces and {len(p) for p in pieces} == {1}
    assert sent + len(pieces) == len(conn.handshake_request or b"") + claimed
    plan = build_plan(conn, Role.CLIENT, fill=True, complete=True)
    assert len(plan.writes) == len(build_plan(conn, Role.CLIENT, fill=True).writes) + len(pieces)
    assert any("never wrote" in n for n in plan.notes)
    # a case whose log holds every write has nothing more to send
    whole = _case("2_2")
    assert unsent(whole, Role.CLIENT, known_chunks(whole, Role.CLIENT, True), True) == []


def test_the_request_target_follows_the_url() -> None:
    plan = build_plan(_case("2_2"), Role.CLIENT)
    assert plan.writes[0].data.startswith(b"GET /ws HTTP/1.1\r\n")
    moved = edit_path(plan, "/echo?x=1")
    assert moved.writes[0].data.startswith(b"GET /echo?x=1 HTTP/1.1\r\n")
    assert moved.writes[1:] == plan.writes[1:]
    assert edit_path(plan.__class__(**{**_fields(plan), "writes": ()}), "/x").writes == ()


def _fields(plan):  # type: ignore[no-untyped-def]
    return {f: getattr(plan, f) for f in plan.__dataclass_fields__}


@contextlib.contextmanager
def pinging_server(seen: list[str]) -> Iterator[str]:
    """websockets: pings the client at once, waits for the pong, then closes
    with 1000; ``seen`` gets "pong" when the pong came."""
    from websockets.asyncio.server import ServerConnection, serve

    async def handler(ws: ServerConnection) -> None:
        waiter = await ws.ping(b"hi")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, 2)
            seen.append("pong")
        await ws.close(1000)

    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict[str, object] = {}

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0) as server:
            box["port"] = next(iter(server.sockets)).getsockname()[1]
            box["stop"] = stop = asyncio.Event()
            started.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield f"ws://127.0.0.1:{box['port']}/"
    finally:
        loop.call_soon_threadsafe(box["stop"].set)  # type: ignore[attr-defined]
        thread.join(10)
        loop.close()


def test_the_fuzzer_answers_pings_and_a_close() -> None:
    seen: list[str] = []
    with pinging_server(seen) as url:
        target = parse_target(url)
        # 7.1.1's client side: a text message, then it waits for the echo,
        # which this server never sends: it pings and closes instead.
        plan = build_plan(_case("7_1_1"), Role.CLIENT, fill=True)
        live = edit_path(client_plan(plan, target, keep_host=False, fresh_key=True), "/")
        result = asyncio.run(replay_client(live, target, timeout=2.0, kind=FuzzerRunner))
    assert seen == ["pong"]
    dc = decode_connection(result.connection)
    tx = [f for f in dc.frames_of(Direction.TX) if f.opcode in (Opcode.PONG, Opcode.CLOSE)]
    assert [(f.opcode, f.payload) for f in tx] == [
        (Opcode.PONG, b"hi"),
        (Opcode.CLOSE, b"\x03\xe8"),
    ]
    assert any("answered" in n for n in result.outcome.notes)


def _wire(server: list[bytes]):  # type: ignore[no-untyped-def]
    """The seed's handshake, one client text "hi", then ``server``'s frames."""
    from servers import SEED_REQUEST, SEED_RESPONSE

    from wirelog.model import Chunk, Connection, Marker, MarkerKind
    from wirelog.protocol.frames import encode_frame

    c = Connection(0, "t", Role.CLIENT)
    wires = [(Direction.TX, SEED_REQUEST), (Direction.RX, SEED_RESPONSE)]
    wires.append((Direction.TX, encode_frame(Opcode.TEXT, b"hi", mask=b"abcd")))
    wires += [(Direction.RX, data) for data in server]
    for i, (d, data) in enumerate(wires):
        c.chunks.append(Chunk(d, data, len(data), i))
    c.markers.append(Marker(MarkerKind.FIN, len(wires), Direction.RX))
    return decode_connection(c)


def test_fragmentation_and_close_reasons_are_notes_not_differences() -> None:
    from wirelog.protocol.frames import encode_frame
    from wirelog.replay.verdict import compare

    whole = encode_frame(Opcode.TEXT, b"hello")
    parts = [
        encode_frame(Opcode.TEXT, b"he", fin=False),
        encode_frame(Opcode.CONT, b"llo"),
    ]
    a = _wire([whole, encode_frame(Opcode.CLOSE, b"\x03\xe8")])
    b = _wire([*parts, encode_frame(Opcode.CLOSE, b"\x03\xe8No Error")])
    v = compare(a, b)
    assert v.equivalent, v.as_dict()
    assert any("frames differ, messages agree" in n for n in v.notes)
    assert any("close reason '' -> 'No Error'" in n for n in v.notes)
    # another close code, or another message, is still a difference
    c = _wire([whole, encode_frame(Opcode.CLOSE, b"\x03\xea")])
    assert [d.topic for d in compare(a, c).differences][:1] == ["server messages"]
    d = _wire([encode_frame(Opcode.TEXT, b"hellO"), encode_frame(Opcode.CLOSE, b"\x03\xe8")])
    assert {x.topic for x in compare(a, d).differences} >= {"server messages", "server frames"}


def test_waits_in_events_ignore_fragments_and_pings() -> None:
    from wirelog.protocol.frames import encode_frame
    from wirelog.replay.progress import Need, Progress

    p = Progress(Role.SERVER, handshake=False)
    p.feed(encode_frame(Opcode.PING, b"x") + encode_frame(Opcode.TEXT, b"a", fin=False))
    assert (p.frames, p.events, p.pings) == (2, 0, [b"x"])
    want = Need(events=1, by_events=True)
    assert not p.satisfies(want)
    p.feed(encode_frame(Opcode.CONT, b"b"))
    assert p.satisfies(want) and p.events == 1
    p.feed(encode_frame(Opcode.CLOSE, b"\x03\xe8"))
    assert p.events == 2 and p.close_payload == b"\x03\xe8"
    assert Need(True, events=2, by_events=True).describe() == "the HTTP head + 2 events"
    # a plan built in events waits in them
    plan = build_plan(_case("2_2"), Role.CLIENT, events=True)
    assert all(w.need.by_events for w in plan.writes) and plan.final.by_events


def _fuzz(url: str, case: str, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """Case ``case``'s client side played by the fuzzer against ``url``."""
    target = parse_target(url)
    plan = build_plan(_case(case), Role.CLIENT, fill=True)
    live = edit_path(client_plan(plan, target, keep_host=False, fresh_key=True), "/")
    return asyncio.run(replay_client(live, target, timeout=timeout, kind=FuzzerRunner))


def test_a_server_that_never_drops_tcp_gets_autobahns_1_s() -> None:
    """serverConnectionDropTimeout: 1 s after the closing handshake the
    fuzzing client aborts, and its report says so, where a plain replay
    waits its whole timeout (10 s here)."""
    from servers import Misbehaving

    from wirelog.replay.record import to_autobahn
    from wirelog.summary import closing_of

    with Misbehaving("noclose") as srv:
        result = _fuzz(srv.url, "2_2")
    o = result.outcome
    assert o.never_closed and o.dropped_by_me and not o.close_handshake_timeout
    assert any("serverConnectionDropTimeout" in n for n in o.notes)
    assert 1.0 <= o.duration < 3.0, o.duration
    dc = decode_connection(result.connection)
    closing = closing_of(dc)
    assert closing.clean and closing.dropped_by is Role.CLIENT and closing.reset
    doc = to_autobahn(result.connection, decoded=dc)
    assert doc["wasServerConnectionDropTimeout"] and doc["droppedByMe"]
    assert doc["wasClean"] is False and doc["wasCloseHandshakeTimeout"] is False


def test_a_server_that_ignores_our_close_gets_autobahns_1_s() -> None:
    """closeHandshakeTimeout: no close within 1 s of the fuzzer's: abort."""
    from servers import Misbehaving

    from wirelog.replay.record import to_autobahn

    with Misbehaving("deaf-close") as srv:
        result = _fuzz(srv.url, "2_2")
    o = result.outcome
    assert o.close_handshake_timeout and o.dropped_by_me and not o.never_closed
    assert any("closeHandshakeTimeout" in n for n in o.notes)
    assert 1.0 <= o.duration < 3.0, o.duration
    dc = decode_connection(result.connection)
    assert [f.opcode for f in dc.frames_of(Direction.RX)] == [Opcode.PONG]  # no close came
    doc = to_autobahn(result.connection, decoded=dc)
    assert doc["wasCloseHandshakeTimeout"] and doc["closedByMe"] and doc["remoteCloseCode"] is None


@pytest.mark.parametrize("fin", [False, True])
def test_a_server_that_closes_and_stops_reading_mid_write(fin: bool) -> None:
    """A server that fails the connection in the middle of a long write and
    reads no more (websockets against 9.3.2's 16,384 fragments): the answer
    to its close is queued behind the write, and 1 s later the fuzzer
    aborts, as Autobahn does, instead of waiting out the case's 100 s; a
    server that also sends its FIN (websockets does) ends it at once."""
    import socket as so
    import time

    from servers import LoopbackServer, _read_head, _upgrade

    from wirelog.model import Chunk, Connection, Marker, MarkerKind
    from wirelog.protocol.frames import encode_frame

    class FailsMidMessage(LoopbackServer):
        def _handle(self, conn: so.socket) -> None:
            conn.sendall(_upgrade(_read_head(conn)))
            conn.recv(4096)  # some of the message, then fail and read no more
            conn.sendall(encode_frame(Opcode.CLOSE, b"\x03\xf1too many fragments"))
            if fin:
                conn.shutdown(so.SHUT_WR)
            self._stop.wait(30)

    from servers import SEED_REQUEST, SEED_RESPONSE

    c = Connection(0, "t", Role.CLIENT)
    wire = b"".join(
        encode_frame(Opcode.TEXT if i == 0 else 0, b"x" * 256, fin=i == 16383, mask=b"abcd")
        for i in range(16384)
    )
    for i, (d, data) in enumerate(
        [(Direction.TX, SEED_REQUEST), (Direction.RX, SEED_RESPONSE), (Direction.TX, wire)]
    ):
        c.chunks.append(Chunk(d, data, len(data), i))
    c.markers.append(Marker(MarkerKind.FIN, 3, Direction.RX))
    with FailsMidMessage("fails") as srv:
        target = parse_target(srv.url)
        plan = build_plan(c, Role.CLIENT)
        live = edit_path(client_plan(plan, target, keep_host=False, fresh_key=True), "/")
        began = time.perf_counter()
        result = asyncio.run(replay_client(live, target, timeout=100.0, kind=FuzzerRunner))
        took = time.perf_counter() - began
    o = result.outcome
    assert "answered the peer's close" in o.notes and o.dropped_by_me and not o.stalled
    if fin:
        assert "the peer dropped TCP before reading all we sent: aborted" in o.notes
        assert took < 3.0 and not o.never_closed, (took, o.faults)
    else:
        assert o.never_closed and 1.0 <= took < 5.0, (took, o.faults)
