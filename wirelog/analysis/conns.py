"""``wirelog conns``: one row per connection, by role, from its summary.

Every fact is the one :mod:`wirelog.summary` derives for the report and the
connections table (counts, close codes, who closed and who dropped TCP),
read per role (client/server) rather than per recorder direction, since a
person reading a connection list thinks in client and server. An input is
counted as it streams (:func:`summaries`: a :class:`~wirelog.summary.Tally`
per open connection), so listing the connections of a multi-gigabyte
capture costs memory per open connection, not per capture; who dropped TCP
comes from the FIN and RST markers in the stream.

:func:`pick` is the one place a ``--conn`` that matches nothing is
reported, in the words every command uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from wirelog.errors import InputError, UsageError
from wirelog.model import Connection, Direction, Role
from wirelog.pipeline import ConnectionEnd, Options, stream
from wirelog.protocol.connection import DecodedConnection
from wirelog.summary import ConnectionSummary, Tally

COLUMNS = (
    "source", "conn", "client", "server", "start", "duration", "path", "subprotocol",
    "extensions", "tls", "frames_client", "frames_server", "messages_client",
    "messages_server", "close_client", "close_server", "closed_by", "dropped_by", "clean",
    "violations", "findings",
)  # fmt: skip

TABLE = (
    "conn", "client", "server", "start", "duration", "path", "subprotocol", "extensions",
    "frames", "messages", "close", "closed_by", "dropped_by", "problems",
)  # fmt: skip
"""The table view: per-role pairs as ``client/server`` cells."""


def listed(existing: Sequence[int]) -> str:
    """The connection numbers an error names: the first 20 (a capture may hold thousands)."""
    more = ", …" if len(existing) > 20 else ""
    return ", ".join(str(c) for c in existing[:20]) + more


def no_such_connection(wanted: Iterable[int], existing: Sequence[int], where: str) -> UsageError:
    """``--conn 99`` that matches nothing, in the words ``replay`` and ``diff``
    use too (:func:`wirelog.replay.diff.pick`)."""
    if not existing:
        return UsageError(f"{where}: no connections")
    asked = ", ".join(str(c) for c in sorted(set(wanted)))
    return UsageError(f"{where}: no connection {asked} (have {listed(existing)})")


def pick_one(dcs: Sequence[DecodedConnection | int], where: str) -> UsageError:
    """Several connections (or their numbers) where one is needed, in ``replay``'s words."""
    have = listed([d if isinstance(d, int) else d.conn for d in dcs])
    return UsageError(f"{where}: {len(dcs)} connections ({have}); pick one with --conn")


class Numbered(Protocol):
    """A connection, decoded or summed up: what ``--conn`` picks among."""

    @property
    def conn(self) -> int: ...


N = TypeVar("N", bound=Numbered)


def pick(items: Sequence[N], wanted: Sequence[int], where: str) -> list[N]:
    """The connections ``--conn`` asks for (all when none is asked); raises
    :func:`no_such_connection` when some asked for are not there."""
    if not wanted:
        return list(items)
    have = [d.conn for d in items]
    missing = [c for c in wanted if c not in have]
    if missing:
        raise no_such_connection(missing, have, where)
    return [d for d in items if d.conn in wanted]


def summaries(path: str, options: Options | None = None) -> Iterator[ConnectionSummary]:
    """Each connection's summary as the connection ends, in the order they
    end. An input that fails part-way gives what it has (the connections
    still open at the failure too, as far as they got), then raises."""
    tallies: dict[int, Tally] = {}
    try:
        for conn, item in stream(path, options):
            tally = tallies.get(id(conn))
            if tally is None:
                tally = tallies[id(conn)] = Tally(conn)
            if isinstance(item, ConnectionEnd):
                yield tallies.pop(id(conn)).summary()
            else:
                tally.add(item)
    except InputError:
        for tally in tallies.values():
            yield tally.summary()
        raise


def counted(
    path: str, options: Options | None = None
) -> tuple[list[ConnectionSummary], InputError | None]:
    """Every connection of one input (:func:`summaries`), in the order of
    the input's sources and connection numbers, and the error that stopped
    the input part-way, if one did (raised when nothing came before it)."""
    got: list[ConnectionSummary] = []
    error = None
    try:
        got.extend(summaries(path, options))
    except InputError as exc:
        if not got:
            raise
        error = exc
    rank: dict[str, int] = {}
    for s in got:
        rank.setdefault(s.connection.source, len(rank))
    got.sort(key=lambda s: (rank[s.connection.source], s.connection.conn))
    return got, error


def _tls(conn: Connection) -> dict[str, Any] | None:
    """The TLS facts of a decrypted (wss://) connection, when the source gave any."""
    info = getattr(conn, "tls", None)
    if info is None:
        return None
    fields = ("version", "cipher", "sni", "alpn")
    return {f: getattr(info, f, None) for f in fields if getattr(info, f, None) is not None}


def row(s: ConnectionSummary) -> dict[str, Any]:
    """One connection's facts (JSON-ready: times as ISO 8601 UTC)."""
    c = s.connection
    hs = s.handshake
    by_role = {c.sender(d): s.of(d) for d in (Direction.TX, Direction.RX)}
    cl, sv = by_role[Role.CLIENT], by_role[Role.SERVER]
    closing = s.closing
    start = (
        dt.datetime.fromtimestamp(s.start, dt.UTC).isoformat().replace("+00:00", "Z")
        if s.start is not None
        else None
    )
    return {
        "source": c.source,
        "conn": c.conn,
        "client": c.client,
        "server": c.server,
        "start": start,
        "duration": round(s.duration, 6) if s.duration is not None else None,
        "path": hs.target if hs else None,
        "subprotocol": hs.subprotocol if hs else None,
        "extensions": hs.extensions if hs else None,
        "tls": _tls(c),
        "frames_client": cl.frames,
        "frames_server": sv.frames,
        "messages_client": cl.messages,
        "messages_server": sv.messages,
        "close_client": closing.client_code if closing.client_sent else None,
        "close_server": closing.server_code if closing.server_sent else None,
        "closed_by": closing.closed_by.value if closing.closed_by else None,
        "dropped_by": (
            closing.dropped_by.value + (" (reset)" if closing.reset else "")
            if closing.dropped_by
            else None
        ),
        "clean": closing.clean,
        "violations": s.violations,
        "findings": s.findings,
    }


def table_row(r: dict[str, Any]) -> dict[str, Any]:
    """A :func:`row` as the table shows it (pairs joined, TLS in the extensions cell)."""

    def pair(a: Any, b: Any) -> str:
        return f"{'-' if a is None else a}/{'-' if b is None else b}"

    ext = r["extensions"]
    if r["tls"]:
        tls = " ".join(str(v) for v in r["tls"].values())
        ext = f"{ext}; {tls}" if ext else tls
    return {
        **{k: r[k] for k in ("source", "conn", "client", "server", "path", "subprotocol")},
        "start": r["start"],
        "duration": r["duration"],
        "extensions": ext,
        "frames": pair(r["frames_client"], r["frames_server"]),
        "messages": pair(r["messages_client"], r["messages_server"]),
        "close": pair(r["close_client"], r["close_server"]),
        "closed_by": r["closed_by"],
        "dropped_by": r["dropped_by"],
        "problems": f"{r['violations']} violations, {r['findings']} findings",
    }
