"""Identifier sanitising and name resolution.

Generated code never contains text from the model file: every model name becomes ``v<N>_<ascii>``
where ``<ascii>`` keeps only ``[a-z0-9_]``, so a name such as ``"__import__('os')"`` or ``class`` is inert.
"""

from __future__ import annotations

import re
import unicodedata


def clean_reference(name: str) -> str:
    """The form PySD's translators give references: lower case, spaces as underscores."""
    return name.lower().replace(" ", "_")


def loose_reference(name: str) -> str:
    """A whitespace- and underscore-insensitive form, to match references when the exact form differs."""
    return re.sub(r"[\s_]+", "_", name.strip().lower().strip('"')).strip("_")


def make_key(index: int, name: str, prefix: str = "v") -> str:
    """A safe, readable identifier for generated code, unique by its index."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:40]
    key = f"{prefix}{index}_{stem}" if stem else f"{prefix}{index}"
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):  # defence in depth: never let odd text through
        raise ValueError(f"internal error: unsafe identifier {key!r}")
    return key
