"""The vocabulary of the recording model: opcodes, close codes, directions,
roles, and the kinds of violation and marker.

Kept apart from :mod:`wirelog.model` (which re-exports every name) so that the
model's dataclasses and the enums they are made of each fit one module.
"""

from __future__ import annotations

import enum

NS = 1_000_000_000
"""Nanoseconds in a second: the model keeps times as integer nanoseconds."""


def seconds(ns: int | None) -> float | None:
    """Nanoseconds as float seconds (the nearest float), None kept: what the
    model's ``ts`` properties give callers that want seconds."""
    return None if ns is None else ns / NS


def nanoseconds(s: float | None) -> int | None:
    """Float epoch seconds (a HAR's, mitmproxy's) as integer nanoseconds,
    rounded to the microsecond: a float of epoch seconds holds no finer digit
    (it is ~0.24 µs apart today), so nothing real is lost and no noise is made."""
    return None if s is None else round(s * 1_000_000) * 1000


class Opcode(enum.IntEnum):
    """RFC 6455 §5.2 opcodes. Reserved values (3-7, 11-15) stay plain ints."""

    CONT = 0
    TEXT = 1
    BINARY = 2
    CLOSE = 8
    PING = 9
    PONG = 10

    @classmethod
    def name_of(cls, value: int) -> str:
        """Readable name for any 4-bit opcode, reserved ones included."""
        try:
            return cls(value).name
        except ValueError:
            return f"RESERVED_{value}"

    @staticmethod
    def is_control(value: int) -> bool:
        return value >= 8


class CloseCode(enum.IntEnum):
    """RFC 6455 §7.4.1 status codes plus the IANA registrations since."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015

    @staticmethod
    def is_valid_on_wire(code: int) -> bool:
        """RFC 6455 §7.4: 1005, 1006 and 1015 must never be sent; 1016-2999
        are reserved for future RFCs; 3000-4999 are for libraries and apps."""
        if 3000 <= code <= 4999:
            return True
        return code in _SENDABLE_CODES


_SENDABLE_CODES = frozenset(
    {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
)


class Direction(enum.Enum):
    """From the recorder's point of view."""

    TX = "tx"
    RX = "rx"

    @property
    def other(self) -> Direction:
        return Direction.RX if self is Direction.TX else Direction.TX


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"

    @property
    def other(self) -> Role:
        return Role.SERVER if self is Role.CLIENT else Role.CLIENT


class ViolationKind(enum.Enum):
    """Every protocol violation or finding wirelog can report.

    The value is the stable name used in ``--format json/jsonl`` output.
    """

    # frame layer (RFC 6455 §5)
    RESERVED_OPCODE = "reserved_opcode"
    RSV_WITHOUT_EXTENSION = "rsv_without_extension"
    CONTROL_FRAME_TOO_LONG = "control_frame_too_long"
    CONTROL_FRAME_FRAGMENTED = "control_frame_fragmented"
    UNMASKED_CLIENT_FRAME = "unmasked_client_frame"
    MASKED_SERVER_FRAME = "masked_server_frame"
    NON_MINIMAL_LENGTH = "non_minimal_length"
    LENGTH_MSB_SET = "length_msb_set"
    TRUNCATED_FRAME = "truncated_frame"
    FRAME_AFTER_CLOSE = "frame_after_close"
    # message layer (RFC 6455 §5.4, §5.5.1, §8.1; RFC 7692)
    CONTINUATION_WITHOUT_START = "continuation_without_start"
    DATA_FRAME_IN_FRAGMENTED_MESSAGE = "data_frame_in_fragmented_message"
    INCOMPLETE_MESSAGE = "incomplete_message"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_CLOSE_CODE = "invalid_close_code"
    INVALID_CLOSE_PAYLOAD = "invalid_close_payload"
    INFLATE_ERROR = "inflate_error"
    INFLATE_LIMIT = "inflate_limit"
    """A compressed message inflates past ``--max-message-size``: cut there."""
    MESSAGE_LIMIT = "message_limit"
    """A message's frames add up to more than ``--max-message-size``: cut there."""
    # handshake (RFC 6455 §4)
    BAD_HANDSHAKE = "bad_handshake"
    BAD_ACCEPT = "bad_accept"
    HANDSHAKE_REJECTED = "handshake_rejected"
    # what the recording lacks
    MISSING_OCTETS = "missing_octets"
    CAPTURE_GAP = "capture_gap"
    DESYNCHRONIZED = "desynchronized"
    LOGGING_OFF = "logging_off"
    IGNORED_TRAFFIC = "ignored_traffic"
    """A capture held traffic that is not WebSocket (counted, not decoded)."""
    TLS_UNDECRYPTED = "tls_undecrypted"
    """TLS octets that could not be decrypted (no key, bad tag, a gap in a record)."""
    MESSAGES_ONLY = "messages_only"
    """The input recorded messages, not frames (HAR, mitmproxy): one frame
    per message is rebuilt; FIN, RSV, masks and chops are not known."""
    CAPTURE_COMMENT = "capture_comment"
    """A pcapng's comment (``opt_comment``): of a packet of the connection,
    or of the section or an interface (about the whole input)."""
    # cross-checks between derived and claimed facts
    CLAIM_MISMATCH = "claim_mismatch"
    STATS_MISMATCH = "stats_mismatch"

    @property
    def is_finding(self) -> bool:
        """Findings describe the recording, not a peer's misbehaviour."""
        return self in _FINDINGS


_FINDINGS = frozenset(
    {
        ViolationKind.MISSING_OCTETS,
        ViolationKind.CAPTURE_GAP,
        ViolationKind.DESYNCHRONIZED,
        ViolationKind.LOGGING_OFF,
        ViolationKind.IGNORED_TRAFFIC,
        ViolationKind.TLS_UNDECRYPTED,
        ViolationKind.MESSAGES_ONLY,
        ViolationKind.CAPTURE_COMMENT,
        ViolationKind.CLAIM_MISMATCH,
        ViolationKind.STATS_MISMATCH,
        ViolationKind.INFLATE_LIMIT,
        ViolationKind.MESSAGE_LIMIT,
    }
)


class MarkerKind(enum.Enum):
    """Things between chunks. Autobahn's names are kept for its timers."""

    DELAY = "CT"  # continueLater scheduled
    DELAY_FIRED = "CTE"
    KILL_AFTER = "KL"  # killAfter scheduled: fail the connection after delay
    KILL_FIRED = "KLE"
    CLOSE_AFTER = "TI"  # closeAfter scheduled: send close after delay
    CLOSE_FIRED = "TIE"
    WIRELOG = "WLM"  # wire logging switched on/off
    GAP = "gap"  # bytes missing from a capture (value = count)
    FIN = "fin"  # the sender half-closed TCP
    RST = "rst"  # TCP reset by the sender
    DROPPED = "dropped"  # Autobahn: TCP dropped (by ME = tx side, by PEER = rx side)
    SEGMENT = "segment"  # TLS: a TCP segment, a chop (value = tcp.len, raw = its ciphertext)
