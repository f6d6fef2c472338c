"""The hex text of payloads (the lines' ``payload`` and ``data`` cells).

``bytes.hex`` writes one digit at a time: about 14 instructions an octet,
and the large payloads of a capture are most of its octets. numpy's
vectorised integer operations make the same text in about 6 an octet plus
about 35,000 a call, so between :data:`NUMPY_FROM` and :data:`NUMPY_UPTO`
octets they win (measured: 0.58 of the instructions and of the time at
64 KiB; in time, best of 7, numpy took 1.20 of ``bytes.hex`` at 8 KiB,
1.02 at 16 KiB, 0.71 at 30,000 octets and 0.60 at 64 KiB, so the
threshold is where time, not instructions, says numpy wins). Beyond,
numpy's fresh scratch arrays cost page faults each call
(three times ``bytes.hex``'s time at 128 KiB on this project's machines),
so the text is ``bytes.hex``'s again. numpy is used only when something
else imported it (the unmasking of large payloads does, see
:mod:`wirelog.protocol.masking`): importing it for this alone costs more
than it saves. Both ways give the same text (tests compare them).
"""

from __future__ import annotations

import sys
from typing import Any

NUMPY_FROM = 20_000
NUMPY_UPTO = 1 << 16

#: numpy's constants, made at the first call (uint16 zero-dimensional
#: arrays: a Python int operand costs a type resolution per operation).
_K: list[Any] = []


def hex_text(data: bytes) -> str:
    """``data.hex()``, by numpy for sizes where that is faster."""
    n = len(data)
    if n < NUMPY_FROM or n > NUMPY_UPTO or "numpy" not in sys.modules:
        return data.hex()
    return _hex_numpy(data)


def _hex_numpy(data: bytes) -> str:
    import numpy as np

    if not _K:
        _K.extend(np.array(k, np.uint16) for k in (0x1001, 4, 0x0606, 0x0101, 39, 0x3030))
    spread, four, six, ones, gap, zero = _K
    # Each octet ``hi << 4 | lo`` becomes a little-endian uint16 holding
    # ``hi`` in its first byte and ``lo`` in its second: times 0x1001 puts
    # ``lo`` in the top nibble (the product wraps), then a shift by 4.
    w = np.frombuffer(data, np.uint8).astype(np.uint16)
    np.multiply(w, spread, out=w)
    np.right_shift(w, four, out=w)
    # A nibble of 10 or more (it carries into bit 4 when 6 is added) gets
    # 39 more than ``"0" + nibble``: ``"a"`` is ``"0" + 10 + 39``.
    t = np.add(w, six)
    np.right_shift(t, four, out=t)
    np.bitwise_and(t, ones, out=t)
    np.multiply(t, gap, out=t)
    np.add(w, t, out=w)
    np.add(w, zero, out=w)
    return str(w.data, "ascii")  # from the array's buffer: no copy to bytes first
