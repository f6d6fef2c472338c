"""How Autobahn judges one case, recomputed (spec ``autobahn-wirelog.md`` §3.7).

A case states its **expectations** before it sends anything: one or more
named outcomes (``OK``, ``NON-STRICT``, ...), each the exact list of events
the fuzzer may observe, and how the connection must close
(``expectedClose``). What the fuzzer saw is the **observation**: the events
(messages, pongs, its own ``timeout`` markers, in order) and the closing
facts. The verdict follows from the two alone, never from a recorded
verdict, so that a report, a replay and a run are judged by one rule:

1. ``behavior`` is the first outcome whose events equal the observed ones
   ("Actual events match at least one expected."), else ``FAILED``
   ("Actual events differ from any expected."). Cases that judge their data
   phase themselves (9.x, 12.x, 13.x) start from their own verdict
   (:mod:`wirelog.suite.cases`).
2. ``behaviorClose``, when the opening handshake completed, is the first
   closing check that applies: the wrong endpoint closed (``FAILED``), a
   clean close was required and did not happen (``UNCLEAN``), the peer's
   close code is not one of the expected (``WRONG CODE``), the fuzzer as a
   client had to drop TCP itself (``FAILED BY CLIENT``), else ``OK``. A UTF-8
   case (``closedByWrongEndpointIsFatal``) whose peer let the wrong endpoint
   close failed as a whole: the peer never noticed the invalid payload.
3. The per-case overrides of :mod:`wirelog.suite.cases` come last.

The event lists compare as Autobahn's report prints them (payloads cut to
64 octets, spec §1.6): two payloads that differ only past octet 64 look the
same here, where Autobahn compared the whole objects.
"""

from __future__ import annotations

from collections.abc import Sequence

from wirelog.suite.cases import data_phase, override
from wirelog.suite.model import Behavior, Event, Expectation, Observation, Verdict

MATCH = "Actual events match at least one expected."
NO_MATCH = "Actual events differ from any expected."
WRONG_ENDPOINT = "The connection was failed by the wrong endpoint"
NOT_CLEAN = "The spec requires the connection to be failed cleanly here"
PROPERLY_CLOSED = "Connection was properly closed"
CLIENT_DROPPED = "It is preferred that the server close the TCP connection"
NEVER_OPEN = "The WebSocket opening handshake was never completed!"


def match(expect: Expectation, received: Sequence[Event]) -> str | None:
    """The first outcome whose events are exactly the received ones."""
    got = tuple(received)
    for name, evs in expect.outcomes:
        if evs == got:
            return name
    return None


def closing_verdict(expect: Expectation, seen: Observation) -> tuple[str, str]:
    """``behaviorClose`` and ``resultClose``: the first closing check that
    applies (module docstring, step 2)."""
    if not seen.was_open:
        return Behavior.FAILED, NEVER_OPEN
    if expect.closed_by_me != seen.closed_by_me:
        return Behavior.FAILED, WRONG_ENDPOINT
    if expect.require_clean and not seen.was_clean:
        return Behavior.UNCLEAN, NOT_CLEAN
    code = seen.remote_close_code
    if code is not None and code not in expect.close_codes:
        codes = ",".join(str(c) for c in expect.close_codes)
        return Behavior.WRONG_CODE, f"The close code should have been {codes} or empty"
    if not seen.is_server and seen.dropped_by_me:
        return Behavior.FAILED_BY_CLIENT, CLIENT_DROPPED
    return Behavior.OK, PROPERLY_CLOSED


def judge(
    case_id: str,
    expect: Expectation,
    seen: Observation,
    start: tuple[str, str] | None = None,
) -> Verdict:
    """The verdict of case ``case_id`` (module docstring). ``start`` is the
    ``(behavior, result)`` a data-phase case reached on its own; by default
    :func:`wirelog.suite.cases.data_phase` decides it from ``seen.data``."""
    behavior, result = start or data_phase(case_id, seen) or (Behavior.FAILED, NO_MATCH)
    name = match(expect, seen.received)
    if name is not None:
        behavior, result = name, MATCH
    behavior_close, result_close = closing_verdict(expect, seen)
    if seen.was_open and expect.wrong_endpoint_fatal and expect.closed_by_me != seen.closed_by_me:
        behavior = Behavior.FAILED
    verdict = Verdict(str(behavior), str(behavior_close), result, result_close)
    return override(case_id, verdict, seen)


__all__ = ["MATCH", "NO_MATCH", "closing_verdict", "judge", "match"]
