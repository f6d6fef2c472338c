"""The payload cells' hex text: numpy's way gives ``bytes.hex``'s text for
every octet value, every size around the bounds, and is not taken unless
numpy is imported already."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy  # noqa: F401  (imported, as the unmasking of large payloads does)
import pytest

from wirelog.outputs import hexcells
from wirelog.outputs.hexcells import NUMPY_FROM, NUMPY_UPTO, hex_text

SIZES = [0, 1, 15, NUMPY_FROM - 1, NUMPY_FROM, NUMPY_FROM + 1, 30001, NUMPY_UPTO, NUMPY_UPTO + 1]


@pytest.mark.parametrize("size", SIZES)
def test_the_text_is_bytes_hex(size: int) -> None:
    rng = random.Random(size)
    for data in (rng.randbytes(size), (bytes(range(256)) * (size // 256 + 1))[:size]):
        assert hex_text(data) == data.hex()
        if size:  # numpy's way itself, whatever the size
            assert hexcells._hex_numpy(data) == data.hex()


def test_numpy_is_never_imported_for_it() -> None:
    code = (
        "import sys; from wirelog.outputs.hexcells import hex_text; "
        "d = bytes(range(256)) * 100; assert hex_text(d) == d.hex(); "
        "assert 'numpy' not in sys.modules, 'numpy imported'"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
