"""On-disk cache of compiled models, keyed by the model file's content and the compiler's own code.

An entry is a folder ``<key>/`` holding ``meta.json``, the LLVM IR of the model's two modules
(``base.ll``, and ``lockstep.ll`` for ensembles in vectors of members) and their object files, one per kind
of CPU (``<host>.base.o``, ``<host>.lockstep.o``). A cached model loads without PySD and without LLVM's optimiser. Nothing here
is process-global: the key is computed from the file's bytes on every load, so a changed file is a new
key and is recompiled.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

_COMPILER_DIR = Path(__file__).resolve().parent


def cache_roots() -> list[Path]:
    """Where entries may live, in order: ``$FLYWHEEL_CACHE_DIR``, else ``~/.cache/flywheel``, then a
    folder in the system's temporary folder (used when the first cannot be written)."""
    env = os.environ.get("FLYWHEEL_CACHE_DIR")
    if env:
        first = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        first = Path(base) / "flywheel"
    return [first, Path(tempfile.gettempdir()) / f"flywheel-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"]


@functools.cache
def compiler_fingerprint() -> str:
    """A hash of the compiler's source files and the tools it depends on (fixed for a process's life)."""
    import llvmlite

    digest = hashlib.sha256()
    for source in sorted(_COMPILER_DIR.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    digest.update(llvmlite.__version__.encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def model_key(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(compiler_fingerprint().encode())
    digest.update(path.suffix.lower().encode())
    return digest.hexdigest()[:24]


def object_name(host: str, part: str) -> str:
    return hashlib.sha256(host.encode()).hexdigest()[:16] + f".{part}.o"


def _folders(key: str) -> list[Path]:
    return [root / key for root in cache_roots()]


def read_meta(key: str) -> dict | None:
    for folder in _folders(key):
        try:
            return json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            continue
    return None


def read_text(key: str, name: str) -> str | None:
    for folder in _folders(key):
        try:
            return (folder / name).read_text()
        except OSError:
            continue
    return None


def read_object(key: str, host: str, part: str) -> bytes | None:
    for folder in _folders(key):
        try:
            return (folder / object_name(host, part)).read_bytes()
        except OSError:
            continue
    return None


def remove(key: str) -> None:
    """Forget an entry (its data files changed: every object file in it is stale)."""
    import shutil

    for folder in _folders(key):
        shutil.rmtree(folder, ignore_errors=True)


def write(key: str, files: dict[str, bytes]) -> None:
    """Store files of an entry (``meta.json``, IR, object files). Each is written to a temporary file
    and renamed, so a crash never leaves half a file; a cache that cannot be written is skipped (the
    model still runs, it is just compiled again next time)."""
    for folder in _folders(key):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in files.items():
                fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, folder / name)
            return
        except OSError:
            continue
