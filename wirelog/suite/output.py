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
from xml.etree import ElementTree as ET

from wirelog.outputs.index import CELLS, CLOSE_COLOURS
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
    os.makedirs(out, exist_ok=True)
    index: dict[str, dict[str, object]] = {}
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
    path = os.path.join(out, "index.json")
    with open(path, "w", encoding="ascii") as fh:
        json.dump({run.agent: index}, fh, sort_keys=True, indent=3, separators=(",", ": "))
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as fh:
        fh.write(index_html(run))
    return path


def index_html(run: SuiteRun) -> str:
    """The overview page: one row per case, Autobahn's cell texts and colours."""
    rows = []
    for c in sorted(run.cases, key=lambda c: case_key(c.case_id)):
        text, colour = CELLS.get(c.verdict.behavior, ("Fail", "#e00"))
        close = c.verdict.behavior_close
        code = c.doc.get("remoteCloseCode")
        ctext = str(code) if close in CLOSE_COLOURS and code is not None else "Unclean"
        if close == "FAILED":
            ctext = "Fail"
        ccolour = CLOSE_COLOURS.get(close, "#e00")
        link = html.escape(case_file(run.agent, c.case_id)[: -len(".json")] + ".html")
        rows.append(
            f'<tr><td>{html.escape(c.case_id)}</td><td style="background:{colour}">'
            f'<a href="{link}">{text}</a> <span class="case_duration">'
            f"{c.doc.get('duration', 0)} ms</span></td>"
            f'<td style="background:{ccolour}">{html.escape(ctext)}</td></tr>'
        )
    failed = len(run.failed)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(run.agent)}: wirelog suite run</title></head><body>\n"
        f"<h1>{html.escape(run.agent)}</h1><p>{len(run.cases)} cases, {failed} failed</p>\n"
        "<table><tr><th>Case</th><th>Behavior</th><th>Close</th></tr>\n"
        + "\n".join(rows)
        + "\n</table></body></html>\n"
    )


def junit(run: SuiteRun, path: str) -> None:
    """JUnit XML: one testcase per case, FAILED cases as failures."""
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
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _why(c: CaseRun) -> str:
    v = c.verdict
    lines = [v.result, f"close: {v.behavior_close}: {v.result_close}", *c.notes]
    return "\n".join(lines)


__all__ = ["case_file", "clean_agent", "index_html", "junit", "write_run"]
