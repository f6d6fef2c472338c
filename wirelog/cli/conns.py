"""``wirelog conns`` and ``wirelog follow``: the connections of the inputs,
and one conversation read as a person reads it.

Thin wrappers over :mod:`wirelog.analysis.conns` and
:mod:`wirelog.analysis.follow`; the connections are those
``wirelog.load(...).decoded()`` gives a notebook.
"""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wirelog.cli.app import ReportFormat, app, each_input
from wirelog.cli.opts import ConnOpt, InputsArg, KeylogOpt, PortOpt, WsPortOpt, options
from wirelog.errors import InputError, PartialInputWarning

if TYPE_CHECKING:
    from wirelog.pipeline import Options
    from wirelog.summary import ConnectionSummary


def _decoded(path: str, port: list[int], ws_port: list[int], keylog: str | None) -> Any:
    """Every connection of one input (no ``--conn`` filter, so that one that
    matches nothing can name those there are), and the loaded capture."""
    from wirelog.analysis.loaded import Capture

    cap = Capture([path], options(port, ws_port, [], keylog=keylog))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialInputWarning)
        return cap, cap.decoded()


def _counted(path: str, opts: Options) -> tuple[list[ConnectionSummary], InputError | None]:
    """Every connection of one input counted as it streams (no ``--conn``
    filter, so that one that matches nothing can name those there are), in
    the order of the input's sources and connection numbers, and the error
    that stopped the input part-way, if one did."""
    from wirelog.analysis import conns as facts

    got: list[ConnectionSummary] = []
    error = None
    try:
        got.extend(facts.summaries(path, opts))
    except InputError as exc:
        if not got:
            raise
        error = exc
    rank: dict[str, int] = {}
    for s in got:
        rank.setdefault(s.connection.source, len(rank))
    got.sort(key=lambda s: (rank[s.connection.source], s.connection.conn))
    return got, error


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
        got, error = _counted(path, options(port, ws_port, [], keylog=keylog))
        have = [s.connection.conn for s in got]
        missing = [c for c in conn if c not in have]
        if missing:
            raise facts.no_such_connection(missing, have, path)
        rows.extend(facts.row(s) for s in got if not conn or s.connection.conn in conn)
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
    from wirelog.analysis import conns as facts
    from wirelog.analysis import follow as view

    def body(path: str) -> None:
        cap, dcs = _decoded(path, port, ws_port, keylog)
        if not dcs and cap.errors:  # why nothing decoded (say, TLS without its keys)
            raise cap.errors[0]
        if not dcs:
            raise facts.no_such_connection(conn, [], path)
        if not conn and len(dcs) > 1:
            raise facts.pick_one(dcs, path)
        for i, dc in enumerate(facts.pick(dcs, conn, path)):
            sys.stdout.write(("\n" if i else "") + view.render(dc, limit))
        if cap.errors:
            raise cap.errors[0]

    raise typer.Exit(each_input([input], body))
