"""Real wss:// captures decrypted: every TLS variant frame for frame as
tshark decodes it with the same key log, the messages the client sent,
the TLS facts on the connection, and what happens without keys, with a
bad tag and with a capture gap inside a record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
from captures_util import (
    HAVE_TSHARK,
    Packet,
    read_pcap,
    rebuild,
    resegment,
    tcp_of,
    write_pcap,
)
from servers import have_tcpdump
from wss import (
    CHROMIUM,
    UNSUPPORTED,
    VARIANTS,
    Capture,
    captured,
    chromium_session,
    tshark_tls_frames,
)

from wirelog.errors import InputError
from wirelog.model import Direction, Frame, Recording, ViolationKind
from wirelog.pipeline import Options, decode, read, stream

pytestmark = pytest.mark.skipif(
    not (HAVE_TSHARK and have_tcpdump()), reason="needs tshark and tcpdump as root"
)

Frames = dict[tuple[int, int], list[tuple[int, bool, int]]]


def port_of(endpoint: str | None) -> int:
    assert endpoint is not None
    return int(endpoint.rsplit(":", 1)[1])


def wirelog_frames(path: Path, **opts: object) -> Frames:
    """Frames per (conn, sender port), as tshark_tls_frames shows them."""
    out: Frames = defaultdict(list)
    for c, item in stream(str(path), Options(**opts)):  # type: ignore[arg-type]
        if isinstance(item, Frame):
            sender = c.client if item.direction is Direction.TX else c.server
            out[(c.conn, port_of(sender))].append((item.opcode, item.fin, item.length))
    return dict(out)


def tshark_field(cap: Capture, display: str, field: str) -> list[str]:
    """One field of the packets matching ``display``, tshark decrypting."""
    cmd = ["tshark", "-r", str(cap.pcap), "-o", f"tls.keylog_file:{cap.keylog}"]
    cmd += ["-d", f"tcp.port=={cap.port},tls", "-Y", display, "-T", "fields", "-e", field]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60)
    return proc.stdout.split()


def sent_messages(cap: Capture) -> list[list[bytes]]:
    return [[m.encode() if isinstance(m, str) else m for m in conn] for conn in cap.sent]


@pytest.mark.parametrize("name", [v.name for v in VARIANTS])
def test_each_variant_decodes_frame_for_frame_as_tshark(name: str) -> None:
    cap = captured(name)
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    ours = wirelog_frames(cap.pcap, keylog=str(cap.keylog))
    # Two connections, each way: every message echoed, then the close.
    assert len(theirs) == 4
    assert all(len(frames) == len(cap.sent[0]) + 1 for frames in theirs.values())
    assert ours == theirs


@pytest.mark.parametrize("name", [v.name for v in VARIANTS])
def test_messages_are_what_the_client_sent_and_the_facts_are_on_the_connection(
    name: str,
) -> None:
    cap = captured(name)
    dcs = decode(str(cap.pcap), Options(keylog=str(cap.keylog)))
    assert len(dcs) == 2
    suite = tshark_field(cap, "tls.handshake.type == 2", "tls.handshake.ciphersuite")
    version = "TLS 1.2" if cap.variant.tls12_ciphers else "TLS 1.3"
    for dc, sent in zip(dcs, sent_messages(cap), strict=True):
        for direction in Direction:
            data = [m.data for m in dc.messages if m.direction is direction and m.opcode != 8]
            assert data == sent
        assert not [v for v in dc.violations if v.kind is not ViolationKind.CAPTURE_GAP]
        tls = dc.connection.tls
        assert tls is not None
        assert (tls.version, tls.sni, tls.alpn) == (version, "wirelog.test", "http/1.1")
        assert tls.cipher is not None
        # tshark's suite number, by the IANA name wirelog shows.
        assert int(suite[0], 16) in {int(s, 16) for s in suite}
        assert _iana(int(suite[0], 16)) == tls.cipher


def _iana(code: int) -> str:
    """The IANA names of the suites the variants use, independently of wirelog."""
    return {
        0x1301: "TLS_AES_128_GCM_SHA256",
        0x1302: "TLS_AES_256_GCM_SHA384",
        0x1303: "TLS_CHACHA20_POLY1305_SHA256",
        0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
        0xC09C: "TLS_RSA_WITH_AES_128_CCM",
        0xC0A1: "TLS_RSA_WITH_AES_256_CCM_8",
    }[code]


@pytest.mark.parametrize("name", ["tls12-cbc-sha256-etm", "tls12-cbc-sha256-noetm"])
def test_the_cbc_variants_are_what_they_claim(name: str) -> None:
    """Encrypt-then-MAC (extension 22) in the ServerHello of one, not the other."""
    cap = captured(name)
    exts = tshark_field(cap, "tls.handshake.type == 2", "tls.handshake.extension.type")
    agreed = {int(e) for line in exts for e in line.split(",")}
    assert (22 in agreed) == cap.variant.etm


def test_permessage_deflate_inside_tls() -> None:
    cap = captured("tls13-aes128gcm", deflate=True)
    assert wirelog_frames(cap.pcap, keylog=str(cap.keylog)) == tshark_tls_frames(
        cap.pcap, cap.port, cap.keylog
    )
    dcs = decode(str(cap.pcap), Options(keylog=str(cap.keylog)))
    for dc, sent in zip(dcs, sent_messages(cap), strict=True):
        assert dc.handshake is not None and dc.handshake.deflate is not None
        data = [m for m in dc.messages if m.direction is Direction.TX and m.opcode != 8]
        assert [m.data for m in data] == sent
        assert any(m.compressed and m.wire_length < m.length for m in data)


@pytest.mark.parametrize("name", ["tls13-aes128gcm", "tls12-cbc-sha256-etm"])
def test_without_keys_one_line_names_the_session(name: str) -> None:
    cap = captured(name)
    with pytest.raises(InputError) as failed:
        read(str(cap.pcap), Options())
    # Nothing decoded: the error says why, in one line.
    assert (
        f"2 TLS connections on port {cap.port}: give --keylog to decrypt (TLS session without "
        "key: client random " in str(failed.value)
    ) and str(failed.value).endswith("; and 1 more)")
    rec = failed.value.partial
    assert isinstance(rec, Recording) and rec.connections == []
    lines = [f.detail for f in rec.findings if f.kind is ViolationKind.TLS_UNDECRYPTED]
    randoms = tshark_field(cap, "tls.handshake.type == 1", "tls.handshake.random")
    assert len(lines) == len(randoms) == 2
    for line, random in zip(lines, randoms, strict=True):
        assert line.startswith(f"TLS session without key: client random {random};")
        assert int(line.split("; ")[1].split()[0]) > 70_000  # the messages' octets
    # tshark without the key log sees no WebSocket either.
    assert tshark_tls_frames(cap.pcap, cap.port, None) == {}


def test_secrets_inside_a_pcapng_need_no_option(tmp_path: Path) -> None:
    cap = captured("tls13-chacha20")
    with_keys = tmp_path / "dsb.pcapng"
    subprocess.run(
        ["editcap", "--inject-secrets", f"tls,{cap.keylog}", str(cap.pcap), str(with_keys)],
        check=True,
        capture_output=True,
    )
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    assert wirelog_frames(with_keys) == theirs
    assert len(theirs) == 4


class _Stream:
    """One sender's TCP payload in capture order, with where each octet was."""

    def __init__(self, packets: list[Packet], sport: int) -> None:
        self.data = bytearray()
        self.where: list[tuple[int, int, int]] = []  # (stream offset, packet, payload start)
        first: tuple[bytes, int, bytes, int] | None = None
        for i, p in enumerate(packets):
            t = tcp_of(p.data)
            if t is None or t.flow[1] != sport or len(p.data) == t.payload:
                continue
            first = first or t.flow
            if t.flow != first:
                break  # the next connection
            self.where.append((len(self.data), i, t.payload))
            self.data += p.data[t.payload :]

    def records(self) -> list[tuple[int, int, int]]:
        """(stream offset, type, fragment length) of each record."""
        out, at = [], 0
        while at + 5 <= len(self.data):
            size = int.from_bytes(self.data[at + 3 : at + 5], "big")
            out.append((at, self.data[at], size))
            at += 5 + size
        return out

    def locate(self, offset: int) -> tuple[int, int]:
        """The packet holding stream octet ``offset``, and its index in that frame."""
        for start, i, payload in reversed(self.where):
            if start <= offset:
                return i, payload + offset - start
        raise AssertionError(offset)


