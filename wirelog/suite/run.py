"""``suite run``: an Autobahn client-mode run without Autobahn.

Every case of a reference run (a report folder or its ``index.json``, the
fuzzer as the client) is replayed against a target server by the replayer
(:mod:`wirelog.replay`: the plan of the fuzzer's side, played as the fuzzer
played it), what the fuzzer would have observed is read from the replay
(:mod:`wirelog.suite.live`) and judged with the case's own expectations
(:mod:`wirelog.suite.judge`). The output folder gets Autobahn's layout
(:mod:`wirelog.suite.output`).

Cases whose octets the reference does not hold (9.x, 12.x, 13.x log their
data phase off) are generated from their definitions
(:mod:`wirelog.suite.generate`), played the same way and judged by their own
checks; their reports say the traffic was generated.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from wirelog.errors import PlanError
from wirelog.model import Direction
from wirelog.pipeline import decode, decode_recording
from wirelog.protocol.connection import DecodedConnection, decode_connection
from wirelog.replay.chop import Chop, rechop
from wirelog.replay.client import replay_client
from wirelog.replay.fuzzer import FuzzerRunner
from wirelog.replay.head import edit_path
from wirelog.replay.outcome import ReplayResult
from wirelog.replay.plan import build_plan
from wirelog.replay.rebuild import hidden
from wirelog.replay.record import to_autobahn
from wirelog.replay.steps import Plan
from wirelog.replay.target import Target, client_plan, parse_target
from wirelog.sources.autobahn.reader import parse_folder
from wirelog.sources.detect import detect
from wirelog.suite.cases import data_case
from wirelog.suite.generate import GENERATED, echoes, generate
from wirelog.suite.judge import judge
from wirelog.suite.live import observed
from wirelog.suite.model import Verdict
from wirelog.suite.observe import recorded_case

DEFAULT_CASE_TIMEOUT = 2.0
"""Seconds a case waits for the peer's answers (Autobahn's own timers are
1 s for most cases)."""


@dataclass(slots=True)
class CaseRun:
    """One case played against the target."""

    case_id: str
    verdict: Verdict
    doc: dict[str, Any]
    """The case report, with every key Autobahn writes."""
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SuiteRun:
    agent: str
    cases: list[CaseRun] = field(default_factory=list)
    not_run: list[tuple[str, str]] = field(default_factory=list)
    """``(case id, why)`` of the selected cases that could not be played."""
    elapsed: float = 0.0

    @property
    def failed(self) -> list[CaseRun]:
        return [c for c in self.cases if c.verdict.behavior == "FAILED"]


def split_globs(values: Iterable[str]) -> list[str]:
    """Case globs as Autobahn takes them, comma-separated or repeated."""
    return [g.strip() for v in values for g in v.split(",") if g.strip()]


def selected(case_id: str, cases: list[str], exclude: list[str]) -> bool:
    """Autobahn's case selection: in ``cases`` (all when empty), not in
    ``exclude``; globs as ``fnmatch`` reads them ("6.*", "12.1.*")."""
    if cases and not any(fnmatch.fnmatchcase(case_id, g) for g in cases):
        return False
    return not any(fnmatch.fnmatchcase(case_id, g) for g in exclude)


def fuzzer_plan(ref: DecodedConnection) -> Plan:
    """The fuzzer's side of a reference case, played as the fuzzer would
    (:class:`~wirelog.replay.fuzzer.FuzzerRunner`); a
    :class:`~wirelog.errors.PlanError` when the reference cannot be played."""
    conn = ref.connection
    me = conn.recorder
    case_id = str(conn.meta.get("case_id"))
    lacking = hidden(conn, Direction.TX)
    if lacking or data_case(case_id) is not None:
        # Replaying a log with a hole would judge the hole, not the target.
        why = lacking or "its data phase is not in the wire log"
        raise PlanError(f"{why}; it is generated (wirelog.suite.generate)")
    # Payloads cut at 64 octets in the log are the prefix of a repeated
    # pattern in every case that has them ("*", "\\xfe", spec §4): repeated.
    return build_plan(
        conn, me, fill=True, complete=True, events=True, handshake=ref.handshake is not None
    )


def run_case(
    ref: DecodedConnection,
    target: Target,
    *,
    agent: str,
    timeout: float = DEFAULT_CASE_TIMEOUT,
    path: str | None = None,
    chop: Chop | None = None,
    full_log: bool = False,
) -> CaseRun:
    """Replay one reference case against ``target`` (at ``path``, else the
    recorded request target) and judge it; ``full_log``: the report logs the
    data phase too, which Autobahn's leaves out (:mod:`wirelog.replay.quiet`)."""
    case_id = str(ref.connection.meta.get("case_id"))
    case = data_case(case_id)
    gen = generate(ref, case_id, case) if case is not None else None
    plan = gen.plan if gen is not None else fuzzer_plan(ref)
    live = client_plan(plan, target, keep_host=False, fresh_key=True)
    if path:
        live = edit_path(live, path)
    if chop is not None:
        live = rechop(live, chop)
    # A generated case waits as long as its own closeAfter allows (9.x: 10 s and more).
    wait = timeout + case.wait if case is not None else timeout
    result = asyncio.run(replay_client(live, target, timeout=wait, kind=FuzzerRunner))
    sent = gen.sent if gen is not None else None
    return judged_run(ref, result, agent, sent=sent, full_log=full_log)


