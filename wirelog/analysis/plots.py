"""Pictures of decoded traffic, with matplotlib's object API.

Every function takes a DataFrame from :func:`wirelog.load` (the table named
in its docstring), an optional :class:`~matplotlib.axes.Axes`, and returns the
Axes it drew on. Nothing here calls ``plt.show()`` or picks a backend: a
notebook shows the figure, the CLI saves it with the Agg backend.

Inputs without timestamps (Autobahn reports have none) are drawn against the
recorded order instead of time, and the axis label says so.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

COLORS = {"tx": "#c0504d", "rx": "#1f77b4"}
"""tx (the recorder, for a pcap the client) red, rx blue: the same everywhere."""
LADDER_LIMIT = 40
"""Frames a ladder draws before it shows only the first and last ones."""
PREVIEW = 24


def _axes(ax: Axes | None, size: tuple[float, float] = (7.5, 4.5)) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot()


def _empty(ax: Axes, title: str, why: str) -> Axes:
    ax.set_title(title)
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _dir_label(df: pd.DataFrame, d: str) -> str:
    senders = df.loc[df["dir"] == d, "sender"].dropna().unique().tolist()
    who = f" ({senders[0]})" if len(senders) == 1 else ""
    return f"{d}{who}"


def _log_bins(values: Any, n: int = 30) -> list[float]:
    lo = max(1.0, float(values.min()))
    hi = max(lo * 1.01, float(values.max()))
    step = (math.log10(hi) - math.log10(lo)) / n
    return [10 ** (math.log10(lo) + i * step) for i in range(n + 1)]


def _hist_by_dir(ax: Axes, df: pd.DataFrame, col: str, title: str, xlabel: str) -> Axes:
    """Few distinct sizes: one bar per size (exact); many: a histogram, log
    bins when sizes span more than 50x."""
    from matplotlib.ticker import MaxNLocator

    if df.empty:
        return _empty(ax, title, "nothing to count")
    values = df[col].clip(lower=1)
    ax.set_title(title)
    ax.set_ylabel("count")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    sizes = sorted(int(v) for v in values.unique())
    if len(sizes) <= 16:
        width = 0.4
        for k, d in enumerate(("tx", "rx")):
            part = df.loc[df["dir"] == d, col].value_counts()
            if part.empty:
                continue
            vals = [int(part.get(v, 0)) for v in sizes]
            xs = [i + (k - 0.5) * width for i in range(len(sizes))]
            label = f"{_dir_label(df, d)}: {int(part.sum()):,}"
            bars = ax.bar(xs, vals, width, color=COLORS[d], label=label)
            ax.bar_label(bars, labels=[str(v) if v else "" for v in vals], fontsize=8, padding=2)
        ax.set_xticks(range(len(sizes)), [f"{v:,}" for v in sizes])
        ax.set_xlabel(xlabel + " (each distinct value)")
        ax.margins(y=0.25)
    else:
        spread = float(values.max()) / max(1.0, float(values.min()))
        bins: Any = _log_bins(values) if spread > 50 else 30
        for d in ("rx", "tx"):  # tx dashed on top: an echo's identical outline stays visible
            part = df.loc[df["dir"] == d, col].clip(lower=1)
            if len(part):
                label = f"{_dir_label(df, d)}: {len(part):,}"
                ls = "--" if d == "tx" else "-"
                ax.hist(part, bins=bins, color=COLORS[d], alpha=0.2, histtype="stepfilled")
                ax.hist(
                    part, bins=bins, color=COLORS[d], histtype="step", lw=1.6, ls=ls, label=label
                )
        if isinstance(bins, list):
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.margins(y=0.1)
    ax.legend(frameon=False, loc="upper right")
    return ax


def chop_sizes(chops: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Histogram of chop sizes (octets per write/read), tx against rx.
    Table: ``chops()``."""
    return _hist_by_dir(
        _axes(ax), chops, "length", "Chop sizes (octets per write/read)", "chop size (octets)"
    )


