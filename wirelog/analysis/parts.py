"""Inputs cut into parts that decode on their own, anywhere: the unit of scale-out.

A part is one input, or one share of a big capture (each share keeps the
connections whose number hashes to it: :mod:`wirelog.sources.share`). A
part's tables are exactly that input's (or share's) rows of
:func:`wirelog.load`'s tables, so the tables of all parts together are the
tables of one :func:`wirelog.load` over every input, whichever process
decoded which part and in whatever order they finished. ``wirelog export``
writes each part's tables as files; :func:`wirelog.load_many` makes each
part a partition of a Dask DataFrame.

A part names its input by absolute path (a worker of an external cluster
may run in another folder) and keeps the name the caller gave as its
``label``: the ``source`` of every row is what :func:`wirelog.load` would
have put there.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wirelog.analysis.batches import Batches
from wirelog.analysis.loaded import Capture
from wirelog.errors import PartialInputWarning, UsageError, WirelogError
from wirelog.pipeline import CAPTURES, PUSHED, Options, detect
from wirelog.sources.pcap.streams import STDIN, is_stream

if TYPE_CHECKING:
    import pandas as pd

#: The tables of a part, in the order ``wirelog export`` writes them.
TABLES = ("frames", "messages", "chops", "connections", "violations")


@dataclass(frozen=True, slots=True)
class Part:
    """One input, or share ``share[0]`` of ``share[1]`` of one capture."""

    path: str
    """The input as opened (absolute, ``-`` for standard input)."""
    label: str
    """The input as given: the ``source`` column of its rows."""
    position: int
    """The input's place among the inputs (file names sort by it)."""
    share: tuple[int, int] | None
    weight: int
    """Octets of input this part stands for (progress)."""
    options: Options

    @property
    def name(self) -> str:
        """A file name stem, unique among the parts of one plan."""
        base = "stdin" if self.path == STDIN else os.path.basename(self.path.rstrip(os.sep))
        stem = f"{self.position:05d}-{re.sub(r'[^A-Za-z0-9._-]', '_', base) or 'input'}"
        if self.share is not None:
            stem += f"-share{self.share[0] + 1}of{self.share[1]}"
        return stem


def plan(
    paths: Iterable[str | os.PathLike[str]],
    *,
    workers: int = 1,
    shares: int | None = None,
    options: Options | None = None,
) -> list[Part]:
    """The parts of these inputs for ``workers`` workers.

    ``shares`` cuts every capture into that many shares. Left to the plan,
    a capture bigger than an even split of all the octets over the workers
    is cut into as many shares as it holds such splits (at most
    ``workers``): six equal captures on two workers stay whole, one big
    capture on two workers is cut in two. Autobahn reports (a file or a
    folder of them) are cut alike, by connection. Standard input (a pipe
    read once) is never cut, nor are HARs, mitmproxy flows and folders of
    those: their readers share too (``Options.share``), but a share would
    parse the whole file to decode a few messages, the parse being most of
    their cost."""
    if shares is not None and shares < 1:
        raise UsageError(f"shares must be at least 1, not {shares}")
    opts = options or Options()
    inputs = [os.fspath(p) for p in paths]
    if not inputs:
        raise UsageError("no inputs")
    sizes = [_size(p) for p in inputs]
    even = sum(sizes) / max(workers, 1)
    out: list[Part] = []
    for position, (label, size) in enumerate(zip(inputs, sizes, strict=True)):
        n = 1
        if _shareable(label):
            if shares is not None:
                n = shares
            elif workers > 1 and even > 0:
                n = min(workers, math.ceil(size / even))
        path = label if label == STDIN else os.path.abspath(label)
        for i in range(n):
            share = (i, n) if n > 1 else None
            out.append(Part(path, label, position, share, size // n, opts))
    return out


def _size(path: str) -> int:
    try:
        if os.path.isdir(path):
            return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
        return os.path.getsize(path)
    except OSError:
        return 0  # the part reports why it cannot be read


def _shareable(path: str) -> bool:
    if path == STDIN or is_stream(path):
        return False
    try:
        kind = detect(path)
    except (WirelogError, OSError):
        return False  # the part reports why it cannot be read
    # Captures share in the flow engine, reports in pipeline.replay.
    return kind in CAPTURES or (kind not in PUSHED and kind != "folder")


def tables(part: Part) -> tuple[dict[str, pd.DataFrame], str | None]:
    """The part's five tables, and the one-line error of an input that
    failed part-way (its tables then hold what came before the failure).

    Raises what :func:`wirelog.load` raises for an input with nothing readable."""
    cap = Capture([part.path], replace(part.options, share=part.share))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartialInputWarning)
        out = {level: _relabel(cap.table(level), part) for level in TABLES}
    return out, relabel_message(str(cap.errors[0]), part) if cap.errors else None


def passing(part: Part) -> Batches:
    """The part's tables as one streamed pass (:mod:`wirelog.analysis.batches`):
    what :func:`tables` holds, a batch of rows at a time (pass each batch
    through :func:`relabel`)."""
    return Batches([part.path], replace(part.options, share=part.share))


def relabel(df: pd.DataFrame, part: Part) -> pd.DataFrame:
    """A batch's ``source`` as the caller named the input (see :func:`tables`)."""
    return _relabel(df, part)


def relabel_message(message: str, part: Part) -> str:
    """An error about the input, naming it as the caller did."""
    return message.replace(part.path, part.label, 1) if part.path != part.label else message


def _relabel(df: pd.DataFrame, part: Part) -> pd.DataFrame:
    """``source`` as :func:`wirelog.load` of the given name would have it:
    a folder's cases (an index's, beside it) are files under it, joined to
    the name given."""
    if part.path == part.label or not len(df):
        return df
    import pandas as pd

    names = {s: _given(s, part) for s in df["source"].unique()}
    df["source"] = df["source"].map(names).astype(pd.StringDtype("python"))
    return df


def _given(source: str, part: Part) -> str:
    if source == part.path:
        return part.label
    for opened, given in (
        (part.path, part.label),
        (os.path.dirname(part.path), os.path.dirname(part.label) or "."),
    ):
        if source.startswith(opened + os.sep):
            return os.path.join(given, source[len(opened) + 1 :])
    return source
