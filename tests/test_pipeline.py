"""The one path: sources push, :class:`~wirelog.pipeline.Decoding` decodes,
and every input yields its events in the order pipeline.py documents."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from captures_util import MANIFEST, SAMPLES

from wirelog.errors import InputError
from wirelog.model import (
    Chunk,
    Connection,
    Direction,
    Frame,
    Handshake,
    Marker,
    MarkerKind,
    Message,
    Recording,
    Role,
    Violation,
    ViolationKind,
)
from wirelog.pipeline import (
    ConnectionEnd,
    Decoding,
    Options,
    Recorder,
    Summary,
    decode,
    decode_recording,
    decoded_events,
    read,
    recorded,
    replay,
    stream,
)
from wirelog.protocol.claims import reconcile
from wirelog.protocol.connection import decode_connection

SEED = str(SAMPLES / "autobahnpython_case_2_2.txt")
CAPTURES = sorted(str(SAMPLES / m["file"]) for m in MANIFEST.values())
REPORTS = Path(__file__).resolve().parents[2] / "shared" / "autobahn-reports" / "testing-a-server"
needs_corpus = pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")


def per_connection(pairs: Any) -> dict[tuple[str, int], list[Any]]:
    out: dict[tuple[str, int], list[Any]] = {}
    for conn, item in pairs:
        out.setdefault((conn.source, conn.conn), []).append(item)
    return out


def check_order(items: list[Any], *, whole: bool) -> None:
    """The documented order of one connection's events."""
    assert isinstance(items[-1], ConnectionEnd)
    assert sum(isinstance(i, ConnectionEnd) for i in items) == 1
    # Chunks and markers in recorded order: one sequence of indexes.
    indexes = [i.index for i in items if isinstance(i, Chunk | Marker)]
    assert indexes == sorted(indexes) and len(set(indexes)) == len(indexes)
    last_chunk = -1
    derived_seen = False
    for item in items:
        if isinstance(item, Chunk | Marker):
            last_chunk = item.index
            # a connection decoded at its end derives nothing before it
            assert not (whole and derived_seen)
        elif isinstance(item, Frame):
            derived_seen = True
            if item.chunk is not None and not item.from_log:
                assert item.chunk <= last_chunk  # after the item it came from
        elif isinstance(item, Message | Handshake):
            derived_seen = True
    if whole:
        kinds = [type(i).__name__ for i in items if not isinstance(i, Chunk | Marker | Violation)]
        assert kinds == sorted(kinds, key=["Handshake", "Frame", "Message", "ConnectionEnd"].index)


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: Path(p).name)
def test_a_capture_streams_in_the_documented_order(path: str) -> None:
    conns = per_connection(stream(path))
    assert conns
    for items in conns.values():
        check_order(items, whole=False)
        assert any(isinstance(i, Frame) for i in items)


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: Path(p).name)
def test_a_capture_streamed_equals_its_recording_replayed(path: str) -> None:
    """The source pushing as it reads and the materialized recording pushed
    again give the same events, connection by connection."""
    sink = Decoding()
    for _ in replay(read(path), sink):
        pass
    assert per_connection(sink.out) == per_connection(stream(path))
    assert sink.summary is not None and sink.summary.websocket == len(per_connection(sink.out))


def test_an_autobahn_report_streams_in_the_documented_order() -> None:
    (items,) = per_connection(stream(SEED)).values()
    check_order(items, whole=True)
    (conn,) = read(SEED).connections
    assert conn.claims  # frames the log claims: decoded at the end, reconciled
    want = decode_connection(conn, reconcile=reconcile)
    assert (
        items
        == [
            *recorded(conn),  # chunks, markers (the timers and the drop) and findings
            want.handshake,
            *want.frames,
            *want.messages,
            *want.violations[len(conn.findings) :],
            ConnectionEnd(),
        ]
    )


def test_a_report_without_claims_streams_like_a_capture() -> None:
    """Nothing in the path knows where the items came from: a report's
    connection without claims is decoded as it is pushed."""
    rec = read(SEED)
    (conn,) = rec.connections
    conn.claims.clear()
    sink = Decoding()
    for _ in replay(rec, sink):
        pass
    items = [i for _, i in sink.out]
    check_order(items, whole=False)
    first_frame = next(n for n, i in enumerate(items) if isinstance(i, Frame))
    assert any(isinstance(i, Chunk) for i in items[first_frame:])  # interleaved


