"""Decoder speed in frames/s, beside the anchor: the ``websockets`` library's
own frame parser on the same bytes.

Not a test: run it and read the figures side by side.

    .venv/bin/python benchmarks/bench_decoder.py [--frames N]

It says which build it measured: the pure-Python modules, or the ones
compiled with mypyc (``.ci/speedups DIR``, then run with
``PYTHONSAFEPATH=1 PYTHONPATH=DIR``).

Three workloads, each one byte stream fed in 1460-byte pieces (a typical
TCP segment): small masked text frames (chat-like), 4 KiB binary frames,
and a fragmented stream with interleaved pings. wirelog decodes frames and
joins messages (UTF-8 checked); websockets parses frames with
``Frame.parse`` over the whole stream at once (its best case: no resuming
across segment boundaries, no message layer), so wirelog does strictly more
work per frame.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from wirelog.model import Direction, Frame, Role
from wirelog.protocol import frames
from wirelog.protocol.frames import FrameDecoder, encode_frame
from wirelog.protocol.messages import MessageAssembler

MASK = b"\x37\xfa\x21\x3d"


def workload(name: str, n: int) -> bytes:
    if name == "small-text":
        one = encode_frame(1, b"hello, world! " * 3, mask=MASK)
        return one * n
    if name == "binary-4k":
        return encode_frame(2, os.urandom(4096), mask=MASK) * n
    parts = []
    for i in range(n // 3):
        parts.append(encode_frame(1, b"part-one", fin=False, mask=MASK))
        parts.append(encode_frame(9, b"ping %d" % i, mask=MASK))
        parts.append(encode_frame(0, b"part-two", mask=MASK))
    return b"".join(parts)


def pieces(data: bytes, size: int = 1460) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def run_wirelog(chunks: list[bytes]) -> int:
    dec = FrameDecoder(Direction.TX, Role.CLIENT)
    asm = MessageAssembler(Direction.TX, Role.CLIENT)
    count = 0
    for c in chunks:
        for ev in dec.feed(c):
            if isinstance(ev, Frame):
                count += 1
                asm.add(ev)
    return count


def run_websockets_whole(data: bytes) -> int:
    """websockets' parser over the whole stream at once (its best case)."""
    from websockets.frames import Frame as WsFrame
    from websockets.streams import StreamReader

    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    count = 0
    while reader.buffer:
        gen = WsFrame.parse(reader.read_exact, mask=True, extensions=[])
        try:
            next(gen)
        except StopIteration:
            count += 1
    return count


def timed(fn: Callable[[], int]) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = fn()
    return n, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=200_000)
    args = ap.parse_args()
    where = frames.__file__ or ""
    build = "pure Python" if where.endswith(".py") else "compiled (mypyc)"
    print(f"wirelog build: {build}, {where}")
    print(f"{'workload':<14} {'frames':>8} {'wirelog f/s':>14} {'websockets f/s':>16} {'ratio':>7}")
    for name in ("small-text", "binary-4k", "fragmented"):
        n = args.frames if name != "binary-4k" else args.frames // 4
        data = workload(name, n)
        chunks = pieces(data)
        got, t_wl = timed(lambda: run_wirelog(chunks))  # noqa: B023
        ref, t_ws = timed(lambda: run_websockets_whole(data))  # noqa: B023
        assert got == ref, (name, got, ref)
        print(f"{name:<14} {got:>8} {got / t_wl:>14,.0f} {ref / t_ws:>16,.0f} {t_ws / t_wl:>6.2f}x")


if __name__ == "__main__":
    main()
