"""The time cells of output lines: ``ts`` (float epoch seconds), ``time``
(UTC, ISO 8601), ``t`` (seconds since the connection's first packet) and
``ts_ns`` (integer nanoseconds since the epoch, the stored truth).

One place for every line that has a time (frames, messages, chops; JSON
lines, CSV, the table and the DataFrames' ``t``), so the views cannot drift
apart. Everything is computed from the integers: ``t`` is
``(ts_ns - start_ns) / 1e9``, exact at any resolution (a microsecond
capture's ``t`` has six decimals, a nanosecond capture's nine, no float
noise), and ``time`` is the integer rounded to the microsecond.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from wirelog.enums import NS
from wirelog.model import Connection

#: Beyond this many nanoseconds from the epoch (year 30000 or so) a time has
#: no calendar text.
_CALENDAR = 10**12 * NS


def utc_time(ts_ns: int | None) -> str | None:
    """``ts_ns`` as UTC ISO 8601 with microseconds (``2023-11-14T22:13:20.000078Z``),
    rounded to the microsecond as a DataFrame's ``time`` column is; None
    when unknown or beyond the calendar."""
    if ts_ns is None or not -_CALENDAR < ts_ns < _CALENDAR:
        return None
    sec, frac = divmod((ts_ns + 500) // 1000, 1_000_000)
    day = second_text(sec)
    return None if day is None else f"{day}{frac:06d}Z"


@lru_cache(maxsize=256)
def second_text(sec: int) -> str | None:
    """The text of a whole second, up to its decimal point: frames share it."""
    try:
        return datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    except (OverflowError, ValueError, OSError):
        return None


def since(ts_ns: int | None, start_ns: int | None) -> float | None:
    """Seconds from the connection's first packet (``start_ns``) to ``ts_ns``,
    the lines' and DataFrames' ``t``: the difference of two integers, so it is
    the nearest float to the exact decimal (0.4 - 0.1 is 0.3)."""
    if ts_ns is None or start_ns is None:
        return None
    ns: Any = ts_ns - start_ns  # Any: see seconds_cell
    return ns / NS  # type: ignore[no-any-return]


def seconds_cell(ts_ns: int | None) -> float | None:
    """The ``ts`` cell: float epoch seconds (what ``Frame.ts`` gives)."""
    if ts_ns is None:
        return None
    # Typed Any so that the compiled build (mypyc) divides as Python does,
    # exactly: with two ints it would round both to doubles first, and
    # epoch nanoseconds have more digits than a double holds.
    ns: Any = ts_ns
    return ns / NS  # type: ignore[no-any-return]


def cells(conn: Connection, ts_ns: int | None) -> dict[str, float | str | int | None]:
    """The cells that end every timed row: ``time``, ``t`` and ``ts_ns``."""
    return {"time": utc_time(ts_ns), "t": since(ts_ns, conn.start_ts_ns), "ts_ns": ts_ns}


def json_tail(ts_ns: int | None, start_ns: int | None) -> str:
    """The end of a JSON line from :func:`cells` on: equal to what a JSON
    encoder prints for those three cells."""
    if ts_ns is None:
        return ',"time":null,"t":null,"ts_ns":null}\n'
    return line_times(ts_ns, start_ns)[1]


#: Whole microseconds from 0.0001 s (below, repr writes an exponent) to
#: 2**32 s (below, a double's spacing is under a microsecond): see line_times.
_PLAIN_FROM = 100_000
_EXACT_BELOW = 2**32 * NS


def line_times(ts_ns: int, start_ns: int | None) -> tuple[str, str]:
    """A frame line's ``ts`` cell (the text a JSON encoder writes for
    :func:`seconds_cell`) and its end from ``time`` on (:func:`json_tail`),
    made together once per captured segment.

    Why together: the ``ts`` float's shortest repr was the costliest cell of
    a line (bignum arithmetic in the float-to-text algorithm), and for a
    whole number of microseconds it is known without it. Between 0.0001 s
    and 2**32 s, the double nearest such a value is nearer to it than to any
    other decimal of six or fewer fractional digits (those lie a microsecond
    apart, more than the double's spacing there), so the repr is the value's
    own digits, trailing zeros dropped: the second and the six digits the
    ``time`` cell writes anyway. Other values (nanosecond digits, times
    before 1970 or beyond the calendar) take repr; tests hold both equal."""
    t = "null" if start_ns is None else repr(since(ts_ns, start_ns))
    if -_CALENDAR < ts_ns < _CALENDAR:  # utc_time, inline: once per segment of a capture
        us = (ts_ns + 500) // 1000
        sec, frac = divmod(us, 1_000_000)
        day = second_text(sec)
        if day is not None:
            six = f"{frac:06d}"
            if us * 1000 == ts_ns and _PLAIN_FROM <= ts_ns < _EXACT_BELOW:
                ts = f"{sec}.{six.rstrip('0') or '0'}"
            else:
                ts = repr(seconds_cell(ts_ns))
            return ts, f',"time":"{day}{six}Z","t":{t},"ts_ns":{ts_ns}}}\n'
    return repr(seconds_cell(ts_ns)), f',"time":null,"t":{t},"ts_ns":{ts_ns}}}\n'
