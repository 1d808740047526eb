"""Results for single runs and ensembles alike, ensembles around a base, lookups that vary, and a
compiled model that pickles (to another process, another cache, another kind of CPU)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

import flywheel
from flywheel.scenarios import load_scenario

from .conftest import MODEL_PATH, REPO_ROOT
from .model_text import equation, write_model

BODY = (
    equation("Stock", "INTEG(Inflow - Outflow, 10)", "widgets [0,?]")
    + equation("Inflow", "Rate * Effect(Stock / 100)", "widgets/Month")
    + equation("Outflow", "SMOOTH(Stock, 2) / Residence Time", "widgets/Month")
    + equation("Rate", "5", "widgets/Month [0,20]")
    + equation("Residence Time", "4", "Month [1,10]")
    + "Effect(\n\t[(0,0)-(2,2)],(0,1),(0.5,1.2),(1,1),(2,0.5))\n\t~\tDmnl\n\t~\t\n\t|\n\n"
)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> flywheel.Model:
    return flywheel.load_model(write_model(tmp_path_factory.mktemp("results"), BODY, final=20, dt=0.25, saveper=1))


def test_a_single_run_is_a_result_with_one_member_and_its_spec(model) -> None:
    spec = model.spec({"Rate": 7})
    result = flywheel.simulate(spec)
    assert result.spec is spec and result.n_members == 1 and result.ensemble is None
    ds = result.dataset
    assert ds["Stock"].dims == ("member", "time") and ds.sizes["member"] == 1 and ds.sizes["time"] == 21
    frame = result.to_frame()
    assert frame.equals(model.run(params={"Rate": 7}))
    assert np.array_equal(flywheel.simulate(result).values, result.values)


def test_an_ensemble_result_reruns_exactly(model) -> None:
    rates = np.linspace(1, 10, 37)
    result = flywheel.simulate(model.spec(), members={"Rate": rates}, columns=["Stock"], times=[0, 10, 20])
    assert result.values.shape == (1, 37, 3)
    assert np.array_equal(flywheel.simulate(result).values, result.values)
    assert np.array_equal(result.to_frame(member=5)["Stock"].to_numpy(), model.run(params={"Rate": rates[5]}).loc[[0, 10, 20], "Stock"].to_numpy())


def test_return_times_in_any_order_and_each_once(model) -> None:
    result = flywheel.simulate(model.spec(), columns=["Stock"], times=[20, 0, 10])
    assert list(result.times) == [20, 0, 10]
    full = model.run(params={}).loc[[20, 0, 10], "Stock"].to_numpy()
    assert np.array_equal(result.values[0, 0], full)
    assert np.array_equal(flywheel.simulate(result).values, result.values)
    with pytest.raises(flywheel.ParameterError, match="asked for twice"):
        flywheel.simulate(model.spec(), columns=["Stock"], times=[0, 10, 10])
    with pytest.raises(flywheel.ParameterError, match="2.5 is not an output time"):
        flywheel.simulate(model.spec(), columns=["Stock"], times=[0, 2.5])


@pytest.mark.parametrize("lockstep", [None, False])
def test_ensembles_take_a_base_and_vary_on_top_of_it(lockstep) -> None:
    model = flywheel.load_model(MODEL_PATH)
    scenario = load_scenario(REPO_ROOT / "scenarios" / "shock_deep_dives.toml", model=model)
    name = "Trust Building Time"  # deep dives build trust: how fast changes the run (erosion would not)
    table = pd.DataFrame({name: np.linspace(*model.variables[name].limits, 4)})  # its documented range
    ds = model.run_ensemble(table, return_columns=["Target Attainment"], base=scenario, lockstep=lockstep)
    for i, value in enumerate(table[name]):
        single = model.run(params={**scenario.params, name: value}, return_columns=["Target Attainment"])
        assert np.array_equal(ds["Target Attainment"].values[i], single["Target Attainment"].to_numpy())
    assert len({tuple(row) for row in ds["Target Attainment"].values}) == 4  # each member its own run
    by_dict = model.run_ensemble(table, return_columns=["Target Attainment"], base=dict(scenario.params))
    assert np.array_equal(by_dict["Target Attainment"].values, ds["Target Attainment"].values)


@pytest.mark.parametrize("lockstep", [None, False])
def test_lookups_may_vary_across_members(model, lockstep) -> None:
    xs = np.array([0.0, 0.5, 1.0, 2.0])
    ys = np.array([[1.0, 1.2, 1.0, 0.5], [1.0, 1.5, 1.3, 0.2], [0.5, 0.6, 0.7, 0.8]])
    ds = model.run_ensemble({"Effect": (xs, ys), "Rate": [5.0, 6.0, 7.0]}, return_columns=["Stock"], lockstep=lockstep)
    for i in range(3):
        single = model.run(params={"Effect": (xs, ys[i]), "Rate": 5.0 + i}, return_columns=["Stock"])
        assert np.array_equal(ds["Stock"].values[i], single["Stock"].to_numpy())
    # as a DataFrame column of (xs, ys) pairs, one per member, with a different number of points
    pairs = pd.DataFrame({"Effect": [([0, 2], [1, 1]), ([0, 2], [2, 2])]})
    ds = model.run_ensemble(pairs, return_columns=["Inflow"], lockstep=lockstep)
    assert np.allclose(ds["Inflow"].values[:, 0], [5.0, 10.0])
    with pytest.raises(flywheel.ParameterError, match="xs must be sorted"):
        model.run_ensemble({"Effect": (xs[::-1], ys)})


def test_every_saved_time_can_be_returned(model) -> None:
    table = {"Rate": np.linspace(1, 10, 200)}
    every = model.run_ensemble(table, return_columns=["Stock", "Outflow"], saveper=0.25)
    assert every.sizes["time"] == 81
    assert np.array_equal(every["Stock"].values[17], model.run(params={"Rate": table["Rate"][17]}, saveper=0.25)["Stock"].to_numpy())


def test_a_model_pickles_and_runs_the_same(model) -> None:
    copy = pickle.loads(pickle.dumps(model))
    assert copy.compiled.key == model.compiled.key
    assert copy.run().equals(model.run())
    spec = pickle.loads(pickle.dumps(model.spec({"Rate": 3})))
    assert flywheel.simulate(spec).to_frame().equals(model.run(params={"Rate": 3}))


def _member_run(args: tuple) -> np.ndarray:
    model, rate = args
    return model.run(params={"Rate": rate}, return_columns=["Stock"])["Stock"].to_numpy()


def test_a_model_travels_to_worker_processes(model) -> None:
    rates = [1.0, 4.0, 9.0]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_member_run, [(model, r) for r in rates]))
    for rate, values in zip(rates, results, strict=True):
        assert np.array_equal(values, _member_run((model, rate)))


@pytest.mark.parametrize("foreign_cpu", [False, True])
def test_a_pickled_model_rebuilds_in_an_empty_cache_without_the_model_file(model, tmp_path, foreign_cpu) -> None:
    """A worker with its own, empty cache and no model file: the pickle carries the object code (and the
    IR, which another kind of CPU compiles instead)."""
    blob = tmp_path / "model.pickle"
    blob.write_bytes(pickle.dumps(model))
    script = textwrap.dedent(
        f"""
        import pickle, sys
        import flywheel.compiler.jit as jit
        if {foreign_cpu}:
            jit.host_fingerprint = lambda: "another cpu"
            import flywheel.core.compiled as compiled
            compiled.host_fingerprint = jit.host_fingerprint
        model = pickle.loads(open({str(blob)!r}, "rb").read())
        print(repr(float(model.run()["Stock"].iloc[-1])))
        """
    )
    env = {**os.environ, "FLYWHEEL_CACHE_DIR": str(tmp_path / "empty-cache"), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) == model.run()["Stock"].iloc[-1]


def test_a_changed_file_is_never_served_stale(tmp_path) -> None:
    path = write_model(tmp_path, equation("Stock", "INTEG(Rate, 0)") + equation("Rate", "1"))
    first = flywheel.load_model(path)
    assert first.run()["Stock"].iloc[-1] == 10
    path.write_text(path.read_text().replace("Rate = 1", "Rate = 3"))
    assert flywheel.load_model(path).run()["Stock"].iloc[-1] == 30
    from flywheel.scenarios import get_model

    assert get_model(path).run()["Stock"].iloc[-1] == 30
