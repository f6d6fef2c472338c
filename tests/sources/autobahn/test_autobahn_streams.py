"""Bytes the log cut, rebuilt where other facts determine them (spec §3.1, §3.2)."""

from __future__ import annotations

from pathlib import Path

from autobahn_json_docs import (
    MASK,
    REQUEST,
    RESPONSE,
    RX,
    TX,
    client_report,
    rf,
    ro,
    tf,
    to,
    write,
)

from wirelog.model import ViolationKind
from wirelog.pipeline import decode, read
from wirelog.protocol.frames import encode_frame


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
