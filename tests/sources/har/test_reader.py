"""The HAR reader's shape checks: each broken entry is one error naming it."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from wirelog.errors import InputError
from wirelog.sources.har.reader import parse


def har(tmp_path: Path, *entries: Any, raw: str | None = None) -> str:
    path = tmp_path / "x.har"
    path.write_text(
        raw
        if raw is not None
        else json.dumps({"log": {"version": "1.2", "entries": list(entries)}})
    )
    return str(path)


def ws_entry(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "startedDateTime": "2026-12-01T10:00:00.000Z",
        "request": {"method": "GET", "url": "wss://example.org/feed", "headers": []},
        "response": {"status": 101, "statusText": "Switching Protocols", "headers": []},
        "_resourceType": "websocket",
        "_webSocketMessages": list(messages),
        **extra,
    }


def test_an_entry_becomes_a_socket(tmp_path: Path) -> None:
    page = {"request": {"url": "https://example.org/"}, "response": {"status": 200}}
    (s,) = parse(
        har(
            tmp_path,
            page,
            ws_entry(
                {"type": "send", "time": 1.5, "opcode": 1, "data": "hi"},
                {
                    "type": "receive",
                    "time": 2.0,
                    "opcode": 2,
                    "data": base64.b64encode(b"\x00\xff").decode(),
                },
            ),
        )
    )
    assert s.url == "wss://example.org/feed" and s.start_ts_ns == 1796119200 * 10**9
    assert s.request_head == b"GET /feed HTTP/1.1\r\n\r\n"
    assert s.response_head == b"HTTP/1.1 101 Switching Protocols\r\n\r\n"
    assert [(m.direction.value, m.opcode, m.data, m.ts_ns) for m in s.messages] == [
        ("tx", 1, b"hi", 1_500_000_000),
        ("rx", 2, b"\x00\xff", 2_000_000_000),
    ]


@pytest.mark.parametrize(
    ("raw", "entry", "why"),
    [
        ("not json", None, "not a HAR: not JSON"),
        ('{"log": {}}', None, "not a HAR: no log.entries list"),
        (None, {"request": {"url": "https://a/"}}, "no WebSocket entry among the HAR's 1 entries"),
        (
            None,
            ws_entry({"type": "sent", "opcode": 1, "data": ""}),
            "entry 0: _webSocketMessages[0]: type 'sent'",
        ),
        (
            None,
            ws_entry({"type": "send", "opcode": 3, "data": ""}),
            "opcode 3 is no WebSocket opcode",
        ),
        (None, ws_entry({"type": "send", "opcode": 2, "data": "@@"}), "_webSocketMessages[0]: "),
        (None, ws_entry({"type": "send", "opcode": 1, "data": 5}), "data is not a string"),
        (None, ws_entry({"opcode": 1}), "_webSocketMessages[0]: no 'type'"),
        (None, {"_resourceType": "websocket"}, "entry 0: no 'request'"),
    ],
)
def test_broken_hars(tmp_path: Path, raw: str | None, entry: Any, why: str) -> None:
    path = har(tmp_path, *([entry] if entry is not None else []), raw=raw)
    with pytest.raises(InputError) as info:
        parse(path)
    assert why in str(info.value) and str(info.value).startswith(path)


def test_no_status_and_no_time(tmp_path: Path) -> None:
    entry = ws_entry({"type": "send", "opcode": 1, "data": "a"}, startedDateTime="yesterday")
    entry["response"] = {"status": 0}
    entry["request"]["url"] = "ws://[::1]"
    (s,) = parse(har(tmp_path, entry))
    assert s.response_head is None and s.start_ts_ns is None and s.messages[0].ts_ns is None
    assert s.request_head is not None and s.request_head.startswith(b"GET / HTTP/1.1")


def test_detected_by_content(tmp_path: Path) -> None:
    from wirelog.sources.detect import detect

    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps({"log": {"version": "1.2", "entries": []}}, indent=2))
    assert detect(str(pretty)) == "har"
    late = tmp_path / "late.txt"  # "log" not first: found by parsing
    late.write_text(json.dumps({"comment": "x" * 300, "log": {"entries": []}}))
    assert detect(str(late)) == "har"
