"""Capture decoding speed and memory: wirelog vs tshark vs a scapy loop.

A script, not a test::

    .venv/bin/python benchmarks/bench_capture.py [--frames 200000] [--big 4]
        [--repeat 5] [--scapy-limit 0] [--keep DIR] [--baseline DIR] [--compiled DIR]
        [--callgrind FRAMES]

It synthesizes pcap files (Ethernet/IPv4/TCP with valid headers, a real
HTTP Upgrade handshake, then masked client frames and unmasked server
frames of mixed sizes: one frame per segment, several small frames per
segment, and large frames split over several segments), then runs, each in
a fresh process, with wall time, CPU time and peak RSS:

* ``wirelog decode --format jsonl`` to /dev/null, from this checkout in pure
  Python, from the compiled build (``--compiled``, default
  ``build/speedups``: made by ``.ci/speedups``, see ``setup.py``) if there
  is one, and from an older checkout given as ``--baseline DIR`` (the A/B
  the issues ask for, on one machine in one run);
* ``tshark -T fields`` exporting the same information a wirelog jsonl line
  carries (frame time, tcp.stream, fin, rsv, opcode, mask, masking key,
  payload length and the unmasked payload: ``websocket.payload.text`` for
  text, ``data.data`` for binary, the close/ping/pong payload fields), with
  out-of-order reassembly on, to /dev/null: the fair comparison;
* ``tshark`` exporting only four fields (tcp.stream, opcode, fin, payload
  length): the minimal variant, a lower bound on tshark's time;
* a plain ``scapy.utils.PcapReader`` loop (full dissection of each packet).

Each wirelog build runs on two capture sizes (``--frames`` and ``--big``
times that) so the flat memory shows; on the first, ``--repeat`` times,
interleaved with the other builds, its least CPU time counting. The ratios at the end are of CPU
time (user + system: wall time on a shared machine measures the
neighbours too), against issue 12's targets. With ``--callgrind FRAMES`` each
build also decodes a capture of FRAMES frames under callgrind, and its
instruction count is printed beside the baseline's: deterministic, where the
CPU times of two runs on this shared machine differ by up to a third.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PORT = 9001
CLIENT = (bytes([10, 0, 0, 1]), 40000)
SERVER = (bytes([10, 0, 0, 2]), PORT)
ETH = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"


def frame(opcode: int, payload: bytes, masked: bool, fin: bool = True) -> bytes:
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    mbit = 0x80 if masked else 0
    if n <= 125:
        head = bytes((b0, mbit | n))
    elif n <= 0xFFFF:
        head = bytes((b0, mbit | 126)) + struct.pack("!H", n)
    else:
        head = bytes((b0, mbit | 127)) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    k = (key * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")
    return head + key + body


class Writer:
    """Writes one TCP connection's packets to a pcap file."""

    def __init__(self, fh: object) -> None:
        self.fh = fh
        self.seq = {True: 1000, False: 5000}
        self.t = 1_700_000_000.0
        self.packets = 0

    def packet(self, from_client: bool, payload: bytes, flags: int = 0x18) -> None:
        src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
        seq = self.seq[from_client]
        ack = self.seq[not from_client]
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq, ack, 5 << 4, flags, 65535, 0, 0)
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0, src[0], dst[0]
        )
        data = ETH + ip + tcp + payload
        self.t += 0.000013
        sec = int(self.t)
        usec = int((self.t - sec) * 1e6)
        self.fh.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)  # type: ignore[attr-defined]
        self.seq[from_client] = (seq + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
        self.packets += 1


def synthesize(path: Path, frames: int, seed: int = 1, writer: type[Writer] = Writer) -> int:
    """A capture holding ``frames`` WebSocket frames; returns packet count.
    ``writer`` writes the packets (bench_tls: inside a TLS session)."""
    rng = random.Random(seed)
    pool = os.urandom(70000)
    key = base64.b64encode(os.urandom(16)).decode()
    accept = base64.b64encode(
        hashlib.sha1(key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()
    ).decode()
    request = (
        f"GET /chat HTTP/1.1\r\nHost: 10.0.0.2:{PORT}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    response = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()
    with open(path, "wb", buffering=1 << 20) as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        w = writer(fh)
        w.packet(True, b"", 0x02)  # SYN
        w.packet(False, b"", 0x12)  # SYN-ACK
        w.packet(True, b"", 0x10)
        w.packet(True, request)
        w.packet(False, response)
        made = 0
        while made < frames - 2:
            client = rng.random() < 0.5
            r = rng.random()
            if r < 0.6:  # one small/medium frame per segment
                n = rng.choice((2, 10, 60, 125, 300, 1400))
                op = 1 if rng.random() < 0.5 else 2
                payload = pool[:n] if op == 2 else b"x" * n
                w.packet(client, frame(op, payload, client))
                made += 1
            elif r < 0.95:  # several small frames coalesced in one segment
                k = rng.randint(2, 6)
                w.packet(client, b"".join(frame(1, b"y" * 20, client) for _ in range(k)))
                made += k
            else:  # a large frame over several segments
                n = rng.choice((8000, 30000, 65536))
                wire = frame(2, pool[:n], client)
                for i in range(0, len(wire), 16384):
                    w.packet(client, wire[i : i + 16384])
                made += 1
            if rng.random() < 0.3:
                w.packet(not client, b"", 0x10)  # pure ACK
        w.packet(True, frame(8, b"\x03\xe8bye", True))
        w.packet(False, frame(8, b"\x03\xe8", False))
        w.packet(True, b"", 0x11)
        w.packet(False, b"", 0x11)
        return w.packets


#: What a wirelog jsonl frame line carries, as tshark 4.0 names it. Each
#: field is listed once per WebSocket frame in a packet (``occurrence=a``).
TSHARK_FULL = (
    "frame.time_epoch",
    "tcp.stream",
    "websocket.fin",
    "websocket.rsv",
    "websocket.opcode",
    "websocket.mask",
    "websocket.masking_key",
    "websocket.payload_length",
    "websocket.payload_length_ext_16",
    "websocket.payload_length_ext_64",
    "websocket.payload.text",  # text frames, unmasked
    "data.data",  # binary frames, unmasked, as hex
    "websocket.payload.close",
    "websocket.payload.ping",
    "websocket.payload.pong",
    "websocket.payload.continue",
)
#: The earlier comparison: the frame headers only, no payload, no time.
TSHARK_MINIMAL = (
    "tcp.stream",
    "websocket.opcode",
    "websocket.fin",
    "websocket.payload_length",
    "websocket.payload_length_ext_16",
    "websocket.payload_length_ext_64",
)


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MiB and exit
    status of one command, output to /dev/null. GNU time measures: the
    ``ru_maxrss`` of a child forked from this (large) process would start at
    this process's own size. CPU time is what the ratios use, because wall
    time on a shared machine measures the neighbours too."""
    fmt = "%e %U %S %M"
    with tempfile.NamedTemporaryFile("r", suffix=".time") as rep:
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-o", rep.name, "-f", fmt, *cmd],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
            env=env,
        )
        wall = time.perf_counter() - t0
        fields = rep.read().split()
    if proc.returncode:
        err = proc.stderr.decode(errors="replace").strip()
        print(f"  ({cmd[0]} exited {proc.returncode}: {err[-300:]})", file=sys.stderr)
    if len(fields) < 4:
        return wall, float("nan"), float("nan"), proc.returncode
    cpu = float(fields[-3]) + float(fields[-2])
    return wall, cpu, int(fields[-1]) / 1024, proc.returncode


def count_lines(cmd: list[str], env: dict[str, str] | None = None) -> int:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    n = sum(1 for _ in proc.stdout)
    proc.wait()
    return n


ROOT = Path(__file__).resolve().parents[1]
#: The CLI of whichever checkout is first on PYTHONPATH (PYTHONSAFEPATH keeps
#: the current directory off sys.path); older trees have the same entry.
DECODE = [sys.executable, "-c", "from wirelog.cli import main; main()", "decode", "-f", "jsonl"]


def tree_env(tree: Path) -> dict[str, str]:
    """The environment that runs ``tree``'s wirelog. Byte-code caching on:
    the first run (the line count) writes ``tree``'s .pyc files, as an
    install does, so the timed runs do not compile every module from
    source (PYTHONDONTWRITEBYTECODE would make each run pay for that)."""
    env = {**os.environ, "PYTHONSAFEPATH": "1", "PYTHONPATH": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def is_compiled(tree: Path) -> bool:
    """Whether ``tree`` holds a compiled build (extension modules in wirelog/)."""
    return (tree / "wirelog").is_dir() and any(
        p.name.endswith(".so") or p.name.endswith(".pyd") for p in (tree / "wirelog").rglob("*")
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def target(what: str, value: float, goal: str, ok: bool) -> None:
    print(f"  {what:<22} {value:>7.3f}  target {goal}: {verdict(ok)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--big", type=int, default=4, help="the second size, times --frames")
    ap.add_argument(
        "--scapy-limit",
        type=int,
        default=0,
        help="run the scapy loop on the first N packets only and extrapolate (0: all)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="runs of each wirelog build on the first capture, interleaved; the least CPU counts",
    )
    ap.add_argument("--keep", type=Path, help="write the captures here and keep them")
    ap.add_argument("--baseline", type=Path, help="an older checkout to run beside this one")
    ap.add_argument(
        "--compiled",
        type=Path,
        default=ROOT / "build" / "speedups",
        help="the compiled build (.ci/speedups DIR); skipped when absent",
    )
    ap.add_argument(
        "--callgrind",
        type=int,
        default=0,
        metavar="FRAMES",
        help="also count each build's instructions under valgrind on a capture of FRAMES",
    )
    args = ap.parse_args()
    builds = [("wirelog pure", ROOT)]
    if is_compiled(args.compiled):
        builds.append(("wirelog compiled", args.compiled))
    else:
        print(f"no compiled build in {args.compiled} (make one with .ci/speedups)")
    if args.baseline:
        builds.append((f"wirelog baseline {args.baseline.name}", args.baseline))
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="wirelog-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    small, big = tmp / "small.pcap", tmp / "big.pcap"
    t0 = time.perf_counter()
    n_small = synthesize(small, args.frames)
    n_big = synthesize(big, args.frames * args.big, seed=2)
    print(
        f"synthesized {small.name}: {args.frames} frames, {n_small} packets, "
        f"{small.stat().st_size / 2**20:.0f} MiB; {big.name}: {args.frames * args.big} frames, "
        f"{n_big} packets, {big.stat().st_size / 2**20:.0f} MiB "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    for label, tree in builds:
        rows = count_lines([*DECODE, str(small)], tree_env(tree))
        print(f"{label} decodes {rows} frames from {small.name}")
    #: label -> capture name -> (wall, CPU, peak RSS)
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    for path in (small, big):
        # Interleaved, so that a slow spell hits every build alike, and
        # repeated: each build's best run (least CPU) is its figure, the
        # others measured the neighbours on a shared machine.
        for _ in range(args.repeat if path is small else 1):
            for label, tree in builds:
                wall, cpu, rss, code = run([*DECODE, str(path)], tree_env(tree))
                assert code == 0, (label, code)
                best = results.setdefault(label, {}).get(path.name)
                if best is None or cpu < best[1]:
                    results[label][path.name] = (wall, cpu, rss)
    tshark_full = tshark_min = None
    if shutil.which("tshark"):
        tshark = ["tshark", "-r", str(small), "-o", "tcp.reassemble_out_of_order:TRUE"]
        tshark += ["-d", f"tcp.port=={PORT},http", "-Y", "websocket", "-T", "fields"]
        tshark += ["-E", "occurrence=a"]
        tshark_full = "tshark, same fields as wirelog's jsonl"
        tshark_min = "tshark minimal (stream, opcode, fin, length)"
        for fields, label in ((TSHARK_FULL, tshark_full), (TSHARK_MINIMAL, tshark_min)):
            wall, cpu, rss, _ = run([*tshark, *(a for f in fields for a in ("-e", f))])
            results[label] = {small.name: (wall, cpu, rss)}
    # scapy.all registers the link-layer dissectors: without it PcapReader
    # hands out undissected Raw packets, which is not the loop people write.
    loop = (
        "import sys\nfrom scapy.all import PcapReader, TCP\nn = 0\nlimit = int(sys.argv[2])\n"
        "for pkt in PcapReader(sys.argv[1]):\n    n += 1\n    payload = bytes(pkt[TCP].payload)"
        " if TCP in pkt else b''\n    if n == limit: break\n"
    )
    limit = args.scapy_limit or n_small + 10
    wall, cpu, rss, _ = run([sys.executable, "-c", loop, str(small), str(limit)])
    scapy = "scapy PcapReader loop (dissect, take TCP payload)"
    if args.scapy_limit and args.scapy_limit < n_small:
        wall, cpu = wall * n_small / args.scapy_limit, cpu * n_small / args.scapy_limit
        scapy = f"scapy PcapReader loop (extrapolated from {args.scapy_limit} packets)"
    results[scapy] = {small.name: (wall, cpu, rss)}

    print()
    print(f"{'tool':<56} {'capture':<10} {'wall s':>7} {'CPU s':>7} {'peak RSS MiB':>13}")
    for name, caps in results.items():
        for cap, (wall, cpu, rss) in caps.items():
            print(f"{name:<56} {cap:<10} {wall:>7.2f} {cpu:>7.2f} {rss:>13.0f}")
    print("\nCPU time ratios, against issue 12's targets (issue 8: not slower than the baseline):")
    base = results.get(f"wirelog baseline {args.baseline.name}") if args.baseline else None
    for label, _tree in builds:
        if label.startswith("wirelog baseline"):
            continue
        wall, ours, rss = results[label][small.name]
        print(f"{label}: {ours:.2f} s CPU, {wall:.2f} s wall for {args.frames} frames")
        if tshark_full and tshark_min:
            full = results[tshark_full][small.name][1]
            least = results[tshark_min][small.name][1]
            target("/ tshark same fields", ours / full, "<= 0.10", ours / full <= 0.10)
            target("/ tshark minimal", ours / least, "<= 0.33", ours / least <= 0.33)
        slow = results[scapy][small.name][1]
        target("scapy loop / this", slow / ours, ">= 20", slow / ours >= 20)
        big_rss = results[label][big.name][2]
        print(
            f"  peak RSS: {rss:.0f} MiB at {args.frames} frames, {big_rss:.0f} MiB at "
            f"{args.frames * args.big} ({verdict(big_rss <= rss * 1.1 + 4)}: flat)"
        )
        if base is not None:
            old = base[small.name][1]
            target("baseline / this", old / ours, ">= 1.5 (issue 12)", old / ours >= 1.5)
            target("baseline / this", old / ours, ">= 1.0 (issue 8)", old / ours >= 1.0)
    if args.callgrind:
        counted(builds, tmp / "callgrind.pcap", args.callgrind)
    if not args.keep:
        shutil.rmtree(tmp)


def instructions(cmd: list[str], env: dict[str, str]) -> int:
    """The instructions one run executes, counted by callgrind: the same
    for the same binary, input and environment however busy the machine
    is, where CPU time on a shared machine moves by a third between runs."""
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**env, "OPENBLAS_NUM_THREADS": "1"},
        check=True,
    )
    found = re.search(rb"Collected : (\d+)", proc.stderr)
    assert found is not None, proc.stderr[-500:]
    return int(found.group(1))


def counted(builds: list[tuple[str, Path]], path: Path, frames: int) -> None:
    """Each build's instruction count on one capture, and the ratios to the
    baseline's: the A/B that time cannot settle to a few percent here."""
    if not shutil.which("valgrind"):
        print("\nno valgrind: no instruction counts")
        return
    synthesize(path, frames, seed=3)
    print(f"\ninstructions (callgrind) decoding {frames} frames ({path.name}):")
    counts = {}
    for label, tree in builds:
        count_lines([*DECODE, str(path)], tree_env(tree))  # byte code written first
        counts[label] = instructions([*DECODE, str(path)], tree_env(tree))
    base = next((n for label, n in counts.items() if label.startswith("wirelog baseline")), None)
    for label, n in counts.items():
        line = f"  {label:<40} {n / 1e6:>9,.0f} M"
        if base is not None and not label.startswith("wirelog baseline"):
            line += f"   baseline / this {base / n:.3f} (issue 8: >= 1.0, {verdict(base >= n)})"
        print(line)


if __name__ == "__main__":
    main()
