"""``wirelog export``: many inputs as one Parquet dataset, on one core or a Dask cluster.

The dataset is a folder per table (``frames/``, ``messages/``, ``chops/``,
``connections/``, ``violations/``) holding one file per part
(:mod:`wirelog.analysis.parts`: an input, or a share of a big capture), each
in the Arrow types of :func:`wirelog.analysis.table.arrow_schema`: one type
per column in every file, an empty table included, so pandas, DuckDB, Spark
and Dask read a table folder as it is (``pd.read_parquet("out/frames")``,
``SELECT * FROM 'out/frames/*.parquet'``).

A file is written under a hidden temporary name and renamed into place
(readers skip names starting with ``.``), so a reader never sees half a
file, and a crash leaves no file that looks whole. File names follow the
inputs (``00003-night.pcap-share2of4.parquet``), so a run on a cluster writes
the same files as one on a single core, whatever the order the parts finish
in. An input that fails part-way still has what came before the failure
written; its error is reported with the others, and the other inputs land.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wirelog.analysis import table
from wirelog.analysis.parts import TABLES, Part, plan, relabel_message, tables
from wirelog.errors import InputError, UsageError, WirelogError
from wirelog.pipeline import Options
from wirelog.progress import progress
from wirelog.sources.pcap.streams import STDIN

if TYPE_CHECKING:
    from distributed import Client


@dataclass(frozen=True, slots=True)
class Written:
    """What one part left in the dataset."""

    part: Part
    rows: dict[str, int]
    """Rows per table written (empty when nothing of the input was readable)."""
    error: str | None
    """The input's one-line error, when it failed (part-way or whole)."""


@dataclass(slots=True)
class Export:
    """The result of :func:`export`: every part, in input order."""

    to: str
    written: list[Written] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """One line per failed input (the shares of one input fail alike)."""
        seen: dict[str, None] = {}
        for w in self.written:
            if w.error is not None:
                seen.setdefault(w.error)
        return list(seen)

    def rows(self, level: str) -> int:
        return sum(w.rows.get(level, 0) for w in self.written)

    def files(self, level: str) -> int:
        return sum(1 for w in self.written if level in w.rows)


def export(
    inputs: Iterable[str | os.PathLike[str]],
    to: str | os.PathLike[str],
    *,
    client: Client | None = None,
    shares: int | None = None,
    options: Options | None = None,
    replace: bool = False,
) -> Export:
    """Write the tables of ``inputs`` as a Parquet dataset in folder ``to``.

    ``client``: a :class:`distributed.Client` to run the parts on (see
    :func:`wirelog.analysis.many.cluster`); without one they run here, one
    after the other. ``shares`` cuts every capture into that many shares
    (default: see :func:`wirelog.analysis.parts.plan`). A folder that
    already holds a dataset is refused unless ``replace``: its table files
    are then removed first."""
    from wirelog.analysis.many import workers

    out = os.path.abspath(os.fspath(to))
    n = workers(client) if client is not None else 1
    parts = plan(inputs, workers=n, shares=shares, options=options)
    if client is not None and any(p.path == STDIN for p in parts):
        raise UsageError("standard input cannot be read by Dask workers: export it without them")
    prepare(out, replace)
    result = Export(out)
    with progress(f"exporting {len(parts)} part(s)", sum(p.weight for p in parts)) as bar:
        if client is None:
            for p in parts:
                result.written.append(write_part(p, out))
                bar.advance(p.weight)
        else:
            from distributed import as_completed

            futures = client.map(write_part, parts, to=out, pure=False)
            by_key = {f.key: p for f, p in zip(futures, parts, strict=True)}
            for fut in as_completed(futures):
                part = by_key[fut.key]
                try:
                    result.written.append(fut.result())
                except Exception as exc:  # a worker died: the part is lost, not the run
                    result.written.append(Written(part, {}, _message(exc, part)))
                bar.advance(part.weight)
    result.written.sort(key=lambda w: (w.part.position, w.part.share or (0, 1)))
    return result


def prepare(to: str, replace: bool) -> None:
    """Make the table folders; refuse (or, with ``replace``, empty) those
    that hold Parquet files already, so no stale file joins the dataset."""
    if os.path.exists(to) and not os.path.isdir(to):
        raise UsageError(f"--to {to}: not a folder")
    for level in TABLES:
        folder = os.path.join(to, level)
        try:
            os.makedirs(folder, exist_ok=True)
            old = [e.path for e in os.scandir(folder) if e.name.endswith(".parquet")]
            if old and not replace:
                raise UsageError(
                    f"--to {to}: already holds a dataset ({len(old)} file(s) in {level}/); "
                    "pass --replace to write a new one"
                )
            for path in old:
                os.unlink(path)
        except OSError as exc:
            raise UsageError(f"--to {to}: {exc.strerror or exc}") from None


def write_part(part: Part, to: str) -> Written:
    """Decode one part and write its five files (on a worker, or here).

    Returns, never raises for the input: the error travels as one line."""
    try:
        frames, error = tables(part)
    except Exception as exc:
        return Written(part, {}, _message(exc, part))
    rows: dict[str, int] = {}
    for level in TABLES:
        df = frames[level]
        path = os.path.join(to, level, part.name + ".parquet")
        try:
            write_atomic(table.arrow_table(df, level), path)
        except OSError as exc:
            return Written(part, rows, f"{path}: cannot write ({exc.strerror or exc})")
        rows[level] = len(df)
    return Written(part, rows, error)


def write_atomic(data: Any, path: str) -> None:
    """A pyarrow Table to ``path`` through a hidden temporary beside it."""
    import pyarrow.parquet as pq

    folder, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(data, fh)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _message(exc: BaseException, part: Part) -> str:
    """The one line the CLI prints for an input (as :mod:`wirelog.cli.app` words it)."""
    if isinstance(exc, InputError):  # names its input already
        return relabel_message(" ".join(str(exc).split()), part)
    if isinstance(exc, WirelogError):
        return f"{part.label}: {exc}"
    if isinstance(exc, OSError):
        return f"{part.label}: {exc.strerror or exc}"
    return f"{part.label}: internal error: {type(exc).__name__}: {exc}"
