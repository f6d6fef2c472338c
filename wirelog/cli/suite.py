"""``wirelog suite ...``: Autobahn Testsuite runs without Autobahn. Thin
wrappers over :mod:`wirelog.suite.report`; the judge is imported inside the
commands so that ``wirelog --help`` stays instant."""

from __future__ import annotations

import enum
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wirelog.cli.app import ExitCode, app, each_input, error, report_exception
from wirelog.errors import UsageError

if TYPE_CHECKING:
    from wirelog.suite.report import Change, JudgedCase

suite = typer.Typer(
    name="suite",
    help="Autobahn Testsuite runs in Python 3: judge recorded cases, compare runs.",
    no_args_is_help=True,
)
app.add_typer(suite)


class Fmt(enum.StrEnum):
    table = "table"
    json = "json"


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() + "\n"


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "".join(_row(r, widths) for r in [head, *rows])


@suite.command()
def judge(
    inputs: Annotated[
        list[str], typer.Argument(help="Autobahn report folders, index.json or case JSON files.")
    ],
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
) -> None:
    """Recompute Autobahn's verdicts (behavior, behaviorClose and their texts)
    from each case's expectations and observations, never its verdict fields."""
    from wirelog.suite.report import judge_input

    found: list[JudgedCase] = []

    def one(path: str) -> None:
        cases = list(judge_input(path))
        found.extend(cases)
        if fmt is Fmt.json:
            for c in cases:
                sys.stdout.write(json.dumps(c.as_dict()) + "\n")
        else:
            rows = [[c.case_id, c.verdict.behavior, c.verdict.behavior_close] for c in cases]
            sys.stdout.write(f"{path}\n")
            sys.stdout.write(_table(["case", "behavior", "behaviorClose"], rows))

    code = each_input(inputs, one)
    if code is ExitCode.OK and any(c.verdict.behavior == "FAILED" for c in found):
        code = ExitCode.FOUND
    raise typer.Exit(code)


@suite.command()
def diff(
    run_a: Annotated[str, typer.Argument(help="The reference run (folder or index.json).")],
    run_b: Annotated[str, typer.Argument(help="The run to compare with it.")],
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")] = Fmt.table,
) -> None:
    """The cases whose verdict changed between two runs, each with the first
    message or frame that differs. Exit 1 when any changed."""
    from wirelog.suite.report import diff_runs

    try:
        changes = diff_runs(run_a, run_b)
    except Exception as exc:  # one line, whatever broke (app.report_exception)
        report_exception(exc)
        raise typer.Exit(ExitCode.ERROR) from None
    if fmt is Fmt.json:
        json.dump([c.as_dict() for c in changes], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_render_changes(changes))
    raise typer.Exit(ExitCode.FOUND if changes else ExitCode.OK)


def _verdict_cell(v: Any) -> str:
    return f"{v.behavior}/{v.behavior_close}" if v is not None else "(missing)"


def _render_changes(changes: list[Change]) -> str:
    if not changes:
        return "no verdict changed\n"
    rows = [[c.case_id, _verdict_cell(c.a), _verdict_cell(c.b), c.first or "-"] for c in changes]
    return _table(["case", "a", "b", "first difference"], rows)


