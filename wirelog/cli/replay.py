"""``wirelog replay`` and ``wirelog diff``: thin wrappers over
:mod:`wirelog.replay.run` and :mod:`wirelog.replay.diff`, printed with
:mod:`wirelog.replay.render`. The asyncio modules are imported inside the
commands so that ``wirelog --help`` stays instant."""

from __future__ import annotations

import enum
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wirelog.cli.app import ExitCode, app, check_output, error, output_failed, report_exception
from wirelog.cli.opts import KeylogOpt, options
from wirelog.errors import UsageError
from wirelog.replay.options import DEFAULT_ACCEPT_TIMEOUT, DEFAULT_TIMEOUT, Options

if TYPE_CHECKING:
    from wirelog.replay.run import LoadReport
    from wirelog.replay.verdict import Verdict


class Fmt(enum.StrEnum):
    table = "table"
    json = "json"


def _exit_for(verdict: Verdict, peer: str) -> ExitCode:
    """A fault of the target is an error (2, with its first line on stderr);
    otherwise 0 when the replay behaved as recorded, 1 when it differed."""
    if verdict.faults:
        error(f"{peer}: {verdict.faults[0]}")
        return ExitCode.ERROR
    return ExitCode.OK if verdict.equivalent else ExitCode.FOUND


def _print_load(lr: LoadReport, fmt: Fmt) -> ExitCode:
    """Print a load run; any session that failed is an error (its first
    failure on stderr), any that differed a difference."""
    from wirelog.replay.render import render_load

    if fmt is Fmt.json:
        _write_json(lr.as_dict())
    else:
        sys.stdout.write(render_load(lr))
    if lr.first_error:
        error(lr.first_error)
    return ExitCode.ERROR if lr.errors else ExitCode.FOUND if lr.different else ExitCode.OK


