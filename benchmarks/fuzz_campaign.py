"""Long fuzz runs against wirelog's parsers (issue 11), a finding per failure.

Not a test: ``tests/fuzz/`` holds the bounded properties CI runs; this runs
for as long as you give it and prints what it found::

    nice .venv/bin/python benchmarks/fuzz_campaign.py --minutes 15 [--targets a,b] [--jobs 2]

Each target is a parser's public entry point fed mutated seeds (random
byte edits, splices, hostile numbers and markup tokens, and for JSON
structured edits of the parsed document). Only :class:`~wirelog.errors.WirelogError`
may come out; anything else is a failure, keyed by exception type and the
innermost frame that raised it, and its first input is saved under
``--out``. Every target runs in a worker subprocess with an address-space
limit (``--memory-mb``) and a heartbeat: a worker silent for
``--hang-seconds`` is killed and its current input saved as a hang, one that
runs out of memory is a ``MemoryError`` finding, and the campaign goes on.

Add a parser by adding a :class:`Target` to :data:`TARGETS`. ``--rerun DIR``
feeds every input a campaign saved in ``DIR`` to its target again (after a
fix) and prints what each does now. Campaigns run in parts (another
``--seed`` and ``--out`` each) add up: each part's ``summary.json`` counts
its own inputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fuzz_mutate import mutate  # noqa: E402

from wirelog.errors import WirelogError  # noqa: E402

REPORTS = ROOT.parent / "shared" / "autobahn-reports"
SAMPLES = ROOT / "samples"
SLOW_SECONDS = 3.0
"""An input that takes more CPU time than this (but ends) is a ``slow``
finding; CPU, not wall time, so that a loaded machine finds nothing."""


# -- targets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A parser entry point: ``run(data, path)`` with ``data`` already
    written to ``path`` (for readers that take a file)."""

    seeds: Callable[[], list[bytes]]
    run: Callable[[bytes, str], None]
    suffix: str = ".bin"
    tokens: tuple[bytes, ...] = ()
    json_aware: bool = False
    memory_mb: int = 0
    """The least address space its worker gets: pandas, pyarrow and
    matplotlib map gigabytes they never touch (a limit of 1,500 MB made
    MemoryErrors out of nothing at 200 MB RSS)."""


