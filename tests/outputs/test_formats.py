"""The output contracts: the one JSON line encoder of a frame equals the
generic row writer byte for byte; the table view keeps one header and
columns that line up across batches; CSV and JSON cells."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from captures_util import MANIFEST, SAMPLES

from wirelog.model import Connection, Frame, Role, ViolationKind
from wirelog.outputs import formats as out
from wirelog.outputs.formats import FRAME_COLUMNS, Writer, render_table
from wirelog.pipeline import stream


def sample(name: str) -> str:
    return str(SAMPLES / MANIFEST[name]["file"])


def generic(conn: Connection, f: Frame) -> str:
    buf = io.StringIO()
    Writer("jsonl", FRAME_COLUMNS, buf).row(out.frame_row(conn, f))
    return buf.getvalue()


def rows(n: int, source: str = "a.pcap") -> list[dict[str, object]]:
    return [
        {"source": source, "conn": 0, "dir": "tx", "index": i, "length": 10**(i // 2500),
         "payload": "ab" * (i % 7), "violations": []}
        for i in range(n)
    ]  # fmt: skip


def test_one_header_and_aligned_batches() -> None:
    buf = io.StringIO()
    w = Writer("table", FRAME_COLUMNS, buf)
    for r in rows(4500):  # more than one batch, with wider values in the later one
        w.row(r)
    w.flush()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 4501
    assert sum(line.startswith("conn") for line in lines) == 1
    at = lines[0].index("dir")
    assert {line[at : at + 2] for line in lines[1:]} == {"tx"}


def test_source_column_follows_the_number_of_inputs() -> None:
    for show, expected in ((True, True), (False, False)):
        buf = io.StringIO()
        w = Writer("table", FRAME_COLUMNS, buf, show_source=show)
        for r in rows(3):
            w.row(r)
        w.flush()
        assert buf.getvalue().startswith("source") is expected


def test_frame_lines_equal_the_generic_rows() -> None:
    """``decode --format jsonl`` builds its lines directly; they must be
    byte for byte what the generic row writer prints."""
    import io

    from wirelog.model import Frame, Violation
    from wirelog.outputs import formats as out
    from wirelog.pipeline import stream

    n = 0
    for name in sorted(MANIFEST):
        for c, item in stream(sample(name)):
            if isinstance(item, Frame):
                generic = io.StringIO()
                out.Writer("jsonl", out.FRAME_COLUMNS, generic).row(out.frame_row(c, item))
                assert out.frame_line(c, item) == generic.getvalue()
                n += 1
            elif isinstance(item, Violation):
                pass
    assert n > 100
    # frames with violations, no timestamp and odd sources too
    from dataclasses import replace

    from wirelog.model import Connection, Role

    odd = Connection(conn=3, source='we"ird\\path é', recorder=Role.CLIENT)
    for _c, item in stream(sample("ws_basic")):
        if isinstance(item, Frame):
            f = replace(
                item,
                ts_ns=None,
                violations=(ViolationKind.MISSING_OCTETS, ViolationKind.RESERVED_OPCODE),
                payload=item.payload[:3],
                offset=None,
                chunk=None,
            )
            generic = io.StringIO()
            out.Writer("jsonl", out.FRAME_COLUMNS, generic).row(out.frame_row(odd, f))
            assert out.frame_line(odd, f) == generic.getvalue()
            # times beyond any calendar, before the epoch, with nine digits
            for ts in (10**30, -(10**20), 1700000000_123456789, 0):
                g = replace(f, ts_ns=ts)
                generic = io.StringIO()
                out.Writer("jsonl", out.FRAME_COLUMNS, generic).row(out.frame_row(odd, g))
                assert out.frame_line(odd, g) == generic.getvalue()


def test_frames_of_one_segment_share_the_time_cell() -> None:
    conn = Connection(conn=1, source="s", recorder=Role.CLIENT)
    f = next(i for _, i in stream(sample("ws_basic")) if isinstance(i, Frame))
    ts = 1700000000_123456789
    a, b = replace(f, ts_ns=ts), replace(f, index=5, ts_ns=ts)  # one int object
    assert out.frame_line(conn, a) == generic(conn, a)
    assert out.frame_line(conn, b) == generic(conn, b)
    assert json.loads(out.frame_line(conn, b))["ts"] == 1700000000.1234567
    assert json.loads(out.frame_line(conn, b))["ts_ns"] == ts


def test_frame_lines_of_odd_frames_and_many_connections() -> None:
    f = next(i for _, i in stream(sample("ws_basic")) if isinstance(i, Frame))
    conns = [Connection(conn=n, source="many", recorder=Role.CLIENT) for n in range(4200)]
    for c in conns:  # more connections than the prefix cache holds
        assert json.loads(out.frame_line(c, f))["conn"] == c.conn
    odd = replace(f, opcode=16 + 3, rsv=9)  # no such header bits: still what frame_row says
    assert out.frame_line(conns[0], odd) == generic(conns[0], odd)
    for bits in ({"rsv": -1}, {"opcode": -2}, {"rsv": 7, "opcode": 15, "fin": False}):
        odd = replace(
            f, masked=not f.masked, mask=None if f.masked else b"\x01\x02\x03\x04", **bits
        )
        assert out.frame_line(conns[1], odd) == generic(conns[1], odd)


@pytest.mark.parametrize("size", [8191, 8192, 30000, 65536, 65537, 200000])
def test_frame_lines_of_large_payloads(size: int) -> None:
    """Large payloads' hex is numpy's (outputs.hexcells) for some sizes:
    the line is still the generic row's, complete or cut short."""
    import numpy  # noqa: F401  (as the unmasking of large payloads imports it)

    conn, f = next((c, i) for c, i in stream(sample("ws_basic")) if isinstance(i, Frame))
    data = bytes(range(256)) * (size // 256 + 1)
    for big in (
        replace(f, payload=data[:size], length=size),
        replace(f, payload=data[:size], length=size + 9),
    ):
        line = out.frame_line(conn, big)
        assert line == generic(conn, big)
        assert json.loads(line)["payload"] == data[:size].hex()


def test_long_hex_cells_are_spliced_and_rows_stay_json() -> None:
    big = {"payload": "ab" * 5000, "data": None, "text": "x"}
    assert json.loads(out._jsonl(big)) == big
    tricky = {"payload": "ab" * 5000, "text": "\0hex"}  # another cell holds the marker
    assert json.loads(out._jsonl(tricky)) == tricky
    with pytest.raises(TypeError, match="not JSON serializable"):
        out._jsonl({"x": object()})


def test_csv_cells_and_rows() -> None:
    buf = io.StringIO()
    w = Writer("csv", ("a", "b", "c"), buf)
    w.rows([{"a": [1, 2], "b": None, "c": 1.5}, {"a": [], "b": "x", "c": 2}])
    assert buf.getvalue().splitlines() == ["a,b,c", "1;2,,1.5", ",x,2"]
    table = out.render_table([{"dir": "tx", "ts": 1.5, "violations": []}], ("dir", "ts"))
    assert table.splitlines() == ["dir  ts", "tx   1.500000"]


@pytest.mark.parametrize(
    ("start", "ts", "t"),
    [
        (1700000000_100000000, 1700000000_400000000, 0.3),  # microseconds at epoch times
        (1700000000_000000001, 1700000000_123456789, 0.123456788),  # nanoseconds too
        (0, 150, 1.5e-07),
        (None, 1700000000_400000000, None),  # no start: no t, still a time
        (1700000000 * 10**9, 5 * 10**22, 5e13 - 1700000000.0),  # no calendar time
    ],
)
def test_time_cells_of_the_line_are_the_rows(start: int | None, ts: int, t: object) -> None:
    """The ``time``, ``t`` and ``ts_ns`` a line ends with are :func:`frame_row`'s,
    and ``t`` is exact (no float noise) at any resolution."""
    conn = Connection(conn=2, source="t", recorder=Role.CLIENT, start_ts_ns=start)
    f = replace(next(i for _, i in stream(sample("ws_basic")) if isinstance(i, Frame)), ts_ns=ts)
    line = out.frame_line(conn, f)
    assert line == generic(conn, f)
    cells = json.loads(line)
    assert cells["t"] == t and cells["ts_ns"] == ts
    assert (cells["time"] is None) == (ts > 10**21)
    assert list(cells)[-3:] == ["time", "t", "ts_ns"] == list(FRAME_COLUMNS[-3:])


def test_the_table_shows_record_only_when_its_first_batch_has_one() -> None:
    """A TLS record number is a column where the first rows carry one; the
    later batches keep the first batch's columns (one header, one table)."""
    plain = [{"conn": 0, "index": i, "record": None, "payload": "00"} for i in range(3)]
    tls = [{**r, "record": 4} for r in plain]
    cols = ("conn", "index", "record", "payload")
    assert render_table(plain, cols).splitlines()[0].split() == ["conn", "index", "payload"]
    assert render_table(tls, cols).splitlines()[0].split() == ["conn", "index", "record", "payload"]
    layout: dict[str, int] = {}
    first = render_table(plain, cols, layout=layout)
    later = render_table(tls, cols, layout=layout)
    assert "record" not in first and later.splitlines()[0].split() == ["0", "0", "00"]
    layout = {}
    render_table(tls, cols, layout=layout)
    assert render_table(plain, cols, layout=layout).splitlines()[0].split() == ["0", "0", "-", "00"]
