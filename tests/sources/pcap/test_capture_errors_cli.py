"""Every capture reader error as ``wirelog decode`` shows it: what was
decoded before the damage is printed, then one line naming where, exit 2;
and ``-o`` naming what cannot be written is one line too (issue 11)."""

from __future__ import annotations

import gzip
import struct
import subprocess
from pathlib import Path

import pytest
from captures_util import MANIFEST, SAMPLES
from typer.testing import CliRunner

from wirelog.cli.app import app

BASIC = SAMPLES / MANIFEST["ws_basic"]["file"]


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"WIRELOG_PROGRESS": "0"}).invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def split(raw: bytes) -> tuple[bytes, list[bytes]]:
    head, at, recs = raw[:24], 24, []
    while at < len(raw):
        n = 16 + struct.unpack_from("<I", raw, at + 8)[0]
        recs.append(raw[at : at + n])
        at += n
    return head, recs


def pcapng_of(path: Path, tmp_path: Path) -> bytes:
    ng = tmp_path / (path.name + ".pcapng")
    subprocess.run(["editcap", "-F", "pcapng", str(path), str(ng)], check=True)
    raw = ng.read_bytes()
    return raw


def damaged(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    """A capture broken after its first packets, and those packets alone."""
    head, recs = split(BASIC.read_bytes())
    keep = len(recs) * 2 // 3
    good = tmp_path / "good.pcap"
    good.write_bytes(head + b"".join(recs[:keep]))
    rest = recs[keep]
    bad = tmp_path / f"bad-{kind}"
    if kind == "cut":
        data = good.read_bytes() + rest[: len(rest) // 2]
    elif kind == "claims-1GiB":
        huge = head[:16] + struct.pack("<I", (1 << 30) - 1) + head[20:]
        data = huge + b"".join(recs[:keep]) + struct.pack("<IIII", 0, 0, 1 << 30, 1 << 30)
        data += b"x" * 100
        good.write_bytes(huge + b"".join(recs[:keep]))
    elif kind == "bad-record":
        data = good.read_bytes() + struct.pack("<IIII", 0, 0, 1 << 31, 60) + b"x" * 60
    elif kind == "gzip":
        data = gzip.compress(good.read_bytes()) + b"\x1f\x8b\x08\x00garbage-after-the-member"
    else:
        ng = pcapng_of(good, tmp_path)
        good = tmp_path / "good.pcapng"
        good.write_bytes(ng)
        tail = {
            "pcapng-2GB-block": struct.pack("<II", 6, 1 << 31) + b"\x00" * 40,
            "pcapng-length-7": struct.pack("<II", 6, 7) + b"\x00" * 40,
            "pcapng-torn": struct.pack("<II", 6, 64) + b"\x00" * 20,
            "pcapng-no-interface": struct.pack("<IIIIIII", 6, 32, 9, 0, 0, 0, 0) + b"\x20\0\0\0",
        }[kind]
        data = ng + tail
    bad.write_bytes(data)
    return bad, good


KINDS = [
    "cut",
    "claims-1GiB",
    "bad-record",
    "gzip",
    "pcapng-2GB-block",
    "pcapng-length-7",
    "pcapng-torn",
    "pcapng-no-interface",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["jsonl", "table"])
def test_what_came_before_a_reader_error_is_printed(tmp_path: Path, kind: str, fmt: str) -> None:
    bad, good = damaged(tmp_path, kind)
    code, want, err = cli("decode", "-f", fmt, str(good))
    assert (code, err) == (0, "") and want.count("\n") > 5
    code, out, err = cli("decode", "-f", fmt, str(bad))
    (line,) = err.splitlines()
    assert code == 2 and line.startswith(f"wirelog: {bad}: packet ")
    assert "internal error" not in line
    assert out.replace(str(bad), str(good)) == want


def test_output_naming_a_folder_or_a_missing_one(tmp_path: Path) -> None:
    for fmt in ("jsonl", "table", "parquet"):
        code, out, err = cli("decode", "-f", fmt, "-o", str(tmp_path), str(BASIC))
        assert (code, out) == (2, "")
        assert err == f"wirelog: --output {tmp_path}: is a directory\n"
        missing = tmp_path / "nope" / "x.out"
        code, out, err = cli("decode", "-f", fmt, "-o", str(missing), str(BASIC))
        assert (code, out) == (2, "")
        assert err == f"wirelog: --output {missing}: no folder {missing.parent}\n"
    target = tmp_path / "ok.jsonl"
    assert cli("decode", "-f", "jsonl", "-o", str(target), str(BASIC))[0] == 0
    assert target.read_text().count("\n") > 5