def test_a_record_that_does_not_verify_is_a_finding_and_decoding_goes_on(
    tmp_path: Path,
) -> None:
    cap = captured("tls13-aes256gcm")
    linktype, packets = read_pcap(cap.pcap)
    client = _Stream(packets, _client_port(cap))
    records = client.records()
    # A full record inside the 70000-octet message, after another full one:
    # all payload, no frame header.
    full = [r for r, prev in zip(records[1:], records, strict=False) if r[2] == prev[2] == 16401]
    offset = full[0][0] + 5 + 100
    i, at = client.locate(offset)
    data = bytearray(packets[i].data)
    data[at] ^= 0x55  # inside the ciphertext: the tag cannot verify
    packets[i] = replace(packets[i], data=bytes(data))
    bad = write_pcap(tmp_path / "bad.pcap", linktype, packets)
    # The frame is still there with its declared length (its payload has
    # a hole), and every later frame decodes.
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    assert wirelog_frames(bad, keylog=str(cap.keylog)) == theirs
    dcs = decode(str(bad), Options(keylog=str(cap.keylog)))
    found = [v.detail for v in dcs[0].violations if v.kind is ViolationKind.TLS_UNDECRYPTED]
    assert len(found) == 1 and "does not verify (bad tag, 16401 octets" in found[0]
    holed = [f for f in dcs[0].frames if ViolationKind.MISSING_OCTETS in f.violations]
    assert [(f.direction, f.length) for f in holed] == [(Direction.TX, 70_000)]
    assert not [v for v in dcs[1].violations if v.kind is ViolationKind.TLS_UNDECRYPTED]


