"""Compressed inputs: gzip, zstd, lz4, xz and bzip2, each made by its own
command-line tool, read as the plain input is; tshark (which reads gzip,
zstd and lz4 itself) is the oracle for the frames. Joined streams, padding,
cuts, corrupt data and bombs behave alike in every format."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from captures_util import HAVE_TSHARK, MANIFEST, SAMPLES, tshark_frames
from typer.testing import CliRunner

from wirelog.cli import app
from wirelog.errors import InputError
from wirelog.sources.detect import detect
from wirelog.sources.pcap.inflate import CODECS, Codec, CorruptData, Inflate, codec_of

#: codec name -> the tool that writes it (``-c``: to stdout).
TOOLS = {"gzip": "gzip", "zstd": "zstd", "lz4": "lz4", "xz": "xz", "bzip2": "bzip2"}
NAMES = list(TOOLS)
MULTI = SAMPLES / MANIFEST["multi_conn"]["file"]
BASIC = SAMPLES / MANIFEST["ws_basic"]["file"]


def codec(name: str) -> Codec:
    return next(c for c in CODECS if c.name == name)


def packed(data: bytes, name: str, *args: str) -> bytes:
    """``data`` compressed by the format's own tool."""
    tool = shutil.which(TOOLS[name])
    assert tool, f"{TOOLS[name]} is not installed (.ci/setup installs it)"
    cmd = [tool, "-c", *args]
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def write(tmp_path: Path, name: str, data: bytes, suffix: str = ".pcap") -> Path:
    path = tmp_path / f"in{suffix}.{name}"
    path.write_bytes(packed(data, name))
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    r = CliRunner(env={"WIRELOG_PROGRESS": "0"}).invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def lines(out: str) -> list[dict[str, object]]:
    rows = [json.loads(ln) for ln in out.splitlines()]
    for r in rows:
        r.pop("source")
    return rows


@pytest.mark.parametrize("name", NAMES)
def test_a_compressed_capture_decodes_as_the_plain_one(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, MULTI.read_bytes())
    assert codec_of(path.read_bytes()[:10]) is codec(name)
    assert detect(str(path)) == "pcap"
    code, plain, _ = invoke("decode", "-f", "jsonl", str(MULTI))
    assert code == 0
    code, got, err = invoke("decode", "-f", "jsonl", str(path))
    assert (code, err) == (0, "")
    assert lines(got) == lines(plain) and len(lines(got)) > 20
    code, messages, _ = invoke("decode", "-f", "jsonl", "--level", "messages", str(path))
    assert code == 0 and lines(messages) == lines(invoke(
        "decode", "-f", "jsonl", "--level", "messages", str(MULTI))[1])  # fmt: skip


@pytest.mark.skipif(not HAVE_TSHARK, reason="tshark missing")
@pytest.mark.parametrize("name", ["gzip", "zstd", "lz4"])
def test_tshark_reads_the_same_frames_from_the_same_file(tmp_path: Path, name: str) -> None:
    """tshark decompresses the file itself: its frames, sender by sender,
    are the ones wirelog decodes from the very same compressed file."""
    path = write(tmp_path, name, MULTI.read_bytes())
    want = sorted(
        (sport, f)
        for (_, sport), frames in tshark_frames(path, int(MANIFEST["multi_conn"]["port"])).items()
        for f in frames
    )
    query = (
        "SELECT CASE WHEN f.sender = 'client' THEN c.client ELSE c.server END AS peer, "
        "f.opcode, f.fin, f.length FROM frames f JOIN connections c USING (source, conn)"
    )
    code, out, err = invoke("sql", query, str(path), "-f", "json")
    assert code == 0, err
    got = sorted(
        (int(str(r["peer"]).rsplit(":", 1)[1]), (r["opcode"], r["fin"], r["length"]))
        for r in json.loads(out)
    )
    assert got == want and len(want) > 20


@pytest.mark.parametrize("name", NAMES)
def test_joined_streams_and_zero_padding_are_one_stream(name: str) -> None:
    data = bytes(range(256)) * 400
    joined = packed(data[:30_000], name) + b"\x00" * 8 + packed(data[30_000:], name) + bytes(64)
    z = Inflate(io.BytesIO(joined), codec(name))
    assert z.read(5) == data[:5]
    assert z.read(len(data)) == data[5:]
    assert z.read(10) == b""
    with pytest.raises(OSError, match="not seekable"):
        z.seek(0)
    z.close()


@pytest.mark.parametrize("name", NAMES)
def test_a_cut_stream_hands_out_its_octets_then_says_so(name: str) -> None:
    data = os.urandom(300_000)  # incompressible: the cut falls inside the data
    # bzip2 hands out a block (100 KiB with -1) once all of it has come
    cut = packed(data, name, *(["-1"] if name == "bzip2" else []))[:250_000]
    z = Inflate(io.BytesIO(cut), codec(name))
    got = b""
    with pytest.raises(EOFError, match="ends before the end-of-stream marker"):
        while part := z.read1(10_000):
            got += part
    assert z.truncated and len(got) > 50_000 and data.startswith(got)


@pytest.mark.parametrize("name", NAMES)
def test_corrupt_data_names_its_format(tmp_path: Path, name: str) -> None:
    good = packed(bytes(range(256)) * 400, name)
    bad = good[:12] + b"\xa5" * 3000  # the magic and a little header, then garbage
    with pytest.raises(CorruptData, match=f"corrupt {name} data"):
        Inflate(io.BytesIO(bad), codec(name)).read(100_000)
    path = tmp_path / f"bad.{name}"
    path.write_bytes(bad)
    with pytest.raises(InputError, match=f"corrupt {name} data"):
        detect(str(path))


