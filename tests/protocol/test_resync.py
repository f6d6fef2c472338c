"""Frame boundaries found again after a gap: frames serialized by the
websockets library pass the whole-frames check, and every way the check
can refuse is exercised on octets made from them."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from wirelog.protocol.frames import encode_frame
from wirelog.protocol.resync import min_header, whole_frames


def wire(opcode: Opcode, payload: bytes, *, mask: bool, fin: bool = True) -> bytes:
    return Frame(opcode, payload, fin=fin).serialize(mask=mask)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 1000, 70_000])
@pytest.mark.parametrize("mask", [True, False])
def test_frames_from_websockets_are_whole(size: int, mask: bool) -> None:
    one = wire(Opcode.BINARY, bytes(size), mask=mask)
    assert whole_frames(one, mask, 0)
    chain = one + wire(Opcode.PING, b"p", mask=mask) + wire(Opcode.CONT, b"x", mask=mask)
    assert whole_frames(chain, mask, 0)
    # Cut short, one octet too many, or the other sender's masking: refused.
    assert not whole_frames(one[:-1] if size else one[:1], mask, 0)
    assert not whole_frames(one + b"\x81", mask, 0)
    assert not whole_frames(one, not mask, 0)


def test_rsv_bits_only_when_negotiated() -> None:
    compressed = encode_frame(1, b"abc", rsv=4)
    assert whole_frames(compressed, False, 4)
    assert not whole_frames(compressed, False, 0)


@pytest.mark.parametrize(
    "octets",
    [
        b"",
        encode_frame(3, b"reserved opcode"),
        encode_frame(9, b"p" * 126),  # a control frame past 125 octets
        encode_frame(8, b"", fin=False),  # a fragmented control frame
        encode_frame(2, b"short", width=16),  # non-minimal 16-bit length
        encode_frame(2, b"short" * 30, width=64),  # non-minimal 64-bit length
        encode_frame(2, bytes(300))[:3],  # a 16-bit length cut
        encode_frame(2, bytes(70_000))[:6],  # a 64-bit length cut
    ],
)
def test_what_is_not_whole_frames(octets: bytes) -> None:
    assert not whole_frames(octets, False, 0)


def test_min_header_by_what_the_first_octets_say() -> None:
    assert min_header(b"\x81") == 2
    assert min_header(encode_frame(1, b"x")) == 2
    assert min_header(encode_frame(1, bytes(200))) == 4
    assert min_header(wire(Opcode.BINARY, bytes(70_000), mask=True)) == 14
