"""``wirelog conns`` and ``wirelog follow``: the connections of the inputs,
and one conversation read as a person reads it.

Thin wrappers over :mod:`wirelog.analysis.conns` and
:mod:`wirelog.analysis.follow`, which read the input as it streams.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from wirelog.cli.app import ReportFormat, app, each_input
from wirelog.cli.opts import ConnOpt, InputsArg, KeylogOpt, PortOpt, WsPortOpt, options


@app.command(epilog="Example: wirelog conns capture.pcap -f json")
def conns(
    inputs: InputsArg,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ReportFormat.table,
    conn: ConnOpt = [],  # noqa: B006 - typer reads the default, it is never mutated
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    keylog: KeylogOpt = None,
) -> None:
    """One row per connection: endpoints, start, path, extensions, counts, closing."""
    from wirelog.analysis import conns as facts
    from wirelog.outputs import results

    rows: list[dict[str, Any]] = []

    def body(path: str) -> None:
        got, error = facts.counted(path, options(port, ws_port, [], keylog=keylog))
        rows.extend(facts.row(s) for s in facts.pick(got, conn, path))
        if error is not None:
            raise error

    code = each_input(inputs, body)
    if fmt is ReportFormat.json:
        results.write_rows("json", facts.COLUMNS, [rows], sys.stdout)
    else:
        several = len(inputs) > 1
        cols = (("source",) if several else ()) + facts.TABLE
        table = [facts.table_row(r) for r in rows]
        results.write_rows("table", cols, [table], sys.stdout)
    raise typer.Exit(code)


@app.command(epilog="Example: wirelog follow capture.pcap --conn 0 --max 64")
def follow(
    input: Annotated[str, typer.Argument(help="A report, report folder or capture.")],
    conn: Annotated[
        list[int], typer.Option("--conn", help="The connection to show (repeatable).")
    ] = [],  # noqa: B006
    limit: Annotated[
        int, typer.Option("--max", help="Octets shown per message (0: all).", min=0)
    ] = 1024,
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    keylog: KeylogOpt = None,
) -> None:
    """The conversation of one connection: handshake, messages with time and
    direction (text as text, binary as hex), close, gaps, FIN/RST."""
    from wirelog.analysis import follow as view

    def body(path: str) -> None:
        opts = options(port, ws_port, conn, keylog=keylog)
        for text in view.conversations(path, opts, limit):
            sys.stdout.write(text)
            sys.stdout.flush()  # a pager shows the conversation as it is decoded

    raise typer.Exit(each_input([input], body))
