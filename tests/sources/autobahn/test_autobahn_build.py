"""A parsed report built into one connection: roles, findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from autobahn_json_docs import (
    REQUEST,
    RESPONSE,
    RX,
    client_report,
    rf,
    ro,
    to,
    write,
)

from wirelog.model import Role, ViolationKind
from wirelog.pipeline import decode, read
from wirelog.protocol.frames import encode_frame


def test_is_server_decides_who_masks(tmp_path: Path) -> None:
    """Server mode: RO 0 = request, TO 1 = response; the peer (client) masks."""
    unmasked = encode_frame(1, b"hi")
    doc = client_report([], isServer=True)
    doc["wirelog"] = [ro(REQUEST.encode()), to(RESPONSE.encode()), ro(unmasked), rf(b"hi")]
    doc["rxOctetStats"] = {str(len(unmasked)): 1, str(len(REQUEST)): 1}
    doc["txOctetStats"] = {str(len(RESPONSE)): 1}
    doc["rxFrameStats"] = {"1": 1}
    doc["txFrameStats"] = {}
    (dc,) = decode(write(tmp_path, doc))
    assert dc.connection.recorder is Role.SERVER
    (f,) = dc.frames
    assert (f.direction, f.sender) == (RX, Role.CLIENT)
    assert ViolationKind.UNMASKED_CLIENT_FRAME in f.violations


@pytest.mark.parametrize(
    ("facts", "logging_off"),
    [
        ({"id": "9.1.1"}, True),  # switched off without a WLM entry (spec §1.3)
        ({"id": "9.6.6"}, True),
        ({"id": "9.7.1"}, False),  # uses WLM; none here, so nothing was hidden
        ({"id": "1.1.1", "createWirelog": False}, True),
        ({"id": "1.1.1"}, False),
    ],
)
def test_logging_off_is_a_finding(tmp_path: Path, facts: dict[str, Any], logging_off: bool) -> None:
    (conn,) = read(write(tmp_path, client_report([], **facts))).connections
    assert (ViolationKind.LOGGING_OFF in [v.kind for v in conn.findings]) is logging_off
