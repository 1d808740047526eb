"""The architecture as written down: the layers of the one pipeline (import-linter contracts in
pyproject.toml) and no import cycles between modules."""

from __future__ import annotations

import shutil
import subprocess

import networkx as nx
import pytest

from .conftest import REPO_ROOT


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is not installed")
def test_the_import_contracts_hold() -> None:
    proc = subprocess.run(["lint-imports"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "0 broken" in proc.stdout


def test_no_module_imports_itself_through_others() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("flywheel", exclude_type_checking_imports=True)
    edges = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("flywheel"):
                edges.add_edge(module, imported)
    packages = {m for m in graph.modules if graph.find_children(m)}
    cycles = [c for c in nx.simple_cycles(edges) if not set(c) & packages]
    assert not cycles, cycles[:5]
