"""Autobahn Testsuite reports (JSON, HTML, flattened text, folders). Not yet written."""

from __future__ import annotations

from wirelog.errors import UnknownFormatError
from wirelog.model import Recording


def parse(path: str, kind: str) -> Recording:
    raise UnknownFormatError(path, f"{kind} parsing is not implemented yet")
