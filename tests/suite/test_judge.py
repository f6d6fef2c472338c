"""The judge against its oracle: Autobahn's own verdicts on all 1,034 shared
reports, recomputed from expectations and observations alone; then each rule
on real observations changed the way a broken peer would change them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wirelog.protocol.connection import DecodedConnection
from wirelog.suite.judge import closing_verdict, judge, match
from wirelog.suite.model import Behavior, DataPhase, Echo, Expectation, Observation, events
from wirelog.suite.observe import RecordedCase, recorded_case

VERDICT_KEYS = ("behavior", "behaviorClose", "result", "resultClose")


def test_every_shared_verdict_is_reproduced(corpus: dict[str, list[DecodedConnection]]) -> None:
    total, wrong = 0, []
    for run, dcs in corpus.items():
        for dc in dcs:
            rc = recorded_case(dc)
            got = judge(rc.case_id, rc.expectation, rc.observation).as_dict()
            want = {k: dc.connection.meta[k] for k in VERDICT_KEYS}
            total += 1
            if got != want:
                wrong.append((run, rc.case_id, got, want))
    assert total == 1034
    assert wrong == []


def _case(by_id: dict[tuple[str, str], DecodedConnection], case_id: str) -> RecordedCase:
    return recorded_case(by_id[("testing-a-server", case_id)])


def _judge(rc: RecordedCase, **changes: object) -> dict[str, str]:
    seen = replace(rc.observation, **changes)  # type: ignore[arg-type]
    return judge(rc.case_id, rc.expectation, seen).as_dict()


def test_a_peer_that_skips_utf8_validation_fails_the_case(by_id: dict) -> None:
    # 6.3.1 sends invalid UTF-8: a peer that echoes it lets the fuzzer close.
    rc = _case(by_id, "6.3.1")
    echoed = (("message", "κόσμε\udb80\udc00edited", False),)
    got = _judge(rc, received=echoed, closed_by_me=True)
    assert got["behavior"] == "FAILED"
    assert got["result"] == "Actual events differ from any expected."
    assert got["behaviorClose"] == "FAILED"
    assert got["resultClose"] == "The connection was failed by the wrong endpoint"


def test_wrong_endpoint_is_fatal_only_where_the_case_says_so(by_id: dict) -> None:
    rc = _case(by_id, "1.1.1")  # not a UTF-8 case
    got = _judge(rc, closed_by_me=not rc.observation.closed_by_me)
    assert got["behavior"] == "OK"
    assert got["behaviorClose"] == "FAILED"


def test_a_wrong_close_code_fails_the_close_code_families(by_id: dict) -> None:
    rc = _case(by_id, "7.7.1")
    got = _judge(rc, remote_close_code=1002, was_clean=True)
    assert got["behaviorClose"] == "WRONG CODE"
    assert got["resultClose"] == "The close code should have been 1000,1000 or empty"
    assert (got["behavior"], got["result"]) == ("FAILED", got["resultClose"])
    # elsewhere a wrong code is only the closing verdict
    rc = _case(by_id, "2.1")
    got = _judge(rc, remote_close_code=1002, was_clean=True)
    assert (got["behavior"], got["behaviorClose"]) == ("OK", "WRONG CODE")


def test_the_closing_checks_apply_in_order(by_id: dict) -> None:
    rc = _case(by_id, "1.1.1")
    exp, seen = rc.expectation, replace(rc.observation, was_clean=True, remote_close_code=1000)
    assert closing_verdict(exp, seen) == ("OK", "Connection was properly closed")
    assert closing_verdict(exp, replace(seen, dropped_by_me=True))[0] == "FAILED BY CLIENT"
    # a server (the fuzzer testing a client) may drop TCP itself
    assert closing_verdict(exp, replace(seen, dropped_by_me=True, is_server=True))[0] == "OK"
    # unclean wins over a wrong code, a wrong endpoint over both
    bad = replace(seen, was_clean=False, remote_close_code=1011)
    assert closing_verdict(exp, bad)[0] == "UNCLEAN"
    assert closing_verdict(exp, replace(bad, closed_by_me=False))[0] == "FAILED"
    never = closing_verdict(exp, replace(seen, was_open=False))
    assert never == ("FAILED", "The WebSocket opening handshake was never completed!")


def test_the_first_matching_outcome_names_the_behavior(by_id: dict) -> None:
    rc = _case(by_id, "6.4.1")
    assert [k for k, _ in rc.expectation.outcomes] == ["NON-STRICT", "OK"]
    assert match(rc.expectation, (("timeout", "A"),)) == "OK"
    assert match(rc.expectation, (("timeout", "A"), ("timeout", "B"))) == "NON-STRICT"
    assert match(rc.expectation, ()) is None


def test_informational_cases(by_id: dict) -> None:
    rc = _case(by_id, "7.1.6")
    got = _judge(rc, received=())  # the close overtook the text message
    assert got["result"] == "Close was processed before text message could be returned."
    assert got["behavior"] == got["behaviorClose"] == "INFORMATIONAL"
    got = _judge(rc, received=(("message", "Hello World!", False),))
    assert got["result"] == "Text message was processed before close."
    rc = _case(by_id, "7.13.2")
    got = _judge(rc, closed_by_me=False)
    assert got["behavior"] == got["behaviorClose"] == "INFORMATIONAL"


def test_10_1_1_checks_the_fuzzers_own_fragments(by_id: dict) -> None:
    rc = _case(by_id, "10.1.1")
    assert _judge(rc)["behavior"] == "OK"
    got = _judge(rc, tx_frames={1: 1, 8: 1})
    assert got["behavior"] == "FAILED"
    assert got["result"] == (
        "Frames transmitted {0: 0, 1: 1} does not match what we expected {0: 50, 1: 1}."
    )
    assert _judge(rc, was_open=False)["result"] == "WebSocket connection was never open"


def test_data_phase_cases_judge_their_echoes(by_id: dict) -> None:
    rc = _case(by_id, "9.1.1")
    assert rc.observation.data == DataPhase((Echo(False, 65536),))
    none = _judge(rc, data=DataPhase(()))
    assert (none["behavior"], none["result"]) == (
        "FAILED",
        "Did not receive message within 10 seconds.",
    )
    short = _judge(rc, data=DataPhase((Echo(False, 65535),)))
    assert short["result"] == ("Expected text message with payload of length 65536, but got 65535.")
    wrong = _judge(rc, data=DataPhase((Echo(True, 65536),)))
    assert wrong["result"] == "Expected text message with payload, but got binary."
    rtt = _case(by_id, "9.7.2")
    echoes = rtt.observation.data.echoes  # type: ignore[union-attr]
    assert len(echoes) == 1000
    half = _judge(rtt, data=DataPhase(echoes[:500]))
    assert half["result"] == "Case did not finish within 60 seconds."
    bad = (*echoes[:10], Echo(True, 16))
    assert "got binary = True, payload length = 16" in _judge(rtt, data=DataPhase(bad))["result"]


def test_deflate_cases_without_deflate_are_unimplemented(by_id: dict) -> None:
    rc = _case(by_id, "12.1.1")
    assert rc.observation.deflate
    got = _judge(rc, deflate=False)
    assert got["behavior"] == "UNIMPLEMENTED"
    sha = _judge(rc, data=DataPhase((Echo(False, 16, ("aa", "bb")),)))
    assert sha["result"] == (
        "Echo'ed message contents differs from what I sent (got SHA1 aa, expected SHA1 bb)."
    )


def test_expectations_round_trip_autobahns_shape(by_id: dict) -> None:
    dc = by_id[("testing-a-server", "6.4.1")]
    exp = Expectation.from_autobahn(
        dc.connection.meta["expected"], dc.connection.meta["expectedClose"]
    )
    expected, close = exp.to_autobahn()
    assert expected == dc.connection.meta["expected"]
    assert close == dc.connection.meta["expectedClose"]
    assert events([["pong", "x"]]) == (("pong", "x"),)


def test_observation_defaults_judge_a_bare_case() -> None:
    exp = Expectation((("OK", (("pong", "hi"),)),), True, (1000,), True)
    seen = Observation((("pong", "hi"),), True, True, True, 1000, False, False)
    assert judge("2.2", exp, seen).as_dict() == {
        "behavior": "OK",
        "behaviorClose": "OK",
        "result": "Actual events match at least one expected.",
        "resultClose": "Connection was properly closed",
    }
    assert Behavior.NON_STRICT == "NON-STRICT"


@pytest.mark.parametrize("case_id", ["1.1.1", "9.3.1", "12.2.10", "13.7.18"])
def test_each_form_of_observation_is_read(by_id: dict, case_id: str) -> None:
    rc = _case(by_id, case_id)
    assert rc.observation.was_open
    assert rc.case_id == case_id
