"""The ``wirelog`` command: thin wrappers over the library calls.

Heavy packages (pandas, matplotlib, scapy) are imported inside the commands
that need them so that ``wirelog --help`` stays instant. A known error
prints one line on stderr and sets a non-zero exit code; the traceback is
shown only with ``WIRELOG_DEBUG=1``. Several inputs in one call are
independent: a bad one is reported and the others are still processed.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable

import typer

from wirelog.errors import InputError, WirelogError

app = typer.Typer(
    name="wirelog",
    help="Decode, measure, draw and replay WebSocket traffic "
    "(Autobahn Testsuite reports and pcap/pcapng captures).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class ExitCode(enum.IntEnum):
    OK = 0
    FOUND = 1
    """check: violations found; replay/diff: recordings differ."""
    ERROR = 2
    """An input could not be read, or a target could not be talked to."""


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


def main() -> None:
    try:
        app()
    except InputError as exc:  # pragma: no cover - commands catch their own
        report_exception(exc)
        sys.exit(ExitCode.ERROR)
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        # The reader (``| head``) has all it wanted: stop quietly, as cat does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(ExitCode.OK)
