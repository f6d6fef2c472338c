"""Progress: silent off a terminal, a bar per input on one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from analysis_seed import seed_recording

import wirelog
from wirelog.analysis import loaded, walk


def test_quiet_when_not_a_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    cap = wirelog.load([seed_recording("a"), seed_recording("b")])
    cap.frames()
    cap.report()
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_the_bar_counts_decoded_octets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int | None]] = []
    advanced: list[int] = []

    class Bar:
        def advance(self, amount: int) -> None:
            advanced.append(amount)

    @contextmanager
    def fake(description: str, total: int | None) -> Iterator[Bar]:
        calls.append((description, total))
        yield Bar()

    monkeypatch.setattr(walk, "progress", fake)
    monkeypatch.setattr(loaded, "progress", fake)
    wirelog.load([seed_recording("a"), seed_recording("b"), seed_recording("c")]).frames()
    assert calls == [("decoding", None)]
    assert sum(advanced) == 3 * (266 + 148)  # the seed's octets, three times


def test_rich_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a terminal, wirelog.progress draws with rich (transient, on stderr)."""
    from wirelog import progress

    monkeypatch.setattr(progress, "enabled", lambda: True)
    monkeypatch.setattr(walk, "progress", progress.progress)
    monkeypatch.setattr(loaded, "progress", progress.progress)
    frames = wirelog.load([seed_recording("a"), seed_recording("b")]).frames()
    assert len(frames) == 8
