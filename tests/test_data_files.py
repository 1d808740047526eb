"""External data: GET DIRECT/XLS DATA, CONSTANTS and LOOKUPS from .csv and .xlsx, read when compiling,
only from the model's folder unless allowed, and compiled again when the data changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import flywheel
from flywheel.errors import ModelError

from .model_text import equation, write_model

SERIES = "time,North,South\n0,1,10\n5,3,20\n10,5,40\n"
CONSTANTS = "name,value\ncap,7\nshare,0.25\n"


def data_model(folder: Path, data: str = "'data.csv', ','", constants: str = "'consts.csv', ','") -> Path:
    body = (
        "Region: North, South\n\t~\t~\t|\n\n"
        + equation("Series[Region]", f"GET DIRECT DATA({data}, 'A', 'B2')").replace(" = ", " := ", 1)
        + f"Held[Region]:HOLD BACKWARD::= GET DIRECT DATA({data}, 'A', 'B2')\n\t~\t~\t|\n\n"
        + equation("Cap", f"GET DIRECT CONSTANTS({constants}, 'B2')")
        + equation("Curve[Region]", f"GET DIRECT LOOKUPS({data}, 'A', 'B2')")
        + equation("Looked[Region]", "Curve[Region](Time / 2)")
        + equation("Level[Region]", "INTEG(Series[Region], Cap)")
    )
    return write_model(folder, body, name="data_model.mdl", final=10, dt=1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "data.csv").write_text(SERIES)
    (tmp_path / "consts.csv").write_text(CONSTANTS)
    return tmp_path


def test_data_constants_and_lookups_from_csv(folder) -> None:
    df = flywheel.load_model(data_model(folder), cache=False).run()
    assert df.loc[1, "Series[North]"] == pytest.approx(1.4) and df.loc[7, "Series[South]"] == pytest.approx(28)
    assert df.loc[4, "Held[North]"] == 1 and df.loc[5, "Held[North]"] == 3 and df.loc[10, "Held[South]"] == 40
    assert (df["Cap"] == 7).all()
    assert df.loc[4, "Looked[South]"] == pytest.approx(14)  # the table at x = 2
    level = 7 + np.cumsum([0] + [1 + 0.4 * t for t in range(10)])
    assert np.allclose(df["Level[North]"].to_numpy(), level)


def test_data_from_xlsx(tmp_path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("openpyxl")
    frame = pd.DataFrame({"time": [0, 5, 10], "North": [1, 3, 5], "South": [10, 20, 40]})
    frame.to_excel(tmp_path / "data.xlsx", sheet_name="Sheet1", index=False)
    (tmp_path / "consts.csv").write_text(CONSTANTS)
    df = flywheel.load_model(data_model(tmp_path, data="'data.xlsx', 'Sheet1'"), cache=False).run()
    assert df.loc[1, "Series[North]"] == pytest.approx(1.4) and df.loc[5, "Held[South]"] == 20


def test_missing_data_file_is_one_clear_line(tmp_path) -> None:
    (tmp_path / "consts.csv").write_text(CONSTANTS)
    with pytest.raises(ModelError) as info:
        flywheel.load_model(data_model(tmp_path), cache=False)
    text = str(info.value)
    assert text.startswith("data_model.mdl: variable 'Curve' reads 'data.csv', which does not exist")
    assert "\n" not in text


def test_files_outside_the_models_folder_need_permission(tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.csv").write_text(SERIES)
    (outside / "consts.csv").write_text(CONSTANTS)
    folder = tmp_path / "model"
    folder.mkdir()
    path = data_model(folder, data="'../outside/data.csv', ','", constants="'../outside/consts.csv', ','")
    with pytest.raises(ModelError) as info:
        flywheel.load_model(path, cache=False)
    assert "outside the model's folder; allow it with load_model(path, data_paths=[folder])" in str(info.value)
    assert "variable 'Curve'" in str(info.value)
    allowed = flywheel.load_model(path, cache=False, data_paths=[outside])
    assert allowed.run().loc[5, "Held[North]"] == 3


def test_wrongly_shaped_data_names_the_variable_and_file(folder) -> None:
    (folder / "data.csv").write_text("time,North\n0,1\n5,3\n")  # one column for two regions
    with pytest.raises(ModelError) as info:
        flywheel.load_model(data_model(folder), cache=False)
    text = str(info.value)
    assert text.startswith("data_model.mdl: variable 'Curve': cannot read its data from 'data.csv'")
    assert "\n" not in text


def test_changed_data_is_compiled_again(folder, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FLYWHEEL_CACHE_DIR", str(tmp_path / "cache"))
    path = data_model(folder)
    first = flywheel.load_model(path).run()
    (folder / "data.csv").write_text(SERIES.replace("10,5,40", "10,5,80"))
    second = flywheel.load_model(path).run()
    assert first.loc[10, "Series[South]"] == 40 and second.loc[10, "Series[South]"] == 80
    ensemble = flywheel.load_model(path).run_ensemble({"Cap": [1.0, 2.0]})  # the lockstep code is fresh too
    assert float(ensemble["Series"].sel(member=0, Region="South").isel(time=-1)) == 80


def test_cli_reports_a_missing_data_file_with_exit_2(cli, tmp_path) -> None:
    (tmp_path / "consts.csv").write_text(CONSTANTS)
    proc = cli("describe", data_model(tmp_path))
    assert proc.returncode == 2 and "reads 'data.csv', which does not exist" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_subscripts_from_a_file_outside_the_folder_are_refused(tmp_path) -> None:
    body = "Region: GET DIRECT SUBSCRIPT('../regions.csv', ',', 'A2', 'A4', '')\n\t~\t~\t|\n\n" + equation("X[Region]", "1")
    (tmp_path / "regions.csv").write_text("name\nNorth\nSouth\nEast\n")
    folder = tmp_path / "model"
    folder.mkdir()
    path = write_model(folder, body, name="regions.mdl")
    with pytest.raises(ModelError, match="subscript range 'Region' reads .*outside the model's folder"):
        flywheel.load_model(path, cache=False)
    model = flywheel.load_model(path, cache=False, data_paths=[tmp_path])
    assert model.variables["X"].coords == (("North", "South", "East"),)
