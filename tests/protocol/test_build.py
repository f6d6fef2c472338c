"""Which build is under test: pure Python, or the modules compiled with
mypyc (``setup.py``, ``.ci/speedups``).

``WIRELOG_SPEEDUPS=1`` says the compiled modules must be the ones imported
(so a run meant for them cannot silently test the sources), ``0`` says none
may be; unset, either is fine, but never a mix of the two.
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import os
from pathlib import Path

import wirelog

ROOT = Path(__file__).resolve().parents[2]


def hot_modules() -> list[str]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    (value,) = [
        n.value
        for n in tree.body
        if isinstance(n, ast.Assign)
        and isinstance(n.targets[0], ast.Name)
        and n.targets[0].id == "HOT"
    ]
    return [p.removesuffix(".py").replace("/", ".") for p in ast.literal_eval(value)]


def test_the_build_under_test_is_the_one_asked_for() -> None:
    modules = hot_modules()
    assert "wirelog.protocol.frames" in modules
    compiled = {
        name: not (importlib.import_module(name).__file__ or "").endswith(".py") for name in modules
    }
    wanted = os.environ.get("WIRELOG_SPEEDUPS")
    if wanted == "1":
        assert all(compiled.values()), compiled
    elif wanted == "0":
        assert not any(compiled.values()), compiled
    else:
        assert len(set(compiled.values())) == 1, f"a mix of compiled and pure modules: {compiled}"


def test_nothing_else_is_compiled() -> None:
    """A compiled module outside the build list is left over from an
    earlier build: it would run code that is not the source's."""
    package = Path(wirelog.__file__).parent
    found = set()
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
    for path in package.rglob("*"):
        suffix = next((s for s in suffixes if path.name.endswith(s)), None)
        if suffix is not None:
            parts = path.relative_to(package).parent.parts
            found.add(".".join(("wirelog", *parts, path.name.removesuffix(suffix))))
    assert found <= set(hot_modules()), f"stale compiled modules: {found - set(hot_modules())}"
