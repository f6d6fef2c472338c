"""What only a real process shows: the installed entry point, its exit
codes and stderr, and that starting the CLI imports none of the heavy or
asyncio modules (``wirelog --help`` stays instant)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from servers import ROOT, SEED, Server, ab_echo  # noqa: F401


def test_the_installed_wirelog_command(ab_echo: Server) -> None:  # noqa: F811
    """Through the real entry point, as a user runs it."""
    exe = Path(sys.executable).parent / "wirelog"
    if not exe.exists():
        pytest.skip("wirelog is not installed in this environment")
    p = subprocess.run(
        [str(exe), "replay", SEED, "--target", ab_echo.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Verdict: EQUIVALENT" in p.stdout
    p = subprocess.run(
        [str(exe), "replay", SEED, "--target", "ws://127.0.0.1/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_the_cli_imports_no_heavy_module() -> None:
    heavy = ("asyncio", "ssl", "pandas", "matplotlib", "scapy", "pyarrow", "duckdb", "numpy")
    code = f"import sys, wirelog.cli\nprint(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"},
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"
