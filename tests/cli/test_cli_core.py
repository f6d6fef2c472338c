"""The CLI contracts (README "Output contracts") on Autobahn inputs.

The commands run in-process (typer's runner keeps stdout, stderr and the
exit code apart, and coverage sees them); what is about the process itself
(the entry point, a reader that closes the pipe) runs in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wirelog.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "samples" / "autobahnpython_case_2_2.txt")
REPORTS = ROOT.parent / "shared" / "autobahn-reports"
SERVER = REPORTS / "testing-a-server"  # the fuzzer is the client
CLIENT = REPORTS / "testing-a-client"  # the fuzzer is the server

needs_corpus = pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")

FRAME_FIELDS = {
    "source", "conn", "dir", "sender", "index", "ts", "fin", "rsv", "opcode", "masked", "mask",
    "length", "payload", "complete", "violations",
}  # fmt: skip


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def wirelog(*args: str) -> Run:
    result = CliRunner(env={"WIRELOG_PROGRESS": "0"}).invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def process(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    """The real entry point in a child process."""
    return subprocess.run(
        [sys.executable, "-c", "from wirelog.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(ROOT)},
        timeout=120,
        **kw,
    )


def jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_decode_jsonl_frames_of_the_seed() -> None:
    run = wirelog("decode", SEED, "--format", "jsonl")
    assert run.returncode == 0, run.stderr
    rows = jsonl(run.stdout)
    assert len(rows) == 4
    for row in rows:
        assert set(row) >= FRAME_FIELDS
        assert row["source"] == SEED and row["conn"] == 0
    got = [(r["dir"], r["sender"], r["opcode"], r["masked"], r["mask"], r["payload"]) for r in rows]
    hello = b"Hello, world!".hex()
    assert got == [
        ("tx", "client", 9, True, "1bbc4f88", hello),
        ("rx", "server", 10, False, None, hello),
        ("tx", "client", 8, True, "87f697a1", "03e8"),
        ("rx", "server", 8, False, None, "03e8"),
    ]
    assert [r["index"] for r in rows] == [0, 0, 1, 1]
    assert all(r["complete"] and r["violations"] == [] and r["fin"] for r in rows)
    assert all(r["rsv"] == 0 and r["length"] == len(bytes.fromhex(str(r["payload"]))) for r in rows)


def test_decode_csv_and_table_and_levels() -> None:
    run = wirelog("decode", SEED, "--format", "csv", "--level", "chops")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert [(r["dir"], int(r["length"])) for r in rows] == [
        ("tx", 239),
        ("rx", 129),
        ("tx", 19),
        ("rx", 15),
        ("tx", 8),
        ("rx", 4),
    ]
    run = wirelog("decode", SEED, "--level", "messages", "--format", "jsonl")
    assert [(m["opcode"], m["code"]) for m in jsonl(run.stdout)] == [
        (9, None),
        (10, None),
        (8, 1000),
        (8, 1000),
    ]
    run = wirelog("decode", SEED)
    assert run.returncode == 0 and "1bbc4f88" in run.stdout and "87f697a1" in run.stdout


def test_stats_json_reproduces_the_seed_tables() -> None:
    run = wirelog("stats", SEED, "--format", "json")
    assert run.returncode == 0, run.stderr
    (entry,) = json.loads(run.stdout)
    assert (entry["source"], entry["conn"], entry["complete"]) == (SEED, 0, True)
    assert entry["rxOctetStats"] == {"4": 1, "15": 1, "129": 1}
    assert entry["txOctetStats"] == {"8": 1, "19": 1, "239": 1}
    assert entry["rxFrameStats"] == {"8": 1, "10": 1}
    assert entry["txFrameStats"] == {"8": 1, "9": 1}
    assert all(v == {} for v in entry["hidden"].values())
    table = wirelog("stats", SEED).stdout
    assert "Octets Received by Chop Size" in table and "Total" in table


@needs_corpus
def test_stats_say_what_the_log_hides() -> None:
    """9.1.1 switches logging off without a WLM entry: its 65550-byte text
    frame shows only in Autobahn's own numbers."""
    path = SERVER / "websock_server_case_9_1_1.json"
    doc = json.loads(path.read_text())
    (entry,) = json.loads(wirelog("stats", str(path), "--format", "json").stdout)
    assert entry["complete"] is False
    assert entry["reported"]["txOctetStats"] == doc["txOctetStats"]
    assert entry["hidden"]["txOctetStats"] == {"65550": 1}
    assert entry["hidden"]["txFrameStats"] == {"1": 1}
    for key in ("rxOctetStats", "txOctetStats", "rxFrameStats", "txFrameStats"):
        shown = {int(k): v for k, v in entry[key].items()}
        for k, v in entry["hidden"][key].items():
            shown[int(k)] = shown.get(int(k), 0) + v
        assert shown == {int(k): v for k, v in doc[key].items()}


