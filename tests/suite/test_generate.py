"""Data-phase cases (9.x, 12.x, 13.x) generated from their definitions and
judged by their own checks: a subset against the real ``websockets`` server
(whose echoes pass, as the shared reports' compliant server's did), and a
real ``websockets`` server that echoes reversed payloads (12.x compares the
contents and fails; 9.x, like Autobahn's, checks only type and length)."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from servers import Server, websockets_in_thread, ws_echo  # noqa: F401
from suite_data import REPORTS, kinds, logs_as_autobahn
from websockets.asyncio.server import ServerConnection

from wirelog.errors import PlanError
from wirelog.model import Chunk, ClaimedFrame, Direction, Marker, MarkerKind, Role
from wirelog.pipeline import decode
from wirelog.protocol.connection import decode_connection
from wirelog.replay.quiet import Quiet, quieted
from wirelog.sources.autobahn.write import LogItem, wirelog_entries
from wirelog.suite.cases import data_case
from wirelog.suite.generate import (
    GENERATED,
    _deflate,
    _fragments,
    _messages,
    echoes,
    generate,
    generate_server,
)
from wirelog.suite.run import run_suite

REFERENCE = str(REPORTS / "testing-a-server")
SUBSET = "9.1.1,9.2.1,9.7.1,12.1.1,12.2.11,13.1.1,13.3.1,13.7.1"


@pytest.fixture(scope="module")
def refs() -> dict[str, object]:
    return {str(dc.connection.meta["case_id"]): dc for dc in decode(REFERENCE)}


def test_fragments_as_autobahn_cuts_them() -> None:
    four = _fragments(1, b"x" * 8, 4)
    assert [(op, len(p), fin) for op, p, fin, _ in four] == [
        (1, 4, False),
        (0, 4, False),
        (0, 0, True),
    ]
    odd = _fragments(2, b"x" * 9, 4, rsv=4)
    assert [(op, len(p), fin, rsv) for op, p, fin, rsv in odd] == [
        (2, 4, False, 4),
        (0, 4, False, 0),
        (0, 1, True, 0),
    ]
    assert _fragments(1, b"abc", None) == [(1, b"abc", True, 0)]


def test_deflate_is_raw_and_without_the_tail() -> None:
    data = b"hello hello hello hello"
    for wbits in (9, 15):
        z = _deflate(data, wbits)
        assert not z.endswith(b"\x00\x00\xff\xff")
        assert zlib.decompressobj(-15).decompress(z + b"\x00\x00\xff\xff") == data


@pytest.mark.parametrize("case_id", ["12.1.10", "12.2.10"])
def test_deflate_fits_each_window(case_id: str) -> None:
    """A message compressed for a window inflates with exactly that window:
    zlib refuses a back-reference beyond it ("invalid distance too far
    back"), so a stream cut for a larger window fails here."""
    case = data_case(case_id)
    assert case is not None
    message = _messages(case_id, case)[3]
    for wbits in range(9, 16):
        z = _deflate(message, wbits)
        assert zlib.decompressobj(-wbits).decompress(z + b"\x00\x00\xff\xff") == message
    wide = _deflate(message, 15)
    with pytest.raises(zlib.error, match="too far back"):
        zlib.decompressobj(-9).decompress(wide + b"\x00\x00\xff\xff")


def test_the_plans_follow_the_case_definitions(refs: dict[str, object]) -> None:
    g = generate(refs["9.3.1"], "9.3.1", data_case("9.3.1"))  # type: ignore[arg-type]
    # 4 MiB in 64-octet frames: 65536 of them plus the empty final continuation
    assert g.plan.final.frames == 65536 + 1 + 1 and len(g.plan.writes) == 3
    g = generate(refs["9.5.2"], "9.5.2", data_case("9.5.2"))  # type: ignore[arg-type]
    assert {len(w.data) for w in g.plan.writes[1:-2]} == {128}  # chops of 128 octets
    g = generate(refs["13.3.1"], "13.3.1", data_case("13.3.1"))  # type: ignore[arg-type]
    assert len(g.sent) == 1000 and {len(p) for _, p in g.sent} == {16}
    assert len({p for _, p in g.sent}) > 100  # cut at moving offsets
    assert g.plan.writes[1].data[0] & 0x40  # RSV1: compressed
    assert g.plan.writes[0].data == refs["13.3.1"].connection.handshake_request  # type: ignore[attr-defined]
    assert g.plan.notes == (GENERATED,)


def test_a_reference_that_cannot_be_generated_from(refs: dict[str, object]) -> None:
    dc = refs["12.1.1"]
    conn = dc.connection  # type: ignore[attr-defined]
    case = data_case("12.1.1")
    assert case is not None
    plain = conn.handshake_request.replace(b"permessage-deflate", b"x-other")
    with pytest.raises(PlanError, match="offers no permessage-deflate"):
        generate(
            type(dc)(**{**_fields(dc), "connection": _with(conn, handshake_request=plain)}),
            "12.1.1",
            case,
        )
    with pytest.raises(PlanError, match="no client opening handshake"):
        generate(
            type(dc)(**{**_fields(dc), "connection": _with(conn, recorder=Role.SERVER)}),
            "12.1.1",
            case,
        )


def _fields(obj: object) -> dict[str, object]:
    import dataclasses

    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]


