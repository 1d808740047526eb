"""Sweeps at scale: chunk by chunk into a zarr store that resumes after an interruption, and chunks on a
Dask cluster (a LocalCluster here) giving exactly the numbers computed in this process."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import flywheel
from flywheel.errors import OutputError, ParameterError
from flywheel.scale import SweepStore, run_sweep

from .conftest import MODEL_PATH
from .uncertain_inputs import moving_ranges

COLUMNS = ["Trust", "Target Attainment"]


def inputs(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A lever and a judgement constant drawn uniformly over their documented ranges."""
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(low, high, n) for name, (low, high) in moving_ranges(flywheel.load_model(MODEL_PATH)).items()}


def test_a_store_gives_the_in_process_numbers_and_reuses_every_chunk(model, tmp_path):
    spec = model.spec()
    plain = run_sweep(spec, inputs(5000), COLUMNS)
    first = run_sweep(spec, inputs(5000), COLUMNS, store=tmp_path / "s.zarr", chunk_size=1200)
    assert (first.n_chunks, first.reused_chunks) == (5, 0)
    again = run_sweep(spec, inputs(5000), COLUMNS, store=tmp_path / "s.zarr", chunk_size=1200)
    assert (again.n_chunks, again.reused_chunks) == (5, 5)
    assert len(np.unique(plain.dataset["Trust"].values[:, -1])) > 4000  # every member its own run
    for name in COLUMNS:
        assert np.array_equal(plain.dataset[name].values, first.dataset[name].values)
        assert np.array_equal(plain.dataset[name].values, again.dataset[name].values)
    assert np.array_equal(plain.dataset["time"].values, again.dataset["time"].values)


def test_an_interrupted_sweep_loses_at_most_the_chunk_in_flight_and_resumes_identically(model, tmp_path):
    spec = model.spec()
    store = tmp_path / "s.zarr"
    finished = []

    def stop_after_two(count):
        finished.append(count)
        if len(finished) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, inputs(4000), COLUMNS, store=store, chunk_size=1000, progress=stop_after_two)
    done = SweepStore(store, 4, 1000).done()
    assert done.tolist() == [True, True, False, False]  # the chunks that finished are on disk
    resumed = run_sweep(spec, inputs(4000), COLUMNS, store=store, chunk_size=1000)
    assert resumed.reused_chunks == 2
    plain = run_sweep(spec, inputs(4000), COLUMNS)
    for name in COLUMNS:
        assert np.array_equal(plain.dataset[name].values, resumed.dataset[name].values)


def test_a_store_of_another_sweep_is_refused(model, tmp_path):
    spec = model.spec()
    run_sweep(spec, inputs(100), COLUMNS, store=tmp_path / "s.zarr", chunk_size=50)
    with pytest.raises(OutputError, match="holds a different sweep"):
        run_sweep(spec, inputs(100, seed=1), COLUMNS, store=tmp_path / "s.zarr", chunk_size=50)
    (tmp_path / "other").mkdir()
    with pytest.raises(OutputError, match="is not a flywheel sweep store"):
        run_sweep(spec, inputs(100), COLUMNS, store=tmp_path / "other", chunk_size=50)


def test_montecarlo_with_a_store_equals_the_plain_one(model, tmp_path):
    ranges = moving_ranges(model)
    plain = flywheel.montecarlo(model, ranges, n=3000, seed=2, variables=["Trust"])
    stored = flywheel.montecarlo(model, ranges, n=3000, seed=2, variables=["Trust"], store=tmp_path, chunk_size=1000)
    assert (tmp_path / f"montecarlo-{model.name}.zarr").is_dir()
    assert np.array_equal(plain.dataset["Trust"].values, stored.dataset["Trust"].values)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c,
        distributed.Client(c) as client,
    ):
        yield c, client


def test_dask_local_cluster_gives_exactly_the_in_process_numbers(tmp_path, cluster):
    """The model file is gone before the cluster sees the spec: the compiled model travels as its cache
    entry, and no worker imports PySD (nothing is re-parsed)."""
    _, client = cluster
    copy = tmp_path / "flywheel_copy.mdl"
    shutil.copy(MODEL_PATH, copy)
    model = flywheel.load_model(copy)
    copy.unlink()
    spec = model.spec({"Market Shock Size": 0.1})
    local = run_sweep(spec, inputs(3000), COLUMNS)
    remote = run_sweep(spec, inputs(3000), COLUMNS, scheduler=client, chunk_size=700)
    assert remote.n_chunks == 5
    for name in COLUMNS:
        assert np.array_equal(local.dataset[name].values, remote.dataset[name].values)
    assert not any(client.run(lambda: __import__("sys").modules.get("pysd") is not None).values())


def test_dask_by_address_for_montecarlo_and_sensitivity(model, cluster):
    c, _ = cluster
    ranges = moving_ranges(model)
    local = flywheel.montecarlo(model, ranges, n=2000, seed=1, variables=["Trust"])
    remote = flywheel.montecarlo(model, ranges, n=2000, seed=1, variables=["Trust"], scheduler=c.scheduler_address,
                                 chunk_size=500)  # fmt: skip
    assert np.array_equal(local.dataset["Trust"].values, remote.dataset["Trust"].values)
    s_local = flywheel.sensitivity(model, ranges, "min Trust", n=128, seed=1)
    s_remote = flywheel.sensitivity(model, ranges, "min Trust", n=128, seed=1, scheduler=c.scheduler_address)
    assert s_local.scalars.equals(s_remote.scalars)


def test_a_bad_scheduler_is_one_clear_line(model):
    with pytest.raises(ParameterError, match="scheduler must be a Dask scheduler address"):
        run_sweep(model.spec(), inputs(10), COLUMNS, scheduler=42)


def test_sensitivity_with_a_store_resumes_and_equals_the_plain_one(model, tmp_path):
    ranges = moving_ranges(model)
    plain = flywheel.sensitivity(model, ranges, "min Trust", n=256, seed=3)
    first = flywheel.sensitivity(model, ranges, "min Trust", n=256, seed=3, store=tmp_path / "s.zarr", chunk_size=400)
    again = flywheel.sensitivity(model, ranges, "min Trust", n=256, seed=3, store=tmp_path / "s.zarr", chunk_size=400)
    assert (first.extra["chunks"], first.extra["reused_chunks"], again.extra["reused_chunks"]) == (4, 0, 4)
    assert plain.scalars.equals(first.scalars) and plain.scalars.equals(again.scalars)
