"""CLI commands of this feature.

``wirelog plot`` and ``wirelog report`` are thin wrappers over the calls a
notebook makes (``wirelog.load(...)``, :mod:`wirelog.analysis.plots`,
``Capture.report``). pandas and matplotlib are imported inside the commands
so that ``wirelog --help`` stays instant.
"""

from __future__ import annotations

import enum
import os
import sys
import warnings
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wirelog.cli.app import ExitCode, app, check_output, each_input, output_failed, write_output
from wirelog.cli.opts import (
    ConnOpt,
    KeylogOpt,
    MaxMessageOpt,
    PortOpt,
    WsPortOpt,
    check_conns,
    options,
)
from wirelog.errors import InputError, PartialInputWarning, UsageError
from wirelog.protocol.deflate import DEFAULT_MAX_MESSAGE_SIZE

if TYPE_CHECKING:
    from wirelog.analysis.loaded import Capture


class PlotKind(enum.StrEnum):
    chops = "chops"
    opcodes = "opcodes"
    ladder = "ladder"
    throughput = "throughput"
    messages = "messages"
    rtt = "rtt"


class ImageFormat(enum.StrEnum):
    png = "png"
    svg = "svg"


class PageFormat(enum.StrEnum):
    text = "text"
    html = "html"


def _raise_partial(cap: Capture) -> None:
    """After drawing or rendering what a cut input held, fail with its error
    (one line, exit 2) so a script still sees that the input was incomplete."""
    if cap.errors:
        raise cap.errors[0]


def _each_input(inputs: list[str], body: Callable[[str], None]) -> ExitCode:
    """:func:`~wirelog.cli.app.each_input` without the partial-input warning
    notebooks get: the CLI prints that error itself, after what it could
    render (see :func:`_raise_partial`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialInputWarning)
        return each_input(inputs, body)


@app.command(epilog="Example: wirelog plot capture.pcap -o plots/ -k throughput -k ladder --conn 0")
def plot(
    input: Annotated[str, typer.Argument(help="A report, report folder or capture.")],
    outdir: Annotated[str, typer.Option("--output", "-o", help="Directory for the images.")],
    kind: Annotated[
        list[PlotKind],
        typer.Option("--kind", "-k", help="Which plot (repeatable; default all)."),
    ] = [],  # noqa: B006 - typer reads the default, it is never mutated
    fmt: Annotated[
        ImageFormat, typer.Option("--format", "-f", help="Image format.")
    ] = ImageFormat.png,
    conn: ConnOpt = [],  # noqa: B006
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    max_message_size: MaxMessageOpt = DEFAULT_MAX_MESSAGE_SIZE,
    keylog: KeylogOpt = None,
) -> None:
    """Draw chop sizes, opcodes, a ladder diagram, throughput, message sizes, RTTs."""
    kinds = list(dict.fromkeys(kind)) or list(PlotKind)

    def body(path: str) -> None:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure

        from wirelog.analysis import ladder, plotdata, plots

        if os.path.exists(outdir) and not os.path.isdir(outdir):
            raise UsageError(f"--output {outdir}: exists and is not a directory")
        try:
            os.makedirs(outdir, exist_ok=True)
        except OSError as exc:
            raise output_failed("--output", outdir, exc) from None
        opts = options(port, ws_port, conn, max_message_size, keylog)
        # One streamed pass keeps only what the plots draw (plotdata): not
        # every decoded object and payload, as a notebook's Capture does.
        levels = {"chops", *(plots.KINDS[k.value][0] for k in kinds)}
        ladders = (conn or None) if PlotKind.ladder in kinds else []
        data = plotdata.collect(path, opts, sorted(levels), ladders)
        check_conns(path, opts, {int(c) for c in data.connections.conn})
        if data.tables["chops"].empty:
            if data.error is not None:
                raise data.error
            raise InputError(path, "no WebSocket traffic to draw")
        stem = os.path.basename(os.path.normpath(path)).split(".")[0] or "input"
        drawings: list[tuple[str, Callable[[], Any]]] = []
        for k in kinds:
            name, draw = plots.KINDS[k.value]
            if k is not PlotKind.ladder:
                drawings.append((f"{stem}_{k.value}", partial(draw, data.tables[name])))
                continue
            # One ladder per connection asked for (the first without --conn),
            # with the handshake, gaps, FIN/RST and timers marked.
            starts = data.connections.set_index("conn")["start"]
            for c in conn or sorted(data.ladders)[:1]:
                kept = data.ladders[c]  # a connection listed passed the tap: it has one
                t0 = starts.get(c)
                start = t0.timestamp() if t0 is not None and t0 == t0 else None
                frames, places = kept.frames(data.starts)
                drawing = partial(
                    ladder.ladder,
                    frames,
                    conn=c,
                    marks=kept.marks(start),
                    numbers=places,
                    total=kept.total,
                )
                drawings.append((f"{stem}_ladder_conn{c}" if conn else f"{stem}_ladder", drawing))
        for name, make in drawings:
            ax = make()
            target = os.path.join(outdir, f"{name}.{fmt.value}")
            fig = ax.get_figure(root=True)
            assert isinstance(fig, Figure)
            try:
                fig.savefig(target, dpi=110)
            except OSError as exc:
                raise output_failed("--output", target, exc) from None
            sys.stdout.write(target + "\n")
        if data.error is not None:
            raise data.error

    raise typer.Exit(_each_input([input], body))


@app.command(epilog="Example: wirelog report reports/ -f html -o index.html")
def report(
    input: Annotated[str, typer.Argument(help="A report, report folder or capture.")],
    fmt: Annotated[
        PageFormat, typer.Option("--format", "-f", help="text or a self-contained html page.")
    ] = PageFormat.text,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    conn: ConnOpt = [],  # noqa: B006
    port: PortOpt = [],  # noqa: B006
    ws_port: WsPortOpt = [],  # noqa: B006
    max_message_size: MaxMessageOpt = DEFAULT_MAX_MESSAGE_SIZE,
    keylog: KeylogOpt = None,
) -> None:
    """Autobahn-style case report (handshake, closing, wire statistics, wire log)."""

    def body(path: str) -> None:
        from wirelog.analysis.loaded import Capture

        if output:
            check_output(output)
        # Only the connections asked for are decoded and held: a report of
        # one connection of a large capture does not hold the others.
        opts = options(port, ws_port, conn, max_message_size, keylog)
        cap = Capture([path], opts)
        check_conns(path, opts, {d.conn for d in cap.decoded()})
        if not cap.decoded():
            raise InputError(path, "no connections")
        from wirelog.sources.autobahn.render import encode_text

        data = encode_text(cap.report(conn, fmt=fmt.value))
        if output:
            write_output(output, data)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        _raise_partial(cap)

    raise typer.Exit(_each_input([input], body))
