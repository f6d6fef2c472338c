"""Masking (RFC 6455 §5.3): both code paths, every tail length."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from wirelog.protocol import masking
from wirelog.protocol.masking import NUMPY_FROM, unmask


def bytewise(data: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 125, 1001, 1023, 1024, 1025, 1027, 70001])
def test_unmask_matches_bytewise_xor(size: int) -> None:
    data = os.urandom(size)
    mask = b"\x01\x02\x03\xfe"
    assert unmask(data, mask) == bytewise(data, mask)
    assert unmask(unmask(data, mask), mask) == data


def test_the_two_paths_agree_at_any_size() -> None:
    mask = os.urandom(4)
    for size in range(1, 40):
        data = os.urandom(size)
        assert masking._unmask_numpy(data, mask) == bytewise(data, mask)
    data = os.urandom(NUMPY_FROM - 1)
    assert unmask(data, mask) == masking._unmask_numpy(data, mask)


def test_numpy_is_imported_only_once_it_pays() -> None:
    """A small capture's large frames go the big-int way (numpy's import
    costs more than they do); past :data:`NUMPY_AFTER` octets numpy takes
    over, with the same octets. A fresh process: this one may hold numpy."""
    code = (
        "import os, sys\n"
        "from wirelog.protocol.masking import NUMPY_AFTER, NUMPY_FROM, unmask\n"
        "def bytewise(d, m): return bytes(b ^ m[i % 4] for i, b in enumerate(d))\n"
        "mask = os.urandom(4)\n"
        "data = os.urandom(70001)\n"
        "assert unmask(data, mask) == bytewise(data, mask)\n"
        "assert 'numpy' not in sys.modules, 'numpy imported for one frame'\n"
        "for _ in range(NUMPY_AFTER // len(data) + 1): unmask(data, mask)\n"
        "assert 'numpy' in sys.modules, 'numpy never imported'\n"
        "assert unmask(data, mask) == bytewise(data, mask)\n"
        "big = os.urandom(1 << 20)\n"
        "assert unmask(big, mask) == bytewise(big, mask)\n"
        "print('ok')\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout == "ok\n", p.stderr


def test_a_megabyte_payload_takes_numpy_at_once() -> None:
    code = (
        "import os, sys\n"
        "from wirelog.protocol.masking import NUMPY_NOW, unmask\n"
        "data, mask = os.urandom(NUMPY_NOW), os.urandom(4)\n"
        "out = unmask(data, mask)\n"
        "assert 'numpy' in sys.modules\n"
        "assert unmask(out, mask) == data\n"
        "print('ok')\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout == "ok\n", p.stderr
