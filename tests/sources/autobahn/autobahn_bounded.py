"""Reading an input in a fresh interpreter that must end in time.

A regex gone quadratic holds the GIL, so a thread cannot time it out; a
subprocess can be killed. ``decode_within`` fails the test (via
``subprocess.TimeoutExpired``) when the read takes longer than ``seconds``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# Peak memory is the child's own VmHWM: ru_maxrss would also count what the
# (large) test runner held when it forked the child.
_CODE = """
import sys
from wirelog.errors import WirelogError
from wirelog.pipeline import decode
decoded = None
try:
    decoded = decode(sys.argv[1])
    print("ok", sum(len(dc.frames) for dc in decoded), sum(len(dc.messages) for dc in decoded))
except WirelogError as exc:
    print(exc)
with open("/proc/self/status") as fh:
    hwm = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
print(hwm // 1024)
sys.exit(2 if decoded is None else 0)
"""


def decode_within(path: str, seconds: float = 10.0) -> tuple[int, str, int]:
    """Exit status, the one line printed (the error, or ``ok``, the number
    of frames and of messages decoded) and the peak RSS in MB."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", _CODE, path],
        capture_output=True,
        text=True,
        timeout=seconds,
        env=env,
        check=False,
    )
    assert proc.stderr == "", proc.stderr[-2000:]
    line, peak = proc.stdout.strip().split("\n")
    return proc.returncode, line, int(peak)
