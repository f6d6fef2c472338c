"""The 30-case check of issue 13: "Of 30 real recorded cases where another
server behaved correctly, replayed against AutobahnPython, 7 were judged
wrong". Thirty cases of the shared client-mode run (the nim-websock server,
recorded by Autobahn) whose recorded verdict passes, across families 1-7
and 10, each replayed as one plain ``wirelog replay`` against a real
AutobahnPython echo server.

A replay is judged right when it is no FAULT and says EQUIVALENT exactly
when Autobahn's verdict for the replayed traffic (the case's expectations
applied by :func:`wirelog.suite.run.judged_run`, the judge that reproduces
all 1,034 shared verdicts) is the recorded one, and that verdict is the
clean pass Autobahn gives AutobahnPython. nim-websock drops TCP without
answering the fuzzer's close in many cases (recorded ``OK / UNCLEAN``),
where AutobahnPython closes cleanly: those must come out DIFFERENT, in the
closing only, never EQUIVALENT.
"""

from __future__ import annotations

import json
import os

from servers import SERVER_REPORTS, Server, ab_echo  # noqa: F401

from wirelog.pipeline import read
from wirelog.replay import run
from wirelog.suite.run import judged_run

CASES = (
    # 1: lengths 0 / 65535, chop 997; binary 1.2.x
    *("1.1.1", "1.1.6", "1.1.8", "1.2.2", "1.2.8"),
    # 2: pings; 2.6 chop 1; 2.7-2.9 unsolicited pongs (2.9 then a ping); 2.10 ten pings
    *("2.1", "2.3", "2.6", "2.7", "2.9", "2.10", "2.11"),
    *("3.1", "3.4"),  # RSV bits; 3.4 chop 1
    *("4.1.1", "4.2.5"),  # reserved opcodes
    # 5: fragmentation; 5.6 a ping between fragments; 5.19 a 1 s pause and pings
    *("5.1", "5.6", "5.9", "5.15", "5.19"),
    # 6: UTF-8; 6.4.1 NON-STRICT with two 1 s pauses (fail fast at a frame)
    *("6.1.3", "6.2.3", "6.4.1", "6.7.1", "6.20.1"),
    # 7: close with a message, a close with a reason (7.3.4), a valid code
    *("7.1.1", "7.3.4", "7.7.1"),
    "10.1.1",  # 65536 octets auto-fragmented by 1300
)
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}
PASSING_CLOSE = {"OK", "INFORMATIONAL"}
CLOSING_TOPICS = {"server messages", "server frames", "closing"}
"""Where a recorded unanswered close differs from a clean one."""


def _report(case: str) -> str:
    return os.path.join(SERVER_REPORTS, f"websock_server_case_{case.replace('.', '_')}.json")


def test_the_selection_is_what_the_issue_asks() -> None:
    assert len(set(CASES)) == 30
    assert {c.split(".")[0] for c in CASES} == {"1", "2", "3", "4", "5", "6", "7", "10"}
    for case in CASES:
        with open(_report(case), encoding="utf-8") as fh:
            doc = json.load(fh)
        assert doc["behavior"] in PASSING, case
    assert "2.10" in CASES and "7.3.4" in CASES


def test_thirty_recorded_cases_against_autobahnpython(ab_echo: Server) -> None:  # noqa: F811
    wrong: list[str] = []
    for case in CASES:
        report = run.replay(read(_report(case)), ab_echo.url, run.Options(fill=True))
        meta = report.original.connection.meta
        recorded = (meta["behavior"], meta["behaviorClose"])
        judged = judged_run(report.original, report.result, "AutobahnPython").verdict
        got = (judged.behavior, judged.behavior_close)
        v = report.verdict
        topics = {d.topic for d in v.differences}
        why = None
        if v.faults:
            why = f"FAULT: {v.faults[0]}"
        elif got[0] not in PASSING or got[1] not in PASSING_CLOSE:
            why = f"Autobahn would judge the replay {got}, not a pass"
        elif v.equivalent != (got == recorded):
            why = f"{'EQUIVALENT' if v.equivalent else 'DIFFERENT'} but {recorded} -> {got}"
        elif recorded[1] == "UNCLEAN" and recorded[0] == got[0] and not topics <= CLOSING_TOPICS:
            why = f"differs beyond the closing: {sorted(topics)}"
        elif report.result.outcome.duration > 3.0:
            why = f"took {report.result.outcome.duration:.1f} s (a timer waited)"
        if why is not None:
            wrong.append(f"{case}: {why}")
    print(f"\n{30 - len(wrong)}/30 judged right", *wrong, sep="\n  ")
    assert len(wrong) <= 1, wrong
