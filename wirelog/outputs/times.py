"""The time cells of output lines: ``time`` (UTC, ISO 8601) and ``t``
(seconds since the connection's first packet), as DataFrames name them.

Kept apart from the row contracts so that the JSON-lines writer, the rows
and the tables compute them alike (:mod:`wirelog.outputs.formats`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache


def utc_time(ts: float | None) -> str | None:
    """``ts`` as UTC ISO 8601 with microseconds (``2023-11-14T22:13:20.000078Z``),
    rounded to the microsecond as a DataFrame's ``time`` column is; None
    when unknown or beyond the calendar."""
    if ts is None or not math.isfinite(ts) or abs(ts) >= 1e12:  # past year 30000
        return None
    us = round(ts * 1e6)
    sec, frac = divmod(us, 1_000_000)
    day = second_text(sec)
    return None if day is None else f"{day}{frac:06d}Z"


@lru_cache(maxsize=256)
def second_text(sec: int) -> str | None:
    """The text of a whole second, up to its decimal point: frames share it."""
    try:
        return datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    except (OverflowError, ValueError, OSError):
        return None


def since(ts: float | None, start: float | None) -> float | None:
    """Seconds from the connection's first packet (``start``) to ``ts``, the
    DataFrames' ``t``, at the resolution the times carry: the capture's
    (microseconds or nanoseconds) as far as a float epoch time holds it
    (about 0.24 µs today). Both times become whole ticks first, so 0.4 - 0.1
    is 0.3, not 0.30000000000000004 (:func:`ticks` says how)."""
    if ts is None or start is None or not math.isfinite(ts) or not math.isfinite(start):
        return None
    scale = 10.0 ** digits_of(start)
    try:
        return (round(ts * scale) - round(start * scale)) / scale
    except OverflowError:  # a time beyond any calendar
        return None


def ticks(start: float | None) -> tuple[float, int] | None:
    """``(scale, start in ticks)``: what :func:`since` computes once per
    connection; ``(round(ts * scale) - start_ticks) / scale`` is ``t``."""
    if start is None or not math.isfinite(start):
        return None
    scale = 10.0 ** digits_of(start)
    return scale, round(start * scale)


def digits_of(start: float | None) -> int:
    """Decimal places a time near ``start`` holds: at most 9 (nanoseconds)."""
    if start is None or not math.isfinite(start):
        return 0
    if not start:
        return 9
    return min(9, max(0, math.floor(-math.log10(math.ulp(abs(start))))))
