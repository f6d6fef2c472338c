"""The HTML report is a real page: headless chromium renders its tables."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from analysis_seed import SEED
from typer.testing import CliRunner

from wirelog.cli.app import app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Tables(HTMLParser):
    """Collects every table's rows of cell texts, and the wire-log lines."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.pre: list[tuple[str, str]] = []
        self._cell: list[str] | None = None
        self._pre: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "pre":
            self._pre = dict(attrs).get("class") or ""
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "pre" and self._cell is not None and self._pre is not None:
            self.pre.append((self._pre, "".join(self._cell)))
            self._cell = None
            self._pre = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/setup installs it)")
def test_html_report_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "seed.html"
    result = CliRunner().invoke(app, ["report", str(SEED), "--format", "html", "-o", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html

    dom = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    parsed = _Tables()
    parsed.feed(dom.stdout)
    closing, *stats = parsed.tables
    assert closing[0] == ["Key", "Value", "Description"]
    assert len(closing) == 14  # header + Autobahn's 13 rows
    assert closing[2][:2] == ["closedByMe", "True"]
    # The seed's four tables, as Autobahn printed them.
    assert stats[0] == [
        ["Chop Size", "Count", "Octets"],
        ["4", "1", "4"],
        ["15", "1", "15"],
        ["129", "1", "129"],
        ["Total", "3", "148"],
    ]
    assert stats[1][-1] == ["Total", "3", "266"]
    assert stats[2] == [["Opcode", "Count"], ["8", "1"], ["10", "1"], ["Total", "2"]]
    assert stats[3] == [["Opcode", "Count"], ["8", "1"], ["9", "1"], ["Total", "2"]]
    lines = [text for css, text in parsed.pre if css.startswith("wirelog_")]
    seed_log = SEED.read_text(encoding="utf-8").split("Wire Log\n", 1)[1].strip().splitlines()
    assert [x.strip() for x in lines] == [x.strip() for x in seed_log]

    shot = tmp_path / "shot.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,900", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