@pytest.mark.parametrize("path", [SEED, *CAPTURES], ids=lambda p: Path(p).name)
def test_decode_is_what_decode_connection_derives(path: str) -> None:
    """Going through the sink changed nothing: frames, messages, violations
    and handshakes are those of the materialized decoder, claims reconciled."""
    recording = read(path)
    mine = decode_recording(recording)
    theirs = [decode_connection(c, reconcile=reconcile) for c in recording.connections]
    assert len(mine) == len(theirs) > 0
    for a, b in zip(mine, theirs, strict=True):
        assert a.connection is b.connection
        assert (a.handshake, a.frames, a.messages, a.violations) == (
            b.handshake,
            b.frames,
            b.messages,
            b.violations,
        )
    assert [d.conn for d in decode(path)] == [d.conn for d in mine]


@pytest.mark.parametrize("path", [SEED, CAPTURES[0]], ids=lambda p: Path(p).name)
def test_options_choose_the_layers(path: str) -> None:
    def kinds(opts: Options) -> set[str]:
        return {type(i).__name__ for _, i in stream(path, opts)}

    assert {"Chunk", "Frame", "Message", "ConnectionEnd"} <= kinds(Options())
    frames_only = kinds(Options(messages=False))
    assert "Frame" in frames_only and "Message" not in frames_only
    chops = kinds(Options(frames=False))
    assert "Chunk" in chops and not chops & {"Frame", "Message", "Handshake"}


def test_batches_and_the_summary() -> None:
    path = str(SAMPLES / MANIFEST["multi_conn"]["file"])
    s = stream(path)
    batches = list(s.batches())
    assert len(batches) >= 1 and all(batches)
    assert [p for b in batches for p in b] == list(stream(path))
    assert s.summary is not None
    assert (s.summary.tcp_connections, s.summary.websocket) == (5, 3)
    report = stream(SEED)
    list(report)
    assert report.summary == Summary(websocket=1)
    assert list(stream(SEED, Options(conns=(7,)))) == []


def test_a_cut_capture_streams_what_came_before_then_raises(tmp_path: Path) -> None:
    raw = (SAMPLES / MANIFEST["ws_fragmented"]["file"]).read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    got: list[Any] = []
    s = stream(str(cut))
    with pytest.raises(InputError, match="packet"):
        got.extend(s)
    assert any(isinstance(i, Frame) for _, i in got)
    assert isinstance(got[-1][1], ConnectionEnd)  # the open connection was closed
    assert s.summary is not None and s.summary.packets > 0
    with pytest.raises(InputError) as info:
        read(str(cut))
    partial = info.value.partial
    assert isinstance(partial, Recording) and partial.connections


@needs_corpus
def test_a_report_folder_with_an_unreadable_case(tmp_path: Path) -> None:
    for name in ("2_1", "2_3"):
        shutil.copy(REPORTS / f"websock_server_case_{name}.json", tmp_path)
    (tmp_path / "websock_server_case_2_2.json").write_text('{"wirelog": [')
    got: list[Any] = []
    with pytest.raises(InputError, match="case_2_2"):
        got.extend(stream(str(tmp_path)))
    assert sorted({c.conn for c, _ in got}) == [0, 2]


def test_decoded_events_of_a_connection_decoded_elsewhere() -> None:
    (dc,) = decode(SEED)
    items = [i for _, i in decoded_events(dc)]
    assert items == [i for _, i in stream(SEED)]
    check_order(items, whole=True)


def test_findings_come_before_the_item_at_their_index() -> None:
    conn = Connection(conn=0, source="memory", recorder=Role.CLIENT)
    tx = Direction.TX
    conn.chunks += [Chunk(tx, b"GET", 3, 0), Chunk(tx, b"", 5, 2)]
    conn.markers.append(Marker(MarkerKind.GAP, 1, tx, None, 2))
    early = Violation(ViolationKind.IGNORED_TRAFFIC, "no place")
    at_gap = Violation(ViolationKind.CAPTURE_GAP, "at the gap", tx, None, None, 1)
    conn.findings += [at_gap, early]
    assert list(recorded(conn)) == [early, conn.chunks[0], at_gap, conn.markers[0], conn.chunks[1]]
    rec = Recorder("memory", "memory")
    for _ in replay(Recording("memory", "memory", [conn]), rec):
        pass
    (again,) = rec.recording.connections
    assert again is conn and rec.summary == Summary(websocket=1)
