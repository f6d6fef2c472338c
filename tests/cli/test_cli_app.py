"""The app's conventions, in-process: one line per known error on stderr
(a traceback only with WIRELOG_DEBUG), several inputs independent of each
other, and how ``main`` ends on ^C, a closed pipe or an input error."""

from __future__ import annotations

import errno
import importlib
import os
import sys
from collections.abc import Callable

import pytest

from wirelog.cli.app import ExitCode, each_input, error, main, only_invoked, report_exception
from wirelog.errors import InputError, UsageError


def test_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    error("two\nlines  and\tspaces")
    assert capsys.readouterr().err == "wirelog: two lines and spaces\n"


def test_known_errors_os_errors_and_bugs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WIRELOG_DEBUG", raising=False)
    report_exception(UsageError("bad flag"))
    report_exception(FileNotFoundError(errno.ENOENT, "No such file or directory", "/x"))
    report_exception(PermissionError(errno.EACCES, "Permission denied"), "/y")
    report_exception(KeyError("k"), "in.pcap")
    report_exception(ValueError("v"))
    assert capsys.readouterr().err.splitlines() == [
        "wirelog: bad flag",
        "wirelog: /x: No such file or directory",
        "wirelog: /y: Permission denied",
        "wirelog: in.pcap: internal error: KeyError: 'k' (set WIRELOG_DEBUG=1 for details)",
        "wirelog: internal error: ValueError: v (set WIRELOG_DEBUG=1 for details)",
    ]


def test_debug_adds_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRELOG_DEBUG", "1")
    try:
        raise ValueError("deep")
    except ValueError as exc:
        report_exception(exc)
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith(
        "wirelog: internal error: ValueError: deep (set WIRELOG_DEBUG=1 for details)\n"
    )


def test_each_input_goes_on_after_a_bad_one(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []

    def body(path: str) -> None:
        seen.append(path)
        if path == "bad":
            raise InputError(path, "unreadable")
        if path == "bug":
            raise RuntimeError("oops")

    assert each_input(["a", "b"], body) is ExitCode.OK
    assert each_input(["a", "bad", "bug", "c"], body) is ExitCode.ERROR
    assert seen == ["a", "b", "a", "bad", "bug", "c"]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "unreadable" in err[0] and "RuntimeError: oops" in err[1]

    def pipe(path: str) -> None:
        raise BrokenPipeError

    with pytest.raises(BrokenPipeError):
        each_input(["a"], pipe)


def _main_with(monkeypatch: pytest.MonkeyPatch, app: Callable[[], None]) -> int:
    # ``wirelog.cli.app`` as an attribute is the Typer app (the package
    # exports it), so the module is looked up by name.
    monkeypatch.setattr(importlib.import_module("wirelog.cli.app"), "app", app)
    with pytest.raises(SystemExit) as exit_info:
        main()
    return int(exit_info.value.code or 0)


def test_main_on_interrupt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    assert _main_with(monkeypatch, interrupted) == 130
    assert capsys.readouterr().err == "wirelog: interrupted\n"


def test_main_on_an_input_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing() -> None:
        raise InputError("in.json", "cut short")

    assert _main_with(monkeypatch, failing) == ExitCode.ERROR
    assert capsys.readouterr().err.count("\n") == 1


def test_main_on_a_bug_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command that lets an unexpected error through (``sql`` did, with
    an int64 overflow) still ends in one line and exit 2."""

    def buggy() -> None:
        raise OverflowError("Python int too large to convert to C long")

    assert _main_with(monkeypatch, buggy) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert err == (
        "wirelog: internal error: OverflowError: Python int too large to convert to C long"
        " (set WIRELOG_DEBUG=1 for details)\n"
    )


def test_main_on_a_closed_pipe_stops_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    r, w = os.pipe()
    out = os.fdopen(w, "w")
    monkeypatch.setattr(sys, "stdout", out)

    def closed() -> None:
        raise BrokenPipeError

    try:
        assert _main_with(monkeypatch, closed) == ExitCode.OK
        # stdout now points to /dev/null: more output goes nowhere, quietly.
        os.write(out.fileno(), b"more")
        os.close(r)
        os.write(out.fileno(), b"still fine")
    finally:
        out.close()


def test_main_runs_the_app(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["wirelog", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("decode", "replay", "diff", "plot", "report"):
        assert command in out


def test_a_run_builds_only_the_command_it_invokes() -> None:
    """typer builds click parameters for every registered command on each
    run: a run keeps only the one it invokes, and gives the others back."""
    from wirelog.cli import app

    every = list(app.registered_commands)
    groups = list(app.registered_groups)
    assert len(every) > 10 and groups
    with only_invoked(app, ["decode", "x.pcap", "-f", "jsonl"]):
        assert [c.callback.__name__ for c in app.registered_commands if c.callback] == ["decode"]
        assert app.registered_groups == []
    with only_invoked(app, ["suite", "run", "ref/"]):
        assert app.registered_commands == [] and app.registered_groups == groups
    with only_invoked(app, ["--version"]):
        assert app.registered_commands == [] and app.registered_groups == []
    for argv in (["--help"], [], ["deocde"], ["-h", "decode"]):
        with only_invoked(app, argv):
            assert app.registered_commands == every and app.registered_groups == groups
    assert app.registered_commands == every and app.registered_groups == groups


def test_main_runs_one_command_and_keeps_the_app_whole(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from wirelog.cli import app

    every = list(app.registered_commands)
    monkeypatch.setattr(sys, "argv", ["wirelog", "decode", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "decode [OPTIONS] [inputs]... List every chop" in out
    assert app.registered_commands == every
    monkeypatch.setattr(sys, "argv", ["wirelog", "deocde"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "Did you mean 'decode'?" in capsys.readouterr().err
