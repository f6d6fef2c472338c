"""The conventions every command keeps: -h and --version, help that reads
right, an example per command, and a reader that closes the pipe (``| head``)
ends the command with 0 and nothing on stderr, whatever it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wirelog.cli import app

ROOT = Path(__file__).resolve().parents[2]
LARGE = str(ROOT / "samples" / "ws_large.pcap.gz")
COMMANDS = [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]


def invoke(*args: str) -> tuple[int, str]:
    r = CliRunner(env={"WIRELOG_PROGRESS": "0", "COLUMNS": "100"}).invoke(app, list(args))
    return r.exit_code, r.stdout


def test_version_and_short_help() -> None:
    from importlib.metadata import version

    assert invoke("--version") == (0, f"wirelog {version('wirelog')}\n")
    code, out = invoke("-h")
    assert code == 0 and "Usage: wirelog" in out and "--version" in out


def test_the_command_list_gives_each_summary_whole_on_one_line() -> None:
    """Each summary is its docstring's first paragraph, its line breaks and
    literal backticks gone: on a wide terminal, a row of the list."""
    r = CliRunner(env={"WIRELOG_PROGRESS": "0", "COLUMNS": "300"}).invoke(app, ["--help"])
    rows = [" ".join(line.strip("│ ").split()) for line in r.stdout.splitlines()]
    for info in app.registered_commands:
        assert info.callback is not None and info.callback.__doc__
        summary = info.short_help or ""
        assert "\n" not in summary and "``" not in summary and len(summary) > 20
        first = info.callback.__doc__.split("\n\n")[0].replace("``", "")
        assert summary == " ".join(first.split())
        name = info.name or info.callback.__name__
        assert f"{name} {summary}" in rows, summary


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command(command: str) -> None:
    code, out = invoke(command, "-h")
    assert code == 0, out
    assert "<bool>" not in out  # a flag takes no value
    assert "<list[" not in out  # a repeatable option takes one value at a time
    assert f"Example: wirelog {command} " in " ".join(out.split())


@pytest.mark.parametrize(
    "args",
    [
        ["decode", LARGE, "-f", "jsonl"],
        ["decode", LARGE, "-f", "csv", "-l", "chops"],
        ["decode", LARGE, "-l", "messages"],
        ["decode", LARGE, "--where", "length > 0", "-f", "jsonl"],
        ["sql", "SELECT * FROM chops", LARGE],
        ["sql", "SELECT * FROM frames", LARGE, "-f", "json"],
        ["sql", "SELECT * FROM frames", LARGE, "-f", "csv"],
        ["follow", LARGE, "--max", "0"],
        ["report", LARGE],
    ],
    ids=lambda a: " ".join(x for x in a if x != LARGE),
)
def test_a_closed_pipe_ends_with_0_and_no_word(args: list[str]) -> None:
    cmd = [sys.executable, "-c", "from wirelog.cli import main; main()", *args]
    env = {"PATH": "/usr/bin:/bin", "WIRELOG_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.read(100)
    proc.stdout.close()  # as head does, long before the output ends
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == ""
    assert len(first) == 100


MULTI = str(ROOT / "samples" / "multi_conn.pcap")


@pytest.mark.parametrize(
    "args",
    [
        ["decode", MULTI],
        ["decode", MULTI, "-f", "jsonl"],
        ["stats", MULTI],
        ["check", MULTI],
        ["conns", MULTI],
        ["follow", MULTI],
        ["report", MULTI],
        ["plot", MULTI, "-o", "{tmp}"],
        ["replay", MULTI, "--target", "ws://127.0.0.1:1/"],
    ],
    ids=lambda a: " ".join(x for x in a if x != MULTI),
)
def test_a_conn_that_matches_nothing_names_those_there_are(args: list[str], tmp_path: Path) -> None:
    r = CliRunner(env={"WIRELOG_PROGRESS": "0"}).invoke(
        app, [a.replace("{tmp}", str(tmp_path)) for a in args] + ["--conn", "99"]
    )
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1] == f"wirelog: {MULTI}: no connection 99 (have 0, 1, 2)"
