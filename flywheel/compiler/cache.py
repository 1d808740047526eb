"""On-disk cache of compiled models, keyed by the model file's content and the compiler's own code.

An entry is a folder ``<key>/`` holding ``meta.json``, ``model.ll`` (the LLVM IR) and one object file per
kind of CPU (``<host>.o``). A cached model loads without PySD and without LLVM's optimiser. Nothing here
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
from dataclasses import dataclass
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


def host_file_name(host: str) -> str:
    return hashlib.sha256(host.encode()).hexdigest()[:16] + ".o"


@dataclass(frozen=True)
class Entry:
    """A cache entry's contents: what a compiled model needs to run, and to be rebuilt elsewhere."""

    key: str
    meta: dict
    ir_text: str | None  # read lazily: only needed when no object file fits this CPU
    object_code: bytes | None


def read(key: str, host: str) -> Entry | None:
    for root in cache_roots():
        folder = root / key
        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            continue
        try:
            meta = json.loads(meta_path.read_text())
            object_path = folder / host_file_name(host)
            if object_path.is_file():
                return Entry(key, meta, None, object_path.read_bytes())
            ir_path = folder / "model.ll"
            if ir_path.is_file():
                return Entry(key, meta, ir_path.read_text(), None)
        except (OSError, ValueError):
            continue
    return None


def read_ir(key: str) -> str | None:
    for root in cache_roots():
        try:
            return (root / key / "model.ll").read_text()
        except OSError:
            continue
    return None


def write(key: str, host: str, meta: dict, ir_text: str | None, object_code: bytes | None) -> None:
    """Store an entry (or add this CPU's object file to it). Each file is written to a temporary file and
    renamed, so a crash never leaves half an entry; a cache that cannot be written is skipped silently
    (the model still runs, it is just compiled again next time)."""
    files: dict[str, bytes] = {"meta.json": json.dumps(meta).encode()}
    if ir_text is not None:
        files["model.ll"] = ir_text.encode()
    if object_code is not None:
        files[host_file_name(host)] = object_code
    for root in cache_roots():
        folder = root / key
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
