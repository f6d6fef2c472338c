"""Where a replay goes: the target URL, the listen address, and the head
edits a client replay makes for its target (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from wirelog.errors import UsageError
from wirelog.replay.head import edit_head, new_key
from wirelog.replay.steps import Plan

#: RFC 6455 §3: ws and wss default to the ports of http and https.
_DEFAULT_PORTS = {"ws": 80, "wss": 443}


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int

    @property
    def peer(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def secure(self) -> bool:
        return self.scheme == "wss"

    @property
    def host_header(self) -> str:
        """The Host value a client sends to it (RFC 7230 §5.4: the port only
        when it is not the scheme's default)."""
        return self.host if self.port == _DEFAULT_PORTS[self.scheme] else self.peer


def parse_target(url: str) -> Target:
    """``ws://host:port/`` or ``wss://host:port/``; host and port are required
    so that nothing is ever sent to a place the user did not name."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise UsageError(f"target {url!r}: the scheme must be ws:// or wss://")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise UsageError(f"target {url!r}: give both host and port, e.g. ws://127.0.0.1:9001/")
    return Target(parts.scheme, parts.hostname, port)


def parse_listen(spec: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9001`` for IPv6) for a server replay."""
    host, sep, port = spec.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise UsageError(f"--listen {spec!r}: expected HOST:PORT, e.g. 127.0.0.1:9001")
    return host.strip("[]"), int(port)


def client_plan(plan: Plan, target: Target, *, keep_host: bool, fresh_key: bool) -> Plan:
    """The handshake edits a client replay makes: Host to the target (so
    virtual hosts route as they did), and optionally a new key."""
    edits: dict[str, str] = {}
    if not keep_host:
        edits["Host"] = target.host_header
    if fresh_key:
        edits["Sec-WebSocket-Key"] = new_key()
    return edit_head(plan, edits)
