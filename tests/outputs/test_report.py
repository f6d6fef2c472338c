"""Autobahn-style reports: checked against what Autobahn itself printed.

Oracles: the seed report (its Wire Statistics and Wire Log sections, line
for line), and every case page of the shared corpus (``<pre>`` lines of the
HTML twin of each JSON report, rendered by Autobahn, CSS class included).
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

import pytest
from analysis_seed import SEED, section, seed_recording
from typer.testing import CliRunner

from wirelog.cli.app import app
from wirelog.model import ClaimedFrame, Connection, Direction, Role
from wirelog.outputs.report import render_text
from wirelog.pipeline import decode, decode_recording
from wirelog.sources.autobahn.encoding import ascii_log, bin_log
from wirelog.sources.autobahn.render import encode_text, wire_log

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "autobahn-reports"
PRE = re.compile(r'<pre class="(wirelog_[a-z_]+)">(.*?)</pre>', re.S)


def _seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def test_seed_round_trips_through_wirelog_report() -> None:
    result = CliRunner().invoke(app, ["report", str(SEED)])
    assert result.exit_code == 0, result.output
    ours, seed = result.output, _seed_text()
    assert section(ours, "Wire Statistics", "Wire Log") == section(
        seed, "Wire Statistics", "Wire Log"
    )
    assert section(ours, "Wire Log", None) == section(seed, "Wire Log", None)
    assert len(section(seed, "Wire Log", None)) == 18  # 12 entries + 6 continuation lines


def test_a_capture_of_the_seed_gives_the_seed_wire_log() -> None:
    """No log claims: TO/RO from chunks, TF/RF placed from the decoded frames."""
    (dc,) = decode_recording(seed_recording())
    ours = render_text([dc])
    seed = _seed_text()
    # A recording with times gets each entry's time after its first line.
    timed = section(ours, "Wire Log", None)
    # 12 entries: all but the timer (no time of its own) and the final TCP line
    assert sum("[t=" in line for line in timed) == 10
    untimed = [re.sub(r"\[t=\d+\.\d{6}s\]$", "", line) for line in timed]
    assert untimed == section(seed, "Wire Log", None)
    assert section(ours, "Wire Statistics", "Wire Log") == section(
        seed, "Wire Statistics", "Wire Log"
    )


def _corpus_cases() -> list[str]:
    return sorted(glob.glob(str(CORPUS / "*" / "*_case_*.json")))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared Autobahn corpus not present")
def test_wire_log_equals_autobahns_own_html_for_the_whole_corpus() -> None:
    cases = _corpus_cases()
    assert len(cases) == 1034
    differ = []
    for js in cases:
        page = Path(js[:-5] + ".html").read_text(encoding="utf-8", errors="surrogateescape")
        want = PRE.findall(page)
        (dc,) = decode(js)
        got = [
            (e.css, encode_text(line).decode("utf-8", "surrogateescape"))
            for e in wire_log(dc)
            for line in e.lines
        ]
        if got != want:
            differ.append(os.path.basename(js))
    assert differ == []


def test_bin_log_cuts_past_60_and_keeps_64() -> None:
    # spec §1.4: > 60 bytes: hex of the first 64 + " ..."; 61-64 are complete yet marked
    assert bin_log(bytes(60), 60) == "00" * 60
    assert bin_log(bytes(61), 61) == "00" * 61 + " ..."
    assert bin_log(bytes(range(100)), 100) == bytes(range(64)).hex() + " ..."
    assert bin_log(bytes(64), 239) == "00" * 64 + " ..."  # a cut log chunk


def test_ascii_log_text_or_hex() -> None:
    assert ascii_log(b"Hello, world!", 13) == "Hello, world!"
    assert ascii_log(b"\x03\xe8", 2) == "0x03e8"  # the seed's close payload
    assert ascii_log(b"\x00\x00", 2) == "\x00\x00"  # both bytes < 0x80: text (spec §1.4)
    assert ascii_log(b"*" * 70, 70) == "*" * 64 + " ..."
    # a code point cut at byte 64 makes the decode fail: hex form
    cut = b"a" + "é".encode() * 40
    assert ascii_log(cut, len(cut)) == "0x" + cut[:64].hex() + " ..."
    assert ascii_log(b"", 0) == ""


def test_rf_mask_is_printed_as_the_hex_of_its_hex() -> None:
    conn = Connection(0, "t", Role.SERVER, meta={"droppedByMe": True})
    conn.claims.append(
        ClaimedFrame(Direction.RX, 0, 1, True, 0, True, bytes.fromhex("c1b30ab6"), 2, b"hi", 2)
    )
    (dc,) = decode_recording_one(conn)
    lines = [x for e in wire_log(dc) for x in e.lines]
    # spec §2.2: MASK=6331623330616236 means the mask was c1b30ab6
    assert lines[0].endswith("MASKED=True, MASK=6331623330616236")
    assert lines[1] == " " * 15 + "hi"
    assert lines[2] == "001 TCP DROPPED BY ME"


def decode_recording_one(conn: Connection) -> list[object]:
    from wirelog.model import Recording

    return decode_recording(Recording("t", "memory", [conn]))  # type: ignore[return-value]


def test_pcap_report_has_every_section() -> None:
    path = Path(__file__).resolve().parents[2] / "samples" / "ws_basic.pcap"
    result = CliRunner().invoke(app, ["report", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output
    for title in ("Opening Handshake", "Closing Behavior", "Wire Statistics", "Wire Log"):
        assert f"\n{title}\n" in out
    log = section(out, "Wire Log", None)
    assert log[0].startswith("000TXOCTETS:474554")  # "GET"
    assert log[-1].endswith("TCPDROPPEDBYPEER") or log[-1].endswith("TCPDROPPEDBYME")
    # every frame of the capture shows as a TF/RF line
    frames = [x for x in log if "FRAME:" in x]
    from wirelog.pipeline import decode as dec

    assert len(frames) == sum(len(d.frames) for d in dec(str(path)))


def test_rx_frames_of_a_deflate_capture_show_the_inflated_payload() -> None:
    """Autobahn's RF shows a compressed frame's inflated output (spec §1.3)."""
    import json

    samples = Path(__file__).resolve().parents[2] / "samples"
    manifest = json.loads((samples / "manifest.json").read_text())
    sent = manifest["aiohttp_deflate"]["connections"][0]["client_sent"][0]
    text = bytes.fromhex(sent["hex"]).decode()  # the server echoes it
    (dc,) = decode(str(samples / "aiohttp_deflate.pcap"))
    lines = [x for e in wire_log(dc) for x in e.lines]
    rf = next(i for i, x in enumerate(lines) if "RX FRAME" in x)
    assert "RSV=4" in lines[rf] and f"PAYLOAD-LEN={sent['length']}," in lines[rf]
    assert lines[rf + 1] == " " * 15 + text
    tf = next(i for i, x in enumerate(lines) if "TX FRAME" in x)
    assert lines[tf + 1].strip().startswith("0x")  # TF keeps the compressed octets


def test_log_switched_off_at_the_end_is_noted_like_autobahn() -> None:
    conn = Connection(0, "t", Role.CLIENT, meta={"createWirelog": False, "droppedByMe": False})
    (dc,) = decode_recording_one(conn)
    text = render_text([dc])  # type: ignore[list-item]
    assert section(text, "Wire Log", None) == [
        "Wirelogafterhandshakedisabled!",
        "000TCPDROPPEDBYPEER",
    ]


CASE_1_1_1 = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "autobahn-reports"
    / ("testing-a-server/websock_server_case_1_1_1.json")
)


@pytest.mark.skipif(not CASE_1_1_1.exists(), reason="../shared/autobahn-reports missing")
def test_case_outcome_shows_expected_and_observed_as_autobahn_does() -> None:
    import json

    import wirelog

    doc = json.loads(CASE_1_1_1.read_text())
    text = wirelog.load(str(CASE_1_1_1)).report()
    lines = text.splitlines()
    at = lines.index("Case Outcome")
    assert lines[at + 2] == doc["result"]
    assert lines[lines.index("Expected:", at) + 1].startswith("{'OK': ")
    assert lines[lines.index("Observed:", at) + 1].startswith("[")
    closing = lines.index("Case Closing Behavior")
    assert lines[closing + 2] == f"{doc['resultClose']} ({doc['behaviorClose']})"
    assert "I (the fuzzer) am a server" in text  # Autobahn's own words for its own report


def test_a_capture_report_speaks_of_the_recorder_and_has_times() -> None:
    import wirelog

    path = str(Path(__file__).resolve().parents[2] / "samples" / "ws_basic.pcap")
    text = wirelog.load(path).report()
    assert " I " not in text and "fuzzer" not in text and " me " not in text
    assert "True, iff the recorder is the server, and the peer is a client." in text
    log = text[text.index("\nWire Log\n") :].splitlines()
    first = next(line for line in log if line.startswith("002 TX FRAME"))
    frames = wirelog.load(path).frames()
    assert first.endswith(f"[t={frames.t[0]:.6f}s]")
    page = wirelog.load(path).report(fmt="html")
    assert "the recorder initiated closing handshake" in page and "[t=" in page
