"""A parsed case report, built into one connection.

Whatever form the report was read from, the same code turns its entries
into chunks, claims and markers (spec ``autobahn-wirelog.md`` §1.3), fills
what the form lost where other facts determine it exactly (:mod:`.streams`)
and records what it could not know as findings. Chunk bytes rebuilt beyond
the 64-byte cut are marked ``rebuilt``; they always agree with the prefix
the log kept.
"""

from __future__ import annotations

from wirelog.model import (
    Chunk,
    ClaimedFrame,
    Connection,
    Direction,
    Marker,
    MarkerKind,
    Role,
    Violation,
    ViolationKind,
)
from wirelog.sources.autobahn.entries import FrameEntry, OctetsEntry, Report
from wirelog.sources.autobahn.limits import RebuildBudget
from wirelog.sources.autobahn.streams import expectations, solve_lengths, tf_piece, walk

#: Keys :func:`build_connection` adds to a connection's ``meta`` beside the
#: report's own facts (so a writer can tell the two apart).
DERIVED_META = ("form", "lossy_claims", "case_id", "reported_stats")


def _is_logging_off_case(case_id: str | None) -> bool:
    """9.1-9.6 set ``createWirelog = False`` directly: no WLM entry (§1.3)."""
    if not case_id:
        return False
    parts = case_id.split(".")
    return len(parts) >= 2 and parts[0] == "9" and parts[1] in {"1", "2", "3", "4", "5", "6"}


def build_connection(
    report: Report, conn: int = 0, budget: RebuildBudget | None = None
) -> Connection:
    """Turn a parsed case report into one connection (see module docstring).
    ``budget`` is the input's rebuild allowance, shared by a folder's cases."""
    budget = RebuildBudget() if budget is None else budget
    refused_before = len(budget.refused)
    findings = list(report.findings)
    findings += solve_lengths(report, budget)
    recorder = Role.SERVER if report.is_server else Role.CLIENT
    connection = Connection(conn=conn, source=report.source, recorder=recorder)
    connection.handshake_request = report.request
    connection.handshake_response = report.response
    exp = expectations(report)
    for entry in report.entries:
        if isinstance(entry, OctetsEntry):
            length = entry.length if entry.length is not None else len(entry.data)
            entry.length = length
            known, inferred_sync = walk(report, exp, entry)
            data = entry.data
            rebuilt = False
            if len(known) > len(data) and len(data) < length:
                data = known[:length]
                rebuilt = True
            sync = entry.sync if entry.sync is not None else inferred_sync
            connection.chunks.append(
                Chunk(
                    entry.direction,
                    data,
                    length,
                    entry.index,
                    sync=entry.direction is Direction.TX and sync,
                    rebuilt=rebuilt,
                )
            )
        elif isinstance(entry, FrameEntry):
            if entry.direction is Direction.TX:
                exp[Direction.TX].pieces.append(tf_piece(entry, budget))
            length = entry.repeat_len if entry.repeat_len is not None else entry.logged_len
            connection.claims.append(
                ClaimedFrame(
                    direction=entry.direction,
                    index=entry.index,
                    opcode=entry.opcode,
                    fin=entry.fin,
                    rsv=entry.rsv,
                    masked=entry.masked,
                    mask=entry.mask,
                    length=length,
                    payload=entry.payload,
                    logged_len=entry.logged_len,
                    repeat_len=entry.repeat_len,
                    chopsize=entry.chopsize,
                    sync=entry.sync,
                )
            )
        else:
            connection.markers.append(
                Marker(entry.kind, entry.index, value=entry.value, tag=entry.tag, raw=entry.raw)
            )
            if entry.kind is MarkerKind.WIRELOG and entry.value is False:
                findings.append(
                    Violation(
                        ViolationKind.LOGGING_OFF,
                        f"wire log switched off at entry {entry.index}; traffic until it is "
                        "switched on again shows only in the statistics",
                        chunk=entry.index,
                    )
                )
    refused = budget.refused[refused_before:]
    if refused:
        shown = ", ".join(map(str, refused[:5])) + (", ..." if len(refused) > 5 else "")
        findings.append(
            Violation(
                ViolationKind.MISSING_OCTETS,
                f"entries {shown}: {len(refused)} PAYLOAD-REPEAT-LEN claims not rebuilt, the "
                f"input's rebuild limit of {budget.limit:,} bytes being spent; their "
                "octets stay cut at the log's prefix",
                Direction.TX,
                chunk=refused[0],
            )
        )
    end = len(report.entries)
    if report.dropped_by_me is not None:
        by_me = report.dropped_by_me
        connection.markers.append(
            Marker(
                MarkerKind.DROPPED,
                end,
                direction=Direction.TX if by_me else Direction.RX,
                raw="TCP DROPPED BY ME" if by_me else "TCP DROPPED BY PEER",
            )
        )
    facts = report.facts
    case_id = facts.get("id")
    has_wlm = any(m.kind is MarkerKind.WIRELOG for m in connection.markers)
    if facts.get("createWirelog") is False or report.logging_disabled_note:
        findings.append(
            Violation(
                ViolationKind.LOGGING_OFF,
                "the wire log was off when the case ended (createWirelog false); "
                "traffic after the handshake shows only in the statistics",
                chunk=end,
            )
        )
    elif _is_logging_off_case(case_id) and not has_wlm:
        findings.append(
            Violation(
                ViolationKind.LOGGING_OFF,
                f"case {case_id} switches the wire log off without a WLM entry; its data "
                "phase shows only in the statistics",
            )
        )
    connection.findings = findings
    meta = dict(facts)
    meta["form"] = report.form
    lossy = [e.index for e in report.entries if isinstance(e, FrameEntry) and e.lossy]
    if lossy:
        # Claims whose payload text may differ from the bytes in whitespace
        # only (HTML/text forms): compared and used accordingly (claims.py).
        meta["lossy_claims"] = lossy
    meta["case_id"] = case_id
    meta["agent"] = facts.get("agent")
    if report.stats is not None:
        meta["reported_stats"] = report.stats
    connection.meta = meta
    return connection
