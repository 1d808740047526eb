"""On-disk cache of compiled models, keyed by the model file's content and the compiler's own code.

A cached model loads without importing PySD or re-parsing; numba's own cache (``cache=True``) keeps the
machine code next to the generated module, so a second load skips LLVM as well.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

_COMPILER_DIR = Path(__file__).resolve().parent


def cache_root() -> Path:
    """``$FLYWHEEL_CACHE_DIR``, else ``~/.cache/flywheel``."""
    env = os.environ.get("FLYWHEEL_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flywheel"


def _compiler_fingerprint() -> str:
    import numba

    digest = hashlib.sha256()
    for source in sorted(_COMPILER_DIR.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    digest.update(numba.__version__.encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def model_key(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(_compiler_fingerprint().encode())
    digest.update(path.suffix.lower().encode())
    return digest.hexdigest()[:24]


def _paths(key: str) -> tuple[Path, Path]:
    folder = cache_root() / key
    return folder / f"flywheel_model_{key}.py", folder / "meta.json"


def load_cached(key: str) -> tuple[ModuleType, dict] | None:
    source, meta = _paths(key)
    if not (source.is_file() and meta.is_file()):
        return None
    try:
        return import_module(source, key), json.loads(meta.read_text())
    except (OSError, ValueError, SyntaxError):
        return None


def store(key: str, source_text: str, meta: dict) -> tuple[ModuleType, dict]:
    """Write atomically (temp file + rename) so that a crash never leaves half a cache entry.

    An unwritable cache folder falls back to one in the system's temporary folder."""
    source, meta_path = _paths(key)
    try:
        source.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        os.environ["FLYWHEEL_CACHE_DIR"] = str(Path(tempfile.gettempdir()) / "flywheel-cache")
        source, meta_path = _paths(key)
        source.parent.mkdir(parents=True, exist_ok=True)
    for target, text in ((source, source_text), (meta_path, json.dumps(meta))):
        fd, tmp = tempfile.mkstemp(dir=source.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, target)
    return import_module(source, key), meta


def import_module(source: Path, key: str) -> ModuleType:
    name = f"flywheel_model_{key}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, source)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
