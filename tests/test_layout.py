"""The package's layout: sub-packages follow the data flow, and imports only go downstream.

Every ``import`` in ``coverage/`` (at module level or inside a function) is read
with :mod:`ast`. A module may import from its own stage or an earlier one, never
from a later one, and the imports between modules never form a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

from tests.conftest import REPO

PACKAGE = REPO / "coverage"

#: The stages of the data flow, upstream first (see coverage/README.md).
STAGES = (
    "_base",  # _errors, _config, _version
    "io",
    "network",
    "analysis",
    "standards",
    "siting",
    "ems",
    "outputs",
    "reports",
    "batch",
    "webapp",
    "cli",
    "__main__",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return "_base" if parts[1].startswith("_") and parts[1] != "__main__" else parts[1]


def _imports(path: Path, module: str) -> set[str]:
    """The coverage modules that ``path`` imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "coverage")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.split(".")[0] != "coverage":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                # "from coverage.cli import analyze" imports a module; "from coverage.io.osm import x" a name
                found.add(candidate if _is_module(candidate) else base)
    return found


def _is_module(name: str) -> bool:
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        graph.add_node(module)
        for imported in _imports(path, module):
            if imported != module:
                graph.add_edge(module, imported)
    return graph


GRAPH = _graph()


def test_every_module_belongs_to_a_stage():
    unknown = sorted(m for m in GRAPH if _stage(m) not in (*STAGES, "__init__"))
    assert not unknown, f"modules outside the known stages (add the stage to STAGES, in flow order): {unknown}"


def _later_imports(graph: nx.DiGraph, module: str) -> list[str]:
    rank = STAGES.index(_stage(module))
    return sorted(
        target
        for target in graph.successors(module)
        if _stage(target) == "__init__" or STAGES.index(_stage(target)) > rank
    )


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _stage(m) != "__init__"))
def test_a_module_imports_only_its_own_stage_or_earlier_ones(module):
    later = _later_imports(GRAPH, module)
    assert not later, f"{module} ({_stage(module)}) imports from later stages: {later}"


def test_no_import_cycles():
    cycles = list(nx.simple_cycles(GRAPH))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_the_reader_sees_every_kind_of_import(tmp_path):
    """Module level, inside a function, relative, and "from package import module"."""
    source = tmp_path / "osm.py"
    source.write_text(
        "import coverage.network.routing\n"
        "from coverage.cli import analyze\n"
        "from . import points\n"
        "def f():\n"
        "    from coverage.outputs.maps import save_map\n",
        encoding="utf-8",
    )
    found = _imports(source, "coverage.io.osm")
    assert found == {"coverage.network.routing", "coverage.cli.analyze", "coverage.io.points", "coverage.outputs.maps"}
    graph = nx.DiGraph([("coverage.io.osm", target) for target in found])
    assert _later_imports(graph, "coverage.io.osm") == [
        "coverage.cli.analyze",
        "coverage.network.routing",
        "coverage.outputs.maps",
    ]
    assert ("coverage.cli.main", "coverage.cli.analyze") in GRAPH.edges
    assert ("coverage.cli._runs", "coverage.analysis.run") in GRAPH.edges  # imported inside a function


def test_the_public_api_is_importable_from_the_top():
    import coverage

    for name in coverage.__all__:
        assert getattr(coverage, name) is not None, name
    from coverage import analyze, assess, coverage_map, site

    assert callable(analyze)
    assert callable(assess)
    assert callable(site)
    assert callable(coverage_map)
