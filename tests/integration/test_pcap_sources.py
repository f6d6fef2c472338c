"""Captures of real libraries (websockets, aiohttp) decoded by wirelog,
checked against tshark (frames) and against what the libraries were told to
send (messages, from samples/manifest.json)."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import struct
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from captures_util import (
    HAVE_TSHARK,
    MANIFEST,
    SAMPLES,
    Packet,
    read_pcap,
    relink,
    tcp_of,
    tshark_frames,
    write_pcap,
)

from wirelog.errors import InputError, TruncatedInputError
from wirelog.model import Chunk, Direction, Frame, Handshake, Message, ViolationKind
from wirelog.pipeline import ConnectionEnd, Options, decode, read, stream

V = ViolationKind
NAMES = sorted(MANIFEST)
needs_tshark = pytest.mark.skipif(not HAVE_TSHARK, reason="tshark not installed")


def sample(name: str) -> Path:
    return SAMPLES / MANIFEST[name]["file"]


def port_of(endpoint: str | None) -> int:
    assert endpoint is not None
    return int(endpoint.rsplit(":", 1)[1])


def wirelog_frames(path: Path, **opts: Any) -> dict[tuple[int, int], list[tuple[int, bool, int]]]:
    """Frames per (conn, sender port), as tshark_frames shows them."""
    out: dict[tuple[int, int], list[tuple[int, bool, int]]] = defaultdict(list)
    for c, item in stream(str(path), Options(**opts)):
        if isinstance(item, Frame):
            sender = c.client if item.direction is Direction.TX else c.server
            out[(c.conn, port_of(sender))].append((item.opcode, item.fin, item.length))
    return dict(out)


_tshark_cache: dict[str, Any] = {}


def tshark_of(name: str) -> Any:
    if name not in _tshark_cache:
        _tshark_cache[name] = tshark_frames(sample(name), MANIFEST[name]["port"])
    return _tshark_cache[name]


@needs_tshark
@pytest.mark.parametrize("name", NAMES)
def test_frames_match_tshark(name: str) -> None:
    ours = wirelog_frames(sample(name))
    theirs = tshark_of(name)
    assert ours == theirs
    assert sum(len(v) for v in ours.values()) >= 6


def _expected(entry: dict[str, Any]) -> tuple[int, int, str]:
    opcode = {"text": 1, "binary": 2, "ping": 9}[entry["type"]]
    return opcode, entry["length"], entry["sha256"]


def _got(m: Message) -> tuple[int, int, str]:
    return m.opcode, m.length, hashlib.sha256(m.data).hexdigest()


@pytest.mark.parametrize("name", NAMES)
def test_messages_match_what_the_libraries_sent(name: str) -> None:
    spec = MANIFEST[name]
    decoded = decode(str(sample(name)))
    assert len(decoded) == len(spec["connections"])
    for dc, conn_spec in zip(decoded, spec["connections"], strict=True):
        sent = conn_spec["client_sent"]
        tx = [m for m in dc.messages if m.direction is Direction.TX]
        rx = [m for m in dc.messages if m.direction is Direction.RX]
        want_data = [_expected(e) for e in sent if e["type"] in ("text", "binary")]
        assert [_got(m) for m in tx if m.opcode in (1, 2)] == want_data
        # The servers echo every data message.
        assert [_got(m) for m in rx if m.opcode in (1, 2)] == want_data
        pings = [_expected(e) for e in sent if e["type"] == "ping"]
        assert [_got(m) for m in tx if m.opcode == 9] == pings
        assert [m.data for m in rx if m.opcode == 10] == [m.data for m in tx if m.opcode == 9]
        (close,) = [e for e in sent if e["type"] == "close"]
        (tx_close,) = [m for m in tx if m.opcode == 8]
        assert (tx_close.close_code, tx_close.close_reason or "") == (
            close["code"],
            close["reason"],
        )
        for m in dc.messages:
            assert m.complete and not m.violations, m
        assert not [v for v in dc.violations if not v.kind.is_finding]
        assert dc.handshake is not None and dc.handshake.accept_ok
        # fragments: the manifest says how many frames a message was sent in
        for e, m in zip(
            [e for e in sent if e["type"] in ("text", "binary")],
            [m for m in tx if m.opcode in (1, 2)],
            strict=True,
        ):
            assert m.frames == e.get("frames", 1)


def test_deflate_parameters_from_the_handshake() -> None:
    (dc,) = decode(str(sample("ws_deflate")))
    assert dc.handshake is not None and dc.handshake.deflate is not None
    assert not dc.handshake.deflate.client_no_context_takeover
    assert all(m.compressed for m in dc.messages if m.opcode in (1, 2))
    (dc,) = decode(str(sample("ws_deflate_no_context")))
    assert dc.handshake is not None
    d = dc.handshake.deflate
    assert d is not None and d.client_no_context_takeover and d.server_no_context_takeover
    assert d.server_max_window_bits == 10
    # Without context takeover every message stands alone: equal sizes.
    sizes = {m.wire_length for m in dc.messages if m.opcode == 1 and m.length == 940}
    assert sizes == {55}
    (dc,) = decode(str(sample("aiohttp_deflate")))
    assert dc.handshake is not None and dc.handshake.subprotocol == "chat.v1"


def test_keep_alive_http_before_the_upgrade_is_skipped() -> None:
    """aiohttp sends a plain GET, then the Upgrade, on one TCP connection."""
    rec = read(str(sample("aiohttp_ipv6")))
    (conn,) = rec.connections
    first = b"".join(c.data for c in conn.chunks if c.direction is Direction.TX)[:20]
    assert first.startswith(b"GET /ws HTTP/1.1")
    assert conn.client is not None and conn.client.startswith("[::1]:")
    assert conn.server == "[::1]:8769"


def test_connections_are_numbered_like_tcp_stream_and_others_counted() -> None:
    seen = []
    ends = 0
    events = stream(str(sample("multi_conn")))
    assert events.summary is None  # known once the input has been read
    for c, item in events:
        if isinstance(item, Handshake):
            seen.append(c.conn)
        ends += isinstance(item, ConnectionEnd)
    assert seen == [0, 1, 2] and ends == 3
    summary = events.summary
    assert summary is not None
    assert (summary.tcp_connections, summary.websocket) == (5, 3)
    assert (summary.http, summary.other) == (1, 1)
    rec = read(str(sample("multi_conn")))
    assert [f.kind for f in rec.findings] == [V.IGNORED_TRAFFIC]
    assert "1 plain HTTP" in rec.findings[0].detail


@needs_tshark
def test_multi_conn_streams_agree_with_tshark() -> None:
    theirs = tshark_of("multi_conn")
    assert {k[0] for k in theirs} == {0, 1, 2}
    assert wirelog_frames(sample("multi_conn")) == theirs


def test_filters_conn_and_port() -> None:
    path = str(sample("multi_conn"))
    conns = {c.conn for c, _ in stream(path, Options(conns=(1,)))}
    assert conns == {1}
    assert {c.conn for c, _ in stream(path, Options(ports=(8771,)))} == {0, 1, 2}
    assert list(stream(path, Options(ports=(9999,)))) == []


def test_chunks_are_segments_with_timestamps_in_capture_order() -> None:
    rec = read(str(sample("ws_basic")))
    (conn,) = rec.connections
    linktype, packets = read_pcap(sample("ws_basic"))
    assert linktype == 1
    segs = [(p, tcp_of(p.data)) for p in packets]
    sizes = [len(p.data) - t.payload for p, t in segs if t and len(p.data) > t.payload]
    assert [c.length for c in conn.chunks] == sizes
    idx = [c.index for c in conn.chunks]
    assert idx == sorted(idx)
    ts = [c.ts for c in conn.chunks]
    first = packets[0].ts_sec + packets[0].ts_usec / 1e6
    assert ts == sorted(ts) and ts[0] is not None and ts[0] >= first
    assert [m.kind.value for m in conn.markers] == ["fin", "fin"]


def test_64k_loopback_segments_are_read_whole() -> None:
    """scapy's readers cut records at 65535 octets; loopback holds 65549."""
    _, packets = read_pcap(sample("ws_large"))
    assert max(len(p.data) for p in packets) == 65549
    (conn,) = read(str(sample("ws_large"))).connections
    assert max(c.length for c in conn.chunks) == 65549 - 66
    assert all(c.complete for c in conn.chunks)


