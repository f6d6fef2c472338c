"""Per-connection facts, derived once: how it closed, when it started, what
it holds (counts, Autobahn's statistics). The report, the verdict, the
replay's recording, ``wirelog stats`` and ``wirelog.load`` read them here,
so no two of them can disagree.

* :mod:`wirelog.summary.closing`: the rules: :class:`Closing` (who closed,
  codes, clean, who dropped TCP, Autobahn's keys), built by
  :class:`FirstCloses`.
* :mod:`wirelog.summary.tally`: one pass: :class:`Tally` (streaming),
  :func:`summarize` and :func:`closing_of` (decoded connections),
  :class:`ConnectionSummary`, :class:`Counts`, :func:`start_time`.
"""

from __future__ import annotations

from wirelog.stats import WireStats, compute
from wirelog.summary.closing import AUTOBAHN_KEYS, CloseFrame, Closing, FirstCloses
from wirelog.summary.tally import (
    ConnectionSummary,
    Counts,
    Problem,
    Tally,
    closing_of,
    start_time,
    summarize,
)

__all__ = [
    "AUTOBAHN_KEYS",
    "CloseFrame",
    "Closing",
    "ConnectionSummary",
    "Counts",
    "FirstCloses",
    "Problem",
    "Tally",
    "WireStats",
    "closing_of",
    "compute",
    "start_time",
    "summarize",
]
