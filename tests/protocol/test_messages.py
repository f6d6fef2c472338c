"""The message layer: fragments, control frames, UTF-8, close payloads
(RFC 6455 §5.4-§5.5, §8.1)."""

from __future__ import annotations

from wirelog.model import DeflateParams, Direction, Frame, Message, Role, Violation, ViolationKind
from wirelog.protocol.frames import decode_frames, encode_frame
from wirelog.protocol.messages import MessageAssembler, check_utf8, parse_close

V = ViolationKind
RX = Direction.RX


def messages(
    wire: bytes,
    deflate: DeflateParams | None = None,
    role: Role = Role.SERVER,
    keep_data: bool = True,
    limit: int = 1 << 20,
) -> list[Message]:
    asm = MessageAssembler(RX, role, deflate, keep_data=keep_data, limit=limit)
    out: list[Message | Violation] = []
    for f in decode_frames(wire, RX, role, allowed_rsv=4 if deflate else 0):
        if isinstance(f, Frame):
            out.extend(asm.add(f))
    out.extend(asm.eof())
    return [m for m in out if isinstance(m, Message)]


def test_fragments_and_interleaved_control() -> None:
    wire = encode_frame(1, b"ab", fin=False) + encode_frame(9, b"p") + encode_frame(0, b"cd")
    msgs = messages(wire)
    assert [(m.opcode, m.data, m.frames) for m in msgs] == [(9, b"p", 1), (1, b"abcd", 2)]
    assert msgs[1].text == "abcd" and msgs[1].first_frame == 0 and msgs[1].wire_length == 4
    assert [m.index for m in msgs] == [0, 1]


def test_message_layer_violations() -> None:
    assert V.CONTINUATION_WITHOUT_START in messages(encode_frame(0, b"x"))[0].violations
    m = messages(encode_frame(1, b"a", fin=False) + encode_frame(1, b"b"))
    assert V.INCOMPLETE_MESSAGE in m[0].violations
    assert V.DATA_FRAME_IN_FRAGMENTED_MESSAGE in m[1].violations
    assert V.INVALID_UTF8 in messages(encode_frame(1, b"\xed\xa0\x80"))[0].violations
    assert V.INVALID_CLOSE_CODE in messages(encode_frame(8, b"\x03\xed"))[0].violations
    assert V.INVALID_CLOSE_PAYLOAD in messages(encode_frame(8, b"\x03"))[0].violations
    assert V.INCOMPLETE_MESSAGE in messages(encode_frame(1, b"a", fin=False))[0].violations
    close = messages(encode_frame(8, b"\x03\xe8bye"))[0]
    assert (close.close_code, close.close_reason) == (1000, "bye")


def test_fragmented_text_is_checked_as_a_whole() -> None:
    snow = "☃".encode()
    wire = encode_frame(1, snow[:1], fin=False) + encode_frame(0, snow[1:])
    (m,) = messages(wire)
    assert m.text == "☃" and m.violations == ()
    wire = encode_frame(1, b"\xff", fin=False) + encode_frame(0, b"ok")
    (m,) = messages(wire)
    assert m.violations == (V.INVALID_UTF8,) and m.text == "\ufffdok"


def test_rsv1_on_a_continuation_is_flagged() -> None:
    wire = encode_frame(1, b"a", fin=False) + encode_frame(0, b"b", rsv=4)
    (m,) = messages(wire, DeflateParams())
    assert V.RSV_WITHOUT_EXTENSION in m.violations


def test_reserved_opcodes_stand_alone() -> None:
    wire = encode_frame(1, b"a", fin=False) + encode_frame(3, b"r") + encode_frame(0, b"b")
    msgs = messages(wire)
    assert [(m.opcode, m.violations) for m in msgs] == [(3, (V.RESERVED_OPCODE,)), (1, ())]
    assert msgs[0].text is None and msgs[1].data == b"ab"


