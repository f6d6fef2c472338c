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
_CODE = """
import sys
from wirelog.errors import WirelogError
from wirelog.pipeline import decode
try:
    decoded = decode(sys.argv[1])
except WirelogError as exc:
    print(exc)
    sys.exit(2)
print("ok", sum(len(dc.frames) for dc in decoded), sum(len(dc.messages) for dc in decoded))
"""


def decode_within(path: str, seconds: float = 10.0) -> tuple[int, str]:
    """Exit status and the one line printed: the error, or ``ok``, the
    number of frames and of messages decoded."""
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
    return proc.returncode, proc.stdout.strip()
