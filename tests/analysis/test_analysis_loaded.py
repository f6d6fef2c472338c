"""wirelog.load: one schema, the CLI's rows, the seed's numbers."""

from __future__ import annotations

import pandas as pd
import pytest
from analysis_seed import CLOSE_RX, PING, PONG, T0, seed_connection, seed_recording

import wirelog
from wirelog.analysis import table
from wirelog.enums import nanoseconds
from wirelog.errors import UsageError
from wirelog.model import Chunk, Connection, Direction, Recording, Role
from wirelog.outputs import formats as output
from wirelog.pipeline import decode_recording
from wirelog.protocol.frames import encode_frame


def test_frames_hold_the_seed_frames() -> None:
    f = wirelog.load(seed_recording()).frames()
    # The seed's wire log: TX ping "Hello, world!" (mask 1bbc4f88), RX pong,
    # TX close 1000 (mask 87f697a1), RX close 1000.
    assert f["opcode"].tolist() == [9, 10, 8, 8]
    assert f["opcode_name"].tolist() == ["PING", "PONG", "CLOSE", "CLOSE"]
    assert f["dir"].tolist() == ["tx", "rx", "tx", "rx"]
    assert f["sender"].tolist() == ["client", "server", "client", "server"]
    assert f["length"].tolist() == [13, 13, 2, 2]
    assert f["mask"].tolist()[::2] == ["1bbc4f88", "87f697a1"]
    assert f["mask"].isna().tolist() == [False, True, False, True]
    assert bytes.fromhex(f["payload"][0]).decode() == "Hello, world!"
    assert f["payload"][3] == "03e8"
    # stream offsets: the first frame follows the 239-octet request / 129-octet response
    assert f["offset"].tolist() == [239, 129, 239 + len(PING), 129 + len(PONG)]


def test_every_table_follows_the_declared_schema() -> None:
    cap = wirelog.load(seed_recording())
    for level in table.SCHEMAS:
        df = cap.table(level)
        assert tuple(df.columns) == table.columns(level), level
        for col in table.SCHEMAS[level]:
            dtype = str(df[col.name].dtype)
            want = {
                "string": "string",
                "datetime": "datetime64[us, UTC]",
                "list": "object",
            }.get(col.dtype, col.dtype)
            if col.dtype.startswith("category:"):
                assert isinstance(df[col.name].dtype, pd.CategoricalDtype)
                cats = table.CATEGORIES[col.dtype.split(":")[1]]
                assert tuple(df[col.name].cat.categories) == cats
            else:
                assert dtype == want, (level, col.name, dtype)
    described = table.describe()
    assert set(described["table"]) == set(table.SCHEMAS)
    assert described["meaning"].str.len().min() > 5


def test_rows_are_the_cli_rows() -> None:
    """The first columns of each event table are output.py's row, value for value."""
    rec = seed_recording()
    cap = wirelog.load(rec)
    (dc,) = decode_recording(rec)
    conn = dc.connection
    expected = {
        "chops": [output.chunk_row(conn, c) for c in conn.chunks],
        "frames": [output.frame_row(conn, f) for f in dc.frames],
        "messages": [output.message_row(conn, m) for m in dc.messages],
    }
    for level, rows in expected.items():
        df = cap.table(level)
        assert tuple(df.columns[: len(output.COLUMNS[level])]) == output.COLUMNS[level]
        got = df[list(output.COLUMNS[level])].astype(object).where(df.notna(), None)
        if "time" in got:  # the rows' ISO text of the DataFrame's datetime
            got["time"] = [None if t is None else f"{t:%Y-%m-%dT%H:%M:%S.%fZ}" for t in got["time"]]
        assert got.to_dict("records") == rows, level


def test_times_are_utc_and_relative_to_the_connection_start() -> None:
    chops = wirelog.load(seed_recording()).chops()
    assert str(chops["time"].dt.tz) == "UTC"
    assert chops["time"][0] == pd.Timestamp("2014-05-15T05:05:08Z")
    assert chops["t"].round(6).tolist() == [0.0, 0.0004, 0.0005, 0.0007, 0.0008, 0.001]


def test_connections_table_counts_the_seed_octets() -> None:
    c = wirelog.load(seed_recording()).connections()
    row = c.iloc[0]
    # The seed's "Total" rows: 3 chops / 266 octets sent, 3 / 148 received.
    assert (row["chops_tx"], row["octets_tx"], row["chops_rx"], row["octets_rx"]) == (
        3,
        266,
        3,
        148,
    )
    assert (row["close_tx"], row["close_rx"], row["status"]) == (1000, 1000, 101)
    assert row["recorder"] == "client"
    assert row["start"] == pd.Timestamp("2014-05-15T05:05:08Z")