def test_cut_frames_make_incomplete_messages() -> None:
    # A text frame cut inside a code point is not an encoding error.
    wire = encode_frame(1, "é".encode() * 10, length=40)
    (m,) = messages(wire)
    assert not m.complete and m.length == 40 and V.INVALID_UTF8 not in m.violations
    wire = encode_frame(1, "é".encode()[:1] + b"x" * 10, length=40)[:3]
    (m,) = messages(wire)
    assert not m.complete and m.violations == () and m.text == ""
    # A close frame cut short: the code is still read, the reason is not.
    (m,) = messages(encode_frame(8, b"\x03\xe8bye", length=20))
    assert (m.close_code, m.close_reason, m.complete, m.length) == (1000, None, False, 20)
    # A fragmented message whose last frame is cut.
    wire = encode_frame(2, b"ab", fin=False) + encode_frame(0, b"cd", length=10)
    (m,) = messages(wire)
    assert (m.complete, m.length, m.data) == (False, 12, b"abcd")


def test_keep_data_false_keeps_lengths_only() -> None:
    wire = encode_frame(1, b"hello") + encode_frame(9, b"p")
    wire += encode_frame(1, b"a", fin=False) + encode_frame(0, b"b")
    msgs = messages(wire, keep_data=False)
    assert [(m.data, m.text, m.length) for m in msgs] == [
        (b"", None, 5),
        (b"", None, 1),
        (b"", None, 2),
    ]


def test_parse_close() -> None:
    assert parse_close(b"") == (None, None, [])
    assert parse_close(b"\x03") == (None, None, [V.INVALID_CLOSE_PAYLOAD])
    assert parse_close(b"\x03\xe8") == (1000, "", [])
    assert parse_close(b"\x0f\xa0app") == (4000, "app", [])
    assert parse_close(b"\x03\xe8\xff") == (1000, "\ufffd", [V.INVALID_UTF8])
    assert parse_close(b"\x03\xed") == (1005, "", [V.INVALID_CLOSE_CODE])


def test_check_utf8() -> None:
    found: list[ViolationKind] = []
    assert check_utf8("é".encode()[:1], False, found) == "" and found == []
    assert check_utf8("é".encode()[:1], True, found) == "\ufffd" and found == [V.INVALID_UTF8]


# -- the message size limit (--max-message-size) -------------------------------------


def test_fragments_past_the_limit_are_cut_and_the_next_message_decodes() -> None:
    parts = [bytes([65 + i]) * 400 for i in range(5)]
    wire = encode_frame(2, parts[0], fin=False)
    wire += b"".join(encode_frame(0, p, fin=False) for p in parts[1:-1])
    wire += encode_frame(0, parts[-1]) + encode_frame(1, b"after")
    big, after = messages(wire, limit=1000)
    assert big.data == b"".join(parts)[:1000] and not big.complete
    assert V.MESSAGE_LIMIT in big.violations and V.MESSAGE_LIMIT.is_finding
    # The length is the real one: every octet was on the wire.
    assert big.length == big.wire_length == 2000 and big.frames == 5
    assert after.data == b"after" and after.complete and not after.violations


def test_a_message_at_the_limit_is_whole() -> None:
    wire = encode_frame(1, b"ab", fin=False) + encode_frame(0, b"cd")
    (m,) = messages(wire, limit=4)
    assert m.complete and m.text == "abcd" and not m.violations
    (m,) = messages(wire, limit=3)
    assert m.text == "abc" and not m.complete and m.violations == (V.MESSAGE_LIMIT,)


def test_one_frame_past_the_limit_is_cut() -> None:
    (m,) = messages(encode_frame(1, "é".encode() * 10), limit=5)
    # Cut inside a code point: not the peer's fault, so no invalid_utf8.
    assert m.data == "é".encode() * 2 + b"\xc3" and m.text == "éé"
    assert m.violations == (V.MESSAGE_LIMIT,) and m.length == 20 and not m.complete
    (m,) = messages(encode_frame(2, bytes(5)), limit=5)
    assert m.complete and not m.violations


def test_a_huge_control_frame_is_cut_too() -> None:
    (m,) = messages(encode_frame(9, bytes(300)), limit=200)
    assert len(m.data) == 200 and not m.complete
    assert set(m.violations) == {V.MESSAGE_LIMIT}
