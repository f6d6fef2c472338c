"""Suite-wide rules.

Some tests need tools or data a developer's machine may lack (tshark,
tcpdump as root, chromium, ``../shared``) and skip there. In CI
(``CI=true``, as ``.ci/run`` runs) everything is installed, so a skip can
only mean something broke: it fails instead of hiding.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield  # type: ignore[misc]
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be missing: {report.longrepr}"
