"""Live capture: dumpcap or tcpdump spawned, its capture read from a pipe.

``wirelog decode -i lo`` adds no capture code of its own: the capture tool
writes the file format to a pipe (dumpcap pcapng, tcpdump pcap, flushing
each packet), and the very reader every pipe goes through
(:mod:`wirelog.sources.pcap.streams`) reads it, so a live capture decodes
exactly as the same capture saved to a file would. The pipe is held under
the capture's name (``live:lo``) like a stream detection has read the
head of, so :func:`wirelog.pipeline.stream` takes that name as an input.

Stopping is the tool's own: after ``count`` packets (its ``-c``), after
``duration`` seconds (a timer sends it SIGINT), or on Ctrl-C, which is
forwarded to it instead of interrupting wirelog. Either way the tool writes
what it captured and closes the pipe, so the reader sees the end of a whole
capture: every packet decoded, every connection closed, nothing lost.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import IO, Any, cast

from wirelog.errors import InputError
from wirelog.sources.pcap.streams import Source, hold, pipe

#: Capture tools in the order they are tried.
TOOLS = ("dumpcap", "tcpdump")
#: Seconds to wait for the tool to start writing (interface opened) before
#: giving up with what it said.
START_TIMEOUT = 15.0
#: Seconds the tool gets to write its end after SIGINT before it is killed.
STOP_TIMEOUT = 5.0

_MAGICS = (b"\x0a\x0d\x0d\x0a", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """What to capture, and when to stop."""

    interface: str
    bpf: str | None = None
    """A capture filter (libpcap syntax), applied by the kernel."""
    count: int | None = None
    """Stop after this many packets."""
    duration: float | None = None
    """Stop after this many seconds."""
    tool: str | None = None
    """``dumpcap`` or ``tcpdump``; by default the first of :data:`TOOLS` found."""


def command(tool: str, opts: LiveOptions) -> list[str]:
    """The tool's command line: every packet whole (no snap length), no
    name resolution, each packet flushed to the pipe as it is captured."""
    if os.path.basename(tool) == "tcpdump":
        cmd = [tool, "-i", opts.interface, "-U", "-n", "-s", "0", "-w", "-"]
        if opts.count is not None:
            cmd += ["-c", str(opts.count)]
        return cmd + ([opts.bpf] if opts.bpf else [])
    cmd = [tool, "-q", "-n", "-i", opts.interface, "-w", "-"]
    if opts.count is not None:
        cmd += ["-c", str(opts.count)]
    return cmd + (["-f", opts.bpf] if opts.bpf else [])


def find_tool(opts: LiveOptions) -> str:
    """The capture tool to run, or an error naming what is missing."""
    names = (opts.tool,) if opts.tool else TOOLS
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise InputError(
        label(opts),
        f"no {' or '.join(names)} on PATH: live capture needs one (Debian: apt install "
        "wireshark-common for dumpcap, or tcpdump)",
    )


def label(opts: LiveOptions) -> str:
    """The name a live capture goes by as an input."""
    return f"live:{opts.interface}"


@contextlib.contextmanager
def capture(opts: LiveOptions, forward_sigint: bool = True) -> Iterator[str]:
    """Start the capture; yield the input name to read it by (through
    :func:`wirelog.pipeline.stream` or any consumer), stop the tool at the
    end. Raises :class:`~wirelog.errors.InputError` with the tool's own
    words when it cannot capture (no such interface, no permission).

    With ``forward_sigint`` (in the main thread), Ctrl-C stops the tool
    rather than wirelog, so that everything captured is still decoded."""
    name = label(opts)
    tool = find_tool(opts)
    # What the tool says goes to a file, read only if it fails: a pipe left
    # unread would stop a talkative tool once full.
    said = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        command(tool, opts),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=said,
        # Its own session: the terminal's Ctrl-C reaches wirelog only, which
        # passes it on once it is ready to read the end of the capture.
        start_new_session=True,
    )
    assert proc.stdout is not None
    stop = Stopper(proc, said)
    previous = stop.forward() if forward_sigint else None
    try:
        src = pipe(cast(Source, proc.stdout), proc.stdout.fileno())
        head = _start(name, tool, proc, src, said)
        hold(name, "pcapng" if head == _MAGICS[0] else "pcap", head, src)
        timer = None
        if opts.duration is not None:
            timer = threading.Timer(opts.duration, stop.stop)
            timer.daemon = True
            timer.start()
        try:
            yield name
        finally:
            if timer is not None:
                timer.cancel()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        stop.stop()
        stop.reap()


def _start(
    name: str, tool: str, proc: subprocess.Popen[bytes], src: Source, said: IO[bytes]
) -> bytes:
    """The capture's first four octets (its magic: the interface is open),
    or the tool's complaint when it exits first."""
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
        if not ready:
            raise InputError(name, f"{os.path.basename(tool)} wrote nothing in {START_TIMEOUT} s")
        head = src.read1(4)
        if head:
            break
        proc.wait(STOP_TIMEOUT)
        raise InputError(name, _complaint(tool, proc, said))
    while len(head) < 4:
        more = src.read1(4 - len(head))
        if not more:
            break
        head += more
    if head not in _MAGICS:
        raise InputError(name, f"{os.path.basename(tool)} wrote no capture ({head!r})")
    return head


def _complaint(tool: str, proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> str:
    """What the tool said when it could not capture, in one line."""
    stderr.seek(0)
    said = stderr.read(8192).decode("utf-8", "replace")
    lines = [
        ln.strip()
        for ln in said.splitlines()
        if ln.strip() and not ln.startswith(("Capturing on", "File:"))
    ]
    base = os.path.basename(tool)
    text = lines[0] if lines else f"exited with status {proc.returncode}"
    if not text.startswith(base):
        text = f"{base}: {text}"
    if "permission" in said.lower() or "not permitted" in said.lower():
        text += " (capturing needs root or the CAP_NET_RAW capability)"
    return text


class Stopper:
    """Ends the tool once (SIGINT: it writes its end and exits), from a
    timer, a signal handler or the end of the block."""

    def __init__(self, proc: subprocess.Popen[bytes], said: IO[bytes]) -> None:
        self.proc = proc
        self.said = said
        self._lock = threading.Lock()
        self._sent = False

    def stop(self) -> None:
        with self._lock:
            if self._sent or self.proc.poll() is not None:
                return
            self._sent = True
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)

    def forward(self) -> Any:
        """Make Ctrl-C stop the tool; returns the handler to restore."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()

        return signal.signal(signal.SIGINT, handler)

    def reap(self) -> None:
        proc = self.proc
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()
        self.said.close()
