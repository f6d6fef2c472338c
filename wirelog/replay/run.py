"""The replay as a library call: read, plan, play, record, judge.

``wirelog replay`` is a thin wrapper over :func:`replay`, :func:`listen` and
:func:`load`; notebooks and tests call the same functions.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any

from wirelog.errors import ReplayError, WirelogError
from wirelog.model import Recording, Role
from wirelog.protocol.connection import DecodedConnection, decode_connection
from wirelog.replay.client import (
    DEFAULT_TIMEOUT,
    ReplayResult,
    Target,
    client_plan,
    parse_target,
    replay_client,
)
from wirelog.replay.diff import decode_all, pick
from wirelog.replay.plan import Plan, build_plan
from wirelog.replay.verdict import Verdict, compare


@dataclass(frozen=True, slots=True)
class Options:
    speed: float = 1.0
    asap: bool = False
    fill: bool = False
    timeout: float = DEFAULT_TIMEOUT
    insecure: bool = False
    keep_host: bool = False
    new_key: bool = False
    conn: int | None = None


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


def prepare(recording: Recording, role: Role, opts: Options) -> tuple[DecodedConnection, Plan]:
    original = pick(decode_all(recording), opts.conn, recording.source)
    plan = build_plan(
        original.connection,
        role,
        speed=opts.speed,
        asap=opts.asap,
        fill=opts.fill,
        handshake=original.handshake is not None,
    )
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
        line = (hb.response or b"").split(b"\r\n", 1)[0].decode("latin-1", "replace")
        faults.append(f"not upgraded: the server answered {line[:60]!r} instead of 101")
    peer_bad = v.new_violations.get(plan.role.other)
    if peer_bad:
        faults.append(
            f"the {plan.role.other.value} sent what is not valid WebSocket framing: "
            + ", ".join(peer_bad)
        )
    closing = v.a_closing
    if o.reset_by_peer and not (closing and closing.reset):
        faults.append(
            f"reset: the {plan.role.other.value} reset the connection after "
            f"{o.writes_sent} of {o.writes_planned} writes"
        )
    v.faults = faults + o.faults
    v.notes.extend(plan.notes)
    v.notes.extend(o.notes)
    synth = [w for w in plan.writes if w.synthesized]
    if synth:
        total = sum(w.synthesized for w in synth)
        listed = ", ".join(
            f"chunk {w.index} octets {len(w.data) - w.synthesized}-{len(w.data) - 1}"
            for w in synth[:6]
        )
        more = f" and {len(synth) - 6} more chunks" if len(synth) > 6 else ""
        v.notes.append(f"--fill synthesized {total} octets: {listed}{more}")
    return v


def replay(recording: Recording, target: str | Target, opts: Options | None = None) -> Report:
    """Replay the client side of ``recording`` against ``target``."""
    opts = opts or Options()
    t = parse_target(target) if isinstance(target, str) else target
    original, plan = prepare(recording, Role.CLIENT, opts)
    live = client_plan(plan, t, keep_host=opts.keep_host, fresh_key=opts.new_key)
    result = asyncio.run(replay_client(live, t, timeout=opts.timeout, insecure=opts.insecure))
    return Report(original, live, result, judge(original, result, live))


def listen(
    recording: Recording,
    host: str,
    port: int,
    opts: Options | None = None,
    *,
    ready: Any = None,
) -> Report:
    """Wait for one client on ``host:port`` and replay the server side to it."""
    from wirelog.replay.server import serve_once

    opts = opts or Options()
    original, plan = prepare(recording, Role.SERVER, opts)
    result = asyncio.run(serve_once(plan, host, port, timeout=opts.timeout, ready=ready))
    return Report(original, plan, result, judge(original, result, plan))


@dataclass(slots=True)
class LoadReport:
    sessions: int = 0
    equivalent: int = 0
    different: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_error: str | None = None
    first_difference: str | None = None

    @property
    def rate(self) -> float:
        return self.sessions / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, p: float) -> float:
        xs = sorted(self.latencies)
        if not xs:
            return math.nan
        k = min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))
        return xs[k]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "equivalent": self.equivalent,
            "mismatches": self.different,
            "errors": self.errors,
            "elapsed_s": round(self.elapsed, 3),
            "sessions_per_s": round(self.rate, 1),
            "latency_ms": {f"p{p}": round(self.percentile(p) * 1000, 2) for p in (50, 90, 99)},
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
    t = parse_target(target) if isinstance(target, str) else target
    original, plan = prepare(recording, Role.CLIENT, opts)
    live = client_plan(plan, t, keep_host=opts.keep_host, fresh_key=opts.new_key)
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
