"""Where the shared Autobahn reports are (``../shared/autobahn-reports``)."""

from __future__ import annotations

from pathlib import Path

REPORTS = Path(__file__).resolve().parents[3] / "shared" / "autobahn-reports"
RUNS = ("testing-a-server", "testing-a-client")
