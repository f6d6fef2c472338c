"""``wirelog export``: many inputs as one Parquet dataset, on one core or a Dask cluster.

The dataset is a folder per table (``frames/``, ``messages/``, ``chops/``,
``connections/``, ``violations/``) holding one file per part
(:mod:`wirelog.analysis.parts`: an input, or a share of a big capture), each
in the Arrow types of :func:`wirelog.analysis.table.arrow_schema`: one type
per column in every file, an empty table included, so pandas, DuckDB and
Dask read a table folder as it is (``pd.read_parquet("out/frames")``,
``SELECT * FROM read_parquet('out/frames/*.parquet')``: tested; Spark reads
plain Parquet of these types too, but cannot be installed here to test).

A part's tables are written as they are decoded, a row group per batch of
one streamed pass (:func:`wirelog.analysis.parts.passing`), so memory holds
a batch, not the capture's tables. Its files are written under hidden
temporary names and renamed into place once all five are whole (readers
skip names starting with ``.``), so a reader never sees half a file, a crash
leaves no file that looks whole, and a part lands whole or not at all. File names follow the
inputs (``00003-night.pcap-share2of4.parquet``), so a run on a cluster writes
the same files as one on a single core, whatever the order the parts finish
in. An input that fails part-way still has what came before the failure
written; its error is reported with the others, and the other inputs land.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wirelog.analysis import table
from wirelog.analysis.parts import TABLES, Part, passing, plan, relabel, relabel_message
from wirelog.errors import InputError, PartialInputWarning, UsageError, WirelogError
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
    files = PartFiles(to, part.name)
    try:
        stream = passing(part)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PartialInputWarning)
            for got in stream.events():
                for level, df in got.items():
                    files.write(level, relabel(df, part))
        for level, df in stream.tail().items():
            files.write(level, relabel(df, part))
        files.commit()
    except OSError as exc:
        files.discard()
        if files.failed is not None:
            return Written(part, {}, f"{files.failed}: cannot write ({exc.strerror or exc})")
        return Written(part, {}, _message(exc, part))
    except Exception as exc:
        files.discard()
        return Written(part, {}, _message(exc, part))
    error = relabel_message(str(stream.errors[0]), part) if stream.errors else None
    return Written(part, files.rows, error)


class PartFiles:
    """The five files of one part, written a row group at a time under
    hidden temporary names, renamed into place by :meth:`commit`."""

    def __init__(self, to: str, name: str) -> None:
        self.paths = {lv: os.path.join(to, lv, name + ".parquet") for lv in TABLES}
        self.rows: dict[str, int] = {}
        self.failed: str | None = None
        """The file that could not be written, once one could not."""
        self._open: dict[str, tuple[str, Any]] = {}

    def write(self, level: str, df: Any) -> None:
        """Append ``df`` (rows of ``level``) as a row group."""
        import pyarrow.parquet as pq

        data = table.arrow_table(df, level)  # the schema's types, pandas' metadata
        path = self.paths[level]
        try:
            if level not in self._open:
                folder, name = os.path.split(path)
                fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
                os.close(fd)
                self._open[level] = (tmp, None)
                self._open[level] = (tmp, pq.ParquetWriter(tmp, data.schema))
            self._open[level][1].write_table(data)
        except OSError:
            self.failed = path
            raise
        self.rows[level] = self.rows.get(level, 0) + len(df)

    def commit(self) -> None:
        """Close every file (a table without rows gets an empty one) and
        rename them all into place."""
        for level in TABLES:
            if level not in self._open:
                self.write(level, table.from_rows([], level))
        for level in TABLES:
            writer = self._open[level][1]
            try:
                writer.close()
            except OSError:
                self.failed = self.paths[level]
                raise
        for level in TABLES:
            os.replace(self._open[level][0], self.paths[level])
        self._open.clear()

    def discard(self) -> None:
        """Remove the temporaries (nothing of the part lands)."""
        for tmp, writer in self._open.values():
            if writer is not None:
                with contextlib.suppress(Exception):  # the file is removed next
                    writer.close()
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._open.clear()
        self.rows = {}


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
