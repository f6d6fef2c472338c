"""Shares of one capture: every connection in exactly one, numbered and
indexed as without shares, so the shares' rows together are the whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from captures_util import MANIFEST, SAMPLES, drop, read_pcap, write_pcap

from wirelog.analysis.loaded import Capture
from wirelog.errors import UsageError
from wirelog.pipeline import Decoding, Options, stream
from wirelog.sources.share import Shared, share_of, shared

MULTI = str(SAMPLES / MANIFEST["multi_conn"]["file"])
BASIC = str(SAMPLES / MANIFEST["ws_basic"]["file"])
KEYS = {"chops": ["conn", "index"], "frames": ["conn", "dir", "index"]}


def test_each_connection_number_has_one_share_in_range() -> None:
    for n in (1, 2, 3, 7):
        got = [share_of(c, n) for c in range(200)]
        assert set(got) == set(range(n))  # every share gets some
        assert got == [share_of(c, n) for c in range(200)]  # the same every time


def test_alternating_numbers_do_not_fall_in_one_share() -> None:
    """WebSocket connections that each follow a plain HTTP one have numbers
    of one parity; a modulo would give them all to one share of two."""
    even = [share_of(c, 2) for c in range(0, 400, 2)]
    assert 60 < sum(even) < 140


@pytest.mark.parametrize("level", ["chops", "frames"])
@pytest.mark.parametrize("n", [2, 3])
def test_the_shares_together_are_the_whole_capture(level: str, n: int) -> None:
    whole = Capture([MULTI]).table(level)
    shares = [Capture([MULTI], Options(share=(i, n))).table(level) for i in range(n)]
    kept = [set(s["conn"]) for s in shares]
    assert sum(len(k) for k in kept) == len(set().union(*kept)) == whole["conn"].nunique()
    assert all(share_of(c, n) == i for i, k in enumerate(kept) for c in k)
    together = pd.concat(shares).sort_values(KEYS[level]).reset_index(drop=True)
    # chunk indexes too are the whole capture's: the read saw every packet
    pd.testing.assert_frame_equal(together, whole.sort_values(KEYS[level]).reset_index(drop=True))


def test_a_share_still_gets_the_end_of_the_input() -> None:
    s = stream(MULTI, Options(share=(0, 2)))
    list(s)
    assert s.summary is not None and s.summary.websocket == 3  # counted, not decoded


def test_shared_passes_the_sink_through_without_a_share() -> None:
    sink = Decoding()
    assert shared(sink, None) is sink
    assert isinstance(shared(sink, (1, 2)), Shared)


@pytest.mark.parametrize("share", [(2, 2), (-1, 2), (0, 0)])
def test_a_share_outside_its_count_is_refused(share: tuple[int, int]) -> None:
    with pytest.raises(UsageError, match="share"):
        Shared(Decoding(), *share)


def test_the_shares_of_a_capture_with_a_gap_keep_its_findings(tmp_path: Path) -> None:
    """A lost segment is a finding and a marker of its connection's share only."""
    linktype, packets = read_pcap(Path(BASIC))
    holed, _ = drop(packets, 8)
    path = str(write_pcap(tmp_path / "holed.pcap", linktype, holed))
    whole = Capture([path]).violations()
    assert "capture_gap" in set(whole["kind"])
    shares = [Capture([path], Options(share=(i, 2))).violations() for i in range(2)]
    assert sorted(len(s) for s in shares) == [0, len(whole)]  # one connection, one share
    keys = ["conn", "kind", "chunk", "detail"]
    together = pd.concat(shares).sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(together, whole.sort_values(keys).reset_index(drop=True))
