"""Plots: object API only, the right numbers drawn, labels that do not collide."""

from __future__ import annotations

import sys
from itertools import combinations
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from analysis_seed import SEED, seed_recording
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text
from typer.testing import CliRunner

import wirelog
from wirelog.analysis import plots
from wirelog.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_analysis import synthetic_recording  # noqa: E402


@pytest.fixture(scope="module")
def seed() -> wirelog.analysis.loaded.Capture:
    return wirelog.load(seed_recording())


@pytest.fixture(scope="module")
def big() -> wirelog.analysis.loaded.Capture:
    return wirelog.load(synthetic_recording(6000))


def _texts(ax: Axes) -> list[Text]:
    return [t for t in ax.texts if t.get_text() and not isinstance(t, Annotation)]


def _no_overlap(ax: Axes) -> None:
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in _texts(ax)]
    clashes = [(a, b) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)]
    assert clashes == []


@pytest.mark.parametrize("kind", list(plots.KINDS))
def test_every_kind_draws_on_a_given_axes_without_pyplot(
    kind: str, seed: wirelog.analysis.loaded.Capture
) -> None:
    table, draw = plots.KINDS[kind]
    fig = Figure()
    ax = fig.add_subplot()
    assert draw(seed.table(table), ax) is ax
    assert ax.get_title()
    assert plt.get_fignums() == []  # nothing went through pyplot's global state


def test_ladder_labels_each_seed_frame(seed: wirelog.analysis.loaded.Capture) -> None:
    ax = plots.ladder(seed.frames())
    labels = [t.get_text() for t in _texts(ax) if "len=" in t.get_text()]
    # The seed's four frames: ping "Hello, world!", its pong, two closes 1000.
    assert labels == [
        'PING len=13  "Hello, world!"',
        'PONG len=13  "Hello, world!"',
        "CLOSE len=2  code 1000",
        "CLOSE len=2  code 1000",
    ]
    arrows = [a for a in ax.texts if isinstance(a, Annotation)]
    assert len(arrows) == 4
    # client -> server for tx (the client recorded), server -> client for rx
    assert [(a.xyann[0], a.xy[0]) for a in arrows] == [(0, 1), (1, 0), (0, 1), (1, 0)]
    lanes = {t.get_text() for t in _texts(ax)}
    assert {"client", "server"} <= lanes
    _no_overlap(ax)


def test_ladder_of_a_large_connection_is_limited_and_says_so(
    big: wirelog.analysis.loaded.Capture,
) -> None:
    frames = big.frames()
    n = len(frames)
    ax = plots.ladder(frames, limit=30)
    arrows = [a for a in ax.texts if isinstance(a, Annotation)]
    assert len(arrows) == 30
    assert f"{n:,} frames" in ax.get_title() and "shown" in ax.get_title()
    assert any(f"{n - 30:,} frames not shown" in t.get_text() for t in _texts(ax))
    # the last frame drawn is the connection's last (the close from the server)
    labels = [t.get_text() for t in _texts(ax) if "len=" in t.get_text()]
    assert labels[-2:] == ["CLOSE len=2  code 1000"] * 2
    first = bytes.fromhex(frames["payload"][0]).decode()
    shown = first[: plots.PREVIEW] + ("…" if len(first) > plots.PREVIEW else "")
    assert labels[0] == f'TEXT len={frames["length"][0]}  "{shown}"'
    _no_overlap(ax)


def test_opcode_bars_are_the_frame_counts(big: wirelog.analysis.loaded.Capture) -> None:
    ax = plots.frames_by_opcode(big.frames())
    stats = big.frame_stats()
    want = sorted(int(c) for c in stats["count"])
    heights = sorted(int(p.get_height()) for p in ax.patches if p.get_height() > 0)
    assert heights == want


def test_chop_histogram_counts_every_chop(big: wirelog.analysis.loaded.Capture) -> None:
    ax = plots.chop_sizes(big.chops())
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    chops = big.chops()
    for d in ("tx", "rx"):
        count = int((chops["dir"] == d).sum())
        assert any(label.startswith(d) and label.endswith(f"{count:,}") for label in labels)
    assert ax.get_xscale() == "log"  # sizes span 2 to thousands of octets


def test_rtt_pairs_ping_with_pong(seed: wirelog.analysis.loaded.Capture) -> None:
    pairs = plots.ping_rtts(seed.frames())
    assert len(pairs) == 1
    # ping chunk at +0.5 ms, pong at +0.7 ms (analysis_seed)
    assert pairs["rtt"].iloc[0] == pytest.approx(0.0002, abs=1e-6)
    frames = wirelog.load(synthetic_recording(6000)).frames()
    big_pairs = plots.ping_rtts(frames)
    pings = int((frames["opcode_name"] == "PING").sum())
    assert pings > 50 and len(big_pairs) == pings and (big_pairs["rtt"] > 0).all()


def test_plot_command_writes_png_and_svg(tmp_path: Path) -> None:
    out = tmp_path / "plots"
    result = CliRunner().invoke(app, ["plot", str(SEED), "-o", str(out)])
    assert result.exit_code == 0, result.output
    pngs = sorted(p.name for p in out.iterdir())
    assert pngs == sorted(f"autobahnpython_case_2_2_{k}.png" for k in plots.KINDS)
    assert all((out / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    args = ["plot", str(SEED), "-o", str(out), "--kind", "ladder", "--format", "svg"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    svg = (out / "autobahnpython_case_2_2_ladder.svg").read_text()
    assert "<svg" in svg