def test_streaming_and_materialized_paths_agree() -> None:
    path = str(sample("ws_fragmented"))
    streamed = [it for _, it in stream(path) if isinstance(it, Frame)]
    (dc,) = decode(path)
    assert streamed == dc.frames


# -- other link types and file formats ---------------------------------------------


def _eth_payload(frame: bytes) -> bytes:
    return frame[14:]


LINKS = {
    "raw": (101, lambda f: _eth_payload(f)),
    "null": (0, lambda f: struct.pack("<I", 2) + _eth_payload(f)),
    "loop": (108, lambda f: struct.pack(">I", 2) + _eth_payload(f)),
    "sll": (113, lambda f: struct.pack("!HHH8sH", 0, 772, 6, bytes(8), 0x0800) + f[14:]),
    "vlan": (1, lambda f: f[:12] + b"\x88\xa8\x00\x05\x81\x00\x00\x07" + f[12:]),
    "ppp-via-scapy": (9, lambda f: b"\xff\x03\x00\x21" + _eth_payload(f)),
}


@pytest.mark.parametrize("link", sorted(LINKS))
def test_link_types_decode_identically(link: str, tmp_path: Path) -> None:
    _linktype, packets = read_pcap(sample("ws_fragmented"))
    new_type, make = LINKS[link]
    path = write_pcap(tmp_path / f"{link}.pcap", new_type, relink(packets, make))
    assert wirelog_frames(path) == wirelog_frames(sample("ws_fragmented"))


