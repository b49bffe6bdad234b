"""The data folder (setting ``data_dir``): every path in it is named here, and nowhere else.

Layout (``docs/dossier-de-donnees.md`` describes each file)::

    ltc-data.json        the layout's version (absent: version 1, migrated on first use)
    CURRENT              the generation readers open (embedded store), replaced atomically
    store/               the embedded store's live RocksDB store (the harvest's writer only)
    store.lock           flock held by the store's one writer
    store.incomplete     graphs a non-transactional write has not finished (crash guard)
    snapshots/<gen>/     read-only checkpoints of the store, one per publication
    harvest.lock         flock held by a scheduled harvest round
    ping-tokens.json     the networks' ping secrets, hashed (``core.ping``)
    pings/               harvest requests sent by pings, one file per source (``core.ping``)
    pings.lock           flock held while the ping files change
    changes/             the change feed, one file per generation (``core.changes``)
    sources/<id>/        what the harvester keeps of each source (``core.harvest_files``)
    takedown.tsv         the operator's takedown list (``core.takedown``)
    disabled-sources.txt sources removed by ``ltc sources remove`` (``core.catalog``)
    derived-inputs.txt   digest of what the derived graph was last computed from
    convergence/         convergence's caches (read again only when their inputs match)
    cache/               the web tier's files built once per generation (the dump)
    cache/directory-<gen>.bin  the web tier's directory of a generation, memory-mapped
    cache/directory.lock flock held while a directory file is built
    logs/harvest.log     the harvest's key=value log lines

Every file another process may read while it changes is written through
``write_atomically``: readers see the old version or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

LAYOUT_FILE = "ltc-data.json"
LAYOUT_VERSION = 2


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write that replaces ``path`` when the block ends without error:
    written under a temporary name, flushed to disk, then renamed over the old one (a
    rename is atomic on POSIX file systems). On error, ``path`` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (see ``replacing``)."""
    with replacing(path) as handle:
        handle.write(data)


def sync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (the folder's entry is flushed too)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class DataFolder:
    """The paths of one data folder; nothing is created until something is written."""

    def __init__(self, root: Path | str) -> None:
        # Absolute once and for all: a relative data_dir must not be resolved later
        # against whatever folder a library (Flask's send_file…) takes as its own.
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"DataFolder({str(self.root)!r})"

    # -- layout version ------------------------------------------------------------------

    @property
    def layout_file(self) -> Path:
        return self.root / LAYOUT_FILE

    # -- the embedded store ---------------------------------------------------------------

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def store_lock(self) -> Path:
        return self.root / "store.lock"

    @property
    def store_incomplete(self) -> Path:
        return self.root / "store.incomplete"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    def snapshot(self, generation: str) -> Path:
        return self.snapshots / generation

    @property
    def current(self) -> Path:
        return self.root / "CURRENT"

    def read_current(self) -> str:
        """The published generation ("" before the first publication)."""
        try:
            return self.current.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""

    def write_current(self, generation: str) -> None:
        """Point readers at ``generation``, durably (the rename is flushed too)."""
        write_atomically(self.current, f"{generation}\n".encode())
        sync_folder(self.root)

    # -- the harvester's and the operator's files ---------------------------------------------

    @property
    def harvest_lock(self) -> Path:
        return self.root / "harvest.lock"

    @property
    def ping_tokens(self) -> Path:
        return self.root / "ping-tokens.json"

    @property
    def pings(self) -> Path:
        return self.root / "pings"

    @property
    def pings_lock(self) -> Path:
        return self.root / "pings.lock"

    @property
    def changes(self) -> Path:
        return self.root / "changes"

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    def source(self, source_id: str) -> Path:
        return self.sources / source_id

    def known_sources(self) -> list[str]:
        """Sources with a folder (including ones since removed from the catalog)."""
        if not self.sources.is_dir():
            return []
        return sorted(path.name for path in self.sources.iterdir() if path.is_dir())

    @property
    def takedown_list(self) -> Path:
        return self.root / "takedown.tsv"

    @property
    def disabled_sources(self) -> Path:
        return self.root / "disabled-sources.txt"

    # -- derived data and caches -------------------------------------------------------------

    @property
    def derived_inputs(self) -> Path:
        return self.root / "derived-inputs.txt"

    @property
    def convergence_cache(self) -> Path:
        return self.root / "convergence"

    @property
    def web_cache(self) -> Path:
        return self.root / "cache"

    def directory_file(self, name: str) -> Path:
        """The web tier's directory of one generation (``registry.directory_file``);
        ``name`` is the generation made safe as a file name."""
        return self.web_cache / f"directory-{name}.bin"

    def directory_files(self) -> list[Path]:
        """Every generation's directory file present."""
        if not self.web_cache.is_dir():
            return []
        return sorted(self.web_cache.glob("directory-*.bin"))

    @property
    def directory_lock(self) -> Path:
        return self.web_cache / "directory.lock"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def harvest_log(self) -> Path:
        return self.logs / "harvest.log"
