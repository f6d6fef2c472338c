"""The ``wirelog`` command: thin wrappers over the library calls.

Heavy packages (pandas, matplotlib, scapy) are imported inside the commands
that need them so that ``wirelog --help`` stays instant. A known error
prints one line on stderr and sets a non-zero exit code; the traceback is
shown only with ``WIRELOG_DEBUG=1``. Several inputs in one call are
independent: a bad one is reported and the others are still processed.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Annotated

import typer

from wirelog.errors import UsageError, WirelogError

app = typer.Typer(
    name="wirelog",
    help="Decode, measure, draw and replay WebSocket traffic (Autobahn Testsuite reports, "
    "pcap/pcapng captures, live capture, HARs and mitmproxy flows).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        # The package's own constant (pyproject.toml reads it): importing
        # importlib.metadata to ask the installed distribution took 45 ms.
        from wirelog import __version__

        sys.stdout.write(f"wirelog {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Decode, measure, draw and replay WebSocket traffic (Autobahn Testsuite
    reports, pcap/pcapng captures, live capture, HARs and mitmproxy flows)."""


class ExitCode(enum.IntEnum):
    OK = 0
    FOUND = 1
    """check: violations found; replay/diff: recordings differ."""
    ERROR = 2
    """An input could not be read, or a target could not be talked to."""
    INTERRUPTED = 130
    """Ctrl-C (128 + SIGINT, as shells report it)."""


class Level(enum.StrEnum):
    chops = "chops"
    frames = "frames"
    messages = "messages"


class DecodeFormat(enum.StrEnum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


class ReportFormat(enum.StrEnum):
    table = "table"
    json = "json"


def error(message: str) -> None:
    """One line on stderr, whatever the message holds."""
    line = " ".join(str(message).split())
    sys.stderr.write(f"wirelog: {line}\n")
    sys.stderr.flush()


def report_exception(exc: BaseException, source: str | None = None) -> None:
    if os.environ.get("WIRELOG_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    if isinstance(exc, WirelogError):
        error(str(exc))
    elif isinstance(exc, OSError):
        error(f"{source or exc.filename}: {exc.strerror or exc}")
    else:
        where = f"{source}: " if source else ""
        error(
            f"{where}internal error: {type(exc).__name__}: {exc} (set WIRELOG_DEBUG=1 for details)"
        )


def check_output(path: str, flag: str = "--output") -> None:
    """Refuse an output file that cannot be written before any work is done,
    naming the path (not the input): a folder, or a file in no folder."""
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"{flag} {path}: no folder {parent}")


def output_failed(flag: str, path: str, exc: OSError) -> UsageError:
    """An output that could not be written, as the one-line error naming it."""
    return UsageError(f"{flag} {path}: {exc.strerror or exc}")


def write_output(path: str, data: bytes, flag: str = "--output") -> None:
    """Write a command's whole output to ``path`` (see :func:`check_output`)."""
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise output_failed(flag, path, exc) from None


def each_input(inputs: list[str], body: Callable[[str], None]) -> ExitCode:
    """Run ``body`` per input; a failing input does not stop the others."""
    code = ExitCode.OK
    for path in inputs:
        try:
            body(path)
        except BrokenPipeError:
            raise
        except (WirelogError, OSError) as exc:
            report_exception(exc, path)
            code = ExitCode.ERROR
        except Exception as exc:  # an analyzer must never die on one bad input
            report_exception(exc, path)
            code = ExitCode.ERROR
    sys.stdout.flush()
    return code


def interrupted() -> None:
    """Ctrl-C: say so in one line, and let no second Ctrl-C break into the
    interpreter's shutdown (a traceback from an atexit hook, the replay's
    resolver thread being joined)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    error("interrupted")


def _pipe_closed() -> None:
    """The reader (``| head``) has all it wanted: stop quietly with 0, as
    ``cat`` does, and let no flush at exit complain about the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
        pass
    sys.exit(ExitCode.OK)


def one_line_summaries(root: typer.Typer) -> None:
    """Give every command of ``root`` (and of its groups) its docstring's
    first paragraph, on one line, as the summary the command list shows.

    Why: in that list typer's rich mode keeps the paragraph's line breaks,
    so summaries broke mid-sentence, and the docstrings' ``literals``
    showed their backticks. A command's own ``--help`` is unchanged."""
    for info in root.registered_commands:
        doc = info.callback.__doc__ if info.callback is not None else None
        if info.short_help is None and doc:
            first = inspect.cleandoc(doc).split("\n\n")[0]
            info.short_help = " ".join(first.replace("``", "").split())
    for group in root.registered_groups:
        if group.typer_instance is not None:
            one_line_summaries(group.typer_instance)


def _name(info: typer.models.CommandInfo | typer.models.TyperInfo) -> str | None:
    """The name a command or group is invoked by: the given name, else
    (typer's own rule, ``get_command_name``) the function's."""
    if info.name:
        return info.name
    if isinstance(info, typer.models.TyperInfo):
        return info.typer_instance.info.name if info.typer_instance else None
    callback = info.callback
    return typer.main.get_command_name(callback.__name__) if callback is not None else None


@contextlib.contextmanager
def only_invoked(root: typer.Typer, argv: list[str]) -> Iterator[None]:
    """While running, ``root`` holds only the command (or group) ``argv``
    invokes, when its first word names one.

    Why: typer turns every registered command's signature into click
    parameters on each run, 0.1 s of CPU for the 16 commands, most of a
    small decode's start-up; one command is the only one a run reads, and
    ``--version`` (eager: it exits before any command) reads none. The
    usage lines, ``--help`` of the command and its errors are the same;
    anything else (``--help``, no command or a misspelt one) gets the whole
    app, so the list and the suggestions are whole."""
    word = argv[0] if argv else ""
    commands = [c for c in root.registered_commands if _name(c) == word]
    groups = [g for g in root.registered_groups if _name(g) == word]
    if not commands and not groups and word != "--version":
        yield
        return
    kept = root.registered_commands, root.registered_groups
    root.registered_commands, root.registered_groups = commands, groups
    try:
        yield
    finally:
        root.registered_commands, root.registered_groups = kept


def main() -> None:
    try:
        if isinstance(app, typer.Typer):
            with only_invoked(app, sys.argv[1:]):
                app()
        else:  # pragma: no cover - a test's stand-in for the app
            app()
    except SystemExit as exc:
        # typer turns Ctrl-C inside a command into exit 130 without a word.
        if exc.code == ExitCode.INTERRUPTED:
            interrupted()
        # typer (as click) answers a closed stdout (EPIPE) with exit 1 after
        # wrapping stdout in a PacifyFlushWrapper: that wrapper is the sign.
        if exc.code == 1 and type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):
            _pipe_closed()
        raise
    except KeyboardInterrupt:
        interrupted()
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        _pipe_closed()
    except Exception as exc:
        # The last line of defence: a command that let an error through (a
        # bug) still ends in one line and exit 2, never a traceback.
        report_exception(exc)
        sys.exit(ExitCode.ERROR)
