"""After each publication: which records the new generation added, changed or removed.

Each source's records come from its accepted statements (``core.harvest_files``: exactly
what its graph holds), read again only when that file changed since the last recording;
the registry's own records (place clusters, identity links) from the derived graph,
read again only when it was recomputed. Removed sources and takedowns show up as
removals: the source's folder is gone, or its accepted statements lost the record.
The first recording in a data folder only notes the state: the feed starts there.
"""

from __future__ import annotations

import logging
import time

from core.changes import Change, ChangeLog, GraphState, iso_now
from core.config import Settings
from core.datafolder import DataFolder
from core.harvest_files import SourceFiles, known_sources
from core.iris import Iris
from core.records import Record, split_records
from core.store import Store

log = logging.getLogger("ltc.changes")
DERIVED_KEY = "_derived"  # not a source id: those never start with "_"


def record_changes(store: Store, settings: Settings) -> int:
    """Record the changes of the generation ``store`` (the writer) last published; the
    number of changes. A failure is logged: the publication stands."""
    started = time.monotonic()
    try:
        count = _record(store, settings)
    except Exception:
        log.exception("change feed: recording failed; the next recording catches up")
        return 0
    log.info("change feed: %d changes recorded in %.2f s", count, time.monotonic() - started)
    return count


def _record(store: Store, settings: Settings) -> int:
    changes_log = ChangeLog(settings.data_dir)
    generation, published = store.generation(), iso_now()
    starting = changes_log.index() is None
    changes: list[Change] = []
    states: dict[str, GraphState] = {}
    iris = Iris(settings.base_iri)
    sources = known_sources(settings.data_dir)
    for source in sources:
        files = SourceFiles(settings.data_dir, source)
        fingerprint = _file_fingerprint(files.path(SourceFiles.ACCEPTED))
        state = changes_log.graph_state(source)
        if state is not None and state.fingerprint == fingerprint:
            continue
        graph = iris.source_graph(source)
        records = split_records(files.accepted())
        changes += _compare(state, records, source, graph)
        states[source] = _state(graph, source, fingerprint, records)
    derived = _derived_fingerprint(settings)
    state = changes_log.graph_state(DERIVED_KEY)
    if state is None or state.fingerprint != derived:
        graph = iris.derived_graph
        records = split_records(store.graph_ntriples(graph))
        changes += _compare(state, records, None, graph)
        states[DERIVED_KEY] = _state(graph, None, derived, records)
    gone = [key for key in changes_log.graph_keys() if key != DERIVED_KEY and key not in sources]
    for key in gone:
        state = changes_log.graph_state(key)
        if state is not None:
            changes += _compare(state, {}, key, state.graph)
    if starting:
        changes_log.start(generation, published)
        changes = []
    else:
        changes_log.record(generation, published, changes)
    for key, graph_state in states.items():
        changes_log.save_graph_state(key, graph_state)
    for key in gone:
        changes_log.forget_graph(key)
    changes_log.prune(settings.changes_keep_days)
    return len(changes)


def _compare(
    state: GraphState | None, records: dict[str, Record], source: str | None, graph: str
) -> list[Change]:
    """The graph's changes, removals first: a removed record takes its ``#fragment``
    subjects with it, and one of them may be a record of its own now."""
    before = state.records if state is not None else {}
    changes = [
        Change("removed", iri, kind, source, graph)
        for iri, (kind, _digest) in before.items()
        if iri not in records
    ]
    for iri, record in records.items():
        previous = before.get(iri)
        if previous is None or previous[1] != record.digest:
            op = "added" if previous is None else "changed"
            statements = "".join(line + "\n" for line in record.lines)
            changes.append(Change(op, iri, record.kind, source, graph, statements))
    return changes


def _state(
    graph: str, source: str | None, fingerprint: str, records: dict[str, Record]
) -> GraphState:
    return GraphState(
        graph, source, fingerprint, {iri: [r.kind, r.digest] for iri, r in records.items()}
    )


def _file_fingerprint(path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return "absent"
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def _derived_fingerprint(settings: Settings) -> str:
    """The derived graph is replaced only by a recomputation, which rewrites its inputs'
    digest each time (even when unchanged): that file's time and text stand for it."""
    stamp_file = DataFolder(settings.data_dir).derived_inputs
    try:
        return f"{stamp_file.stat().st_mtime_ns}:{stamp_file.read_text(encoding='utf-8')}"
    except OSError:
        return "absent"
