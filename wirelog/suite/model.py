"""The vocabulary of an Autobahn case verdict: what a case expects, what the
fuzzer observed, and the four verdict fields (spec ``autobahn-wirelog.md``
§1.2, §1.6, §3.7). Plain frozen dataclasses: the judge
(:mod:`wirelog.suite.judge`), the per-case rules (:mod:`wirelog.suite.cases`),
the report reader (:mod:`wirelog.suite.observe`) and the runner share them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Event = tuple[Any, ...]
"""One observed event as Autobahn records it: ``("message", payload, binary)``,
``("pong", payload)``, ``("timeout", tag)`` (spec §1.6)."""


class Behavior(enum.StrEnum):
    """Autobahn's verdict values (``Case.OK`` and friends)."""

    OK = "OK"
    NON_STRICT = "NON-STRICT"
    FAILED = "FAILED"
    INFORMATIONAL = "INFORMATIONAL"
    UNIMPLEMENTED = "UNIMPLEMENTED"
    WRONG_CODE = "WRONG CODE"
    UNCLEAN = "UNCLEAN"
    FAILED_BY_CLIENT = "FAILED BY CLIENT"


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a case expects (its ``expected`` and ``expectedClose``)."""

    outcomes: tuple[tuple[str, tuple[Event, ...]], ...]
    """Each named outcome with its exact event list, in the case's order."""
    closed_by_me: bool
    close_codes: tuple[int, ...]
    require_clean: bool
    wrong_endpoint_fatal: bool = False

    @classmethod
    def from_autobahn(cls, expected: Mapping[str, Any], close: Mapping[str, Any]) -> Expectation:
        """From a case report's ``expected`` and ``expectedClose``."""
        return cls(
            outcomes=tuple((str(k), events(v)) for k, v in expected.items()),
            closed_by_me=bool(close["closedByMe"]),
            close_codes=tuple(int(c) for c in close["closeCode"]),
            require_clean=bool(close["requireClean"]),
            wrong_endpoint_fatal=bool(close.get("closedByWrongEndpointIsFatal", False)),
        )

    def to_autobahn(self) -> tuple[dict[str, list[list[Any]]], dict[str, Any]]:
        """Back to Autobahn's ``expected`` and ``expectedClose`` shapes."""
        close: dict[str, Any] = {
            "closeCode": list(self.close_codes),
            "closedByMe": self.closed_by_me,
            "requireClean": self.require_clean,
        }
        if self.wrong_endpoint_fatal:
            close["closedByWrongEndpointIsFatal"] = True
        return {k: [list(e) for e in v] for k, v in self.outcomes}, close


@dataclass(frozen=True, slots=True)
class Echo:
    """One message a data-phase case (9.x, 12.x, 13.x) received back."""

    binary: bool
    length: int | None
    """Its payload length (None: the recording does not tell it)."""
    sha1: tuple[str, str] | None = None
    """12.x/13.x: the SHA-1 of what came back and of what was sent, in hex
    (None: the recording cannot tell; the case compares them)."""


@dataclass(frozen=True, slots=True)
class DataPhase:
    """What a case that switches its wire log off saw of its echoes.

    ``echoes`` holds the messages in order as far as the observation
    determines them; ``lengths_known`` is False when only their total could
    be bounded (a report's statistics, fragmented echoes), in which case
    ``total`` holds the bounds of the payload octets of all echoes."""

    echoes: tuple[Echo, ...]
    lengths_known: bool = True
    total: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What the fuzzer saw: its events and its closing facts (spec §1.2)."""

    received: tuple[Event, ...]
    was_open: bool
    closed_by_me: bool
    was_clean: bool
    remote_close_code: int | None
    dropped_by_me: bool
    is_server: bool
    tx_frames: Mapping[int, int] = field(default_factory=dict)
    """The fuzzer's own ``txFrameStats`` (10.1.1 checks them)."""
    deflate: bool = False
    """permessage-deflate was agreed in the opening handshake (12.x, 13.x)."""
    data: DataPhase | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Autobahn's four verdict fields of one case."""

    behavior: str
    behavior_close: str
    result: str
    result_close: str

    def as_dict(self) -> dict[str, str]:
        return {
            "behavior": self.behavior,
            "behaviorClose": self.behavior_close,
            "result": self.result,
            "resultClose": self.result_close,
        }


def events(raw: Sequence[Any]) -> tuple[Event, ...]:
    """Events from JSON (lists) as tuples, so that they compare by value."""
    return tuple(tuple(e) for e in raw)


__all__ = [
    "Behavior",
    "DataPhase",
    "Echo",
    "Event",
    "Expectation",
    "Observation",
    "Verdict",
    "events",
]
