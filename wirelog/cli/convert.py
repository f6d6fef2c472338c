"""``convert``: any recording as a pcapng capture (:mod:`wirelog.outputs.convert`)."""

from __future__ import annotations

from typing import Annotated

import typer

from wirelog.cli.app import ExitCode, app, check_output, each_input, error
from wirelog.cli.opts import ConnOpt, KeylogOpt, PortOpt, WsPortOpt, options
from wirelog.errors import UsageError


@app.command(epilog="Example: wirelog convert reports/case_1_1_1.json -o case.pcapng")
def convert(
    input: Annotated[str, typer.Argument(help="Any recording: a report, HAR, flow file, record.")],
    output: Annotated[str, typer.Option("--output", "-o", help="The pcapng file to write.")],
    conn: ConnOpt = [],  # noqa: B006 - typer reads the default, it is never mutated
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    keylog: KeylogOpt = None,
) -> None:
    """Write a recording as a pcapng capture (synthesized Ethernet/IP/TCP) Wireshark opens."""
    from wirelog.outputs.convert import convert as write

    try:
        check_output(output)
    except UsageError as exc:
        error(str(exc))
        raise typer.Exit(ExitCode.ERROR) from None
    opts = options(port, ws_port, conn, keylog=keylog)

    def body(path: str) -> None:
        write(path, output, opts)

    code = each_input([input], body)
    raise typer.Exit(code)
