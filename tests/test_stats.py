"""Autobahn's four histograms (:mod:`wirelog.stats`)."""

from __future__ import annotations

from collections import Counter

from analysis_seed import seed_connection

from wirelog.model import ClaimedFrame, Direction, Opcode
from wirelog.protocol.connection import decode_connection
from wirelog.stats import STAT_KEYS, StatsAccumulator, WireStats, compute, octet_stats, reported

TX, RX = Direction.TX, Direction.RX


def test_autobahn_json_round_trip_in_numeric_key_order() -> None:
    doc = {"rxOctetStats": {"100": 1, "9": 2}, "txFrameStats": {"8": 1, "1": 3}}
    s = WireStats.from_autobahn(doc)
    assert s.rx_octets == Counter({9: 2, 100: 1}) and s.tx_frames[1] == 3
    out = s.to_autobahn()
    assert list(out) == list(STAT_KEYS)
    assert list(out["rxOctetStats"]) == ["9", "100"] and out["txOctetStats"] == {}
    assert WireStats.from_autobahn(out) == s


def test_sums_differences_and_emptiness() -> None:
    a = WireStats.from_autobahn({"rxOctetStats": {"10": 2}, "txFrameStats": {"1": 1}})
    b = WireStats.from_autobahn({"rxOctetStats": {"10": 1}, "rxFrameStats": {"2": 4}})
    both = a + b
    assert both.rx_octets[10] == 3 and both.rx_frames[2] == 4 and both.tx_frames[1] == 1
    assert both.minus(b) == a
    assert a.minus(b).rx_frames == Counter()  # negatives dropped
    assert WireStats().is_empty() and not a.is_empty()
    assert a != b and (a == "a") is False


def test_a_materialized_connection_counts_like_the_stream() -> None:
    c = seed_connection()
    dc = decode_connection(c)
    s = compute(c, dc.frames)
    assert s.tx_frames == Counter({Opcode.PING: 1, Opcode.CLOSE: 1})
    assert s.rx_octets == octet_stats(c.chunks).rx_octets
    assert octet_stats(c.chunks).tx_frames == Counter()
    assert reported(c) is None
    c.meta["reported_stats"] = s
    assert reported(c) is s


def test_claims_replace_decoded_frames_in_the_count() -> None:
    """Autobahn counts every frame it sent through sendFrame (its TF entries)."""
    acc = StatsAccumulator()
    claim = ClaimedFrame(TX, 0, Opcode.TEXT, True, 0, False, None, 3, b"abc", 3)
    acc.claims([claim, claim])
    acc.frame(decode_connection(seed_connection()).frames[0])
    assert acc.stats.tx_frames == Counter({Opcode.TEXT: 2})
