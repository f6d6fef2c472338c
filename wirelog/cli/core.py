"""``decode``, ``stats`` and ``check``: the commands every input kind has."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer

from wirelog.cli.app import (
    DecodeFormat,
    ExitCode,
    Level,
    ReportFormat,
    app,
    each_input,
    error,
)
from wirelog.cli.opts import ConnOpt, InputsArg, PortOpt, WsPortOpt, options


@app.command()
def decode(
    inputs: InputsArg,
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
) -> None:
    """List every chop, frame or message of the inputs."""
    from wirelog.model import Chunk, Frame, Message
    from wirelog.outputs import formats as out
    from wirelog.pipeline import detect, stream
    from wirelog.sources.pcap.capture import decode_frames

    opts = options(port, ws_port, conn)
    # Captures skip the layers this level does not list (see parsers.pcap.stream).
    opts.extra["frames"] = level is not Level.chops
    opts.extra["messages"] = level is Level.messages
    columns = out.COLUMNS[level.value]
    kind: type[Any] = {"chops": Chunk, "frames": Frame, "messages": Message}[level.value]
    converters: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
        "chops": out.chunk_row,
        "frames": out.frame_row,
        "messages": out.message_row,
    }
    to_row = converters[level.value]

    def rows(path: str) -> Iterator[dict[str, Any]]:
        for c, item in stream(path, opts):
            if isinstance(item, kind):
                yield to_row(c, item)

    if fmt is DecodeFormat.parquet:
        if not output:
            error("--format parquet needs --output FILE")
            raise typer.Exit(ExitCode.ERROR)
        from wirelog.analysis.table import write_parquet

        collected: list[dict[str, Any]] = []
        starts: dict[tuple[str, int], float] = {}

        def collect(path: str) -> None:
            # Connection starts give the schema's ``t`` column (seconds since
            # the connection's start), exactly as ``wirelog.load`` computes it.
            for c, item in stream(path, opts):
                key = (c.source, c.conn)
                if key not in starts:
                    if c.start_ts is not None:
                        starts[key] = c.start_ts
                    elif isinstance(item, Chunk) and item.ts is not None:
                        starts[key] = item.ts
                if isinstance(item, kind):
                    collected.append(to_row(c, item))

        code = each_input(inputs, collect)
        write_parquet(collected, level.value, output, starts=starts)
        raise typer.Exit(code)

    sink = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        writer = out.Writer(fmt.value, columns, sink, show_source=len(inputs) > 1)

        def body(path: str) -> None:
            try:
                if fmt is DecodeFormat.jsonl and level is Level.frames:
                    # The hot path of big captures: one string per frame,
                    # equal to the generic row's JSON (tests hold them equal),
                    # written a batch at a time.
                    write = sink.write
                    if detect(path) in ("pcap", "pcapng"):
                        # numpy, imported to unmask large payloads, would
                        # start BLAS threads this process never uses (50 ms
                        # of CPU on a 2-core machine); a user's setting wins.
                        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
                        # The loop makes no reference cycles, but the garbage
                        # collector would still walk every object the CLI
                        # imported at each full pass: set them aside.
                        gc.freeze()
                        decode_frames(path, opts, out.frame_jsonl, lambda b: write("".join(b)))
                        return
                    for c, item in stream(path, opts):
                        if isinstance(item, Frame):
                            write(out.frame_jsonl(c, item))
                    return
                for r in rows(path):
                    writer.row(r)
            finally:
                writer.flush()

        code = each_input(inputs, body)
    finally:
        if output:
            sink.close()
    raise typer.Exit(code)


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
