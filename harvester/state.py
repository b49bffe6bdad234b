"""The harvester's own files in a source's folder, beside the documented ones.

``core.harvest_files`` owns the files other layers read (state, history, accepted
statements, report, findings). The harvester also keeps, for itself only:
``validation-cache.json`` (findings by record content, so that unchanged records are
not validated again), ``pending`` (set while the store is being changed: an
interrupted load is repaired from ``accepted.nt``) and, while a new version is being
written, ``*.staged`` files: a worker process writes them (``stage``), the writer
renames them into place (``unstage``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from core.datafolder import write_atomically
from core.harvest_files import SourceFiles


class HarvestFiles(SourceFiles):
    """A source's files as the harvester writes them, private ones included."""

    CACHE = "validation-cache.json"
    PENDING = "pending"
    # The files a load replaces, written ahead by the worker that prepared them.
    STAGED = (SourceFiles.ACCEPTED, SourceFiles.REPORT, SourceFiles.FINDINGS, CACHE)

    @property
    def accepted_path(self):
        return self.path(self.ACCEPTED)

    def load_cache(self) -> dict[str, Any]:
        try:
            return json.loads(self.path(self.CACHE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def stage(self, accepted: bytes, report: bytes, findings: bytes, cache: dict) -> None:
        """Write a new version's files beside the current ones (``*.staged``): the costly
        writes happen in the worker, the writer only renames them (:meth:`unstage`)."""
        encoded = json.dumps(cache, ensure_ascii=False).encode()
        for name, data in zip(self.STAGED, (accepted, report, findings, encoded), strict=True):
            write_atomically(self.path(f"{name}.staged"), data)

    def unstage(self) -> None:
        """Put the staged files in place (each rename is atomic)."""
        for name in self.STAGED:
            os.replace(self.path(f"{name}.staged"), self.path(name))

    def mark_pending(self) -> None:
        write_atomically(self.path(self.PENDING), b"store being changed\n")

    def clear_pending(self) -> None:
        self.path(self.PENDING).unlink(missing_ok=True)

    @property
    def is_pending(self) -> bool:
        return self.path(self.PENDING).exists()
