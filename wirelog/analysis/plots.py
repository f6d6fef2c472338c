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

from wirelog.analysis.ladder import LADDER_LIMIT, PREVIEW, ladder
from wirelog.analysis.plotkit import COLORS, axes, dir_label, empty, integer_counts, legend, title

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["COLORS", "KINDS", "LADDER_LIMIT", "PREVIEW", "ladder"]


def _log_bins(values: Any, n: int = 30) -> list[float]:
    lo = max(1.0, float(values.min()))
    hi = max(lo * 1.01, float(values.max()))
    step = (math.log10(hi) - math.log10(lo)) / n
    return [10 ** (math.log10(lo) + i * step) for i in range(n + 1)]


def _hist_by_dir(ax: Axes, df: pd.DataFrame, col: str, what: str, xlabel: str) -> Axes:
    """Few distinct sizes: one bar per size (exact); many: a histogram, log
    bins when sizes span more than 50x."""
    df = df[df[col].notna()]  # NA: 2**63 octets or more, declared by a forbidden bit
    if df.empty:
        return empty(ax, df, what, "nothing to count")
    values = df[col].clip(lower=1)
    title(ax, df, what)
    ax.set_ylabel("count")
    integer_counts(ax)
    sizes = sorted(int(v) for v in values.unique())
    if len(sizes) <= 16:
        width = 0.4
        for k, d in enumerate(("tx", "rx")):
            part = df.loc[df["dir"] == d, col].value_counts()
            if part.empty:
                continue
            vals = [int(part.get(v, 0)) for v in sizes]
            xs = [i + (k - 0.5) * width for i in range(len(sizes))]
            label = f"{dir_label(df, d)}: {int(part.sum()):,}"
            bars = ax.bar(xs, vals, width, color=COLORS[d], label=label)
            # Thin bars side by side: upright counts, or "57" and "57" read "5757".
            upright = 90 if len(sizes) > 8 else 0
            ax.bar_label(bars, labels=[str(v) if v else "" for v in vals], fontsize=7,
                         padding=2, rotation=upright)  # fmt: skip
        names = [f"{v:,}" for v in sizes]
        ax.set_xticks(range(len(sizes)), names)
        # Many sizes, or long ones, would run into each other: stand them up.
        if len(sizes) * max(len(n) for n in names) > 48:
            ax.tick_params(axis="x", labelrotation=90)
        ax.set_xlabel(xlabel + " (each distinct value)")
        ax.margins(y=0.15)
    else:
        spread = float(values.max()) / max(1.0, float(values.min()))
        bins: Any = _log_bins(values) if spread > 50 else 30
        for d in ("rx", "tx"):  # tx dashed on top: an echo's identical outline stays visible
            part = df.loc[df["dir"] == d, col].clip(lower=1)
            if len(part):
                label = f"{dir_label(df, d)}: {len(part):,}"
                ls = "--" if d == "tx" else "-"
                ax.hist(part, bins=bins, color=COLORS[d], alpha=0.2, histtype="stepfilled")
                ax.hist(
                    part, bins=bins, color=COLORS[d], histtype="step", lw=1.6, ls=ls, label=label
                )
        if isinstance(bins, list):
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.margins(y=0.1)
    legend(ax)
    return ax


