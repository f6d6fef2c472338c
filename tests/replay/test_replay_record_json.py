"""Writing a replay as an Autobahn JSON report (wirelog.replay.record):
the log encodings of the spec, and a report that reads back octet for octet."""

from __future__ import annotations

import json
import os
from dataclasses import replace

from sessions import CLOSE, PING, PONG, echo_session

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