def _with(obj: object, **changes: object) -> object:
    import dataclasses

    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]


def test_a_compliant_server_passes_the_generated_cases(
    ws_echo: Server,  # noqa: F811
    refs: dict[str, object],
) -> None:
    run = run_suite(REFERENCE, ws_echo.url, cases=[SUBSET], agent="websockets")
    assert not run.not_run and len(run.cases) == 8
    for c in run.cases:
        recorded = refs[c.case_id].connection.meta  # type: ignore[attr-defined]
        # the reference server passed each of these; websockets does too
        assert recorded["behavior"] == "OK"
        assert (c.verdict.behavior, c.verdict.behavior_close) == ("OK", "OK"), (
            c.case_id,
            c.verdict,
        )
        assert GENERATED in c.doc["description"] and c.notes[0] == GENERATED
        assert c.doc["duration"] > 0
        logs_as_autobahn(REPORTS / "testing-a-server", c.case_id, c.doc)
    texts = {c.case_id: c.verdict.result for c in run.cases}
    assert texts["9.1.1"] == "Received text message of length 65536."
    assert texts["9.2.1"] == "Received binary message of length 65536."
    assert texts["12.1.1"] == "Ok, received all echo'ed messages in time."


def test_the_log_goes_off_as_autobahn_switches_it() -> None:
    """The rules of :mod:`wirelog.replay.quiet` on one client session: off
    after the read completing the 101 (frames in that read unlogged), back
    on before the case's own close; never back once closeAfter fired or
    the peer closed first; nothing goes off if the handshake failed."""
    req = b"GET / HTTP/1.1\r\n\r\n"
    resp = b"HTTP/1.1 101 Switching Protocols\r\n\r\n"
    tx, rx = Direction.TX, Direction.RX

    def claim(d: Direction, opcode: int, i: int) -> ClaimedFrame:
        return ClaimedFrame(d, i, opcode, True, 0, d is tx, None, 2, b"", 2)

    def session(*middle: LogItem) -> list[LogItem]:
        return [
            Chunk(tx, req, len(req), 0),
            Chunk(rx, resp[:10], 10, 1),
            Chunk(rx, resp[10:] + b"\x81\x00", len(resp) - 10 + 2, 2),
            claim(rx, 1, 3),  # a frame that came with the 101
            Marker(MarkerKind.CLOSE_AFTER, 4, value=10),
            Chunk(tx, b"\x81\x80abcd", 6, 5),
            *middle,
        ]

    own_close = [claim(tx, 8, 9), Chunk(tx, b"\x88\x80abcd", 6, 10)]

    def run(items: list[LogItem], *, marked: bool = True, **kw: Any) -> tuple[list[object], bool]:
        args = {"recorder": Role.CLIENT, "response_length": len(resp), "deflate": True, **kw}
        out = quieted(items, [None] * len(items), quiet=Quiet(marked, needs_deflate=True), **args)
        return [kinds(wirelog_entries(out.items))[i] for i in range(len(out.items))], out.enabled

    head = ["TO", "RO", "RO"]
    ok = [*head, ("WLM", False), "TI", ("WLM", True), "TF", "TO"]
    assert run(session(*own_close)) == (ok, True)
    assert run(session(*own_close), marked=False) == (["TO", "RO", "RO", "TI", "TF", "TO"], True)
    fired = session(Marker(MarkerKind.CLOSE_FIRED, 8), *own_close)
    assert run(fired) == ([*head, ("WLM", False), "TI", "TIE"], False)
    peer_first = session(Chunk(rx, b"\x88\x00", 2, 7), claim(rx, 8, 8), *own_close)
    assert run(peer_first) == ([*head, ("WLM", False), "TI"], False)
    # 12.x/13.x without deflate: UNIMPLEMENTED, the close goes out unlogged
    assert run(session(*own_close), deflate=False) == ([*head, ("WLM", False), "TI"], False)
    # the handshake failed: onOpen never ran, everything is logged
    everything = run(session(*own_close), response_length=None)
    assert everything == (["TO", "RO", "RO", "RF", "TI", "TO", "TF", "TO"], True)
    # a server writes the 101: off after that write
    server = [Chunk(rx, req, len(req), 0), Chunk(tx, resp, len(resp), 1), Chunk(rx, b"x", 1, 2)]
    assert run(server, recorder=Role.SERVER) == (["RO", "TO", ("WLM", False)], False)


