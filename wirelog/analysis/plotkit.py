"""What every plot shares: colours, one legend wording, titles that name
the input, legends that never sit on the data, and the empty picture.

Kept apart from :mod:`wirelog.analysis.plots` and
:mod:`wirelog.analysis.ladder` so that both draw with the same words.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

COLORS = {"tx": "#c0504d", "rx": "#1f77b4"}
"""tx (the recorder, for a pcap the client) red, rx blue: the same everywhere."""


def axes(ax: Axes | None, size: tuple[float, float] = (7.5, 4.5)) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot()


def input_name(df: pd.DataFrame) -> str:
    """The input a table comes from, for titles: its file name, or how many."""
    if "source" not in df or df.empty:
        return ""
    sources = df["source"].dropna().unique().tolist()
    if len(sources) == 1:
        return os.path.basename(os.path.normpath(str(sources[0]))) or str(sources[0])
    return f"{len(sources)} inputs"


def title(ax: Axes, df: pd.DataFrame, what: str, **kw: object) -> None:
    """``input: what``; every plot names what it was drawn from."""
    name = input_name(df)
    ax.set_title(f"{name}: {what}" if name else what, **kw)  # type: ignore[arg-type]


def empty(ax: Axes, df: pd.DataFrame, what: str, why: str) -> Axes:
    title(ax, df, what)
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def dir_label(df: pd.DataFrame, d: str) -> str:
    """The one wording of a direction in every legend: ``tx (client)``."""
    senders = df.loc[df["dir"] == d, "sender"].dropna().unique().tolist() if "sender" in df else []
    who = f" ({senders[0]})" if len(senders) == 1 else ""
    return f"{d}{who}"


def legend(ax: Axes) -> None:
    """The legend beside the axes, outside them: it cannot cover a bar or a
    peak (constrained layout makes the room). tx is listed first whatever
    order the lines were drawn in."""
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith("tx"))
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        frameon=False,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0,
    )


def integer_counts(ax: Axes, axis: str = "y") -> None:
    """Counts are whole: no 2.5 frames on a tick."""
    from matplotlib.ticker import MaxNLocator

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(integer=True))
