"""The per-case JSON report (spec ``autobahn-wirelog.md`` §1).

Reports are built here the way Autobahn writes them: ``bin_log`` and
``ascii_log`` below follow autobahn 0.10.9's ``binLogData``/``asciiLogData``
(spec §1.4) independently of the parser, and the JSON is dumped with
Python 2's settings (sorted keys, ensure_ascii).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wirelog.errors import InputError, TruncatedInputError
from wirelog.model import Direction, MarkerKind, Role, ViolationKind
from wirelog.pipeline import decode, detect, read
from wirelog.protocol.frames import encode_frame
from wirelog.protocol.handshake import accept_for
from wirelog.sources.autobahn.log import payload_from_log

TX, RX = Direction.TX, Direction.RX
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
REQUEST = (
    "GET /ws HTTP/1.1\r\nUser-Agent: AutobahnTestSuite/25.10.1-0.10.9\r\nHost: 127.0.0.1:9001\r\n"
    "Upgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
RESPONSE = (
    "HTTP/1.1 101 Switching Protocols\r\nServer: Test/1.0 with a long enough header line\r\n"
    f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept_for(KEY)}\r\n\r\n"
)
MASK = "1bbc4f88"


def bin_log(data: bytes) -> list[Any]:
    if len(data) > 60:
        return [len(data), data[:64].hex() + " ..."]
    return [len(data), data.hex()]


def ascii_log(data: bytes) -> list[Any]:
    cut = data[:64] + b" ..." if len(data) > 60 else data
    try:
        text = cut.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        text = "0x" + (data[:64].hex() + " ..." if len(data) > 60 else data.hex())
    return [len(data), text]


def tf(payload: bytes, opcode: int = 1, mask: str | None = MASK, **kw: Any) -> list[Any]:
    return [
        "TF",
        ascii_log(payload),
        opcode,
        kw.get("fin", True),
        0,
        mask,
        kw.get("repeat"),
        kw.get("chop"),
        kw.get("sync", False),
    ]


def to(data: bytes, sync: bool = False) -> list[Any]:
    return ["TO", bin_log(data), sync]


def ro(data: bytes) -> list[Any]:
    return ["RO", bin_log(data)]


def rf(payload: bytes, opcode: int = 1, mask: str | None = None) -> list[Any]:
    return ["RF", ascii_log(payload), opcode, True, 0, mask is not None, mask]


def client_report(wirelog: list[Any], **facts: Any) -> dict[str, Any]:
    """Client mode (the fuzzer is the client): TO 0 = request, RO 1 = response."""
    doc: dict[str, Any] = {
        "agent": "Test Server",
        "behavior": "OK",
        "case": 1,
        "closedByMe": True,
        "createStats": True,
        "createWirelog": True,
        "droppedByMe": False,
        "failedByMe": False,
        "httpRequest": REQUEST,
        "httpResponse": RESPONSE,
        "id": "1.1.1",
        "isServer": False,
        "wirelog": [to(REQUEST.encode()), ro(RESPONSE.encode()), *wirelog],
    }
    doc.update(facts)
    for key, kind in (("tx", "TO"), ("rx", "RO")):
        counts: dict[int, int] = {}
        for e in doc["wirelog"]:
            if e[0] == kind:
                counts[e[1][0]] = counts.get(e[1][0], 0) + 1
        doc.setdefault(f"{key}OctetStats", {str(k): v for k, v in sorted(counts.items())})
    for key, kind in (("tx", "TF"), ("rx", "RF")):
        ops: dict[int, int] = {}
        for e in doc["wirelog"]:
            if e[0] == kind:
                ops[e[2]] = ops.get(e[2], 0) + 1
        doc.setdefault(f"{key}FrameStats", {str(k): v for k, v in sorted(ops.items())})
    return doc


def write(tmp_path: Path, doc: Any, name: str = "x_case_1_1_1.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc, sort_keys=True, indent=3, separators=(",", ": ")))
    return str(path)


# -- spec §1.4: the two log encodings -------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"Hello, world!",
        b"0x12",  # text that merely starts with "0x"
        b"0x" + b"ab" * 30,  # ... even when what follows looks like hex
        b"\x03\xe8",  # close 1000: hex form
        b"\x00\x00",  # close code 0: text form
        b"x" * 61,  # 61-64 bytes: complete, yet " ..." is appended
        b"x" * 64,
        "\u00e9".encode() * 40,  # 80 bytes, cut at a code point boundary
        b"\xfe" * 200,  # cut, hex form
        b"a" * 63 + "\u00e9".encode(),  # a code point split at byte 64: hex form
        b"\xed\xa0\x80",  # a lone surrogate, as Python 2 let it through
        b"\xed\xa0\x80\xed\xb0\x80",  # a surrogate pair as six bytes (6.21.x)
        "\U00010000".encode(),  # the same pair as one 4-byte character
    ],
)
def test_payload_round_trip(data: bytes) -> None:
    length, text = ascii_log(data)
    # What the parser sees went through a JSON file written by Python 2.
    text = json.loads(json.dumps(text))
    assert payload_from_log(text, length) == data[:64]


def test_all_eleven_entry_kinds(tmp_path: Path) -> None:
    ping = b"ping!"
    doc = client_report(
        [
            ["CT", 1, "A"],
            ["CTE", "A"],
            ["KL", 0.5],
            ["KLE"],
            ["TI", 10],
            ["TIE"],
            ["WLM", False],
            ["WLM", True],
            tf(ping, 9),
            to(encode_frame(9, ping, mask=bytes.fromhex(MASK))),
            ro(encode_frame(10, ping)),
            rf(ping, 10),
        ],
        droppedByMe=True,
    )
    (conn,) = read(write(tmp_path, doc)).connections
    markers = [(m.kind, m.index, m.value, m.tag, m.raw) for m in conn.markers]
    assert markers == [
        (MarkerKind.DELAY, 2, 1, "A", 1),
        (MarkerKind.DELAY_FIRED, 3, None, "A", None),
        (MarkerKind.KILL_AFTER, 4, 0.5, None, 0.5),
        (MarkerKind.KILL_FIRED, 5, None, None, None),
        (MarkerKind.CLOSE_AFTER, 6, 10, None, 10),
        (MarkerKind.CLOSE_FIRED, 7, None, None, None),
        (MarkerKind.WIRELOG, 8, False, None, False),
        (MarkerKind.WIRELOG, 9, True, None, True),
        (MarkerKind.DROPPED, 14, None, None, "TCP DROPPED BY ME"),
    ]
    assert isinstance(conn.markers[0].raw, int) and isinstance(conn.markers[2].raw, float)
    assert conn.markers[-1].direction is TX
    assert [(c.direction, c.index, c.opcode, c.payload, c.mask) for c in conn.claims] == [
        (TX, 10, 9, ping, bytes.fromhex(MASK)),
        (RX, 13, 10, ping, None),
    ]
    assert [(c.direction, c.index) for c in conn.chunks] == [(TX, 0), (RX, 1), (TX, 11), (RX, 12)]
    kinds = [v.kind for v in conn.findings]
    assert kinds == [ViolationKind.LOGGING_OFF]  # the WLM False


def test_meta_keeps_the_report_and_its_statistics(tmp_path: Path) -> None:
    doc = client_report([])
    (conn,) = read(write(tmp_path, doc)).connections
    assert "wirelog" not in conn.meta
    assert conn.meta["httpRequest"] == REQUEST and conn.meta["case"] == 1
    assert conn.meta["case_id"] == "1.1.1" and conn.meta["agent"] == "Test Server"
    assert conn.meta["reported_stats"].to_autobahn()["txOctetStats"] == doc["txOctetStats"]
    assert conn.recorder is Role.CLIENT
    assert conn.handshake_request == REQUEST.encode()
    assert conn.handshake_response == RESPONSE.encode()


def test_cut_octets_keep_their_length_and_heads_are_rebuilt(tmp_path: Path) -> None:
    doc = client_report([])
    (conn,) = read(write(tmp_path, doc)).connections
    req, resp = conn.chunks
    assert req.length == len(REQUEST) and req.data == REQUEST.encode() and req.rebuilt
    assert resp.length == len(RESPONSE) and resp.data == RESPONSE.encode() and resp.rebuilt


def test_big_frames_stay_cut_when_the_payload_is_not_known(tmp_path: Path) -> None:
    """1.1.6-like: 65535 bytes of "*" logged as a 64-byte prefix. The header
    (8 bytes) and the TF's 64-byte payload prefix are known, so the chunk
    grows to 72 exact bytes; the rest (no PAYLOAD-REPEAT-LEN) stays missing."""
    payload = b"*" * 65535
    wire = encode_frame(1, payload, mask=bytes.fromhex(MASK))
    doc = client_report([tf(payload), to(wire)])
    (dc,) = decode(write(tmp_path, doc))
    chunk = dc.connection.chunks[2]
    assert (chunk.length, chunk.data, chunk.missing, chunk.rebuilt) == (
        65543,
        wire[:72],
        65471,
        True,
    )
    (f,) = dc.frames
    assert (f.length, f.complete, f.from_log, f.payload) == (65535, False, False, b"*" * 64)
    assert f.offset == len(REQUEST)


def test_repeat_len_chopsize_and_mask_rebuild_the_tx_chunks(tmp_path: Path) -> None:
    """7.1.6 and 1.1.8 together: a repeated base payload, masked, written in
    997-byte sync pieces with a short tail (spec §3.1, §3.2)."""
    base = b"BAsd7&jh23"
    full = (base * 300)[:3000]
    wire = encode_frame(1, full, mask=bytes.fromhex(MASK))
    pieces = [wire[i : i + 997] for i in range(0, len(wire), 997)]
    assert [len(p) for p in pieces] == [997, 997, 997, 17]
    log = [tf(base, repeat=3000, chop=997), *[to(p, sync=True) for p in pieces]]
    (dc,) = decode(write(tmp_path, client_report(log)))
    tx = [c for c in dc.connection.chunks if c.direction is TX][1:]
    assert [c.data for c in tx] == pieces
    assert [c.rebuilt for c in tx] == [True, True, True, False]
    assert all(c.sync for c in tx)
    (f,) = dc.frames
    assert (f.payload, f.from_log, f.violations) == (full, False, ())
    (claim,) = dc.connection.claims
    assert (claim.length, claim.logged_len, claim.repeat_len, claim.chopsize) == (
        3000,
        10,
        3000,
        997,
    )


def test_a_rebuild_never_contradicts_the_logged_prefix(tmp_path: Path) -> None:
    base = b"BAsd7&jh23"
    other = encode_frame(1, (b"zzzzzzzzzz" * 10)[:100], mask=bytes.fromhex(MASK))
    (dc,) = decode(write(tmp_path, client_report([tf(base, repeat=100), to(other)])))
    chunk = dc.connection.chunks[2]
    assert (len(chunk.data), chunk.rebuilt) == (64, False)
    kinds = [v.kind for v in dc.violations]
    assert ViolationKind.CLAIM_MISMATCH in kinds


def test_client_mode_first_read_may_hold_response_and_frames(tmp_path: Path) -> None:
    """RO 1 = the response plus a frame that came in the same read."""
    text = encode_frame(1, b"x" * 100)
    first = RESPONSE.encode() + text
    doc = client_report([rf(b"x" * 100)])
    doc["wirelog"][1] = ro(first)
    doc["rxOctetStats"] = {str(len(first)): 1}
    (dc,) = decode(write(tmp_path, doc))
    chunk = dc.connection.chunks[1]
    assert chunk.length == len(first)
    assert chunk.data == RESPONSE.encode() and chunk.rebuilt  # the head, no more
    (f,) = [f for f in dc.frames if f.direction is RX]
    assert (f.from_log, f.length, f.payload, f.offset) == (True, 100, b"x" * 64, None)


def test_is_server_decides_who_masks(tmp_path: Path) -> None:
    """Server mode: RO 0 = request, TO 1 = response; the peer (client) masks."""
    unmasked = encode_frame(1, b"hi")
    doc = client_report([], isServer=True)
    doc["wirelog"] = [ro(REQUEST.encode()), to(RESPONSE.encode()), ro(unmasked), rf(b"hi")]
    doc["rxOctetStats"] = {str(len(unmasked)): 1, str(len(REQUEST)): 1}
    doc["txOctetStats"] = {str(len(RESPONSE)): 1}
    doc["rxFrameStats"] = {"1": 1}
    doc["txFrameStats"] = {}
    (dc,) = decode(write(tmp_path, doc))
    assert dc.connection.recorder is Role.SERVER
    (f,) = dc.frames
    assert (f.direction, f.sender) == (RX, Role.CLIENT)
    assert ViolationKind.UNMASKED_CLIENT_FRAME in f.violations


def test_unknown_heads_are_absent(tmp_path: Path) -> None:
    doc = client_report([], httpRequest="?", httpResponse="?")
    doc["wirelog"] = []
    (conn,) = read(write(tmp_path, doc)).connections
    assert conn.handshake_request is None and conn.handshake_response is None


@pytest.mark.parametrize(
    ("facts", "logging_off"),
    [
        ({"id": "9.1.1"}, True),  # switched off without a WLM entry (spec §1.3)
        ({"id": "9.6.6"}, True),
        ({"id": "9.7.1"}, False),  # uses WLM; none here, so nothing was hidden
        ({"id": "1.1.1", "createWirelog": False}, True),
        ({"id": "1.1.1"}, False),
    ],
)
def test_logging_off_is_a_finding(tmp_path: Path, facts: dict[str, Any], logging_off: bool) -> None:
    (conn,) = read(write(tmp_path, client_report([], **facts))).connections
    assert (ViolationKind.LOGGING_OFF in [v.kind for v in conn.findings]) is logging_off


def test_lone_surrogates_from_python2_json_load(tmp_path: Path) -> None:
    path = tmp_path / "s_case_6_20_1.json"
    doc = client_report([tf(b"\xed\xa0\x80")])
    text = json.dumps(doc, sort_keys=True, indent=3)
    assert "\\ud800" in text
    path.write_text(text)
    (conn,) = read(str(path)).connections
    assert conn.claims[0].payload == b"\xed\xa0\x80"


# -- bad input ----------------------------------------------------------------------------


def test_corrupted_hex_names_the_entry(tmp_path: Path) -> None:
    doc = client_report([to(b"\x81\x00")])
    doc["wirelog"][2][1][1] = "81zz"
    path = write(tmp_path, doc)
    with pytest.raises(InputError) as err:
        read(path)
    assert err.value.location == "entry 2" and err.value.source == path
    assert "\n" not in str(err.value)


def test_truncated_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t_case_1_1_1.json"
    text = json.dumps(client_report([]), sort_keys=True, indent=3)
    path.write_text(text[: len(text) // 2])
    with pytest.raises(TruncatedInputError) as err:
        read(str(path))
    assert err.value.location is not None and err.value.location.startswith("line ")
    assert int(err.value.location.split()[1]) > 10


@pytest.mark.parametrize(
    "entry",
    [
        ["XX", 1],
        ["RO", [3]],
        ["TF", [1, "a"], 1],
        ["KL", "soon"],
        "RO",
        ["RF", [1, "a"], 1, 1, 0, 0, "zz"],
    ],
)
def test_malformed_entries_raise_input_errors(tmp_path: Path, entry: Any) -> None:
    doc = client_report([entry])
    with pytest.raises(InputError) as err:
        read(write(tmp_path, doc))
    assert err.value.location == "entry 2"


def test_json_that_is_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"a": 1}')
    with pytest.raises(InputError):
        read(str(path))
    assert detect(str(write(tmp_path, client_report([])))) == "autobahn-json"
