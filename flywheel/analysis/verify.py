"""Compare runs with reference outputs (Vensim/Stella exports, the SDXorg test-models suite).

A variable passes when every common output time satisfies ``|run - ref| <= atol + rtol * |ref|``.
Vensim writes constants only in the first row; those columns are filled down before comparing.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import FlywheelError, ModelError

RTOL = 1e-3
ATOL = 1e-5
MODEL_SUFFIXES = (".mdl", ".xmile", ".stmx")


def load_reference(path: str | Path) -> pd.DataFrame:
    """Read a reference output (.csv or .tab; time in rows or in columns) as a DataFrame indexed by time."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such reference file")
    sep = "\t" if path.suffix.lower() == ".tab" else ","
    for encoding in ("utf-8", "utf-16", "latin-1"):
        try:
            frame = pd.read_csv(path, sep=sep, encoding=encoding, index_col=0)
            break
        except (UnicodeError, pd.errors.ParserError):
            continue
    else:
        raise ModelError(f"{path}: cannot read the reference file (expected CSV or tab-separated text)")
    frame.columns = [str(c).strip() for c in frame.columns]
    if _numeric(frame.columns) and not _numeric(frame.index):
        frame = frame.T  # one variable per row
    frame.index = pd.Index(pd.to_numeric(pd.Series(frame.index), errors="coerce").to_numpy(), name="time")
    frame = frame.loc[~np.isnan(frame.index.to_numpy(dtype=float))]
    frame = frame.apply(pd.to_numeric, errors="coerce")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _numeric(labels) -> bool:
    values = pd.to_numeric(pd.Series([str(x).strip() for x in labels]), errors="coerce")
    return len(values) > 0 and bool(values.notna().all())


@dataclass
class Comparison:
    """The result of comparing one model run with one reference file."""

    model: str
    reference: str
    table: pd.DataFrame  # variable, max_abs_error, max_rel_error, passed; worst first
    missing: list[str] = field(default_factory=list)  # reference columns the model does not have
    common_times: int = 0

    @property
    def passed(self) -> bool:
        return self.common_times > 0 and not self.missing and bool(self.table["passed"].all())

    def to_text(self, n: int = 10) -> str:
        lines = [f"{self.model} vs {self.reference}: {'PASS' if self.passed else 'FAIL'} "
                 f"({len(self.table)} variables at {self.common_times} times, rtol {RTOL:g})"]
        if self.missing:
            lines.append("  not in the model: " + ", ".join(self.missing[:n]))
        for row in self.table.head(n).itertuples():
            mark = "ok " if row.passed else "BAD"
            lines.append(f"  {mark} {row.variable:<40} max abs {row.max_abs_error:.3g}  max rel {row.max_rel_error:.3g}")
        return "\n".join(lines)


def compare_frames(run: pd.DataFrame, reference: pd.DataFrame, rtol: float = RTOL, atol: float = ATOL):
    """Per-variable errors at the times both frames share; returns (table, missing, common_times)."""
    run_times = run.index.to_numpy(dtype=float)
    ref_times = reference.index.to_numpy(dtype=float)
    pos = np.searchsorted(run_times, ref_times)
    pos = np.clip(pos, 0, len(run_times) - 1)
    tol = 1e-6 * max(1.0, float(np.nanmax(np.abs(ref_times))) if len(ref_times) else 1.0)
    near = np.abs(run_times[pos] - ref_times) <= tol
    left = np.clip(pos - 1, 0, len(run_times) - 1)
    near_left = np.abs(run_times[left] - ref_times) <= tol
    pos = np.where(near, pos, left)
    keep = near | near_left
    lookup = {_loose(c): c for c in run.columns}
    rows, missing = [], []
    for column in reference.columns:
        name = column if column in run.columns else lookup.get(_loose(column))
        if name is None:
            missing.append(column)
            continue
        expected = reference[column].to_numpy(dtype=float)
        if len(expected) > 1 and np.isfinite(expected[0]) and np.all(np.isnan(expected[1:])):
            expected = np.full_like(expected, expected[0])
        actual = run[name].to_numpy(dtype=float)[pos]
        e, a = expected[keep], actual[keep]
        both_nan = np.isnan(e) & np.isnan(a)
        diff = np.where(both_nan, 0.0, np.abs(a - e))
        diff = np.where(np.isnan(diff), np.inf, diff)
        rel = diff / np.maximum(np.abs(e), 1e-300)
        ok = both_nan | (diff <= atol + rtol * np.abs(e))
        rows.append((name, float(diff.max(initial=0.0)), float(np.where(diff == 0, 0.0, rel).max(initial=0.0)), bool(ok.all())))
    table = pd.DataFrame(rows, columns=["variable", "max_abs_error", "max_rel_error", "passed"])
    table = table.sort_values(["passed", "max_rel_error"], ascending=[True, False], ignore_index=True)
    return table, missing, int(keep.sum())


