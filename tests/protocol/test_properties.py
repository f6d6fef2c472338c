"""Properties of the frame layer (Hypothesis), bounded for CI.

* Any split of any byte stream gives the very same events as the whole
  stream fed at once: equal :class:`Frame` objects in every field and equal
  :class:`Violation` events. The streams mix frames of every kind (reserved
  opcodes, RSV bits, masked and unmasked, all three length encodings and
  non-minimal ones, control frames with long payloads, large masked
  payloads) with arbitrary garbage.
* Arbitrary bytes never raise, in any split, through both layers.
* Encoding then decoding gives the frame back.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirelog.model import DeflateParams, Direction, Frame, Role, Violation, ViolationKind
from wirelog.protocol.connection import ConnectionDecoder
from wirelog.protocol.frames import FrameDecoder, encode_frame, header_violations
from wirelog.protocol.messages import MessageAssembler

TX = Direction.TX
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_PATTERN = bytes(range(256))
big_payloads = st.sampled_from([1023, 1024, 4099, 65535, 65536, 70001]).map(
    lambda n: (_PATTERN * (n // 256 + 1))[:n]
)
payloads = st.one_of(st.binary(max_size=140), st.binary(min_size=126, max_size=300), big_payloads)


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    payload = draw(payloads)
    return encode_frame(
        draw(st.integers(0, 15)),
        payload,
        fin=draw(st.booleans()),
        rsv=draw(st.integers(0, 7)),
        mask=draw(st.one_of(st.none(), st.binary(min_size=4, max_size=4))),
        width=draw(widths(len(payload))),
    )


def widths(size: int) -> st.SearchStrategy[int | None]:
    """Minimal (None) or forced length encodings, non-minimal ones included."""
    return st.sampled_from(
        [None, 64, *([16] if size <= 0xFFFF else []), *([7] if size <= 125 else [])]
    )


pieces = st.one_of(frames(), frames(), frames(), st.binary(min_size=1, max_size=20))
streams = st.lists(pieces, max_size=8).map(b"".join)


def decode(chunks: list[bytes], sender: Role, allowed_rsv: int) -> list[Frame | Violation]:
    dec = FrameDecoder(TX, sender, offset=3, allowed_rsv=allowed_rsv)
    out: list[Frame | Violation] = []
    for c in chunks:
        out.extend(dec.feed(c, ts=2_500_000_000, chunk=7))
    out.extend(dec.eof())
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@FAST
@given(
    streams,
    st.lists(st.integers(min_value=0), max_size=30),
    st.sampled_from(list(Role)),
    st.sampled_from([0, 4]),
)
def test_any_split_gives_identical_events(
    data: bytes, cuts: list[int], sender: Role, allowed_rsv: int
) -> None:
    whole = decode([data], sender, allowed_rsv)
    assert decode(split(data, cuts), sender, allowed_rsv) == whole
    # One octet at a time is the most extreme split of all.
    if len(data) <= 400:
        assert decode([data[i : i + 1] for i in range(len(data))], sender, allowed_rsv) == whole


@FAST
@given(
    streams,
    st.lists(st.integers(min_value=0), max_size=10),
    st.sampled_from(list(Role)),
    st.sampled_from([0, 4]),
)
def test_every_frame_gets_every_header_rule(
    data: bytes, cuts: list[int], sender: Role, allowed_rsv: int
) -> None:
    """Each frame's violations are the rules applied to its own header and
    the state before it, however it arrived (no lane skips a rule, and no
    remembered answer is stale)."""
    closed = False
    for f in decode(split(data, cuts), sender, allowed_rsv):
        if not isinstance(f, Frame):
            continue
        b0 = (0x80 if f.fin else 0) | f.rsv << 4 | f.opcode
        field = f.header_length - (4 if f.masked else 0)
        plen = f.length if field == 2 else 126 if field == 4 else 127
        expected = header_violations(
            b0, f.masked, plen, f.length, allowed_rsv, sender is Role.CLIENT, closed
        )
        if not f.complete:
            expected += (ViolationKind.TRUNCATED_FRAME,)
        assert f.violations == expected
        closed = closed or f.opcode == 8


@FAST
@given(st.lists(frames(), min_size=1, max_size=6), st.sampled_from(list(Role)))
def test_frames_in_a_row_come_back_in_order(wires: list[bytes], sender: Role) -> None:
    """Without garbage, every frame is found where it was put."""
    events = decode([b"".join(wires)], sender, 0)
    found = [e for e in events if isinstance(e, Frame)]
    assert [f.wire_length for f in found] == [len(w) for w in wires]
    starts = [3 + sum(map(len, wires[:i])) for i in range(len(wires))]
    assert [f.offset for f in found] == starts
    assert not [e for e in events if isinstance(e, Violation)]


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=2000),
    st.lists(st.integers(min_value=0), max_size=10),
    st.sampled_from(list(Role)),
)
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int], sender: Role) -> None:
    events = decode(split(data, cuts), sender, 4)
    asm = MessageAssembler(TX, sender, DeflateParams())
    for f in events:
        if isinstance(f, Frame):
            asm.add(f)
    asm.eof()
    consumed = sum(f.header_length + len(f.payload) for f in events if isinstance(f, Frame))
    assert consumed <= len(data)
    # And behind a handshake-less connection decoder, messages included.
    dec = ConnectionDecoder(Role.CLIENT, handshake=False, deflate=DeflateParams())
    for piece in split(data, cuts):
        dec.feed(TX if sender is Role.CLIENT else Direction.RX, piece)
    dec.finish()


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 15),
    payloads,
    st.booleans(),
    st.integers(0, 7),
    st.one_of(st.none(), st.binary(min_size=4, max_size=4)),
    st.data(),
)
def test_encode_decode_round_trip(
    opcode: int, payload: bytes, fin: bool, rsv: int, mask: bytes | None, data: st.DataObject
) -> None:
    width = data.draw(widths(len(payload)))
    wire = encode_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask, width=width)
    sender = Role.CLIENT if mask is not None else Role.SERVER
    (f,) = decode([wire], sender, 0)
    assert isinstance(f, Frame)
    assert (f.opcode, f.payload, f.fin, f.rsv, f.mask, f.masked) == (
        opcode,
        payload,
        fin,
        rsv,
        mask,
        mask is not None,
    )
    assert (f.length, f.header_length, f.offset, f.ts, f.chunk) == (
        len(payload),
        len(wire) - len(payload),
        3,
        2.5,
        7,
    )
    plen = wire[1] & 0x7F
    assert f.violations == header_violations(
        wire[0], mask is not None, plen, len(payload), 0, sender is Role.CLIENT, False
    )
