"""The replay as a library call: read, plan, play, record, judge.

``wirelog replay`` is a thin wrapper over :func:`replay`, :func:`listen` and
:func:`load`; notebooks and tests call the same functions.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wirelog.errors import ReplayError, WirelogError
from wirelog.model import Recording, Role
from wirelog.pipeline import decode_recording
from wirelog.protocol.connection import DecodedConnection, decode_connection
from wirelog.protocol.handshake import split_head
from wirelog.replay.chop import rechop
from wirelog.replay.client import replay_client
from wirelog.replay.diff import pick
from wirelog.replay.options import Options
from wirelog.replay.outcome import ReplayResult
from wirelog.replay.plan import build_plan
from wirelog.replay.server import serve_once
from wirelog.replay.steps import Plan
from wirelog.replay.target import Target, client_plan, parse_target
from wirelog.replay.verdict import Difference, Verdict, compare

#: How many synthesized chunks a --fill note lists by number.
_LISTED = 6


@dataclass(slots=True)
class Report:
    """One replay: the plan, what happened, and the verdict."""

    original: DecodedConnection
    plan: Plan
    result: ReplayResult
    verdict: Verdict

    @property
    def recording(self) -> Recording:
        return self.result.recording

    def as_dict(self) -> dict[str, Any]:
        """The verdict's document plus the writes the plan made."""
        doc = self.verdict.as_dict()
        doc["writes"] = [w.as_dict() for w in self.plan.writes]
        return doc


def prepare(recording: Recording, role: Role, opts: Options) -> tuple[DecodedConnection, Plan]:
    original = pick(decode_recording(recording), opts.conn, recording.source)
    plan = build_plan(
        original.connection,
        role,
        speed=opts.speed,
        asap=opts.asap,
        fill=opts.fill,
        handshake=original.handshake is not None,
    )
    if opts.chop is not None:
        plan = rechop(plan, opts.chop)
    return original, plan


def judge(original: DecodedConnection, result: ReplayResult, plan: Plan) -> Verdict:
    replayed = decode_connection(result.connection)
    v = compare(
        original,
        replayed,
        a_label=original.connection.label,
        b_label=f"{result.target} (live)",
    )
    o = result.outcome
    faults: list[str] = []
    # Most telling first: the one-line outcome is the first fault.
    ha, hb = original.handshake, replayed.handshake
    if ha is not None and ha.status == 101 and hb is not None and hb.status not in (None, 101):
        line, _ = split_head(hb.response or b"")
        faults.append(f"not upgraded: the server answered {line[:60]!r} instead of 101")
    peer_bad = v.new_violations.get(plan.role.other)
    if peer_bad:
        faults.append(
            f"the {plan.role.other.value} sent what is not valid WebSocket framing: "
            + ", ".join(peer_bad)
        )
    closing = v.a_closing
    peer = plan.role.other
    # A peer that failed the session in the recording by dropping TCP with no
    # close frame may reset it here once every write is in (closing a socket
    # with unread octets sends RST on Linux; AutobahnPython 26.11 fails
    # connections so): the same ending, compared as its closing, not a fault.
    sent_close = closing is not None and (
        closing.server_sent if peer is Role.SERVER else closing.client_sent
    )
    failing = closing is not None and closing.dropped_by is peer and not sent_close
    if o.reset_by_peer and failing and o.writes_sent == o.writes_planned:
        o.notes.append(f"the {peer.value} reset the connection after the last write")
    elif o.reset_by_peer and not (closing and closing.reset):
        faults.append(
            f"reset: the {peer.value} reset the connection after "
            f"{o.writes_sent} of {o.writes_planned} writes"
        )
    v.faults = faults + o.faults
    if o.short and not v.differences:
        # The messages compared alike as far as both went (a prefix-only
        # log): the missing answers are the difference.
        short = next(n for n in o.notes if n.startswith("short: "))
        v.differences.append(Difference(f"{plan.role.other.value} messages", [short]))
    v.notes.extend(plan.notes)
    v.notes.extend(o.notes)
    synth = [w for w in plan.writes if w.synthesized]
    if synth:
        total = sum(w.synthesized for w in synth)
        listed = ", ".join(
            f"chunk {w.index} octets {len(w.data) - w.synthesized}-{len(w.data) - 1}"
            for w in synth[:_LISTED]
        )
        more = f" and {len(synth) - _LISTED} more chunks" if len(synth) > _LISTED else ""
        v.notes.append(f"--fill synthesized {total} octets: {listed}{more}")
    return v


