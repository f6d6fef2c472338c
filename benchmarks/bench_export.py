"""``wirelog export`` scale-out: 1 worker, 2 workers and an external 2-worker cluster.

A script, not a test::

    .venv/bin/python benchmarks/bench_export.py [--frames 200000] [--inputs 6]
        [--keep DIR] [--serial]

It synthesizes ``--inputs`` captures of ``--frames`` frames each with
``bench_capture.py``'s generator (one seed per capture), then times, one run
each, in a fresh process (wall time, start-up of the cluster included):

* ``wirelog export CAPTURES --to D --workers 1``: the anchor, a local Dask
  cluster of one worker process;
* ``--workers 2``: a local cluster of two worker processes;
* ``--scheduler tcp://127.0.0.1:PORT``: an external cluster (``dask
  scheduler`` and two ``dask worker --nthreads 1`` processes, started before
  the clock and stopped after);
* with ``--serial``, also the run without Dask (one core, this process).

The figure is the wall time of each run over the one-worker run; on a 2-core
machine the two-worker runs should take at most 0.65 of it. Each run also
prints the machine's load average before and after it (a neighbour's load
shows there) and the CPU seconds of its own processes. The datasets of
all runs must be the same files, octet for octet (file names follow the
inputs, not the order the parts finished in). With ``--keep DIR`` the
captures are kept there and reused by the next run.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_capture import synthesize

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("frames", "messages", "chops", "connections", "violations")
WIRELOG = [sys.executable, "-c", "import sys; from wirelog.cli import main; main()"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "WIRELOG_PROGRESS": "0"}


def captures(folder: Path, n: int, frames: int) -> list[Path]:
    """``n`` captures of ``frames`` frames, made once per ``--keep`` folder."""
    paths = [folder / f"export{i}.pcap" for i in range(n)]
    made = folder / "export.json"
    want = {"frames": frames, "inputs": n}
    if made.exists() and json.loads(made.read_text()) == want and all(p.exists() for p in paths):
        return paths
    t0 = time.perf_counter()
    for i, path in enumerate(paths):
        synthesize(path, frames, seed=i + 1)
    made.write_text(json.dumps(want))
    size = sum(p.stat().st_size for p in paths) / 2**20
    took = time.perf_counter() - t0
    print(f"synthesized {n} captures of {frames} frames, {size:.0f} MiB ({took:.0f} s)")
    return paths


def timed(args: list[str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the command and the local workers it
    started and reaped (an external cluster's workers are not its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([*WIRELOG, *args], env=ENV, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        sys.exit(f"wirelog export exited {p.returncode}: {p.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


class External:
    """``dask scheduler`` and two single-thread ``dask worker`` processes on 127.0.0.1."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> str:
        info = self.home / "scheduler.json"
        dask = [sys.executable, "-m", "dask"]
        quiet = {
            "env": ENV,
            "cwd": self.home,
            "stdout": subprocess.DEVNULL,
            "stderr": subprocess.DEVNULL,
        }
        self.procs.append(
            subprocess.Popen(
                [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                 "--scheduler-file", str(info)],
                **quiet,  # type: ignore[call-overload]
            )
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:  # the file is created empty, then filled
            try:
                address: str = json.loads(info.read_text())["address"]
                break
            except (OSError, ValueError, KeyError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for i in range(2):
            self.procs.append(
                subprocess.Popen(
                    [*dask, "worker", address, "--nthreads", "1", "--no-nanny", "--host",
                     "127.0.0.1", "--no-dashboard", "--local-directory", str(self.home / f"w{i}")],
                    **quiet,  # type: ignore[call-overload]
                )
            )  # fmt: skip
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=120)
        return address

    def __exit__(self, *exc: object) -> None:
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker busy in a task ignores SIGTERM
                p.kill()
                p.wait()


def same_datasets(a: Path, b: Path) -> bool:
    for level in TABLES:
        names = sorted(p.name for p in (a / level).iterdir())
        if names != sorted(p.name for p in (b / level).iterdir()):
            return False
        if not all(filecmp.cmp(a / level / n, b / level / n, shallow=False) for n in names):
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--inputs", type=int, default=6)
    ap.add_argument("--keep", type=Path, help="write the captures here and keep them")
    ap.add_argument("--serial", action="store_true", help="also time the run without Dask")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wirelog-export-"))
    folder = args.keep or tmp
    folder.mkdir(parents=True, exist_ok=True)
    try:
        paths = [str(p) for p in captures(folder, args.inputs, args.frames)]
        runs: list[tuple[str, Path, float]] = []

        def run(label: str, *extra: str) -> None:
            out = tmp / label.replace(" ", "-")
            load = os.getloadavg()[0]
            wall, cpu = timed(["export", *paths, "--to", str(out), *extra])
            runs.append((label, out, wall))
            print(
                f"  {label:<28} {wall:7.1f} s wall, {cpu:7.1f} s CPU in its processes; "
                f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after",
                flush=True,
            )

        print(f"wirelog export of {args.inputs} captures of {args.frames} frames, one run each:")
        run("1 worker", "--workers", "1")
        run("2 workers", "--workers", "2")
        with External(tmp) as address:
            run("external 2-worker cluster", "--scheduler", address)
        if args.serial:
            run("one core, no Dask")
        anchor = runs[0][2]
        print(f"\n{'run':<28} {'wall s':>8} {'/ 1 worker':>11}")
        for label, _, wall in runs:
            print(f"{label:<28} {wall:8.1f} {wall / anchor:11.2f}")
        same = all(same_datasets(runs[0][1], out) for _, out, _ in runs[1:])
        print(f"\nthe datasets are the same files, octet for octet: {same}")
        print(f"2 workers / 1 worker: {runs[1][2] / anchor:.2f} (target: at most 0.65)")
        if not same:
            sys.exit(1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