def _write_json(doc: dict[str, Any]) -> None:
    json.dump(doc, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


@app.command(
    epilog="Example: wirelog replay capture.pcap --conn 0 --target ws://127.0.0.1:9001/ --asap"
)
def replay(
    input: Annotated[str, typer.Argument(help="An Autobahn report or a pcap/pcapng capture.")],
    target: Annotated[
        str | None,
        typer.Option("--target", help="ws://HOST:PORT/ or wss://HOST:PORT/ to replay to."),
    ] = None,
    listen: Annotated[
        str | None,
        typer.Option("--listen", help="HOST:PORT: wait for a client and replay the server side."),
    ] = None,
    conn: Annotated[
        int | None, typer.Option("--conn", help="Which connection of the input.")
    ] = None,
    speed: Annotated[
        float | None, typer.Option("--speed", help="Time scale (2 = twice as fast; default 1).")
    ] = None,
    asap: Annotated[bool, typer.Option("--asap", help="Drop pauses; keep causal order.")] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Seconds to wait for the peer's answers (all waits share them), "
            "and again for its close.",
        ),
    ] = DEFAULT_TIMEOUT,
    accept_timeout: Annotated[
        float,
        typer.Option("--accept-timeout", help="--listen: seconds to wait for a client."),
    ] = DEFAULT_ACCEPT_TIMEOUT,
    fill: Annotated[
        bool,
        typer.Option(
            "--fill", help="Repeat known prefixes to the recorded length for lost octets."
        ),
    ] = False,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="wss: do not verify the certificate.")
    ] = False,
    keep_host: Annotated[
        bool, typer.Option("--keep-host", help="Send the recorded Host header unchanged.")
    ] = False,
    new_key: Annotated[
        bool, typer.Option("--new-key", help="Send a fresh Sec-WebSocket-Key.")
    ] = False,
    record: Annotated[
        str | None,
        typer.Option("--record", help="Write the replay's wire log as Autobahn JSON here."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Replays at once (load mode).")
    ] = 1,
    repeat: Annotated[int, typer.Option("--repeat", help="Replays in all (load mode).")] = 1,
    chop: Annotated[
        str | None,
        typer.Option(
            "--chop",
            help="Re-cut the octets after the handshake: 1 (byte by byte), N, "
            "random[:SEED] or coalesce.",
        ),
    ] = None,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
    keylog: KeylogOpt = None,
) -> None:
    """Re-run a recorded session against a live server (or client) and judge it."""
    from wirelog.pipeline import read
    from wirelog.replay import run
    from wirelog.replay.chop import parse_chop
    from wirelog.replay.render import render_replay
    from wirelog.replay.target import parse_listen, parse_target

    if asap and speed is not None:
        error("--asap drops the pauses --speed would scale: give one of them")
        raise typer.Exit(ExitCode.ERROR)
    speed = 1.0 if speed is None else speed
    try:
        cut = parse_chop(chop) if chop is not None else None
    except UsageError as exc:
        error(str(exc))
        raise typer.Exit(ExitCode.ERROR) from None
    opts = Options(
        chop=cut,
        speed=speed,
        asap=asap,
        fill=fill,
        timeout=timeout,
        accept_timeout=accept_timeout,
        insecure=insecure,
        keep_host=keep_host,
        new_key=new_key,
        conn=conn,
    )
    try:
        if (target is None) == (listen is None):
            error("give exactly one of --target ws://HOST:PORT/ or --listen HOST:PORT")
            raise typer.Exit(ExitCode.ERROR)
        wrong = [
            f"{name} {value:g}: must be more than 0"
            for name, value in (
                ("--timeout", timeout), ("--accept-timeout", accept_timeout), ("--speed", speed)
            )
            if value <= 0
        ] + [
            f"{name} {value}: must be at least 1"
            for name, value in (("--concurrency", concurrency), ("--repeat", repeat))
            if value < 1
        ]  # fmt: skip
        if wrong:
            error(wrong[0])
            raise typer.Exit(ExitCode.ERROR)
        if record:
            check_output(record, "--record")
        # A wss capture replays its decrypted octets (the key log, or SSLKEYLOGFILE).
        recording = read(input, options([], [], [], keylog=keylog))
        if listen is not None:
            host, port = parse_listen(listen)

            def ready(h: str, p: int) -> None:
                sys.stderr.write(f"wirelog: listening on {h}:{p}\n")
                sys.stderr.flush()

            report = run.listen(recording, host, port, opts, ready=ready)
            title = f"Replay of {input} (server side) to {report.result.target}"
        else:
            assert target is not None
            t = parse_target(target)
            if concurrency > 1 or repeat > 1:
                if record:
                    error("--record writes one replay; leave it out with --repeat/--concurrency")
                    raise typer.Exit(ExitCode.ERROR)
                lr = run.load(recording, t, opts, concurrency=concurrency, repeat=repeat)
                raise typer.Exit(_print_load(lr, fmt))
            report = run.replay(recording, t, opts)
            title = f"Replay of {input} against {target}"
        if record:
            from wirelog.replay.record import write_autobahn_json

            try:
                write_autobahn_json(report.result.connection, record, agent=report.result.target)
            except OSError as exc:
                raise output_failed("--record", record, exc) from None
        if fmt is Fmt.json:
            _write_json(report.as_dict())
        else:
            sys.stdout.write(render_replay(report, title=title))
        sys.stdout.flush()
        raise typer.Exit(_exit_for(report.verdict, report.result.target))
    except typer.Exit:
        raise
    except Exception as exc:  # a replay must end in one line, never a traceback
        report_exception(exc, input)
        raise typer.Exit(ExitCode.ERROR) from None


@app.command(epilog="Example: wirelog diff original.pcap replayed.json --conn-a 2")
def diff(
    a: Annotated[str, typer.Argument(help="The reference recording.")],
    b: Annotated[str, typer.Argument(help="The recording to compare with it.")],
    conn_a: Annotated[int | None, typer.Option("--conn-a", help="Connection number in A.")] = None,
    conn_b: Annotated[int | None, typer.Option("--conn-b", help="Connection number in B.")] = None,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
    keylog: KeylogOpt = None,
) -> None:
    """Compare two recordings at message, frame and closing level. Exit 1 if they differ."""
    from wirelog.pipeline import read
    from wirelog.replay.diff import diff_recordings
    from wirelog.replay.render import render

    try:
        opts = options([], [], [], keylog=keylog)
        v = diff_recordings(read(a, opts), read(b, opts), conn_a=conn_a, conn_b=conn_b)
    except Exception as exc:
        report_exception(exc)
        raise typer.Exit(ExitCode.ERROR) from None
    if fmt is Fmt.json:
        _write_json(v.as_dict())
    else:
        sys.stdout.write(render(v, title=f"Diff of {a} and {b}"))
    sys.stdout.flush()
    # Between two recordings nothing is a target fault: they differ or not.
    raise typer.Exit(ExitCode.OK if not v.differences else ExitCode.FOUND)