def _files(pattern: str, limit: int, folder: Path = REPORTS) -> list[bytes]:
    paths = sorted(folder.glob(pattern), key=lambda p: (p.stat().st_size, p.name))
    step = max(1, len(paths) // limit)
    return [p.read_bytes() for p in paths[::step][:limit]]


def _decode_file(_: bytes, path: str) -> None:
    from wirelog.pipeline import decode

    decode(path)


def _compressed_seeds() -> list[bytes]:
    """The sample captures in each compressed format wirelog reads (the
    mutations land in the compressed octets: headers, block sizes, checksums)."""
    import bz2
    import gzip
    import lzma

    import lz4.frame

    from wirelog.sources.pcap.inflate import _zstd_module

    zstd = _zstd_module()
    packs = (gzip.compress, zstd.compress, lz4.frame.compress, lzma.compress, bz2.compress)
    plain = [p.read_bytes() for p in sorted(SAMPLES.glob("*.pcap"))[:3]]
    return [pack(p) for p in plain for pack in packs]


def _commands(_: bytes, path: str) -> None:
    """What ``check``, ``stats`` and ``report`` (text and html) call."""
    from wirelog.analysis.loaded import Capture
    from wirelog.outputs.statsview import connection_stats
    from wirelog.problems import problems
    from wirelog.sources.options import Options

    list(problems(path, Options()))
    list(connection_stats(path, Options()))
    cap = Capture([path], Options())
    if cap.decoded():
        cap.report(fmt="text")
        cap.report(fmt="html")


def _views(_: bytes, path: str) -> None:
    """What ``conns`` and ``follow`` call: the streamed summaries, and the
    conversation of each connection (the first three) as it streams."""
    from wirelog.analysis.conns import counted
    from wirelog.analysis.follow import conversations
    from wirelog.sources.options import Options

    got, _error = counted(path)
    for s in got[:3]:
        for _text in conversations(path, Options(conns=(s.connection.conn,)), 64):
            pass


def _plots(_: bytes, path: str) -> None:
    """What ``plot`` calls: the streamed pass (plotdata) and every drawing,
    the ladder of the first connection with its marks (not rendered)."""
    import matplotlib

    matplotlib.use("Agg")
    from wirelog.analysis import ladder, plotdata, plots
    from wirelog.sources.options import Options

    data = plotdata.collect(path, Options(), ("chops", "frames", "messages"), None)
    for kind, (table, draw) in plots.KINDS.items():
        if kind != "ladder":
            draw(data.tables[table])
    for c, kept in data.ladders.items():
        frames, places = kept.frames(data.starts)
        ladder.ladder(frames, conn=c, marks=kept.marks(None), numbers=places, total=kept.total)


def _tables(_: bytes, path: str) -> None:
    """What ``sql``, ``decode --where`` and ``export`` build: every table a
    batch at a time (:class:`~wirelog.analysis.batches.Batches`), then the
    connections and violations, and each as Arrow in the declared schema."""
    from wirelog.analysis import table
    from wirelog.analysis.batches import Batches
    from wirelog.sources.options import Options

    batches = Batches([path], Options())
    for got in batches.events():
        for level, df in got.items():
            table.arrow_table(df, level)
    for level, df in batches.tail().items():
        table.arrow_table(df, level)


def _handshake(data: bytes, _: str) -> None:
    from wirelog.protocol.handshake import parse_handshake

    request, sep, response = data.partition(b"\r\n\r\n")
    parse_handshake(request + sep, response or None)


def _deflate_params(data: bytes, _: str) -> None:
    from wirelog.protocol.handshake import deflate_params, parse_extensions

    text = data.decode("latin-1")
    parse_extensions(text)
    deflate_params(text)


def _frames(data: bytes, _: str) -> None:
    from wirelog.model import DeflateParams, Direction, Role
    from wirelog.protocol.connection import ConnectionDecoder

    dec = ConnectionDecoder(Role.CLIENT, handshake=False, deflate=DeflateParams())
    cut = len(data) // 3
    for direction, piece in ((Direction.RX, data[:cut]), (Direction.RX, data[cut:])):
        dec.feed(direction, piece)
    dec.feed(Direction.TX, data[::-1][:64])
    dec.finish()


def _httpwatch(data: bytes, _: str) -> None:
    from wirelog.sources.pcap.httpwatch import HttpWatch
    from wirelog.sources.pcap.tcp import DATA

    for response in (False, True):
        watch = HttpWatch(response)
        for start in range(0, len(data), 700):
            piece = data[start : start + 700]
            watch.feed((DATA, piece, len(piece), 0.0, 0))


def _frame_seeds() -> list[bytes]:
    from wirelog.protocol.frames import encode_frame

    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = deflater.compress(b"hello " * 50) + deflater.flush(zlib.Z_SYNC_FLUSH)
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bomb.compress(bytes(1 << 20)) + bomb.flush(zlib.Z_SYNC_FLUSH)
    return [
        encode_frame(1, b"Hello, world!") + encode_frame(9, b"ping") + encode_frame(8, b"\x03\xe8"),
        encode_frame(1, b"part", fin=False)
        + encode_frame(0, b" two")
        + encode_frame(2, bytes(300)),
        encode_frame(1, packed[:-4], rsv=4) + encode_frame(1, zeros[:-4], rsv=4),
        encode_frame(2, bytes(70000)),
    ]


def _head_seeds() -> list[bytes]:
    return [
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n\r\n",
    ]


def _http_seeds() -> list[bytes]:
    upgrade = _head_seeds()[0].partition(b"\r\n\r\n")
    return [
        b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + upgrade[0] + upgrade[1],
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n" + upgrade[2],
    ]


HTML_TOKENS = (b'<pre class="wirelog_rx_octets">', b"</pre>", b"<tr>", b"</tr>", b"<td>")
HTML_TOKENS += (b"</td>", b"<", b">", b"</table>", b'<p class="case', b"</html>")
TEXT_TOKENS = (b"Total", b"Chop Size", b"9" * 3000, b"\n", b"000 ", b"TX FRAME : ")
JSON_TOKENS = (b"Infinity", b"NaN", b"1e999", b"9" * 5000, b"[" * 5000, b"null", b"-1")
HEAD_TOKENS = (b"\r\n", b"\r\n\r\n", b"=16", b"=100", b"=100000000000000000000", b"\xb9")
HEAD_TOKENS += (b"Content-Length: -40\r\n", b"Transfer-Encoding: chunked\r\n", b";", b",")

TARGETS: dict[str, Target] = {
    "autobahn-json": Target(
        lambda: _files("*/*_case_[1-7]_*.json", 24), _decode_file, ".json", JSON_TOKENS, True
    ),
    "autobahn-commands": Target(
        lambda: _files("*/*_case_[1-7]_*.json", 12), _commands, ".json", JSON_TOKENS, True
    ),
    "autobahn-html": Target(
        lambda: _files("*/*_case_*.html", 16), _decode_file, ".html", HTML_TOKENS
    ),
    "autobahn-text": Target(
        lambda: [(SAMPLES / "autobahnpython_case_2_2.txt").read_bytes()],
        _decode_file,
        ".txt",
        TEXT_TOKENS,
    ),
    "capture": Target(lambda: _files("*.pcap*", 8, SAMPLES), _decode_file, ".pcap"),
    "compressed": Target(_compressed_seeds, _decode_file, ".pcap.z"),
    "capture-views": Target(lambda: _files("*.pcap*", 8, SAMPLES), _views, ".pcap"),
    "autobahn-views": Target(
        lambda: _files("*/*_case_[1-7]_*.json", 12), _views, ".json", JSON_TOKENS, True
    ),
    "capture-plots": Target(lambda: _files("*.pcap*", 8, SAMPLES), _plots, ".pcap", memory_mb=6000),
    "autobahn-plots": Target(
        lambda: _files("*/*_case_[1-7]_*.json", 12), _plots, ".json", JSON_TOKENS, True, 6000
    ),
    "capture-tables": Target(
        lambda: _files("*.pcap*", 8, SAMPLES), _tables, ".pcap", memory_mb=6000
    ),
    "autobahn-tables": Target(
        lambda: _files("*/*_case_[1-7]_*.json", 12), _tables, ".json", JSON_TOKENS, True, 6000
    ),
    "handshake": Target(_head_seeds, _handshake, ".txt", HEAD_TOKENS),
    "deflate-params": Target(
        lambda: [b"permessage-deflate; server_max_window_bits=10; client_no_context_takeover"],
        _deflate_params,
        ".txt",
        HEAD_TOKENS,
    ),
    "http-watch": Target(_http_seeds, _httpwatch, ".txt", HEAD_TOKENS),
    "frame-decoder": Target(_frame_seeds, _frames),
}


# -- the worker ---------------------------------------------------------------------


def _kind(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "wirelog" in f.filename] or frames
    last = ours[-1] if ours else None
    where = f"{Path(last.filename).name}:{last.lineno} {last.name}" if last else "?"
    return f"{type(exc).__name__} at {where}"


def worker(name: str, seconds: float, seed: int, out: Path, memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    target = TARGETS[name]
    seeds = target.seeds()
    rng = random.Random(seed)
    current = out / f"{name}.current{target.suffix}"
    tried = 0
    kinds: Counter[str] = Counter()
    end = time.monotonic() + seconds
    beat = 0.0

    def report(final: bool = False) -> None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        line = {"tried": tried, "kinds": kinds, "peak_kb": peak, "final": final}
        print(json.dumps(line), flush=True)

    while time.monotonic() < end:
        base = rng.choice(seeds)
        data = base if tried < len(seeds) else mutate(rng, base, seeds, target)
        current.write_bytes(data)
        started = time.process_time()
        try:
            target.run(data, str(current))
        except WirelogError:
            pass
        except (Exception, RecursionError, MemoryError) as exc:  # the findings
            kind = _kind(exc)
            if not kinds[kind]:
                digest = hashlib.sha1(kind.encode()).hexdigest()[:10]
                (out / f"{name}-{digest}{target.suffix}").write_bytes(data)
                (out / f"{name}-{digest}.trace").write_text(kind + "\n" + traceback.format_exc())
            kinds[kind] += 1
        took = time.process_time() - started
        if took > SLOW_SECONDS:
            digest = hashlib.sha1(data).hexdigest()[:10]
            (out / f"{name}-slow-{digest}{target.suffix}").write_bytes(data)
            kinds[f"slow (over {SLOW_SECONDS:.0f} s)"] += 1
        tried += 1
        if time.monotonic() - beat > 1.0:
            beat = time.monotonic()
            report()
    report(final=True)


# -- the campaign -------------------------------------------------------------------


@dataclass
class Tally:
    tried: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    peak_kb: int = 0
    workers: int = 0


def run_target(name: str, seconds: float, args: argparse.Namespace, seed: int) -> Tally:
    """Workers for ``seconds``; a silent or dead worker is a finding and is replaced."""
    tally = Tally()
    end = time.monotonic() + seconds
    suffix = TARGETS[name].suffix
    while time.monotonic() < end - 1:
        tally.workers += 1
        cmd = [sys.executable, __file__, "--worker", name, "--out", str(args.out)]
        cmd += ["--seconds", f"{end - time.monotonic():.1f}", "--seed", str(seed + tally.workers)]
        cmd += ["--memory-mb", str(max(args.memory_mb, TARGETS[name].memory_mb))]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        last: dict[str, Any] = {"tried": 0, "kinds": {}, "peak_kb": 0}
        heard = time.monotonic()
        done = False
        partial = b""
        while not done:
            time.sleep(0.2)
            # A non-blocking read may end inside a line: keep the part for later.
            *lines, partial = (partial + _read_ready(proc.stdout.fileno())).split(b"\n")
            for line in lines:
                last, heard = json.loads(line), time.monotonic()
                done = last["final"]
            if proc.poll() is not None:
                break
            if time.monotonic() - heard > args.hang_seconds:
                proc.kill()
                tally.kinds[f"hang (silent {args.hang_seconds:.0f} s)"] += 1
                _keep(args.out, name, suffix, "hang")
                break
        _, status, usage = os.wait4(proc.pid, 0) if proc.returncode is None else (0, 0, None)
        rc = proc.returncode if proc.returncode is not None else os.waitstatus_to_exitcode(status)
        if not done and rc not in (0, -9):
            tally.kinds[f"worker died (exit {rc})"] += 1
            _keep(args.out, name, suffix, "died")
        tally.tried += int(last["tried"]) + (0 if done else 1)
        tally.kinds.update(last["kinds"])
        peak = max(int(last["peak_kb"]), usage.ru_maxrss if usage else 0)
        tally.peak_kb = max(tally.peak_kb, peak)
    return tally


def _read_ready(fd: int) -> bytes:
    """What a non-blocking pipe holds now (possibly ending inside a line)."""
    got = b""
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return got
        if not data:
            return got
        got += data


def _keep(out: Path, name: str, suffix: str, why: str) -> None:
    current = out / f"{name}.current{suffix}"
    if current.exists():
        digest = hashlib.sha1(current.read_bytes()).hexdigest()[:10]
        current.rename(out / f"{name}-{why}-{digest}{suffix}")


def rerun(folder: Path) -> None:
    """Each saved input (``NAME-DIGEST.SUFFIX``, hangs and slow ones too)
    through its target again: ``ok``, a WirelogError, or what still escapes."""
    for path in sorted(folder.iterdir()):
        name = next((n for n in TARGETS if path.name.startswith(n + "-")), None)
        if name is None or path.suffix != TARGETS[name].suffix:
            continue
        started = time.process_time()
        try:
            TARGETS[name].run(path.read_bytes(), str(path))
            said = "ok"
        except WirelogError as exc:
            said = f"WirelogError: {str(exc)[:90]}"
        except (Exception, RecursionError, MemoryError) as exc:
            said = f"STILL FAILS: {_kind(exc)}"
        print(f"{path.name:42} {time.process_time() - started:6.2f} s  {said}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="total, split over targets")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    ap.add_argument("--memory-mb", type=int, default=1500)
    ap.add_argument("--hang-seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1, help="targets run at the same time")
    ap.add_argument("--rerun", type=Path, help="feed a campaign's saved inputs again")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rerun:
        rerun(args.rerun)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        worker(args.worker, args.seconds, args.seed, args.out, args.memory_mb)
        return
    names = [n for n in args.targets.split(",") if n]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        ap.error(f"unknown targets {unknown}; known: {', '.join(TARGETS)}")
    # ``--jobs`` targets at a time, each in its own worker process.
    jobs = max(1, min(args.jobs, len(names)))
    share = args.minutes * 60 / -(-len(names) // jobs)  # in ceil(targets / jobs) rounds
    summary: dict[str, Any] = {}

    def one(i: int, name: str) -> None:
        t = run_target(name, share, args, args.seed * 1000 + i * 100)
        failures = sum(t.kinds.values())
        lines = [
            f"{name:16} {t.tried:8} inputs  {failures:5} failures  peak RSS {t.peak_kb // 1024} MB"
        ]
        lines += [f"    {n:6}  {kind}" for kind, n in t.kinds.most_common()]
        with lock:
            summary[name] = {
                "tried": t.tried,
                "kinds": dict(t.kinds),
                "peak_rss_mb": t.peak_kb // 1024,
            }
            print("\n".join(lines), flush=True)
            # Written after each target: a campaign stopped early keeps what it finished.
            (args.out / "summary.json").write_text(json.dumps(summary, indent=1))

    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in [pool.submit(one, i, name) for i, name in enumerate(names)]:
            future.result()


if __name__ == "__main__":
    main()
