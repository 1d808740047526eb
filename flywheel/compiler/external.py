"""External data (GET XLS/DIRECT DATA, LOOKUPS, CONSTANTS, SUBSCRIPT): read once, when compiling.

Files are read with PySD's own readers (pandas and openpyxl underneath), so missing values, cell
names, ``*`` transposition and row/column series mean what they mean in PySD. A file name is resolved
relative to the model file, and a file outside the model's folder is refused unless the caller
allows its folder (``load_model(path, data_paths=[...])``): a model from someone else cannot make
flywheel read arbitrary files. Every file read is recorded with a hash of its content, so that a
cached compiled model is rebuilt when its data changes.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import ModelError, UnsupportedConstructError


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def allowed_roots(model_path: Path, data_paths) -> list[Path]:
    roots = [model_path.resolve().parent]
    for extra in data_paths or ():
        roots.append(Path(extra).expanduser().resolve())
    return roots


def check_allowed(path: Path, roots: list[Path], where: str, variable: str, what: str = "variable") -> None:
    """A data file must lie inside the model's folder or a folder the caller allows."""
    if not any(path == root or root in path.parents for root in roots):
        who = f"{what} '{variable}'" if not variable.startswith("reading ") else "the model"
        raise ModelError(
            f"{where}: {who} reads '{path}', outside the model's folder; allow it with "
            "load_model(path, data_paths=[folder])"
        )


class ExternalData:
    """The data files of one model: where they may be, what was read, and the readers."""

    def __init__(self, model_path: Path, data_paths=None):
        self.model_path = model_path
        self.where = model_path.name
        self.root = model_path.resolve().parent
        self.roots = allowed_roots(model_path, data_paths)
        self.files: dict[str, str] = {}  # path relative to the model's folder -> sha256 of its content

    def resolve(self, name: str, variable: str, what: str = "variable") -> Path:
        name = str(name).strip()
        if name.startswith("?"):
            raise UnsupportedConstructError(
                f"{self.where}: {what} '{variable}' reads data through an indirect file reference ({name}), "
                "which flywheel does not support yet (name the file itself)"
            )
        path = (self.root / name).resolve()
        check_allowed(path, self.roots, self.where, variable, what)
        if not path.is_file():
            raise ModelError(f"{self.where}: {what} '{variable}' reads '{name}', which does not exist ({path})")
        relative = os.path.relpath(path, self.root)
        if relative not in self.files:
            self.files[relative] = file_digest(path)
        return path

    def _read(self, reader, variable: str, file: str):
        from pysd.py_backend.external import Excels

        Excels.clean()  # PySD caches workbooks by name for the life of the process: read the file as it is now
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reader.initialize()
        except (ModelError, UnsupportedConstructError):
            raise
        except Exception as exc:  # PySD's readers raise many kinds; all mean "this data cannot be read"
            lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
            detail = " ".join(lines[1:3] if len(lines) > 1 else lines)[:200] or type(exc).__name__
            raise ModelError(f"{self.where}: variable '{variable}': cannot read its data from '{file}' ({detail})") from None
        finally:
            Excels.clean()
        return reader.data

    def constants(self, ast, coords: dict, variable: str) -> np.ndarray:
        """GET CONSTANTS: the values over ``coords`` (ordered {range: elements}), in that order."""
        from pysd.py_backend.external import ExtConstant

        self.resolve(ast.file, variable)
        reader = ExtConstant(ast.file, ast.tab, ast.cell, dict(coords), self.root, dict(coords), variable)
        data = self._read(reader, variable, ast.file)
        return np.asarray(getattr(data, "values", data), dtype=float).reshape([len(c) for c in coords.values()])

    def lookups(self, ast, coords: dict, variable: str) -> tuple[np.ndarray, np.ndarray]:
        """GET LOOKUPS: x values, and y values (points, *shape of coords)."""
        from pysd.py_backend.external import ExtLookup

        self.resolve(ast.file, variable)
        reader = ExtLookup(ast.file, ast.tab, ast.x_row_or_col, ast.cell, dict(coords), self.root, dict(coords), variable)
        data = self._read(reader, variable, ast.file)
        data = data.transpose("lookup_dim", *coords) if coords else data
        return np.asarray(data.coords["lookup_dim"].values, dtype=float), np.asarray(data.values, dtype=float)

    def data(self, ast, keyword: str | None, coords: dict, variable: str) -> tuple[np.ndarray, np.ndarray]:
        """GET DATA: times, and values (times, *shape of coords)."""
        from pysd.py_backend.external import ExtData

        self.resolve(ast.file, variable)
        reader = ExtData(ast.file, ast.tab, ast.time_row_or_col, ast.cell, keyword, dict(coords), self.root,
                         dict(coords), variable)  # fmt: skip
        data = self._read(reader, variable, ast.file)
        data = data.transpose("time", *coords) if coords else data
        return np.asarray(data.coords["time"].values, dtype=float), np.asarray(data.values, dtype=float)
