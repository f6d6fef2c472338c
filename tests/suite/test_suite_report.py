"""``judge_input`` and ``diff_runs`` on real report folders: a copy of a
shared run with its verdict fields removed is judged the same, and a copy
whose peer stopped echoing one case is the one change ``diff`` finds, with
the missing message as its first difference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from suite_data import REPORTS

from wirelog.suite.report import diff_runs, judge_input

CASES = ("1_1_1", "2_2", "6_4_1", "9_1_1", "12_1_1")
VERDICT = ("behavior", "behaviorClose", "result", "resultClose")


def _copy_run(tmp: Path, strip: bool = False) -> Path:
    """A run of five shared cases, with an index.json, verdicts optionally removed."""
    tmp.mkdir()
    src = REPORTS / "testing-a-server"
    index = json.loads((src / "index.json").read_text())
    agent = next(iter(index))
    keep = {}
    for c in CASES:
        name = f"websock_server_case_{c}.json"
        doc = json.loads((src / name).read_text())
        if strip:
            for k in VERDICT:
                del doc[k]
        (tmp / name).write_text(json.dumps(doc))
        keep[c.replace("_", ".")] = index[agent][c.replace("_", ".")]
    (tmp / "index.json").write_text(json.dumps({agent: keep}))
    return tmp


def test_judging_needs_no_verdict_fields(tmp_path: Path) -> None:
    full = {c.case_id: c.verdict for c in judge_input(str(_copy_run(tmp_path / "a")))}
    bare = {c.case_id: c.verdict for c in judge_input(str(_copy_run(tmp_path / "b", True)))}
    assert bare == full
    assert list(bare) == ["1.1.1", "2.2", "6.4.1", "9.1.1", "12.1.1"]
    one = REPORTS / "testing-a-server" / "websock_server_case_2_2.json"
    [case] = judge_input(str(one))
    assert case.as_dict()["id"] == "2.2"
    assert case.agent == "websock server"


def test_diff_names_the_changed_case_and_its_first_difference(tmp_path: Path) -> None:
    a = _copy_run(tmp_path / "a")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    # In b the peer never echoed 1.1.1's message: no RO/RF after the
    # handshake, nothing received, the fuzzer's kill timer ended it.
    path = b / "websock_server_case_1_1_1.json"
    doc = json.loads(path.read_text())
    doc["wirelog"] = [e for i, e in enumerate(doc["wirelog"]) if i < 2 or e[0] not in ("RO", "RF")]
    doc["received"] = []
    path.write_text(json.dumps(doc))
    assert diff_runs(str(a), str(a)) == []
    [change] = diff_runs(str(a), str(b))
    assert change.case_id == "1.1.1"
    assert change.a is not None and change.b is not None
    assert (change.a.behavior, change.b.behavior) == ("OK", "FAILED")
    assert change.first is not None and change.first.startswith("server messages: - ")
    assert change.as_dict()["b"]["result"] == "Actual events differ from any expected."
    # a case only one run has is a change too
    (b / "websock_server_case_2_2.json").unlink()
    index = json.loads((b / "index.json").read_text())
    for cases in index.values():
        del cases["2.2"]
    (b / "index.json").write_text(json.dumps(index))
    ids = {c.case_id: c for c in diff_runs(str(a), str(b))}
    assert ids["2.2"].b is None and ids["2.2"].first is None
