"""The default backend: an on-disk pyoxigraph store in the data folder.

Its files in the data folder (``core.datafolder`` names them): ``store/``, the writer's
live RocksDB store (only the harvester opens it); ``store.lock``, the flock held by the
one writer; ``snapshots/<gen>/``, read-only checkpoints, one per publish (hard links:
~1 ms); ``CURRENT``, the generation readers should open, replaced atomically;
``store.incomplete``, graphs a non-transactional write has not finished (crash guard).

Opening a RocksDB store read-only while another process writes it is undefined
behaviour, so readers never open ``store/``: they open the immutable snapshot named
by ``CURRENT`` and switch to a newer one with ``refresh()``. A reader therefore sees
whole generations only, however the writer changed graphs in between.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from typing import BinaryIO

import pyoxigraph as ox

from core.config import Settings
from core.datafolder import DataFolder, write_atomically
from core.store.base import (
    RESERVED_GRAPHS,
    Store,
    StoreError,
    Term,
    canonical_lines,
    checked_bindings,
    delta_update,
    generation_number,
    graph_node,
    next_generation,
    nquads_of_graph,
)

# Measured on the 2-core reference machine with a 300 000-triple graph on disk, in
# triples per second: bulk_load ~70-110 000; INSERT DATA in update() ~15 000; DELETE
# DATA in update() ~33 000; clear_graph ~19 000 (slower than DELETE DATA); reading a
# graph back (dump) ~78 000. Hence: removals always go through DELETE DATA (one
# transaction), and additions join that transaction unless bulk_load would save more
# than ATOMICITY_BUDGET seconds.
INSERT_RATE = 15_000
BULK_LOAD_RATE = 100_000
ATOMICITY_BUDGET = 1.0
ATOMIC_ADD_LIMIT = int(ATOMICITY_BUDGET / (1 / INSERT_RATE - 1 / BULK_LOAD_RATE))  # ~17 600


class EmbeddedStore(Store):
    """A pyoxigraph store on disk: the writer owns ``store/``, readers open snapshots."""

    def __init__(self, settings: Settings, *, writer: bool, generation: str | None = None) -> None:
        self.writer = writer
        self.folder = DataFolder(settings.data_dir)
        self.data_dir = self.folder.root
        self.store_dir = self.folder.store
        self.snapshots_dir = self.folder.snapshots
        self.current_file = self.folder.current
        self.lock_file = self.folder.store_lock
        self.incomplete_file = self.folder.store_incomplete
        self.snapshots_kept = max(1, settings.snapshots_kept)
        self.snapshots_min_age = max(0.0, settings.snapshots_min_age)
        self._lock_fd: int | None = None
        self._store: ox.Store | None = None
        self._generation = ""
        if writer:
            self._open_writer()
        elif generation:
            self._open_generation(generation)
        else:
            self._open_reader()

    # -- opening ---------------------------------------------------------------------

    def _open_writer(self) -> None:
        """Take the single-writer lock at once (no waiting), then open the live store."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StoreError(f"cannot create the store folder {self.data_dir}: {error}") from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(
                "another process is writing the store (harvest running?): "
                f"{self.lock_file} is held by process {holder}. Wait for it to finish, "
                "or stop that process; readers are not affected."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd
        try:
            self._store = ox.Store(str(self.store_dir))
        except OSError as error:
            self._release_lock()
            raise StoreError(f"cannot open the store {self.store_dir}: {error}") from error
        self._generation = self._read_current()

    def _open_reader(self) -> None:
        """Open the published snapshot; retry if a publish replaced it meanwhile."""
        for _attempt in range(5):
            generation = self._read_current()
            if not generation:
                raise StoreError(
                    f"nothing has been published in {self.data_dir} yet: "
                    "run `ltc harvest` first (or check the data_dir setting)"
                )
            path = self.snapshots_dir / generation
            try:
                store = ox.Store.read_only(str(path))
            except OSError as error:
                if self._read_current() != generation:
                    continue  # pruned by a publish between reading CURRENT and opening
                raise StoreError(f"cannot open the snapshot {path}: {error}") from error
            self._store, self._generation = store, generation
            return
        raise StoreError(f"{self.current_file} keeps changing: is a publish loop running?")

    def _open_generation(self, generation: str) -> None:
        """Open one given generation's snapshot (a query must see what its request saw)."""
        path = self.folder.snapshot(generation)
        if not path.is_dir():
            raise StoreError(f"the snapshot of generation {generation} is no longer kept")
        try:
            self._store = ox.Store.read_only(str(path))
        except OSError as error:
            raise StoreError(f"cannot open the snapshot {path}: {error}") from error
        self._generation = generation

    def _read_current(self) -> str:
        try:
            return self.folder.read_current()
        except OSError as error:
            raise StoreError(f"cannot read {self.current_file}: {error}") from error

    @property
    def _db(self) -> ox.Store:
        if self._store is None:
            raise StoreError("this store handle is closed")
        return self._store

    # -- queries ---------------------------------------------------------------------

    def _query(self, query: str, bindings: Mapping[str, Term] | None) -> object:
        substitutions = {
            ox.Variable(name): term for name, term in checked_bindings(bindings).items()
        }
        try:
            return self._db.query(
                query, use_default_graph_as_union=True, substitutions=substitutions or None
            )
        except SyntaxError as error:
            raise StoreError(f"invalid SPARQL query: {error}") from error
        except RuntimeError as error:
            # pyoxigraph (SEP-0007) only substitutes variables the query exposes
            raise StoreError(
                f"cannot bind {', '.join('?' + v.value for v in substitutions)}: {error}. "
                "A bound variable must be named in the SELECT clause, "
                "also when only a FILTER uses it."
            ) from error
        except OSError as error:
            raise StoreError(f"the store failed while querying: {error}") from error

    def select(
        self, query: str, bindings: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        result = self._query(query, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise StoreError("select() needs a SELECT query")
        names = [variable.value for variable in result.variables]
        return [{name: term for name in names if (term := row[name]) is not None} for row in result]

    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool:
        result = self._query(query, bindings)
        if not isinstance(result, ox.QueryBoolean):
            raise StoreError("ask() needs an ASK query")
        return bool(result)

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        result = self._query(query, bindings)
        if not isinstance(result, ox.QueryTriples):
            raise StoreError("construct() needs a CONSTRUCT or DESCRIBE query")
        return list(result)

    # -- writes ----------------------------------------------------------------------

    def update(self, sparql_update: str) -> None:
        self._require_writer()
        try:
            self._db.update(sparql_update)
        except SyntaxError as error:
            raise StoreError(f"invalid SPARQL update: {error}") from error
        except OSError as error:
            raise StoreError(f"the store failed while updating: {error}") from error

    def graph_ntriples(self, graph: str) -> bytes:
        return self._db.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph_node(graph))

    def quads(self, graph: str) -> Iterator[ox.Quad]:
        """The graph's statements as the store holds them (the remote backend's copy
        reads its own this way)."""
        return iter(self._db.quads_for_pattern(None, None, None, graph_node(graph)))

    scans_are_fast = True

    def statements(
        self, predicate: str, obj: Term | None = None
    ) -> Iterator[tuple[Term, Term, ox.NamedNode]]:
        # a query that projects only the terms not known already: decoding a term is most
        # of what a scan costs (a quad pattern decodes the predicate and object too)
        if obj is None:
            query = f"SELECT ?s ?o ?g WHERE {{ GRAPH ?g {{ ?s {ox.NamedNode(predicate)} ?o }} }}"
            return ((row[0], row[1], row[2]) for row in self._db.query(query))
        value = checked_bindings({"o": obj})["o"]
        query = f"SELECT ?s ?g WHERE {{ GRAPH ?g {{ ?s {ox.NamedNode(predicate)} {value} }} }}"
        return ((row[0], value, row[1]) for row in self._db.query(query))

    def pairs(self, predicate: str) -> Iterator[tuple[Term, Term]]:
        # a query projects the two terms only: decoding a term is what a scan costs
        query = f"SELECT ?s ?o WHERE {{ ?s {ox.NamedNode(predicate)} ?o }}"
        solutions = self._db.query(query, use_default_graph_as_union=True)
        return ((row[0], row[1]) for row in solutions)

    def _is_empty(self, node: ox.NamedNode) -> bool:
        return next(iter(self._db.quads_for_pattern(None, None, None, node)), None) is None

    def replace_graph(self, graph: str, ntriples: bytes, previous: bytes | None = None) -> None:
        """Make the graph hold exactly ``ntriples``, by the cheapest path that is safe.

        - empty content: the graph is removed (``drop_graph``);
        - the graph is empty or absent: ``bulk_load`` (fastest: 300 000 triples ≈ 3-4 s);
        - otherwise the difference between the canonical lines of the stored and the new
          version is applied: in one transactional ``update`` (DELETE DATA + INSERT DATA)
          when at most ATOMIC_ADD_LIMIT triples are added, else DELETE DATA in one
          update followed by a ``bulk_load`` of the additions (INSERT DATA is ~6× slower
          than bulk loading). clear_graph + bulk_load is never faster here (clearing is
          slower than DELETE DATA of every triple) and is kept for blank nodes only,
          which DELETE DATA cannot name.

        ``previous``, when the caller knows it, is the graph's current content: it saves
        reading the graph back from the store (the costly part of a small change).

        Atomicity: only the one-transaction path is atomic for a query made through
        *this* writer handle. Readers are protected anyway: they open snapshots taken
        by ``publish()``, never the live store, and ``publish()`` refuses to run while a
        non-transactional write was interrupted (``incomplete_graphs()``), so a crash
        half-way cannot reach readers. Invalid N-Triples change nothing: they are
        rejected before writing, or (loading into an empty graph) the graph is emptied.
        """
        self._require_writer()
        node = graph_node(graph, writing=True)
        if self._is_empty(node):
            self._load_into_empty(ntriples, node)
            return
        new_lines, new_blank = canonical_lines(ntriples, f"the new content of <{graph}>")
        if not new_lines:
            self.drop_graph(graph)
            return
        if previous is not None:
            old_lines, old_blank = canonical_lines(previous, f"the previous content of <{graph}>")
        else:
            old_lines, old_blank = self._stored_lines(node)
        if new_blank or old_blank:
            with self._unfinished(graph):
                try:
                    self._db.clear_graph(node)
                except OSError as error:
                    raise StoreError(
                        f"the store failed while clearing <{graph}>: {error}"
                    ) from error
                self._bulk_load(ntriples, node)
            return
        remove = old_lines - new_lines
        add = new_lines - old_lines
        if len(add) <= ATOMIC_ADD_LIMIT:
            if remove or add:
                self.update(delta_update(node, sorted(remove), sorted(add)))
            self._finished(graph)  # a complete, transactional write repairs an interrupted one
            return
        with self._unfinished(graph):
            if remove:
                self.update(delta_update(node, sorted(remove), []))
            self._bulk_load(("\n".join(add) + "\n").encode(), node)

    def _load_into_empty(self, ntriples: bytes, node: ox.NamedNode) -> None:
        """bulk_load straight away (it parses and checks faster than a separate pass);
        invalid input is only found part-way, so the graph is emptied again then."""
        with self._unfinished(node.value):
            try:
                self._db.bulk_load(ntriples, ox.RdfFormat.N_TRIPLES, to_graph=node)
            except SyntaxError as error:
                self._db.clear_graph(node)
                self._db.remove_graph(node)
                self._finished(node.value)
                raise StoreError(
                    f"the new content of <{node.value}> is not valid N-Triples: {error}"
                ) from error
            except OSError as error:
                raise StoreError(
                    f"the store failed while loading <{node.value}>: {error}"
                ) from error

    def _stored_lines(self, node: ox.NamedNode) -> tuple[set[str], bool]:
        """The graph's canonical lines: the store's own N-Triples are already canonical
        (same serialiser as ``str(term)``), so they are only re-parsed if a blank node
        may occur."""
        dumped = self._db.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=node)
        if b"_:" in dumped:
            return canonical_lines(dumped, f"the stored content of <{node.value}>")
        return set(dumped.decode("utf-8").splitlines()), False

    def _bulk_load(self, ntriples: bytes, node: ox.NamedNode) -> None:
        try:
            self._db.bulk_load(ntriples, ox.RdfFormat.N_TRIPLES, to_graph=node)
        except (SyntaxError, OSError) as error:
            raise StoreError(f"the store failed while loading <{node.value}>: {error}") from error

    def drop_graph(self, graph: str) -> None:
        """Remove the graph (quad by quad inside pyoxigraph, so guarded like a bulk load)."""
        self._require_writer()
        node = graph_node(graph, writing=True)
        with self._unfinished(graph):
            try:
                if self._db.contains_named_graph(node):
                    self._db.remove_graph(node)
            except OSError as error:
                raise StoreError(f"the store failed while removing <{graph}>: {error}") from error

    # -- crash guard for non-transactional writes ----------------------------------------

    def incomplete_graphs(self) -> set[str]:
        """Graphs whose last non-transactional write did not finish (a crash or an error
        half-way): replace or drop them again before ``publish()`` accepts to run."""
        try:
            text = self.incomplete_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return set()
        return {line for line in text.splitlines() if line}

    def _write_incomplete(self, graphs: set[str]) -> None:
        if not graphs:
            self.incomplete_file.unlink(missing_ok=True)
            return
        text = "".join(f"{graph}\n" for graph in sorted(graphs))
        write_atomically(self.incomplete_file, text.encode("utf-8"))

    @contextlib.contextmanager
    def _unfinished(self, graph: str) -> Iterator[None]:
        """Mark the graph incomplete during the block; unmark only if it succeeds."""
        self._write_incomplete(self.incomplete_graphs() | {graph})
        yield
        self._finished(graph)

    def _finished(self, graph: str) -> None:
        pending = self.incomplete_graphs()
        if graph in pending:
            self._write_incomplete(pending - {graph})

    def named_graphs(self) -> set[str]:
        return {
            node.value
            for node in self._db.named_graphs()
            if isinstance(node, ox.NamedNode)
            and node.value not in RESERVED_GRAPHS
            and not self._is_empty(node)
        }

    # -- generations -------------------------------------------------------------------

    def publish(self) -> str:
        """Checkpoint the live store into ``snapshots/<generation>/``, point ``CURRENT``
        at it (write a temporary file, then ``os.replace``: readers see the old name or
        the new one), then prune old snapshots."""
        self._require_writer()
        pending = self.incomplete_graphs()
        if pending:
            raise StoreError(
                "not publishing: an interrupted write left these graphs incomplete: "
                + ", ".join(f"<{graph}>" for graph in sorted(pending))
                + ". Replace or drop them again first (harvest these sources again)."
            )
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)
        existing = [path.name for path in self.snapshots_dir.iterdir()]
        generation = next_generation([*existing, self._read_current()])
        target = self.snapshots_dir / generation
        try:
            self._db.flush()
            self._db.backup(str(target))
        except OSError as error:
            shutil.rmtree(target, ignore_errors=True)
            raise StoreError(f"cannot write the snapshot {target}: {error}") from error
        self.folder.write_current(generation)
        self._generation = generation
        self._prune(generation)
        return generation

    def _prune(self, current: str) -> None:
        """Keep the newest ``snapshots_kept`` snapshots (always the current one), and any
        replaced less than ``snapshots_min_age`` seconds ago: a web process switches to a
        new generation only once its directory is built, and frequent pings may publish
        several generations meanwhile; it must still find the one it serves."""
        names = sorted(
            (path.name for path in self.snapshots_dir.iterdir() if path.is_dir()),
            key=generation_number,
        )
        keep = set(names[-self.snapshots_kept :]) | {current}
        now = time.time()
        for name, successor in itertools.pairwise(names):
            try:
                replaced = (self.snapshots_dir / successor).stat().st_mtime
            except OSError:
                continue
            if now - replaced < self.snapshots_min_age:
                keep.add(name)
        for name in names:
            if name not in keep:
                shutil.rmtree(self.snapshots_dir / name, ignore_errors=True)

    def generation(self) -> str:
        """Writer: the last published generation (the ``CURRENT`` file). Reader: the
        generation of the snapshot it has open, i.e. the one its answers come from."""
        return self._read_current() if self.writer else self._generation

    def latest_generation(self) -> str:
        return self._read_current()

    def refresh(self) -> bool:
        """Reader: reopen on the newest snapshot if ``CURRENT`` changed (one small read)."""
        if self.writer or self._store is None or self._read_current() == self._generation:
            return False
        previous = self._store
        self._open_reader()
        del previous
        return True

    # -- export and life cycle -------------------------------------------------------

    def dump_nquads(self, out: BinaryIO) -> None:
        default_empty = (
            next(iter(self._db.quads_for_pattern(None, None, None, ox.DefaultGraph())), None)
            is None
        )
        if default_empty:  # the usual case: one fast native dump
            self._db.dump(out, ox.RdfFormat.N_QUADS)
            return
        for graph in sorted(self.named_graphs()):
            nquads_of_graph(self.graph_ntriples(graph), graph, out)

    def close(self) -> None:
        self._store = None
        self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None
