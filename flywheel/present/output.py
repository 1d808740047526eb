"""Safe writing of results: never half-written files, never a silent overwrite.

Every file is first written in full to a hidden temporary file in the target folder and then
renamed into place, so a crash, a full disk or Ctrl-C leaves either the old file or the new one,
never a truncated one. Without ``force`` an existing file is never replaced: the final step is a
hard link, which fails atomically when the name is already taken, so even a file created by
somebody else between our check and our write is not clobbered.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from flywheel.errors import OutputError

__all__ = [
    "OutputError",
    "check_can_write",
    "write_bytes",
    "write_files",
    "write_text",
]


def check_can_write(paths: Iterable[str | os.PathLike[str]], force: bool = False) -> None:
    """Fail early, before any expensive work, if a result would overwrite a file or cannot be placed.

    Raises ``OutputError`` naming the first existing file (unless ``force``), or a target whose
    folder is an existing regular file.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            raise OutputError(f"{path} is a directory; cannot write a result file there")
        if path.exists() and not force:
            raise OutputError(f"{path} already exists; use --force to overwrite")
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise OutputError(f"{parent} exists and is not a directory")
                break


def write_files(files: Mapping[str | os.PathLike[str], bytes], force: bool = False) -> list[Path]:
    """Write several files as one unit: all of them, or (as far as the OS allows) none.

    All contents are staged as temporary files first (the step that can fail on a full disk or a
    permission problem); only then are they moved into place. If a move fails, the files this
    call already put in place are removed again. Returns the written paths in the given order.
    """
    targets = [(Path(p), data) for p, data in files.items()]
    check_can_write([p for p, _ in targets], force=force)
    staged: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    created: list[Path] = []  # folders this call made, removed again on failure
    try:
        for path, data in targets:
            _make_folder(path.parent, created)
            staged.append((_stage(path, data), path))
        for tmp, path in staged:
            _place(tmp, path, force)
            placed.append(path)
    except BaseException:
        # Includes KeyboardInterrupt: take back what we did, then re-raise.
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if not force:  # with force an old file may have been replaced; there is nothing to restore
            for path in placed:
                with contextlib.suppress(OSError):
                    path.unlink()
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds if empty: never removes anything of the user's
        raise
    return [p for p, _ in targets]


def write_bytes(path: str | os.PathLike[str], data: bytes, force: bool = False) -> Path:
    """Write one file atomically (see ``write_files``)."""
    return write_files({path: data}, force=force)[0]


def write_text(path: str | os.PathLike[str], text: str, force: bool = False) -> Path:
    """Write one UTF-8 text file atomically (see ``write_files``)."""
    return write_bytes(path, text.encode("utf-8"), force=force)


def _make_folder(folder: Path, created: list[Path]) -> None:
    """mkdir -p, remembering which folders were new (outermost first)."""
    missing = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        try:
            parent.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot create folder {parent}: {exc.strerror or exc}") from exc
        created.append(parent)
    if not folder.is_dir():
        raise OutputError(f"{folder} exists and is not a directory")


def _stage(path: Path, data: bytes) -> Path:
    """Write ``data`` to a hidden temporary file next to ``path`` (same file system, so rename is atomic)."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
    return tmp


def _place(tmp: Path, path: Path, force: bool) -> None:
    """Move a staged file into place; without ``force`` refuse (atomically) if the name is taken."""
    try:
        if force:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)  # fails with FileExistsError if path exists, with no race window
        except FileExistsError:
            raise OutputError(f"{path} already exists; use --force to overwrite") from None
        except OSError:
            # File systems without hard links: fall back to check + rename (a tiny race window).
            if path.exists():
                raise OutputError(f"{path} already exists; use --force to overwrite") from None
            os.replace(tmp, path)
            return
        tmp.unlink()
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _umask() -> int:
    """The process umask (mkstemp creates files 0600; results should get the usual permissions)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
