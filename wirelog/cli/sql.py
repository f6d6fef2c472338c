"""``wirelog sql``: a DuckDB query over the decoded tables of the inputs.

A thin wrapper over :mod:`wirelog.analysis.sql` (the call a notebook makes
with ``wirelog.load``); the result is printed by
:mod:`wirelog.outputs.results`. duckdb, pandas and pyarrow are imported
inside the command, so ``wirelog --help`` stays instant.
"""

from __future__ import annotations

import enum
import sys
import warnings
from typing import Annotated

import typer

from wirelog.cli.app import ExitCode, app, error, report_exception
from wirelog.cli.opts import ConnOpt, InputsArg, KeylogOpt, PortOpt, WsPortOpt, options
from wirelog.cli.output import atomic_path, atomic_text, pick_format
from wirelog.errors import PartialInputWarning, WirelogError


class ResultFormat(enum.StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


@app.command(
    epilog='Example: wirelog sql "SELECT conn, dir, count(*) AS frames FROM frames '
    'GROUP BY ALL ORDER BY conn" capture.pcap   (tables: frames, messages, chops, '
    "connections, violations; columns as in wirelog.analysis.table.describe())"
)
def sql(
    query: Annotated[str, typer.Argument(help="A DuckDB SQL query over the tables.")],
    inputs: InputsArg,
    fmt: Annotated[
        ResultFormat | None,
        typer.Option(
            "--format", "-f", help="table, json, csv or parquet (default: from -o, else table)."
        ),
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    conn: ConnOpt = [],  # noqa: B006 - typer reads the default, it is never mutated
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    keylog: KeylogOpt = None,
) -> None:
    """Run a SQL query over frames, messages, chops, connections and violations."""
    from wirelog.analysis import sql as q
    from wirelog.outputs import results

    chosen = pick_format(fmt.value if fmt else None, output, results.FORMATS, "table")
    if chosen == "parquet" and not output:
        error("--format parquet needs --output FILE")
        raise typer.Exit(ExitCode.ERROR)
    failed: list[WirelogError] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialInputWarning)
            res = q.run_inputs(inputs, query, options(port, ws_port, conn, keylog=keylog))
            with res:
                if chosen == "parquet":
                    assert output is not None
                    with atomic_path(output) as tmp:
                        results.write_parquet(res.batches(), res.schema, tmp)
                elif output:
                    with atomic_text(output) as fh:
                        results.write_text(chosen, res.columns, res.batches(), fh)
                else:
                    results.write_text(chosen, res.columns, res.batches(), sys.stdout)
            failed = list(res.errors)
    except BrokenPipeError:
        raise  # the reader closed the pipe: main() exits 0
    except (WirelogError, OSError) as exc:
        report_exception(exc)
        raise typer.Exit(ExitCode.ERROR) from None
    code = ExitCode.OK
    for exc2 in failed:
        report_exception(exc2)
        code = ExitCode.ERROR
    raise typer.Exit(code)