def test_several_inputs_and_the_conn_filter() -> None:
    a = seed_connection("a", 0)
    b = seed_connection("a", 1, t0=T0 + 10)
    cap = wirelog.load(Recording("a", "memory", [a, b]))
    f = cap.frames()
    assert f.groupby("conn").size().tolist() == [4, 4]
    # t counts from each connection's own start
    assert f.groupby("conn")["t"].min().round(6).tolist() == [0.0005, 0.0005]
    only = wirelog.load([Recording("a", "memory", [a, b])], conns=1).frames()
    assert set(only["conn"]) == {1}
    two = wirelog.load([seed_recording("x"), seed_recording("y")]).connections()
    assert two["source"].tolist() == ["x", "y"]


def test_violations_are_a_dataframe() -> None:
    conn = seed_connection()
    # An unmasked client frame (RFC 6455 §5.1) after the handshake.
    bad = encode_frame(1, b"hi")
    conn.chunks.insert(3, Chunk(Direction.TX, bad, len(bad), 2, ts_ns=nanoseconds(T0 + 0.0004)))
    v = wirelog.load(conn).violations()
    assert "unmasked_client_frame" in set(v["kind"])
    row = v[v["kind"] == "unmasked_client_frame"].iloc[0]
    assert row["dir"] == "tx" and row["frame"] == 0 and not row["finding"]
    assert row["on"] == "frame" and row["offset"] == 239 and row["chunk"] == 2
    assert wirelog.load(conn).connections()["violations"][0] >= 1


def test_empty_tables_keep_the_schema() -> None:
    conn = Connection(0, "empty", Role.CLIENT)
    cap = wirelog.load(conn)
    for level in table.LEVELS:
        df = cap.table(level)
        assert len(df) == 0 and tuple(df.columns) == table.columns(level)


def test_bad_calls_raise_usage_errors() -> None:
    with pytest.raises(UsageError):
        wirelog.load([])
    with pytest.raises(UsageError):
        wirelog.load(seed_recording(), colour="red")
    with pytest.raises(UsageError):
        wirelog.load(seed_recording()).table("packets")


def test_tables_are_copies() -> None:
    cap = wirelog.load(seed_recording())
    f = cap.frames()
    f.loc[0, "length"] = 999
    assert cap.frames()["length"][0] == 13


def test_close_rx_payload() -> None:
    m = wirelog.load(seed_recording()).messages()
    close = m[(m["opcode_name"] == "CLOSE") & (m["dir"] == "rx")].iloc[0]
    assert close["code"] == int.from_bytes(CLOSE_RX[2:4], "big") == 1000


def test_a_capture_names_its_inputs_and_takes_every_kind_of_source() -> None:
    from pathlib import Path

    dc = decode_recording(seed_recording("d"))[0]
    sources = [seed_recording("r"), seed_connection("c"), dc, Path(__file__)]  # a path that exists
    cap = wirelog.load(sources)
    assert repr(cap) == "<wirelog.Capture r, c, d#0 +1>"
    assert repr(wirelog.load(dc)) == "<wirelog.Capture d#0>"
    several = wirelog.load([seed_recording("a"), seed_connection("b"), dc])
    assert [d.source for d in several.decoded()] == ["a", "b", "d"]
    assert several.decoded() is several.decoded()  # decoded once
    only = wirelog.load([seed_connection("a", conn=0), seed_connection("b", conn=3)], conns=3)
    assert [d.conn for d in only.decoded()] == [3]
    assert only.connections()["conn"].tolist() == [3]


def test_options_accept_single_ints_and_keep_data() -> None:
    cap = wirelog.load(seed_recording(), ws_ports=80, ports=[80, 81], keep_data=1)
    assert cap.options.ws_ports == (80,) and cap.options.ports == (80, 81)
    assert cap.options.keep_data is True


def test_report_of_one_connection_and_unknown_ones() -> None:
    cap = wirelog.load([seed_connection("a", conn=0), seed_connection("b", conn=1)])
    one = cap.report(conn=1)
    assert "b - Connection 1" in one and "a - Connection 0" not in one
    assert cap.report(fmt="html").startswith("<!DOCTYPE html>")
    with pytest.raises(UsageError):
        cap.report(conn=7)
    with pytest.raises(UsageError):
        cap.plot("pie")


def test_many_connections_render_with_a_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    from collections.abc import Iterator
    from contextlib import contextmanager

    from wirelog.analysis import loaded

    advanced: list[tuple[str, int | None, int]] = []

    class Bar:
        def __init__(self, what: str, total: int | None) -> None:
            self.what, self.total = what, total

        def advance(self, n: int) -> None:
            advanced.append((self.what, self.total, n))

    @contextmanager
    def fake(what: str, total: int | None) -> Iterator[Bar]:
        yield Bar(what, total)

    monkeypatch.setattr(loaded, "progress", fake)
    cap = wirelog.load([seed_connection(f"s{i}", conn=i) for i in range(50)])
    text = cap.report()
    assert text.count("Connection ") == 50
    assert advanced == [("rendering", 50, 1)] * 50
