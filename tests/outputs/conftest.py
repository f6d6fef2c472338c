"""Fixtures of tests/outputs."""

from sessions import long_session  # noqa: F401 - a fixture
