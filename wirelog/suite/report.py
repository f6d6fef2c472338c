"""The library calls behind ``wirelog suite judge`` and ``wirelog suite diff``.

Both read runs through :func:`wirelog.pipeline.decode` (a report folder, its
``index.json`` or single case reports) and judge each case with
:func:`wirelog.suite.judge.judge`; ``diff`` then compares the two recordings
of every case whose verdict changed with the replay's comparison
(:func:`wirelog.replay.verdict.compare`), so that "what differs first" is the
same rule for a single replay and for a whole run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wirelog.pipeline import decode
from wirelog.protocol.connection import DecodedConnection
from wirelog.replay.verdict import compare
from wirelog.sources.autobahn.reader import case_key
from wirelog.suite.judge import judge
from wirelog.suite.model import Verdict
from wirelog.suite.observe import recorded_case


@dataclass(frozen=True, slots=True)
class JudgedCase:
    """One case of one run, with the verdict recomputed."""

    source: str
    case_id: str
    agent: str | None
    verdict: Verdict

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "id": self.case_id, **self.verdict.as_dict()}


def judged(dc: DecodedConnection) -> JudgedCase:
    """Judge one decoded case report."""
    rc = recorded_case(dc)
    agent = dc.connection.meta.get("agent")
    v = judge(rc.case_id, rc.expectation, rc.observation)
    return JudgedCase(rc.source, rc.case_id, agent if isinstance(agent, str) else None, v)


def judge_input(path: str) -> Iterator[JudgedCase]:
    """Every case of one input, judged, in numeric case order."""
    for dc in decode(path):
        yield judged(dc)


@dataclass(frozen=True, slots=True)
class Change:
    """A case whose verdict differs between two runs."""

    case_id: str
    a: Verdict | None
    b: Verdict | None
    """None: the case is missing from that run."""
    first: str | None
    """The first message or frame that differs (the replay's comparison)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.case_id,
            "a": self.a.as_dict() if self.a else None,
            "b": self.b.as_dict() if self.b else None,
            "first_difference": self.first,
        }


def _key(v: Verdict | None) -> tuple[str, str] | None:
    return (v.behavior, v.behavior_close) if v is not None else None


def _by_case(path: str) -> dict[str, tuple[DecodedConnection, Verdict]]:
    out: dict[str, tuple[DecodedConnection, Verdict]] = {}
    for dc in decode(path):
        jc = judged(dc)
        out.setdefault(jc.case_id, (dc, jc.verdict))
    return out


def diff_runs(run_a: str, run_b: str) -> list[Change]:
    """The cases whose verdict (``behavior``, ``behaviorClose``) changed from
    ``run_a`` to ``run_b``, in numeric case order, each with its first
    difference on the wire."""
    a, b = _by_case(run_a), _by_case(run_b)
    changes: list[Change] = []
    for case_id in sorted(a.keys() | b.keys(), key=case_key):
        ga, gb = a.get(case_id), b.get(case_id)
        va, vb = (ga[1] if ga else None), (gb[1] if gb else None)
        if _key(va) == _key(vb):
            continue
        first = None
        if ga is not None and gb is not None:
            first = _first_difference(ga[0], gb[0])
        changes.append(Change(case_id, va, vb, first))
    return changes


def _first_difference(a: DecodedConnection, b: DecodedConnection) -> str | None:
    v = compare(a, b)
    # Messages and frames first: a handshake that differs in a header is
    # rarely why a verdict changed.
    ranked = sorted(v.differences, key=lambda d: not d.topic.endswith(("messages", "frames")))
    for d in ranked:
        for line in d.lines:
            if line.strip():
                return f"{d.topic}: {line.strip()}"
    return None


__all__ = ["Change", "JudgedCase", "diff_runs", "judge_input", "judged"]
