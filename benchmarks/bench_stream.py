"""Peak memory of the streamed paths: ``sql``, ``decode --where``, ``export``,
``conns``, ``follow`` and ``plot``.

A script, not a test::

    .venv/bin/python benchmarks/bench_stream.py [--capture FILE | --frames 200000]
        [--tree DIR ...]

Each command runs once per tree (``--tree``, default this checkout; give an
older checkout to compare, it runs with its own code on ``PYTHONPATH``) in a
fresh process over one capture (``--capture``, or one synthesized by
``bench_capture.py``'s generator). Printed per run: wall and CPU seconds and
the child's peak RSS (``wait4``). The streamed paths should keep the peak RSS
flat in the capture's size (a few hundred MiB, most of it pandas, pyarrow and
DuckDB themselves); a ``LIMIT`` query should also stop early (a small CPU time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_capture import synthesize

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from wirelog.cli import main; main()"]
RUNS = {
    "sql LIMIT 10": ["sql", "SELECT conn, index, length FROM frames WHERE opcode = 1 LIMIT 10"],
    "sql count(*)": ["sql", "SELECT count(*) AS n, sum(length) AS octets FROM frames"],
    "decode --where": ["decode", "-f", "jsonl", "--where", "opcode = 8"],
    "export": ["export", "--to", "{out}"],
    "conns": ["conns"],
    "follow --conn 0": ["follow", "--conn", "0"],
    "plot (all six)": ["plot", "-o", "{out}"],
}


def run(tree: Path, args: list[str], capture: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one command."""
    out = tempfile.mkdtemp(prefix="bench-stream-")
    shutil.rmtree(out)
    argv = [*CLI, *(a.replace("{out}", out) for a in args), capture]
    env = {**os.environ, "PYTHONPATH": str(tree), "WIRELOG_PROGRESS": "0"}
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)}: exit {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--capture", help="a capture to read (default: synthesize one)")
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--tree", action="append", type=Path, help="a wirelog checkout")
    a = ap.parse_args()
    trees = a.tree or [ROOT]
    with tempfile.TemporaryDirectory() as tmp:
        capture = a.capture
        if capture is None:
            capture = str(Path(tmp) / "bench.pcap")
            synthesize(Path(capture), a.frames)
        size = os.path.getsize(capture) / 2**20
        print(f"capture {capture}: {size:,.0f} MiB")
        print(f"{'run':16} {'tree':28} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}")
        for name, args in RUNS.items():
            for tree in trees:
                wall, cpu, rss = run(tree.resolve(), args, capture)
                print(f"{name:16} {str(tree)[-28:]:28} {wall:8.2f} {cpu:8.2f} {rss:9,.0f}")


if __name__ == "__main__":
    main()
