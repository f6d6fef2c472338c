"""Start-up pays only for what it uses (issue 12): ``wirelog --version``
and a decode of a small capture import none of the heavy libraries that
only analysis, plots, Parquet or rare link types need.

Each check runs in a fresh process (this one has imported everything),
with this process's environment, so the build under test (pure or
compiled, ``tests/protocol/test_build.py``) is the one checked."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import pytest
from servers import SAMPLES

#: numpy and cryptography too: a small capture's masked frames do not pay
#: for numpy (``wirelog.protocol.masking.NUMPY_AFTER``), a capture without
#: TLS not for cryptography (``wirelog.sources.pcap.flows``); pydantic, which
#: typer 0.29 imports to coerce every option (pyproject.toml pins typer below it).
HEAVY = (
    "pandas", "matplotlib", "scapy", "pyarrow", "duckdb", "numpy", "cryptography", "pydantic",
)  # fmt: skip

RUN = (
    "import json, sys\n"
    "from wirelog.cli import main\n"
    "try:\n"
    "    sys.argv[0] = 'wirelog'\n"
    "    main()\n"
    "except SystemExit as e:\n"
    "    code = e.code\n"
    "else:\n"
    "    code = 0\n"
    "sys.stdout.flush()\n"
    "heavy = {heavy!r}\n"
    "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in heavy)]),"
    " file=sys.stderr)\n"
)


def loaded(*args: str) -> tuple[object, list[str], str]:
    """Exit status, heavy modules imported and stdout of ``wirelog ARGS``."""
    p = subprocess.run(
        [sys.executable, "-c", RUN.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    code, modules = json.loads(p.stderr.strip().splitlines()[-1])
    return code, modules, p.stdout


def test_version_imports_nothing_heavy() -> None:
    code, modules, out = loaded("--version")
    # The installed distribution's version is the constant's (pyproject.toml reads it).
    assert code == 0 and out == f"wirelog {version('wirelog')}\n"
    assert modules == []


@pytest.mark.parametrize("level", ["frames", "messages"])
def test_a_small_decode_imports_nothing_heavy(level: str) -> None:
    # ws_basic holds frames of 1 KiB and more: large enough for numpy's XOR.
    code, modules, out = loaded("decode", "-f", "jsonl", "-l", level, f"{SAMPLES}/ws_basic.pcap")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines and max(r["length"] for r in lines) >= 1024
    assert modules == []
