"""The registry's work in order: harvest the sources, publish them, then recompute the
derived graph and publish again. Each entry point opens the store's single writer.

The sources' new data is published first, so a harvest is served at once; what the
registry derives from it (one place across networks) follows in a second publication.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from convergence.accepted import remember_source
from convergence.derived_graph import derive_ahead, repair_derived_graph, update_derived_graph
from core.catalog import set_disabled
from core.config import Settings
from core.datafolder import DataFolder
from core.iris import Iris
from core.migration import upgrade
from core.store import Store, StoreError, open_store
from harvester.harvest import (
    HeadStart,
    Outcome,
    Progress,
    harvest_sources,
    remove_source_data,
    repair,
    sources_holding,
    suppress_record,
)
from ltc.changes import record_changes
from registry.directory import publishing

log = logging.getLogger("ltc.pipeline")


def publish(store: Store, settings: Settings) -> str:
    """Publish, with the web tier's directory file of the new generation ready at that
    moment (``registry.directory.publishing``: web processes map it at once), then
    record what the new generation changed (``/api/changes``)."""
    with publishing(store, Iris(settings.base_iri), DataFolder(settings.data_dir)):
        generation = store.publish()
    record_changes(store, settings)
    return generation


def repair_interrupted(store: Store, settings: Settings) -> None:
    """Whatever an earlier run left half-done when it was killed (a source's graphs, the
    derived graph), made whole again before anything is published: sources from their
    accepted statements, the derived graph by computing it again. A graph nobody can
    rebuild is dropped. First, a remote store's graphs that lost statements (a server
    restarted without a checkpoint) are written back from the writer's copy; readers are
    then told by a new publication."""
    reloaded = store.reload_lost_graphs()
    repair(store, settings, Iris(settings.base_iri))
    repair_derived_graph(store, settings)
    for graph in sorted(store.incomplete_graphs()):
        log.warning("graph=<%s> dropped: interrupted write of unknown origin", graph)
        store.drop_graph(graph)
    if store.incomplete_graphs():
        raise StoreError(
            "interrupted writes could not be repaired: "
            + ", ".join(sorted(store.incomplete_graphs()))
        )
    if reloaded:
        publish(store, settings)  # the web tier rebuilds what it read from the damaged graphs


def check_store(settings: Settings) -> list[str]:
    """``ltc serve`` at start, with a remote store: what ``repair_interrupted`` does,
    unless a harvest holds the writer (it checks the store itself). Returns the graphs
    written back."""
    try:
        store = open_store(settings, writer=True)
    except StoreError as error:
        log.info("store check skipped: %s", error)
        return []
    with store:
        reloaded = store.reload_lost_graphs()
        if reloaded:
            repair_interrupted(store, settings)
            publish(store, settings)
    return reloaded


def harvest(
    settings: Settings,
    *,
    only: list[str] | None = None,
    accept_shrink: set[str] | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] | None = None,
    derive: bool = True,
) -> list[Outcome]:
    """Harvest the catalog's sources (or ``only`` these) and publish the new state, then
    recompute the derived graph (``derive=False``: not now) and publish again when it
    changed."""
    options = {"now": now} if now is not None else {}
    upgrade(settings.data_dir)
    # convergence reads each source in the worker that prepared it, and computes the
    # derived graph while the last sources are loaded
    head_start = HeadStart(remember_source, derive_ahead) if derive else None
    with open_store(settings, writer=True) as store:
        repair_interrupted(store, settings)
        outcomes = harvest_sources(
            store,
            settings,
            only=only,
            accept_shrink=accept_shrink,
            progress=progress,
            head_start=head_start,
            **options,
        )
        publish(store, settings)  # the sources' new data is served at once…
        ahead = head_start.collect() if head_start else None
        if derive and update_derived_graph(store, settings, ahead=ahead):
            publish(store, settings)  # …and what the registry derives from it follows
    upgrade(settings.data_dir)  # a new folder is marked with the current layout
    return outcomes


def derive(settings: Settings, *, force: bool = False) -> bool:
    """Recompute the derived graph alone and publish it when it changed."""
    with open_store(settings, writer=True) as store:
        repair_interrupted(store, settings)
        changed = update_derived_graph(store, settings, force=force)
        if changed:
            publish(store, settings)
    return changed


def remove_source(settings: Settings, source_id: str) -> None:
    """Remove a source's data from the store, stop harvesting it, and publish."""
    iris = Iris(settings.base_iri)
    with open_store(settings, writer=True) as store:
        repair_interrupted(store, settings)
        remove_source_data(store, settings, iris, source_id)
        set_disabled(settings.data_dir, source_id, True)
        update_derived_graph(store, settings)
        publish(store, settings)


def take_down(settings: Settings, iri: str) -> list[str]:
    """Remove a record on the takedown list from the store now (every source that holds
    it), recompute the derived graph and publish; returns the sources affected."""
    if not sources_holding(settings, iri):
        return []
    with open_store(settings, writer=True) as store:
        repair_interrupted(store, settings)
        affected = suppress_record(store, settings, iri)
        update_derived_graph(store, settings, force=True)
        publish(store, settings)
    return affected
