"""The derived closing behaviour against what Autobahn recorded, on every
shared report (two real Autobahn 25.10.1 runs, 517 cases each).

Autobahn's verdict fields (spec §1.2) are the oracle: ``closedByMe``, the
close codes and reasons, ``wasClean``, ``wasNotCleanReason`` and
``droppedByMe`` are derived from the decoded wire log alone (Autobahn's own
closing keys are set aside) and compared key by key. A key is left out only
where the log cannot tell it:

* a close reason whose close frame the log cut (payloads past 60 octets are
  logged as a 64-octet prefix, spec §1.4) or whose payload is not a valid
  close body (RFC 6455 §5.5.1: Autobahn reports the reason it *meant* to
  send, 7.3.2, or rewrites invalid UTF-8 to hex, 7.5.1);
* who dropped TCP and whatever depends on it: the log has no drop entry
  (spec §1.3), so the drop marker comes from ``droppedByMe`` itself and that
  comparison checks only that the marker is read the right way round.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from wirelog.model import Message, Opcode, Role, ViolationKind
from wirelog.pipeline import decode
from wirelog.protocol.connection import DecodedConnection
from wirelog.summary import AUTOBAHN_KEYS, Closing, closing_of, summarize

#: What makes a close body's reason unreadable (RFC 6455 §5.5, §5.5.1).
BAD_BODY = {
    ViolationKind.INVALID_CLOSE_PAYLOAD,
    ViolationKind.INVALID_UTF8,
    ViolationKind.CONTROL_FRAME_TOO_LONG,
}
REPORTS = Path(__file__).resolve().parents[3] / "shared" / "autobahn-reports"
FILES = sorted(REPORTS.glob("*/*_case_*.json")) if REPORTS.is_dir() else []

pytestmark = pytest.mark.skipif(not FILES, reason="../shared/autobahn-reports missing")

COMPARED = (
    "isServer",
    "closedByMe",
    "droppedByMe",
    "wasClean",
    "wasNotCleanReason",
    "localCloseCode",
    "localCloseReason",
    "remoteCloseCode",
    "remoteCloseReason",
)


def _reason_known(dc: DecodedConnection, closing: Closing, role: Role) -> bool:
    if not closing.sent(role):
        return True
    direction = dc.connection.direction_of(role)
    first: Message = next(
        m for m in dc.messages if m.direction is direction and m.opcode == Opcode.CLOSE
    )
    return first.complete and not BAD_BODY.intersection(first.violations)


def _derived(dc: DecodedConnection) -> tuple[dict[str, Any], set[str]]:
    closing = closing_of(dc)
    me = dc.connection.recorder
    unknown = set()
    if not _reason_known(dc, closing, me):
        unknown.add("localCloseReason")
    if not _reason_known(dc, closing, me.other):
        unknown.add("remoteCloseReason")
    return closing.derived(), unknown


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, dict[str, Any], dict[str, Any], set[str]]]:
    out = []
    for path in FILES:
        (dc,) = decode(str(path))
        # The closing alone is the one the whole tally derives.
        assert closing_of(dc) == summarize(dc).closing, path.name
        derived, unknown = _derived(dc)
        out.append((path.name, dict(closing_of(dc).reported), derived, unknown))
    return out


def test_the_corpus_is_all_there(corpus: list[Any]) -> None:
    assert len(corpus) == 1034
    assert all(set(reported) == set(AUTOBAHN_KEYS) for _, reported, _, _ in corpus)


@pytest.mark.parametrize("key", COMPARED)
def test_derived_closing_matches_autobahn(corpus: list[Any], key: str) -> None:
    wrong = [
        (name, reported[key], derived.get(key, "<absent>"))
        for name, reported, derived, unknown in corpus
        if key not in unknown and reported[key] != derived.get(key, "<absent>")
    ]
    assert not wrong, f"{len(wrong)} reports differ, e.g. {wrong[:5]}"


def test_what_is_left_out_is_only_the_cut_or_invalid_reasons(corpus: list[Any]) -> None:
    left = Counter(k for _, _, _, unknown in corpus for k in unknown)
    assert set(left) <= {"localCloseReason", "remoteCloseReason"}
    assert sum(left.values()) == 8  # 7.3.2, 7.3.5, 7.3.6, 7.5.1 in each run


def test_the_corpus_exercises_every_closing_outcome(corpus: list[Any]) -> None:
    """Both modes, either side closing first, clean and not: a rule that is
    wrong for any of them fails above."""
    seen = Counter(
        (r["isServer"], r["closedByMe"], r["wasClean"], r["droppedByMe"]) for _, r, _, _ in corpus
    )
    assert {
        (False, True, True, False),
        (False, False, False, False),
        (False, True, False, False),
        (True, True, True, True),
        (True, False, False, False),
        (True, True, False, False),
    } <= set(seen)


def test_a_close_frame_with_rsv_bits_closes_nothing(corpus: list[Any]) -> None:
    """Case 3.7 sends a close frame with RSV = 7: Autobahn records
    ``closedByMe: false``, and so must the derivation (RFC 6455 §5.2)."""
    rows = {name: (r, d) for name, r, d, _ in corpus}
    for name in ("websock_client_case_3_7.json", "websock_server_case_3_7.json"):
        reported, derived = rows[name]
        assert reported["closedByMe"] is False and derived["closedByMe"] is False
