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


CAPTURES = ROOT / "samples"


def _drawn_edges(ax: Axes) -> tuple[float, float]:
    xs = [float(x) for line in ax.get_lines() for x in line.get_xdata()]
    return min(xs), max(xs)


def test_throughput_draws_its_last_bin_and_states_the_width() -> None:
    chops = wirelog.load(str(CAPTURES / "multi_conn.pcap")).chops()
    ax = plots.throughput(chops, bins=10)
    span = (chops["time"].max() - chops["time"].min()).total_seconds()
    lo, hi = _drawn_edges(ax)
    assert lo == 0 and hi == pytest.approx(span)  # the last bin reaches the last chop
    assert f"({span / 10 * 1000:.3g} ms bins)" in ax.get_ylabel()
    # Every octet is in some bin: the step heights times the width sum to the total.
    for line, d in zip(ax.get_lines(), ("tx", "rx"), strict=True):
        rates = list(line.get_ydata())[:-1]  # the last value is repeated at the edge
        total = sum(rates) * span / 10
        assert total == pytest.approx(int(chops.loc[chops["dir"] == d, "length"].sum()))


def test_every_plot_names_its_input_and_keeps_its_legend_off_the_data() -> None:
    cap = wirelog.load(str(CAPTURES / "ws_basic.pcap"))
    for kind, (table, draw) in plots.KINDS.items():
        ax = draw(cap.table(table))
        assert ax.get_title().startswith("ws_basic.pcap: "), kind
        legend = ax.get_legend()
        if legend is None:
            continue
        fig = ax.get_figure(root=True)
        assert isinstance(fig, Figure)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        box = legend.get_window_extent(canvas.get_renderer())
        assert not box.overlaps(ax.get_window_extent(canvas.get_renderer())), kind
        # One wording: the direction and the role that sent it.
        texts = [t.get_text() for t in legend.get_texts()]
        assert [t[:11] for t in texts] == ["tx (client)", "rx (server)"][: len(texts)], kind


def test_count_axes_have_whole_ticks() -> None:
    cap = wirelog.load(str(CAPTURES / "aiohttp_ipv6.pcap"))
    for ax in (plots.frames_by_opcode(cap.frames()), plots.chop_sizes(cap.chops())):
        ticks = [t for t in ax.get_yticks() if 0 <= t <= ax.get_ylim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)


def test_many_chop_sizes_get_upright_labels_that_do_not_overlap() -> None:
    chops = wirelog.load([str(CAPTURES / "ws_basic.pcap"), str(CAPTURES / "ws_large.pcap.gz")])
    every = chops.chops()
    largest = sorted(every["length"].unique())[-16:]  # long labels: 65,549 and such
    sizes = len(largest)
    ax = plots.chop_sizes(every[every["length"].isin(largest)])
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure) and sizes == 16
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in ax.get_xticklabels() if t.get_text()]
    assert len(boxes) == min(16, sizes) and not any(
        a.overlaps(b) for a, b in combinations(boxes, 2)
    )
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {90}
    assert ax.get_title().startswith("2 inputs: ")


def test_ladder_marks_the_handshake_fin_and_a_gap(tmp_path: Path) -> None:
    from captures_util import drop, read_pcap, write_pcap

    from wirelog.analysis import ladder

    link, packets = read_pcap(CAPTURES / "ws_fragmented.pcap")
    cut, size = drop(packets, 5)
    cap = wirelog.load(str(write_pcap(tmp_path / "lost.pcap", link, cut)))
    dc = cap.decoded()[0]
    marks = ladder.marks(dc, cap.connections()["start"][0].timestamp())
    kinds = [m.kind for m in marks]
    assert kinds[:2] == ["handshake", "handshake"] and kinds.count("fin") == 2
    assert [m.label for m in marks if m.kind == "gap"] == [f"{size} octets missing"]
    ax = plots.ladder(cap.frames(), marks=marks)
    texts = [t.get_text() for t in _texts(ax)]
    assert "GET /: opening handshake" in texts and "HTTP 101 Switching Protocols" in texts
    assert any(t.startswith(f"⚡ {size} octets missing") for t in texts)
    assert {"FIN (client)", "FIN (server)"} <= set(texts)
    _no_overlap(ax)
    seed_marks = ladder.marks(wirelog.load(str(SEED)).decoded()[0])
    assert [m.label for m in seed_marks if m.kind == "timer"] == ["timer: close after 1.0 s"]


def test_plot_draws_a_ladder_per_conn_and_refuses_an_input_without_websocket(
    tmp_path: Path,
) -> None:
    out = tmp_path / "plots"
    args = ["plot", str(CAPTURES / "multi_conn.pcap"), "-o", str(out), "-k", "ladder"]
    result = CliRunner().invoke(app, [*args, "--conn", "0", "--conn", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "multi_conn_ladder_conn0.png",
        "multi_conn_ladder_conn2.png",
    ]
    http = tmp_path / "http.pcap"
    from captures_util import read_pcap, write_pcap

    link, packets = read_pcap(CAPTURES / "ws_basic.pcap")
    write_pcap(http, link, packets[:3])  # the TCP handshake alone: no WebSocket
    empty_out = tmp_path / "none"
    result = CliRunner().invoke(app, ["plot", str(http), "-o", str(empty_out)])
    assert result.exit_code == 2
    # The capture's own word on why nothing decoded (one line), no images.
    assert result.stderr.startswith(f"wirelog: {http}: no WebSocket upgrade in 1 TCP connection")
    assert result.stderr.count("\n") == 1
    assert not empty_out.exists() or list(empty_out.iterdir()) == []
