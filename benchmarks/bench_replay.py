"""Replay benchmark (a script, not a test): how faithful and how fast.

* **Chop fidelity**: share of replayed chunks that left as exactly one TCP
  segment of the recorded size, measured with tcpdump on loopback.
* **Timing error**: median and p99 of |replayed gap - recorded gap| over
  every write that had a recorded pause (a synthetic session with pauses of
  1-50 ms and echoes in between, and the sample captures' own gaps).
* **Throughput**: sessions/s with ``--concurrency 100`` against the local
  echo server (the seed, case 2.2), with latency percentiles and mismatches.
* **Hostile peers** (``--hostile SECONDS``): the seed replayed with that
  ``--timeout`` against each misbehaving server of ``tests/replay/peers.py``
  (floods, a 2**62 frame, a deflate bomb...), each in a child process: its
  exit code, wall time and peak RSS, the figures issue 11 asks for.

The Autobahn cases among the fidelity inputs were recorded against another
server (nim-websock), so their verdicts against the local echo server may
differ; fidelity is about the octets on the wire. A chunk larger than the
loopback MSS (7.1.6's 262158-octet frame) cannot leave as one segment.

Usage: ``python benchmarks/bench_replay.py [--sessions 2000] [--hostile 5] [--json]``
(tcpdump needs root; without it fidelity is skipped). Everything runs on
127.0.0.1 against servers this script starts and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "replay"))

from peers import SERVER_MODES, Hostile, run_cli  # noqa: E402
from servers import SEED, have_tcpdump, run_server, segments, tcpdump  # noqa: E402

from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Recording, Role  # noqa: E402
from wirelog.pipeline import read  # noqa: E402
from wirelog.protocol.frames import encode_frame  # noqa: E402
from wirelog.protocol.handshake import accept_for  # noqa: E402
from wirelog.replay import run  # noqa: E402
from wirelog.replay.progress import Progress  # noqa: E402

SAMPLES = os.path.join(ROOT, "samples")
REPORTS = os.path.join(ROOT, "..", "shared", "autobahn-reports", "testing-a-server")

FIDELITY_INPUTS: list[tuple[str, int | None, bool]] = [
    (os.path.join(SAMPLES, "autobahnpython_case_2_2.txt"), None, False),
    (os.path.join(SAMPLES, "ws_basic.pcap"), None, False),
    (os.path.join(SAMPLES, "ws_fragmented.pcap"), None, False),
    (os.path.join(SAMPLES, "multi_conn.pcap"), 0, False),
    (os.path.join(SAMPLES, "multi_conn.pcap"), 2, False),
    (os.path.join(REPORTS, "websock_server_case_2_6.json"), None, False),  # chop 1
    (os.path.join(REPORTS, "websock_server_case_2_11.json"), None, False),  # 10 pings, chop 1
    (os.path.join(REPORTS, "websock_server_case_5_20.json"), None, False),  # sync + CT
    (os.path.join(REPORTS, "websock_server_case_7_1_6.json"), None, False),  # repeat-len
    (os.path.join(REPORTS, "websock_server_case_1_1_8.json"), None, True),  # chopsize 997
]


def synthetic(n: int = 120, seed: int = 7) -> Recording:
    """A client that sends ``n`` messages with pauses of 1-50 ms, some right
    after our own write, some after the echo of the previous one."""
    rnd = random.Random(seed)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    req = (
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    resp = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_for(key).encode() + b"\r\n\r\n"
    )
    conn = Connection(conn=0, source="synthetic", recorder=Role.CLIENT)
    t = 1000.0
    i = 0

    def add(d: Direction, data: bytes) -> None:
        nonlocal i
        conn.chunks.append(Chunk(d, data, len(data), i, t))
        i += 1

    add(Direction.TX, req)
    t += 0.0005
    add(Direction.RX, resp)
    k = 0
    while k < n:
        # One message and its echo, or (one time in three) two messages back
        # to back, the second paused after our own write, then both echoes.
        burst = 2 if rnd.random() < 1 / 3 else 1
        payloads = [os.urandom(rnd.randrange(1, 2000)) for _ in range(burst)]
        for p in payloads:
            t += rnd.uniform(0.001, 0.050)
            add(Direction.TX, encode_frame(2, p, mask=os.urandom(4)))
        for p in payloads:
            t += 0.0003
            add(Direction.RX, encode_frame(2, p))
        k += burst
    t += 0.005
    add(Direction.TX, encode_frame(8, b"\x03\xe8", mask=os.urandom(4)))
    t += 0.0003
    add(Direction.RX, encode_frame(8, b"\x03\xe8"))
    conn.markers.append(Marker(MarkerKind.FIN, i, Direction.RX, t + 0.0001))
    return Recording("synthetic", "pcap", [conn])


def timing_errors(report: run.Report) -> list[float]:
    """|replayed gap - recorded gap| for each write with a recorded pause;
    the replayed gap is measured from the same anchor the plan used: our
    previous write or the answer that write waited for."""
    chunks = report.result.connection.chunks
    tx = [c for c in chunks if c.direction is Direction.TX]
    progress = Progress(Role.SERVER, handshake=report.plan.handshake)
    marks: list[tuple[float, Any]] = []
    for c in chunks:
        if c.direction is Direction.RX and c.ts is not None:
            progress.feed(c.data)
            marks.append((c.ts, progress.need()))
    errors = []
    for i, w in enumerate(report.plan.writes):
        if i == 0 or i >= len(tx) or w.delay <= 0:
            continue
        anchor = tx[i - 1].ts or 0.0
        if not w.need.none:
            for when, snap in marks:
                if snap.covers(w.need):
                    anchor = max(anchor, when)
                    break
        errors.append(abs(((tx[i].ts or 0.0) - anchor) - w.delay))
    return errors


def fidelity(url: str, port: int) -> dict[str, Any]:
    total = same = 0
    per_input = []
    for path, conn, fill in FIDELITY_INPUTS:
        if not os.path.exists(path):
            continue
        opts = run.Options(conn=conn, fill=fill, asap=True, timeout=2.0)
        with tcpdump(port) as pcap:
            report = run.replay(read(path), url, opts)
        writes = [len(w.data) for w in report.plan.writes][: report.result.outcome.writes_sent]
        segs = [s.size for s in segments(pcap) if s.dport == port and s.size > 0]
        ok = _aligned(writes, segs)
        total += len(writes)
        same += ok
        per_input.append(
            {
                "input": os.path.basename(path) + (f"#{conn}" if conn is not None else ""),
                "chunks": len(writes),
                "one_segment_same_size": ok,
                "equivalent": report.verdict.equivalent,
            }
        )
    return {
        "chunks": total,
        "faithful": same,
        "share": round(same / total, 4) if total else None,
        "inputs": per_input,
    }


def _aligned(writes: list[int], segs: list[int]) -> int:
    """Count writes that match exactly one segment of the same size, walking
    both lists; a write split or merged consumes segments until its octets
    are covered."""
    ok = 0
    j = 0
    carry = 0
    for size in writes:
        if carry == 0 and j < len(segs) and segs[j] == size:
            ok += 1
            j += 1
            continue
        need = size - carry
        carry = 0
        while need > 0 and j < len(segs):
            need -= segs[j]
            j += 1
        carry = -need if need < 0 else 0
    return ok


def timing(url: str) -> dict[str, Any]:
    errors: list[float] = []
    runs = []
    rec = synthetic()
    for _ in range(3):
        report = run.replay(rec, url, run.Options(timeout=3.0))
        e = timing_errors(report)
        errors.extend(e)
        runs.append(report.verdict.equivalent)
    for name in ("ws_basic.pcap", "ws_fragmented.pcap"):
        report = run.replay(read(os.path.join(SAMPLES, name)), url)
        errors.extend(timing_errors(report))
        runs.append(report.verdict.equivalent)
    errors.sort()
    p99 = errors[min(len(errors) - 1, int(0.99 * len(errors)))] if errors else float("nan")
    return {
        "gaps": len(errors),
        "median_ms": round(statistics.median(errors) * 1000, 3) if errors else None,
        "p99_ms": round(p99 * 1000, 3),
        "max_ms": round(max(errors) * 1000, 3) if errors else None,
        "all_equivalent": all(runs),
    }


def throughput(url: str, sessions: int, concurrency: int) -> dict[str, Any]:
    rec = read(os.path.join(SAMPLES, "autobahnpython_case_2_2.txt"))
    report = run.load(rec, url, run.Options(timeout=5.0), concurrency=concurrency, repeat=sessions)
    d = report.as_dict()
    d["concurrency"] = concurrency
    return d


def hostile(timeout: float) -> list[dict[str, Any]]:
    """Each misbehaving server once: how the replay ended and what it cost."""
    rows = []
    for mode in SERVER_MODES:
        with Hostile(mode) as srv:
            r = run_cli("replay", SEED, "--target", srv.url, "--timeout", str(timeout))
        line = (r.err.splitlines() or [""])[-1]
        rows.append(
            {
                "peer": mode,
                "exit": r.code,
                "seconds": round(r.took, 2),
                "peak_rss_mb": round(r.rss_mb),
            }
            | {"says": line}
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--hostile", type=float, default=0.0, metavar="SECONDS")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    if args.hostile > 0:
        out["hostile"] = hostile(args.hostile)
    with run_server("websockets") as ws:
        if have_tcpdump():
            out["chop_fidelity"] = fidelity(ws.url, ws.port)
        out["timing_error"] = timing(ws.url)
        out["throughput_websockets"] = throughput(ws.url, args.sessions, args.concurrency)
    with run_server("autobahn") as ab:
        out["throughput_autobahnpython"] = throughput(ab.url, args.sessions, args.concurrency)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for row in out.get("hostile", []):
        print(
            f"hostile {row['peer']:<15} exit {row['exit']}  {row['seconds']:>5} s"
            f"  {row['peak_rss_mb']:>4} MB  {row['says'][:90]}"
        )
    fid = out.get("chop_fidelity")
    if fid:
        print(f"chop fidelity   {fid['faithful']}/{fid['chunks']} chunks = {fid['share']:.2%}")
        for row in fid["inputs"]:
            print(
                f"  {row['input']:<34} {row['one_segment_same_size']}/{row['chunks']}"
                f"  equivalent={row['equivalent']}"
            )
    t = out["timing_error"]
    print(
        f"timing error    median {t['median_ms']} ms, p99 {t['p99_ms']} ms, max {t['max_ms']} ms"
        f" over {t['gaps']} gaps"
    )
    for name in ("throughput_websockets", "throughput_autobahnpython"):
        d = out[name]
        lat = d["latency_ms"] or {"p50": None, "p90": None, "p99": None}
        print(
            f"{name.split('_')[1]:<15} {d['sessions_per_s']} sessions/s at concurrency"
            f" {d['concurrency']} ({d['sessions']} sessions, {d['mismatches']} mismatches,"
            f" {d['errors']} errors; latency p50 {lat['p50']} ms p90 {lat['p90']} ms"
            f" p99 {lat['p99']} ms)"
        )


if __name__ == "__main__":
    start = time.time()
    main()
    print(f"({time.time() - start:.1f} s)", file=sys.stderr)
