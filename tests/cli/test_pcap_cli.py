"""``wirelog decode/stats/check`` on sample captures, with the filters."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from captures_util import MANIFEST, SAMPLES, read_pcap
from typer.testing import CliRunner

from wirelog.cli.app import app

runner = CliRunner()


def sample(name: str) -> str:
    return str(SAMPLES / MANIFEST[name]["file"])


def jsonl(*args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["decode", "--format", "jsonl", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_decode_frames_jsonl() -> None:
    rows = jsonl(sample("ws_basic"))
    assert [r["length"] for r in rows if r["dir"] == "tx" and r["opcode"] == 2] == [
        9,
        0,
        125,
        126,
        65535,
        65536,
    ]
    first = rows[0]
    assert first["opcode_name"] == "TEXT" and bytes.fromhex(str(first["payload"])) == b"hello"
    assert first["sender"] == "client" and first["masked"] is True


def test_decode_messages_and_chops() -> None:
    rows = jsonl("--level", "messages", sample("ws_deflate"))
    assert rows[0]["compressed"] is True and rows[0]["length"] == 940
    chops = jsonl("--level", "chops", sample("ws_basic"))
    assert bytes.fromhex(str(chops[0]["data"])).startswith(b"GET / HTTP/1.1")
    assert all(c["complete"] for c in chops)


def test_conn_port_and_ws_port_filters(tmp_path: Path) -> None:
    rows = jsonl("--conn", "2", sample("multi_conn"))
    assert {r["conn"] for r in rows} == {2} and len(rows) == 12
    assert jsonl("--port", "1", sample("multi_conn")) == []
    assert {r["conn"] for r in jsonl("--port", "8771", sample("multi_conn"))} == {0, 1, 2}
    # a capture that starts after the handshake needs --ws-port
    _linktype, packets = read_pcap(SAMPLES / MANIFEST["ws_basic"]["file"])
    raw = (SAMPLES / MANIFEST["ws_basic"]["file"]).read_bytes()
    start = 24 + sum(16 + len(p.data) for p in packets[:7])  # after the 101 response
    assert packets[7].data[66:67] == b"\x81"  # the first frame starts this segment
    cut = tmp_path / "late.pcap"
    cut.write_bytes(raw[:24] + raw[start:])
    result = runner.invoke(app, ["decode", "--format", "jsonl", str(cut)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "without a handshake (the capture started after it?): try --ws-port 8765\n"
    )
    rows = jsonl("--ws-port", "8765", str(cut))
    full = jsonl(sample("ws_basic"))
    assert [(r["dir"], r["opcode"], r["length"]) for r in rows] == [
        (r["dir"], r["opcode"], r["length"]) for r in full
    ]


def test_stats_json_per_connection() -> None:
    result = runner.invoke(app, ["stats", "--format", "json", sample("multi_conn")])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert [e["conn"] for e in entries] == [0, 1, 2]
    # conn 1 sent 4 text messages and a close
    assert entries[1]["txFrameStats"] == {"1": 4, "8": 1}
    assert sum(int(k) * v for k, v in entries[1]["txOctetStats"].items()) > 0
    table = runner.invoke(app, ["stats", "--conn", "0", sample("ws_basic")])
    assert "Octets Transmitted by Chop Size" in table.stdout


def test_check_clean_and_broken(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", sample("ws_fragmented")])
    assert result.exit_code == 0 and "no violations" in result.stdout
    # lose one segment of the 70000-octet fragment: a gap, reported
    _linktype, packets = read_pcap(SAMPLES / MANIFEST["ws_fragmented"]["file"])
    raw = (SAMPLES / MANIFEST["ws_fragmented"]["file"]).read_bytes()
    big = max(range(len(packets)), key=lambda i: len(packets[i].data))
    start = 24 + sum(16 + len(p.data) for p in packets[:big])
    end = start + 16 + len(packets[big].data)
    lost = tmp_path / "lost.pcap"
    lost.write_bytes(raw[:start] + raw[end:])
    result = runner.invoke(app, ["check", "--format", "json", str(lost)])
    assert result.exit_code == 1
    kinds = {v["kind"] for v in json.loads(result.stdout)}
    assert "capture_gap" in kinds


def test_truncated_capture_is_one_line_and_exit_2(tmp_path: Path) -> None:
    raw = (SAMPLES / MANIFEST["ws_basic"]["file"]).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[: len(raw) // 2])
    result = runner.invoke(app, ["decode", "--format", "jsonl", str(cut)])
    assert result.exit_code == 2
    assert result.stdout.count("\n") > 5  # what came before was printed
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and "cut.pcap: packet" in err[0] and "ends inside" in err[0]


@pytest.mark.parametrize("link", [0, 101])
def test_decode_other_link_type(link: int, tmp_path: Path) -> None:
    _linktype, packets = read_pcap(SAMPLES / MANIFEST["ws_basic"]["file"])
    parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, link)]
    for p in packets:
        data = (struct.pack("<I", 2) if link == 0 else b"") + p.data[14:]
        parts.append(struct.pack("<IIII", p.ts_sec, p.ts_usec, len(data), len(data)) + data)
    path = tmp_path / "x.pcap"
    path.write_bytes(b"".join(parts))
    assert [r["payload"] for r in jsonl(str(path))] == [
        r["payload"] for r in jsonl(sample("ws_basic"))
    ]
