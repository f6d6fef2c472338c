"""``decode``, ``stats`` and ``check``: the commands every input kind has."""

from __future__ import annotations

import json
import sys
from typing import IO, Annotated, Any, NoReturn

import typer

from wirelog.cli.app import (
    DecodeFormat,
    ExitCode,
    Level,
    ReportFormat,
    app,
    check_output,
    each_input,
    error,
    report_exception,
)
from wirelog.cli.opts import (
    ConnOpt,
    InputsArg,
    KeylogOpt,
    MaxMessageOpt,
    PortOpt,
    WsPortOpt,
    check_conns,
    options,
)
from wirelog.errors import WirelogError
from wirelog.protocol.deflate import DEFAULT_MAX_MESSAGE_SIZE
from wirelog.sources.options import Options


@app.command(
    epilog="Example: wirelog decode capture.pcap --where \"opcode = 1 AND text LIKE '%error%'\" "
    "-l messages   (-o frames.parquet picks Parquet from the name)"
)
def decode(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Autobahn reports or folders, pcap/pcapng captures, HARs, mitmproxy flows "
            "(any of them compressed; '-': stdin)."
        ),
    ] = None,
    format_: Annotated[
        DecodeFormat | None,
        typer.Option(
            "--format", "-f", help="table, jsonl, csv or parquet (default: from -o, else table)."
        ),
    ] = None,
    level: Annotated[Level, typer.Option("--level", "-l", help="What to list.")] = Level.frames,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    where: Annotated[
        str | None,
        typer.Option(
            "--where",
            "-w",
            help="Only rows where this SQL condition holds (any column of the level).",
        ),
    ] = None,
    conn: ConnOpt = [],  # noqa: B006 - typer reads the default, it is never mutated
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    max_message_size: MaxMessageOpt = DEFAULT_MAX_MESSAGE_SIZE,
    keylog: KeylogOpt = None,
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
    from wirelog.cli.output import pick_format

    fmt = DecodeFormat(
        pick_format(format_.value if format_ else None, output, tuple(DecodeFormat), "table")
    )
    opts = options(port, ws_port, conn, max_message_size, keylog)
    if fmt is DecodeFormat.parquet and not output:
        error("--format parquet needs --output FILE")
        raise typer.Exit(ExitCode.ERROR)
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
                _decode([name], fmt, level, output, opts, where)
        except WirelogError as exc:
            report_exception(exc)
            raise typer.Exit(ExitCode.ERROR) from None
    if bpf is not None or count is not None or duration is not None:
        error("--bpf, --count and --duration are for a live capture (--interface)")
        raise typer.Exit(ExitCode.ERROR)
    if not inputs:
        error("give an input (a file, a folder, '-') or --interface IFACE")
        raise typer.Exit(ExitCode.ERROR)
    _decode(inputs, fmt, level, output, opts, where)


def _decode(
    inputs: list[str],
    fmt: DecodeFormat,
    level: Level,
    output: str | None,
    opts: Options,
    where: str | None,
) -> NoReturn:
    from wirelog.cli.output import atomic_path, atomic_text
    from wirelog.outputs.export import ParquetExport

    try:
        if output:
            check_output(output)
        if where is not None:
            from wirelog.cli.where import decode_where

            code = decode_where(inputs, fmt.value, level.value, output, opts, where)
        elif fmt is DecodeFormat.parquet:
            assert output is not None
            export = ParquetExport(level.value, opts)
            code = each_input(inputs, export.add)
            with atomic_path(output) as tmp:
                export.write(tmp)
        elif output:
            with atomic_text(output) as fh:
                code = _list(inputs, fmt, level, fh, opts)
        else:
            code = _list(inputs, fmt, level, sys.stdout, opts)
    except WirelogError as exc:  # the condition, or the -o file
        error(str(exc))
        raise typer.Exit(ExitCode.ERROR) from None
    raise typer.Exit(code)


def _list(inputs: list[str], fmt: DecodeFormat, level: Level, out: IO[str], opts: Any) -> ExitCode:
    from wirelog.outputs.export import Listing

    listing = Listing(fmt.value, level.value, out, opts, show_source=len(inputs) > 1, tune=True)

    def body(path: str) -> None:
        summary = listing.add(path)
        # The summary counts the WebSocket connections the filter let through.
        if opts.conns and (summary is None or summary.websocket < len(set(opts.conns))):
            check_conns(path, opts)

    return each_input(inputs, body)


@app.command(epilog="Example: wirelog stats reports/ -f json")
def stats(
    inputs: InputsArg,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReportFormat.table,
    conn: ConnOpt = [],  # noqa: B006
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    max_message_size: MaxMessageOpt = DEFAULT_MAX_MESSAGE_SIZE,
    keylog: KeylogOpt = None,
) -> None:
    """Octets by chop size and frames by opcode, per connection, as Autobahn counts them."""
    from wirelog.outputs.statsview import connection_stats, render_stats_table

    opts = options(port, ws_port, conn, max_message_size, keylog)
    results: list[dict[str, Any]] = []

    def body(path: str) -> None:
        seen: set[int] = set()
        for entry in connection_stats(path, opts):
            seen.add(entry["conn"])
            if fmt is ReportFormat.json:
                results.append(entry)
            else:
                sys.stdout.write(render_stats_table(entry))
        check_conns(path, opts, seen)

    code = each_input(inputs, body)
    if fmt is ReportFormat.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    raise typer.Exit(code)


@app.command(epilog="Example: wirelog check capture.pcap --conn 0 || echo violations found")
def check(
    inputs: InputsArg,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ReportFormat.table,
    conn: ConnOpt = [],  # noqa: B006
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    max_message_size: MaxMessageOpt = DEFAULT_MAX_MESSAGE_SIZE,
    keylog: KeylogOpt = None,
) -> None:
    """Every protocol violation and finding, with where it is. Exit 1 if any
    (a pcapng's comments are listed too, without exit 1)."""
    from wirelog.outputs import formats as out
    from wirelog.problems import problems

    opts = options(port, ws_port, conn, max_message_size, keylog)
    found: list[dict[str, Any]] = []

    def body(path: str) -> None:
        found.extend(out.violation_row(c, v) for c, v in problems(path, opts))
        check_conns(path, opts)

    code = each_input(inputs, body)
    if fmt is ReportFormat.json:
        json.dump(found, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif found:
        sys.stdout.write(out.render_table(found, out.VIOLATION_COLUMNS, width=90))
    else:
        # An input that failed part-way was not checked to its end.
        clean = "no violations" if code is ExitCode.OK else "no violations in what could be read"
        sys.stdout.write(clean + "\n")
    # A pcapng's comments are listed, but a comment is no problem of the traffic.
    if code is ExitCode.OK and any(r["kind"] != "capture_comment" for r in found):
        code = ExitCode.FOUND
    raise typer.Exit(code)
