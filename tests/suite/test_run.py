"""``suite run`` against real servers on 127.0.0.1: the shared reference
run (the nim-websock server, recorded by Autobahn) replayed case by case as
Autobahn's fuzzer, judged with each case's expectations. A compliant server
passes where the reference passed; a server that skips UTF-8 validation is
caught exactly on the invalid-UTF-8 cases."""

from __future__ import annotations

import json
from pathlib import Path

from servers import Server, ws_echo  # noqa: F401
from suite_data import REPORTS
from suite_peers import NoUtf8Echo, aiohttp_echo

from wirelog.suite.observe import recorded_case
from wirelog.suite.output import junit, write_run
from wirelog.suite.run import run_suite, selected, split_globs

REFERENCE = str(REPORTS / "testing-a-server")
FAMILIES = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*"
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


def test_globs_select_as_autobahn() -> None:
    globs = split_globs(["1.*,2.1", " 12.1.* "])
    assert globs == ["1.*", "2.1", "12.1.*"]
    assert selected("1.1.8", globs, [])
    assert selected("12.1.3", globs, [])
    assert not selected("2.10", globs, [])
    assert not selected("1.1.8", globs, ["1.1.*"])
    assert selected("9.1.1", [], [])


def test_websockets_passes_where_the_reference_passed(
    ws_echo: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    run = run_suite(REFERENCE, ws_echo.url, cases=[FAMILIES], agent="websockets")
    assert len(run.cases) == 247 and not run.not_run
    by_id = {c.case_id: c for c in run.cases}
    # websockets answers a close that interrupts a fragmented message with
    # 1002 "incomplete fragmented message": Autobahn's 7.1.5 fails that.
    assert by_id["7.1.5"].doc["remoteCloseCode"] == 1002
    assert by_id["7.1.5"].verdict.behavior_close == "WRONG CODE"
    others = [c for c in run.cases if c.case_id != "7.1.5"]
    assert [c.case_id for c in others if c.verdict.behavior not in PASSING] == []
    # websockets completes every closing handshake and drops TCP itself
    closing = {c.case_id: c.verdict.behavior_close for c in others}
    assert {k: v for k, v in closing.items() if v not in ("OK", "INFORMATIONAL")} == {}
    # what Autobahn itself observed where the cases are deterministic
    assert by_id["2.10"].doc["received"] == [["pong", f"payload-{i}"] for i in range(10)]
    assert by_id["6.4.1"].doc["received"][0] == ["timeout", "A"]
    assert by_id["10.1.1"].verdict.behavior == "OK"
    # Autobahn's layout
    out = tmp_path / "reports"
    index = json.loads(Path(write_run(run, str(out))).read_text())
    assert list(index) == ["websockets"] and len(index["websockets"]) == 247
    entry = index["websockets"]["6.4.1"]
    assert set(entry) == {"behavior", "behaviorClose", "duration", "remoteCloseCode", "reportfile"}
    case = json.loads((out / entry["reportfile"]).read_text())
    reference = json.loads((Path(REFERENCE) / "websock_server_case_6_4_1.json").read_text())
    assert set(case) >= set(reference)
    assert case["behavior"] == entry["behavior"] and case["id"] == "6.4.1"
    assert (out / entry["reportfile"].replace(".json", ".html")).read_text().count("6.4.1")
    assert (
        "Non-Strict" in (out / "index.html").read_text()
        or "Pass" in (out / "index.html").read_text()
    )
    junit(run, str(tmp_path / "junit.xml"))
    xml = (tmp_path / "junit.xml").read_text()
    assert xml.count("<testcase") == 247 and xml.count("<failure") == len(run.failed) == 1


def test_aiohttp_passes_the_framing_and_closing_cases() -> None:
    with aiohttp_echo() as url:
        run = run_suite(REFERENCE, url, cases=["1.*,2.*,5.*,7.7.*,10.*"], agent="aiohttp")
    assert len(run.cases) == 8 + 8 + 11 + 20 + 13 + 1
    failed = [(c.case_id, c.verdict.result) for c in run.cases if c.verdict.behavior not in PASSING]
    assert failed == []
    assert {c.verdict.behavior_close for c in run.cases} <= {"OK", "INFORMATIONAL"}


def test_a_peer_that_skips_utf8_validation_is_caught() -> None:
    with NoUtf8Echo() as peer:
        run = run_suite(REFERENCE, peer.url, cases=["6.2.*,6.3.*,6.5.*,6.6.*"], agent="broken")
    ref = {
        recorded_case(dc).case_id: recorded_case(dc).expectation
        for dc in __import__("wirelog.pipeline").pipeline.decode(REFERENCE)
        if dc.connection.meta["case_id"].startswith(("6.2.", "6.3.", "6.5.", "6.6."))
    }
    valid = {k for k, e in ref.items() if e.closed_by_me}
    invalid = set(ref) - valid
    assert valid and invalid
    verdicts = {c.case_id: c.verdict for c in run.cases}
    assert {k for k, v in verdicts.items() if v.behavior == "FAILED"} == invalid
    for k in invalid:  # the broken peer echoed it, so the fuzzer had to close
        assert verdicts[k].result_close == "The connection was failed by the wrong endpoint"
    assert all(verdicts[k].behavior == "OK" for k in valid)


def test_generated_cases_against_a_peer_without_deflate() -> None:
    """9.x and 12.x are generated (the reference logs no data phase); a peer
    that agrees no permessage-deflate is UNIMPLEMENTED in 12.x, as Autobahn says."""
    with NoUtf8Echo() as peer:
        run = run_suite(REFERENCE, peer.url, cases=["9.2.1,12.1.1,2.1"])
    assert not run.not_run
    verdicts = {c.case_id: c.verdict.behavior for c in run.cases}
    assert verdicts == {"2.1": "OK", "9.2.1": "OK", "12.1.1": "UNIMPLEMENTED"}
    generated = {c.case_id for c in run.cases if "generated" in c.doc["description"]}
    assert generated == {"9.2.1", "12.1.1"}
    # Autobahn's 12.x turns its log off and, with no deflate agreed, sends
    # its close unlogged: the report says the log was off at the end.
    [unimplemented] = [c.doc for c in run.cases if c.case_id == "12.1.1"]
    assert unimplemented["createWirelog"] is False
    assert [e for e in unimplemented["wirelog"] if e[0] in ("WLM", "TF", "RF")] == [["WLM", False]]


def test_chopped_octets_still_pass_a_compliant_server(
    ws_echo: Server,  # noqa: F811
) -> None:
    from wirelog.replay.chop import parse_chop

    for spec in ("1", "coalesce"):
        run = run_suite(REFERENCE, ws_echo.url, cases=["2.*,5.*"], chop=parse_chop(spec))
        assert len(run.cases) == 31
        assert [c.case_id for c in run.cases if c.verdict.behavior not in PASSING] == []