def message_sizes(messages: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Distribution of data-message sizes (TEXT/BINARY, after reassembly and
    inflation), tx against rx. Table: ``messages()``."""
    data = messages[messages["opcode"].isin([1, 2])]
    return _hist_by_dir(_axes(ax), data, "length", "Data message sizes", "message length (octets)")


def frames_by_opcode(frames: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Frames per opcode, tx and rx side by side. Table: ``frames()`` or
    ``frame_stats()`` (which has a ``count`` column)."""
    ax = _axes(ax)
    title = "Frames by opcode"
    if frames.empty:
        return _empty(ax, title, "no frames")
    if "count" in frames:
        counts = frames.groupby(["opcode", "dir"], observed=True)["count"].sum()
    else:
        counts = frames.groupby(["opcode", "dir"], observed=True).size()
    table = counts.unstack("dir", fill_value=0)
    ops = [int(o) for o in table.index]
    from wirelog.model import Opcode

    names = [f"{Opcode.name_of(o)}\n({o})" for o in ops]
    width = 0.38
    for k, d in enumerate(("tx", "rx")):
        vals = table[d].tolist() if d in table else [0] * len(ops)
        xs = [i + (k - 0.5) * width for i in range(len(ops))]
        bars = ax.bar(xs, vals, width, color=COLORS[d], label=_dir_label(frames, d))
        ax.bar_label(bars, labels=[f"{v:,}" if v else "" for v in vals], fontsize=8, padding=2)
    ax.set_xticks(range(len(ops)), names)
    ax.set_ylabel("frames")
    ax.set_title(title)
    ax.margins(y=0.15)
    ax.legend(frameon=False)
    return ax


def _time_axis(df: pd.DataFrame) -> tuple[Any, str, bool]:
    if "t" in df and df["t"].notna().any():
        return df["t"], "seconds since connection start", True
    return df["index"], "recorded order (the input has no timestamps)", False


def throughput(chops: pd.DataFrame, ax: Axes | None = None, bins: int = 60) -> Axes:
    """Octets per second over time, tx and rx. Several connections are
    summed on the input's clock (``time``). Table: ``chops()``."""
    ax = _axes(ax)
    title = "Throughput"
    if chops.empty:
        return _empty(ax, title, "no chops")
    timed = chops["time"].notna().any()
    if timed:
        t0 = chops["time"].min()
        x = (chops["time"] - t0).dt.total_seconds()
        span = max(float(x.max()), 1e-6)
        width = span / bins
        ylabel = "octets per second"
        xlabel = f"seconds since {t0:%Y-%m-%d %H:%M:%S} UTC"
    else:
        x = chops["index"].astype(float)
        span = max(float(x.max()), 1.0)
        width = max(1.0, span / bins)
        ylabel = "octets per bin"
        xlabel = "recorded order (the input has no timestamps)"
    for d in ("tx", "rx"):
        mask = chops["dir"] == d
        if not mask.any():
            continue
        nbins = max(1, round(span / width))
        idx = (x[mask] // width).astype(int).clip(upper=nbins - 1)
        sums = chops.loc[mask, "length"].groupby(idx.to_numpy()).sum()
        full = sums.reindex(range(nbins), fill_value=0)
        rate = full / width if timed else full
        ax.step(
            [i * width for i in full.index],
            rate.to_numpy(dtype=float),
            where="post",
            color=COLORS[d],
            label=f"{_dir_label(chops, d)}: {int(chops.loc[mask, 'length'].sum()):,} octets",
        )
    from matplotlib.ticker import EngFormatter

    ax.yaxis.set_major_formatter(EngFormatter(sep=" "))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)  # headroom: the legend sits above the peaks
    ax.legend(frameon=False, loc="upper right")
    return ax


def ping_rtts(frames: pd.DataFrame) -> pd.DataFrame:
    """Pair each PING with the first later PONG from the other side carrying
    the same payload (RFC 6455 §5.5.3); one row per answered ping:
    ``source, conn, dir`` (of the ping), ``ping_index``, ``t``, ``time``,
    ``rtt`` (seconds; NaN without timestamps), ``payload``."""
    import pandas as pd

    out: dict[str, list[Any]] = {
        k: [] for k in ("source", "conn", "dir", "ping_index", "t", "time", "rtt", "payload")
    }
    ctl = frames[frames["opcode"].isin([9, 10])]
    for (source, conn), g in ctl.groupby(["source", "conn"], sort=False):
        pending: list[Any] = []
        for row in g.itertuples(index=False):
            if row.opcode == 9:
                pending.append(row)
                continue
            for k, p in enumerate(pending):
                if p.dir != row.dir and p.payload == row.payload:
                    out["source"].append(source)
                    out["conn"].append(conn)
                    out["dir"].append(p.dir)
                    out["ping_index"].append(p.index)
                    out["t"].append(p.t)
                    out["time"].append(p.time)
                    out["rtt"].append(row.ts - p.ts)
                    out["payload"].append(p.payload)
                    del pending[k]
                    break
    return pd.DataFrame(out)


def rtt(frames: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Ping-to-pong round-trip times over time (see :func:`ping_rtts`).
    Table: ``frames()``."""
    ax = _axes(ax)
    title = "Ping-to-pong round-trip time"
    pairs = ping_rtts(frames)
    if pairs.empty:
        return _empty(ax, title, "no ping answered by a pong")
    if pairs["rtt"].isna().all():
        return _empty(ax, title, f"{len(pairs)} ping/pong pairs, but the input has no timestamps")
    x, xlabel, _ = _time_axis(pairs.assign(index=pairs["ping_index"]))
    for d in ("tx", "rx"):
        m = pairs["dir"] == d
        if m.any():
            who = "recorder" if d == "tx" else "peer"
            ax.plot(
                x[m],
                pairs.loc[m, "rtt"] * 1000,
                "o",
                ms=4,
                color=COLORS[d],
                label=f"pings sent by {d} ({who}): {int(m.sum())}, "
                f"median {pairs.loc[m, 'rtt'].median() * 1000:.3g} ms",
            )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("round trip (ms)")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return ax


def _preview(payload_hex: Any, opcode: int, length: int) -> str:
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


def ladder(
    frames: pd.DataFrame,
    ax: Axes | None = None,
    conn: int | None = None,
    limit: int = LADDER_LIMIT,
) -> Axes:
    """Sequence diagram of one connection: a client and a server lane, one
    arrow per frame in recorded order, labelled with opcode, length and a
    payload preview. More than ``limit`` frames: the first and last
    ``limit // 2`` are drawn and the title says how many were left out.
    Table: ``frames()`` (``conn`` picks the connection; default the first)."""
    if frames.empty:
        return _empty(_axes(ax), "Ladder", "no frames")
    key = frames[["source", "conn"]].drop_duplicates()
    if conn is not None:
        key = key[key["conn"] == conn]
        if key.empty:
            return _empty(_axes(ax), "Ladder", f"no connection {conn}")
    source, c = key.iloc[0]["source"], int(key.iloc[0]["conn"])
    df = frames[(frames["source"] == source) & (frames["conn"] == c)].reset_index(drop=True)
    n = len(df)
    if n > limit:
        head = limit // 2
        shown = df.iloc[list(range(head)) + list(range(n - (limit - head), n))]
        skipped = n - limit
    else:
        shown, skipped = df, 0
    rows = len(shown) + (1 if skipped else 0)
    ax = _axes(ax, size=(9.0, 1.6 + 0.36 * rows))
    lanes = {"client": 0.0, "server": 1.0}
    timed = shown["t"].notna().any()
    y = 0.0
    gap_done = False
    for pos, row in enumerate(shown.itertuples(index=False)):
        if skipped and not gap_done and pos == limit // 2:
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
            y += 1.0
            gap_done = True
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
        preview = _preview(row.payload, row.opcode, row.length)
        label = f"{row.opcode_name} len={row.length}{flags}  {preview}"
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
        when = f"{row.t:.6f}s" if timed and row.t == row.t else f"{row.dir} #{row.index}"
        ax.text(-0.04, y, when, ha="right", va="center", fontsize=7, color="0.4")
        y += 1.0
    for name, x in lanes.items():
        ax.plot([x, x], [-0.6, y], color="0.55", lw=1.5, zorder=0)
        ax.text(x, -0.8, name, ha="center", va="bottom", fontsize=10, fontweight="bold")
    ax.set_xlim(-0.3, 1.15)
    ax.set_ylim(y + 0.1, -1.3)
    ax.axis("off")
    title = f"{source} conn {c}: {n:,} frames"
    if skipped:
        title += f" (first {limit // 2} and last {limit - limit // 2} shown)"
    ax.set_title(title, fontsize=10)
    return ax


KINDS = {
    "chops": ("chops", chop_sizes),
    "opcodes": ("frames", frames_by_opcode),
    "ladder": ("frames", ladder),
    "throughput": ("chops", throughput),
    "messages": ("messages", message_sizes),
    "rtt": ("frames", rtt),
}
"""Plot kind -> (the table it draws, the function)."""
