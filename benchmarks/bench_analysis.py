"""How long ``wirelog.load(...)`` + ``.frames()`` takes on 200,000 frames.

    python benchmarks/bench_analysis.py [--frames N] [--repeat R] [--input PATH]

By default the input is a synthetic recording built here (one client/server
connection: handshake, then text messages of varied sizes echoed by the
server, a ping/pong every 50 messages, a close handshake; timestamps 1 ms
apart, one chunk per frame with an occasional coalesced pair), because the
point is the analysis layer's cost: decoding plus building the DataFrame.
``--input`` times a real file instead (a pcap, a report folder). When
``benchmarks/bench_capture.py`` offers a capture generator, ``--pcap`` writes
that capture and times the full path (pcap reader included).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from wirelog.enums import nanoseconds
from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Recording, Role
from wirelog.protocol.frames import encode_frame

REQUEST = (
    b"GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
)


def synthetic_connection(
    frames: int, seed: int = 1, conn: int = 0, t0: float = 1.7e9
) -> Connection:
    """A connection with about ``frames`` frames (both directions counted)."""
    rng = random.Random(seed)
    c = Connection(conn=conn, source="synthetic", recorder=Role.CLIENT, start_ts_ns=nanoseconds(t0))
    c.client, c.server = "10.0.0.1:50000", "10.0.0.2:80"
    idx = 0
    t = t0

    def add(d: Direction, data: bytes) -> None:
        nonlocal idx, t
        c.chunks.append(Chunk(d, data, len(data), idx, ts_ns=nanoseconds(t)))
        idx += 1
        t += 0.001

    add(Direction.TX, REQUEST)
    add(Direction.RX, RESPONSE)
    words = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod ".split()
    n = 0
    pending_tx = b""
    while n < frames - 4:
        if n % 100 == 98:
            ping = rng.randbytes(8)
            add(Direction.TX, encode_frame(9, ping, mask=rng.randbytes(4)))
            t += rng.uniform(0.0002, 0.003)
            add(Direction.RX, encode_frame(10, ping))
            n += 2
            continue
        size = int(rng.lognormvariate(4.0, 1.2)) + 1
        text = b" ".join(rng.choice(words) for _ in range(size // 6 + 1))[:size]
        wire = encode_frame(1, text, mask=rng.randbytes(4))
        if rng.random() < 0.05 and not pending_tx:
            pending_tx = wire  # coalesce with the next client write
        else:
            add(Direction.TX, pending_tx + wire)
            pending_tx = b""
        add(Direction.RX, encode_frame(1, text))
        n += 2
    if pending_tx:
        add(Direction.TX, pending_tx)
    add(Direction.TX, encode_frame(8, b"\x03\xe8", mask=b"\x01\x02\x03\x04"))
    add(Direction.RX, encode_frame(8, b"\x03\xe8"))
    c.markers.append(Marker(MarkerKind.FIN, idx, direction=Direction.RX, ts_ns=nanoseconds(t)))
    return c


def synthetic_recording(frames: int = 200_000, seed: int = 1) -> Recording:
    return Recording("synthetic", "memory", [synthetic_connection(frames, seed)])


def _pcap(frames: int) -> str | None:
    """A pcap from the capture benchmark's generator (``bench_capture.synthesize``)."""
    try:
        from bench_capture import synthesize  # type: ignore[import-not-found]
    except ImportError:
        return None
    path = os.path.join(tempfile.mkdtemp(), "bench.pcap")
    synthesize(Path(path), frames)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--input", help="time this file or folder instead")
    ap.add_argument("--pcap", action="store_true", help="use bench_capture's generator")
    args = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    import wirelog

    source: Any
    if args.input:
        source, what = args.input, args.input
    elif args.pcap:
        path = _pcap(args.frames)
        if path is None:
            sys.exit("benchmarks/bench_capture.py has no capture generator (yet)")
        source, what = path, f"pcap from bench_capture ({args.frames:,} frames asked)"
    else:
        t = time.perf_counter()
        source = synthetic_recording(args.frames)
        what = f"synthetic recording, built in {time.perf_counter() - t:.2f} s"
    best = float("inf")
    rows = 0
    for _ in range(args.repeat):
        t = time.perf_counter()
        df = wirelog.load(source).frames()
        best = min(best, time.perf_counter() - t)
        rows = len(df)
    print(f"input: {what}")
    print(f"load + frames(): {best:.2f} s best of {args.repeat} for {rows:,} frames")
    print(f"  {rows / best:,.0f} frames/s, {best / max(rows, 1) * 1e6:.1f} µs per frame")


if __name__ == "__main__":
    main()