def replay(recording: Recording, target: str | Target, opts: Options | None = None) -> Report:
    """Replay the client side of ``recording`` against ``target``."""
    opts = opts or Options()
    t, original, live = _prepare_client(recording, target, opts)
    result = asyncio.run(replay_client(live, t, timeout=opts.timeout, insecure=opts.insecure))
    return Report(original, live, result, judge(original, result, live))


def _prepare_client(
    recording: Recording, target: str | Target, opts: Options
) -> tuple[Target, DecodedConnection, Plan]:
    """The target, the original connection and the plan edited for the target."""
    t = parse_target(target) if isinstance(target, str) else target
    original, plan = prepare(recording, Role.CLIENT, opts)
    return t, original, client_plan(plan, t, keep_host=opts.keep_host, fresh_key=opts.new_key)


def listen(
    recording: Recording,
    host: str,
    port: int,
    opts: Options | None = None,
    *,
    ready: Callable[[str, int], None] | None = None,
) -> Report:
    """Wait for one client on ``host:port`` (at most ``opts.accept_timeout``
    seconds) and replay the server side to it; ``ready(host, port)`` is
    called once it listens (port 0 picks one)."""
    opts = opts or Options()
    original, plan = prepare(recording, Role.SERVER, opts)
    result = asyncio.run(
        serve_once(
            plan,
            host,
            port,
            timeout=opts.timeout,
            accept_timeout=opts.accept_timeout,
            ready=ready,
        )
    )
    return Report(original, plan, result, judge(original, result, plan))


@dataclass(slots=True)
class LoadReport:
    """A load run. Sessions that failed (refused, reset, no connection) are
    counted as errors and take no part in the rate or the latencies: a rate
    of sessions that never happened would be a lie."""

    sessions: int = 0
    equivalent: int = 0
    different: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str | None = None
    first_difference: str | None = None

    @property
    def completed(self) -> int:
        """Sessions that ran to a verdict (equivalent or not)."""
        return self.sessions - self.errors

    @property
    def rate(self) -> float | None:
        """Completed sessions per second; None when none completed."""
        if not self.completed or self.elapsed <= 0:
            return None
        return self.completed / self.elapsed

    def percentile(self, p: float) -> float | None:
        xs = sorted(self.latencies)
        if not xs:
            return None
        k = min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))
        return xs[k]

    def as_dict(self) -> dict[str, Any]:
        rate = self.rate
        cuts = {p: self.percentile(p) for p in (50, 90, 99)}
        return {
            "sessions": self.sessions,
            "completed": self.completed,
            "equivalent": self.equivalent,
            "mismatches": self.different,
            "errors": self.errors,
            "elapsed_s": round(self.elapsed, 3),
            "sessions_per_s": None if rate is None else round(rate, 1),
            "latency_ms": None
            if not self.latencies
            else {f"p{p}": round((v or 0.0) * 1000, 2) for p, v in cuts.items()},
            "first_error": self.first_error,
            "first_difference": self.first_difference,
        }


def load(
    recording: Recording,
    target: str | Target,
    opts: Options | None = None,
    *,
    concurrency: int = 10,
    repeat: int = 100,
) -> LoadReport:
    """``repeat`` replays, ``concurrency`` at a time. Only counters and one
    latency per session are kept, so memory and descriptors stay bounded."""
    opts = opts or Options()
    t, original, live = _prepare_client(recording, target, opts)
    return asyncio.run(_load(original, live, t, opts, max(1, concurrency), max(0, repeat)))


async def _load(
    original: DecodedConnection,
    plan: Plan,
    target: Target,
    opts: Options,
    concurrency: int,
    repeat: int,
) -> LoadReport:
    rep = LoadReport()
    counter = iter(range(repeat))

    async def worker() -> None:
        for _ in counter:
            start = time.perf_counter()
            try:
                result = await replay_client(
                    plan, target, timeout=opts.timeout, insecure=opts.insecure
                )
                v = judge(original, result, plan)
            except WirelogError as exc:
                rep.errors += 1
                rep.first_error = rep.first_error or str(exc)
                continue
            finally:
                rep.sessions += 1
            rep.latencies.append(time.perf_counter() - start)
            if v.equivalent:
                rep.equivalent += 1
            else:
                rep.different += 1
                if rep.first_difference is None:
                    first = (v.faults or [d.topic + ": " + d.lines[0] for d in v.differences])[0]
                    rep.first_difference = first

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, repeat) or 1)))
    rep.elapsed = time.perf_counter() - began
    return rep


__all__ = ["LoadReport", "Options", "ReplayError", "Report", "listen", "load", "prepare", "replay"]
