"""``wirelog export``: the inputs as one Parquet dataset, on one core or on Dask.

A thin wrapper over :func:`wirelog.outputs.dataset.export` and
:func:`wirelog.analysis.many.cluster`; pandas, pyarrow and Dask are imported
inside the command, so ``wirelog --help`` does not pay for them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from wirelog.cli.app import ExitCode, app, error, report_exception
from wirelog.cli.opts import ConnOpt, InputsArg, KeylogOpt, PortOpt, WsPortOpt, options
from wirelog.errors import WirelogError


@app.command(epilog="Example: wirelog export captures/*.pcap --to dataset/ --workers 2")
def export(
    inputs: InputsArg,
    to: Annotated[str, typer.Option("--to", help="The dataset folder (one subfolder per table).")],
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Start a local Dask cluster of N worker processes."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Use the Dask cluster at tcp://HOST:PORT."),
    ] = None,
    shares: Annotated[
        int | None,
        typer.Option(
            "--shares",
            help="Cut every capture into N shares by connection "
            "(default: only a capture bigger than its fair part of the work).",
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Remove a dataset already in --to first.")
    ] = False,
    conn: ConnOpt = [],  # noqa: B006 - typer reads the default, it is never mutated
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    keylog: KeylogOpt = None,
) -> None:
    """Write frames, messages, chops, connections and violations as Parquet, one file per input."""
    from wirelog.analysis.many import cluster
    from wirelog.analysis.parts import TABLES
    from wirelog.outputs.dataset import export

    try:
        with cluster(workers, scheduler) as client:
            result = export(
                inputs,
                to,
                client=client,
                shares=shares,
                options=options(port, ws_port, conn, keylog=keylog),
                replace=replace,
            )
    except WirelogError as exc:
        report_exception(exc)
        raise typer.Exit(ExitCode.ERROR) from None
    for line in result.errors:
        error(line)
    parts = len(result.written)
    sys.stdout.write(f"{to}: {len(inputs)} input(s) in {parts} part(s)\n")
    for level in TABLES:
        rows, files = result.rows(level), result.files(level)
        sys.stdout.write(f"  {level:<12} {rows:>12,} rows in {files} file(s)\n")
    raise typer.Exit(ExitCode.ERROR if result.errors else ExitCode.OK)
