"""Writing a replay as an Autobahn JSON report (wirelog.replay.record):
the log encodings of the spec, and a report that reads back octet for octet."""

from __future__ import annotations

import json
import os
from dataclasses import replace

from sessions import CLOSE, PING, PONG, TX, echo_session

from wirelog.enums import nanoseconds
from wirelog.pipeline import read
from wirelog.protocol.connection import decode_connection
from wirelog.replay.record import to_autobahn, write_autobahn_json
from wirelog.replay.verdict import compare


def test_recorded_json_reads_back_octet_for_octet(tmp_path: os.PathLike[str]) -> None:
    conn = echo_session([PING, b"\x02" + bytes(300), CLOSE], [PONG, b"\x02" + bytes(300), CLOSE])
    conn.chunks = [replace(c, ts_ns=nanoseconds(1700000000.0 + c.index / 100)) for c in conn.chunks]
    doc = to_autobahn(conn, agent="t")
    kinds = [e[0] for e in doc["wirelog"]]
    assert kinds[:3] == ["TO", "RO", "TF"]
    assert kinds.count("TF") == 3 and kinds.count("RF") == 3
    assert doc["closedByMe"] and not doc["droppedByMe"]
    assert doc["localCloseCode"] == doc["remoteCloseCode"] == 1000
    assert len(doc["wirelogTimes"]) == len(doc["wirelog"])
    path = os.path.join(tmp_path, "r.json")
    write_autobahn_json(conn, path, agent="t")
    with open(path) as fh:
        assert json.load(fh)["txOctetStats"] == doc["txOctetStats"]
    back = read(path).connections[0]
    assert [(c.direction, c.data) for c in back.chunks] == [
        (c.direction, c.data) for c in conn.chunks
    ]
    assert compare(decode_connection(conn), decode_connection(back)).equivalent


def test_close_reasons_and_clean_are_the_report_rules() -> None:
    """Codes and reasons of both close frames, ``wasClean`` and why not:
    the keys every report derives (summary.closing), not ``None`` for the
    reasons and a text Autobahn never writes."""
    bye = b"\x08\x0f\xa0" + "done, ✓".encode()  # 4000, a UTF-8 reason
    ok = b"\x08\x03\xe8ok"
    doc = to_autobahn(echo_session([PING, bye], [PONG, ok]), agent="t")
    assert doc["localCloseCode"] == 4000 and doc["localCloseReason"] == "done, ✓"
    assert doc["remoteCloseCode"] == 1000 and doc["remoteCloseReason"] == "ok"
    assert doc["closedByMe"] and doc["wasClean"] and doc["wasNotCleanReason"] is None
    # the client never gets its close answered and drops TCP itself
    unanswered = to_autobahn(echo_session([PING, bye], [PONG, b""], dropped=TX), agent="t")
    assert unanswered["remoteCloseCode"] is unanswered["remoteCloseReason"] is None
    assert unanswered["droppedByMe"] and unanswered["wasClean"] is False
    assert unanswered["wasNotCleanReason"] == "peer did not respond (in time) in closing handshake"
