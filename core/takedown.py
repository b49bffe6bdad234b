"""The operator's takedown list: records suppressed even while their feed publishes them.

A tab-separated file in the data folder: IRI, reason, date. The harvest leaves these
records out; ``ltc takedown add`` also removes them from the store at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.datafolder import DataFolder, write_atomically


@dataclass(frozen=True)
class Takedown:
    iri: str
    reason: str
    date: str


def _path(data_dir: Path) -> Path:
    return DataFolder(data_dir).takedown_list


def load(data_dir: Path) -> dict[str, Takedown]:
    try:
        lines = _path(data_dir).read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    entries = {}
    for line in lines:
        if line.strip() and not line.startswith("#"):
            iri, _, rest = line.partition("\t")
            reason, _, date = rest.partition("\t")
            entries[iri] = Takedown(iri, reason, date)
    return entries


def save(data_dir: Path, entries: dict[str, Takedown]) -> None:
    text = "# IRI\treason\tdate\n" + "".join(
        f"{e.iri}\t{e.reason}\t{e.date}\n" for e in sorted(entries.values(), key=lambda e: e.iri)
    )
    write_atomically(_path(data_dir), text.encode("utf-8"))


def add(data_dir: Path, iri: str, reason: str) -> None:
    if not iri.startswith(("http://", "https://")) or any(c in iri for c in ' <>"{}|\\^`\t\n'):
        raise ValueError(f"not an http(s) IRI: {iri!r}")
    entries = load(data_dir)
    reason = " ".join(reason.split())
    entries[iri] = Takedown(iri, reason, datetime.now(UTC).date().isoformat())
    save(data_dir, entries)


def remove(data_dir: Path, iri: str) -> bool:
    entries = load(data_dir)
    found = entries.pop(iri, None) is not None
    if found:
        save(data_dir, entries)
    return found


def digest(data_dir: Path) -> str:
    return hashlib.sha256("\n".join(sorted(load(data_dir))).encode()).hexdigest()[:16]
