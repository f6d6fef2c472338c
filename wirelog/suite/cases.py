"""The cases that judge differently from the generic rule (spec §3.7 step 4).

* **Data-phase cases** (9.x, 12.x, 13.x) switch the wire log off, send their
  messages and check each echo themselves (type, length, and for 12.x/13.x
  content); their ``expected`` is empty, so their own verdict stands. The
  definitions below (sizes, counts, case timeouts) are those of Autobahn's
  case tables (spec §4); :func:`data_phase` replays their checks on the
  echoes an observation holds.
* **Overrides** applied after the generic rule (:func:`override`): in the
  close-code families (7.1.x, 7.3.x, 7.5.1, 7.7.x, 7.9.x) a ``WRONG CODE``
  close fails the case; 7.1.6, 7.13.1 and 7.13.2 are informational; 10.1.1
  also checks the fuzzer's *own* transmitted frame counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from wirelog.replay.quiet import Quiet
from wirelog.suite.model import Behavior, Echo, Observation, Verdict

KIB = 1024
MIB = 1024 * KIB

#: 9.1/9.2 message sizes, and their case timeouts (s) as Autobahn sets them.
_BIG_SIZES = (64 * KIB, 256 * KIB, MIB, 4 * MIB, 8 * MIB, 16 * MIB)
_BIG_WAITS = {"1": (10, 10, 100, 100, 100, 100), "2": (10, 10, 10, 10, 100, 100)}
#: 9.3/9.4 fragment sizes of one 4 MiB message; 9.5/9.6 chop sizes of 1 MiB.
_FRAG_SIZES = (64, 256, KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB, 4 * MIB)
_CHOP_SIZES = (64, 128, 256, 512, 1024, 2048)
#: 9.7/9.8: (payload length, case timeout) of 1000 round trips each.
_RTT = ((0, 60), (16, 60), (64, 60), (256, 120), (1024, 240), (4096, 480))
#: 12.x/13.x: (payload length, case timeout, auto-fragment size), 1000 messages each.
DEFLATE_SIZES = (
    (16, 60, 0),
    (64, 60, 0),
    (256, 120, 0),
    (1024, 240, 0),
    (4096, 480, 0),
    (8192, 480, 0),
    (16384, 480, 0),
    (32768, 480, 0),
    (65536, 480, 0),
    (131072, 480, 0),
    (8192, 480, 256),
    (16384, 480, 256),
    (32768, 480, 256),
    (65536, 480, 256),
    (131072, 480, 256),
    (131072, 480, 1024),
    (131072, 480, 4096),
    (131072, 480, 32768),
)
#: 12.1-12.5 test data (file, binary), in the order of Autobahn 0.8.0 and later.
DEFLATE_DATA = (
    ("data1.json", False),
    ("lena512.bmp", True),
    ("pg2229.txt", True),
    ("data1.html", False),
    ("10.1.1.105.5439.pdf", True),
)

OK_ROUND_TRIPS = "Ok, received all echo'ed messages in time."
INFORMATIONAL_TEXT = "Actual events are undefined by the spec."


@dataclass(frozen=True, slots=True)
class DataCase:
    """One data-phase case: what it sends and how it judges the echoes."""

    kind: str
    """"single" (9.1-9.6: one message), "rtt" (9.7/9.8) or "deflate" (12.x, 13.x)."""
    binary: bool
    length: int
    count: int
    wait: int
    """The case timeout (``closeAfter``) in seconds."""
    fragment: int | None = None
    """9.3/9.4: the fuzzer's fragment size; 12.x/13.x: autoFragmentSize."""
    chop: int | None = None
    """9.5/9.6: the fuzzer's chop size."""
    data: str | None = None
    """12.x/13.x: the test data file the messages are cut from."""

    @property
    def quiet(self) -> Quiet:
        """How the case switches its wire log off for the data phase:
        9.1-9.6 set the flag (no WLM entry), the others call
        ``enableWirelog``; 12.x/13.x switch back on only with deflate."""
        return Quiet(marked=self.kind != "single", needs_deflate=self.kind == "deflate")


def _parts(case_id: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in case_id.split("."))
    except ValueError:
        return None


def data_case(case_id: str) -> DataCase | None:
    """The definition of a data-phase case, None for every other id."""
    p = _parts(case_id)
    if p is None or len(p) != 3 or p[2] < 1:
        return None
    family, sub, n = p
    i = n - 1
    if family == 9 and sub in (1, 2) and i < len(_BIG_SIZES):
        return DataCase("single", sub == 2, _BIG_SIZES[i], 1, _BIG_WAITS[str(sub)][i])
    if family == 9 and sub in (3, 4) and i < len(_FRAG_SIZES):
        return DataCase("single", sub == 4, 4 * MIB, 1, 100, fragment=_FRAG_SIZES[i])
    if family == 9 and sub in (5, 6) and i < len(_CHOP_SIZES):
        return DataCase("single", sub == 6, MIB, 1, 1000, chop=_CHOP_SIZES[i])
    if family == 9 and sub in (7, 8) and i < len(_RTT):
        length, wait = _RTT[i]
        return DataCase("rtt", sub == 8, length, 1000, wait)
    if family in (12, 13) and i < len(DEFLATE_SIZES):
        if family == 12 and not 1 <= sub <= len(DEFLATE_DATA):
            return None
        if family == 13 and not 1 <= sub <= 7:
            return None
        data, binary = DEFLATE_DATA[sub - 1] if family == 12 else DEFLATE_DATA[0]
        length, wait, frag = DEFLATE_SIZES[i]
        return DataCase("deflate", binary, length, 1000, wait, fragment=frag, data=data)
    return None


