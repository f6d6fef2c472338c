"""``--max-message-size`` against real deflate bombs (issue 11): a capture
of the ``websockets`` client reading them on 127.0.0.1, and an Autobahn
report holding six. Every command ends with one finding per bomb, the
message after the bombs whole, and a peak RSS (the child's own, ``VmHWM``)
that does not grow with the bombs' size."""

from __future__ import annotations

import json

import pytest
from bombs import AFTER, autobahn_json, record
from replay.peers import Run, run_cli

from wirelog.protocol.deflate import DEFAULT_MAX_MESSAGE_SIZE

SIZE = 64 << 20
"""Each bomb: twice the default limit (64 MiB of zeros in 64 KiB)."""
BASE_MB = 90
"""The CLI with pandas and a capture open, and room for a loaded machine."""


def bounded(r: Run, kept: int) -> None:
    """Ended by itself, within the base plus ``kept`` cut text messages
    (each the limit's octets and as many characters)."""
    assert r.code in (0, 1), r.err
    assert r.rss_mb < BASE_MB + kept * 2 * DEFAULT_MAX_MESSAGE_SIZE / 2**20, r.rss_mb


@pytest.fixture(scope="module", params=[1, 4], ids=["one-bomb", "four-bombs"])
def capture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, int]:
    n: int = request.param
    return str(record(tmp_path_factory.mktemp("bombs") / f"{n}.pcap", n, SIZE)), n


def test_check_finds_each_bomb(capture: tuple[str, int]) -> None:
    pcap, n = capture
    r = run_cli("check", "-f", "json", pcap)
    found = json.loads(r.out)
    assert r.code == 1 and [(v["kind"], v["dir"], v["frame"]) for v in found] == [
        ("inflate_limit", "rx", i) for i in range(n)
    ]
    # Streamed, but the bombs came in one TCP chunk: decoded together.
    bounded(r, n)


def test_decode_messages_cuts_each_bomb_and_goes_on(capture: tuple[str, int]) -> None:
    pcap, n = capture
    r = run_cli("decode", "-l", "messages", "-f", "jsonl", "--max-message-size", "1M", pcap)
    rx = [m for m in map(json.loads, r.out.splitlines()) if m["dir"] == "rx"]
    assert [m["opcode_name"] for m in rx] == ["TEXT"] * (n + 1) + ["CLOSE"]
    for m in rx[:n]:
        assert m["length"] == len(m["text"]) == 1 << 20 and set(m["text"]) == {"\0"}
        assert not m["complete"] and m["violations"] == ["inflate_limit"]
    # The window was kept in step through the bombs: the next message inflates.
    assert rx[n]["text"] == AFTER and rx[n]["complete"] and not rx[n]["violations"]
    assert r.rss_mb < BASE_MB, r.rss_mb
    table = run_cli("decode", "-l", "messages", pcap)
    assert AFTER in table.out and len(table.out) < 10_000
    bounded(table, n)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(autobahn_json(tmp_path_factory.mktemp("bombs") / "case.json", 6, SIZE))


def test_six_bombs_in_an_autobahn_report(report: str) -> None:
    r = run_cli("check", "-f", "json", report)
    cut = [(v["dir"], v["frame"]) for v in json.loads(r.out) if v["kind"] == "inflate_limit"]
    assert r.code == 1 and cut == [("rx", i) for i in range(6)]
    # A report's connection is decoded whole (its log claims frames): all
    # six cut messages are held at once, and no more than that.
    bounded(r, 6)
    r = run_cli("decode", "-l", "messages", "-f", "jsonl", "--max-message-size", "64K", report)
    rx = [m for m in map(json.loads, r.out.splitlines()) if m["dir"] == "rx"]
    assert [len(m["text"]) for m in rx[:6]] == [1 << 16] * 6 and rx[6]["text"] == AFTER
    assert r.rss_mb < BASE_MB, r.rss_mb


@pytest.mark.parametrize(
    "command",
    [["decode"], ["decode", "-l", "messages"], ["stats"], ["report"], ["report", "-f", "html"]],
    ids=" ".join,
)
def test_every_command_ends_bounded(report: str, command: list[str]) -> None:
    r = run_cli(*command, report)
    assert r.out and not r.err
    bounded(r, 6)
