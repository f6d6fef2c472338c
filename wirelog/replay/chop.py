"""Re-cut a plan's writes (pure): ``--chop 1|N|random[:SEED]|coalesce``.

A parser whose bugs depend on TCP segmentation shows them only when the
same octets arrive cut differently: byte by byte (``1``), in pieces of
``N`` octets, in random sizes (``random``, reproducible with ``:SEED``),
or with everything that was pending at once in one write (``coalesce``:
consecutive writes that wait for nothing in between become one). The
octets and their order never change; the HTTP head's writes are kept as
they are, so the handshake is not what is being tested.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from wirelog.errors import UsageError
from wirelog.replay.steps import Plan, Write

#: The largest piece ``random`` cuts.
RANDOM_MAX = 64


@dataclass(frozen=True, slots=True)
class Chop:
    """How to re-cut: ``size`` octets (0: random), or ``coalesce``."""

    size: int = 0
    seed: int | None = None
    coalesce: bool = False


def parse_chop(spec: str) -> Chop:
    """``1``, ``N``, ``random``, ``random:SEED`` or ``coalesce``."""
    if spec == "coalesce":
        return Chop(coalesce=True)
    if spec == "random" or spec.startswith("random:"):
        seed = spec.partition(":")[2]
        if seed and not seed.isdigit():
            raise UsageError(f"--chop {spec!r}: the seed must be a number")
        return Chop(seed=int(seed) if seed else None)
    if spec.isdigit() and int(spec) > 0:
        return Chop(size=int(spec))
    raise UsageError(f"--chop {spec!r}: expected 1, N, random[:SEED] or coalesce")


def rechop(plan: Plan, chop: Chop) -> Plan:
    """``plan`` with its writes after the HTTP head re-cut as ``chop`` says.
    Timers stay armed after the same octets (their ``after`` is remapped)."""
    rng = random.Random(chop.seed)
    out: list[Write] = []
    starts: list[int] = []
    for w in plan.writes:
        starts.append(len(out))
        if w.head:
            out.append(w)
        elif chop.coalesce:
            last = out[-1] if out else None
            if (
                last is not None
                and not last.head
                and w.gate is None
                and w.delay == 0
                and (w.need == last.need)
            ):
                out[-1] = replace(last, data=last.data + w.data, sync=False)
            else:
                out.append(w)
        else:
            out.extend(_cut(w, chop.size, rng))
    starts.append(len(out))
    timers = tuple(replace(t, after=starts[min(t.after, len(starts) - 1)]) for t in plan.timers)
    return replace(plan, writes=tuple(out), timers=timers)


def _cut(w: Write, size: int, rng: random.Random) -> list[Write]:
    pieces: list[Write] = []
    pos = 0
    while pos < len(w.data):
        n = size or rng.randint(1, RANDOM_MAX)
        data = w.data[pos : pos + n]
        # the first piece waits and pauses as the write did; the rest follow it
        first = pos == 0
        pieces.append(
            replace(
                w,
                data=data,
                need=w.need,
                delay=w.delay if first else 0.0,
                gate=w.gate if first else None,
                sync=True,
            )
        )
        pos += n
    return pieces or [w]


__all__ = ["Chop", "parse_chop", "rechop"]
