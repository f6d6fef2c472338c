"""The shape of the package, checked: data flows one way, modules stay small.

These read the source with :mod:`ast` (nothing is imported), so a deferred
import inside a function counts exactly like one at the top of a module:
a cycle hidden in a function body is still a cycle. Imports under
``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wirelog"
MAX_LINES = 450

#: Layers, lowest first: a module may import its own layer and those below.
#: The sans-I/O core knows nothing of where octets come from or go.
LAYERS: list[tuple[str, ...]] = [
    (
        "wirelog.errors",
        "wirelog.enums",
        "wirelog.model",
        "wirelog.builders",
        "wirelog.progress",
        "wirelog.stats",
    ),
    ("wirelog.protocol",),
    ("wirelog.sources",),
    ("wirelog.pipeline", "wirelog.summary", "wirelog.problems"),
    ("wirelog.outputs", "wirelog.analysis", "wirelog.replay", "wirelog.suite"),
    ("wirelog.cli",),
]


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run (not under ``if TYPE_CHECKING``)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _owner(name: str) -> str | None:
    """The module a dotted import name lands in (a name imported from a
    package may be a submodule: ``from wirelog.protocol import frames``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _edges(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for n in names:
            if n.startswith("wirelog"):
                owner = _owner(n)
                if owner is not None and owner != module:
                    targets.add(owner)
    return targets


GRAPH = {m: _edges(m) for m in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def _layer(module: str) -> int | None:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def test_no_import_cycle() -> None:
    assert _cycles() == []


def test_the_checker_sees_deferred_imports() -> None:
    """The graph holds imports made inside function bodies (a known one)."""
    deferred = ast.parse(MODULES["wirelog"].read_text(encoding="utf-8"))
    inner = [
        n
        for f in ast.walk(deferred)
        if isinstance(f, ast.FunctionDef)
        for n in ast.walk(f)
        if isinstance(n, ast.ImportFrom)
    ]
    assert inner, "wirelog.load imports pandas-backed code lazily"
    assert all(_owner(n.module or "") in GRAPH["wirelog"] for n in inner)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines (at most {MAX_LINES})"


def test_every_module_has_a_layer() -> None:
    assert [m for m in MODULES if m != "wirelog" and _layer(m) is None] == []


def test_imports_follow_the_layers() -> None:
    """Sources push into the core, consumers read the pipeline, the CLI sits
    on top: nothing imports a layer above its own."""
    upward = []
    for module, targets in GRAPH.items():
        mine = _layer(module)
        if mine is None:
            continue
        for t in targets:
            theirs = _layer(t)
            if theirs is not None and theirs > mine:
                upward.append(f"{module} -> {t}")
    assert sorted(upward) == []


def test_scapy_has_one_importer() -> None:
    """scapy is slow to import and its API is wide: one module reads files with it."""
    importers = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _runtime_imports(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            if any(n == "scapy" or n.startswith("scapy.") for n in names):
                importers.append(module)
                break
    assert len(importers) == 1, importers
    assert importers[0].startswith("wirelog.sources.pcap.")


def test_test_helpers_have_unique_names() -> None:
    """pytest imports every test directory's modules by their bare name
    (rootdir imports), so two ``sessions.py`` in different folders shadow
    each other and one folder's tests fail to import only in a whole run."""
    seen: dict[str, Path] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name in ("conftest.py", "__init__.py"):
            continue
        assert path.name not in seen, f"{path} shadows {seen[path.name]}"
        seen[path.name] = path
