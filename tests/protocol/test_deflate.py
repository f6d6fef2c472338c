"""permessage-deflate (RFC 7692): context takeover, window bits, the
inflate limit, and what a broken window does to later messages."""

from __future__ import annotations

import os
import zlib

import pytest

from wirelog.model import DeflateParams, Direction, Frame, Message, Role, ViolationKind
from wirelog.protocol.deflate import DRAIN_BUDGET, Inflater
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
    (m,) = decode(encode_frame(2, bomb, rsv=4), DeflateParams(), limit=1024)
    assert len(m.data) == 1024 and V.INFLATE_LIMIT in m.violations and not m.complete


@pytest.mark.parametrize("takeover", [True, False])
def test_after_a_bomb_the_next_messages_inflate(takeover: bool) -> None:
    """Past the limit the rest of a message is inflated and dropped when the
    window is shared (the next message refers back into it), and skipped
    when it is not; either way later messages come out whole."""
    texts = [b"x" * 5000, os.urandom(3000), b"after after after" * 40, b"y" * 6000]
    parts = deflate(texts, takeover)
    wire = encode_frame(2, parts[0], rsv=4)
    # The second message in three fragments, the third references the second's window.
    third = len(parts[1]) // 3
    wire += encode_frame(2, parts[1][:third], rsv=4, fin=False)
    wire += encode_frame(0, parts[1][third : 2 * third], fin=False)
    wire += encode_frame(0, parts[1][2 * third :])
    wire += b"".join(encode_frame(1, c, rsv=4) for c in parts[2:])
    params = DeflateParams(server_no_context_takeover=not takeover)
    msgs = decode(wire, params, limit=2000)
    assert [m.data for m in msgs] == [
        texts[0][:2000],
        texts[1][:2000],
        texts[2][:2000],
        texts[3][:2000],
    ]
    limited = (V.INFLATE_LIMIT,)
    assert [m.violations for m in msgs] == [limited, limited, (), limited]
    assert [m.complete for m in msgs] == [False, False, True, False]
    msgs = decode(wire, params, limit=6000)
    assert [m.data for m in msgs] == texts and all(m.complete for m in msgs)


def test_a_message_that_inflates_to_the_limit_is_whole() -> None:
    parts = deflate([b"z" * 1000, b"z" * 1001], True)
    wire = b"".join(encode_frame(2, c, rsv=4) for c in parts)
    first, second = decode(wire, DeflateParams(), limit=1000)
    assert first.complete and first.data == b"z" * 1000 and not first.violations
    assert not second.complete and second.violations == (V.INFLATE_LIMIT,)


def test_a_fragmented_bomb_costs_the_limit() -> None:
    """64 MiB of zeros in 64 compressed fragments, in a shared window: what
    is kept is the limit, the rest is inflated a block at a time and
    dropped, and the next message inflates in step."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = z.compress(bytes(1 << 20)) + z.flush(zlib.Z_FULL_FLUSH)
    frames = [encode_frame(2, piece, rsv=4, fin=False)]
    frames += [encode_frame(0, piece, fin=False)] * 62 + [encode_frame(0, piece[:-4])]
    after = z.compress(b"next " * 9) + z.flush(zlib.Z_SYNC_FLUSH)
    wire = b"".join(frames) + encode_frame(1, after[:-4], rsv=4)
    bomb, nxt = decode(wire, DeflateParams(), limit=1 << 16)
    assert bomb.data == bytes(1 << 16) and bomb.frames == 64 and not bomb.complete
    assert bomb.violations == (V.INFLATE_LIMIT,) and bomb.wire_length == 64 * len(piece) - 4
    assert nxt.text == "next " * 9 and nxt.complete and not nxt.violations


def test_inflater_streams_frame_by_frame() -> None:
    (c,) = deflate([b"stream " * 400], True)
    inflater = Inflater(DeflateParams(), Role.SERVER, limit=100)
    inflater.start()
    for i in range(0, len(c), 7):
        inflater.feed(c[i : i + 7])
        assert not inflater.over or inflater.total >= 100
    found: list[ViolationKind] = []
    data, whole = inflater.finish(True, found)
    assert data == (b"stream " * 400)[:100] and not whole and found == [V.INFLATE_LIMIT]
    # The rest was inflated to keep the window: its length is known.
    assert inflater.total == 2800 and not inflater.broken


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


def test_fragments_after_the_limit_is_reached_exactly() -> None:
    """A fragment that fills the limit to the octet, then one that adds
    more: the second must not inflate without a bound (zlib reads a
    ``max_length`` of 0 as none)."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = z.compress(b"a" * 1000) + z.flush(zlib.Z_SYNC_FLUSH)
    second = z.compress(b"b" * 50_000) + z.flush(zlib.Z_SYNC_FLUSH)
    wire = encode_frame(2, first, rsv=4, fin=False) + encode_frame(0, second[:-4])
    (m,) = decode(wire, DeflateParams(), limit=1000)
    assert m.data == b"a" * 1000 and not m.complete and m.violations == (V.INFLATE_LIMIT,)
    inflater = Inflater(DeflateParams(), Role.SERVER, limit=1000)
    inflater.start()
    inflater.feed(first)
    inflater.feed(second)
    assert inflater.over and inflater.total == 51_000


def test_a_bomb_past_the_drain_budget_gives_the_window_up() -> None:
    """Draining costs CPU (about 2.5 s per GiB): past the budget the rest of
    a bomb is not inflated, and a shared window is lost for good."""
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = z.compress(bytes(1 << 20)) + z.flush(zlib.Z_FULL_FLUSH)
    size = (DRAIN_BUDGET >> 20) + 8
    after = z.compress(b"after") + z.flush(zlib.Z_SYNC_FLUSH)
    wire = encode_frame(2, (piece * size)[:-4], rsv=4) + encode_frame(1, after[:-4], rsv=4)
    bomb, nxt = decode(wire, DeflateParams(), limit=1000)
    assert len(bomb.data) == 1000 and bomb.violations == (V.INFLATE_LIMIT,)
    assert nxt.violations == (V.INFLATE_ERROR,) and nxt.data == b""
    # Without a shared window nothing past the limit is inflated at all.
    params = DeflateParams(server_no_context_takeover=True)
    wire = encode_frame(2, (piece * size)[:-4], rsv=4)
    wire += encode_frame(1, deflate([b"after"], False)[0], rsv=4)
    bomb, nxt = decode(wire, params, limit=1000)
    assert bomb.violations == (V.INFLATE_LIMIT,) and nxt.data == b"after" and nxt.complete