def test_ipv6_extension_headers(tmp_path: Path) -> None:
    """A destination-options header between IPv6 and TCP (next header 60)."""
    _, packets = read_pcap(sample("ws_deflate"))

    def insert(f: bytes) -> bytes:
        ip = bytearray(f[14:54])
        assert ip[6] == 6
        ip[6] = 60
        struct.pack_into("!H", ip, 4, struct.unpack_from("!H", ip, 4)[0] + 8)
        return f[:14] + bytes(ip) + bytes([6, 0, 1, 4, 0, 0, 0, 0]) + f[54:]

    path = write_pcap(tmp_path / "ext.pcap", 1, relink(packets, insert))
    if HAVE_TSHARK:
        assert wirelog_frames(path) == tshark_frames(path, 8767)
    assert wirelog_frames(path) == wirelog_frames(sample("ws_deflate"))


def test_sll2_from_tcpdump_any() -> None:
    linktype, _ = read_pcap(sample("multi_conn"))
    assert linktype == 276


@pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap not installed")
def test_pcapng_and_gzip(tmp_path: Path) -> None:
    ng = tmp_path / "basic.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(sample("ws_basic")), str(ng)], check=True)
    assert ng.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    want = wirelog_frames(sample("ws_basic"))
    assert wirelog_frames(ng) == want
    gz = tmp_path / "basic.pcapng.gz"
    gz.write_bytes(gzip.compress(ng.read_bytes()))
    assert wirelog_frames(gz) == want
    # timestamps survive at the file's resolution
    a = [c.ts_ns for c in read(str(ng)).connections[0].chunks]
    b = [c.ts_ns for c in read(str(sample("ws_basic"))).connections[0].chunks]
    assert a == b


def test_nanosecond_pcap(tmp_path: Path) -> None:
    raw = sample("ws_fragmented").read_bytes()
    out = bytearray(struct.pack("<I", 0xA1B23C4D) + raw[4:24])
    pos = 24
    while pos < len(raw):
        sec, usec, incl, orig = struct.unpack_from("<IIII", raw, pos)
        out += (
            struct.pack("<IIII", sec, usec * 1000 + 700, incl, orig)
            + raw[pos + 16 : pos + 16 + incl]
        )
        pos += 16 + incl
    path = tmp_path / "ns.pcap"
    path.write_bytes(bytes(out))
    ns = [c.ts_ns for c in read(str(path)).connections[0].chunks]
    us = [c.ts_ns for c in read(str(sample("ws_fragmented"))).connections[0].chunks]
    assert ns == [t + 700 for t in us if t is not None]  # every digit, exactly


# -- broken files ----------------------------------------------------------------


def _frames_until_error(path: Path) -> tuple[list[Frame], InputError]:
    got: list[Frame] = []
    with pytest.raises(InputError) as info:
        for _, item in stream(str(path)):
            if isinstance(item, Frame):
                got.append(item)
    return got, info.value


