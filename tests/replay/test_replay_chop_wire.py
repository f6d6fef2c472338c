"""``wirelog replay --chop``: the re-cut writes leave as asked, one TCP
segment each (tcpdump on loopback is the oracle), against the real
``websockets`` echo server, and the replay still judges EQUIVALENT."""

from __future__ import annotations

import os

import pytest
from servers import SAMPLES, SEED, Server, have_tcpdump, segments, tcpdump, ws_echo  # noqa: F401
from typer.testing import CliRunner

from wirelog.cli import app
from wirelog.model import Direction
from wirelog.pipeline import read
from wirelog.replay import run
from wirelog.replay.chop import parse_chop

BASIC = os.path.join(SAMPLES, "ws_basic.pcap")
needs_tcpdump = pytest.mark.skipif(not have_tcpdump(), reason="needs tcpdump as root")


def _to_server(pcap: str, port: int) -> list[int]:
    return [s.size for s in segments(pcap) if s.dport == port and s.size > 0]


def _cuts(sizes: list[int]) -> set[int]:
    out, pos = set(), 0
    for n in sizes:
        pos += n
        out.add(pos)
    return out


def _leaves_as(wire: list[int], planned: list[int]) -> None:
    """Each planned write left as its own segment: no segment splits one,
    and on a loaded machine the kernel may at most rarely join two."""
    assert sum(wire) == sum(planned)
    assert _cuts(wire) <= _cuts(planned)
    assert len(wire) >= 0.98 * len(planned), (len(wire), len(planned))


@needs_tcpdump
@pytest.mark.parametrize("spec", ["1000", "random:5"])
def test_each_cut_is_one_segment(ws_echo: Server, spec: str) -> None:  # noqa: F811
    opts = run.Options(asap=True, keep_host=True, chop=parse_chop(spec))
    with tcpdump(ws_echo.port, tail=1.0) as pcap:
        report = run.replay(read(BASIC), ws_echo.url, opts)
    assert report.verdict.equivalent, report.verdict.as_dict()
    planned = [len(w.data) for w in report.plan.writes]
    recorded = [c.length for c in report.original.connection.chunks if c.direction is Direction.TX]
    assert sum(planned) == sum(recorded) and len(planned) > len(recorded)
    assert planned[0] == recorded[0]  # the HTTP head is not re-cut
    wire = _to_server(pcap, ws_echo.port)
    _leaves_as(wire, planned)
    body = wire[1:]
    if spec == "1000":
        assert body.count(1000) >= 0.98 * sum(n // 1000 for n in recorded[1:]) > 100
    else:
        assert len(set(body)) > 10 and sum(n <= 64 for n in body) >= 0.98 * len(body)


@needs_tcpdump
def test_the_cli_cuts_byte_by_byte(ws_echo: Server) -> None:  # noqa: F811
    with tcpdump(ws_echo.port, tail=1.0) as pcap:
        r = CliRunner().invoke(
            app, ["replay", SEED, "--target", ws_echo.url, "--asap", "--chop", "1"]
        )
    assert r.exit_code == 0, r.output
    assert "Verdict: EQUIVALENT" in r.output
    wire = _to_server(pcap, ws_echo.port)
    # the request in one segment, then a ping of 19 and a close of 8 octets byte by byte
    assert wire[0] > 100 and sum(wire[1:]) == 6 + 13 + 6 + 2
    assert wire[1:].count(1) >= len(wire) - 2


@needs_tcpdump
def test_coalesce_joins_the_writes_that_wait_for_nothing(ws_echo: Server) -> None:  # noqa: F811
    case = os.path.join(SAMPLES, "..", "..", "shared", "autobahn-reports", "testing-a-server")
    path = os.path.join(case, "websock_server_case_5_19.json")
    opts = run.Options(asap=True, chop=parse_chop("coalesce"))
    with tcpdump(ws_echo.port, tail=1.0) as pcap:
        report = run.replay(read(path), ws_echo.url, opts)
    recorded = [c.length for c in report.original.connection.chunks if c.direction is Direction.TX]
    wire = _to_server(pcap, ws_echo.port)
    _leaves_as(wire, [len(w.data) for w in report.plan.writes])
    # 2 fragments and a ping, 1 s pause, 2 fragments, a ping, the last one, the close
    assert wire[1:] == [45, 60, 8] and recorded[1:] == [15] * 7 + [8]


def test_a_bad_chop_is_a_one_line_error() -> None:
    r = CliRunner().invoke(app, ["replay", SEED, "--target", "ws://127.0.0.1:9/", "--chop", "0"])
    assert r.exit_code == 2
    assert "--chop '0': expected 1, N, random[:SEED] or coalesce" in r.output
