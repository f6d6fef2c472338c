"""Suite benchmark (a script, not a test): ``suite run`` of families 1-7 and
10 (247 cases) of the shared reference run against a local ``websockets``
echo server, wall time beside the sum of the case durations Autobahn itself
recorded in that reference (the anchor; the issue's goal is at most 2x it).

Also the load mode's rate (sessions/s of ``wirelog replay --concurrency``)
on one case of the reference, the figure the issue asks for beside it.

Usage: ``python benchmarks/bench_suite.py [--cases GLOBS] [--json]``.
Everything runs on 127.0.0.1 against a server this script starts and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from servers import SERVER_REPORTS, run_server  # noqa: E402

from wirelog.pipeline import decode, read  # noqa: E402
from wirelog.replay import run as replay_run  # noqa: E402
from wirelog.replay.options import Options  # noqa: E402
from wirelog.suite.run import run_suite, selected, split_globs  # noqa: E402

FAMILIES = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*"


def autobahn_ms(reference: str, globs: list[str]) -> tuple[int, int]:
    """Cases selected and the sum of their recorded ``duration`` (ms)."""
    n = total = 0
    for dc in decode(reference):
        meta = dc.connection.meta
        if selected(meta["case_id"], globs, []):
            n += 1
            total += int(meta.get("duration", 0))
    return n, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=FAMILIES)
    ap.add_argument("--sessions", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    globs = split_globs([args.cases])
    n, anchor = autobahn_ms(SERVER_REPORTS, globs)
    with run_server("websockets") as srv:
        began = time.perf_counter()
        done = run_suite(SERVER_REPORTS, srv.url, cases=globs, agent="websockets")
        wall = time.perf_counter() - began
        case = read(os.path.join(SERVER_REPORTS, "websock_server_case_2_2.json"))
        lr = replay_run.load(case, srv.url, Options(), concurrency=50, repeat=args.sessions)
    out: dict[str, Any] = {
        "cases": len(done.cases),
        "selected_in_reference": n,
        "failed": len(done.failed),
        "wirelog_wall_s": round(wall, 2),
        "autobahn_recorded_s": round(anchor / 1000, 2),
        "ratio": round(wall / (anchor / 1000), 2) if anchor else None,
        "load_sessions_per_s": None if lr.rate is None else round(lr.rate, 1),
        "load_errors": lr.errors,
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"suite run, {out['cases']} cases (families {args.cases}) against websockets:")
    print(f"  wirelog   {out['wirelog_wall_s']:8.2f} s wall ({out['failed']} FAILED)")
    print(f"  Autobahn  {out['autobahn_recorded_s']:8.2f} s (sum of its recorded durations)")
    print(f"  ratio     {out['ratio']}x (goal: at most 2x)")
    print(f"load mode (case 2.2, concurrency 50): {out['load_sessions_per_s']} sessions/s")


if __name__ == "__main__":
    main()