def chop_sizes(chops: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Histogram of chop sizes (octets per write/read), tx against rx.
    Table: ``chops()``."""
    return _hist_by_dir(
        axes(ax), chops, "length", "chop sizes (octets per write/read)", "chop size (octets)"
    )


def message_sizes(messages: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Distribution of data-message sizes (TEXT/BINARY, after reassembly and
    inflation), tx against rx. Table: ``messages()``."""
    data = messages[messages["opcode"].isin([1, 2])]
    return _hist_by_dir(axes(ax), data, "length", "data message sizes", "message length (octets)")


def frames_by_opcode(frames: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Frames per opcode, tx and rx side by side. Table: ``frames()`` or
    ``frame_stats()`` (which has a ``count`` column)."""
    ax = axes(ax)
    what = "frames by opcode"
    if frames.empty:
        return empty(ax, frames, what, "no frames")
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
        label = f"{dir_label(frames, d)}: {int(sum(vals)):,}"
        bars = ax.bar(xs, vals, width, color=COLORS[d], label=label)
        ax.bar_label(bars, labels=[f"{v:,}" if v else "" for v in vals], fontsize=8, padding=2)
    ax.set_xticks(range(len(ops)), names)
    ax.set_ylabel("frames")
    integer_counts(ax)
    title(ax, frames, what)
    ax.margins(y=0.15)
    legend(ax)
    return ax


def _time_axis(df: pd.DataFrame) -> tuple[Any, str, bool]:
    if "t" in df and df["t"].notna().any():
        return df["t"], "seconds since connection start", True
    return df["index"], "recorded order (the input has no timestamps)", False


def _duration(seconds: float) -> str:
    """A bin width a person reads: 45.2 µs, 3.1 ms, 2 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def throughput(chops: pd.DataFrame, ax: Axes | None = None, bins: int = 60) -> Axes:
    """Octets per second over time, tx and rx, in ``bins`` equal bins whose
    width the axis states. Several connections are summed on the input's
    clock (``time``). Table: ``chops()``."""
    ax = axes(ax)
    what = "throughput"
    if chops.empty:
        return empty(ax, chops, what, "no chops")
    timed = chops["time"].notna().any()
    if timed:
        t0 = chops["time"].min()
        x = (chops["time"] - t0).dt.total_seconds()
        span = max(float(x.max()), 1e-6)
        width = span / bins
        ylabel = f"octets per second ({_duration(width)} bins)"
        xlabel = f"seconds since {t0:%Y-%m-%d %H:%M:%S} UTC"
    else:
        x = chops["index"].astype(float)
        span = max(float(x.max()), 1.0)
        width = max(1.0, span / bins)
        ylabel = f"octets per bin of {width:g} chops"
        xlabel = "recorded order (the input has no timestamps)"
    nbins = max(1, math.ceil(span / width))
    for d in ("tx", "rx"):
        mask = chops["dir"] == d
        if not mask.any():
            continue
        idx = (x[mask] // width).astype(int).clip(upper=nbins - 1)
        sums = chops.loc[mask, "length"].groupby(idx.to_numpy()).sum()
        full = sums.reindex(range(nbins), fill_value=0)
        rate = (full / width if timed else full).to_numpy(dtype=float)
        # A step drawn "post" ends where its last bin begins: repeat the last
        # value at the right edge so the last bin is drawn as wide as the rest.
        edges = [i * width for i in range(nbins + 1)]
        ax.step(
            edges,
            [*rate, rate[-1]],
            where="post",
            color=COLORS[d],
            label=f"{dir_label(chops, d)}: {int(chops.loc[mask, 'length'].sum()):,} octets",
        )
    from matplotlib.ticker import EngFormatter

    ax.yaxis.set_major_formatter(EngFormatter(sep=" "))
    title(ax, chops, what)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, nbins * width)
    ax.set_ylim(bottom=0)
    legend(ax)
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
    ax = axes(ax)
    what = "ping-to-pong round-trip time"
    pairs = ping_rtts(frames)
    if pairs.empty:
        return empty(ax, frames, what, "no ping answered by a pong")
    if pairs["rtt"].isna().all():
        why = f"{len(pairs)} ping/pong pairs, but the input has no timestamps"
        return empty(ax, frames, what, why)
    x, xlabel, _ = _time_axis(pairs.assign(index=pairs["ping_index"]))
    for d in ("tx", "rx"):
        m = pairs["dir"] == d
        if m.any():
            ax.plot(
                x[m],
                pairs.loc[m, "rtt"] * 1000,
                "o",
                ms=4,
                color=COLORS[d],
                label=f"{dir_label(frames, d)}: {int(m.sum()):,} pings, "
                f"median {pairs.loc[m, 'rtt'].median() * 1000:.3g} ms",
            )
    title(ax, frames, what)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("round trip (ms)")
    ax.set_ylim(bottom=0)
    legend(ax)
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
