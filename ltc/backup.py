"""Back the registry up and restore it into an empty data folder.

A backup folder holds ``sauvegarde.json`` (what it is), the sources' folders, the takedown
list, the disabled sources and the ping secrets (hashed) laid out as in a data folder
(``core.datafolder``), and the store in one of two forms:

- ``snapshot/``: a copy of the embedded store's published snapshot (a RocksDB checkpoint,
  immutable, so copying it while the web tier reads it is safe). The backup holds the
  single-writer lock meanwhile, so no harvest changes the state files under it: the
  files and the snapshot describe the same generation.
- ``registre.nq.gz``: every named graph as gzipped N-Quads, for the remote store (or with
  ``nquads=True``): portable between backends.

``restore`` refuses a data folder that holds anything (and a remote store that holds
any graph), copies the files back, rebuilds the store and publishes it, so ``ltc serve``
serves it at once.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from core import __version__
from core.config import Settings
from core.datafolder import DataFolder
from core.migration import upgrade
from core.store import Store, StoreError, open_store

MANIFEST = "sauvegarde.json"
FORMAT = "ltc-backup/1"
SNAPSHOT = "snapshot"
NQUADS = "registre.nq.gz"

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot be done; the message (French) says why."""


def _quiet(_message: str) -> None:
    pass


def _require_empty(folder: Path, what: str) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{what} {folder} n'est pas vide : choisissez un dossier vide ou nouveau")


def backup(
    settings: Settings, dest: Path, *, nquads: bool = False, progress: Progress = _quiet
) -> dict:
    """Back the registry's published generation and its files up into ``dest`` (which
    must be empty or new); returns the manifest."""
    dest = Path(dest)
    _require_empty(dest, "le dossier de sauvegarde")
    data_dir = Path(settings.data_dir)
    embedded = settings.store_backend == "embedded"
    if embedded and not DataFolder(data_dir).read_current():
        raise BackupError(f"rien à sauvegarder : aucune génération publiée dans {data_dir}")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with _writer_lock(settings) as _held:
            manifest = _backup_locked(settings, dest, embedded and not nquads, progress)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return manifest


@contextlib.contextmanager
def _writer_lock(settings: Settings) -> Iterator[Store | None]:
    """The embedded store's single-writer lock (no harvest may run during the copy); the
    remote store has no lock the backup could take."""
    if settings.store_backend != "embedded":
        yield None
        return
    try:
        store = open_store(settings, writer=True)
    except StoreError as error:
        raise BackupError(f"sauvegarde impossible maintenant : {error}") from error
    with store:
        yield store