def _loose(name: str) -> str:
    return re.sub(r"[\s_\"]+", " ", str(name).strip().lower()).strip()


def compare_with_reference(model_path: str | Path, reference_path: str | Path, method: str = "euler") -> Comparison:
    """Run a model with its own settings and compare it with a reference output file."""
    from ..core import load_model

    model = load_model(model_path)
    reference = load_reference(reference_path)
    run = model.run(method=method)
    table, missing, common = compare_frames(run, reference)
    return Comparison(str(model_path), str(reference_path), table, missing, common)


def find_reference(folder: Path) -> Path | None:
    for name in ("output.csv", "output.tab"):
        if (folder / name).is_file():
            return folder / name
    return None


@dataclass
class SuiteReport:
    """One row per model file: PASS, FAIL, or UNSUPPORTED/ERROR with the reason."""

    table: pd.DataFrame

    @property
    def n_passed(self) -> int:
        return int((self.table["status"] == "PASS").sum())

    @property
    def n_failed(self) -> int:
        return int((self.table["status"] == "FAIL").sum())

    @property
    def n_error(self) -> int:
        return int(self.table["status"].isin(["ERROR", "UNSUPPORTED"]).sum())

    def to_text(self) -> str:
        lines = []
        for row in self.table.itertuples():
            detail = row.detail if row.status != "PASS" else ""
            lines.append(f"{row.status:<11} {row.model:<70} {detail}")
        lines.append(f"{self.n_passed} passed, {self.n_failed} failed, {self.n_error} not run "
                     f"(unsupported or error) of {len(self.table)} models")
        return "\n".join(lines)


def suite_models(directory: str | Path) -> list[tuple[Path, Path]]:
    """(model file, reference) pairs in a folder laid out like SDXorg's test-models."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelError(f"{directory}: not a folder")
    pairs = []
    for folder in sorted({p.parent for p in directory.rglob("*") if p.suffix.lower() in MODEL_SUFFIXES}):
        reference = find_reference(folder)
        if reference is None:
            continue
        for model in sorted(folder.iterdir()):
            if model.suffix.lower() in MODEL_SUFFIXES:
                pairs.append((model, reference))
    return pairs


def verify_suite(directory: str | Path, progress: bool = False, pattern: str | None = None) -> SuiteReport:
    """Run every model with a reference output below ``directory``."""
    from ..errors import UnsupportedConstructError

    pairs = suite_models(directory)
    if pattern:
        pairs = [p for p in pairs if re.search(pattern, str(p[0]))]
    if progress:
        from tqdm.auto import tqdm

        pairs = tqdm(pairs, unit="model")
    rows = []
    root = Path(directory)
    for model, reference in pairs:
        name = str(model.relative_to(root))
        try:
            with warnings.catch_warnings():  # NaN in a model's own results is part of what is compared
                warnings.simplefilter("ignore")
                result = compare_with_reference(model, reference)
            worst = result.table.iloc[0] if len(result.table) else None
            if result.passed:
                rows.append((name, "PASS", ""))
            else:
                detail = f"missing {result.missing[:3]}" if result.missing else (
                    f"{worst.variable}: rel {worst.max_rel_error:.3g}" if worst is not None else "no common times")
                rows.append((name, "FAIL", detail))
        except UnsupportedConstructError as exc:
            rows.append((name, "UNSUPPORTED", str(exc).split(": ", 1)[-1][:120]))
        except FlywheelError as exc:
            rows.append((name, "ERROR", str(exc)[:160]))
    return SuiteReport(pd.DataFrame(rows, columns=["model", "status", "detail"]))
