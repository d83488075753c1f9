"""The package's imports point one way (docs/DESIGN.md, "Dependencies"): no cycle, and no edge from a lower layer
to a higher one. Imports are read from the source (``ast``), so function-local imports and imports under
``TYPE_CHECKING`` count: each is a dependency someone reading the code has to follow. Modules imported by a name
computed at run time (the public API's table in ``__init__``, the DSL registry's adapters) are not seen; the first
stands at the top and the second within ``dsl``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = "aikg_inductor"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

# Top to bottom; a module may import from its own layer or any layer below it. Each name is a top-level module or
# subpackage of aikg_inductor ("aikg_inductor" itself is the package's __init__, the public API).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("aikg_inductor", "cli", "integrations"),  # the faces: public API, the aikg command, the vLLM plugin
    ("backend", "background", "offline_tuning", "ray_tuning", "tuning_run", "problem", "search_report"),  # drivers
    ("pipeline",),  # one task -> an accepted kernel or nothing; the one way into the cache
    ("search", "agents", "verify"),  # proposing and judging
    ("kernel_cache", "dsl"),  # what is stored; the kernel languages
    ("torch_internals",),  # every private PyTorch API
    ("task", "options"),  # the records and settings every layer reads
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported_modules(name: str, path: Path, modules: set[str]) -> set[str]:
    """The package's modules ``name`` imports anywhere in its source (``from x import y`` counts as ``x.y`` where
    that is a module, else as ``x``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
    return {target for target in found if target in modules and target != name}


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {name: imported_modules(name, path, set(modules)) for name, path in modules.items()}


def unit_of(module: str) -> str:
    """The top-level module or subpackage ``module`` belongs to (the names ``LAYERS`` lists)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def layer_of(unit: str) -> int:
    for depth, layer in enumerate(LAYERS):
        if unit in layer:
            return depth
    raise LookupError(unit)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan's algorithm), as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_every_unit_has_a_layer():
    units = {unit_of(module) for module in package_modules()}
    listed = {unit for layer in LAYERS for unit in layer}
    assert units - listed == set(), "a new module or subpackage: give it a layer in LAYERS (and in DESIGN.md)"
    assert listed - units == set(), "LAYERS names a module that no longer exists"


def test_no_import_points_upward():
    upward = sorted(f"{source} -> {target}" for source, targets in import_graph().items() for target in targets
                    if layer_of(unit_of(target)) < layer_of(unit_of(source)))
    assert upward == []


@pytest.mark.parametrize("level", ["module", "unit"])
def test_no_import_cycle(level: str):
    graph = import_graph()
    if level == "unit":  # a subpackage importing another that imports it back is a cycle too
        units: dict[str, set[str]] = defaultdict(set)
        for source, targets in graph.items():
            units[unit_of(source)].update(unit_of(t) for t in targets if unit_of(t) != unit_of(source))
        graph = dict(units)
    assert cycles(graph) == []


def test_the_checks_see_what_they_are_meant_to(tmp_path):
    """The graph reader resolves relative, function-local and TYPE_CHECKING imports; the cycle finder finds one."""
    path = tmp_path / "records.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..verify.report import R\n"
                    "def f():\n    from .. import task\n    import aikg_inductor.dsl\n")
    modules = {"aikg_inductor.kernel_cache.records", "aikg_inductor.verify.report", "aikg_inductor.task",
               "aikg_inductor.dsl", "aikg_inductor"}
    assert imported_modules("aikg_inductor.kernel_cache.records", path, modules) == {
        "aikg_inductor.verify.report", "aikg_inductor.task", "aikg_inductor.dsl"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