def _bomb(name: str, size: int) -> bytes:
    """``size`` zero octets compressed, never held whole."""
    zero = bytes(1 << 20)
    compressor: Callable[[bytes], bytes]
    if name == "gzip":
        import zlib

        c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        compressor, end = c.compress, c.flush
    elif name == "zstd":
        from backports import zstd

        z = zstd.ZstdCompressor()
        compressor, end = z.compress, z.flush
    elif name == "lz4":
        import lz4.frame

        f = lz4.frame.LZ4FrameCompressor()
        head = f.begin()
        compressor, end = f.compress, f.flush
    elif name == "xz":
        import lzma

        x = lzma.LZMACompressor(lzma.FORMAT_XZ)
        compressor, end = x.compress, x.flush
    else:
        import bz2

        b = bz2.BZ2Compressor()
        compressor, end = b.compress, b.flush
    parts = [head] if name == "lz4" else []
    parts += [compressor(zero) for _ in range(size >> 20)]
    parts.append(end())
    return b"".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_a_bomb_inflates_only_as_far_as_asked(name: str) -> None:
    blob = _bomb(name, 256 << 20)
    assert len(blob) < 2 << 20  # a ratio of 128 and more
    tracemalloc.start()
    try:
        z = Inflate(io.BytesIO(blob), codec(name))
        assert z.read(1000) == bytes(1000)
        assert z.read(1 << 20) == bytes(1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the input, what was asked (and joined) and the window (xz: 8 MiB)
    assert peak < len(blob) + (16 << 20), peak


def test_an_xz_header_that_asks_for_a_huge_dictionary_is_refused() -> None:
    """The dictionary size is a header field: 4 GiB here, refused, not allocated."""
    import lzma
    import zlib

    blob = bytearray(lzma.compress(bytes(1000), format=lzma.FORMAT_XZ))
    size = (blob[12] + 1) * 4  # the block header, after the 12-octet stream header
    head = blob[12 : 12 + size]
    head[head.index(b"\x21\x01") + 2] = 40  # LZMA2's dictionary: 4 GiB - 1
    head[-4:] = zlib.crc32(bytes(head[:-4])).to_bytes(4, "little")
    blob[12 : 12 + size] = head
    with pytest.raises(CorruptData, match=r"corrupt xz data .*[Mm]emory usage limit"):
        Inflate(io.BytesIO(bytes(blob)), codec("xz")).read(1000)


def test_zstd_skippable_frames_and_a_stream_through_stdin(tmp_path: Path) -> None:
    """pzstd and seekable writers put a skippable frame first: still zstd."""
    raw = BASIC.read_bytes()
    skip = (0x184D2A5E).to_bytes(4, "little") + (6).to_bytes(4, "little") + b"wirelo"
    path = tmp_path / "skip.pcap.zst"
    path.write_bytes(skip + packed(raw, "zstd"))
    assert subprocess.run(["zstd", "-dc", str(path)], capture_output=True).stdout == raw
    assert detect(str(path)) == "pcap"
    code, got, _ = invoke("decode", "-f", "jsonl", str(path))
    assert code == 0 and lines(got) == lines(invoke("decode", "-f", "jsonl", str(BASIC))[1])
    root = Path(__file__).resolve().parents[3]
    piped = subprocess.run(
        [
            sys.executable,
            "-c",
            "from wirelog.cli import main; main()",
            "decode",
            "-f",
            "jsonl",
            "-",
        ],
        input=packed(raw, "zstd"),
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(root)},
        timeout=60,
    )
    assert (piped.returncode, piped.stderr) == (0, b"")
    assert lines(piped.stdout.decode()) == lines(got)


def test_a_cut_capture_is_a_one_line_error_after_its_frames(tmp_path: Path) -> None:
    plain = gzip.decompress((SAMPLES / "ws_large.pcap.gz").read_bytes())
    whole = packed(plain, "zstd")
    path = tmp_path / "cut.pcap.zst"
    path.write_bytes(whole[: len(whole) // 2])
    code, out, err = invoke("decode", "-f", "jsonl", str(path))
    assert code == 2
    assert err.count("\n") == 1 and str(path) in err and "ends before" in err and "packet" in err
    assert len(out.splitlines()) >= 1  # what came before the cut is kept


def test_an_autobahn_report_compressed_with_xz(tmp_path: Path) -> None:
    seed = SAMPLES / "autobahnpython_case_2_2.txt"  # the text a person copies out of the HTML
    path = write(tmp_path, "xz", seed.read_bytes(), suffix=".txt")
    assert detect(str(path)) == "autobahn-text"
    code, got, err = invoke("decode", "-f", "jsonl", str(path))
    assert (code, err) == (0, "")
    assert lines(got) == lines(invoke("decode", "-f", "jsonl", str(seed))[1]) and got


def test_a_zstd_frame_that_asks_for_a_gigabyte_window_is_refused() -> None:
    """``zstd --long=30`` writes a 1 GiB window into the frame header; like
    zstd(1) without ``--memory``, the reader refuses it instead of allocating."""
    blob = packed(os.urandom(100_000), "zstd", "--long=30", "--no-content-size")
    with pytest.raises(CorruptData, match=r"corrupt zstd data .*too much memory"):
        Inflate(io.BytesIO(blob), codec("zstd")).read(1000)