def judged_run(
    ref: DecodedConnection,
    result: ReplayResult,
    agent: str,
    *,
    sent: tuple[tuple[bool, bytes], ...] | None = None,
    full_log: bool = False,
) -> CaseRun:
    """One played case judged with its reference's expectations, as the
    case report Autobahn would write; ``sent``: the messages of a generated
    case (:mod:`wirelog.suite.generate`), whose echoes its checks compare."""
    rc = recorded_case(ref)
    replayed = decode_connection(result.connection)
    seen = observed(replayed, result.plan)
    if sent is not None:
        seen = replace(seen, data=echoes(replayed, sent))
    verdict = judge(rc.case_id, rc.expectation, seen)
    case = data_case(rc.case_id) if sent is not None and not full_log else None
    doc = to_autobahn(
        result.connection,
        agent=agent,
        case_id=rc.case_id,
        decoded=replayed,
        quiet=case.quiet if case is not None else None,
    )
    expected, expected_close = rc.expectation.to_autobahn()
    meta = ref.connection.meta
    doc.update(
        {
            "case": meta.get("case", 0),
            "description": str(meta.get("description", ""))
            + (f" [{GENERATED}]" if sent is not None else ""),
            "expectation": meta.get("expectation", ""),
            "expected": expected,
            "expectedClose": expected_close,
            "received": [list(e) for e in seen.received],
            "behavior": verdict.behavior,
            "behaviorClose": verdict.behavior_close,
            "result": verdict.result,
            "resultClose": verdict.result_close,
            "reportTime": bool(meta.get("reportTime", False)),
            "reportCompressionRatio": bool(meta.get("reportCompressionRatio", False)),
            "duration": round(result.outcome.duration * 1000),
        }
    )
    notes = [*result.outcome.faults, *result.outcome.notes]
    if sent is not None:
        notes.insert(0, GENERATED)
    return CaseRun(rc.case_id, verdict, doc, notes)


def _reference(
    reference: str | Sequence[DecodedConnection], wanted: Callable[[str], bool]
) -> Sequence[DecodedConnection]:
    """The reference's cases decoded; of a reports folder or index, only
    the ``wanted`` ones are read at all."""
    if not isinstance(reference, str):
        return reference
    kind = detect(reference)
    if kind in ("autobahn-folder", "autobahn-index"):
        return decode_recording(parse_folder(reference, kind, wanted=wanted))
    return decode(reference)


def run_suite(
    reference: str | Sequence[DecodedConnection],
    target: str,
    *,
    cases: Iterable[str] = (),
    exclude: Iterable[str] = (),
    agent: str | None = None,
    timeout: float = DEFAULT_CASE_TIMEOUT,
    on_case: Callable[[CaseRun], None] | None = None,
    chop: Chop | None = None,
    full_log: bool = False,
) -> SuiteRun:
    """Play every selected case of ``reference`` (a report folder, its
    ``index.json``, or its cases decoded already) against ``target``, one
    connection per case, in Autobahn's order."""
    t = parse_target(target)
    path = urlsplit(target).path or None
    query = urlsplit(target).query
    if path and query:
        path = f"{path}?{query}"
    include, skip = split_globs(cases), split_globs(exclude)
    run = SuiteRun(agent or "UnknownServer")
    began = time.perf_counter()
    refs = _reference(reference, lambda case_id: selected(case_id, include, skip))
    for ref in refs:
        case_id = ref.connection.meta.get("case_id")
        if not isinstance(case_id, str) or not selected(case_id, include, skip):
            continue
        try:
            done = run_case(
                ref, t, agent=run.agent, timeout=timeout, path=path, chop=chop, full_log=full_log
            )
        except PlanError as exc:
            run.not_run.append((case_id, str(exc)))
            continue
        run.cases.append(done)
        if on_case is not None:
            on_case(done)
    run.elapsed = time.perf_counter() - began
    return run


__all__ = [
    "CaseRun",
    "SuiteRun",
    "fuzzer_plan",
    "judged_run",
    "run_case",
    "run_suite",
    "selected",
    "split_globs",
]
