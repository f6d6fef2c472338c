"""Statistics DataFrames give exactly the numbers of ``wirelog stats`` and,
for Autobahn reports, the numbers Autobahn printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from analysis_seed import SEED, seed_connection
from typer.testing import CliRunner

import wirelog
from wirelog.cli.app import app
from wirelog.model import Recording

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "autobahn-reports"
CASES = [
    CORPUS / "testing-a-server" / "websock_server_case_2_2.json",
    CORPUS / "testing-a-client" / "websock_client_case_1_1_8.json",
    CORPUS / "testing-a-server" / "websock_server_case_9_1_1.json",  # logging switched off
    CORPUS / "testing-a-client" / "websock_client_case_12_1_1.json",  # deflate, log off
]


def _cli_stats(path: Path) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["stats", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def _hist_from_octets(df: object, source: str, conn: int, d: str) -> dict[str, int]:
    import pandas as pd

    assert isinstance(df, pd.DataFrame)
    part = df[(df["source"] == source) & (df["conn"] == conn) & (df["dir"] == d)]
    key = "chop_size" if "chop_size" in part else "opcode"
    return {str(k): int(c) for k, c in zip(part[key], part["count"], strict=True) if c}


def _check_against_cli(path: Path) -> None:
    cli = _cli_stats(path)
    cap = wirelog.load(str(path))
    octets, frames = cap.octet_stats(), cap.frame_stats()
    assert len(cli) == len(cap.connections()) > 0
    for e in cli:
        src, conn = str(e["source"]), int(e["conn"])  # type: ignore[call-overload]
        for d in ("tx", "rx"):
            assert _hist_from_octets(octets, src, conn, d) == e[f"{d}OctetStats"]
            assert _hist_from_octets(frames, src, conn, d) == e[f"{d}FrameStats"]
    assert cap.stats_entries() == cli


def test_seed_stats_are_the_seeds_tables() -> None:
    cap = wirelog.load(str(SEED))
    o = cap.octet_stats()
    # The seed's "Octets Received/Transmitted by Chop Size" tables.
    rx = o[o["dir"] == "rx"]
    assert list(zip(rx["chop_size"], rx["count"], rx["octets"], strict=True)) == [
        (4, 1, 4),
        (15, 1, 15),
        (129, 1, 129),
    ]
    assert o.groupby("dir", observed=True)["octets"].sum().to_dict() == {"tx": 266, "rx": 148}
    f = cap.frame_stats()
    assert f[f["dir"] == "tx"][["opcode", "count"]].values.tolist() == [[8, 1], [9, 1]]
    assert f[f["dir"] == "rx"]["opcode_name"].tolist() == ["CLOSE", "PONG"]
    # The report printed its own numbers; nothing is hidden.
    assert (o["reported"] == o["count"]).all() and (o["hidden"] == 0).all()


@pytest.mark.parametrize("path", [SEED, ROOT / "samples" / "multi_conn.pcap"], ids=str)
def test_dataframes_equal_wirelog_stats(path: Path) -> None:
    _check_against_cli(path)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared Autobahn corpus not present")
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_reported_column_is_what_autobahn_printed(path: Path) -> None:
    _check_against_cli(path)
    report = json.loads(path.read_text(encoding="utf-8", errors="surrogateescape"))
    cap = wirelog.load(str(path))
    o, f = cap.octet_stats(), cap.frame_stats()
    for d in ("tx", "rx"):
        for df, key, col in ((o, "OctetStats", "chop_size"), (f, "FrameStats", "opcode")):
            part = df[df["dir"] == d]
            got = {str(k): int(v) for k, v in zip(part[col], part["reported"], strict=True) if v}
            assert got == report[f"{d}{key}"]
            # what the log shows plus what it hides is what Autobahn counted
            total = (part["count"] + part["hidden"]).sum()
            assert total == sum(report[f"{d}{key}"].values())


def test_overall_sums_connections() -> None:
    rec = Recording("r", "memory", [seed_connection("r", 0), seed_connection("r", 1)])
    cap = wirelog.load(rec)
    per = cap.octet_stats()
    overall = cap.octet_stats(overall=True)
    assert len(per) == 12 and len(overall) == 6
    assert overall[overall["dir"] == "tx"]["count"].tolist() == [2, 2, 2]
    assert overall["octets"].sum() == 2 * (266 + 148)
    fo = cap.frame_stats(overall=True)
    assert dict(zip(fo["opcode_name"].astype(str), fo["count"], strict=False))["PING"] == 2


VIOLATING = [
    CORPUS / "testing-a-server" / f"websock_server_case_{c}.json"
    for c in ("4_1_1", "5_1", "6_3_1", "9_1_1")
]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared Autobahn corpus not present")
@pytest.mark.parametrize("path", VIOLATING, ids=lambda p: p.name)
def test_violations_dataframe_lists_what_wirelog_check_lists(path: Path) -> None:
    from wirelog.outputs import formats as output

    result = CliRunner().invoke(app, ["check", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output  # something was found
    found = json.loads(result.output)
    v = wirelog.load(str(path)).violations()
    cols = list(output.VIOLATION_COLUMNS)
    rows = v[cols].astype(object).where(v[cols].notna(), None).to_dict("records")
    assert rows == found
    counts = wirelog.load(str(path)).connections()[["violations", "findings"]].iloc[0]
    assert int(counts.sum()) == len(found)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared Autobahn corpus not present")
def test_a_whole_report_folder_matches_wirelog_stats() -> None:
    folder = CORPUS / "testing-a-client"
    cap = wirelog.load(str(folder))
    assert len(cap.connections()) == 517
    assert cap.stats_entries() == _cli_stats(folder)
    overall = cap.octet_stats(overall=True)
    assert list(overall.columns) == ["dir", "chop_size", "count", "octets", "reported", "hidden"]
    # Everything Autobahn counted is either in the logs or reported as hidden.
    index = json.loads((folder / "index.json").read_text())
    assert sum(len(cases) for cases in index.values()) == 517
    total_reported = 0
    for case in sorted(folder.glob("*_case_*.json")):
        report = json.loads(case.read_text(encoding="utf-8", errors="surrogateescape"))
        total_reported += sum(int(k) * v for k, v in report["txOctetStats"].items())
    tx = overall[overall["dir"] == "tx"]
    assert int((tx["chop_size"] * tx["reported"]).sum()) == total_reported
