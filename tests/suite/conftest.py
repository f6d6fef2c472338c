"""Shared fixtures of the suite tests: the 1,034 real Autobahn reports
(``../shared/autobahn-reports``), decoded once per session."""

from __future__ import annotations

import pytest
from suite_data import REPORTS, RUNS

from wirelog.pipeline import decode
from wirelog.protocol.connection import DecodedConnection


@pytest.fixture(scope="session")
def corpus() -> dict[str, list[DecodedConnection]]:
    """Each shared run, decoded by wirelog's one reader."""
    if not REPORTS.is_dir():
        pytest.skip("../shared/autobahn-reports missing")
    return {run: decode(str(REPORTS / run)) for run in RUNS}


@pytest.fixture(scope="session")
def by_id(corpus: dict[str, list[DecodedConnection]]) -> dict[tuple[str, str], DecodedConnection]:
    """``(run, case id)`` -> decoded case."""
    return {(run, dc.connection.meta["case_id"]): dc for run, dcs in corpus.items() for dc in dcs}
