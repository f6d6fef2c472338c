"""Masking (RFC 6455 §5.3): both code paths, every tail length."""

from __future__ import annotations

import os

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
