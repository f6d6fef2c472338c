"""``wirelog convert``: tshark's frames from the pcapng equal wirelog's
frames from the source, on the seed report, every one of the 1,034 shared
Autobahn reports (both sides) and a real IPv6 capture; wirelog reads its own
output back the same."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from captures_util import HAVE_TSHARK, MANIFEST, SAMPLES, tshark_frames
from typer.testing import CliRunner

from wirelog.cli import app
from wirelog.model import Role
from wirelog.outputs.convert import convert, endpoints
from wirelog.pipeline import decode
from wirelog.protocol.connection import DecodedConnection
from wirelog.sources.detect import detect

REPORTS = Path(__file__).resolve().parents[3] / "shared" / "autobahn-reports"
pytestmark = pytest.mark.skipif(not HAVE_TSHARK, reason="needs tshark")


def keys(dc: DecodedConnection, role: Role) -> list[tuple[int, bool, int]]:
    """``role``'s frames that tshark can see in the pcapng too: whole ones
    (a frame the peer's drop truncated is no frame to tshark), ending before
    the first octet the recording lacks (Autobahn's cut log: tshark's TCP
    reassembly waits at the hole for good, so nothing after it shows)."""
    hole = _first_hole(dc, role)
    return [
        (f.opcode, f.fin, f.length)
        for f in dc.frames
        if f.sender is role
        and not f.from_log
        and f.complete
        and (hole is None or (f.offset is not None and f.offset + f.wire_length <= hole))
    ]


def _first_hole(dc: DecodedConnection, role: Role) -> int | None:
    """Stream offset of ``role``'s first missing octet, None when none is."""
    direction, pos = dc.connection.direction_of(role), 0
    for c in dc.connection.chunks:
        if c.direction is direction:
            pos += len(c.data)
            if not c.complete:
                return pos
    return None


def full(dc: DecodedConnection) -> list[tuple[Any, ...]]:
    # Frames an Autobahn log claims but whose octets were never sent are not
    # in a capture of the octets.
    # By sender: a capture's tx is the client's, a client report's the fuzzing server's.
    frames = sorted(
        (f for f in dc.frames if not f.from_log), key=lambda f: (f.sender.value, f.index)
    )
    return [(f.sender, f.index, f.opcode, f.fin, f.rsv, f.masked, f.mask, f.length, f.payload)
            for f in frames]  # fmt: skip


@dataclass
class Agreement:
    connections: int = 0
    compared: int = 0
    """Connections whose frames tshark's equal (every one: none is excluded)."""
    frames: int = 0
    """Frames compared, both directions."""
    unseen: int = 0
    """wirelog's frames tshark cannot show: after a hole of a cut log, or truncated."""
    cut: int = 0
    violations: int = 0
    empty: int = 0
    """Connections where the frames both can see are none (tshark shows none either)."""


def agree(src: str, out: Path, server_port: int | None = None) -> Agreement:
    """tshark's frames from the pcapng against wirelog's from ``src``, on
    every connection; wirelog's own reading of the pcapng is checked on every
    connection whose log is whole."""
    assert convert(src, str(out)) > 0 and detect(str(out)) == "pcapng"
    mine = decode(src)
    back = decode(str(out))
    assert len(back) == len(mine)
    got = Agreement(connections=len(mine))
    ports = {endpoints(dc.connection, n)[1][1] for n, dc in enumerate(mine)}
    theirs: dict[tuple[int, int], list[tuple[int, bool, int]]] = {}
    for port in ports if server_port is None else {server_port}:
        theirs.update(tshark_frames(out, port))  # one tshark for every connection
    for n, (dc, again) in enumerate(zip(mine, back, strict=True)):
        cut = not all(c.complete for c in dc.connection.chunks)
        if not cut:
            assert full(again) == full(dc), n
        got.cut += cut
        got.violations += any(f.violations for f in dc.frames) or any(
            m.violations for m in dc.messages
        )
        client, server = endpoints(dc.connection, n)
        both = 0
        for role, port in ((Role.CLIENT, client[1]), (Role.SERVER, server[1])):
            seen = keys(dc, role)
            assert theirs.get((n, port), []) == seen, (n, role)
            both += len(seen)
        got.frames += both
        got.unseen += sum(1 for f in dc.frames if not f.from_log) - both
        got.empty += not both
        got.compared += 1
    return got


def test_the_seed_report_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "seed.pcapng"
    seed = str(SAMPLES / "autobahnpython_case_2_2.txt")
    result = CliRunner().invoke(app, ["convert", seed, "-o", str(out)])
    assert result.exit_code == 0, result.output
    got = agree(seed, out)
    assert (got.compared, got.connections, got.unseen) == (1, 1, 0) and got.frames > 0
    bad = CliRunner().invoke(app, ["convert", seed, "-o", str(tmp_path / "no" / "x.pcapng")])
    assert bad.exit_code == 2 and bad.stderr.startswith("wirelog: --output ")


@pytest.mark.parametrize("side", ["testing-a-server", "testing-a-client"])
def test_every_shared_report(tmp_path: Path, side: str) -> None:
    """Every one of the 1,034 shared reports (517 cases each side), none
    excluded: whole logs frame for frame; the 22 cut logs on the frames
    before their first hole (after it tshark's reassembly waits for good);
    the ~140 with violations on every frame (tshark decodes reserved opcodes,
    RSV bits, bad UTF-8 and frames after a close too), less the frame a
    peer's drop truncated, which tshark never shows. Where that leaves no
    frame at all (21 a side), tshark must show none either."""
    got = agree(str(REPORTS / side), tmp_path / f"{side}.pcapng", 9001)
    assert got.connections == got.compared == 517
    assert got.cut >= 20 and got.violations >= 115 and got.frames > 800
    assert got.empty <= 25 and got.unseen > 0


def test_a_real_ipv6_capture(tmp_path: Path) -> None:
    src = str(SAMPLES / MANIFEST["aiohttp_ipv6"]["file"])
    got = agree(src, tmp_path / "v6.pcapng")
    assert got.compared == got.connections >= 1 and got.frames > 0 and not got.unseen
