"""Autobahn Testsuite runs without Autobahn: judge recorded cases exactly as
Autobahn does, and compare runs.

* :mod:`~wirelog.suite.model`: what a case expects, what was observed, the
  verdict (plain dataclasses).
* :mod:`~wirelog.suite.judge`: the generic rule (events, then the closing
  checks in order); :mod:`~wirelog.suite.cases`: the data-phase cases and
  the per-case overrides.
* :mod:`~wirelog.suite.observe`: a decoded case report as expectations and
  observations (never its verdict fields).
* :mod:`~wirelog.suite.report`: ``judge`` and ``diff`` over inputs, the
  library calls behind ``wirelog suite``.
"""

from __future__ import annotations

from wirelog.suite.judge import judge
from wirelog.suite.model import Behavior, Expectation, Observation, Verdict

__all__ = ["Behavior", "Expectation", "Observation", "Verdict", "judge"]