# The options ``run`` and ``serve`` share, written once.
Out = Annotated[str, typer.Option("--out", help="Folder for Autobahn's report layout.")]
Cases = Annotated[
    list[str], typer.Option("--cases", help="Case globs ('6.*'), comma-separated or repeated.")
]
Exclude = Annotated[list[str], typer.Option("--exclude-cases", help="Case globs to leave out.")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds a case waits for each answer.")]
ChopSpec = Annotated[
    str | None,
    typer.Option("--chop", help="Re-cut the fuzzer's octets: 1, N, random[:SEED], coalesce."),
]
FullLog = Annotated[
    bool,
    typer.Option(
        "--full-log",
        help="Log the data phase of 9.x, 12.x and 13.x too (Autobahn's reports leave it out).",
    ),
]


@suite.command()
def run(
    reference: Annotated[
        str,
        typer.Argument(
            help="An earlier Autobahn client-mode run (folder or index.json), "
            "or Autobahn's fuzzingclient.json spec (then give --reference)."
        ),
    ],
    target: Annotated[
        str | None,
        typer.Option("--target", help="ws://HOST:PORT/PATH to test (a spec lists its servers)."),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", help="Folder for Autobahn's report layout (a spec's outdir)."),
    ] = None,
    cases: Cases = [],  # noqa: B006 - typer reads the default, it is never mutated
    exclude: Exclude = [],  # noqa: B006
    agent: Annotated[
        str | None, typer.Option("--agent", help="The testee's name in the reports.")
    ] = None,
    junit_file: Annotated[
        str | None, typer.Option("--junit", help="Also write JUnit XML here.")
    ] = None,
    timeout: Timeout = 2.0,
    chop: ChopSpec = None,
    full_log: FullLog = False,
    octets: Annotated[
        str | None,
        typer.Option(
            "--reference",
            help="With a fuzzingclient.json: the recorded client-mode run whose octets are sent.",
        ),
    ] = None,
) -> None:
    """Replay every case of a reference run against a server and judge it as
    Autobahn does. Exit 0 when no case FAILED, 1 when one did, 2 on errors."""
    from wirelog.replay.chop import parse_chop
    from wirelog.suite.output import junit, write_runs
    from wirelog.suite.run import run_suite
    from wirelog.suite.spec import is_spec, read_spec, run_spec

    try:
        if timeout <= 0:
            raise UsageError("--timeout must be positive")
        cut = parse_chop(chop) if chop else None
        if is_spec(reference):
            if octets is None:
                raise UsageError(
                    f"{reference}: a fuzzingclient spec names no recorded run; "
                    "give its octets with --reference DIR"
                )
            if target is not None or agent is not None:
                raise UsageError(f"{reference}: the spec lists the servers; drop --target/--agent")
            spec = read_spec(reference)
            out = out or spec.outdir
            runs = run_spec(
                spec,
                octets,
                cases=cases,
                exclude=exclude,
                timeout=timeout,
                chop=cut,
                full_log=full_log,
            )
            source = octets
        else:
            if target is None or out is None:
                raise UsageError("give --target ws://HOST:PORT/PATH and --out DIR")
            if octets is not None:
                raise UsageError("--reference goes with a fuzzingclient.json spec")
            runs = [
                run_suite(
                    reference,
                    target,
                    cases=cases,
                    exclude=exclude,
                    agent=agent,
                    timeout=timeout,
                    chop=cut,
                    full_log=full_log,
                )
            ]
            source = reference
        if not any(r.cases or r.not_run for r in runs):
            raise UsageError(f"{source}: no case matches the selection")
        index = write_runs(runs, out)
        if junit_file:
            junit(runs, junit_file)
    except Exception as exc:  # one line, whatever broke (app.report_exception)
        report_exception(exc)
        raise typer.Exit(ExitCode.ERROR) from None
    for done in runs:
        if len(runs) > 1:
            sys.stdout.write(f"{done.agent}: ")
        sys.stdout.write(_render_run(done, index))
        if done.not_run:
            first_id, why = done.not_run[0]
            error(f"{len(done.not_run)} case(s) not run (first: {first_id}: {why})")
    raise typer.Exit(ExitCode.FOUND if any(r.failed for r in runs) else ExitCode.OK)


def _render_run(done: Any, index: str) -> str:
    from collections import Counter

    counts = Counter((c.verdict.behavior, c.verdict.behavior_close) for c in done.cases)
    lines = [f"{len(done.cases)} cases in {done.elapsed:.1f} s, {len(done.failed)} FAILED: {index}"]
    lines += [f"  {n:4d}  {b} / {bc}" for (b, bc), n in sorted(counts.items())]
    lines += [f"  FAILED {c.case_id}: {c.verdict.result}" for c in done.failed]
    return "\n".join(lines) + "\n"


@suite.command()
def serve(
    reference: Annotated[
        str, typer.Argument(help="An earlier Autobahn server-mode run: folder or index.json.")
    ],
    listen: Annotated[str, typer.Option("--listen", help="HOST:PORT to serve on.")],
    out: Out,
    cases: Cases = [],  # noqa: B006 - typer reads the default, it is never mutated
    exclude: Exclude = [],  # noqa: B006
    timeout: Timeout = 2.0,
    chop: ChopSpec = None,
    full_log: FullLog = False,
) -> None:
    """Autobahn's fuzzingserver URL API (/getCaseCount, /runCase, /updateReports,
    ...) for a client driver, until /stopServer or Ctrl-C."""
    import asyncio

    from wirelog.replay.chop import parse_chop
    from wirelog.replay.target import parse_listen
    from wirelog.suite.serve import serve as serving

    def ready(host: str, port: int) -> None:
        sys.stdout.write(f"serving the fuzzingserver API on ws://{host}:{port}\n")
        sys.stdout.flush()

    try:
        if timeout <= 0:
            raise UsageError("--timeout must be positive")
        host, port = parse_listen(listen)
        cut = parse_chop(chop) if chop else None
        fs = asyncio.run(
            serving(
                reference,
                host,
                port,
                out,
                cases=cases,
                exclude=exclude,
                timeout=timeout,
                ready=ready,
                chop=cut,
                full_log=full_log,
            )
        )
    except Exception as exc:  # one line, whatever broke (app.report_exception)
        report_exception(exc)
        raise typer.Exit(ExitCode.ERROR) from None
    failed = any(c.verdict.behavior == "FAILED" for runs in fs.runs.values() for c in runs.values())
    raise typer.Exit(ExitCode.FOUND if failed else ExitCode.OK)
