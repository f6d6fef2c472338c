"""``wirelog suite judge`` and ``wirelog suite diff`` in-process (typer's
CliRunner): output shapes and exit codes."""

from __future__ import annotations

import json

from conftest import REPORTS
from typer.testing import CliRunner

from wirelog.cli import app

RUN = REPORTS / "testing-a-server"


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_judge_json_is_one_object_per_case() -> None:
    code, out, _ = cli("suite", "judge", str(RUN / "index.json"), "-f", "json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 517
    assert {"source", "id", "behavior", "behaviorClose"} <= rows[0].keys()
    index = json.loads((RUN / "index.json").read_text())["websock server"]
    assert all(r["behavior"] == index[r["id"]]["behavior"] for r in rows)


def test_judge_table_and_a_bad_input() -> None:
    code, out, err = cli("suite", "judge", str(RUN / "websock_server_case_6_4_1.json"))
    assert code == 0
    assert "6.4.1" in out and "NON-STRICT" in out
    code, out, err = cli("suite", "judge", str(RUN / "websock_server_case_6_4_1.html"))
    assert code == 2
    assert err.count("\n") == 1 and "expectedClose" in err


def test_diff_exit_codes(tmp_path: object) -> None:
    other = REPORTS / "testing-a-client"
    code, out, _ = cli("suite", "diff", str(RUN), str(other))
    assert (code, out) == (0, "no verdict changed\n")
    code, out, err = cli("suite", "diff", str(RUN), "/nonexistent")
    assert code == 2 and "/nonexistent" in err


def test_diff_json_lists_changes(tmp_path: object) -> None:
    from pathlib import Path

    tmp = Path(str(tmp_path))
    src = RUN / "websock_server_case_1_1_1.json"
    doc = json.loads(src.read_text())
    (tmp / "a_case_1_1_1.json").write_text(json.dumps(doc))
    b = tmp / "b"
    b.mkdir()
    doc["received"] = []
    (b / "a_case_1_1_1.json").write_text(json.dumps(doc))
    code, out, _ = cli("suite", "diff", str(tmp / "a_case_1_1_1.json"), str(b), "-f", "json")
    assert code == 1
    [change] = json.loads(out)
    assert change["id"] == "1.1.1" and change["b"]["behavior"] == "FAILED"
    code, out, _ = cli("suite", "diff", str(tmp / "a_case_1_1_1.json"), str(b))
    assert code == 1 and "OK/UNCLEAN" in out and "FAILED/UNCLEAN" in out
