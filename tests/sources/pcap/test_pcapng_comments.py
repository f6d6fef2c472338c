"""pcapng comments kept where a user sees them: Wireshark's own ``editcap``
adds a capture comment (the section header's ``opt_comment``) and packet
comments (each Enhanced Packet Block's) to a real capture; wirelog lists
each as a ``capture_comment`` finding (``check``, ``violations()``) at the
packet tshark's ``frame.comment`` names, and ``check`` still exits 0."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from captures_util import HAVE_TSHARK, SAMPLES
from typer.testing import CliRunner

import wirelog
from wirelog.cli import app
from wirelog.pipeline import read
from wirelog.sources.pcap.files import open_records

pytestmark = pytest.mark.skipif(
    not HAVE_TSHARK or shutil.which("editcap") is None, reason="needs tshark and editcap"
)
SAID = {5: "the fifth packet", 8: "héllo; eighth", 1: "a SYN, before the Upgrade"}


@pytest.fixture(scope="module")
def commented(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("comments") / "commented.pcapng"
    notes = [x for n, text in SAID.items() for x in ("-a", f"{n}:{text}")]
    subprocess.run(
        ["editcap", "-F", "pcapng", "--capture-comment", "made by the test", *notes,
         str(SAMPLES / "ws_basic.pcap"), str(out)],
        check=True, timeout=60,
    )  # fmt: skip
    return out


def tshark_comments(path: Path) -> dict[int, str]:
    proc = subprocess.run(
        ["tshark", "-r", str(path), "-Y", "frame.comment", "-T", "fields",
         "-e", "frame.number", "-e", "frame.comment"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return {int(n): text for n, text in (line.split("\t") for line in proc.stdout.splitlines())}


def test_packet_comments_are_tsharks(commented: Path) -> None:
    theirs = tshark_comments(commented)
    assert theirs == SAID
    recs = open_records(str(commented))
    assert sum(1 for _ in recs.packets) > 8
    assert recs.comments.packets == theirs
    assert recs.comments.lines == ["section: made by the test"]


def test_comments_are_findings_where_a_user_looks(commented: Path) -> None:
    rec = read(str(commented))
    (conn,) = rec.connections
    mine = [v for v in conn.findings if v.kind.value == "capture_comment"]
    # the packets inside the WebSocket connection, at their direction and position
    assert [v.detail for v in mine] == [f"packet {n}: {SAID[n]}" for n in (5, 8)]
    assert all(v.direction is not None and v.chunk is not None for v in mine)
    # the section's, and a packet's before the Upgrade: about the whole input
    assert [v.detail for v in rec.findings if v.kind.value == "capture_comment"] == [
        "section: made by the test",
        f"packet 1: {SAID[1]}",
    ]
    table = wirelog.load(str(commented)).violations()
    rows = table[table["kind"] == "capture_comment"]
    assert len(rows) == 4 and set(rows["finding"]) == {True}
    check = CliRunner().invoke(app, ["check", "-f", "json", str(commented)])
    assert check.exit_code == 0, check.output  # listed, but no problem of the traffic
    kinds = [r["kind"] for r in json.loads(check.stdout)]
    assert kinds.count("capture_comment") == 4 and set(kinds) == {"capture_comment"}


def test_a_capture_without_comments_has_none() -> None:
    recs = open_records(str(SAMPLES / "ws_basic.pcap"))
    assert sum(1 for _ in recs.packets) > 0
    assert recs.comments.packets == {} and recs.comments.lines == []
    assert not [v for v in read(str(SAMPLES / "ws_basic.pcap")).findings]
