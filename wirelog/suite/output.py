"""A suite run written in Autobahn's layout, so that existing CI scripts
keep working (spec §1.1, §2.4):

* ``<agent>_case_<id>.json``: the case report with every key Autobahn
  writes, written by the format's one writer
  (:func:`wirelog.sources.autobahn.write.write_report`);
* ``<agent>_case_<id>.html``: the case page, rendered from that JSON read
  back through wirelog's reader (:func:`wirelog.outputs.report.render_html`);
* ``index.json``: ``{agent: {case: {behavior, behaviorClose, duration,
  remoteCloseCode, reportfile}}}``;
* ``index.html``: the case table in Autobahn's colours;
* optionally a JUnit XML file: one testcase per case, FAILED as failures.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from wirelog.outputs.index import IndexRow, index_table
from wirelog.outputs.report import render_html
from wirelog.pipeline import decode
from wirelog.sources.autobahn.reader import case_key
from wirelog.sources.autobahn.write import write_report
from wirelog.suite.run import CaseRun, SuiteRun


def clean_agent(agent: str) -> str:
    """Autobahn's file-name form of an agent (spec §1.1): lower case, every
    character outside ``[a-z0-9]`` a space, stripped, spaces as ``_``."""
    return re.sub(r"[^a-z0-9]", " ", agent.lower().strip()).strip().replace(" ", "_")


def case_file(agent: str, case_id: str) -> str:
    return f"{clean_agent(agent)}_case_{case_id.replace('.', '_')}.json"


def write_run(run: SuiteRun, out: str) -> str:
    """Write ``run`` into folder ``out`` (created); the index.json path."""
    return write_runs([run], out)


def write_runs(runs: Sequence[SuiteRun], out: str) -> str:
    """Write the runs of several agents (a spec's servers) into one folder,
    one ``index.json`` keyed by agent as Autobahn's; the index.json path."""
    os.makedirs(out, exist_ok=True)
    doc: dict[str, dict[str, object]] = {}
    for run in runs:
        index: dict[str, object] = {}
        for c in sorted(run.cases, key=lambda c: case_key(c.case_id)):
            name = case_file(run.agent, c.case_id)
            path = os.path.join(out, name)
            write_report(c.doc, path)
            [dc] = decode(path)
            with open(path[: -len(".json")] + ".html", "w", encoding="utf-8") as fh:
                fh.write(render_html([dc], f"{run.agent} - Case {c.case_id}"))
            index[c.case_id] = {
                "behavior": c.verdict.behavior,
                "behaviorClose": c.verdict.behavior_close,
                "duration": c.doc.get("duration", 0),
                "remoteCloseCode": c.doc.get("remoteCloseCode"),
                "reportfile": name,
            }
        doc[run.agent] = index
    path = os.path.join(out, "index.json")
    with open(path, "w", encoding="ascii") as fh:
        json.dump(doc, fh, sort_keys=True, indent=3, separators=(",", ": "))
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as fh:
        fh.write(index_html(runs))
    return path


def index_rows(run: SuiteRun) -> list[IndexRow]:
    """The rows of one run's case table, linking to its case pages."""
    rows = []
    for c in sorted(run.cases, key=lambda c: case_key(c.case_id)):
        code = c.doc.get("remoteCloseCode")
        duration = c.doc.get("duration")
        rows.append(
            IndexRow(
                case=c.case_id,
                behavior=c.verdict.behavior,
                behavior_close=c.verdict.behavior_close,
                close_code=code if isinstance(code, int) else None,
                duration=duration if isinstance(duration, int) else None,
                link=case_file(run.agent, c.case_id)[: -len(".json")] + ".html",
            )
        )
    return rows


def index_html(runs: SuiteRun | Sequence[SuiteRun]) -> str:
    """The overview page: per agent, the case table the report of a folder
    draws too (:func:`wirelog.outputs.index.index_table`)."""
    listed = [runs] if isinstance(runs, SuiteRun) else list(runs)
    title = ", ".join(r.agent for r in listed)
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}: wirelog suite run</title></head><body>"
    ]
    for run in listed:
        parts.append(
            f"<h1>{html.escape(run.agent)}</h1>"
            f"<p>{len(run.cases)} cases, {len(run.failed)} failed</p>"
        )
        parts.append(index_table(index_rows(run)))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def junit(runs: SuiteRun | Sequence[SuiteRun], path: str) -> None:
    """JUnit XML: one testcase per case, FAILED cases as failures; one
    ``testsuite`` per agent (a ``testsuites`` root when there are several)."""
    listed = [runs] if isinstance(runs, SuiteRun) else list(runs)
    suites = [_testsuite(run) for run in listed]
    root = suites[0]
    if len(suites) > 1:
        root = ET.Element("testsuites")
        root.extend(suites)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _testsuite(run: SuiteRun) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name=f"autobahn {run.agent}",
        tests=str(len(run.cases)),
        failures=str(len(run.failed)),
        time=f"{run.elapsed:.3f}",
    )
    for c in sorted(run.cases, key=lambda c: case_key(c.case_id)):
        tc = ET.SubElement(
            suite,
            "testcase",
            classname=f"autobahn.{c.case_id.split('.')[0]}",
            name=c.case_id,
            time=f"{float(c.doc.get('duration', 0)) / 1000:.3f}",
        )
        if c.verdict.behavior == "FAILED":
            failure = ET.SubElement(tc, "failure", message=c.verdict.result)
            failure.text = _why(c)
    return suite


def _why(c: CaseRun) -> str:
    v = c.verdict
    lines = [v.result, f"close: {v.behavior_close}: {v.result_close}", *c.notes]
    return "\n".join(lines)


__all__ = [
    "case_file",
    "clean_agent",
    "index_html",
    "index_rows",
    "junit",
    "write_run",
    "write_runs",
]
