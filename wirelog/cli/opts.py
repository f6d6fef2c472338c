"""Options several commands share, declared once.

They live outside :mod:`wirelog.cli` because typer resolves each command's
(string) annotations in the module that defines the command, so feature
modules (analysis, replay) must import these names at module level, and
:mod:`wirelog.cli` imports those feature modules.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wirelog.protocol.deflate import DEFAULT_MAX_MESSAGE_SIZE
from wirelog.sources.options import Options

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(text: str | int) -> int:
    """An octet count as people write one: ``65536``, ``512K``, ``32M``,
    ``1G`` (binary units; ``KiB``/``MB`` spellings too). typer hands the
    default over as it is."""
    if isinstance(text, int):
        return text
    body = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = body[-1:] if body[-1:] in ("K", "M", "G") else ""
    digits = body[: len(body) - len(unit)].strip()
    if not (0 < len(digits) <= 18 and digits.isascii() and digits.isdigit()) or not int(digits):
        raise typer.BadParameter(f"{text!r} is not a size (like 65536, 512K, 32M, 1G)")
    return int(digits) * _UNITS[unit]


InputsArg = Annotated[
    list[str],
    typer.Argument(
        help="Autobahn reports or folders, pcap/pcapng captures, HARs, mitmproxy flows "
        "(any of them compressed; '-': stdin)."
    ),
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

MaxMessageOpt = Annotated[
    int,
    typer.Option(
        "--max-message-size",
        parser=parse_size,
        metavar="SIZE",
        show_default=f"{DEFAULT_MAX_MESSAGE_SIZE // 1024**2}M",
        help="Octets one message may assemble or inflate to (a deflate bomb costs this, "
        "not its size); a longer message is cut there with a finding.",
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
    ports: list[int],
    ws_ports: list[int],
    conns: list[int],
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    keylog: str | None = None,
) -> Options:
    """The capture options the filter flags describe."""
    return Options(
        ws_ports=tuple(ws_ports),
        ports=tuple(ports),
        conns=tuple(conns),
        max_message_size=max_message_size,
        keylog=keylog,
    )


def check_conns(path: str, opts: Options, seen: set[int] | None = None) -> None:
    """After an input was listed with ``--conn``: when a connection asked for
    was not there, fail with the words every command uses, naming those there
    are. ``seen`` is what the command met; without it (or when it lacks one
    asked for) a second pass, chops only, finds the connections of the input,
    so the cost is paid only with ``--conn``, and then on the TCP layer alone."""
    if not opts.conns or (seen is not None and set(opts.conns) <= seen):
        return
    from dataclasses import replace

    from wirelog.analysis.conns import no_such_connection
    from wirelog.pipeline import stream

    every = replace(opts, conns=(), frames=False, messages=False)
    have = sorted({conn.conn for conn, _ in stream(path, every)})
    missing = [c for c in opts.conns if c not in have]
    if missing:
        raise no_such_connection(missing, have, path)
