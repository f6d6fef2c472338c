"""Where the shared Autobahn reports are (``../shared/autobahn-reports``)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

REPORTS = Path(__file__).resolve().parents[3] / "shared" / "autobahn-reports"
RUNS = ("testing-a-server", "testing-a-client")


def kinds(log: list[list[object]]) -> list[object]:
    return [e[0] if e[0] != "WLM" else ("WLM", e[1]) for e in log]


def logs_as_autobahn(run: Path, case_id: str, doc: dict[str, Any]) -> None:
    """The run's wire log has the shape Autobahn's own report of the case
    has, the statistics count all of it, and the log lacks exactly the
    data phase. The peer's close reply (websockets sends one; the reference
    server sometimes dropped TCP instead) is compared apart."""
    [path] = run.glob(f"*_case_{case_id.replace('.', '_')}.json")
    reference = json.loads(path.read_text())
    reply = ["RO", "RF"]
    want = kinds(reference["wirelog"])
    got = kinds(doc["wirelog"])
    assert got[-2:] == reply, case_id
    assert got[:-2] == (want[:-2] if want[-2:] == reply else want), case_id
    assert doc["createWirelog"] is True and len(doc["wirelogTimes"]) == len(doc["wirelog"])
    logged = Counter(e[1][0] for e in doc["wirelog"] if e[0] == "TO")
    stats = Counter({int(k): v for k, v in doc["txOctetStats"].items()})
    hidden = stats - logged
    # what went unlogged is the data phase: every octet of every message sent
    frames = sum(v for k, v in doc["txFrameStats"].items() if k != "8")
    assert frames >= 1 and sum(k * v for k, v in hidden.items()) > 0
    assert logged + hidden == stats
    assert all(e[2] == 8 for e in doc["wirelog"] if e[0] == "TF")  # only the close is claimed
