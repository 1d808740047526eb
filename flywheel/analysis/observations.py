"""Observed data for calibration: a table of measurements, checked against a model and a run.

A user's data arrive as a CSV file or a pandas DataFrame: one row per time, one column per observed
model variable, empty cells for missing values. Before any fit runs, every column is matched to a model
variable (the model's spelling, ignoring case, spaces and underscores, with "did you mean"), every cell
must be a number or missing, and every time an output time of the run. Mistakes are one line naming the
file (or ``data``), the column or row, and what is allowed. The checked result, ``Observations``, holds
the observed points as flat arrays so that residuals of many runs are one fancy-indexing step.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from ..core import Model, RunSpec

_OBSERVABLE = ("stock", "flow", "auxiliary")
_TIME_NAMES = ("time", "month", "months", "t")


@dataclass(frozen=True)
class Observations:
    """Checked observations: ``frame`` (index time, one column per series, NaN where missing) and the
    observed points flattened: ``series_of[k]``, ``time_row[k]`` (row in the run's output times) and
    ``values[k]`` for point ``k``."""

    frame: pd.DataFrame
    source: str
    series: tuple[str, ...]
    values: np.ndarray
    series_of: np.ndarray
    time_row: np.ndarray
    output_times: np.ndarray

    @property
    def n_points(self) -> int:
        return len(self.values)

    def counts(self) -> np.ndarray:
        """Observed points per series."""
        return np.bincount(self.series_of, minlength=len(self.series))

    def pick(self, result_values: np.ndarray) -> np.ndarray:
        """The model's values at the observed points: ``result_values`` is (series, member, time) as
        ``simulate(..., columns=self.series)`` returns it; the answer is (member, point)."""
        return result_values[self.series_of, :, self.time_row].T


def read_observations(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV of observations: the first column is time (or a column named time/month), the others
    are series. Cells are parsed as numbers later (``check_observations``) so errors can name them."""
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise ParameterError(f"{path}: no such data file") from None
    except IsADirectoryError:
        raise ParameterError(f"{path}: is a directory, not a data file") from None
    except pd.errors.EmptyDataError:
        raise ParameterError(f"{path}: the data file is empty (expected a header row: time, then series names)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParameterError(f"{path}: cannot read the data as CSV: {first}") from None
    if frame.shape[1] < 2:
        raise ParameterError(f"{path}: expected a time column and at least one series column, got {frame.shape[1]} column(s)")
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    time_column = next((c for c in columns if c.casefold() in _TIME_NAMES), columns[0])
    frame = frame.set_index(time_column)
    frame.index.name = "time"
    frame.attrs["source"] = str(path)
    return frame


def check_observations(data: Any, model: Model, spec: RunSpec, where: str | None = None) -> Observations:
    """Check observations against ``model`` and the run ``spec`` (its output times); see the module doc.

    ``data`` is a DataFrame indexed by time (numbers or numeric strings, NaN or empty for missing), or
    a path to a CSV file."""
    import pandas as pd

    if isinstance(data, (str, os.PathLike)):
        data = read_observations(data)
    if not isinstance(data, pd.DataFrame):
        raise ParameterError("data must be a pandas DataFrame indexed by time (or the path of a CSV file)")
    where = where or data.attrs.get("source") or "data"
    if data.shape[1] == 0:
        raise ParameterError(f"{where}: no series columns (allowed: the model's stocks, flows and auxiliaries)")
    if data.shape[0] == 0:
        raise ParameterError(f"{where}: no rows of observations")

    names = [_series_name(where, model, column) for column in data.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ParameterError(f"{where}: column {_q(duplicated[0])} is given twice (each series once)")

    times = np.array([_number(where, f"time {_q(str(t))}", t, allow_missing=False) for t in data.index])
    output_times = spec.time.grid.save_times
    rows = _time_rows(where, times, output_times, spec)
    if len(set(rows.tolist())) != len(rows):
        dup = times[[i for i, r in enumerate(rows) if list(rows).count(r) > 1][0]]
        raise ParameterError(f"{where}: time {dup:g} appears twice (one row per time)")

    matrix = np.empty(data.shape)
    for j, column in enumerate(data.columns):
        for i, cell in enumerate(data[column].to_numpy()):
            matrix[i, j] = _number(where, f"column {_q(str(column))} at time {times[i]:g}", cell, allow_missing=True)
    empty = [names[j] for j in range(len(names)) if np.all(np.isnan(matrix[:, j]))]
    if empty:
        raise ParameterError(f"{where}: column {_q(empty[0])} has no observations (every cell is empty)")

    order = np.argsort(times, kind="stable")
    frame = pd.DataFrame(matrix[order], index=pd.Index(times[order], name="time"), columns=names)
    rows = rows[order]
    by_series = frame.to_numpy().T
    point_series, point_rows = np.nonzero(~np.isnan(by_series))  # series by series, in time order
    values = by_series[point_series, point_rows]
    return Observations(
        frame=frame,
        source=str(where),
        series=tuple(names),
        values=values,
        series_of=point_series.astype(np.int64),
        time_row=rows[point_rows].astype(np.int64),
        output_times=output_times,
    )


def _series_name(where: str, model: Model, column: Any) -> str:
    label = str(column).strip()
    variables = model.variables
    name = label if label in variables else None
    if name is None:
        loose = {_loose(n): n for n in variables}
        name = loose.get(_loose(label))
    if name is None:
        observable = [n for n, v in variables.items() if v.kind in _OBSERVABLE]
        close = difflib.get_close_matches(label, observable, n=1, cutoff=0.6)
        hint = f"; did you mean {_q(close[0])}?" if close else " (allowed: the model's stocks, flows and auxiliaries)"
        raise ParameterError(f"{where}: column {_q(label)} is not a variable of {model.name}{hint}")
    kind = variables[name].kind
    if kind not in _OBSERVABLE or name not in model.compiled.value_index:
        raise ParameterError(
            f"{where}: column {_q(label)} is a {kind}; observed series must be stocks, flows or auxiliaries"
        )
    return name


def _time_rows(where: str, times: np.ndarray, output_times: np.ndarray, spec: RunSpec) -> np.ndarray:
    """The row of each observation time among the run's output times (the save grid)."""
    first, last = float(output_times[0]), float(output_times[-1])
    tolerance = 1e-6 * max(spec.time.time_step, 1e-9)
    rows = np.searchsorted(output_times, times - tolerance)
    for t, row in zip(times, rows, strict=True):
        if t < first - tolerance or t > last + tolerance:
            raise ParameterError(f"{where}: time {t:g} is outside the run (allowed: {first:g} to {last:g})")
        if row >= len(output_times) or abs(output_times[row] - t) > tolerance:
            raise ParameterError(
                f"{where}: time {t:g} is not an output time of the run (allowed: every "
                f"{spec.time.saveper:g} from {first:g} to {last:g}; change the saveper of the scenario)"
            )
    return rows


def _number(where: str, label: str, value: Any, allow_missing: bool) -> float:
    """A cell as a float: numbers and numeric text; empty text and NaN are missing (where allowed)."""
    if isinstance(value, str):
        text = value.strip()
        if text == "" or text.casefold() in ("nan", "na", "n/a"):
            if allow_missing:
                return math.nan
            raise ParameterError(f"{where}: {label} is empty (allowed: a number)")
        try:
            number = float(text)
        except ValueError:
            allowed = "a number, or an empty cell for a missing value" if allow_missing else "a number"
            raise ParameterError(f"{where}: {label}: {_q(text)} is not a number (allowed: {allowed})") from None
    elif isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{where}: {label}: {value!r} is not a number")
    else:
        number = float(value)
    if math.isnan(number):
        if allow_missing:
            return math.nan
        raise ParameterError(f"{where}: {label} is missing (allowed: a number)")
    if not math.isfinite(number):
        raise ParameterError(f"{where}: {label} is {number} (allowed: finite numbers)")
    return number


def _loose(name: str) -> str:
    return "".join(str(name).split()).replace("_", "").casefold()


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
