"""``time``, ``t`` and ``ts_ns`` cells: UTC ISO 8601 text and exact relative
seconds, all from integer nanoseconds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wirelog.model import Connection, Role
from wirelog.outputs.times import cells, json_tail, line_times, seconds_cell, since, utc_time


@pytest.mark.parametrize(
    "ns",
    [1700000000_000078000, 1400130308_000500000, 0, 86399_999999600, 10**18, 1700000000_123456789],
)
def test_utc_time_is_what_a_dataframe_holds(ns: int) -> None:
    """The text equals pandas' microsecond UTC datetime of the same instant
    (rounded half up to the microsecond), and parses back."""
    got = utc_time(ns)
    assert got is not None and got.endswith("Z")
    want = pd.to_datetime((ns + 500) // 1000, unit="us", utc=True)
    assert got == f"{want:%Y-%m-%dT%H:%M:%S.%fZ}"
    assert datetime.fromisoformat(got) == want.to_pydatetime()
    assert datetime.fromisoformat(got).tzinfo == UTC


@pytest.mark.parametrize("ns", [None, 10**30, -(10**30), -(10**20)])
def test_utc_time_of_an_unknown_or_impossible_time_is_none(ns: int | None) -> None:
    # 10**30: beyond the guard; -10**20 (year -1200): within it, but datetime has no such year.
    assert utc_time(ns) is None


def test_since_is_exact_at_any_resolution() -> None:
    start = 1700000000_100000000
    assert 1700000000.4 - 1700000000.1 != 0.3  # the noise floats of epoch seconds make
    assert since(1700000000_400000000, start) == 0.3
    # Every nanosecond digit survives at epoch times, where a float of seconds
    # keeps about 0.24 µs.
    t = since(1700000000_123456789, 1700000000_000000001)
    assert t is not None and Decimal(repr(t)) == Decimal("0.123456788")
    assert 1700000000.123456789 - 1700000000.000000001 != 0.123456788
    assert since(1700000000_000078000, 1700000000_000000000) == 0.000078
    assert since(5, 5) == 0.0 and since(4, 5) == -1e-9


@pytest.mark.parametrize(("ns", "start"), [(None, 1), (1, None), (None, None)])
def test_since_unknown_is_none(ns: int | None, start: int | None) -> None:
    assert since(ns, start) is None


def test_the_json_tail_is_what_a_json_encoder_prints_for_the_cells() -> None:
    conn = Connection(0, "x", Role.CLIENT, start_ts_ns=1700000000_000000001)
    for ns in (None, 1700000000_123456789, 1700000000_000000001, 10**30):
        row = {"a": 1, **cells(conn, ns)}
        assert json.dumps(row, separators=(",", ":"))[:-1] + "}\n" == '{"a":1' + json_tail(
            ns, conn.start_ts_ns
        )
        assert row["ts_ns"] == ns
    assert json_tail(7, None) == ',"time":"1970-01-01T00:00:00.000000Z","t":null,"ts_ns":7}\n'
    assert seconds_cell(None) is None and seconds_cell(1_500_000_000) == 1.5


@given(st.integers(min_value=-(10**19), max_value=10**19), st.integers(0, 10**19))
def test_the_line_times_are_the_repr_and_the_tail(ns: int, start: int) -> None:
    """The ``ts`` text equals the float's repr (what a JSON encoder writes),
    whichever way it was made; the rest equals json_tail."""
    ts, tail = line_times(ns, start)
    assert ts == repr(ns / 10**9)
    assert tail == json_tail(ns, start)
    assert line_times(ns, None)[1].startswith(',"time":')


@given(st.integers(min_value=-10, max_value=2**32 * 10**6 + 10))
def test_the_ts_of_whole_microseconds_is_the_repr(us: int) -> None:
    """Whole microseconds take the digits' way (the hypothesis above seldom
    draws them): the repr of every one, at the edges too."""
    assert line_times(us * 1000, 0)[0] == repr(us * 1000 / 10**9)


@pytest.mark.parametrize(
    "ns",
    [0, 1000, 99_000, 100_000, 101_000, 10**9, 1700000000_000078000, 1700000000_000000000,
     1700000000_100000000, 2**32 * 10**9 - 1000, 2**32 * 10**9, 2**32 * 10**9 + 1000,
     1700000000_000078001, -1000, -1, 10**30],
)  # fmt: skip
def test_the_ts_at_the_edges(ns: int) -> None:
    assert line_times(ns, 5)[0] == repr(ns / 10**9)