@needs_corpus
def test_stats_of_a_whole_folder_match_every_complete_report() -> None:
    run = wirelog("stats", str(CLIENT), "--format", "json")
    assert run.returncode == 0, run.stderr
    entries = json.loads(run.stdout)
    assert len(entries) == 517 and [e["conn"] for e in entries] == list(range(517))
    complete = [e for e in entries if e["complete"]]
    for e in complete:
        doc = json.loads(Path(e["source"]).read_text())
        for key in ("rxOctetStats", "txOctetStats", "rxFrameStats", "txFrameStats"):
            assert e[key] == doc[key], (e["source"], key)
    assert len(complete) == 247


@needs_corpus
def test_decode_jsonl_of_a_report_with_frames_from_the_log() -> None:
    """7.1.6 (fuzzer = server): 256 KiB echoed in cut reads; the second frame's
    header is never seen, so it comes from the RF entry."""
    run = wirelog("decode", str(CLIENT / "websock_client_case_7_1_6.json"), "--format", "jsonl")
    assert run.returncode == 0, run.stderr
    rows = jsonl(run.stdout)
    rx = [r for r in rows if r["dir"] == "rx"]
    assert [(r["sender"], r["length"], r["from_log"]) for r in rx] == [
        ("client", 262144, False),
        ("client", 12, True),
    ]
    assert rx[1]["payload"] == b"Hello World!".hex() and rx[1]["offset"] is None
    assert all(r["masked"] and len(str(r["mask"])) == 8 for r in rx)
    tx = [r for r in rows if r["dir"] == "tx"]
    assert all(r["mask"] is None and r["sender"] == "server" for r in tx)


@needs_corpus
def test_check_exits_1_and_locates_findings() -> None:
    run = wirelog("check", str(SERVER / "websock_server_case_9_1_1.json"), "--format", "json")
    assert run.returncode == 1, run.stderr
    found = json.loads(run.stdout)
    assert [f["kind"] for f in found] == ["logging_off"]
    assert found[0]["finding"] is True
    run = wirelog("check", str(SERVER / "websock_server_case_2_10.json"), "--format", "json")
    assert run.returncode == 1
    (desync,) = json.loads(run.stdout)
    assert desync["kind"] == "desynchronized" and desync["dir"] == "rx"
    assert isinstance(desync["chunk"], int) and isinstance(desync["offset"], int)


def test_check_of_a_clean_report_exits_0() -> None:
    run = wirelog("check", SEED)
    assert (run.returncode, run.stdout) == (0, "no violations\n")


def test_bad_inputs_one_line_each_and_the_others_still_processed(tmp_path: Path) -> None:
    truncated = tmp_path / "cut_case_1_1_1.json"
    truncated.write_text('{\n   "agent": "x",\n   "wirelog": [\n      ["RO", [3, "616')
    corrupt = tmp_path / "bad_case_1_1_1.json"
    corrupt.write_text(json.dumps({"isServer": False, "wirelog": [["RO", [2, "zz"]]]}))
    other = tmp_path / "notes.bin"
    other.write_bytes(b"\x00\x01 nothing wirelog knows")
    missing = tmp_path / "missing.json"
    run = wirelog(
        "decode", str(missing), str(truncated), SEED, str(corrupt), str(other), "--format", "jsonl"
    )
    assert run.returncode == 2
    assert len(jsonl(run.stdout)) == 4  # the seed in the middle was still decoded
    lines = run.stderr.splitlines()
    assert len(lines) == 4, run.stderr
    assert "Traceback" not in run.stderr
    assert str(missing) in lines[0] and "no such file" in lines[0]
    assert str(truncated) in lines[1] and "line 4" in lines[1]
    assert str(corrupt) in lines[2] and "entry 0" in lines[2]
    assert str(other) in lines[3]
    run = wirelog("stats", str(corrupt), SEED, "--format", "json")
    assert run.returncode == 2 and len(json.loads(run.stdout)) == 1
    run = wirelog("check", str(missing))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    # Not "no violations": the input was not checked to its end.
    assert run.stdout == "no violations in what could be read\n"


