"""Capture files to records: the classic pcap reader (plain, gzip, both
byte orders), pcapng, and scapy's dissectors for rare link types; every
broken file is an InputError naming where it broke."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from captures_util import MANIFEST, SAMPLES, read_pcap

from wirelog.errors import InputError, TruncatedInputError
from wirelog.sources.pcap import files
from wirelog.sources.pcap.files import fallback_segment, records
from wirelog.sources.pcap.linklayer import NotTcp
from wirelog.sources.pcap.streams import READ_SIZE

BASIC = SAMPLES / MANIFEST["ws_basic"]["file"]


def datas(path: Path) -> list[bytes]:
    return [bytes(buf[a:b]) for _, _, _, buf, a, b in records(str(path))]


def test_records_are_the_packets_in_file_order_numbered_from_1() -> None:
    linktype, packets = read_pcap(BASIC)
    recs = list(records(str(BASIC)))
    assert [r[0] for r in recs] == list(range(1, len(packets) + 1))
    assert {r[1] for r in recs} == {linktype}
    assert [bytes(buf[a:b]) for _, _, _, buf, a, b in recs] == [p.data for p in packets]
    assert [r[2] for r in recs] == [p.ts_sec * 10**9 + p.ts_usec * 1000 for p in packets]


def test_big_endian_pcap(tmp_path: Path) -> None:
    linktype, packets = read_pcap(BASIC)
    out = bytearray(struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
    for p in packets:
        out += struct.pack(">IIII", p.ts_sec, p.ts_usec, len(p.data), len(p.data)) + p.data
    path = tmp_path / "be.pcap"
    path.write_bytes(bytes(out))
    assert datas(path) == [p.data for p in packets]


def test_missing_and_unreadable_files_raise_at_the_first_next(tmp_path: Path) -> None:
    it = records(str(tmp_path / "nope.pcap"))  # no error yet: a generator
    with pytest.raises(InputError, match=r"(?i)no such file"):
        next(it)
    bad = tmp_path / "bad.pcap.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 40)  # a gzip header, then junk
    with pytest.raises(InputError, match="unreadable"):
        next(records(str(bad)))


def test_file_header_cut_or_unreadable(tmp_path: Path) -> None:
    head = BASIC.read_bytes()[:24]
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(head[:10])
    with pytest.raises(TruncatedInputError, match="inside the file header"):
        list(records(str(cut)))
    gz = tmp_path / "cut.pcap.gz"
    gz.write_bytes(gzip.compress(head)[:-12])  # the deflate stream ends inside the header
    with pytest.raises(TruncatedInputError, match="file header"):
        list(records(str(gz)))


def test_a_record_header_cut_short(tmp_path: Path) -> None:
    raw = BASIC.read_bytes()
    first = 24 + 16 + struct.unpack_from("<I", raw, 24 + 8)[0]
    path = tmp_path / "short.pcap"
    path.write_bytes(raw[: first + 9])  # 9 octets of the second record header
    with pytest.raises(TruncatedInputError, match="header of packet 2") as info:
        list(records(str(path)))
    assert info.value.location == "packet 2"


def test_corrupt_gzip_data_after_some_packets(tmp_path: Path) -> None:
    raw = BASIC.read_bytes()
    comp = bytearray(gzip.compress(raw, compresslevel=1))
    comp[len(comp) // 2 :] = b"\x00" * (len(comp) - len(comp) // 2)
    path = tmp_path / "corrupt.pcap.gz"
    path.write_bytes(bytes(comp))
    seen = 0
    with pytest.raises(InputError) as info:
        for _ in records(str(path)):
            seen += 1
    assert seen > 0 and f"packet {seen + 1}" in str(info.value)


def _pcapng(tmp_path: Path) -> Path:
    ng = tmp_path / "basic.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(BASIC), str(ng)], check=True)
    return ng


def test_pcapng_records_match_the_pcap_ones(tmp_path: Path) -> None:
    ng = _pcapng(tmp_path)
    assert datas(ng) == datas(BASIC)
    assert [r[2] for r in records(str(ng))] == pytest.approx([r[2] for r in records(str(BASIC))])


def test_pcapng_broken_section_header_and_block(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcapng"
    bad.write_bytes(b"\x0a\x0d\x0d\x0a" + b"\x00" * 4)
    with pytest.raises(InputError, match="section header"):
        list(records(str(bad)))
    raw = bytearray(_pcapng(tmp_path).read_bytes())
    shb_len = struct.unpack_from("<I", raw, 4)[0]
    idb_len = struct.unpack_from("<I", raw, shb_len + 4)[0]
    at = shb_len + idb_len  # the first packet block
    struct.pack_into("<I", raw, at + 4, 7)  # a block length no block can have
    broken = tmp_path / "block.pcapng"
    broken.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="packet 1"):
        list(records(str(broken)))


def test_scapy_is_imported_only_for_rare_link_types(tmp_path: Path) -> None:
    ng = _pcapng(tmp_path)
    code = (
        "import sys\nfrom wirelog.sources.pcap.files import records, fallback_segment\n"
        f"list(records({str(BASIC)!r}))\nassert 'scapy' not in sys.modules\n"
        f"list(records({str(ng)!r}))\nassert 'scapy' not in sys.modules\n"
        "try:\n    fallback_segment(1, b'x' * 14)\nexcept Exception:\n    pass\n"
        "assert 'scapy' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_fallback_dissects_rare_link_types_or_says_why_not() -> None:
    _, packets = read_pcap(BASIC)
    ip = packets[3].data[14:]  # Ethernet -> the IP packet
    seg = fallback_segment(1, packets[3].data)  # Ethernet, through scapy
    assert seg == files.linklayer.ip_segment(ip, 0, len(ip))
    with pytest.raises(NotTcp, match="unknown link type"):
        fallback_segment(64999, b"x")
    with pytest.raises(NotTcp, match="not IP"):
        fallback_segment(1, b"\xff" * 14)  # Ethernet with an unknown ethertype
    with pytest.raises(NotTcp):
        fallback_segment(1, packets[3].data[:20])  # an IP header cut short


def test_a_capture_gzipped_in_two_members(tmp_path: Path) -> None:
    """``cat a.gz b.gz`` is one gzip file; a read that crossed the members'
    boundary once looped forever."""
    raw = BASIC.read_bytes()
    path = tmp_path / "two.pcap.gz"
    path.write_bytes(gzip.compress(raw[:1000]) + gzip.compress(raw[1000:]))
    assert datas(path) == datas(BASIC)


def test_a_record_that_claims_a_gigabyte_costs_only_its_octets(tmp_path: Path) -> None:
    """Issue 11: a 230-byte pcap whose record claims 1 GiB (the snap length
    allowing it) had the reader ask the file for 1 GiB at once."""
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, (1 << 30) - 1, 1)
    path = tmp_path / "claims.pcap"
    path.write_bytes(head + struct.pack("<IIII", 1, 0, (1 << 30) - 2, 1 << 30) + b"x" * 190)
    assert path.stat().st_size == 230
    tracemalloc.start()
    try:
        with pytest.raises(TruncatedInputError, match="190 of 1073741822 octets"):
            list(records(str(path)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


def test_a_big_record_read_in_steps_from_a_slow_source(tmp_path: Path) -> None:
    """A record longer than one read arrives over many reads, whole."""
    linktype, _ = read_pcap(BASIC)
    data = bytes(range(256)) * 40_000  # 10 MB, over two reads of the window
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 0, linktype)
    out += struct.pack("<IIII", 1, 2, len(data), len(data)) + data
    path = tmp_path / "big.pcap"
    path.write_bytes(out)
    assert datas(path) == [data]


def test_a_record_past_the_limit_is_corrupt_even_when_its_octets_follow(tmp_path: Path) -> None:
    """The limit is checked only for a record that ends past the buffer:
    right after a record of the largest size (the fullest the window gets),
    one octet more is still refused, not read."""
    assert files.MAX_RECORD >= READ_SIZE  # what lets the check wait for the buffer's end
    linktype, _ = read_pcap(BASIC)
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 0, linktype)
    big = files.MAX_RECORD
    out += struct.pack("<IIII", 1, 0, big, big) + bytes(big)
    out += struct.pack("<IIII", 2, 0, big + 1, big + 1) + bytes(big + 1)
    path = tmp_path / "past.pcap"
    path.write_bytes(out)
    got = []
    with pytest.raises(InputError, match=f"packet 2 claims {big + 1} captured octets"):
        for rec in records(str(path)):
            got.append(rec[5] - rec[4])
    assert got == [big]


@pytest.mark.parametrize(("magic", "unit"), [(0xA1B2C3D4, 1000), (0xA1B23C4D, 1)])
def test_record_times_are_exact_nanoseconds_across_seconds(
    tmp_path: Path, magic: int, unit: int
) -> None:
    """Microsecond and nanosecond pcaps; the same second twice, the next,
    and a step back in time (clocks do that)."""
    times = [(1_700_000_005, 1), (1_700_000_005, 2), (1_700_000_006, 0), (1_700_000_005, 3)]
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 0, 1)
    for sec, frac in times:
        out += struct.pack("<IIII", sec, frac, 1, 1) + b"x"
    path = tmp_path / "times.pcap"
    path.write_bytes(out)
    assert [rec[2] for rec in records(str(path))] == [s * 10**9 + f * unit for s, f in times]
