"""The options several commands share: ``--max-message-size`` reaches the
decoder from every command that decodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wirelog.cli import app
from wirelog.cli.opts import options, parse_size
from wirelog.protocol.deflate import DEFAULT_MAX_MESSAGE_SIZE

ROOT = Path(__file__).resolve().parents[2]
DEFLATE = str(ROOT / "samples" / "ws_deflate.pcap")
"""Compressed text messages of 940-1,175 octets and a 200,000-octet binary
one, both ways."""


@pytest.mark.parametrize(
    ("text", "size"),
    [("65536", 65536), ("512K", 512 << 10), ("32M", 32 << 20), ("1g", 1 << 30)],
)
def test_sizes_as_people_write_them(text: str, size: int) -> None:
    assert parse_size(text) == size
    assert parse_size(text + "iB") == parse_size(text + "B") == size


@pytest.mark.parametrize("text", ["", "0", "-5", "12X", "1.5M", "M", "9" * 19, "١٢"])
def test_what_is_no_size(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="is not a size"):
        parse_size(text)


def test_the_default_is_the_decoder_s() -> None:
    assert parse_size(DEFAULT_MAX_MESSAGE_SIZE) == DEFAULT_MAX_MESSAGE_SIZE
    assert options([], [], []).max_message_size == DEFAULT_MAX_MESSAGE_SIZE


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_check_finds_messages_cut_at_the_limit() -> None:
    code, out, _ = _run("check", "-f", "json", DEFLATE)
    assert code == 0 and json.loads(out) == []
    code, out, _ = _run("check", "-f", "json", "--max-message-size", "950", DEFLATE)
    cut = [(v["dir"], v["frame"]) for v in json.loads(out) if v["kind"] == "inflate_limit"]
    # 940 octets fit, the longer ones do not.
    assert code == 1 and cut and ("tx", 0) not in cut and ("rx", 0) not in cut
    assert all(v["finding"] for v in json.loads(out))


def test_decode_lists_the_cut_messages() -> None:
    code, out, _ = _run(
        "decode", "-l", "messages", "-f", "jsonl", "--max-message-size", "100", DEFLATE
    )
    msgs = [json.loads(line) for line in out.splitlines()]
    data = [m for m in msgs if m["opcode"] in (1, 2)]
    assert code == 0 and len(data) == 14
    for m in data:
        assert not m["complete"] and m["length"] == 100 and m["violations"] == ["inflate_limit"]
        assert len(m["text"] if m["opcode"] == 1 else bytes.fromhex(m["data"])) == 100


@pytest.mark.parametrize("command", [["stats"], ["report"], ["report", "-f", "html"]])
def test_every_command_takes_it(command: list[str]) -> None:
    code, _, err = _run(*command, "--max-message-size", "100", DEFLATE)
    assert code == 0, err
    code, _, err = _run(*command, "--max-message-size", "lots", DEFLATE)
    assert code == 2 and "is not a size" in err


def test_what_the_commands_load_is_cut_at_the_limit() -> None:
    """``report`` and ``plot`` load through :class:`Capture`; ``stats``
    and ``check`` stream."""
    from wirelog.analysis.loaded import Capture
    from wirelog.sources.options import Options

    for limit, whole in ((100, False), (DEFAULT_MAX_MESSAGE_SIZE, True)):
        cap = Capture([DEFLATE], Options(max_message_size=limit))
        data = [m for dc in cap.decoded() for m in dc.messages if m.opcode in (1, 2)]
        assert len(data) == 14 and all(m.complete is whole for m in data)
        assert all((len(m.data) == 100) is not whole for m in data)
        table = cap.messages()
        assert (table[table["opcode"] == 2]["complete"] == whole).all()


def test_plot_takes_it(tmp_path: Path) -> None:
    code, _, err = _run(
        "plot", "-o", str(tmp_path), "-k", "messages", "--max-message-size", "1K", DEFLATE
    )
    assert code == 0, err
    assert list(tmp_path.iterdir())
