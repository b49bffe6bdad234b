"""What the harvester remembers of each source between runs, in the data folder.

``sources/<id>/`` holds: ``state.json`` (HTTP validators, content hash, last outcome),
``accepted.nt`` (the accepted statements last loaded: the truth the store is repaired
from), ``report.nt`` (the validation report loaded with them), ``validation-cache.json``
(findings by record content), ``history.jsonl`` (one line per harvest) and, only while
the store is being changed, ``pending``. Every file is replaced atomically (write,
fsync, rename). A worker process writes the files of a new version beside them
(``*.staged``, see :meth:`SourceFiles.stage`); the writer puts them in place.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any


@dataclass
class SourceState:
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    inputs: str | None = None  # digest of what else shapes the result (shapes, mapping…)
    status: str | None = None  # loaded, unchanged, failed, held
    message: str | None = None
    last_attempt: str | None = None
    last_success: str | None = None
    last_loaded: str | None = None
    accepted: int = 0
    rejected: int = 0
    warned: int = 0
    failures: int = 0  # consecutive failed or held harvests


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class SourceFiles:
    def __init__(self, data_dir: Path, source: str):
        self.folder = Path(data_dir) / "sources" / source

    @property
    def accepted_path(self) -> Path:
        return self.folder / "accepted.nt"

    @property
    def pending_path(self) -> Path:
        return self.folder / "pending"

    def load_state(self) -> SourceState:
        try:
            data = json.loads((self.folder / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return SourceState()
        known = {f.name for f in fields(SourceState)}
        return SourceState(**{k: v for k, v in data.items() if k in known})

    def save_state(self, state: SourceState) -> None:
        write_atomically(self.folder / "state.json", json.dumps(asdict(state), indent=1).encode())

    def accepted(self) -> bytes:
        try:
            return self.accepted_path.read_bytes()
        except OSError:
            return b""

    def save_accepted(self, ntriples: bytes) -> None:
        write_atomically(self.accepted_path, ntriples)

    def report(self) -> bytes:
        try:
            return (self.folder / "report.nt").read_bytes()
        except OSError:
            return b""

    def load_cache(self) -> dict[str, Any]:
        try:
            return json.loads((self.folder / "validation-cache.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    # The three files a load replaces, written ahead by the worker that prepared them.
    STAGED = ("accepted.nt", "report.nt", "validation-cache.json")

    def stage(self, accepted: bytes, report: bytes, cache: dict[str, Any]) -> None:
        """Write a new version's files beside the current ones (``*.staged``): the costly
        writes happen in the worker, the writer only renames them (:meth:`unstage`)."""
        encoded = json.dumps(cache, ensure_ascii=False).encode()
        for name, data in zip(self.STAGED, (accepted, report, encoded), strict=True):
            write_atomically(self.folder / f"{name}.staged", data)

    def unstage(self) -> None:
        """Put the staged files in place (each rename is atomic)."""
        for name in self.STAGED:
            os.replace(self.folder / f"{name}.staged", self.folder / name)

    def append_history(self, entry: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "history.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def history(self, last: int = 20) -> list[dict[str, Any]]:
        try:
            lines = (self.folder / "history.jsonl").read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return [json.loads(line) for line in lines[-last:] if line.strip()]

    def mark_pending(self) -> None:
        write_atomically(self.pending_path, b"store being changed\n")

    def clear_pending(self) -> None:
        self.pending_path.unlink(missing_ok=True)

    @property
    def is_pending(self) -> bool:
        return self.pending_path.exists()

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def known_sources(data_dir: Path) -> list[str]:
    """Sources the harvester has state for (including ones since removed from the catalog)."""
    folder = Path(data_dir) / "sources"
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.exists() else []
