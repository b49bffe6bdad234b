"""The registry's derived graph in the store: recomputed when what it depends on changed.

Its inputs are the sources' accepted statements (``core.harvest_files``), the
collective's curation file, the takedown list and the settings that shape it; their
digest is kept in the data folder, so a harvest that changed nothing costs nothing here.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from convergence import cachefile
from convergence.accepted import NotAhead, accepted_digests, read_accepted
from convergence.curation import DEFAULT_PATH, load_curation
from convergence.derive import derived_ntriples, result_from_facts
from convergence.match import ScoreCache
from core import __version__
from core.config import Settings
from core.datafolder import DataFolder, write_atomically
from core.harvest_files import SourceFiles, known_sources
from core.iris import Iris
from core.store import Store

log = logging.getLogger("ltc.convergence")


@dataclass
class DerivedAhead:
    """The derived graph computed beside a harvest (``derive_ahead``), before the
    sources' files held the statements it was computed from."""

    ntriples: bytes
    digests: dict[str, str]  # source id → digest of the accepted statements it read


def derive_ahead(settings: Settings, noted: dict[str, str]) -> DerivedAhead | None:
    """The derived graph for the sources' new statements, ``noted`` (source id → digest,
    as ``remember_source`` returned it) for those whose files do not hold them yet: the
    harvest runs this in a worker once every source is prepared, while it loads the
    last ones (``harvester.harvest.HeadStart``)."""
    try:
        # one process: beside the writer's loads, a second one would only add memory
        ntriples, digests = _derive(settings, noted, processes=1)
    except NotAhead as missing:
        log.info("derived graph: no head start (%s was not read ahead)", missing)
        return None
    return DerivedAhead(ntriples, digests)


def update_derived_graph(
    store: Store, settings: Settings, *, force: bool = False, ahead: DerivedAhead | None = None
) -> bool:
    """Recompute the derived graph (one place across networks, convergence candidates)
    from every source the harvester holds and replace it in ``store`` (a writer handle);
    True when it changed. Publishing is the caller's part.

    Skipped when nothing it depends on changed since the last time (``force`` after a
    takedown). ``ahead``: the graph computed beside the harvest, used if it was computed
    from what the sources' files hold now. A failure is logged and leaves the previous
    derived graph: the harvest itself stands."""
    folder = DataFolder(settings.data_dir)
    iris = Iris(settings.base_iri)
    stamp = derived_inputs(settings)
    stamp_file = folder.derived_inputs
    if not force and stamp_file.exists() and stamp_file.read_text() == stamp:
        return False
    started = time.monotonic()
    try:
        if ahead is not None and ahead.digests == accepted_digests(settings, iris):
            derived = ahead.ntriples
            log.info("derived graph: computed beside the harvest")
        else:
            derived = derive_graph(settings)
        previous = store.graph_ntriples(iris.derived_graph)
        changed = set(derived.splitlines()) != set(previous.splitlines())
        if changed:
            store.replace_graph(iris.derived_graph, derived, previous=previous or None)
    except Exception:
        log.exception("derived graph: recomputation failed, previous graph kept")
        return False
    write_atomically(stamp_file, stamp.encode())
    log.info(
        "derived graph: %d statements in %.2f s",
        derived.count(b"\n"),
        time.monotonic() - started,
    )
    return changed


def derive_graph(settings: Settings) -> bytes:
    """N-Triples of the whole derived graph for the sources the harvester holds, with
    the collective's curation (for the harvester, after sources are committed). Reads
    the harvester's files (``convergence.accepted``): the same facts as the store's
    source graphs, several times faster to read. What an unchanged source gives, and
    the scores of pairs of unchanged places, come from caches in the data folder."""
    return _derive(settings, processes=settings.harvest_workers)[0]


def _derive(
    settings: Settings, expected: dict[str, str] | None = None, *, processes: int = 1
) -> tuple[bytes, dict[str, str]]:
    """``derive_graph``, and the digests of the sources' statements it read (``expected``:
    see ``read_accepted``)."""
    iris = Iris(settings.base_iri)
    curation = load_curation(settings.curation_file or None)
    # Millions of small objects without cycles: the cyclic collector would rescan them
    # again and again for nothing (measured: a third of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        facts = read_accepted(settings, iris, expected=expected)
        scores_file = DataFolder(settings.data_dir).convergence_cache / "scores.pickle"
        kept = cachefile.load(scores_file)
        scores = ScoreCache(kept if isinstance(kept, dict) else None)
        result = result_from_facts(
            facts,
            curation,
            settings.convergence_max_km,
            scores,
            processes=processes,
        )
        cachefile.save(scores_file, scores.used)
        return derived_ntriples(result, iris), facts.digests
    finally:
        if collecting:
            gc.enable()


def repair_derived_graph(store: Store, settings: Settings) -> bool:
    """After an interrupted write of the derived graph (the store says it is
    half-written): drop it and forget what it was computed from, so that the next
    ``update_derived_graph`` computes it again. True when there was something to repair."""
    graph = Iris(settings.base_iri).derived_graph
    if graph not in store.incomplete_graphs():
        return False
    store.drop_graph(graph)
    DataFolder(settings.data_dir).derived_inputs.unlink(missing_ok=True)
    log.warning("derived graph: interrupted write repaired, it will be computed again")
    return True


def derived_inputs(settings: Settings) -> str:
    """A digest of what the derived graph depends on."""
    folder = DataFolder(settings.data_dir)
    digest = hashlib.sha256(
        f"{__version__} {settings.base_iri} {settings.convergence_max_km}".encode()
    )
    for source_id in known_sources(folder):
        state = SourceFiles(folder, source_id).load_state()
        digest.update(f"\n{source_id} {state.content_hash} {state.inputs}".encode())
    curation = Path(settings.curation_file) if settings.curation_file else DEFAULT_PATH
    for path in (curation, folder.takedown_list):
        digest.update(b"\n" + (path.read_bytes() if path.exists() else b""))
    return digest.hexdigest()
