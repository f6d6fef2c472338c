"""Fixtures of tests/analysis."""

from sessions import long_session  # noqa: F401 - a fixture
