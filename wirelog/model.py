"""The recording model: every input wirelog reads reduces to these types.

A *recording* is a set of connections. A connection is an ordered list of
*chunks* (one recorded write or read: who sent it, the bytes that survived,
the length that was really on the wire, a time or a position) plus the
*markers* between them (Autobahn timers, wire-log switches, capture gaps,
FIN/RST). Frames and messages are *derived* from chunks by the sans-I/O
decoder; frames an Autobahn log claims (its TF/RF entries) ride along as
:class:`ClaimedFrame` so the two can be cross-checked.

Nothing here does I/O and nothing imports beyond the standard library, so
the model can be shared by the CLI, the library API, notebooks and tests.

Directions are always from the *recorder's* side (``tx`` = what the recorder
sent). For Autobahn that is the fuzzer; for a pcap, where nobody in
particular recorded, wirelog takes the client's side: ``tx`` = client to
server. :attr:`Connection.recorder` says which role the recorder played, so
every chunk and frame also knows its :class:`Role` (who masks, RFC 6455 §5.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wirelog.enums import CloseCode, Direction, MarkerKind, Opcode, Role, ViolationKind, seconds

__all__ = [
    "Chunk",
    "ClaimedFrame",
    "CloseCode",
    "Connection",
    "DeflateParams",
    "Direction",
    "Frame",
    "Handshake",
    "Marker",
    "MarkerKind",
    "Message",
    "Opcode",
    "Recording",
    "Role",
    "TlsInfo",
    "Violation",
    "ViolationKind",
]


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem, located as precisely as the input allows."""

    kind: ViolationKind
    detail: str
    direction: Direction | None = None
    frame: int | None = None
    """Index of the frame within its direction, when one is concerned."""
    offset: int | None = None
    """Octet offset within its direction's stream (handshake included)."""
    chunk: int | None = None
    """Index of the chunk (or Autobahn wire-log entry) where it shows."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One recorded write or read: the unit Autobahn's chop statistics count
    and the unit the replayer sends as one TCP write."""

    direction: Direction
    data: bytes
    """The bytes present: all of them, or a prefix when the recorder cut it."""
    length: int
    """The length really on the wire; may exceed ``len(data)``."""
    index: int
    """Position in the recording (Autobahn wire-log entry number, or the
    order of chunks in the capture), shared by chunks and markers."""
    ts_ns: int | None = None
    """Nanoseconds since the epoch, when known (``ts``: float seconds from it)."""
    sync: bool = False
    """Autobahn's sync flag: the fuzzer forced this write out on its own."""
    rebuilt: bool = False
    """``data`` was rebuilt from other facts (a handshake head, a TF entry)
    rather than read from the octet log."""
    synthesized: int = 0
    """How many trailing bytes of ``data`` were guessed (replay ``--fill``)."""
    record: int | None = None
    """TLS: the plaintext of this direction's record number ``record`` (from
    0, every record counted as it was on the wire)."""

    @property
    def ts(self) -> float | None:
        return seconds(self.ts_ns)

    @property
    def complete(self) -> bool:
        return len(self.data) == self.length

    @property
    def missing(self) -> int:
        return self.length - len(self.data)


@dataclass(frozen=True, slots=True)
class Marker:
    kind: MarkerKind
    index: int
    direction: Direction | None = None
    ts_ns: int | None = None
    value: float | int | bool | None = None
    """Delay in seconds (CT/KL/TI), enabled flag (WLM), byte count (gap)."""
    tag: str | None = None
    """Autobahn's continueLater tag."""
    raw: Any = None
    """The value exactly as the input wrote it (e.g. JSON int vs float)."""

    @property
    def ts(self) -> float | None:
        return seconds(self.ts_ns)


@dataclass(frozen=True, slots=True)
class ClaimedFrame:
    """A frame an Autobahn wire log says was sent (TF) or received (RF).

    Claims are what the recorder believed, kept beside the frames decoded
    from octets so that one can check the other.
    """

    direction: Direction
    index: int
    """Wire-log entry number."""
    opcode: int
    fin: bool
    rsv: int
    masked: bool
    mask: bytes | None
    length: int
    """Real payload length of the frame (``repeat_len`` when set)."""
    payload: bytes
    """Payload prefix as logged (at most 64 bytes, unmasked)."""
    logged_len: int
    """The log's own ``len`` (TF: base payload length; RF: bytes kept)."""
    repeat_len: int | None = None
    chopsize: int | None = None
    sync: bool = False


@dataclass(frozen=True, slots=True)
class Frame:
    """One WebSocket frame as it was on the wire (RFC 6455 §5.2)."""

    direction: Direction
    sender: Role
    index: int
    """0-based, per direction."""
    fin: bool
    rsv: int
    opcode: int
    masked: bool
    mask: bytes | None
    length: int
    """Declared payload length."""
    payload: bytes
    """Unmasked payload bytes present (a prefix when octets are missing)."""
    header_length: int
    offset: int | None
    """Octet offset of the first header byte within the direction's stream
    (handshake included); None when the frame comes from a log claim."""
    ts_ns: int | None = None
    """Time (nanoseconds since the epoch) of the chunk that completed the
    frame (or held its header when it never completed)."""
    chunk: int | None = None
    """Recording index of the chunk holding the first header byte."""
    violations: tuple[ViolationKind, ...] = ()
    from_log: bool = False
    """Taken from an Autobahn TF/RF entry because the octets were incomplete."""
    record: int | None = None
    """TLS: the record (as :attr:`Chunk.record`) holding the first header byte."""

    @property
    def ts(self) -> float | None:
        return seconds(self.ts_ns)

    @property
    def complete(self) -> bool:
        return len(self.payload) == self.length

    @property
    def wire_length(self) -> int:
        return self.header_length + self.length

    @property
    def opcode_name(self) -> str:
        return Opcode.name_of(self.opcode)


