"""CLI commands of this feature:
``wirelog replay`` and ``wirelog diff``. Thin wrappers over
:mod:`wirelog.replay.run` and :mod:`wirelog.replay.diff`."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated, Any

import typer

from wirelog.cli.app import app


class Fmt(enum.StrEnum):
    table = "table"
    json = "json"


def _exit_for(verdict: Any, peer: str) -> int:
    from wirelog.cli.app import ExitCode, error

    if verdict.faults:
        error(f"{peer}: {verdict.faults[0]}")
        return int(ExitCode.ERROR)
    return int(ExitCode.OK if verdict.equivalent else ExitCode.FOUND)


@app.command()
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
    speed: Annotated[float, typer.Option("--speed", help="Time scale (2 = twice as fast).")] = 1.0,
    asap: Annotated[bool, typer.Option("--asap", help="Drop pauses; keep causal order.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the target's answers.")
    ] = 3.0,
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
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
) -> None:
    """Re-run a recorded session against a live server (or client) and judge it."""
    from wirelog.cli.app import ExitCode, error, report_exception
    from wirelog.pipeline import read
    from wirelog.replay import run
    from wirelog.replay.client import parse_listen, parse_target
    from wirelog.replay.diff import render

    opts = run.Options(
        speed=speed,
        asap=asap,
        fill=fill,
        timeout=timeout,
        insecure=insecure,
        keep_host=keep_host,
        new_key=new_key,
        conn=conn,
    )
    try:
        if (target is None) == (listen is None):
            error("give exactly one of --target ws://HOST:PORT/ or --listen HOST:PORT")
            raise typer.Exit(ExitCode.ERROR)
        if timeout <= 0 or speed <= 0 or concurrency < 1 or repeat < 1:
            error("--timeout and --speed must be positive, --concurrency and --repeat at least 1")
            raise typer.Exit(ExitCode.ERROR)
        recording = read(input)
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
                _print_load(lr.as_dict(), fmt)
                code = (
                    ExitCode.ERROR if lr.errors else ExitCode.FOUND if lr.different else ExitCode.OK
                )
                if lr.first_error:
                    error(lr.first_error)
                raise typer.Exit(code)
            report = run.replay(recording, t, opts)
            title = f"Replay of {input} against {target}"
        if record:
            from wirelog.replay.record import write_autobahn_json

            write_autobahn_json(report.result.connection, record, agent=report.result.target)
        v = report.verdict
        if fmt is Fmt.json:
            doc = v.as_dict()
            doc["writes"] = _writes(report)
            json.dump(doc, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(_header(report))
            sys.stdout.write(
                render(v, title=title, a_name="recording", b_name="replay", ref="the recording")
            )
        sys.stdout.flush()
        raise typer.Exit(_exit_for(v, report.result.target))
    except typer.Exit:
        raise
    except Exception as exc:  # a replay must end in one line, never a traceback
        report_exception(exc, input)
        raise typer.Exit(ExitCode.ERROR) from None


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="The reference recording.")],
    b: Annotated[str, typer.Argument(help="The recording to compare with it.")],
    conn_a: Annotated[int | None, typer.Option("--conn-a", help="Connection number in A.")] = None,
    conn_b: Annotated[int | None, typer.Option("--conn-b", help="Connection number in B.")] = None,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
) -> None:
    """Compare two recordings at message, frame and closing level. Exit 1 if they differ."""
    from wirelog.cli.app import ExitCode, report_exception
    from wirelog.pipeline import read
    from wirelog.replay.diff import diff_recordings, render

    try:
        v = diff_recordings(read(a), read(b), conn_a=conn_a, conn_b=conn_b)
    except Exception as exc:
        report_exception(exc)
        raise typer.Exit(ExitCode.ERROR) from None
    if fmt is Fmt.json:
        json.dump(v.as_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(v, title=f"Diff of {a} and {b}"))
    sys.stdout.flush()
    # Between two recordings nothing is a target fault: they differ or not.
    raise typer.Exit(int(ExitCode.OK if not v.differences else ExitCode.FOUND))


def _writes(report: Any) -> list[dict[str, Any]]:
    return [
        {
            "index": w.index,
            "length": len(w.data),
            "delay": w.delay,
            "sync": w.sync,
            "rebuilt": w.rebuilt,
            "synthesized": w.synthesized,
        }
        for w in report.plan.writes
    ]


def _header(report: Any) -> str:
    o = report.result.outcome
    plan = report.plan
    sent = sum(c.length for c in report.result.connection.chunks if c.direction.value == "tx")
    got = [c for c in report.result.connection.chunks if c.direction.value == "rx"]
    rebuilt = sum(1 for w in plan.writes if w.rebuilt)
    synth = sum(w.synthesized for w in plan.writes)
    sizes = [len(w.data) for w in plan.writes]
    shown = ", ".join(str(n) for n in sizes[:12]) + (", ..." if len(sizes) > 12 else "")
    lines = [
        f"writes    {o.writes_sent} of {o.writes_planned} sent, {sent} octets"
        f" ({rebuilt} rebuilt from the log, {synth} octets synthesized)",
        f"chops     {shown}",
        f"received  {len(got)} chunks, {sum(c.length for c in got)} octets"
        f" in {o.duration * 1000:.1f} ms",
    ]
    return "\n".join(lines) + "\n\n"


def _print_load(d: dict[str, Any], fmt: Fmt) -> None:
    if fmt is Fmt.json:
        json.dump(d, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    lat = d["latency_ms"]
    sys.stdout.write(
        f"sessions     {d['sessions']} in {d['elapsed_s']} s ({d['sessions_per_s']} sessions/s)\n"
        f"equivalent   {d['equivalent']}\n"
        f"mismatches   {d['mismatches']}\n"
        f"errors       {d['errors']}\n"
        f"latency ms   p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}\n"
    )
    if d["first_difference"]:
        sys.stdout.write(f"first mismatch: {d['first_difference']}\n")
