"""The report's Closing Behavior section reads :mod:`wirelog.summary`."""

from __future__ import annotations

from pathlib import Path

from analysis_seed import seed_connection

from wirelog.model import Role
from wirelog.outputs.report import CLOSING_KEYS, closing_behavior, render_html, render_text
from wirelog.pipeline import decode
from wirelog.protocol.connection import decode_connection
from wirelog.summary import AUTOBAHN_KEYS, closing_of

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_the_keys_are_autobahn_s_in_its_order() -> None:
    assert tuple(k for k, _ in CLOSING_KEYS) == AUTOBAHN_KEYS


def test_a_capture_shows_what_the_traffic_tells_and_marks_the_rest() -> None:
    dc = decode_connection(seed_connection())
    rows, derived = closing_behavior(dc)
    assert derived
    values = {k: v for k, v, _ in rows}
    assert values == {
        "isServer": "False",
        "closedByMe": "True",
        "failedByMe": "?",
        "droppedByMe": "False",
        "wasClean": "True",
        "wasNotCleanReason": "None",
        "wasServerConnectionDropTimeout": "?",
        "wasOpenHandshakeTimeout": "?",
        "wasCloseHandshakeTimeout": "?",
        "localCloseCode": "1000",
        "localCloseReason": "None",
        "remoteCloseCode": "1000",
        "remoteCloseReason": "None",
    }
    text = render_text([dc])
    assert "(derived from the decoded traffic; ? = cannot be known from this input)" in text
    assert "Derived from the decoded traffic" in render_html([dc])


def test_reported_values_win_key_by_key() -> None:
    c = seed_connection()
    c.meta = {"failedByMe": False, "closedByMe": False}
    rows, derived = closing_behavior(decode_connection(c))
    values = {k: v for k, v, _ in rows}
    assert derived and values["failedByMe"] == "False" and values["closedByMe"] == "False"
    assert values["wasClean"] == "True"


def test_a_report_with_every_key_is_shown_verbatim() -> None:
    c = seed_connection()
    c.meta = {k: f"<{k}>" for k in AUTOBAHN_KEYS}
    rows, derived = closing_behavior(decode_connection(c))
    assert not derived and [v for _, v, _ in rows] == [f"<{k}>" for k in AUTOBAHN_KEYS]


def test_a_capture_without_a_tcp_end_cannot_tell_who_dropped() -> None:
    c = seed_connection()
    c.markers = [m for m in c.markers if m.direction is None]
    values = {k: v for k, v, _ in closing_behavior(decode_connection(c))[0]}
    assert values["droppedByMe"] == values["wasClean"] == values["wasNotCleanReason"] == "?"


def test_a_pcap_report_agrees_with_the_summary() -> None:
    (dc,) = decode(str(SAMPLES / "ws_basic.pcap"))
    closing = closing_of(dc)
    values = {k: v for k, v, _ in closing_behavior(dc)[0]}
    assert values["closedByMe"] == str(closing.closed_by is dc.connection.recorder)
    assert values["isServer"] == str(dc.connection.recorder is Role.SERVER)
    assert values["wasClean"] == str(closing.was_clean)
