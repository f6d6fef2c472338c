"""Case reports built the way Autobahn writes them, for tests.

``bin_log`` and ``ascii_log`` here follow autobahn 0.10.9's
``binLogData``/``asciiLogData`` (spec §1.4) independently of wirelog's
encoders, and the JSON is dumped with Python 2's settings (sorted keys,
``ensure_ascii``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wirelog.model import Direction
from wirelog.protocol.handshake import accept_for

TX, RX = Direction.TX, Direction.RX
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
REQUEST = (
    "GET /ws HTTP/1.1\r\nUser-Agent: AutobahnTestSuite/25.10.1-0.10.9\r\nHost: 127.0.0.1:9001\r\n"
    "Upgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
RESPONSE = (
    "HTTP/1.1 101 Switching Protocols\r\nServer: Test/1.0 with a long enough header line\r\n"
    f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept_for(KEY)}\r\n\r\n"
)
MASK = "1bbc4f88"


def bin_log(data: bytes) -> list[Any]:
    if len(data) > 60:
        return [len(data), data[:64].hex() + " ..."]
    return [len(data), data.hex()]


def ascii_log(data: bytes) -> list[Any]:
    cut = data[:64] + b" ..." if len(data) > 60 else data
    try:
        text = cut.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        text = "0x" + (data[:64].hex() + " ..." if len(data) > 60 else data.hex())
    return [len(data), text]


def tf(payload: bytes, opcode: int = 1, mask: str | None = MASK, **kw: Any) -> list[Any]:
    return [
        "TF",
        ascii_log(payload),
        opcode,
        kw.get("fin", True),
        0,
        mask,
        kw.get("repeat"),
        kw.get("chop"),
        kw.get("sync", False),
    ]


def to(data: bytes, sync: bool = False) -> list[Any]:
    return ["TO", bin_log(data), sync]


def ro(data: bytes) -> list[Any]:
    return ["RO", bin_log(data)]


def rf(payload: bytes, opcode: int = 1, mask: str | None = None) -> list[Any]:
    return ["RF", ascii_log(payload), opcode, True, 0, mask is not None, mask]


def client_report(wirelog: list[Any], **facts: Any) -> dict[str, Any]:
    """Client mode (the fuzzer is the client): TO 0 = request, RO 1 = response."""
    doc: dict[str, Any] = {
        "agent": "Test Server",
        "behavior": "OK",
        "case": 1,
        "closedByMe": True,
        "createStats": True,
        "createWirelog": True,
        "droppedByMe": False,
        "failedByMe": False,
        "httpRequest": REQUEST,
        "httpResponse": RESPONSE,
        "id": "1.1.1",
        "isServer": False,
        "wirelog": [to(REQUEST.encode()), ro(RESPONSE.encode()), *wirelog],
    }
    doc.update(facts)
    for key, kind in (("tx", "TO"), ("rx", "RO")):
        counts: dict[int, int] = {}
        for e in doc["wirelog"]:
            if e[0] == kind:
                counts[e[1][0]] = counts.get(e[1][0], 0) + 1
        doc.setdefault(f"{key}OctetStats", {str(k): v for k, v in sorted(counts.items())})
    for key, kind in (("tx", "TF"), ("rx", "RF")):
        ops: dict[int, int] = {}
        for e in doc["wirelog"]:
            if e[0] == kind:
                ops[e[2]] = ops.get(e[2], 0) + 1
        doc.setdefault(f"{key}FrameStats", {str(k): v for k, v in sorted(ops.items())})
    return doc


def write(tmp_path: Path, doc: Any, name: str = "x_case_1_1_1.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc, sort_keys=True, indent=3, separators=(",", ": ")))
    return str(path)
