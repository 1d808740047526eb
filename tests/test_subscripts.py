"""Subscripted models: the language (ranges, references, vector functions), names of results and
parameters, every way of running, and bad or hostile input."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import flywheel
from flywheel.errors import ModelError, ParameterError

from .model_text import equation, write_model


def subscript(name: str, elements: str, mapping: str = "") -> str:
    return f"{name}: {elements}{(' -> ' + mapping) if mapping else ''}\n\t~\t~\t|\n\n"


REGIONS = subscript("Region", "North, South, East") + subscript("Product", "Small, Large")

TRADE = (
    REGIONS
    + equation("Capacity[Region]", "10, 20, 30", "widgets", "Capacity of each region")
    + equation("Share[Region, Product]", "0.5, 0.5; 0.2, 0.8; 0.9, 0.1")
    + equation("Price[Product]", "2, 5")
    + equation("Demand[Region, Product]", "Capacity[Region] * Share[Region, Product]")
    + equation("Revenue[Region]", "SUM(Demand[Region, Product!] * Price[Product!])")
    + equation("Total Revenue", "SUM(Revenue[Region!])")
    + equation("Biggest", "VMAX(Capacity[Region!])")
    + equation("Inventory[Region, Product]", "INTEG(Demand[Region, Product] - Shipments[Region, Product], 1)")
    + equation("Shipments[Region, Product]", "Inventory[Region, Product] / Delay")
    + equation("Delay", "4")
    + equation("Smoothed[Region]", "SMOOTH3(Revenue[Region] * (1 + STEP(1, 2)), 3)")
)


@pytest.fixture(scope="module")
def trade(tmp_path_factory):
    path = write_model(tmp_path_factory.mktemp("trade"), TRADE, name="trade.mdl", final=10, dt=0.25)
    return flywheel.load_model(path)


def test_arrays_compute_element_by_element(trade) -> None:
    df = trade.run()
    capacity = np.array([10.0, 20.0, 30.0])
    share = np.array([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]])
    price = np.array([2.0, 5.0])
    revenue = (capacity[:, None] * share * price).sum(axis=1)
    for i, region in enumerate(["North", "South", "East"]):
        assert df[f"Revenue[{region}]"].iloc[0] == pytest.approx(revenue[i])
    assert df["Total Revenue"].iloc[0] == pytest.approx(revenue.sum())
    assert df["Biggest"].iloc[0] == 30
    # stocks of two dimensions, Euler like PySD: I' = D - I/4, I(0) = 1
    demand = capacity[:, None] * share
    inventory = np.ones((3, 2))
    for _ in range(40):
        inventory = inventory + 0.25 * (demand - inventory / 4)
    assert df.loc[10, "Inventory[South,Large]"] == pytest.approx(inventory[1, 1], rel=1e-12)


def test_columns_are_named_like_pysd(trade) -> None:
    columns = list(trade.run().columns)
    assert columns[:4] == ["FINAL TIME", "INITIAL TIME", "SAVEPER", "TIME STEP"]
    assert "Share[North,Small]" in columns and "Share[East,Large]" in columns
    # row-major order of the elements, as PySD splits its arrays
    shares = [c for c in columns if c.startswith("Share[")]
    assert shares == [f"Share[{r},{p}]" for r in ("North", "South", "East") for p in ("Small", "Large")]
    info = trade.variables["Share"]
    assert info.dims == ("Region", "Product") and info.coords[0] == ("North", "South", "East")
    assert info.default.shape == (3, 2) and info.default[2, 0] == 0.9
    assert trade.variables["Capacity"].units == "widgets"


def test_ensembles_have_subscript_dimensions(trade) -> None:
    ds = trade.run_ensemble({"Capacity[North]": [10.0, 20.0, 40.0]}, return_columns=["Inventory", "Revenue[East]"])
    assert ds["Inventory"].dims == ("member", "time", "Region", "Product")
    assert list(ds["Region"].values) == ["North", "South", "East"]
    assert ds["Revenue[East]"].dims == ("member", "time")
    north = ds["Inventory"].sel(Region="North", Product="Small").isel(time=-1).values
    assert north[0] < north[1] < north[2]
    # members equal their single runs, bit for bit
    single = trade.run(params={"Capacity[North]": 40.0})
    assert np.array_equal(ds["Inventory"].sel(member=2, Region="North", Product="Large").values,
                          single["Inventory[North,Large]"].to_numpy())  # fmt: skip


def test_lockstep_and_member_by_member_agree_bit_for_bit(trade) -> None:
    rng = np.random.default_rng(7)
    table = {"Capacity[South]": rng.uniform(5, 50, 37), "Delay": rng.uniform(1, 8, 37)}
    fast = trade.run_ensemble(table, lockstep=True)
    slow = trade.run_ensemble(table, lockstep=False)
    for name in ("Inventory", "Smoothed", "Total Revenue"):
        assert np.array_equal(fast[name].values, slow[name].values)


def test_parameters_by_element_and_whole_arrays(trade) -> None:
    base = trade.run()
    by_element = trade.run(params={"capacity[north]": 100})  # names and elements ignore case
    assert by_element["Capacity[North]"].iloc[0] == 100 and by_element["Capacity[South]"].iloc[0] == 20
    whole = trade.run(params={"Capacity": np.array([100.0, 20.0, 30.0])})
    assert whole.equals(by_element)
    nested = trade.run(params={"Share": [[1, 0], [1, 0], [1, 0]]})
    assert nested["Demand[East,Large]"].iloc[0] == 0 and nested["Demand[East,Small]"].iloc[0] == 30
    assert trade.run(params={"Price": 1.0})["Revenue[North]"].iloc[0] == pytest.approx(10.0)
    xr = pytest.importorskip("xarray")
    transposed = xr.DataArray(np.array([[1, 1, 1], [0, 0, 0]]), dims=("Product", "Region"),
                              coords={"Product": ["Small", "Large"], "Region": ["North", "South", "East"]})  # fmt: skip
    assert trade.run(params={"Share": transposed}).equals(nested)
    assert not base.equals(whole)
    params = trade.parameters()
    assert params["Capacity[East]"].default == 30 and "Capacity" not in params
    stock_start = trade.run(initial_condition=(0, {"Inventory[North,Small]": 7}))
    assert stock_start["Inventory[North,Small]"].iloc[0] == 7 and stock_start["Inventory[South,Small]"].iloc[0] == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"Capacity[Nrth]": 1}, "'Nrth' is not an element of 'Region' in 'Capacity' (allowed: North, South, East); did you mean 'North'?"),
        ({"Capacity[North, Small]": 1}, "'Capacity' has 1 subscript (Region), got [North, Small]"),
        ({"Capacity": [1, 2]}, "'Capacity' is an array over (Region: 3), shape (3,); got shape (2,)"),
        ({"Capacty": 1}, "unknown variable 'Capacty'; did you mean 'Capacity'"),
        ({"Delay[North]": 1}, "'Delay' has no subscripts"),
    ],
)
def test_bad_parameters_are_one_clear_line(trade, params, message) -> None:
    with pytest.raises(ParameterError) as info:
        trade.run(params=params)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_stepping_with_arrays_continues_exactly(trade) -> None:
    whole = trade.run()
    stepper = trade.stepper().step_to(3.5)
    state = stepper.state
    assert stepper.values(["Revenue"])["Revenue[North]"] == pytest.approx(whole.loc[0, "Revenue[North]"])
    continued = trade.run(initial_state=pickle.loads(pickle.dumps(state)))
    assert np.array_equal(continued.to_numpy(), whole.loc[3.5:].to_numpy())
    changed = trade.stepper().step_to(5).set({"Capacity[East]": 60}).run_to_end().result().to_frame()
    assert changed.loc[10, "Capacity[East]"] == 60 and changed.loc[4, "Capacity[East]"] == 30


def test_models_with_arrays_pickle(trade) -> None:
    again = pickle.loads(pickle.dumps(trade))
    assert again.run().equals(trade.run())


LANGUAGE = (
    subscript("Dim", "A, B, C, D")
    + subscript("Sub", "B, C")
    + subscript("Other", "X, Y, Z, W", mapping="Dim")
    + subscript("Alias", "A, B, C, D")
    + equation("Base[Dim]", "1, 2, 3, 4")
    + equation("Partial[Sub]", "Base[Sub] * 10")
    + equation("Pieces[A]", "100")
    + equation("Pieces[B]", "Time")
    + equation("Pieces[Sub] :EXCEPT: [B]", "-Base[Sub]")
    + equation("Everywhere[Dim] :EXCEPT: [C]", "7")
    + equation("Source[Other]", "5, 6, 7, 8")
    + equation("Mapped[Dim]", "Source[Other] * 10")  # Other -> Dim: position by position
    + equation("Grid[Dim, Alias]", "Base[Dim] * 10 + Base[Alias]")
    + equation("Transposed[Dim, Alias]", "Grid[Alias, Dim]")
    + equation("Up[Dim, Alias]", "Base[Dim]")
    + equation("Row Sums[Dim]", "SUM(Grid[Dim, Alias!])")
    + equation("Product All", "PROD(Base[Dim!])")
    + equation("Smallest", "VMIN(Base[Dim!] - 2)")
    + equation("Count", "ELMCOUNT(Dim)")
    + equation("Position[Dim]", "Dim")
    + equation("Ranks[Dim]", "VECTOR RANK(Unsorted[Dim], 1)")
    + equation("Order[Dim]", "VECTOR SORT ORDER(Unsorted[Dim], -1)")
    + equation("Unsorted[Dim]", "3, 1, 4, 2")
    + equation("Reordered[Dim]", "VECTOR REORDER(Base[Dim], Order[Dim])")
    + equation("Selected", "VECTOR SELECT(Chooser[Dim!], Base[Dim!], -1, 0, 0)")
    + equation("Chooser[Dim]", "0, 1, 0, 1")
    + equation("Matrix[Dim, Alias]", "IF THEN ELSE(Dim = Alias, 2, 0) + IF THEN ELSE(Alias = Dim + 1, 1, 0)")
    + equation("Inverse[Dim, Alias]", "INVERT MATRIX(Matrix[Dim, Alias], 4)")
    + equation("Curve[Dim]", "WITH LOOKUP(Base[Dim], ([(0,0)-(10,10)],(0,0),(10,100)))")
    + equation("Lag[Dim]", "DELAY FIXED(Base[Dim] * Time, 2, 0)")
    + equation("Held[Dim]", "SAMPLE IF TRUE(Time >= Base[Dim], Time, -1)")
)


@pytest.fixture(scope="module")
def language(tmp_path_factory):
    path = write_model(tmp_path_factory.mktemp("lang"), LANGUAGE, name="language.mdl", final=6, dt=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return flywheel.load_model(path), path


def test_subscript_language(language) -> None:
    model, _ = language
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = model.run()
    first = df.iloc[0]
    assert [first[f"Partial[{e}]"] for e in "BC"] == [20, 30]
    assert [df.loc[3, f"Pieces[{e}]"] for e in "ABC"] == [100, 3, -3] and np.isnan(first["Pieces[D]"])
    assert [first[f"Everywhere[{e}]"] for e in "ABD"] == [7, 7, 7] and np.isnan(first["Everywhere[C]"])
    assert [first[f"Mapped[{e}]"] for e in "ABCD"] == [50, 60, 70, 80]
    grid = np.array([[10 * i + j for j in range(1, 5)] for i in range(1, 5)], dtype=float)
    assert np.array_equal([[first[f"Transposed[{a},{b}]"] for b in "ABCD"] for a in "ABCD"], grid.T)
    assert first["Up[C,A]"] == 3 and first["Row Sums[B]"] == grid[1].sum()
    assert first["Product All"] == 24 and first["Smallest"] == -1 and first["Count"] == 4
    assert [first[f"Position[{e}]"] for e in "ABCD"] == [1, 2, 3, 4]
    assert [first[f"Ranks[{e}]"] for e in "ABCD"] == [3, 1, 4, 2]
    assert [first[f"Order[{e}]"] for e in "ABCD"] == [2, 0, 3, 1]  # 0-based, largest first (PySD)
    assert [first[f"Reordered[{e}]"] for e in "ABCD"] == [3, 1, 4, 2]
    assert first["Selected"] == 6  # numerical action 0: the weighted sum of the selected elements
    matrix = np.diag([2.0] * 4) + np.diag([1.0] * 3, 1)
    inverse = [[first[f"Inverse[{a},{b}]"] for b in "ABCD"] for a in "ABCD"]
    assert np.allclose(inverse, np.linalg.inv(matrix), rtol=0, atol=1e-12)
    assert [first[f"Curve[{e}]"] for e in "ABCD"] == [10, 20, 30, 40]
    assert df.loc[4, "Lag[C]"] == 3 * 2 and df.loc[1, "Lag[C]"] == 0
    assert df.loc[6, "Held[D]"] == 6 and df.loc[2, "Held[D]"] == -1 and df.loc[2, "Held[B]"] == 2


def test_loops_not_unrolled_compile_time_does_not_grow(tmp_path) -> None:
    """A dimension of 2,000 elements makes the same IR as one of 20: loops over the elements."""
    sizes = {}
    for n in (20, 2000):
        elements = ", ".join(f"e{i}" for i in range(n))
        body = (
            subscript("Big", elements)
            + equation("Rate[Big]", "0.01")
            + equation("Level[Big]", "INTEG(Rate[Big] * Level[Big], 1)")
            + equation("Total", "SUM(Level[Big!])")
            + equation("Smooth[Big]", "SMOOTH(Level[Big], 2)")
        )
        model = flywheel.load_model(write_model(tmp_path, body, name=f"big{n}.mdl"), cache=False)
        sizes[n] = len(model.compiled.ir("base"))
        assert model.run()["Total"].iloc[-1] == pytest.approx(n * (1.0025**40))
    assert sizes[2000] < sizes[20] * 1.2


HOSTILE = (
    '"Evil Range": "__import__(\'os\').system(\'touch pwned\')", "x;y", "new\\nline", ok\n\t~\t~\t|\n\n'
    + equation('"Pay)load"["Evil Range"]', "1, 2, 3, 4")
    + equation('"Sum; All"', 'SUM("Pay)load"["Evil Range"!])')
    + equation("Picked", '"Pay)load"["x;y"]')
)


def test_hostile_subscript_names_compile_safely(tmp_path) -> None:
    """Names with code, quotes, semicolons and escaped newlines are data: they never reach generated code."""
    path = write_model(tmp_path, HOSTILE, name="hostile.mdl")
    model = flywheel.load_model(path, cache=False)
    df = model.run()
    assert df['"Sum; All"'].iloc[0] == 10 and df["Picked"].iloc[0] == 2
    assert df['"Pay)load"["new\\nline"]'].iloc[0] == 3
    ds = model.run_ensemble({'"Pay)load"["x;y"]': [1.0, 5.0]})
    assert list(ds['"Sum; All"'].isel(time=0).values) == [9, 13]
    for part in ("base", "lockstep"):
        text = model.compiled.ir(part) or ""
        assert "pwned" not in text and "__import__" not in text and "x;y" not in text
    assert not (tmp_path / "pwned").exists() and not (tmp_path.cwd() / "pwned").exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (REGIONS + equation("X[Regoin]", "1"), "uses the subscript 'Regoin', which is not defined; did you mean 'Region'?"),
        (REGIONS + equation("X[Region]", "1") + equation("Y", "X[West]"), "uses the subscript 'West', which is not defined"),
        (REGIONS + subscript("Few", "North, South") + equation("X[Few]", "1") + equation("Y", "X[East]"),
         "refers to 'X[East]', but 'East' is not one of its elements (allowed: North, South)"),
        (REGIONS + equation("X[Region]", "1") + equation("Y", "X[North, Small]"), "refers to 'X' with 2 subscripts; it has 1"),
        (REGIONS + equation("X[Region]", "1") + equation("Y", "X[Region]"), "'Region' is not a subscript of its own equation"),
    ],
)
def test_bad_subscripts_are_one_clear_line(tmp_path, body, message) -> None:
    path = write_model(tmp_path, body, name="bad.mdl")
    with pytest.raises(ModelError) as info:
        flywheel.load_model(path, cache=False)
    text = str(info.value)
    assert message in text and text.startswith("bad.mdl:") and "\n" not in text


def test_cli_refuses_a_bad_subscript_with_exit_2(cli, tmp_path) -> None:
    path = write_model(tmp_path, REGIONS + equation("X[Regoin]", "1"), name="bad.mdl")
    proc = cli("describe", path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("flywheel: bad.mdl:") and "did you mean 'Region'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_cli_describes_and_runs_a_subscripted_model(cli, tmp_path) -> None:
    path = write_model(tmp_path, TRADE, name="trade.mdl", final=10, dt=0.25)
    described = cli("describe", path)
    assert described.returncode == 0, described.stderr
    assert "Capacity[Region]" in described.stdout and "10..30" in described.stdout
    scenario = tmp_path / "more.toml"
    scenario.write_text('title = "More capacity"\nmodel = "trade.mdl"\n\n[parameters]\n"Capacity[north]" = 40\n')
    ran = cli("run", scenario, "-o", tmp_path / "out")
    assert ran.returncode == 0, ran.stderr
    csv = (tmp_path / "out" / "more.csv").read_text()
    assert "Inventory[North,Small]" in csv.splitlines()[0]
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "Bad"\nmodel = "trade.mdl"\n\n[parameters]\n"Capacity[West]" = 40\n')
    refused = cli("run", bad, "-o", tmp_path / "out2")
    assert refused.returncode == 2 and "'West' is not an element of 'Region'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not (tmp_path / "out2").exists()


STATEFUL = {
    "smooth": "SMOOTH3I({x}, {t}, 5)",
    "delay": "DELAY3({x}, {t})",
    "delay n, its time changing": "DELAY N({x}, {t} * (1 + STEP(1, 5)), 0, 3)",
    "delay fixed": "DELAY FIXED({x}, {t}, 1)",
    "sample": "SAMPLE IF TRUE(MODULO(Time, {t}) < 1, {x}, 0)",
    "trend": "TREND({x}, {t}, 0.1)",
    "forecast": "FORECAST({x}, {t}, 2)",
    "initial": "INITIAL({x} * 2)",
    "stock": "INTEG(5 - {x}, 3)",
}


@pytest.mark.parametrize("kind", list(STATEFUL))
def test_stateful_builtins_over_arrays_equal_their_scalar_copies(tmp_path, kind) -> None:
    """Each element of an array builtin behaves exactly like the scalar builtin on that element."""
    formula = STATEFUL[kind]
    body = (subscript("d", "A, B, C") + equation("X[d]", "1 + Time * d") + equation("T[d]", "2, 3, 4")
            + equation("Out[d]", formula.format(x="X[d]", t="T[d]")))  # fmt: skip
    scalars = "".join(
        equation(f"X{i}", f"1 + Time * {i}") + equation(f"T{i}", str(t))
        + equation(f"Out{i}", formula.format(x=f"X{i}", t=f"T{i}"))
        for i, t in ((1, 2), (2, 3), (3, 4))
    )  # fmt: skip
    ours = flywheel.load_model(write_model(tmp_path, body, name="array.mdl", final=12, dt=0.5), cache=False).run()
    reference = flywheel.load_model(write_model(tmp_path, scalars, name="scalar.mdl", final=12, dt=0.5), cache=False).run()
    for i, element in ((1, "A"), (2, "B"), (3, "C")):
        assert np.array_equal(ours[f"Out[{element}]"].to_numpy(), reference[f"Out{i}"].to_numpy()), element
