"""Properties of ``--max-message-size`` (issue 11), bounded for CI: for any
messages, fragmented anyhow, compressed or not, with or without a shared
window, and any limit, each message comes out as its first ``limit``
octets, whole exactly when it fits, flagged exactly when it does not, and
a cut never spoils the messages after it. The compressor is the
``websockets`` library's permessage-deflate, the one real peers use."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOpcode

from wirelog.model import DeflateParams, Direction, Frame, Message, Role, ViolationKind
from wirelog.protocol.frames import decode_frames
from wirelog.protocol.messages import MessageAssembler

V = ViolationKind
RX = Direction.RX

payloads = st.one_of(
    st.binary(max_size=3000),
    st.integers(0, 200_000).map(bytes),  # zeros: a small bomb
    st.text(max_size=500).map(lambda t: t.encode()),
)


def _wire(messages: list[tuple[bytes, int]], compress: bool, takeover: bool) -> bytes:
    """Binary messages, each in ``parts`` fragments, as a server sends them."""
    ext = PerMessageDeflate(False, not takeover, 15, 15) if compress else None
    out = b""
    for data, parts in messages:
        step = max(1, len(data) // parts)
        pieces = [data[i : i + step] for i in range(0, len(data), step)] or [b""]
        for i, piece in enumerate(pieces):
            op = WsOpcode.BINARY if i == 0 else WsOpcode.CONT
            frame = WsFrame(op, piece, fin=i == len(pieces) - 1)
            out += frame.serialize(mask=False, extensions=[ext] if ext else [])
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(payloads, st.integers(1, 5)), min_size=1, max_size=5),
    st.booleans(),
    st.booleans(),
    st.integers(0, 5000),
)
def test_each_message_is_its_first_limit_octets(
    messages: list[tuple[bytes, int]], compress: bool, takeover: bool, limit: int
) -> None:
    params = DeflateParams(server_no_context_takeover=not takeover) if compress else None
    asm = MessageAssembler(RX, Role.SERVER, params, limit=limit)
    got: list[Message] = []
    for f in decode_frames(_wire(messages, compress, takeover), RX, Role.SERVER, allowed_rsv=4):
        assert isinstance(f, Frame)
        got.extend(m for m in asm.add(f) if isinstance(m, Message))
    assert not asm.eof()
    assert len(got) == len(messages)
    cut_kind = V.INFLATE_LIMIT if compress else V.MESSAGE_LIMIT
    for m, (data, _) in zip(got, messages, strict=True):
        fits = len(data) <= limit
        assert m.data == data[:limit] and m.complete is fits
        assert m.violations == (() if fits else (cut_kind,))
