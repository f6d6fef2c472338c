"""wirelog.analysis.conns: one row per connection from the summary, on real captures."""

from __future__ import annotations

from pathlib import Path

import pytest

import wirelog
from tests.captures_util import MANIFEST
from wirelog.analysis import conns
from wirelog.errors import InputError, UsageError
from wirelog.summary import summarize

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_rows_agree_with_the_connections_table_by_role() -> None:
    cap = wirelog.load([str(SAMPLES / "multi_conn.pcap"), str(SAMPLES / "aiohttp_ipv6.pcap")])
    table = cap.connections().set_index(["source", "conn"])
    rows = [conns.row(summarize(d)) for d in cap.decoded()]
    assert len(rows) == len(table) == 4
    for r in rows:
        t = table.loc[(r["source"], r["conn"])]
        # The recorder of a capture is the client: tx is the client's side.
        assert (r["frames_client"], r["frames_server"]) == (t.frames_tx, t.frames_rx)
        assert (r["messages_client"], r["messages_server"]) == (t.messages_tx, t.messages_rx)
        assert (r["close_client"], r["close_server"]) == (t.close_tx, t.close_rx)
        assert r["path"] == t.target and r["client"] == t.client and r["server"] == t.server
        assert r["start"] == t.start.isoformat().replace("+00:00", "Z")
        assert r["closed_by"] == "client" and r["dropped_by"] == "server" and r["clean"]
    aio = next(r for r in rows if "aiohttp" in r["source"])
    m = MANIFEST["aiohttp_ipv6"]
    assert aio["subprotocol"] == "chat.v1" and aio["server"].endswith(f":{m['port']}")
    assert aio["close_client"] == 4000 and aio["tls"] is None


def test_table_row_pairs_client_and_server() -> None:
    dc = wirelog.load(str(SAMPLES / "ws_deflate.pcap")).decoded()[0]
    r = conns.row(summarize(dc))
    cell = conns.table_row(r)
    assert set(cell) >= set(conns.TABLE)
    assert cell["frames"] == f"{r['frames_client']}/{r['frames_server']}"
    assert cell["extensions"].startswith("permessage-deflate")
    assert cell["problems"] == "0 violations, 0 findings"
    tls = conns.table_row({**r, "tls": {"version": "TLS 1.3", "sni": "example.org"}})
    assert tls["extensions"].endswith("; TLS 1.3 example.org")
    bare = conns.table_row({**r, "extensions": None, "close_client": None, "tls": {"v": "TLS 1.2"}})
    assert bare["extensions"] == "TLS 1.2" and bare["close"].startswith("-/")


def test_pick_names_the_connections_there_are() -> None:
    dcs = wirelog.load(str(SAMPLES / "multi_conn.pcap")).decoded()
    assert [d.conn for d in conns.pick(dcs, [2, 0], "x")] == [0, 2]
    assert conns.pick(dcs, [], "x") == dcs
    with pytest.raises(UsageError) as err:
        conns.pick(dcs, [99, 1], "multi.pcap")
    assert str(err.value) == "multi.pcap: no connection 99 (have 0, 1, 2)"
    assert str(conns.no_such_connection([1], [], "x")) == "x: no connections"
    many = str(conns.no_such_connection([99], list(range(30)), "x"))
    assert many == "x: no connection 99 (have " + ", ".join(map(str, range(20))) + ", …)"
    assert str(conns.pick_one(dcs, "m")) == "m: 3 connections (0, 1, 2); pick one with --conn"
    assert str(conns.pick_one([0, 1, 2], "m")) == str(conns.pick_one(dcs, "m"))


INPUTS = [*sorted(str(SAMPLES / m["file"]) for m in MANIFEST.values()),
          str(SAMPLES / "autobahnpython_case_2_2.txt")]  # fmt: skip


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: Path(p).name)
def test_streamed_summaries_equal_the_decoded_connections(path: str) -> None:
    """Counted as the input streams, a connection has the facts of the same
    connection materialized and decoded whole: who dropped TCP too, from the
    FIN, RST and drop markers that passed in the stream."""
    streamed = sorted(conns.summaries(path), key=lambda s: s.connection.conn)
    whole = [summarize(d) for d in wirelog.load(path).decoded()]
    assert [conns.row(s) for s in streamed] == [conns.row(s) for s in whole]
    assert [s.closing for s in streamed] == [s.closing for s in whole]
    assert all(s.closing.dropped_by is not None for s in streamed)


def test_summaries_of_an_input_cut_short_keep_what_came_first(tmp_path: Path) -> None:
    """A capture cut in the middle of a packet: the connections before the
    cut are listed (the one open at the cut as far as it got), then the error."""
    whole = (SAMPLES / "multi_conn.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    got = []
    with pytest.raises(InputError) as err:
        for s in conns.summaries(str(cut)):
            got.append(s)
    assert str(cut) in str(err.value)
    full = {s.connection.conn: s for s in conns.summaries(str(SAMPLES / "multi_conn.pcap"))}
    assert "capture ends inside packet" in str(err.value)
    assert [s.connection.conn for s in got] == [0, 1, 2]
    same = [{**conns.row(s), "source": None} for s in got[:2]]
    assert same == [{**conns.row(full[c]), "source": None} for c in (0, 1)]
    assert 0 < got[2].tx.frames < full[2].tx.frames  # open at the cut: as far as it got
    assert got[2].closing.dropped_by is None
