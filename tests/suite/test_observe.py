"""Reading a case report as expectations and observations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from suite_data import REPORTS

from wirelog.errors import InputError
from wirelog.pipeline import decode
from wirelog.suite.cases import data_case
from wirelog.suite.observe import _lone_payload, recorded_case


def test_html_reports_lack_the_expectations() -> None:
    page = REPORTS / "testing-a-server" / "websock_server_case_2_2.html"
    [dc] = decode(str(page))
    with pytest.raises(InputError, match=r"case 2\.2: the report has no expected/expectedClose"):
        recorded_case(dc)


def test_malformed_expectations_are_one_clear_error(tmp_path: Path) -> None:
    doc = json.loads((REPORTS / "testing-a-server" / "websock_server_case_2_2.json").read_text())
    doc["expectedClose"] = {"closedByMe": True}
    bad = tmp_path / "x_case_2_2.json"
    bad.write_text(json.dumps(doc))
    [dc] = decode(str(bad))
    with pytest.raises(InputError, match=r"case 2\.2: malformed expectations"):
        recorded_case(dc)


def test_a_lone_frame_has_one_length() -> None:
    # header 2, 4 or 10 octets as RFC 6455 §5.2 needs, +4 when masked
    assert _lone_payload(65546, masked=False) == 65536
    assert _lone_payload(65539, masked=False) == 65535
    assert _lone_payload(65540, masked=False) is None  # no header size fits
    assert _lone_payload(131, masked=True) == 125
    assert _lone_payload(1, masked=False) is None


def test_the_client_run_bounds_fragmented_echoes(by_id: dict) -> None:
    # 9.1.4 in the client run: the client's echo of 4 MiB came in 4 masked frames
    rc = recorded_case(by_id[("testing-a-client", "9.1.4")])
    data = rc.observation.data
    assert data is not None and not data.lengths_known and data.total is not None
    low, high = data.total
    assert low <= 4 * 1024 * 1024 <= high
    assert high - low <= 4 * (10 + 4) + 4 * 2  # only the headers are unknown


def test_case_timeouts_agree_with_the_recorded_timers(corpus: dict) -> None:
    checked = 0
    for dcs in corpus.values():
        for dc in dcs:
            case = data_case(dc.connection.meta["case_id"])
            if case is None:
                continue
            timers = [m.value for m in dc.connection.markers if m.kind.value == "TI"]
            if timers:
                assert timers[0] == case.wait, dc.connection.meta["case_id"]
                checked += 1
    assert checked >= 2 * 54  # every 9.x case of both runs at least
    assert data_case("9.9.1") is None and data_case("x") is None and data_case("12.6.1") is None
