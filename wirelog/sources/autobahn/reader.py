"""Autobahn Testsuite reports: one entry point for every form.

``parse(path, kind)`` takes the kind :func:`wirelog.pipeline.detect` found:

* ``autobahn-json``: a per-case JSON report (:mod:`.json_report`);
* ``autobahn-html``: a per-case HTML page (:mod:`.html_page`);
* ``autobahn-text``: the text of such a page, flattened (:mod:`.text_page`);
* ``autobahn-folder`` / ``autobahn-index``: a reports folder or its
  ``index.json``: every case, sorted by case id numerically ("2.10" after
  "2.9", which the string-sorted index gets wrong), one connection each.

Every form is reduced to a :class:`~.entries.Report` and built into a
connection by the same code, so they decode alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from wirelog.errors import InputError, UnknownFormatError
from wirelog.model import Recording
from wirelog.progress import progress
from wirelog.sources.autobahn.build import build_connection
from wirelog.sources.autobahn.entries import Report
from wirelog.sources.autobahn.html_page import parse_report as parse_html
from wirelog.sources.autobahn.json_report import load_json
from wirelog.sources.autobahn.json_report import parse_report as parse_json
from wirelog.sources.autobahn.limits import RebuildBudget, digits_ok
from wirelog.sources.autobahn.text_page import parse_report as parse_text
from wirelog.sources.detect import detect

_CASE_FILE = re.compile(r"_case_(\d+(?:_\d+)*)\.(json|html?)$", re.IGNORECASE)


def case_key(case_id: str) -> tuple[int, ...]:
    """Numeric sort key of a case id: "2.10" after "2.9", "10.1.1" after "9.8.6"."""
    out: list[int] = []
    for part in case_id.split("."):
        out.append(int(part) if digits_ok(part) else 1 << 30)
    return tuple(out)


def read_report(path: str, kind: str) -> Report:
    """One case report in any of the three forms."""
    if kind == "autobahn-json":
        return parse_json(path)
    if kind == "autobahn-html":
        return parse_html(path)
    if kind == "autobahn-text":
        return parse_text(path)
    raise UnknownFormatError(path, f"not an Autobahn case report ({kind})")


def parse(path: str, kind: str) -> Recording:
    if kind in ("autobahn-folder", "autobahn-index"):
        return parse_folder(path, kind)
    report = read_report(path, kind)
    return Recording(source=path, kind=kind, connections=[build_connection(report, 0)])


def case_files(path: str, kind: str) -> list[tuple[str, str]]:
    """``(case id, file)`` of every case report in a folder or index, sorted
    numerically by case id (and by agent where several share a folder)."""
    folder = path if kind == "autobahn-folder" else os.path.dirname(path) or "."
    index = path if kind == "autobahn-index" else os.path.join(folder, "index.json")
    found: list[tuple[str, str, str]] = []
    if os.path.isfile(index):
        doc = load_json(index)
        if not isinstance(doc, dict):
            raise InputError(index, "not an Autobahn index.json ({agent: {case: ...}})")
        for agent, cases in doc.items():
            if not isinstance(cases, dict):
                raise InputError(index, f"agent {agent!r} does not map case ids to results")
            for case_id, info in cases.items():
                name = info.get("reportfile") if isinstance(info, dict) else None
                if not isinstance(name, str):
                    continue
                found.append((str(agent), str(case_id), os.path.join(folder, name)))
    elif kind == "autobahn-folder":
        try:
            names = os.listdir(folder)
        except OSError as exc:
            raise InputError(folder, exc.strerror or str(exc)) from None
        by_stem: dict[str, tuple[str, str, str]] = {}
        for name in sorted(names):
            m = _CASE_FILE.search(name)
            if not m:
                continue
            stem = name[: m.start()]
            case_id = m.group(1).replace("_", ".")
            key = stem + "#" + case_id
            # Prefer the JSON twin: it keeps what the page loses (spec §2.3).
            if key not in by_stem or m.group(2).lower() == "json":
                by_stem[key] = (stem, case_id, os.path.join(folder, name))
        found = list(by_stem.values())
    if not found:
        raise UnknownFormatError(
            path, "no Autobahn case reports found (no index.json, no *_case_*)"
        )
    found.sort(key=lambda t: (t[0], case_key(t[1])))
    return [(case_id, file) for _, case_id, file in found]


def parse_folder(
    path: str,
    kind: str,
    on_case: Callable[[str, str], None] | None = None,
    wanted: Callable[[str], bool] | None = None,
) -> Recording:
    """Every case of a reports folder (or its ``index.json``): connection
    ``conn`` = position in numeric case order, ``source`` = the case file.
    The cases share one rebuild budget: the folder is one input (:mod:`.limits`).

    ``wanted`` (a case id's test) leaves the other cases unread, their
    positions kept: ``suite run --cases 12.1.1`` of a 517-case reference
    parses one report, not all of them."""
    files = [
        (position, case_id, file)
        for position, (case_id, file) in enumerate(case_files(path, kind))
        if wanted is None or wanted(case_id)
    ]
    recording = Recording(source=path, kind=kind)
    budget = RebuildBudget()
    failed: list[InputError] = []
    with progress("Autobahn cases", len(files)) as bar:
        for position, case_id, file in files:
            if on_case is not None:
                on_case(case_id, file)
            try:
                sub = detect(file)
                if sub not in ("autobahn-json", "autobahn-html", "autobahn-text"):
                    raise InputError(file, f"listed as case {case_id} but is {sub}")
                report = read_report(file, sub)
            except InputError as exc:
                # One unreadable case must not hide the others: they are
                # kept, and the error travels with them (``partial``).
                failed.append(exc)
                continue
            finally:
                bar.advance(1)
            recording.connections.append(build_connection(report, position, budget))
    if failed:
        first = failed[0]
        more = f" (and {len(failed) - 1} more unreadable cases)" if len(failed) > 1 else ""
        raise type(first)(first.source, first.message + more, first.location, partial=recording)
    return recording
