"""A frame whose 64-bit length has its most significant bit set (RFC 6455
§5.2 says it MUST be 0; a fuzzed or hostile peer sends it anyway) declares
2**63 octets or more, which no 64-bit signed column holds: the tables give
NA there (the row and its violations kept, every other length as it was),
and the JSON lines give it whole. It overflowed the int64 columns before
("internal error" from ``plot`` and ``export``, a traceback from ``sql``;
found by ``fuzz_campaign.py``'s plot targets)."""

from __future__ import annotations

import dataclasses
import struct
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from captures_util import data_segments, read_pcap, rebuild, tcp_of, write_pcap

import wirelog
from wirelog.analysis import table

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from wirelog.cli import main; main()"]
HUGE = (1 << 63) + 12345  # the MSB set: beyond int64


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ws_basic.pcap with the server's first frame after the 101 turned into
    a binary frame declaring HUGE octets (the segment keeps its length)."""
    link, packets = read_pcap(ROOT / "samples" / "ws_basic.pcap")
    server_port = 8765
    for i in data_segments(packets):
        t = tcp_of(packets[i].data)
        assert t is not None
        payload = packets[i].data[t.payload :]
        if t.flow[1] == server_port and not payload.startswith(b"HTTP") and len(payload) >= 10:
            forged = b"\x82\x7f" + struct.pack("!Q", HUGE) + payload[10:]
            packets[i] = dataclasses.replace(packets[i], data=rebuild(packets[i].data, t, forged))
            break
    else:
        raise AssertionError("no server data segment to forge")
    return write_pcap(tmp_path_factory.mktemp("huge") / "huge.pcap", link, packets)


def test_the_tables_say_na_the_lines_give_it_whole(capture: Path) -> None:
    cap = wirelog.load(str(capture))
    frames = cap.frames()
    [row] = frames[frames["length"].isna()].itertuples()
    assert "length_msb_set" in row.violations and "truncated_frame" in row.violations
    assert str(frames["length"].dtype) == "Int64" and frames["length"].notna().sum() > 3
    assert cap.messages()["length"].isna().sum() == 1
    lines = subprocess.run(
        [*CLI, "decode", str(capture), "-f", "jsonl"], capture_output=True, text=True, check=False
    ).stdout
    assert f'"length":{HUGE},' in lines


def test_sql_export_and_plot_take_it(capture: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)

    got = run(
        "sql", "SELECT count(*) AS n FROM frames WHERE length IS NULL", str(capture), "-f", "json"
    )
    assert got.returncode == 0, got.stderr
    assert '"n":1' in got.stdout.replace(" ", "")
    # lengths stay signed: a difference may be negative (an unsigned column fails this)
    less = "SELECT min(wire_length - length - 1) AS d FROM messages"
    got = run("sql", less, str(capture), "-f", "json")
    assert got.returncode == 0 and '"d":-1' in got.stdout.replace(" ", ""), got.stderr
    out = tmp_path / "ds"
    got = run("export", str(capture), "--to", str(out))
    assert got.returncode == 0, got.stderr
    [part] = (out / "frames").glob("*.parquet")
    assert None in pq.read_table(part).column("length").to_pylist()
    got = run("plot", str(capture), "-o", str(tmp_path / "plots"))
    assert got.returncode == 0 and got.stderr == "", got.stderr
    assert len(list((tmp_path / "plots").glob("*.png"))) == 6
    # a CSV of the frames holds it whole, and reads back as the tables have it
    csv = tmp_path / "frames.csv"
    got = run("decode", str(capture), "-f", "csv", "-o", str(csv))
    assert got.returncode == 0, got.stderr
    assert str(HUGE) in csv.read_text()
    assert table.read_csv(str(csv), "frames")["length"].isna().sum() == 1
