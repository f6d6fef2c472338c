"""permessage-deflate (RFC 7692): context takeover, window bits, the
inflate limit, and what a broken window does to later messages."""

from __future__ import annotations

import os
import zlib

import pytest

from wirelog.model import DeflateParams, Direction, Frame, Message, Role, ViolationKind
from wirelog.protocol.deflate import Inflater
from wirelog.protocol.frames import decode_frames, encode_frame
from wirelog.protocol.messages import MessageAssembler

V = ViolationKind
RX = Direction.RX


def deflate(messages: list[bytes], takeover: bool, wbits: int = 15) -> list[bytes]:
    comp = zlib.compressobj(wbits=-wbits)
    out = []
    for m in messages:
        if not takeover:
            comp = zlib.compressobj(wbits=-wbits)
        data = comp.compress(m) + comp.flush(zlib.Z_SYNC_FLUSH)
        out.append(data[:-4])
    return out


def decode(wire: bytes, params: DeflateParams | None, **kw: int) -> list[Message]:
    asm = MessageAssembler(RX, Role.SERVER, params, **kw)
    out = []
    for f in decode_frames(wire, RX, Role.SERVER, allowed_rsv=4):
        if isinstance(f, Frame):
            out.extend(asm.add(f))
    out.extend(asm.eof())
    return [m for m in out if isinstance(m, Message)]


@pytest.mark.parametrize("takeover", [True, False])
def test_permessage_deflate(takeover: bool) -> None:
    texts = [b"hello hello hello", b"hello hello hello", b"x" * 1000]
    wire = b"".join(encode_frame(1, c, rsv=4) for c in deflate(texts, takeover))
    params = DeflateParams(server_no_context_takeover=not takeover)
    msgs = decode(wire, params)
    assert [m.data for m in msgs] == texts
    assert all(m.compressed and not m.violations for m in msgs)


def test_deflate_against_websockets_extension() -> None:
    from websockets.extensions.permessage_deflate import PerMessageDeflate
    from websockets.frames import Frame as WsFrame
    from websockets.frames import Opcode as WsOpcode

    ext = PerMessageDeflate(False, False, 15, 15)
    wire = b""
    sent = [b"alpha " * 50, b"beta " * 50, os.urandom(500)]
    for i, payload in enumerate(sent):
        op = WsOpcode.TEXT if i < 2 else WsOpcode.BINARY
        wire += WsFrame(op, payload).serialize(mask=False, extensions=[ext])
    assert [m.data for m in decode(wire, DeflateParams())] == sent


def test_fragmented_compressed_message() -> None:
    (c,) = deflate([b"split me " * 30], True)
    wire = encode_frame(1, c[:10], rsv=4, fin=False) + encode_frame(0, c[10:])
    (m,) = decode(wire, DeflateParams())
    assert m.data == b"split me " * 30 and m.frames == 2 and m.wire_length == len(c)


def test_small_window_bits() -> None:
    """An 8-bit window is inflated with 9 bits (zlib refuses 8 for raw
    streams, and 9 reads everything 8 wrote)."""
    texts = [b"abcdefgh" * 40, b"abcdefgh" * 41]
    wire = b"".join(encode_frame(1, c, rsv=4) for c in deflate(texts, True, wbits=9))
    params = DeflateParams(server_max_window_bits=8)
    assert [m.data for m in decode(wire, params)] == texts


def test_inflate_limit_stops_a_bomb() -> None:
    (bomb,) = deflate([b"\x00" * (4 * 1024 * 1024)], True)
    (m,) = decode(encode_frame(2, bomb, rsv=4), DeflateParams(), inflate_limit=1024)
    assert len(m.data) == 1024 and V.INFLATE_LIMIT in m.violations and not m.complete


def test_a_broken_window_spoils_later_messages_only_with_takeover() -> None:
    texts = [b"first " * 20, b"second " * 20, b"third " * 20]
    for takeover in (True, False):
        parts = deflate(texts, takeover)
        parts[0] = b"\xff\xff" + parts[0]  # corrupt
        wire = b"".join(encode_frame(1, c, rsv=4) for c in parts)
        params = DeflateParams(server_no_context_takeover=not takeover)
        msgs = decode(wire, params)
        assert msgs[0].violations == (V.INFLATE_ERROR,) and msgs[0].data == b""
        if takeover:
            assert [m.violations for m in msgs[1:]] == [(V.INFLATE_ERROR,)] * 2
        else:
            assert [m.data for m in msgs[1:]] == texts[1:]


def test_a_cut_compressed_message_breaks_a_shared_window() -> None:
    parts = deflate([b"one " * 50, b"two " * 50], True)
    inflater = Inflater(DeflateParams(), Role.SERVER)
    found: list[ViolationKind] = []
    data, whole = inflater.inflate(parts[0][:-3], False, found)
    assert not whole and inflater.broken and found == []
    assert data.startswith(b"one ")
    assert inflater.inflate(parts[1], True, found) == (b"", False)
    assert found == [V.INFLATE_ERROR]


def test_no_agreement_means_no_inflation() -> None:
    (m,) = decode(encode_frame(1, b"plain", rsv=4), None)
    assert not m.compressed and m.data == b"plain"
