"""wirelog.outputs.index: Autobahn's case table, on real reports and a capture."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import wirelog
from wirelog.outputs import index

REPORTS = Path(__file__).resolve().parents[3] / "shared" / "autobahn-reports" / "testing-a-server"
CASES = ["7_1_1", "1_1_1", "2_2", "3_1"]


@pytest.mark.skipif(not REPORTS.is_dir(), reason="../shared/autobahn-reports missing")
def test_a_folder_report_starts_with_the_case_table(tmp_path: Path) -> None:
    import json
    import shutil

    for c in CASES:
        shutil.copy(REPORTS / f"websock_server_case_{c}.json", tmp_path)
    page = wirelog.load(str(tmp_path)).report(fmt="html")
    table = page[page.index('<table class="index">') : page.index("</table>")]
    cells = re.findall(
        r'<td class="key">([^<]*)</td><td style="background:(#\w+)"><a href="#(c\d)"', table
    )
    # one row per case, in Autobahn's numeric order, each linking to its section
    assert [c for c, _, _ in cells] == ["1.1.1", "2.2", "3.1", "7.1.1"]
    for case, colour, anchor in cells:
        doc = json.loads(
            (tmp_path / f"websock_server_case_{case.replace('.', '_')}.json").read_text()
        )
        assert colour == index.CELLS[doc["behavior"]][1]
        section = page[page.index(f'<section id="{anchor}">') :][:400]
        assert f"Case {case} :" in section


def test_rows_of_a_capture_have_no_verdict() -> None:
    path = Path(__file__).resolve().parents[2] / "samples" / "multi_conn.pcap"
    dcs = wirelog.load(str(path)).decoded()
    rows = index.rows_of(dcs, ["#a", "#b", "#c"])
    assert [r.case for r in rows] == [d.connection.label for d in dcs]
    html = index.index_table(rows)
    assert html.count("Recorded") == 3 and 'href="#b"' in html
    failed = index.IndexRow("9.1", "FAILED", "FAILED", None, 5, "x.html")
    wrong = index.IndexRow("7.9.1", "OK", "WRONG CODE", 1002, None, "y.html")
    text = index.index_table([failed, wrong])
    assert "#e00" in text and ">Fail<" in text and "5 ms" in text and ">1002<" in text
