"""The ladder (sequence) diagram of one connection.

A client and a server lane, one arrow per frame in recorded order, labelled
with opcode, length and a payload preview; and, when the caller passes the
connection's :func:`marks`, what happened besides frames where it happened:
the opening handshake, octets missing from a capture, FIN and RST, and
Autobahn's timers. Frames and marks are put in the recording's one order
(a frame at the chunk holding its first header octet, a marker at its index).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wirelog.analysis.plotkit import COLORS, axes, empty, input_name
from wirelog.model import Chunk, Connection, Handshake, Marker, MarkerKind
from wirelog.protocol.connection import DecodedConnection

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

LADDER_LIMIT = 40
"""Frames a ladder draws before it shows only the first and last ones."""
PREVIEW = 24
MARK_COLOR = "0.35"
GAP_COLOR = "#b8860b"


@dataclass(frozen=True, slots=True)
class Mark:
    """Something on the ladder that is not a frame."""

    pos: int
    """Where in the recording (chunk or marker index)."""
    kind: str
    """``handshake``, ``gap``, ``fin``, ``rst``, ``dropped`` or ``timer``."""
    sender: str | None
    """``client`` / ``server``; None when it belongs to no side."""
    label: str
    t: float | None = None


_TIMERS = {
    MarkerKind.DELAY: "timer: continue later",
    MarkerKind.KILL_AFTER: "timer: fail after",
    MarkerKind.CLOSE_AFTER: "timer: close after",
}


def marks(dc: DecodedConnection, start: float | None = None) -> list[Mark]:
    """The marks of one decoded connection: the handshake's two heads (at
    their first chunks), gaps, FIN, RST, drops and timers (fired timers
    are left out: the frames they cause show it)."""
    c = dc.connection
    firsts: dict[str, Chunk] = {}
    for ch in c.chunks:
        firsts.setdefault(c.sender(ch.direction).value, ch)
        if len(firsts) == 2:
            break
    return marks_from(c, dc.handshake, firsts, c.markers, start)


def marks_from(
    c: Connection,
    hs: Handshake | None,
    firsts: Mapping[str, Chunk],
    markers: Iterable[Marker],
    start: float | None = None,
) -> list[Mark]:
    """:func:`marks` from the parts of a connection a stream passes (its
    handshake, each side's first chunk by role, its markers): what ``wirelog
    plot`` keeps of a connection it does not hold."""

    def rel(ts: float | None) -> float | None:
        return ts - start if ts is not None and start is not None else None

    out: list[Mark] = []
    if hs is not None:
        for role, head in (("client", hs.request), ("server", hs.response)):
            first = firsts.get(role)
            if not head or first is None:
                continue
            if role == "client":
                label = f"{hs.method or 'GET'} {hs.target or '/'}: opening handshake"
            else:
                label = f"HTTP {hs.status}" + (" Switching Protocols" if hs.upgraded else "")
            out.append(Mark(first.index, "handshake", role, label, rel(first.ts)))
    for mk in markers:
        who = c.sender(mk.direction).value if mk.direction is not None else None
        if mk.kind is MarkerKind.GAP:
            out.append(Mark(mk.index, "gap", who, f"{mk.value} octets missing", rel(mk.ts)))
        elif mk.kind in (MarkerKind.FIN, MarkerKind.RST, MarkerKind.DROPPED):
            name = {"fin": "FIN", "rst": "RST", "dropped": "TCP dropped"}[mk.kind.value]
            out.append(Mark(mk.index, mk.kind.value, who, name, rel(mk.ts)))
        elif mk.kind in _TIMERS:
            value = f" {mk.value} s" if mk.value is not None else ""
            out.append(Mark(mk.index, "timer", None, _TIMERS[mk.kind] + value, rel(mk.ts)))
    return out


def preview(payload_hex: Any, opcode: int, length: int) -> str:
    if not isinstance(payload_hex, str) or not payload_hex:
        return ""
    data = bytes.fromhex(payload_hex[: PREVIEW * 2 + 8])
    if opcode == 8 and len(data) >= 2:
        code = int.from_bytes(data[:2], "big")
        reason = data[2:].decode("utf-8", "replace")
        return f"code {code}" + (f' "{reason[:PREVIEW]}"' if reason else "")
    try:
        text = data[:PREVIEW].decode("utf-8")
        shown = text.replace("\n", "\\n").replace("\r", "\\r")
        printable = all(c.isprintable() for c in shown)
    except UnicodeDecodeError:
        printable = False
    if printable:
        more = "…" if length > PREVIEW else ""
        return f'"{shown}{more}"'
    more = "…" if length > 8 else ""
    return f"0x{data[:8].hex()}{more}"


def _rows(
    df: pd.DataFrame, given: list[Mark], limit: int, numbers: Sequence[int] | None, n: int
) -> tuple[list[Any], int]:
    """Frames and marks in recorded order, cut to the first and last frames
    beyond ``limit``; returns the rows (a ``None`` row where frames were
    left out) and how many frames were left out. ``numbers``: each row's
    place among the ``n`` frames, when ``df`` holds only some of them."""
    keyed: list[tuple[float, int, Any]] = []
    last = -math.inf
    places = numbers if numbers is not None else range(len(df))
    rows = zip(places, df.itertuples(index=False), df["chunk"], strict=True)
    for k, row, chunk in rows:
        if not _is_na(chunk):  # frames without a chunk (a log's claims) keep their place
            last = float(chunk)
        keyed.append((last, 1, (k, row)))  # a mark at the same position comes first
    keyed += [(float(m.pos), 0, m) for m in given]
    keyed.sort(key=lambda k: (k[0], k[1]))
    items = [k[2] for k in keyed]
    if n <= limit:
        return items, 0
    head, tail_from = limit // 2, n - (limit - limit // 2)
    out: list[Any] = []
    gap_done = False
    for it in items:
        frame_no = it[0] if isinstance(it, tuple) else None
        if frame_no is not None and head <= frame_no < tail_from:
            if not gap_done:
                out.append(None)
                gap_done = True
            continue
        if frame_no is None and gap_done and len(out) and _before_tail(out, items, it, tail_from):
            continue
        out.append(it)
    return out, n - limit


def _before_tail(out: list[Any], items: list[Any], mark: Any, tail_from: int) -> bool:
    """A mark inside the frames left out is left out with them."""
    after = items[items.index(mark) :]
    nxt = next((it for it in after if isinstance(it, tuple)), None)
    return nxt is not None and nxt[0] < tail_from


def _is_na(v: Any) -> bool:
    import pandas as pd

    return v is None or bool(pd.isna(v))


def ladder(
    frames: pd.DataFrame,
    ax: Axes | None = None,
    conn: int | None = None,
    limit: int = LADDER_LIMIT,
    marks: list[Mark] | None = None,
    numbers: Sequence[int] | None = None,
    total: int | None = None,
) -> Axes:
    """Sequence diagram of one connection: a client and a server lane, one
    arrow per frame in recorded order, labelled with opcode, length and a
    payload preview, and the connection's :func:`marks` if given. More than
    ``limit`` frames: the first and last ``limit // 2`` are drawn and the
    title says how many were left out. Table: ``frames()`` (``conn`` picks
    the connection; default the first), or only some of its frames: their
    places among the connection's ``total`` frames in ``numbers`` (the first
    ``limit // 2 + 1`` and the last ``limit - limit // 2 + 1`` are enough)."""
    if frames.empty:
        return empty(axes(ax), frames, "ladder", "no frames")
    key = frames[["source", "conn"]].drop_duplicates()
    if conn is not None:
        key = key[key["conn"] == conn]
        if key.empty:
            return empty(axes(ax), frames, "ladder", f"no connection {conn}")
    source, c = key.iloc[0]["source"], int(key.iloc[0]["conn"])
    df = frames[(frames["source"] == source) & (frames["conn"] == c)].reset_index(drop=True)
    n = len(df) if total is None else total
    rows, skipped = _rows(df, marks or [], limit, numbers, n)
    ax = axes(ax, size=(9.0, 1.6 + 0.36 * len(rows)))
    lanes = {"client": 0.0, "server": 1.0}
    timed = df["t"].notna().any()
    y = 0.0
    for it in rows:
        if it is None:
            ax.text(
                0.5,
                y + 0.5,
                f"⋮  {skipped:,} frames not shown  ⋮",
                ha="center",
                va="center",
                fontsize=9,
                color="0.35",
                style="italic",
            )
        elif isinstance(it, Mark):
            _mark(ax, it, y, lanes, timed)
        else:
            _frame(ax, it[1], y, lanes, timed)
        y += 1.0
    for name, x in lanes.items():
        ax.plot([x, x], [-0.6, y], color="0.55", lw=1.5, zorder=0)
        ax.text(x, -0.8, name, ha="center", va="bottom", fontsize=10, fontweight="bold")
    ax.set_xlim(-0.3, 1.15)
    ax.set_ylim(y + 0.1, -1.3)
    ax.axis("off")
    what = f"{input_name(df)}: conn {c}: {n:,} frames"
    if skipped:
        what += f" (first {limit // 2} and last {limit - limit // 2} shown)"
    ax.set_title(what, fontsize=10)
    return ax


def _when(ax: Axes, y: float, t: Any, fallback: str, timed: bool) -> None:
    when = f"{t:.6f}s" if timed and t is not None and t == t else fallback
    ax.text(-0.04, y, when, ha="right", va="center", fontsize=7, color="0.4")


def _frame(ax: Axes, row: Any, y: float, lanes: dict[str, float], timed: bool) -> None:
    start = lanes[str(row.sender)]
    end = 1.0 - start
    color = COLORS[str(row.dir)]
    ax.annotate(
        "",
        xy=(end, y + 0.45),
        xytext=(start, y),
        arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.2, "shrinkA": 0, "shrinkB": 0},
    )
    flags = "" if row.fin else " FIN=0"
    flags += f" RSV={row.rsv}" if row.rsv else ""
    # NA: 2**63 octets or more, declared by a forbidden top bit (its violation follows)
    length = 1 << 63 if _is_na(row.length) else int(row.length)
    shown = "≥2^63" if _is_na(row.length) else str(length)
    label = f"{row.opcode_name} len={shown}{flags}  {preview(row.payload, row.opcode, length)}"
    if row.violations:
        label += "  ⚠ " + ",".join(row.violations)
    ax.text(
        0.5,
        y + 0.2,
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        color=color,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.85},
    )
    _when(ax, y, row.t, f"{row.dir} #{row.index}", timed)


