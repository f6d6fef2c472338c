"""How a connection ended, decided once for the report, the verdict and the
replay's recording.

The rules follow Autobahn, whose reports are the reference (spec
``autobahn-wirelog.md`` §1.2, §3.5-§3.7), checked against its own verdict
fields on every shared report (``tests/summary/test_summary_corpus.py``):

* **Who closed** is the sender of the first close frame, frames ordered by
  the chunk that holds their first header octet (sending begins there). A
  close frame with RSV bits set is not a close to its receiver (RFC 6455
  §5.2: it must *fail* the connection), so it starts no closing handshake:
  Autobahn's case 3.7 sends one raw and records ``closedByMe: false``.
* **Close codes and reasons** are those of each side's first such frame, as
  the message layer read them (RFC 6455 §5.5.1, §7.1.5-§7.1.6), else the
  frame's first two payload octets.
* **Who dropped TCP** is the sender of the first FIN, RST or Autobahn drop
  marker that has a direction; without one, Autobahn's own ``droppedByMe``.
* **Clean** (Autobahn's ``wasClean``) means the closing handshake completed
  (both close frames, RFC 6455 §7.1.1) *and* the server dropped TCP, "which
  is its responsibility" (Autobahn's own description of the key; §7.1.1:
  the server SHOULD close the TCP connection first). Autobahn's client that
  has to drop TCP itself does so on ``serverConnectionDropTimeout`` and
  records the connection as not clean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wirelog.model import Connection, Direction, Frame, Marker, MarkerKind, Message, Opcode, Role
from wirelog.sources.autobahn.entries import CLOSING_KEYS

_TCP_END = (MarkerKind.FIN, MarkerKind.RST, MarkerKind.DROPPED)
_LAST = 1 << 60

PEER_DROPPED = "peer dropped the TCP connection without previous WebSocket closing handshake"
NO_CLOSE_REPLY = "peer did not respond (in time) in closing handshake"
SERVER_DID_NOT_DROP = "server did not drop TCP connection (in time)"
I_DROPPED = "dropped the TCP connection without previous WebSocket closing handshake"
"""Autobahn's ``wasNotCleanReason`` texts (spec §1.2); the last is wirelog's
for a recorder that dropped TCP before any closing handshake."""


@dataclass(frozen=True, slots=True)
class Closing:
    """The closing behaviour of one connection, by role.

    ``recorder`` is the side whose ``tx`` the recording is (Autobahn's
    ``ME``); :meth:`autobahn` turns the facts into Autobahn's keys from
    that side's point of view.
    """

    recorder: Role
    closed_by: Role | None
    """Who sent the first close frame."""
    client_code: int | None
    server_code: int | None
    client_sent: bool
    server_sent: bool
    dropped_by: Role | None
    """Who ended TCP first (None: the recording does not show it)."""
    reset: bool
    """The side that dropped TCP reset it (Autobahn's ``abort=True``)."""
    client_reason: str | None = None
    server_reason: str | None = None
    reported: tuple[tuple[str, Any], ...] = ()
    """Autobahn's own closing keys where the input has them (its report), in
    :data:`AUTOBAHN_KEYS` order: they win over what the traffic tells, and
    they are the only source of ``failedByMe`` and the timeouts."""

    @property
    def clean(self) -> bool:
        """Both close frames were exchanged (RFC 6455 §7.1.1 closing handshake)."""
        return self.client_sent and self.server_sent

    @property
    def was_clean(self) -> bool | None:
        """Autobahn's ``wasClean`` (module docstring); None when the
        recording does not show who dropped TCP."""
        if self.dropped_by is None:
            return None
        return self.clean and self.dropped_by is Role.SERVER

    @property
    def not_clean_reason(self) -> str | None:
        """Autobahn's ``wasNotCleanReason`` for :attr:`was_clean` False."""
        if self.was_clean is not False:
            return None
        me = self.recorder
        if self.clean:
            return SERVER_DID_NOT_DROP
        if self.dropped_by is not me:
            return PEER_DROPPED
        if self.sent(me) and not self.sent(me.other):
            return NO_CLOSE_REPLY
        return I_DROPPED

    def sent(self, role: Role) -> bool:
        return self.client_sent if role is Role.CLIENT else self.server_sent

    def code(self, role: Role) -> int | None:
        return self.client_code if role is Role.CLIENT else self.server_code

    def reason(self, role: Role) -> str | None:
        return self.client_reason if role is Role.CLIENT else self.server_reason

    def rows(self) -> list[tuple[str, str]]:
        """The role-based rows a verdict compares (``wasClean`` here is the
        closing handshake; who dropped TCP is a row of its own)."""

        def role(r: Role | None) -> str:
            return r.value if r is not None else "-"

        def code(sent: bool, c: int | None) -> str:
            return "-" if not sent else str(c) if c is not None else "(none)"

        return [
            ("closedBy", role(self.closed_by)),
            ("clientCloseCode", code(self.client_sent, self.client_code)),
            ("serverCloseCode", code(self.server_sent, self.server_code)),
            ("wasClean", str(self.clean)),
            ("droppedBy", role(self.dropped_by) + (" (reset)" if self.reset else "")),
        ]

    def autobahn(self) -> dict[str, Any]:
        """Autobahn's closing keys (spec §1.2): what the input reported, else
        what :meth:`derived` tells; a key neither knows is absent."""
        return {**self.derived(), **dict(self.reported)}

    def derived(self) -> dict[str, Any]:
        """Autobahn's closing keys as the traffic tells them, from the
        recorder's side. What a recording cannot know is absent: timeouts,
        whether a side *failed* the connection, and who dropped TCP or
        whether it was clean when no TCP end was recorded."""
        me, peer = self.recorder, self.recorder.other
        out: dict[str, Any] = {
            "isServer": me is Role.SERVER,
            "closedByMe": self.closed_by is me,
        }
        if self.dropped_by is not None:
            out["droppedByMe"] = self.dropped_by is me
        if self.was_clean is not None:
            out["wasClean"] = self.was_clean
            out["wasNotCleanReason"] = self.not_clean_reason
        for role, pre in ((me, "local"), (peer, "remote")):
            sent = self.sent(role)
            out[f"{pre}CloseCode"] = self.code(role) if sent else None
            out[f"{pre}CloseReason"] = self.reason(role) if sent else None
        return out


@dataclass(frozen=True, slots=True)
class CloseFrame:
    """One side's first close frame (RSV bits clear, module docstring)."""

    index: int
    """Its frame index (per direction)."""
    order: tuple[int, float]
    """Where sending began: the chunk of its first header octet, then time."""
    code: int | None
    reason: str | None


class FirstCloses:
    """Each direction's first close frame, as frames and messages pass
    (a close frame's message carries the code and reason the message layer
    read, RFC 6455 §5.5.1), and the first TCP drop, as markers pass: a
    streamed capture's connection object carries no markers, so who dropped
    TCP is known only from what passed here."""

    __slots__ = ("_first_drop", "_resets", "frames")

    def __init__(self) -> None:
        self.frames: dict[Direction, CloseFrame] = {}
        self._first_drop: tuple[int, Direction] | None = None
        """The index and direction of the earliest FIN, RST or drop marker."""
        self._resets: set[Direction] = set()
        """The directions that sent an RST."""

    def marker(self, m: Marker) -> None:
        """A marker of the connection (in any order): FIN, RST and Autobahn's
        drop say who dropped TCP; the others say nothing of it."""
        if m.kind not in _TCP_END or m.direction is None:
            return
        if self._first_drop is None or m.index < self._first_drop[0]:
            self._first_drop = (m.index, m.direction)
        if m.kind is MarkerKind.RST:
            self._resets.add(m.direction)

    def frame(self, f: Frame) -> None:
        if f.opcode != Opcode.CLOSE or f.rsv or f.direction in self.frames:
            return
        code = (f.payload[0] << 8 | f.payload[1]) if len(f.payload) >= 2 else None
        order = (f.chunk if f.chunk is not None else _LAST, f.ts or 0.0)
        self.frames[f.direction] = CloseFrame(f.index, order, code, None)

    def message(self, m: Message) -> None:
        got = self.frames.get(m.direction)
        if got is not None and m.opcode == Opcode.CLOSE and m.first_frame == got.index:
            self.frames[m.direction] = CloseFrame(
                got.index, got.order, m.close_code, m.close_reason or None
            )

    def closing(self, conn: Connection) -> Closing:
        """The closing behaviour, with who dropped TCP from the markers
        :meth:`marker` was given."""
        by_role = {conn.sender(d): c for d, c in self.frames.items()}
        first = min(self.frames.items(), key=lambda dc: dc[1].order, default=None)
        dropped_by, reset = self._dropped(conn)
        client, server = by_role.get(Role.CLIENT), by_role.get(Role.SERVER)
        return Closing(
            recorder=conn.recorder,
            closed_by=conn.sender(first[0]) if first is not None else None,
            client_code=client.code if client else None,
            server_code=server.code if server else None,
            client_sent=client is not None,
            server_sent=server is not None,
            dropped_by=dropped_by,
            reset=reset,
            client_reason=client.reason if client else None,
            server_reason=server.reason if server else None,
            reported=_reported(conn.meta),
        )

    def _dropped(self, conn: Connection) -> tuple[Role | None, bool]:
        """Who dropped TCP and whether by a reset: the first drop's sender,
        else Autobahn's own ``droppedByMe``."""
        if self._first_drop is not None:
            first = self._first_drop[1]
            return conn.sender(first), first in self._resets
        if "droppedByMe" in conn.meta:
            return (conn.recorder if conn.meta["droppedByMe"] else conn.recorder.other), False
        return None, False


AUTOBAHN_KEYS = CLOSING_KEYS
"""Autobahn's Closing Behavior keys (the format's own list)."""


def _reported(meta: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((k, meta[k]) for k in AUTOBAHN_KEYS if k in meta)


__all__ = ["AUTOBAHN_KEYS", "CloseFrame", "Closing", "FirstCloses"]
