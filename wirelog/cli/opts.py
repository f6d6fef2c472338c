"""Options several commands share, declared once.

They live outside :mod:`wirelog.cli` because typer resolves each command's
(string) annotations in the module that defines the command, so feature
modules (analysis, replay) must import these names at module level, and
:mod:`wirelog.cli` imports those feature modules.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wirelog.sources.options import Options

InputsArg = Annotated[
    list[str], typer.Argument(help="Report files/folders or pcap/pcapng captures.")
]
ConnOpt = Annotated[
    list[int], typer.Option("--conn", help="Only this connection number (repeatable).")
]
PortOpt = Annotated[
    list[int], typer.Option("--port", help="Only connections on this TCP port (repeatable).")
]
WsPortOpt = Annotated[
    list[int],
    typer.Option(
        "--ws-port", help="Decode this port as WebSocket even without a handshake (repeatable)."
    ),
]

KeylogOpt = Annotated[
    str | None,
    typer.Option(
        "--keylog",
        help="TLS key log (NSS format, what SSLKEYLOGFILE writes) to decrypt wss:// "
        "captures; default: the SSLKEYLOGFILE variable's file.",
    ),
]


def options(
    ports: list[int], ws_ports: list[int], conns: list[int], keylog: str | None = None
) -> Options:
    """The capture options the filter flags describe."""
    return Options(ws_ports=tuple(ws_ports), ports=tuple(ports), conns=tuple(conns), keylog=keylog)
