"""Caches convergence keeps in the data folder between harvests (pickles it wrote itself).

A cache only saves time: one that is missing, truncated or from another version reads
as None, and the caller computes again.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from core.datafolder import write_atomically


def load(path: Path) -> Any:
    """What an earlier run saved at ``path``, or None if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception:
        return None


def save(path: Path, value: Any) -> None:
    write_atomically(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