def _kind(binary: bool) -> str:
    return "binary" if binary else "text"


def _single(case_id: str, case: DataCase, echo: Echo | None) -> tuple[str, str]:
    """9.1-9.6: the first echo decides."""
    if echo is None:
        return Behavior.FAILED, f"Did not receive message within {case.wait} seconds."
    want = _kind(case.binary)
    if echo.binary != case.binary:
        # 9.4's own text names the wrong type twice (Autobahn's wording, kept).
        got = want if case_id.startswith("9.4.") else _kind(echo.binary)
        return Behavior.FAILED, f"Expected {want} message with payload, but got {got}."
    if echo.length is not None and echo.length != case.length:
        return (
            Behavior.FAILED,
            f"Expected {want} message with payload of length {case.length}, but got {echo.length}.",
        )
    return Behavior.OK, f"Received {want} message of length {case.length}."


def _rounds(case: DataCase, echoes: tuple[Echo, ...]) -> tuple[str, str]:
    """9.7/9.8, 12.x, 13.x: every echo checked in turn, ``count`` of them."""
    for n, echo in enumerate(echoes[: case.count], start=1):
        bad = _bad_echo(case, echo)
        if bad is not None:
            return Behavior.FAILED, bad
        if n == case.count:
            return Behavior.OK, OK_ROUND_TRIPS
    return Behavior.FAILED, f"Case did not finish within {case.wait} seconds."


def _bad_echo(case: DataCase, echo: Echo) -> str | None:
    if case.kind == "rtt":
        if echo.binary != case.binary or echo.length not in (None, case.length):
            return (
                "Echo'ed message type or length differs from what I sent "
                f"(got binary = {echo.binary}, payload length = {echo.length})."
            )
        return None
    if echo.binary != case.binary:
        return (
            "Echo'ed message type differs from what I sent "
            f"(got binary {echo.binary}, expected binary {case.binary})."
        )
    if echo.length not in (None, case.length):
        return (
            "Echo'ed message length differs from what I sent "
            f"(got length {echo.length}, expected length {case.length})."
        )
    if echo.sha1 is not None and echo.sha1[0] != echo.sha1[1]:
        got, sent = echo.sha1
        return (
            "Echo'ed message contents differs from what I sent "
            f"(got SHA1 {got}, expected SHA1 {sent})."
        )
    return None


def data_phase(case_id: str, seen: Observation) -> tuple[str, str] | None:
    """The ``(behavior, result)`` a data-phase case reaches on its own, or
    None for the cases the generic rule judges alone."""
    case = data_case(case_id)
    if case is None:
        return None
    if case.kind == "deflate" and not seen.deflate:
        # No permessage-deflate agreed: the case closes at once (§3.7).
        return Behavior.UNIMPLEMENTED, "Actual events differ from any expected."
    data = seen.data
    echoes = data.echoes if data is not None else ()
    if data is not None and not data.lengths_known and data.total is not None:
        echoes = _bounded(case, data.echoes, data.total)
    if case.kind == "single":
        return _single(case_id, case, echoes[0] if echoes else None)
    return _rounds(case, echoes)


def _bounded(case: DataCase, echoes: tuple[Echo, ...], total: tuple[int, int]) -> tuple[Echo, ...]:
    """Echoes whose lengths only a total bounds (a report's statistics):
    each takes the case's length when the bounds allow it, else an even
    share of the smallest total."""
    want = case.length * len(echoes)
    low, high = total
    if echoes and low <= want <= high:
        return tuple(replace(e, length=case.length) for e in echoes)
    share = low // len(echoes) if echoes else 0
    return tuple(replace(e, length=share) for e in echoes)


_CLOSE_CODE_FAMILIES = ("7.1.", "7.3.", "7.5.", "7.7.", "7.9.")
_INFORMATIONAL = ("7.13.1", "7.13.2")


def override(case_id: str, verdict: Verdict, seen: Observation) -> Verdict:
    """The per-case rules applied after the generic one (module docstring)."""
    if case_id == "7.1.6":
        result = {
            Behavior.OK: "Text message was processed before close.",
            Behavior.NON_STRICT: "Close was processed before text message could be returned.",
        }.get(Behavior(verdict.behavior), verdict.result)
        info = Behavior.INFORMATIONAL
        return replace(verdict, behavior=info, behavior_close=info, result=result)
    if case_id in _INFORMATIONAL:
        info = Behavior.INFORMATIONAL
        return replace(verdict, behavior=info, behavior_close=info, result=INFORMATIONAL_TEXT)
    if case_id.startswith(_CLOSE_CODE_FAMILIES) and verdict.behavior_close == Behavior.WRONG_CODE:
        return replace(verdict, behavior=Behavior.FAILED, result=verdict.result_close)
    if case_id == "10.1.1":
        return _fragments_sent(verdict, seen)
    return verdict


def _fragments_sent(verdict: Verdict, seen: Observation) -> Verdict:
    """10.1.1: 65536 octets auto-fragmented by 1300 must have left as 50
    continuation frames and one text frame."""
    if not seen.was_open:
        return replace(
            verdict, behavior=Behavior.FAILED, result="WebSocket connection was never open"
        )
    size, fragment = 65536, 1300
    expected = {0: size // fragment, 1: 1 if size % fragment else 0}
    got = {0: seen.tx_frames.get(0, 0), 1: seen.tx_frames.get(1, 0)}
    if got == expected:
        return verdict
    return replace(
        verdict,
        behavior=Behavior.FAILED,
        result=f"Frames transmitted {got} does not match what we expected {expected}.",
    )


__all__ = ["DEFLATE_DATA", "DEFLATE_SIZES", "DataCase", "data_case", "data_phase", "override"]
