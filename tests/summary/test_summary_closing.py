"""The closing rules of :mod:`wirelog.summary.closing`, one case each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from servers import SEED_REQUEST, SEED_RESPONSE

from wirelog.model import Chunk, Connection, Direction, Marker, MarkerKind, Role
from wirelog.protocol.connection import decode_connection
from wirelog.protocol.frames import encode_frame
from wirelog.summary import Closing, closing_of
from wirelog.summary.closing import (
    I_DROPPED,
    NO_CLOSE_REPLY,
    PEER_DROPPED,
    SERVER_DID_NOT_DROP,
)

TX, RX = Direction.TX, Direction.RX
CLOSE_1000 = b"\x03\xe8"


def conn(
    frames: list[tuple[Direction, bytes]],
    ends: Sequence[tuple[MarkerKind, Direction | None]] = (),
    *,
    recorder: Role = Role.CLIENT,
    rsv: int = 0,
    meta: dict[str, object] | None = None,
) -> Connection:
    """A handshake, then close frames (direction, payload) in that order,
    then TCP end markers. ``rsv`` goes on every close frame."""
    c = Connection(0, "t", recorder, meta=dict(meta or {}))
    client = c.direction_of(Role.CLIENT)
    items = [(client, SEED_REQUEST), (_other(client), SEED_RESPONSE)]
    for d, payload in frames:
        mask = b"abcd" if d is client else None
        items.append((d, encode_frame(0x8, payload, mask=mask, rsv=rsv)))
    for i, (d, data) in enumerate(items):
        c.chunks.append(Chunk(d, data, len(data), i, ts_ns=i * 10**9))
    for j, (kind, d) in enumerate(ends):
        c.markers.append(Marker(kind, len(items) + j, d))
    return c


def _other(d: Direction) -> Direction:
    return RX if d is TX else TX


def closing(*args: Any, **kw: Any) -> Closing:
    return closing_of(decode_connection(conn(*args, **kw)))


def test_clean_close_started_by_the_client() -> None:
    c = closing([(TX, CLOSE_1000), (RX, CLOSE_1000 + b"bye")], [(MarkerKind.FIN, RX)])
    assert (c.closed_by, c.client_code, c.server_code) == (Role.CLIENT, 1000, 1000)
    assert (c.client_reason, c.server_reason) == (None, "bye")
    assert c.clean and c.was_clean and c.not_clean_reason is None
    assert (c.dropped_by, c.reset) == (Role.SERVER, False)
    assert c.derived() == {
        "isServer": False,
        "closedByMe": True,
        "droppedByMe": False,
        "wasClean": True,
        "wasNotCleanReason": None,
        "localCloseCode": 1000,
        "localCloseReason": None,
        "remoteCloseCode": 1000,
        "remoteCloseReason": "bye",
    }


def test_who_closed_is_who_began_sending_first() -> None:
    c = closing([(RX, CLOSE_1000), (TX, b"\x03\xe9")], [(MarkerKind.FIN, RX)])
    assert c.closed_by is Role.SERVER and c.derived()["closedByMe"] is False
    assert c.derived()["localCloseCode"] == 1001


def test_a_close_frame_with_rsv_bits_is_no_close() -> None:
    """RFC 6455 §5.2: its receiver fails the connection (Autobahn 3.7)."""
    c = closing([(TX, b"")], [(MarkerKind.FIN, RX)], rsv=7)
    assert c.closed_by is None and not c.client_sent and not c.clean
    assert c.derived()["closedByMe"] is False


def test_the_client_dropping_after_the_handshake_is_not_clean() -> None:
    c = closing([(TX, CLOSE_1000), (RX, CLOSE_1000)], [(MarkerKind.FIN, TX)])
    assert c.clean and c.was_clean is False
    assert c.not_clean_reason == SERVER_DID_NOT_DROP


def test_the_peer_dropping_without_a_close() -> None:
    c = closing([(TX, CLOSE_1000)], [(MarkerKind.RST, RX), (MarkerKind.FIN, TX)])
    assert (c.dropped_by, c.reset) == (Role.SERVER, True)
    assert c.not_clean_reason == PEER_DROPPED
    assert c.derived()["remoteCloseCode"] is None


def test_no_reply_to_my_close_then_i_drop() -> None:
    c = closing([(TX, CLOSE_1000)], [(MarkerKind.RST, TX)])
    assert c.reset and c.not_clean_reason == NO_CLOSE_REPLY


def test_i_drop_without_any_close() -> None:
    c = closing([], [(MarkerKind.FIN, TX), (MarkerKind.RST, RX)])
    assert (c.dropped_by, c.reset) == (Role.CLIENT, False)
    assert c.not_clean_reason == I_DROPPED


def test_markers_without_a_direction_are_no_tcp_end() -> None:
    c = closing([(TX, CLOSE_1000), (RX, CLOSE_1000)], [(MarkerKind.FIN, None)])
    assert c.dropped_by is None and c.was_clean is None
    assert "wasClean" not in c.derived() and "droppedByMe" not in c.derived()


def test_without_markers_autobahn_s_droppedbyme_tells() -> None:
    c = closing([(TX, CLOSE_1000), (RX, CLOSE_1000)], meta={"droppedByMe": True})
    assert c.dropped_by is Role.CLIENT and c.was_clean is False
    c = closing([], recorder=Role.SERVER, meta={"droppedByMe": False})
    assert c.dropped_by is Role.CLIENT


def test_the_server_recorder_and_what_it_reported() -> None:
    meta = {"failedByMe": True, "wasCloseHandshakeTimeout": False, "closedByMe": False}
    c = closing(
        [(RX, CLOSE_1000), (TX, CLOSE_1000)],
        [(MarkerKind.FIN, TX)],
        recorder=Role.SERVER,
        meta=meta,
    )
    assert c.recorder is Role.SERVER and c.closed_by is Role.CLIENT
    derived = c.derived()
    assert derived["isServer"] and derived["closedByMe"] is False and derived["wasClean"]
    both = c.autobahn()
    assert both["failedByMe"] is True and both["wasCloseHandshakeTimeout"] is False
    assert both["droppedByMe"] is True
    assert dict(c.reported) == meta


def test_rows_by_role() -> None:
    c = closing([(TX, b"")], [(MarkerKind.RST, RX)])
    assert c.rows() == [
        ("closedBy", "client"),
        ("clientCloseCode", "(none)"),
        ("serverCloseCode", "-"),
        ("wasClean", "False"),
        ("droppedBy", "server (reset)"),
    ]
    assert closing([]).rows()[0] == ("closedBy", "-")