def _client_port(cap: Capture) -> int:
    _, packets = read_pcap(cap.pcap)
    for p in packets:
        t = tcp_of(p.data)
        if t is not None and t.flow[3] == cap.port:
            return t.flow[1]
    raise AssertionError("no client")


def test_records_cut_anywhere_by_tcp_decode_the_same(tmp_path: Path) -> None:
    """Overlapping re-sent pieces: records split across segments in new places."""
    cap = captured("tls12-cbc-sha256-etm")
    linktype, packets = read_pcap(cap.pcap)
    cut = write_pcap(tmp_path / "cut.pcap", linktype, resegment(packets))
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    assert wirelog_frames(cut, keylog=str(cap.keylog)) == theirs


def test_a_lost_segment_resynchronises_on_the_next_record(tmp_path: Path) -> None:
    cap = captured("tls13-aes128gcm")
    linktype, packets = read_pcap(cap.pcap)
    client = _Stream(packets, _client_port(cap))
    records = client.records()
    # Lose the segment holding the middle of the 70000-octet message's
    # records and the start of the next record: the reader must look for it.
    full = [r for r, prev in zip(records[1:], records, strict=False) if r[2] == prev[2] == 16401]
    i, _ = client.locate(full[0][0] + 5 + 16401 - 10)
    lost = packets[:i] + packets[i + 1 :]
    gap = write_pcap(tmp_path / "gap.pcap", linktype, lost)
    dcs = decode(str(gap), Options(keylog=str(cap.keylog)))
    found = [v.detail for v in dcs[0].violations if v.kind is ViolationKind.TLS_UNDECRYPTED]
    assert any(d.startswith("capture gap in the TLS client stream") for d in found), found
    assert any("records resynchronised after" in d for d in found), found
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    ours = wirelog_frames(gap, keylog=str(cap.keylog))
    server, sender = (0, cap.port), (0, _client_port(cap))
    # The server's side and the second connection are whole.
    assert ours[server] == theirs[server]
    assert all(ours[k] == theirs[k] for k in theirs if k[0] == 1)
    # The lost segment held the 70000-octet frame's header: that frame is
    # gone, and the frame decoder finds the next frame at the next record
    # that is whole frames. Every later frame is tshark's, of the capture
    # without the loss (tshark itself loses the rest of the direction).
    whole = theirs[sender]
    at = [f[2] for f in whole].index(70_000)
    assert ours[sender] == whole[:at] + whole[at + 1 :]
    assert len(tshark_tls_frames(gap, cap.port, cap.keylog)[sender]) == at
    # ... and so are the messages, the lost one left out.
    sent = sent_messages(cap)[0]
    got = [m.data for m in dcs[0].messages if m.direction is Direction.TX and m.opcode != 8]
    assert got == sent[:at] + sent[at + 1 :]


