"""Suite-wide rules.

Some tests need tools or data a developer's machine may lack (tshark,
tcpdump as root, chromium, ``../shared``) and skip there. In CI
(``CI=true``, as ``.ci/run`` runs) everything is installed, so a skip can
only mean something broke: it fails instead of hiding.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

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


# -- the per-module coverage floor -------------------------------------------

#: Every module of the package is held to this much line coverage, each on
#: its own, so a well-tested module cannot hide an untested one in a total.
COVERAGE_FLOOR = 90.0

_session: pytest.Session | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _session
    _session = session


def _whole_suite(config: pytest.Config) -> bool:
    """Only a run of every test says anything about a module's coverage."""
    return (
        config.args_source is pytest.Config.ArgsSource.TESTPATHS
        and not config.option.keyword
        and not config.option.markexpr
        and not getattr(config.option, "deselect", None)
        and not config.option.maxfail
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    plugin = config.pluginmanager.getplugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    cov = getattr(controller, "cov", None)
    if cov is None or _session is None or _session.testsfailed or not _whole_suite(config):
        return
    package = Path(__file__).resolve().parent.parent / "wirelog"
    low: list[tuple[str, float, str]] = []
    for path in sorted(package.rglob("*.py")):
        _, statements, _, missing, lines = cov.analysis2(str(path))
        if not statements:
            continue
        pct = 100.0 * (len(statements) - len(missing)) / len(statements)
        if pct < COVERAGE_FLOOR:
            low.append((str(path.relative_to(package.parent)), pct, lines))
    if not low:
        terminalreporter.write_line(f"coverage: every module at or above {COVERAGE_FLOOR:.0f}%")
        return
    terminalreporter.write_sep("=", f"modules under the {COVERAGE_FLOOR:.0f}% coverage floor")
    for name, pct, lines in low:
        terminalreporter.write_line(f"{name}: {pct:.1f}% (missing {lines})")
    _session.exitstatus = pytest.ExitCode.TESTS_FAILED
