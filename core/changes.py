"""The change feed's files in the data folder (``changes/``): which records each published
generation added, changed or removed, per source, kept ``changes_keep_days`` days.

Written by the one process that publishes (``ltc.changes``, after each publication),
read by the web tier (``/api/changes``). ``docs/suivre-les-changements.md`` describes
the feed; the files are:

- ``index.json``: the generations recorded, oldest first, each with its publication
  time and counts, and the ``base``: the generation the feed starts from (changes since
  an older one are no longer known: take the dump);
- ``<generation>.jsonl.gz``: that generation's changes, one JSON object a line
  (``Change``), absent when it changed nothing;
- ``records/<key>.json``: each graph's records as last recorded (IRI → kind, digest),
  what the next generation is compared with.

Every file is replaced atomically; a generation's file is written before the index names
it, and the records' state after, so a crash in between repeats changes at worst —
which a reuser applies twice without harm: an added or changed entry replaces the
record, a removal removes it.
"""

from __future__ import annotations

import functools
import gzip
import json
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.datafolder import DataFolder, write_atomically
from core.store.base import generation_number

FORMAT = "ltc-changes/1"
OPERATIONS = ("added", "changed", "removed")


@dataclass(frozen=True)
class Change:
    """One record added, changed or removed in a generation."""

    op: str  # added, changed, removed
    iri: str
    kind: str  # place, organisation, presence, event, place-cluster… (core.records)
    source: str | None  # the source's id; None for the registry's derived graph
    graph: str  # the named graph that holds the record
    statements: str = ""  # N-Triples of the record and the nodes it owns; "" for removals


@dataclass
class GenerationEntry:
    generation: str
    published: str  # ISO 8601, UTC
    added: int = 0
    changed: int = 0
    removed: int = 0


@dataclass
class ChangeIndex:
    base: str = ""
    base_published: str = ""
    generations: list[GenerationEntry] = field(default_factory=list)


@dataclass
class GraphState:
    """A graph's records as last recorded, and the fingerprint of what they came from."""

    graph: str
    source: str | None
    fingerprint: str
    records: dict[str, list[str]]  # IRI → [kind, digest]


def iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 moment (``Z`` or an offset; no offset: UTC), None when it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ChangeLog:
    """The ``changes/`` folder of a data folder."""

    def __init__(self, data: DataFolder | Path | str) -> None:
        folder = data if isinstance(data, DataFolder) else DataFolder(data)
        self.folder = folder.changes
        self.index_file = self.folder / "index.json"
        self.records_folder = self.folder / "records"

    # -- reading ------------------------------------------------------------------------

    def index(self) -> ChangeIndex | None:
        """The index, None before the first recording (or when it is unreadable)."""
        try:
            document = json.loads(self.index_file.read_text(encoding="utf-8"))
            return ChangeIndex(
                document["base"],
                document["base_published"],
                [GenerationEntry(**entry) for entry in document["generations"]],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def changes(self, generation: str) -> list[Change]:
        """The changes of one generation (none when it changed nothing)."""
        path = self.generation_file(generation)
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return []
        return _read_changes(str(path), stamp)

    def generation_file(self, generation: str) -> Path:
        return self.folder / f"{generation}.jsonl.gz"

    def graph_state(self, key: str) -> GraphState | None:
        try:
            document = json.loads((self.records_folder / f"{key}.json").read_bytes())
            return GraphState(**document)
        except (OSError, ValueError, TypeError):
            return None

    def graph_keys(self) -> list[str]:
        if not self.records_folder.is_dir():
            return []
        return sorted(path.stem for path in self.records_folder.glob("*.json"))

    # -- writing (the publishing process only) ------------------------------------------------

    def start(self, generation: str, published: str) -> None:
        """A feed that starts at ``generation``: nothing before it is known."""
        self._write_index(ChangeIndex(generation, published, []))

    def record(self, generation: str, published: str, changes: list[Change]) -> None:
        """Add a generation's changes (its file, then the index)."""
        index = self.index() or ChangeIndex(generation, published, [])
        if changes:
            lines = b"".join(
                json.dumps(asdict(change), ensure_ascii=False).encode("utf-8") + b"\n"
                for change in changes
            )
            write_atomically(self.generation_file(generation), gzip.compress(lines, 6, mtime=0))
        counts = {op: sum(1 for c in changes if c.op == op) for op in OPERATIONS}
        index.generations = [g for g in index.generations if g.generation != generation]
        index.generations.append(GenerationEntry(generation, published, **counts))
        self._write_index(index)

    def save_graph_state(self, key: str, state: GraphState) -> None:
        data = json.dumps(asdict(state), ensure_ascii=False, separators=(",", ":"))
        write_atomically(self.records_folder / f"{key}.json", data.encode("utf-8"))

    def forget_graph(self, key: str) -> None:
        (self.records_folder / f"{key}.json").unlink(missing_ok=True)

    def prune(self, keep_days: float, now: datetime | None = None) -> None:
        """Forget generations published more than ``keep_days`` ago; the newest of them
        becomes the base (an older ``since`` is answered 410)."""
        index = self.index()
        if index is None:
            return
        limit = (now or datetime.now(UTC)) - timedelta(days=keep_days)
        kept, dropped = [], []
        for entry in index.generations:
            moment = parse_moment(entry.published)
            (dropped if moment is not None and moment < limit else kept).append(entry)
        if not dropped:
            return
        index.base, index.base_published = dropped[-1].generation, dropped[-1].published
        index.generations = kept
        self._write_index(index)
        for entry in dropped:
            self.generation_file(entry.generation).unlink(missing_ok=True)

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _write_index(self, index: ChangeIndex) -> None:
        document: dict[str, Any] = {"format": FORMAT, **asdict(index)}
        write_atomically(
            self.index_file, json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
        )


@functools.lru_cache(maxsize=16)
def _read_changes(path: str, stamp: int) -> list[Change]:
    """A generation's file, decoded once per process (files never change once named)."""
    del stamp  # part of the cache key only
    try:
        data = gzip.decompress(Path(path).read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile):
        return []
    return [Change(**json.loads(line)) for line in data.splitlines() if line.strip()]


def newer(generations: Iterable[GenerationEntry], since: str, upto: str) -> list[GenerationEntry]:
    """The generations after ``since`` up to ``upto`` (included), oldest first."""
    low, high = generation_number(since), generation_number(upto)
    return [g for g in generations if low < generation_number(g.generation) <= high]
