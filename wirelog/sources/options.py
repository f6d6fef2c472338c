"""How inputs are read: the typed options every source and consumer shares."""

from __future__ import annotations

from dataclasses import dataclass

from wirelog.protocol.deflate import DEFAULT_MAX_MESSAGE_SIZE


@dataclass(frozen=True, slots=True)
class Options:
    """How inputs are read and how far they are decoded; Autobahn inputs
    ignore the capture filters that do not apply."""

    ws_ports: tuple[int, ...] = ()
    """Treat TCP traffic on these ports as WebSocket frames from the first
    octet (captures that start after the handshake)."""
    ports: tuple[int, ...] = ()
    """Only connections with one of these ports (either end)."""
    conns: tuple[int, ...] = ()
    """Only these connection numbers."""
    share: tuple[int, int] | None = None
    """``(i, n)``: only the connections of share i of n, each connection's
    number hashed to one share (:mod:`wirelog.sources.share`). Captures
    only: the capture is still read whole, so numbers and chunk indexes are
    those of a reader without shares."""
    keep_data: bool = True
    """Messages keep their payload (off: lengths and violations only)."""
    frames: bool = True
    """Run the frame layer (RFC 6455 §5.2). Off: chunks and findings only,
    what ``decode --level chops`` lists."""
    messages: bool = True
    """Run the message layer (fragments joined, RFC 7692 inflation) on top
    of the frames; needs ``frames``."""
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    """Octets one message may assemble or inflate to (``--max-message-size``);
    past it the message is cut and flagged, and decoding goes on."""
    keylog: str | None = None
    """An NSS key log (``SSLKEYLOGFILE``) to decrypt TLS connections with;
    None: the ``SSLKEYLOGFILE`` variable's file, if any. Secrets inside a
    pcapng capture (Decryption Secrets Blocks) are used either way."""
