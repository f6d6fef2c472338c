"""``wirelog plot``'s one streamed pass (:mod:`wirelog.analysis.plotdata`)
against the notebook's :class:`~wirelog.analysis.loaded.Capture`, which
holds everything: the same columns of the same rows, and ladders kept from
the first and last frames that draw what the whole connection draws."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.axes import Axes

import wirelog
from wirelog.analysis import ladder, plotdata
from wirelog.pipeline import Options, decode, decoded_events

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(
    str(p) for p in (ROOT / "samples").iterdir() if p.suffix in (".pcap", ".gz", ".txt")
)
SHARED = ROOT.parent / "shared" / "autobahn-reports" / "testing-a-server"
CASES = [str(SHARED / f"websock_server_case_{c}.json") for c in ("5_19", "6_4_1", "10_1_1")]
LEVELS = ("chops", "frames", "messages")


@pytest.mark.parametrize("path", SAMPLES + CASES, ids=lambda p: Path(p).name)
def test_the_streamed_tables_are_the_captures_columns(path: str) -> None:
    data = plotdata.collect(path, Options(), LEVELS, None)
    cap = wirelog.load(path)
    for level in LEVELS:
        want = cap.table(level)[list(plotdata.COLUMNS[level])]
        if level == "frames":  # payloads kept only where the RTT plot pairs them
            want = want.assign(payload=want["payload"].where(want["opcode"].isin([9, 10])))
        got = data.tables[level]
        pd.testing.assert_frame_equal(got, want, check_categorical=False)
        assert (
            "payload" not in got
            or got["payload"].notna().sum() == want["opcode"].isin([9, 10]).sum()
        )
    pd.testing.assert_frame_equal(data.connections, cap.connections())
    assert data.error is None
    # the first connection's ladder, and only it
    assert list(data.ladders) == [int(cap.connections().conn.min())]


def _texts(ax: Axes) -> list[str]:
    return [ax.get_title(), *(t.get_text() for t in ax.texts)]


@pytest.mark.parametrize(
    ("path", "limit"),
    [(CASES[0], 4), (CASES[0], 6), (CASES[0], 40), (CASES[1], 2), (CASES[2], 40), (CASES[2], 9)]
    + [(p, 40) for p in SAMPLES],
    ids=lambda v: Path(v).name if isinstance(v, str) else str(v),
)
def test_a_ladder_kept_from_the_stream_draws_what_the_whole_connection_draws(
    path: str, limit: int
) -> None:
    """Frames left out with the marks among them (5.19's timers between
    its pings at small limits), and the times of every row."""
    cap = wirelog.load(path)
    starts = cap.connections().set_index("conn")["start"]
    for dc in decode(path):
        kept = plotdata.Ladder(dc.connection, limit=limit)
        for _, item in decoded_events(dc):
            kept.add(item)
        t0 = starts[dc.conn]
        start = None if pd.isna(t0) else t0.timestamp()  # Autobahn's logs have no times
        known = {} if start is None else {(dc.connection.source, dc.conn): start}
        frames, places = kept.frames(known)
        got = ladder.ladder(
            frames,
            conn=dc.conn,
            limit=limit,
            marks=kept.marks(start),
            numbers=places,
            total=kept.total,
        )
        want = ladder.ladder(cap.frames(), conn=dc.conn, limit=limit, marks=ladder.marks(dc, start))
        assert _texts(got) == _texts(want)
        assert kept.total == len(dc.frames)
        assert len(frames) <= limit + 2
