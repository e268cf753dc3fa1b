"""Dependencies point one way: a small checker over fleet's import graph.

Each top-level package of fleet sits in one layer; a module may import its own layer and the
layers below, never one above. Packages of one layer may import each other. Every import
counts, those inside functions too. A new package fails here until it is given its layer
(ARCHITECTURE.md says where things go).
"""

from __future__ import annotations

import ast
from pathlib import Path

import fleet

FLEET = Path(fleet.__file__).parent

# Lowest first.
LAYERS: list[set[str]] = [
    # Config, database, errors, geo, request plumbing (session, error answers), page text.
    {"core"},
    # The caller's dependencies (auth.dependencies, auth.browser) sit here, below every router.
    {"auth", "inventory"},
    {"imports"},
    {"feeds"},
    {"scoring"},
    {"visits"},
    {"recovery", "markets", "aftersales"},
    {"pay"},
    {"maps"},
    # Assembly: what plugs into what (wiring), the app, the pages, the CLI, the scheduler,
    # the demo and the migrations. Nothing below imports them.
    {"wiring", "web", "pages", "cli", "jobs", "demo", "migrations"},
]
LAYER_OF = {package: n for n, packages in enumerate(LAYERS) for package in packages}
TOP_MODULES = {"__init__"}


def _package(path: Path) -> str:
    parts = path.relative_to(FLEET).with_suffix("").parts
    return parts[0]


def _imported(tree: ast.AST, path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            if node.module == "fleet":  # from fleet import wiring
                found += [(f"fleet.{alias.name}", node.lineno) for alias in node.names]
    return [(name, line) for name, line in found if name.startswith("fleet.")]


def _edges() -> list[tuple[str, str, str]]:
    """(importing package, imported package, where) for every import between packages."""
    edges = []
    for path in sorted(FLEET.rglob("*.py")):
        source = _package(path)
        if source in TOP_MODULES:
            continue
        for name, line in _imported(ast.parse(path.read_text(encoding="utf-8")), path):
            target = name.split(".")[1]
            if target != source:
                edges.append((source, target, f"{path.relative_to(FLEET.parent)}:{line}"))
    return edges


def test_every_package_has_a_layer() -> None:
    packages = {_package(p) for p in FLEET.rglob("*.py")} - TOP_MODULES
    assert packages - set(LAYER_OF) == set(), "give the new package its layer in LAYERS"


def test_no_import_points_up_a_layer() -> None:
    upward = [
        f"{where}: {source} imports {target}"
        for source, target, where in _edges()
        if LAYER_OF.get(target, -1) > LAYER_OF.get(source, len(LAYERS))
    ]
    assert upward == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: an import of the web layer from a domain is caught."""
    module = tmp_path / "service.py"
    module.write_text("def f():\n    from fleet.web import app\n    from fleet import wiring\n")
    names = [name for name, _ in _imported(ast.parse(module.read_text()), module)]
    assert names == ["fleet.web", "fleet.wiring"]
    assert LAYER_OF["web"] > LAYER_OF["inventory"] and LAYER_OF["wiring"] > LAYER_OF["maps"]