@contextlib.contextmanager
def reversing_echo() -> Iterator[str]:
    """A websockets server (permessage-deflate on, as by default) that
    echoes every message reversed: same type and length, other contents."""

    async def handler(ws: ServerConnection) -> None:
        async for msg in ws:
            await ws.send(msg[::-1])

    with websockets_in_thread(handler) as url:
        yield url


def test_wrong_contents_fail_where_autobahn_compares_them() -> None:
    with reversing_echo() as url:
        run = run_suite(REFERENCE, url, cases=["9.2.1,12.1.1"], agent="reversing")
    v = {c.case_id: c.verdict for c in run.cases}
    assert v["9.2.1"].behavior == "OK"  # 9.x checks type and length only
    assert v["12.1.1"].behavior == "FAILED"
    assert v["12.1.1"].result.startswith("Echo'ed message contents differs from what I sent")


def test_echoes_without_their_payload_have_no_sha1(refs: dict[str, object]) -> None:
    """The recorded 12.1.1 (the reference's own connection) logs no data
    phase: no echo to read, so nothing is compared."""
    dc = refs["12.1.1"]
    assert echoes(decode_connection(dc.connection), ((False, b"x"),)).echoes == ()  # type: ignore[attr-defined]


def test_the_server_side_sends_unmasked_compressed_as_answered() -> None:
    # suite serve: the server-mode reference (the fuzzer was the server)
    [ref] = [
        dc
        for dc in decode(str(REPORTS / "testing-a-client"))
        if dc.connection.meta["case_id"] == "13.3.1"
    ]
    offer = (
        b"GET / HTTP/1.1\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    )
    g = generate_server(ref, "13.3.1", data_case("13.3.1"), offer)  # type: ignore[arg-type]
    head = g.plan.writes[0].data
    assert b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9\r\n" in head
    assert g.plan.role is Role.SERVER and g.plan.writes[0].need.head  # after the request
    for w, (_, payload) in zip(g.plan.writes[1:6], g.sent, strict=False):
        assert w.data[0] & 0x40 and not w.data[1] & 0x80  # RSV1, no mask
        body = w.data[2 : 2 + (w.data[1] & 0x7F)]
        assert zlib.decompressobj(-15).decompress(body + b"\x00\x00\xff\xff") == payload
    assert g.plan.writes[-1].data == b"\x88\x02\x03\xe8"  # the close, unmasked
    with pytest.raises(PlanError, match="no server opening handshake"):
        generate_server(refs_of(REFERENCE)["13.3.1"], "13.3.1", data_case("13.3.1"), offer)  # type: ignore[arg-type]


def refs_of(folder: str) -> dict[str, object]:
    return {str(dc.connection.meta["case_id"]): dc for dc in decode(folder)}


def test_an_8_bit_window_gets_stored_blocks() -> None:
    data = b"abcabcabc" * 100
    z = _deflate(data, 8)
    assert z[0] & 0x06 == 0  # BTYPE 00: stored, no back-references
    assert zlib.decompressobj(-15).decompress(z + b"\x00\x00\xff\xff") == data