@dataclass(frozen=True, slots=True)
class Message:
    """A data message (fragments joined, inflated, UTF-8 checked) or a
    control frame's content (RFC 6455 §5.4-§5.5)."""

    direction: Direction
    sender: Role
    index: int
    opcode: int
    data: bytes
    """Payload after reassembly and inflation (what the application saw)."""
    length: int
    """Length of the application payload; when frames lack octets this is
    the sum of declared lengths (compressed, if compressed)."""
    frames: int
    first_frame: int
    ts_ns: int | None
    compressed: bool = False
    wire_length: int = 0
    """Payload octets on the wire (compressed size when compressed)."""
    complete: bool = True
    text: str | None = None
    close_code: int | None = None
    close_reason: str | None = None
    violations: tuple[ViolationKind, ...] = ()

    @property
    def ts(self) -> float | None:
        return seconds(self.ts_ns)

    @property
    def opcode_name(self) -> str:
        return Opcode.name_of(self.opcode)


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """permessage-deflate parameters as agreed in the handshake (RFC 7692 §7.1)."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15

    def no_context_takeover(self, sender: Role) -> bool:
        if sender is Role.SERVER:
            return self.server_no_context_takeover
        return self.client_no_context_takeover

    def window_bits(self, sender: Role) -> int:
        if sender is Role.SERVER:
            return self.server_max_window_bits
        return self.client_max_window_bits


@dataclass(frozen=True, slots=True)
class Handshake:
    """The HTTP/1.1 Upgrade exchange (RFC 6455 §4), parsed."""

    request: bytes | None
    response: bytes | None
    method: str | None = None
    target: str | None = None
    host: str | None = None
    key: str | None = None
    version: str | None = None
    status: int | None = None
    accept: str | None = None
    accept_ok: bool | None = None
    subprotocol: str | None = None
    extensions: str | None = None
    """The Sec-WebSocket-Extensions header of the response (what was agreed)."""
    offered_extensions: str | None = None
    deflate: DeflateParams | None = None
    request_headers: tuple[tuple[str, str], ...] = ()
    response_headers: tuple[tuple[str, str], ...] = ()

    @property
    def upgraded(self) -> bool:
        return self.status == 101


@dataclass(frozen=True, slots=True)
class TlsInfo:
    """What the TLS handshake of a wss:// connection said (RFC 8446 §4.1)."""

    version: str | None = None
    """``TLS 1.3``, ``TLS 1.2``... (the ServerHello's, after supported_versions)."""
    cipher: str | None = None
    """The cipher suite by its IANA name."""
    sni: str | None = None
    """The server name the client asked for (RFC 6066 §3)."""
    alpn: str | None = None
    """The application protocol agreed (RFC 7301)."""


@dataclass(slots=True)
class Connection:
    """One TCP connection as recorded. Mutable while a parser builds it;
    treat it as read-only afterwards."""

    conn: int
    source: str
    recorder: Role
    """The role of the side whose ``tx`` this is."""
    chunks: list[Chunk] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    claims: list[ClaimedFrame] = field(default_factory=list)
    client: str | None = None
    """Client endpoint ("ip:port") when known."""
    server: str | None = None
    start_ts_ns: int | None = None
    """The connection's first packet, nanoseconds since the epoch."""
    handshake_request: bytes | None = None
    """The complete request head when the input has it apart from the octets
    (Autobahn's ``httpRequest``), else None: then it is read from the chunks."""
    handshake_response: bytes | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    """Input-specific facts kept verbatim (Autobahn: the report's keys)."""
    findings: list[Violation] = field(default_factory=list)
    """What the parser noticed about the recording itself."""
    tls: TlsInfo | None = None
    """The TLS session the connection was decrypted from (wss://), if any."""

    def sender(self, direction: Direction) -> Role:
        return self.recorder if direction is Direction.TX else self.recorder.other

    def direction_of(self, role: Role) -> Direction:
        return Direction.TX if role is self.recorder else Direction.RX

    @property
    def start_ts(self) -> float | None:
        return seconds(self.start_ts_ns)

    @property
    def label(self) -> str:
        return f"{self.source}#{self.conn}"


@dataclass(slots=True)
class Recording:
    """Everything read from one input (a report, a page, a folder, a capture)."""

    source: str
    kind: str
    """What was detected: ``autobahn-json``, ``autobahn-html``, ``autobahn-text``,
    ``autobahn-folder``, ``pcap``, ``pcapng``, ``replay``."""
    connections: list[Connection] = field(default_factory=list)
    findings: list[Violation] = field(default_factory=list)
