"""Re-cutting a plan (``--chop``): the same octets in the same order, in
other writes; the head untouched; timers still armed after the same octets."""

from __future__ import annotations

import os

import pytest
from servers import SERVER_REPORTS

from wirelog.errors import UsageError
from wirelog.model import Role
from wirelog.pipeline import read
from wirelog.replay.chop import Chop, parse_chop, rechop
from wirelog.replay.plan import build_plan


def _plan(case: str):  # type: ignore[no-untyped-def]
    [conn] = read(os.path.join(SERVER_REPORTS, f"websock_server_case_{case}.json")).connections
    return build_plan(conn, Role.CLIENT, fill=True)


def test_specs() -> None:
    assert parse_chop("1") == Chop(size=1)
    assert parse_chop("997") == Chop(size=997)
    assert parse_chop("random") == Chop()
    assert parse_chop("random:7") == Chop(seed=7)
    assert parse_chop("coalesce") == Chop(coalesce=True)
    for bad in ("0", "x", "random:x", "-3"):
        with pytest.raises(UsageError, match="--chop"):
            parse_chop(bad)


@pytest.mark.parametrize("spec", ["1", "5", "random:3", "coalesce"])
def test_the_octets_stay_the_same(spec: str) -> None:
    plan = _plan("5_19")  # frames, pings, a CT pause between them
    cut = rechop(plan, parse_chop(spec))
    assert b"".join(w.data for w in cut.writes) == b"".join(w.data for w in plan.writes)
    assert cut.writes[0] == plan.writes[0]  # the HTTP head
    body = [w for w in cut.writes if not w.head]
    if spec == "1":
        assert {len(w.data) for w in body} == {1}
    elif spec == "5":
        assert max(len(w.data) for w in body) == 5
    elif spec == "coalesce":
        assert len(cut.writes) < len(plan.writes)
    # each timer is armed after the same octets as before
    for old, new in zip(plan.timers, cut.timers, strict=True):
        before = sum(len(w.data) for w in plan.writes[: old.after])
        assert sum(len(w.data) for w in cut.writes[: new.after]) >= before
    gates = [w.gate for w in cut.writes if w.gate is not None]
    assert gates == [w.gate for w in plan.writes if w.gate is not None]


def test_random_is_reproducible() -> None:
    plan = _plan("1_1_6")
    a = [len(w.data) for w in rechop(plan, parse_chop("random:11")).writes]
    b = [len(w.data) for w in rechop(plan, parse_chop("random:11")).writes]
    assert a == b and len(set(a)) > 1
