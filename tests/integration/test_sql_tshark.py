"""``wirelog sql`` and ``decode --where`` against tshark's display filter.

tshark (the independent oracle) keeps the packets a ``-Y`` filter matches;
within them, the frames the same predicate holds for are the frames
wirelog's SQL must select, sender by sender, in order. The captures are
real traffic of websockets and aiohttp (samples/).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.captures_util import HAVE_TSHARK, MANIFEST, SAMPLES, FrameKey, tshark_frames
from wirelog.cli import app

pytestmark = pytest.mark.skipif(not HAVE_TSHARK, reason="tshark missing")

CAPTURES = ["ws_basic", "ws_fragmented", "multi_conn", "aiohttp_ipv6", "ws_deflate"]

Pred = Callable[[int, bool, int], bool]
#: (tshark display filter, the same predicate per frame, the SQL condition)
FILTERS: list[tuple[str, Pred, str]] = [
    ("websocket.opcode == 1", lambda op, fin, n: op == 1, "opcode = 1"),
    (
        "websocket.opcode == 2 && websocket.fin == 0",
        lambda op, fin, n: op == 2 and not fin,
        "opcode = 2 AND NOT fin",
    ),
    ("websocket.opcode >= 8", lambda op, fin, n: op >= 8, "opcode >= 8"),
    ("websocket.fin == 0", lambda op, fin, n: not fin, "fin = false"),
]


def _port(name: str) -> int:
    return int(MANIFEST[name]["port"])


def _path(name: str) -> Path:
    return SAMPLES / f"{name}.pcap"


def tshark_selected(name: str, display: str, pred: Pred) -> list[tuple[int, FrameKey]]:
    """(sender port, frame) tshark shows for ``display``, frame by frame."""
    got = tshark_frames(_path(name), _port(name), display=display)
    return sorted((sport, f) for (_, sport), frames in got.items() for f in frames if pred(*f))


def invoke(*args: str) -> str:
    result = CliRunner(env={"WIRELOG_PROGRESS": "0"}).invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize(("display", "pred", "condition"), FILTERS, ids=[f[0] for f in FILTERS])
def test_sql_selects_the_frames_tshark_filters(
    name: str, display: str, pred: Pred, condition: str
) -> None:
    want = tshark_selected(name, display, pred)
    query = (
        "SELECT CASE WHEN f.sender = 'client' THEN c.client ELSE c.server END AS peer, "
        f"f.opcode, f.fin, f.length FROM frames f JOIN connections c USING (source, conn) "
        f"WHERE {condition}"
    )
    rows = json.loads(invoke("sql", query, str(_path(name)), "-f", "json"))
    got = sorted(
        (int(r["peer"].rsplit(":", 1)[1]), (r["opcode"], r["fin"], r["length"])) for r in rows
    )
    assert got == want
    if display == "websocket.opcode == 1":
        assert want, "every sample holds text frames"


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize(("display", "pred", "condition"), FILTERS, ids=[f[0] for f in FILTERS])
def test_decode_where_lists_the_frames_tshark_filters(
    name: str, display: str, pred: Pred, condition: str
) -> None:
    server = _port(name)
    want = sorted(
        ("server" if sport == server else "client", f)
        for sport, f in tshark_selected(name, display, pred)
    )
    out = invoke("decode", str(_path(name)), "--where", condition, "-f", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    got = sorted((r["sender"], (r["opcode"], r["fin"], r["length"])) for r in rows)
    assert got == want
