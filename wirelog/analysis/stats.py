"""Autobahn's four histograms as DataFrames.

Built from the very objects ``wirelog stats --format json`` prints
(:func:`wirelog.outputs.statsview.stats_entry`), so a notebook and the CLI cannot
disagree: same counting rules (a chunk is a chop; Autobahn tx frames are
counted from its TF claims), same numbers.

Long format, one row per (connection, direction, size-or-opcode):

* :func:`octet_stats`: ``source, conn, dir, chop_size, count, octets``
  (+ ``reported`` / ``hidden`` counts where the input printed its own
  statistics, i.e. Autobahn reports).
* :func:`frame_stats`: ``source, conn, dir, opcode, opcode_name, count``
  (+ ``reported`` / ``hidden``).

``overall=True`` sums over connections.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from wirelog.analysis.table import CATEGORIES
from wirelog.model import Opcode

if TYPE_CHECKING:
    import pandas as pd

_KEYS = {
    "octets": (("tx", "txOctetStats"), ("rx", "rxOctetStats")),
    "frames": (("tx", "txFrameStats"), ("rx", "rxFrameStats")),
}


def _long(entries: Iterable[dict[str, Any]], what: str) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {
        k: [] for k in ("source", "conn", "dir", "key", "count", "reported", "hidden")
    }
    for e in entries:
        rep = e.get("reported")
        hid = e.get("hidden")
        for d, key in _KEYS[what]:
            mine = {int(k): int(v) for k, v in e[key].items()}
            theirs = {int(k): int(v) for k, v in (rep or {}).get(key, {}).items()}
            hidden = {int(k): int(v) for k, v in (hid or {}).get(key, {}).items()}
            for k in sorted(set(mine) | set(theirs)):
                cols["source"].append(e["source"])
                cols["conn"].append(e["conn"])
                cols["dir"].append(d)
                cols["key"].append(k)
                cols["count"].append(mine.get(k, 0))
                cols["reported"].append(theirs.get(k, 0) if rep is not None else None)
                cols["hidden"].append(hidden.get(k, 0) if rep is not None else None)
    return cols


def _frame(cols: dict[str, list[Any]], key: str) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame(
        {
            "source": pd.array(cols["source"], dtype=pd.StringDtype("python")),
            "conn": pd.array(cols["conn"], dtype="int64"),
            "dir": pd.Categorical(cols["dir"], categories=list(CATEGORIES["dir"])),
            key: pd.array(cols["key"], dtype="int64"),
            "count": pd.array(cols["count"], dtype="int64"),
            "reported": pd.array(cols["reported"], dtype="Int64"),
            "hidden": pd.array(cols["hidden"], dtype="Int64"),
        }
    )
    return df


def _overall(df: pd.DataFrame, key: str) -> pd.DataFrame:
    num = ["count", "reported", "hidden"] + (["octets"] if "octets" in df else [])
    out = df.groupby(["dir", key], observed=True, sort=True)[num].sum(min_count=1).reset_index()
    first = ["dir", key, "count"] + (["octets"] if "octets" in df else [])
    return out[[*first, "reported", "hidden"]]


def octet_stats(entries: Iterable[dict[str, Any]], overall: bool = False) -> pd.DataFrame:
    """Octets by chop size; ``octets`` = ``chop_size * count``."""
    df = _frame(_long(entries, "octets"), "chop_size")
    df.insert(5, "octets", df["chop_size"] * df["count"])
    return _overall(df, "chop_size") if overall else df


def frame_stats(entries: Iterable[dict[str, Any]], overall: bool = False) -> pd.DataFrame:
    """Frames by opcode, with the opcode's name beside its number."""
    import pandas as pd

    df = _frame(_long(entries, "frames"), "opcode")
    names = [Opcode.name_of(int(o)) for o in df["opcode"]]
    cats = list(CATEGORIES["opcode_name"])
    df.insert(4, "opcode_name", pd.Series(pd.Categorical(names, categories=cats)))
    if overall:
        out = _overall(df, "opcode")
        names = [Opcode.name_of(int(o)) for o in out["opcode"]]
        out.insert(2, "opcode_name", pd.Series(pd.Categorical(names, categories=cats)))
        return out
    return df


def totals(df: pd.DataFrame) -> pd.DataFrame:
    """Per direction totals of an octet or frame statistics table."""
    num = [c for c in ("count", "octets") if c in df]
    return df.groupby("dir", observed=True)[num].sum()
