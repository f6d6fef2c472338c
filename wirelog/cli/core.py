"""``decode``, ``stats`` and ``check``: the commands every input kind has."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any, NoReturn

import typer

from wirelog.cli.app import (
    DecodeFormat,
    ExitCode,
    Level,
    ReportFormat,
    app,
    each_input,
    error,
    report_exception,
)
from wirelog.cli.opts import ConnOpt, InputsArg, PortOpt, WsPortOpt, options
from wirelog.errors import WirelogError
from wirelog.sources.options import Options


@app.command()
def decode(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="Report files/folders or pcap/pcapng captures ('-': stdin)."),
    ] = None,
    fmt: Annotated[
        DecodeFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DecodeFormat.table,
    level: Annotated[Level, typer.Option("--level", "-l", help="What to list.")] = Level.frames,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    conn: ConnOpt = [],  # noqa: B006 - typer reads the default, it is never mutated
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    interface: Annotated[
        str | None,
        typer.Option(
            "--interface", "-i", help="Capture live on this interface (dumpcap or tcpdump)."
        ),
    ] = None,
    bpf: Annotated[
        str | None, typer.Option("--bpf", help="Live: capture filter, e.g. 'tcp port 9001'.")
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Live: stop after N packets.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option("--duration", min=0, help="Live: stop after S seconds.")
    ] = None,
) -> None:
    """List every chop, frame or message of the inputs, or of a live capture
    (``-i``; Ctrl-C ends it with everything printed)."""
    if interface is not None:
        if inputs:
            error("give inputs or --interface, not both")
            raise typer.Exit(ExitCode.ERROR)
        from wirelog.sources.live import LiveOptions, capture

        live = LiveOptions(interface, bpf, count, duration)
        try:
            with capture(live) as name:
                # What tcpdump says too: the capture runs (a test waits for this line).
                sys.stderr.write(f"wirelog: {name}: capturing, Ctrl-C to stop\n")
                sys.stderr.flush()
                _decode([name], fmt, level, output, options(port, ws_port, conn))
        except WirelogError as exc:
            report_exception(exc)
            raise typer.Exit(ExitCode.ERROR) from None
    if bpf is not None or count is not None or duration is not None:
        error("--bpf, --count and --duration are for a live capture (--interface)")
        raise typer.Exit(ExitCode.ERROR)
    if not inputs:
        error("give an input (a file, a folder, '-') or --interface IFACE")
        raise typer.Exit(ExitCode.ERROR)
    _decode(inputs, fmt, level, output, options(port, ws_port, conn))


def _decode(
    inputs: list[str], fmt: DecodeFormat, level: Level, output: str | None, opts: Options
) -> NoReturn:
    from wirelog.outputs.export import Listing, ParquetExport

    if output:
        _check_output(output)
    if fmt is DecodeFormat.parquet:
        if not output:
            error("--format parquet needs --output FILE")
            raise typer.Exit(ExitCode.ERROR)
        export = ParquetExport(level.value, opts)
        code = each_input(inputs, export.add)
        try:
            export.write(output)
        except OSError as exc:
            _output_failed(output, exc)
        raise typer.Exit(code)
    try:
        sink = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    except OSError as exc:
        _output_failed(output or "-", exc)
    try:
        listing = Listing(
            fmt.value, level.value, sink, opts, show_source=len(inputs) > 1, tune=True
        )

        def body(path: str) -> None:
            listing.add(path)

        code = each_input(inputs, body)
    finally:
        if output:
            sink.close()
    raise typer.Exit(code)


def _check_output(output: str) -> None:
    """Say what is wrong with ``-o`` before decoding anything (a long decode
    must not end in a traceback because the folder was mistyped)."""
    if os.path.isdir(output):
        error(f"{output}: is a directory (-o names the file to write)")
        raise typer.Exit(ExitCode.ERROR)
    folder = os.path.dirname(output) or "."
    if not os.path.isdir(folder):
        error(f"{output}: no such folder {folder}")
        raise typer.Exit(ExitCode.ERROR)


def _output_failed(output: str, exc: OSError) -> NoReturn:
    error(f"{output}: cannot write ({exc.strerror or exc})")
    raise typer.Exit(ExitCode.ERROR)


@app.command()
def stats(
    inputs: InputsArg,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReportFormat.table,
    conn: ConnOpt = [],  # noqa: B006
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
) -> None:
    """Octets by chop size and frames by opcode, per connection, as Autobahn counts them."""
    from wirelog.outputs.statsview import connection_stats, render_stats_table

    opts = options(port, ws_port, conn)
    results: list[dict[str, Any]] = []

    def body(path: str) -> None:
        for entry in connection_stats(path, opts):
            if fmt is ReportFormat.json:
                results.append(entry)
            else:
                sys.stdout.write(render_stats_table(entry))

    code = each_input(inputs, body)
    if fmt is ReportFormat.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    raise typer.Exit(code)


@app.command()
def check(
    inputs: InputsArg,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReportFormat.table,
    conn: ConnOpt = [],  # noqa: B006
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
) -> None:
    """Every protocol violation and finding, with where it is. Exit 1 if any."""
    from wirelog.outputs import formats as out
    from wirelog.problems import problems

    opts = options(port, ws_port, conn)
    found: list[dict[str, Any]] = []

    def body(path: str) -> None:
        found.extend(out.violation_row(c, v) for c, v in problems(path, opts))

    code = each_input(inputs, body)
    if fmt is ReportFormat.json:
        json.dump(found, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif found:
        sys.stdout.write(out.render_table(found, out.VIOLATION_COLUMNS, width=90))
    else:
        sys.stdout.write("no violations\n")
    if code is ExitCode.OK and found:
        code = ExitCode.FOUND
    raise typer.Exit(code)
