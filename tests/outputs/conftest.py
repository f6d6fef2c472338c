"""Fixtures of tests/outputs."""

from long_session import long_session  # noqa: F401 - a fixture