def test_truncated_capture_keeps_what_came_before(tmp_path: Path) -> None:
    raw = sample("ws_basic").read_bytes()
    _, packets = read_pcap(sample("ws_basic"))
    # cut in the middle of packet 30
    offset = 24 + sum(16 + len(p.data) for p in packets[:29]) + 16 + 10
    path = tmp_path / "cut.pcap"
    path.write_bytes(raw[:offset])
    got, err = _frames_until_error(path)
    assert isinstance(err, TruncatedInputError)
    assert err.location == "packet 30" and "cut.pcap" in str(err)
    clean = [f for _, f in stream(str(sample("ws_basic"))) if isinstance(f, Frame)]
    assert 5 < len(got) < len(clean)
    complete = [f for f in got if f.complete and not f.violations]
    assert complete == clean[: len(complete)]
    with pytest.raises(TruncatedInputError) as info:
        read(str(path))
    partial = info.value.partial
    assert partial is not None and partial.connections[0].chunks


def test_corrupt_record_header_names_the_packet(tmp_path: Path) -> None:
    raw = bytearray(sample("ws_basic").read_bytes())
    _, packets = read_pcap(sample("ws_basic"))
    offset = 24 + sum(16 + len(p.data) for p in packets[:19])
    struct.pack_into("<I", raw, offset + 8, 0x7FFFFFF0)
    path = tmp_path / "bad.pcap"
    path.write_bytes(bytes(raw))
    got, err = _frames_until_error(path)
    assert not isinstance(err, TruncatedInputError)
    assert err.location == "packet 20"
    assert got


def test_truncated_gzip_and_pcapng(tmp_path: Path) -> None:
    gz = sample("ws_large").read_bytes()
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(gz[: len(gz) // 2])
    got, err = _frames_until_error(path)
    assert isinstance(err, TruncatedInputError) and "packet" in (err.location or "")
    if shutil.which("editcap"):
        ng = tmp_path / "basic.pcapng"
        subprocess.run(["editcap", "-F", "pcapng", str(sample("ws_basic")), str(ng)], check=True)
        data = ng.read_bytes()
        cut = tmp_path / "cut.pcapng"
        cut.write_bytes(data[: len(data) - 5000])
        got, err = _frames_until_error(cut)
        assert isinstance(err, TruncatedInputError) and got


def test_snap_length_cut_packets_are_missing_octets_not_zeros(tmp_path: Path) -> None:
    _, packets = read_pcap(sample("ws_basic"))
    cut = [Packet(p.ts_sec, p.ts_usec, p.data[:300], len(p.data)) for p in packets]
    path = write_pcap(tmp_path / "snap.pcap", 1, cut)
    (conn,) = read(str(path)).connections
    (clean,) = read(str(sample("ws_basic"))).connections
    assert [c.length for c in conn.chunks] == [c.length for c in clean.chunks]
    assert any(len(c.data) < c.length for c in conn.chunks)
    for c, k in zip(conn.chunks, clean.chunks, strict=True):
        assert k.data.startswith(c.data)
    frames = [f for _, f in stream(str(path)) if isinstance(f, Frame)]
    assert not all(f.complete for f in frames)


def test_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 5)
    with pytest.raises(TruncatedInputError):
        list(stream(str(path)))


def test_chunks_not_kept_when_streaming() -> None:
    """Streaming hands chunks out and forgets them: the connection object
    stays empty however long the capture is."""
    for c, item in stream(str(sample("ws_large"))):
        assert not c.chunks
        if isinstance(item, Chunk):
            assert item.length > 0


@pytest.mark.parametrize("ng", [False, True])
def test_fuzzed_files_raise_only_input_errors(ng: bool, tmp_path: Path) -> None:
    """Bytes flipped anywhere, files cut anywhere: wirelog either decodes or
    raises its own InputError, never anything else."""
    import random

    from wirelog.errors import WirelogError

    src = sample("ws_fragmented")
    if ng:
        if shutil.which("editcap") is None:
            pytest.skip("editcap not installed")
        conv = tmp_path / "src.pcapng"
        subprocess.run(["editcap", "-F", "pcapng", str(src), str(conv)], check=True)
        src = conv
    raw = src.read_bytes()
    rng = random.Random(11)
    errors = 0
    for _ in range(60):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(8, len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(8, len(data))]
        path = tmp_path / "fuzz"
        path.write_bytes(bytes(data))
        try:
            list(stream(str(path)))
        except WirelogError:
            errors += 1
    assert 0 < errors < 60
