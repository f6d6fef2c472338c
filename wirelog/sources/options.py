"""How inputs are read: the typed options every source and consumer shares."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Options:
    """How captures are read; Autobahn inputs ignore what does not apply."""

    ws_ports: tuple[int, ...] = ()
    """Treat TCP traffic on these ports as WebSocket frames from the first
    octet (captures that start after the handshake)."""
    ports: tuple[int, ...] = ()
    """Only connections with one of these ports (either end)."""
    conns: tuple[int, ...] = ()
    """Only these connection numbers."""
    keep_data: bool = True
    extra: dict[str, object] = field(default_factory=dict)
