"""Every notebook runs top to bottom with the package and checks the numbers it shows (plain asserts)."""

from __future__ import annotations

from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))


def test_the_numbered_notebooks_are_there():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_quickstart", "02_calibration"} <= names, names
    assert all(name[:2].isdigit() for name in names), names  # read in order: 01_, 02_, ...


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_and_checks_its_numbers(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert sum("assert " in cell.source for cell in code) >= 3, "a notebook checks what it shows"
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    outputs = [o for cell in code for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(cell.get("outputs") for cell in code)
    assert any("image/png" in o.get("data", {}) for o in outputs), "figures are shown as images"
