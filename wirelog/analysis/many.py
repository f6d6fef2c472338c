"""Many inputs on Dask: :func:`load_many` and the clusters ``wirelog export`` runs on.

:func:`load_many` is :func:`wirelog.load` for more traffic than one process
decodes in good time: each part of the inputs (:mod:`wirelog.analysis.parts`:
an input, or a share of a big capture) becomes one partition, decoded where
Dask runs it, when a result is asked for. Nothing is read before that. The
tables are those of :func:`wirelog.load`, in the same schema
(:func:`wirelog.analysis.table.describe`); the rows of one input keep their
order within its partition, and the partitions follow the inputs.

The five tables of a part come from one decode: computing ``frames()`` and
``messages()`` together (``dask.compute(m.frames(), m.messages())``)
decodes each part once.

Dask is imported here, not at ``import wirelog``.
"""

from __future__ import annotations

import logging
import operator
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from wirelog.analysis import table
from wirelog.analysis.loaded import load
from wirelog.analysis.parts import TABLES, Part, plan, tables
from wirelog.errors import UsageError

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client

__all__ = ["Many", "cluster", "load_many", "workers"]


class Many:
    """The tables of many inputs as lazy Dask DataFrames, one partition per part."""

    def __init__(self, parts: list[Part]) -> None:
        from dask.delayed import delayed

        self.parts = parts
        self._decoded = [delayed(_tables, pure=True)(p) for p in parts]

    def __repr__(self) -> str:
        return f"<wirelog.Many {len(self.parts)} part(s)>"

    def chops(self) -> dd.DataFrame:
        """One row per recorded write/read, as :meth:`wirelog.Capture.chops`."""
        return self.table("chops")

    def frames(self) -> dd.DataFrame:
        """One row per WebSocket frame, as :meth:`wirelog.Capture.frames`."""
        return self.table("frames")

    def messages(self) -> dd.DataFrame:
        """One row per message, as :meth:`wirelog.Capture.messages`."""
        return self.table("messages")

    def violations(self) -> dd.DataFrame:
        """Violations and findings, as :meth:`wirelog.Capture.violations`."""
        return self.table("violations")

    def connections(self) -> dd.DataFrame:
        """One row per connection, as :meth:`wirelog.Capture.connections`."""
        return self.table("connections")

    def table(self, level: str) -> dd.DataFrame:
        """Any table by name: chops, frames, messages, violations, connections."""
        import dask
        import dask.dataframe as dd
        from dask.delayed import delayed

        if level not in TABLES:
            raise UsageError(f"unknown table {level!r}; one of {', '.join(TABLES)}")
        pieces = [delayed(operator.getitem, pure=True)(d, level) for d in self._decoded]
        # Dask would turn every string column into Arrow strings, and the
        # ``violations`` lists into strings too: the schema's dtypes stay.
        with dask.config.set({"dataframe.convert-string": False}):
            frame: dd.DataFrame = dd.from_delayed(
                pieces, meta=table.from_rows([], level), verify_meta=False
            )
        return frame


def _tables(part: Part) -> dict[str, pd.DataFrame]:
    """A partition's tables (an input that failed part-way keeps what came
    before the failure, as :func:`wirelog.load` does)."""
    return tables(part)[0]


def load_many(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    client: Client | None = None,
    *,
    shares: int | None = None,
    **options: Any,
) -> Many:
    """The tables of many inputs as Dask DataFrames, lazily.

    ``client``: a :class:`distributed.Client` whose workers the big
    captures are shared out over (one share per worker at most; see
    :func:`wirelog.analysis.parts.plan`); results compute on Dask's current
    scheduler, which a Client is once made. ``shares`` cuts every capture
    into that many shares. Options are :func:`wirelog.load`'s."""
    inputs = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not inputs:
        raise UsageError("wirelog.load_many needs at least one input")
    opts = load(inputs, **options).options  # the same options, checked the same way
    n = workers(client) if client is not None else 1
    return Many(plan(inputs, workers=n, shares=shares, options=opts))


def workers(client: Client) -> int:
    """How many tasks the cluster runs at once (its worker threads)."""
    threads: dict[str, int] = client.nthreads()
    return max(1, sum(threads.values()))


@contextmanager
def cluster(workers: int | None = None, scheduler: str | None = None) -> Iterator[Client | None]:
    """A Dask client for the duration: ``workers`` local worker processes
    (one thread each: the decode holds the GIL), or the cluster whose
    scheduler listens at ``scheduler`` (``tcp://host:port``); neither: None,
    the work stays in this process."""
    if workers is not None and scheduler is not None:
        raise UsageError("--workers starts a cluster, --scheduler uses one: not both")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")
    if scheduler is None and workers is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=5)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--scheduler {scheduler}: no Dask scheduler there ({exc})") from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as local,
        Client(local) as client,
    ):
        yield client
