"""``time`` and ``t`` cells: UTC ISO 8601 text and noise-free relative seconds."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from wirelog.outputs.times import digits_of, since, utc_time


@pytest.mark.parametrize("ts", [1700000000.000078, 1400130308.0005, 0.0, 86399.9999996, 1e9])
def test_utc_time_is_what_a_dataframe_holds(ts: float) -> None:
    """The text equals pandas' microsecond UTC datetime of the same float
    (how :mod:`wirelog.analysis.table` builds ``time``), and parses back."""
    got = utc_time(ts)
    assert got is not None and got.endswith("Z")
    want = pd.to_datetime(round(ts * 1e6), unit="us", utc=True)
    assert got == f"{want:%Y-%m-%dT%H:%M:%S.%fZ}"
    assert datetime.fromisoformat(got) == want.to_pydatetime()
    assert datetime.fromisoformat(got).tzinfo == UTC


@pytest.mark.parametrize("ts", [None, math.nan, math.inf, -math.inf, 1e300])
def test_utc_time_of_an_unknown_or_impossible_time_is_none(ts: float | None) -> None:
    assert utc_time(ts) is None


def test_since_has_no_float_noise_at_the_capture_resolution() -> None:
    start = 1700000000.1
    assert 1700000000.4 - start != 0.3  # the noise the rounding removes
    assert since(1700000000.4, start) == 0.3
    assert since(0.4, 0.1) == 0.3 and 0.4 - 0.1 == 0.30000000000000004
    # Nanoseconds survive where a float holds them (times near zero) ...
    assert since(0.000000123, 0.0) == 1.23e-07
    # ... and at epoch times a float holds microseconds, no more.
    assert digits_of(1700000000.0) == 6
    assert since(1700000000.000078, 1700000000.0) == 0.000078
    assert digits_of(0.0) == 9 and digits_of(1.0) == 9 and digits_of(2.0**60) == 0


@pytest.mark.parametrize(
    ("ts", "start"), [(None, 1.0), (1.0, None), (math.nan, 1.0), (1.0, math.inf), (None, None)]
)
def test_since_unknown_is_none(ts: float | None, start: float | None) -> None:
    assert since(ts, start) is None
    if start is not None and not math.isfinite(start):
        assert digits_of(start) == 0


def test_times_beyond_the_calendar_are_none_not_errors() -> None:
    # Year -1200: within the guard, but datetime has no such year.
    assert utc_time(-1e11) is None
    # A finite time whose ticks overflow (a fuzzed timestamp field).
    assert since(1e308, 1.5) is None