def _backup_locked(settings: Settings, dest: Path, snapshot: bool, progress: Progress) -> dict:
    data_dir = Path(settings.data_dir)
    with open_store(settings, writer=False) as reader:
        generation = reader.generation()
        if snapshot:
            source = DataFolder(data_dir).snapshot(generation)
            progress(f"Copie de l'instantané {generation}…")
            shutil.copytree(source, dest / SNAPSHOT)
            kind = "snapshot"
        else:
            progress(f"Export du registre en N-Quads (génération {generation or 'inconnue'})…")
            with gzip.open(dest / NQUADS, "wb") as out:
                reader.dump_nquads(out)
            kind = "nquads"
    progress("Copie de l'état des sources…")
    sources = _copy_state(data_dir, dest)
    manifest = {
        "format": FORMAT,
        "kind": kind,
        "generation": generation,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ltc_version": __version__,
        "store_backend": settings.store_backend,
        "base_iri": settings.base_iri,
        "sources": sources,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    progress(f"Sauvegarde terminée dans {dest} ({len(sources)} sources).")
    return manifest


def _copy_state(origin: Path, target: Path) -> list[str]:
    """The sources' folders and the operator's lists, from one data folder (or backup)
    to another: both have the data folder's layout for these files."""
    source, destination = DataFolder(origin), DataFolder(target)
    if source.sources.is_dir():
        shutil.copytree(source.sources, destination.sources)
    for name in ("takedown_list", "disabled_sources", "ping_tokens"):
        path = getattr(source, name)
        if path.is_file():
            shutil.copy2(path, getattr(destination, name))
    return source.known_sources()


def read_manifest(src: Path) -> dict:
    """The manifest of a backup folder, checked."""
    try:
        manifest = json.loads((Path(src) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(
            f"{src} n'est pas une sauvegarde du registre ({MANIFEST} illisible)"
        ) from error
    if manifest.get("format") != FORMAT or manifest.get("kind") not in ("snapshot", "nquads"):
        raise BackupError(f"{src} : format de sauvegarde inconnu ({manifest.get('format')!r})")
    return manifest


def restore(settings: Settings, src: Path, *, progress: Progress = _quiet) -> str:
    """Restore the backup ``src`` into the configured (empty) data folder and store;
    returns the generation now published."""
    src = Path(src)
    manifest = read_manifest(src)
    data_dir = Path(settings.data_dir)
    _require_empty(data_dir, "le dossier de données")
    embedded = settings.store_backend == "embedded"
    if embedded and manifest["kind"] == "snapshot":
        generation = _restore_snapshot(src, data_dir, manifest["generation"], progress)
    else:
        generation = _restore_graphs(settings, src, manifest, progress)
    progress("Copie de l'état des sources…")
    _copy_state(src, data_dir)
    upgrade(data_dir, progress)  # a backup made by an earlier release
    progress(f"Restauration terminée : génération {generation} publiée dans {data_dir}.")
    return generation


def _restore_snapshot(src: Path, data_dir: Path, generation: str, progress: Progress) -> str:
    """The embedded fast path: the snapshot becomes both the published snapshot and the
    harvester's live store (a RocksDB checkpoint is a complete store)."""
    progress(f"Copie de l'instantané {generation}…")
    folder = DataFolder(data_dir)
    folder.root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src / SNAPSHOT, folder.snapshot(generation))
    shutil.copytree(src / SNAPSHOT, folder.store)
    folder.write_current(generation)
    return generation


def _restore_graphs(settings: Settings, src: Path, manifest: dict, progress: Progress) -> str:
    """Load every graph of the backup through the store interface, then publish."""
    with open_store(settings, writer=True) as store:
        if store.named_graphs():
            raise BackupError("le magasin RDF contient déjà des graphes : videz-le d'abord")
        count = 0
        for graph, ntriples in _backup_graphs(src, manifest["kind"]):
            progress(f"Chargement du graphe <{graph}>…")
            store.replace_graph(graph, ntriples)
            count += 1
        progress(f"{count} graphes chargés ; publication…")
        return store.publish()


def _backup_graphs(src: Path, kind: str) -> Iterator[tuple[str, bytes]]:
    """(graph IRI, its N-Triples) for every named graph of a backup, one graph in memory
    at a time: the quads are first sorted into one temporary file per graph."""
    if kind == "snapshot":
        snapshot = ox.Store.read_only(str(src / SNAPSHOT))
        for node in snapshot.named_graphs():
            if isinstance(node, ox.NamedNode):
                yield node.value, snapshot.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=node)
        return
    with tempfile.TemporaryDirectory(prefix="ltc-restore-") as scratch:
        files: dict[str, Path] = {}
        handles = {}
        try:
            with gzip.open(src / NQUADS, "rb") as quads:
                for quad in ox.parse(quads, format=ox.RdfFormat.N_QUADS):
                    if not isinstance(quad.graph_name, ox.NamedNode):
                        continue  # the registry keeps nothing in the default graph
                    graph = quad.graph_name.value
                    if graph not in handles:
                        files[graph] = Path(scratch) / f"{len(files)}.nt"
                        handles[graph] = open(files[graph], "w", encoding="utf-8")  # noqa: SIM115
                    handles[graph].write(f"{quad.triple} .\n")
        finally:
            for handle in handles.values():
                handle.close()
        for graph, path in files.items():
            yield graph, path.read_bytes()
