"""The wire log of one Autobahn case, whatever form it was read from.

The JSON, HTML and flattened-text readers all reduce a case report to a
:class:`Report`: typed wire-log entries (spec ``autobahn-wirelog.md`` §1.3)
plus the report's own facts. :func:`~.build.build_connection` turns that
into one :class:`~wirelog.model.Connection`, so the three forms differ only
in what they lose (§2.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wirelog.model import Direction, MarkerKind, Violation
from wirelog.stats import WireStats

#: The JSON kind tag of each timer/switch entry (§1.3); RO/TO/RF/TF are data.
MARKER_TAGS: dict[str, MarkerKind] = {
    "CT": MarkerKind.DELAY,
    "CTE": MarkerKind.DELAY_FIRED,
    "KL": MarkerKind.KILL_AFTER,
    "KLE": MarkerKind.KILL_FIRED,
    "TI": MarkerKind.CLOSE_AFTER,
    "TIE": MarkerKind.CLOSE_FIRED,
    "WLM": MarkerKind.WIRELOG,
}
TAG_OF: dict[MarkerKind, str] = {kind: tag for tag, kind in MARKER_TAGS.items()}


@dataclass(slots=True)
class OctetsEntry:
    """RO/TO: one socket read or write."""

    index: int
    direction: Direction
    length: int | None
    """Declared length; None when the form does not print it (HTML/text)
    and the bytes were cut, so that it must be solved from the statistics."""
    data: bytes
    sync: bool | None = None
    """TO's queue flag; None when the form lost it (flattened text)."""


@dataclass(slots=True)
class FrameEntry:
    """RF/TF: a frame the fuzzer received complete or passed to sendFrame."""

    index: int
    direction: Direction
    logged_len: int
    payload: bytes
    opcode: int
    fin: bool
    rsv: int
    masked: bool
    mask: bytes | None
    repeat_len: int | None = None
    chopsize: int | None = None
    sync: bool = False
    lossy: bool = False
    """The payload text went through the HTML renderer's whitespace changes."""


@dataclass(slots=True)
class MarkerEntry:
    """CT/CTE/KL/KLE/TI/TIE/WLM."""

    index: int
    kind: MarkerKind
    value: float | int | bool | None = None
    tag: str | None = None
    raw: Any = None


Entry = OctetsEntry | FrameEntry | MarkerEntry


@dataclass(slots=True)
class Report:
    """One case report reduced to what every form can carry."""

    source: str
    form: str
    """``json``, ``html`` or ``text``."""
    facts: dict[str, Any]
    """The report's keys (without ``wirelog``), as far as the form has them."""
    entries: list[Entry]
    request: bytes | None
    response: bytes | None
    is_server: bool
    dropped_by_me: bool | None
    stats: WireStats | None
    logging_disabled_note: bool = False
    """The HTML's "Wire log after handshake disabled!" note (createWirelog false)."""
    findings: list[Violation] = field(default_factory=list)


CLOSING_KEYS = (
    "isServer",
    "closedByMe",
    "failedByMe",
    "droppedByMe",
    "wasClean",
    "wasNotCleanReason",
    "wasServerConnectionDropTimeout",
    "wasOpenHandshakeTimeout",
    "wasCloseHandshakeTimeout",
    "localCloseCode",
    "localCloseReason",
    "remoteCloseCode",
    "remoteCloseReason",
)
"""Autobahn's Closing Behavior keys, in its report's order (spec §2.1)."""
