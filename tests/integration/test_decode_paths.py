"""``wirelog decode -f jsonl`` (frames streamed from the decoding sink,
written by the one line encoder a batch at a time) must say exactly what the
materialized path (read, then decode) says, frame for frame, on every sample
and on damaged TCP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import wirelog
from wirelog.cli import app
from wirelog.outputs.formats import frame_row

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CAPTURES = sorted(p for p in SAMPLES.iterdir() if ".pcap" in p.name)


def cli_frames(path: Path, *extra: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["decode", "-f", "jsonl", *extra, str(path)])
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def library_frames(path: Path) -> list[dict[str, Any]]:
    rows = [frame_row(dc.connection, f) for dc in wirelog.decode(str(path)) for f in dc.frames]
    # JSON has no tuples or bytes: compare what a reader of the jsonl gets.
    return [json.loads(json.dumps(r)) for r in rows]


def key(row: dict[str, Any]) -> tuple[int, str, int]:
    return (row["conn"], row["dir"], row["index"])


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_cli_jsonl_equals_the_library(path: Path) -> None:
    fast = cli_frames(path)
    general = library_frames(path)
    assert len(fast) == len(general) > 0
    assert sorted(fast, key=key) == sorted(general, key=key)


def test_damaged_tcp_gives_the_same_results(tmp_path: Path) -> None:
    """Reordered, duplicated, re-segmented and lost segments leave the fast
    path part-way through a connection: the answers must still agree."""
    from captures_util import drop, duplicate, read_pcap, reorder, resegment, write_pcap

    link, packets = read_pcap(SAMPLES / "ws_large.pcap.gz")
    variants = {
        "reorder": reorder(packets),
        "duplicate": duplicate(packets),
        "resegment": resegment(packets),
        "drop": drop(packets, 5)[0],
    }
    for name, pkts in variants.items():
        bad = write_pcap(tmp_path / f"{name}.pcap", link, pkts)
        fast, general = cli_frames(bad), library_frames(bad)
        assert sorted(fast, key=key) == sorted(general, key=key), name
        if name == "drop":
            assert any("missing_octets" in r["violations"] for r in fast)
