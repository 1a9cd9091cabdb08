"""The code's layout holds: data flows one way between packages, and only the app imports Streamlit.

Imports are read with `ast` from every module (those inside functions too), so a cycle
hidden in a function body fails here as surely as one at the top of a file.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each package may import only the packages listed after it (and the standard library and
# third-party packages). Lower layers come first; `errors` is the bottom of everything.
# `i18n` (translation and formats) is the lowest layer above `errors`: any package may speak the
# reader's language, and i18n needs nothing of ours but the error type for an unknown language.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "i18n": {"errors"},
    "loaders": {"errors", "i18n"},
    "access": {"errors", "i18n"},
    "workspace": {"errors", "i18n", "loaders", "access"},
    "geography": {"errors", "i18n", "loaders", "workspace"},
    "analysis": {"errors", "i18n", "loaders"},
    "maps": {"errors", "i18n", "loaders", "analysis"},
    "exporters": {"errors", "i18n", "loaders"},
    "atlas": {"errors", "i18n", "loaders", "workspace", "access", "geography", "analysis", "maps", "exporters"},
}
APP = {"app", "ui", "pages"}  # the only Streamlit code; may import any package
STREAMLIT_ALLOWED = APP


def _package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (absolute imports; relative ones stay inside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _modules(packages) -> list[Path]:
    files = []
    for name in packages:
        if (ROOT / f"{name}.py").exists():
            files.append(ROOT / f"{name}.py")
        elif (ROOT / name).is_dir():
            files.extend(sorted((ROOT / name).rglob("*.py")))
    return files


def _graph(files: list[Path]) -> dict[str, set[str]]:
    ours = set(ALLOWED) | APP
    graph: dict[str, set[str]] = {}
    for path in files:
        package = _package_of(path)
        graph.setdefault(package, set()).update((_imports(path) & ours) - {package})
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle in `graph` as a list of names, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def layering_problems(root: Path = ROOT) -> list[str]:
    """Every break of the layout under `root`: a forbidden import, Streamlit outside the app, a cycle."""
    files = _modules(list(ALLOWED) + sorted(APP))
    problems = []
    for path in files:
        package, imported = _package_of(path), _imports(path)
        rel = path.relative_to(root)
        if "streamlit" in imported and package not in STREAMLIT_ALLOWED:
            problems.append(f"{rel} imports streamlit; only app.py, pages/ and ui.py may.")
        if package in ALLOWED:
            for other in sorted((imported & (set(ALLOWED) | APP)) - {package} - ALLOWED[package]):
                problems.append(f"{rel} imports {other}, which {package} may not import.")
    cycle = _cycle(_graph(files))
    if cycle:
        problems.append("import cycle between packages: " + " -> ".join(cycle))
    return problems


def test_the_layout_holds():
    assert layering_problems() == []


def test_every_package_is_known():
    """A new top-level package must be given its place in ALLOWED (or in APP)."""
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages - set(ALLOWED) - APP == set()


@pytest.mark.parametrize("module, line, expected", [
    ("analysis/coverage.py", "import streamlit as st", "analysis/coverage.py imports streamlit"),
    ("exporters/geojson.py", "from atlas.export import export_workspace", "exporters/geojson.py imports atlas"),
    ("loaders/kml.py", "    from geography.regions import load_regions", "loaders/kml.py imports geography"),
    ("workspace/store.py", "import ui", "workspace/store.py imports ui"),
    ("i18n/formats.py", "from loaders.layers import LAYERS", "i18n/formats.py imports loaders"),
])
def test_the_check_catches_a_break(monkeypatch, module, line, expected):
    """Add one bad import to a module (in memory) and the check must name it."""
    target = ROOT / module
    original = Path.read_text

    def read_text(self, *args, **kwargs):
        text = original(self, *args, **kwargs)
        if self == target:
            text += f"\n\ndef _probe():\n{line if line.startswith('    ') else '    ' + line}\n"
        return text

    monkeypatch.setattr(Path, "read_text", read_text)
    assert any(expected in problem for problem in layering_problems())


def test_a_cycle_is_reported():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
