"""The package's shape: agent's imports form a DAG, and each room imports only its own layer or lower ones.

Every import counts, also the lazy ones inside functions and those under TYPE_CHECKING: a checker sees them all.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. Rooms in one tuple share a layer but stay apart: a module may import its own room or a lower layer.
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("index",),
    ("ingest",),
    ("providers", "safety", "store"),
    ("coach",),
    ("brief", "peers", "library"),
    ("evals",),
    ("serve",),
    ("cli",),
]
LEVEL = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}


def module_names(root: Path = ROOT) -> dict[str, Path]:
    """Every module of agent/ by dotted name (a package by its own name)."""
    names: dict[str, Path] = {}
    for path in sorted((root / "agent").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The agent modules `name` imports anywhere in its file (top level, functions, TYPE_CHECKING)."""

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            # `from agent.x import y` names the module agent.x.y when there is one, else something in agent.x.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        found |= {m for m in map(owner, targets) if m is not None}
    found.discard(name)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    known = module_names(root)
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), plus any module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def room(module: str) -> str:
    """agent.index.retrieval -> index; agent itself and its top-level modules belong to core."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LEVEL) else "core"


def layer_breaks(graph: dict[str, set[str]]) -> list[str]:
    breaks = []
    for src, targets in sorted(graph.items()):
        for dst in sorted(targets):
            a, b = room(src), room(dst)
            if a != b and (LEVEL[b] >= LEVEL[a]):
                breaks.append(f"{src} ({a}) imports {dst} ({b})")
    return breaks


def test_every_room_has_a_layer():
    rooms = {p.name for p in (ROOT / "agent").iterdir() if (p / "__init__.py").is_file()}
    assert rooms == set(LEVEL), f"rooms without a layer: {rooms - set(LEVEL)}; layers without a room: {set(LEVEL) - rooms}"


def test_agent_imports_have_no_cycles():
    graph = import_graph()
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100  # the parser does see the package
    assert cycles(graph) == []


def test_each_room_imports_only_its_own_layer_or_lower():
    assert layer_breaks(import_graph()) == []


def test_nothing_in_agent_imports_ui():
    offenders = []
    for name, path in module_names().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{name} imports {m}" for m in mods if m == "ui" or m.startswith("ui.")]
    assert offenders == []


def test_the_checks_catch_a_cycle_and_an_upward_import():
    synthetic = {
        "agent.core.a": {"agent.index.b"},
        "agent.index.b": {"agent.index.c"},
        "agent.index.c": {"agent.core.a"},
        "agent.coach.d": {"agent.core.a"},
    }
    assert cycles(synthetic) == [["agent.core.a", "agent.index.b", "agent.index.c"]]
    assert cycles({"agent.core.a": {"agent.core.b"}, "agent.core.b": set()}) == []
    assert layer_breaks(synthetic) == ["agent.core.a (core) imports agent.index.b (index)"]
    assert layer_breaks({"agent.safety.x": {"agent.store.y"}}) == ["agent.safety.x (safety) imports agent.store.y (store)"]
    assert layer_breaks({"agent.cli.x": {"agent.core.y", "agent.evals.z"}, "agent.cli": {"agent.cli.x"}}) == []


def test_the_parser_counts_lazy_and_type_checking_imports(tmp_path):
    pkg = tmp_path / "agent" / "core"
    pkg.mkdir(parents=True)
    (tmp_path / "agent" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from agent.core.b import X\n")
    (pkg / "b.py").write_text("def f():\n    from agent.core import a\n    from . import c\n")
    (pkg / "c.py").write_text("import agent.core.a\n")
    graph = import_graph(tmp_path)
    assert graph["agent.core.a"] == {"agent.core.b"}
    assert graph["agent.core.b"] == {"agent.core.a", "agent.core.c"}
    assert cycles(graph) == [["agent.core.a", "agent.core.b", "agent.core.c"]]