def _mark(ax: Axes, m: Mark, y: float, lanes: dict[str, float], timed: bool) -> None:
    if m.kind == "handshake" and m.sender in lanes:
        start = lanes[m.sender]
        ax.annotate(
            "",
            xy=(1.0 - start, y + 0.45),
            xytext=(start, y),
            arrowprops={
                "arrowstyle": "-|>",
                "color": MARK_COLOR,
                "lw": 1.0,
                "ls": "--",
                "shrinkA": 0,
                "shrinkB": 0,
            },
        )
        ax.text(
            0.5,
            y + 0.2,
            m.label,
            ha="center",
            va="bottom",
            fontsize=8,
            color=MARK_COLOR,
            style="italic",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
        )
    elif m.kind == "gap":
        ax.plot([0.0, 1.0], [y + 0.2, y + 0.2], color=GAP_COLOR, lw=1.0, ls=":")
        who = (
            f" ({m.sender} → {'server' if m.sender == 'client' else 'client'})" if m.sender else ""
        )
        ax.text(
            0.5,
            y + 0.2,
            f"⚡ {m.label}{who}",
            ha="center",
            va="center",
            fontsize=8,
            color=GAP_COLOR,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
        )
    elif m.sender in lanes:  # FIN, RST, drop: at the lane of the side that did it
        x = lanes[m.sender]
        ax.plot([x], [y + 0.2], marker="x" if m.kind == "rst" else "s", ms=6, color=MARK_COLOR)
        ha, dx = ("left", 0.03) if x == 0.0 else ("right", -0.03)
        ax.text(
            x + dx,
            y + 0.2,
            f"{m.label} ({m.sender})",
            ha=ha,
            va="center",
            fontsize=8,
            color=MARK_COLOR,
            fontweight="bold",
        )
    else:  # a timer, or an end without a side
        ax.text(
            0.5,
            y + 0.2,
            m.label,
            ha="center",
            va="center",
            fontsize=8,
            color=MARK_COLOR,
            style="italic",
        )
    _when(ax, y, m.t, m.kind, timed)
