"""Peak RSS of wirelog on issue 11's deflate bombs, beside another tree's.

Each bomb is a text message of 1 GiB of zeros in 1 MiB (permessage-deflate).
The cases: a capture of one, a capture of four (the ``websockets`` client
reading them from a server on 127.0.0.1, under tcpdump), both through
``check`` and ``decode -l messages``; six in a real Autobahn report through
every command; a replay against a server sending four. Needs root (tcpdump)::

    sudo .venv/bin/python benchmarks/bomb_rss.py [--anchor /path/to/other/tree] [--mib 1024]

Prints, per case, the exit code, peak RSS (the child's ``VmHWM``), wall
time and output size for this tree and for the anchor tree (default: none).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "integration"), str(ROOT / "tests"), str(ROOT)]

from bombs import autobahn_json, record  # noqa: E402
from replay.peers import MAIN, Hostile  # noqa: E402
from servers import SEED  # noqa: E402


def run(tree: Path, args: list[str], limit: float = 120.0) -> str:
    with (
        tempfile.TemporaryFile() as out,
        tempfile.NamedTemporaryFile("r", suffix=".hwm") as hwm,
    ):
        env = dict(os.environ, PYTHONPATH=str(tree), WIRELOG_TEST_HWM=hwm.name)
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", MAIN, *args],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tree,  # ``-c`` puts the working folder first on the path
        )
        try:
            _, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        took = time.monotonic() - start
        size = out.seek(0, 2)
        peak = hwm.read().strip()
        rss = f"{int(peak) / 1024:7.0f} MB" if peak else "killed"
        line = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        out_mib = size / 2**20
        said = line[0][:60]
        return f"exit {proc.returncode:3}  {rss}  {took:6.1f} s  out {out_mib:9.1f} MiB  {said}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--anchor", type=Path, help="another wirelog tree to run beside this one")
    ap.add_argument("--mib", type=int, default=1024, help="MiB of zeros per bomb")
    args = ap.parse_args()
    size = args.mib << 20
    trees = [("this tree", ROOT)] + ([("anchor", args.anchor)] if args.anchor else [])
    with tempfile.TemporaryDirectory() as tmp:
        one = str(record(Path(tmp) / "one.pcap", 1, size))
        four = str(record(Path(tmp) / "four.pcap", 4, size))
        report = str(autobahn_json(Path(tmp) / "six.json", 6, size))
        cases = [
            ("one bomb, check", ["check", one]),
            ("one bomb, decode -l messages", ["decode", "-l", "messages", one]),
            ("four bombs, check", ["check", four]),
            ("four bombs, decode -l messages", ["decode", "-l", "messages", four]),
            (
                "four, decode -l messages -f jsonl",
                ["decode", "-l", "messages", "-f", "jsonl", four],
            ),
        ]
        for cmd in (["decode"], ["decode", "-l", "messages"], ["stats"], ["check"], ["report"]):
            cases.append((f"six in a report, {' '.join(cmd)}", [*cmd, report]))
        cases.append(("six in a report, report -f html", ["report", "-f", "html", report]))
        for name, argv in cases:
            for label, tree in trees:
                print(f"{name:36} {label:9} {run(tree, argv)}", flush=True)
        for label, tree in trees:
            with Hostile("deflate-bomb") as srv:
                argv = ["replay", SEED, "--target", srv.url, "--timeout", "1"]
                print(
                    f"{'replay against a bomb server':36} {label:9} {run(tree, argv)}", flush=True
                )


if __name__ == "__main__":
    main()