def test_key_updates_both_ways() -> None:
    """OpenSSL's SSL_key_update (update_requested) every fourth message:
    each side moves to its next traffic secret, several times."""
    cap = captured("tls13-aes128gcm", key_updates=True)
    updates = tshark_field(cap, "tls.handshake.type == 24", "tcp.srcport")
    assert len(updates) >= 8 and len(set(updates)) == 3  # two clients and the server
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    assert wirelog_frames(cap.pcap, keylog=str(cap.keylog)) == theirs
    assert sum(map(len, theirs.values())) == 4 * (len(cap.sent[0]) + 1)


CLI = [sys.executable, "-c", "from wirelog.cli import main; main()"]


def test_the_cli_decrypts_with_keylog_and_says_when_it_cannot() -> None:
    cap = captured("tls12-aes128gcm")
    env = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}
    run = subprocess.run(
        [*CLI, "decode", "-f", "jsonl", "--keylog", str(cap.keylog), str(cap.pcap)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0 and run.stderr == ""
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(rows) == sum(map(len, tshark_tls_frames(cap.pcap, cap.port, cap.keylog).values()))
    # SSLKEYLOGFILE when no option is given.
    by_env = subprocess.run(
        [*CLI, "decode", "-f", "jsonl", str(cap.pcap)],
        capture_output=True, text=True, env={**env, "SSLKEYLOGFILE": str(cap.keylog)},
        timeout=120,
    )  # fmt: skip
    assert by_env.stdout == run.stdout
    # No key: nothing decoded, one line on stderr per capture.
    bare = subprocess.run(
        [*CLI, "decode", str(cap.pcap)], capture_output=True, text=True, env=env, timeout=120
    )
    (line,) = bare.stderr.splitlines()
    assert bare.returncode == 2 and bare.stdout == ""
    assert str(cap.pcap) in line and line.endswith("; and 1 more)")
    assert f"2 TLS connections on port {cap.port}: give --keylog to decrypt (TLS session" in line
    missing = subprocess.run(
        [*CLI, "stats", "--keylog", "/nonexistent/keys.log", str(cap.pcap)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "wirelog: /nonexistent/keys.log: cannot read the TLS key log (No such file or directory)"
    )


def test_connections_table_and_report_show_the_tls_facts() -> None:
    import wirelog

    cap = captured("tls13-chacha20")
    table = wirelog.load(str(cap.pcap), keylog=cap.keylog).connections()
    assert list(table["tls_cipher"]) == ["TLS_CHACHA20_POLY1305_SHA256"] * 2
    assert list(table["sni"]) == ["wirelog.test"] * 2 and list(table["alpn"]) == ["http/1.1"] * 2
    run = subprocess.run(
        [*CLI, "report", "--keylog", str(cap.keylog), "--conn", "1", str(cap.pcap)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0
    assert (
        ", over TLS 1.3 (TLS_CHACHA20_POLY1305_SHA256, SNI wirelog.test, ALPN http/1.1)"
        in run.stdout.splitlines()[2]
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/setup installs it)")
def test_a_browsers_wss_session_with_its_own_key_log(tmp_path: Path) -> None:
    """Chromium's own TLS stack (BoringSSL: GREASE, a post-quantum key
    share, its own record sizes) and its own key log."""
    cap = chromium_session(tmp_path)
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    assert wirelog_frames(cap.pcap, keylog=str(cap.keylog)) == theirs
    assert sum(map(len, theirs.values())) == 8
    (dc,) = decode(str(cap.pcap), Options(keylog=str(cap.keylog)))
    sent = sent_messages(cap)[0]
    for direction in Direction:
        assert [m.data for m in dc.messages if m.direction is direction][:3] == sent
    assert dc.connection.tls is not None and dc.connection.tls.alpn == "http/1.1"
    assert dc.connection.tls.version == "TLS 1.3"


def test_a_suite_wirelog_cannot_decrypt_says_which() -> None:
    cap = captured(UNSUPPORTED.name, conns=1)
    with pytest.raises(InputError) as failed:
        read(str(cap.pcap), Options(keylog=str(cap.keylog)))
    rec = failed.value.partial
    assert isinstance(rec, Recording) and rec.connections == []
    assert "not supported: client random" in str(failed.value)
    (line,) = [f.detail for f in rec.findings if f.kind is ViolationKind.TLS_UNDECRYPTED]
    (suite,) = tshark_field(cap, "tls.handshake.type == 2", "tls.handshake.ciphersuite")
    assert line.startswith(f"TLS cipher suite 0x{int(suite, 16):04x} not supported: client random ")


def _split(packets: list[Packet], size: int) -> list[Packet]:
    """Every data segment cut into ``size``-octet segments, as a link with
    a small MTU would carry them."""
    out: list[Packet] = []
    for p in packets:
        t = tcp_of(p.data)
        body = p.data[t.payload :] if t is not None else b""
        if t is None or len(body) <= size:
            out.append(p)
            continue
        for at in range(0, len(body), size):
            out.append(replace(p, data=rebuild(p.data, t, body[at : at + size], t.seq + at)))
    return out


def test_a_gap_inside_a_record_loses_only_that_record(tmp_path: Path) -> None:
    cap = captured("tls12-aes128ccm")
    linktype, packets = read_pcap(cap.pcap)
    small = _split(packets, 1400)
    client = _Stream(small, _client_port(cap))
    records = client.records()
    # A segment in the middle of a full record of the 70000-octet message.
    full = [r for r, prev in zip(records[1:], records, strict=False) if r[2] == prev[2] > 16000]
    i, _ = client.locate(full[0][0] + 5000)
    lossy = write_pcap(tmp_path / "lossy.pcap", linktype, small[:i] + small[i + 1 :])
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    assert wirelog_frames(lossy, keylog=str(cap.keylog)) == theirs
    dcs = decode(str(lossy), Options(keylog=str(cap.keylog)))
    found = [v.detail for v in dcs[0].violations if v.kind is ViolationKind.TLS_UNDECRYPTED]
    assert len(found) == 1 and f"(1400 of {full[0][2]} octets lost)" in found[0], found
    holed = [f for f in dcs[0].frames if ViolationKind.MISSING_OCTETS in f.violations]
    assert [(f.direction, f.length) for f in holed] == [(Direction.TX, 70_000)]
    # The plaintext it held is a gap of the record's plaintext length.
    gaps = [v for v in dcs[0].violations if v.kind is ViolationKind.CAPTURE_GAP]
    assert [int(v.detail.split()[0]) for v in gaps] == [full[0][2] - 24]


def test_a_hello_retry_request_is_followed_to_the_real_server_hello() -> None:
    """The server takes only P-384, for which the client sent no key share:
    a HelloRetryRequest, a second ClientHello (same random), then the keys."""
    cap = captured("tls13-hello-retry")
    hellos = tshark_field(cap, "tls.handshake.type == 1", "tls.handshake.random")
    assert len(hellos) == 4 and len(set(hellos)) == 2  # two ClientHellos per connection
    theirs = tshark_tls_frames(cap.pcap, cap.port, cap.keylog)
    assert wirelog_frames(cap.pcap, keylog=str(cap.keylog)) == theirs
    assert sum(map(len, theirs.values())) == 4 * (len(cap.sent[0]) + 1)