@needs_corpus
def test_check_lists_the_violations_frames_carry() -> None:
    """3.1: the fuzzer sends a text frame with RSV1 set and no extension
    (RFC 6455 §5.2); 5.1: a fragmented ping (§5.5), then a continuation with
    nothing to continue (§5.4)."""
    run = wirelog("check", str(SERVER / "websock_server_case_3_1.json"), "--format", "json")
    assert run.returncode == 1, run.stderr
    (v,) = json.loads(run.stdout)
    assert (v["kind"], v["dir"], v["frame"], v["finding"]) == (
        "rsv_without_extension",
        "tx",
        0,
        False,
    )
    run = wirelog("check", str(SERVER / "websock_server_case_5_1.json"), "--format", "json")
    kinds = [(v["kind"], v["frame"]) for v in json.loads(run.stdout)]
    assert kinds == [("control_frame_fragmented", 0), ("continuation_without_start", 1)]


@needs_corpus
def test_a_folder_with_one_unreadable_case(tmp_path: Path) -> None:
    for name in ("2_1", "2_3"):
        (tmp_path / f"websock_server_case_{name}.json").write_bytes(
            (SERVER / f"websock_server_case_{name}.json").read_bytes()
        )
    (tmp_path / "websock_server_case_2_2.json").write_text('{"wirelog": [')
    run = wirelog("stats", str(tmp_path), "--format", "json")
    assert run.returncode == 2
    assert [e["conn"] for e in json.loads(run.stdout)] == [0, 2]
    (line,) = run.stderr.splitlines()
    assert "websock_server_case_2_2.json" in line and "line 1" in line


def test_the_entry_point_exit_codes_and_streams() -> None:
    """As a user runs it: exit 1 for findings, 2 for a bad input, one line on stderr."""
    ok = process("check", SEED)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "no violations\n", "")
    bad = process("decode", str(ROOT / "missing.json"))
    assert bad.returncode == 2 and bad.stdout == ""
    (line,) = bad.stderr.splitlines()
    assert line.startswith("wirelog: ") and "no such file" in line


def test_a_reader_that_closes_the_pipe_ends_the_listing_quietly() -> None:
    """``wirelog decode ... | head -1``: the rest is not wanted; the listing
    stops at once, silently (typer ends the process on EPIPE)."""
    cmd = [sys.executable, "-c", "from wirelog.cli import main; main()"]
    cmd += ["decode", "-f", "jsonl", str(ROOT / "samples" / "ws_basic.pcap")]
    env = {"PATH": "/usr/bin:/bin", "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert json.loads(first)["conn"] == 0 and err == ""


def test_decode_to_a_file_and_parquet_needs_one(tmp_path: Path) -> None:
    target = tmp_path / "frames.jsonl"
    run = wirelog("decode", SEED, "-f", "jsonl", "-o", str(target))
    assert (run.returncode, run.stdout) == (0, "")
    assert len(jsonl(target.read_text())) == 4
    run = wirelog("decode", SEED, "-f", "parquet")
    assert run.returncode == 2 and "needs --output" in run.stderr


def test_check_as_a_table(tmp_path: Path) -> None:
    from captures_util import drop, read_pcap, write_pcap

    link, packets = read_pcap(ROOT / "samples" / "ws_large.pcap.gz")
    lost = write_pcap(tmp_path / "lost.pcap", link, drop(packets, 5)[0])
    run = wirelog("check", str(lost))
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split()[:3] == ["conn", "kind", "finding"]
    assert any("capture_gap" in line for line in lines[1:])
    assert any("missing_octets" in line for line in lines[1:])
