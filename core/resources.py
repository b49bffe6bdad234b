"""Find the contract files (ontology, shapes, queries, examples) wherever ltc is installed.

They are shipped inside the wheel as ``core.ontology``, ``core.shapes``… and live at the
top of the repository in a checkout; both layouts are looked up the same way.
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

_FOLDERS = ("ontology", "shapes", "sparql", "examples")


def folder(name: str) -> Traversable:
    """The shipped folder ``name`` (one of ontology, shapes, sparql, examples)."""
    if name not in _FOLDERS:
        raise ValueError(f"unknown resource folder: {name}")
    try:
        found = importlib.resources.files(f"core.{name}")
        if found.is_dir():
            return found
    except (ModuleNotFoundError, TypeError):
        pass
    # Running from a checkout without installation: the folder is beside core/.
    return Path(__file__).resolve().parents[1] / name


def read_bytes(folder_name: str, path: str) -> bytes:
    """The bytes of ``path`` inside a shipped folder; ``path`` may contain slashes."""
    node = folder(folder_name)
    for part in path.split("/"):
        node = node / part
    return node.read_bytes()


def read_text(folder_name: str, path: str) -> str:
    return read_bytes(folder_name, path).decode("utf-8")


def sparql_query(name: str) -> str:
    """The text of ``sparql/NAME.rq``: every query the code runs lives there."""
    return read_text("sparql", f"{name}.rq")
