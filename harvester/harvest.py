"""One harvest run: every selected source fetched, validated and loaded, nothing lost.

For each source: fetch (conditional) → parse → normalise → authority → takedown →
validate (records whose content changed only) → shrink guard → load its named graph.
A failure at any step, or a feed that lost too many records, leaves the source's
current data untouched. The store is changed under a ``pending`` marker and repaired
from ``accepted.nt`` if a run dies midway; readers see the new state only when the run
publishes it at the end.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox

from core import resources, takedown
from core.catalog import Source, disabled_sources, load_catalog
from core.config import Settings
from core.harvest_files import SourceState, findings_json, known_sources
from core.iris import Iris
from core.store import Store
from harvester.adapters import adapt, load_mapping
from harvester.authority import restrict
from harvester.budget import (
    AFTER_NORMALISING,
    AFTER_SPLITTING,
    MIB,
    MemoryBudget,
    json_document_bytes,
)
from harvester.errors import FeedError
from harvester.feed import default_base, parse_limits
from harvester.fetch import FetchResult, fetch, policy_from, read_local
from harvester.normalise import normalise
from harvester.parse import parse_feed
from harvester.provenance import (
    HarvestRecord,
    activity_triples,
    forget_source_description,
    ntriples,
    replace_source_description,
    source_triples,
)
from harvester.records import SplitFeed, split_records
from harvester.state import HarvestFiles
from harvester.validate import (
    ValidationCache,
    record_findings,
    report_ntriples,
    shapes_version,
    validate_split,
    without_info,
)

log = logging.getLogger("ltc.harvest")

LOADED, UNCHANGED, FAILED, HELD = "loaded", "unchanged", "failed", "held"


class Progress:
    """Hooks the CLI uses to show a progress bar; the defaults do nothing."""

    def start(self, source: Source) -> None: ...
    def fetched(self, size: int, total: int | None) -> None: ...
    def validated(self, done: int, total: int) -> None: ...
    def finish(self, outcome: Outcome) -> None: ...


@dataclass
class Outcome:
    source: str
    status: str
    accepted: int = 0
    rejected: int = 0
    warned: int = 0
    dropped: int = 0
    suppressed: int = 0
    revalidated: int = 0
    seconds: float = 0.0
    message: str | None = None
    message_en: str | None = None
    rejections: dict[str, list[str]] = field(default_factory=dict)  # record → constraints
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def failed(self) -> bool:
        return self.status in (FAILED, HELD)


@dataclass
class HeadStart:
    """Another layer's work on the sources' new accepted statements, done beside the
    harvest rather than after it. Both are module-level functions (they are sent to
    the worker processes); their errors are logged and ignored: it is only a head start.

    ``per_source(settings, source_id, accepted)`` runs in the process that prepared a
    source, before its statements are loaded (they may never be: it may only prepare,
    e.g. caches); what it returns (picklable, not None) is kept. ``after_all(settings,
    noted)`` runs in a worker once every source is prepared, while the writer loads
    the last ones, given ``per_source``'s results for the sources this run loads;
    ``collect()`` waits for what it returns (None if it failed or did not run: it
    runs only with several workers, when the run loads some source, and only if
    ``per_source`` succeeded for each)."""

    per_source: Callable[[Settings, str, bytes], Any]
    after_all: Callable[[Settings, dict[str, Any]], Any] | None = None
    _pending: Future | None = field(default=None, repr=False)
    # the process running ``_pending`` (a pool of its own, so that the sources' pool is
    # shut down and waited for as usual), shut down once it is collected
    _pool: ProcessPoolExecutor | None = field(default=None, repr=False)

    def collect(self) -> Any:
        pending, self._pending = self._pending, None
        pool, self._pool = self._pool, None
        if pending is None:
            return None
        try:
            return pending.result()
        except Exception:
            log.warning("head start after every source failed", exc_info=True)
            return None
        finally:
            if pool is not None:
                pool.shutdown(wait=True)


@dataclass
class _Run:
    settings: Settings
    store: Store
    iris: Iris
    progress: Progress
    now: Callable[[], datetime]
    accept_shrink: set[str] = field(default_factory=set)
    head_start: HeadStart | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- fetching --------------------------------------------------------------------


def _obtain(
    source: Source, state: SourceState, settings: Settings, progress: Progress
) -> FetchResult:
    """The feed's bytes: a file the operator named, or a protected HTTP request."""
    if not source.is_remote:
        content = read_local(source)
        progress.fetched(len(content), len(content))
        return FetchResult(source.url, 200, content, None)
    url = source.url
    if source.kind == "sparql":
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}{urlencode({'query': source.query})}"
    return fetch(
        url,
        policy_from(settings),
        etag=state.etag,
        last_modified=state.last_modified,
        progress=progress.fetched,
    )


@functools.cache
def _contract_version() -> str:
    """The JSON-LD contexts decide how feeds are read: a change means reading them again."""
    digest = hashlib.sha256(resources.read_bytes("ontology", "context.jsonld"))
    digest.update(resources.read_bytes("ontology", "contexts/schemaorg.jsonld"))
    return digest.hexdigest()[:16]


def _inputs_digest(source: Source, settings: Settings) -> str:
    """What else than the feed's bytes decides the outcome: when it changes, redo all."""
    parts = [
        shapes_version(),
        _contract_version(),
        repr(source),
        takedown.digest(settings.data_dir),
    ]
    if source.mapping:
        parts.append(hashlib.sha256(read_local(source, source.mapping)).hexdigest())
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _triples(
    source: Source, fetched: FetchResult, settings: Settings, budget: MemoryBudget
) -> list[ox.Triple]:
    data, syntax, content_type = fetched.content, source.syntax, fetched.content_type
    if source.adapter:
        mapping = load_mapping(read_local(source, source.mapping))
        if source.adapter == "gogocarto":
            # a JSON export is read whole, then turned into JSON-LD: measured, the peak
            # is 1.7 times what the export alone holds once loaded (spreadsheets are
            # checked against the budget by their reader)
            expected = json_document_bytes(data) * 2
            budget.check(1.0, 0, "lecture de l'export", "reading the export", ahead=expected)
        adapted = adapt(data, source.adapter, mapping, budget=budget)
        data = json.dumps(adapted, ensure_ascii=False).encode()
        syntax, content_type = "json-ld", None
    base = fetched.url if source.is_remote else default_base(source.id)
    return parse_feed(
        data,
        syntax=syntax,
        filename=source.url.split("?")[0],
        content_type=content_type,
        base_iri=base,
        limits=parse_limits(settings),
        budget=budget,
    )


# --- loading ----------------------------------------------------------------------


def _record(run: _Run, source: Source, record: HarvestRecord, state: SourceState) -> None:
    """Provenance in the metadata graph, the state file and the history line."""
    files = HarvestFiles(run.settings.data_dir, source.id)
    state.last_attempt = _iso(record.ended)
    state.status, state.message = record.status, record.message
    if record.status in (LOADED, UNCHANGED):
        state.last_success = _iso(record.ended)
        state.failures = 0
    else:
        state.failures += 1
    if record.loaded:
        state.last_loaded = _iso(record.ended)
        state.accepted, state.rejected = record.accepted, record.rejected
        state.warned, state.dropped = record.warned, record.dropped
    files.save_state(state)
    files.append_history(
        {
            "started": _iso(record.started),
            "ended": _iso(record.ended),
            "status": record.status,
            "message": record.message,
            "accepted": record.accepted,
            "rejected": record.rejected,
            "warned": record.warned,
            "dropped": record.dropped,
        }
    )
    meta = run.iris.meta_graph
    run.store.apply_delta(meta, b"", ntriples(activity_triples(record, run.iris)))
    description = source_triples(source, run.iris, record, state.last_success)
    run.store.update(replace_source_description(meta, run.iris.source(source.id), description))
    log.info(
        "source=%s status=%s accepted=%d rejected=%d warned=%d dropped=%d seconds=%.2f message=%r",
        source.id,
        record.status,
        record.accepted,
        record.rejected,
        record.warned,
        record.dropped,
        (record.ended - record.started).total_seconds(),
        record.message or "",
    )


def repair(store: Store, settings: Settings, iris: Iris) -> list[str]:
    """Bring back to ``accepted.nt`` (and ``report.nt``) every source whose load was
    interrupted: marked pending, or with a graph the store says is half-written."""
    incomplete = store.incomplete_graphs()
    repaired = []
    for source_id in known_sources(settings.data_dir):
        files = HarvestFiles(settings.data_dir, source_id)
        graphs = {iris.source_graph(source_id), iris.report_graph(source_id)}
        if files.is_pending or graphs & incomplete:
            store.replace_graph(iris.source_graph(source_id), files.accepted())
            store.replace_graph(iris.report_graph(source_id), without_info(files.report()))
            files.clear_pending()
            repaired.append(source_id)
            log.warning("source=%s repaired=true reason='interrupted load'", source_id)
    return repaired


def remove_source_data(store: Store, settings: Settings, iris: Iris, source_id: str) -> None:
    """Everything the registry holds from a source: graphs, description, state."""
    store.drop_graph(iris.source_graph(source_id))
    store.drop_graph(iris.report_graph(source_id))
    store.update(forget_source_description(iris.meta_graph, iris.source(source_id)))
    HarvestFiles(settings.data_dir, source_id).remove()
    log.info("source=%s status=removed", source_id)


# --- one source -------------------------------------------------------------------


def _suppress(split: SplitFeed, settings: Settings) -> int:
    listed = takedown.load(settings.data_dir)
    suppressed = [iri for iri in split.records if iri in listed]
    for iri in suppressed:
        del split.records[iri]
    return len(suppressed)


def outside_namespaces(dropped: int, namespaces: tuple[str, ...]) -> FeedError:
    """Every statement of the feed is about subjects the source does not own."""
    listed = ", ".join(namespaces)
    return FeedError(
        f"aucune déclaration sur les espaces de noms de la source ({listed}) : les "
        f"{dropped} déclarations du flux portent sur d'autres sujets et ont été écartées ; "
        "vérifiez les adresses (IRI) des fiches ou les espaces de noms déclarés au catalogue",
        f"no statement about the source's namespaces ({listed}): all {dropped} statements "
        "of the feed are about other subjects and were dropped; check the records' IRIs "
        "or the namespaces declared in the catalog",
    )


def _shrink_message(previous: int, now: int, share: float, source: str) -> tuple[str, str]:
    fr = (
        f"le flux est passé de {previous} à {now} fiches acceptées (plus de {share:.0%} en "
        f"moins) : données précédentes conservées ; `ltc harvest --accept-shrink {source}` "
        "pour appliquer ce changement"
    )
    en = (
        f"the feed went from {previous} to {now} accepted records (more than {share:.0%} "
        f"fewer): previous data kept; `ltc harvest --accept-shrink {source}` applies it"
    )
    return fr, en


class _Stopwatch:
    """Seconds spent in each stage, so that a slow harvest shows where its time goes."""

    def __init__(self, timings: dict[str, float]):
        self.timings, self.last = timings, time.monotonic()

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


@dataclass
class Prepared:
    """A source fetched, parsed and validated, ready to load (what a worker sends back).
    Its files are already staged in the source's folder (``SourceFiles.stage``)."""

    outcome: Outcome
    record: HarvestRecord
    state: SourceState
    accepted: bytes = b""
    stored_report: bytes = b""  # the report as the store keeps it (``without_info``)
    noted: Any = None  # what ``HeadStart.per_source`` returned


def prepare_source(
    settings: Settings,
    source: Source,
    accept_shrink: frozenset[str] = frozenset(),
    progress: Progress | None = None,
) -> Prepared:
    """Everything but loading: fetch, parse, normalise, authority, takedown, validate and
    the shrink guard. Pure CPU and network: it runs in a worker process."""
    progress = progress or Progress()
    files = HarvestFiles(settings.data_dir, source.id)
    state = files.load_state()
    started = _now()
    record = HarvestRecord(source.id, started, started, FAILED, shapes_version=shapes_version())
    outcome = Outcome(source.id, FAILED)
    prepared = Prepared(outcome, record, state)
    clock = _Stopwatch(outcome.timings)
    try:
        fetched = _obtain(source, state, settings, progress)
        clock.lap("fetch")
        inputs = _inputs_digest(source, settings)
        record.etag, record.last_modified = fetched.etag, fetched.last_modified
        digest = hashlib.sha256(fetched.content).hexdigest() if not fetched.not_modified else None
        record.content_hash = digest or state.content_hash
        unchanged = fetched.not_modified or (
            digest == state.content_hash and inputs == state.inputs and state.status != FAILED
        )
        if unchanged and state.last_loaded and not files.is_pending:
            # what is loaded is still the last load's: so are its counts
            outcome.status = record.status = UNCHANGED
            outcome.accepted = record.accepted = state.accepted
            outcome.rejected = record.rejected = state.rejected
            outcome.warned = record.warned = state.warned
            outcome.dropped = record.dropped = state.dropped
            state.etag = fetched.etag or state.etag
            state.last_modified = fetched.last_modified or state.last_modified
            return prepared
        budget = MemoryBudget(settings.max_feed_memory * MIB)
        parsed = _triples(source, fetched, settings, budget)
        clock.lap("parse")
        triples = normalise(parsed, source.id)
        del parsed
        budget.check(AFTER_NORMALISING, len(triples), "normalisation", "normalisation")
        clock.lap("normalise")
        authority = restrict(triples, source.namespaces, source.id)
        del triples
        # counted now: whatever happens next, the log and the history say what was dropped
        outcome.dropped = record.dropped = authority.dropped
        split = split_records(authority.kept, source.id)
        if not split.records and authority.dropped:  # the records were all someone else's
            raise outside_namespaces(authority.dropped, source.namespaces)
        del authority
        budget.check(AFTER_SPLITTING, len(split.owner), "découpage en fiches", "splitting")
        outcome.suppressed = _suppress(split, settings)
        clock.lap("records")
        cache = ValidationCache.from_json(files.load_cache())
        progress.validated(0, len(split.records))
        validation = validate_split(split, source.id, cache=cache)
        progress.validated(len(split.records), len(split.records))
        clock.lap("validate")
        outcome.accepted = record.accepted = len(validation.accepted)
        outcome.rejected = record.rejected = len(validation.rejected)
        outcome.warned = record.warned = len(validation.warned)
        outcome.revalidated = validation.revalidated
        outcome.rejections = {
            r.record.iri: sorted(r.violated_constraints()) for r in validation.rejected
        }
        share = settings.max_shrink
        if (
            state.accepted
            and outcome.accepted < state.accepted * (1 - share)
            and source.id not in accept_shrink
        ):
            outcome.status = record.status = HELD
            outcome.message, outcome.message_en = _shrink_message(
                state.accepted, outcome.accepted, share, source.id
            )
            return prepared
        outcome.status = record.status = LOADED
        record.loaded = True
        state.etag, state.last_modified = fetched.etag, fetched.last_modified
        state.content_hash, state.inputs = digest, inputs
        prepared.accepted = validation.accepted_ntriples()
        reports = report_ntriples(validation, Iris(settings.base_iri).report_graph(source.id))
        prepared.stored_report = reports.stored
        findings = findings_json(record_findings(validation))
        files.stage(prepared.accepted, reports.full, findings, cache.to_json())
        clock.lap("serialise")
    except FeedError as error:
        outcome.status = record.status = FAILED
        outcome.message, outcome.message_en = error.message("fr"), error.message("en")
    return prepared


def commit_source(run: _Run, source: Source, prepared: Prepared) -> Outcome:
    """Load a prepared source (the writer's part) and record what happened."""
    outcome, record = prepared.outcome, prepared.record
    if record.loaded:
        files = HarvestFiles(run.settings.data_dir, source.id)
        loading = time.monotonic()
        # Without a pending marker (repair runs first), the files hold what the store holds.
        previous, previous_report = files.accepted(), files.report()
        files.mark_pending()
        files.unstage()
        run.store.replace_graph(
            run.iris.source_graph(source.id), prepared.accepted, previous=previous or None
        )
        run.store.replace_graph(
            run.iris.report_graph(source.id),
            prepared.stored_report,
            previous=without_info(previous_report) if previous_report else None,
        )
        files.clear_pending()
        outcome.timings["load"] = time.monotonic() - loading
    record.message = outcome.message
    record.ended = run.now()
    _record(run, source, record, prepared.state)
    outcome.seconds = (record.ended - record.started).total_seconds()
    run.progress.finish(outcome)
    return outcome


class HarvestError(Exception):
    """A harvest that cannot start (unknown source, store unavailable…)."""


def harvest_sources(
    store: Store,
    settings: Settings,
    *,
    only: list[str] | None = None,
    accept_shrink: set[str] | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] = _now,
    head_start: HeadStart | None = None,
) -> list[Outcome]:
    """Harvest the catalog's sources (or ``only`` these) into ``store`` (a writer handle):
    remove the data of sources no longer in the catalog, then fetch, validate and load
    each enabled source. Repairing an interrupted run first (``repair``) and publishing
    are the caller's part.

    ``head_start``: work of another layer done beside the harvest (see ``HeadStart``)."""
    catalog = load_catalog(settings)
    by_id = {s.id: s for s in catalog}
    unknown = sorted(set(only or ()) - set(by_id))
    if unknown:
        raise HarvestError(f"unknown source(s): {', '.join(unknown)}")
    disabled = disabled_sources(settings.data_dir)
    selected = [by_id[i] for i in only] if only else catalog
    iris = Iris(settings.base_iri)
    run = _Run(
        settings, store, iris, progress or Progress(), now, set(accept_shrink or ()), head_start
    )
    for source_id in known_sources(settings.data_dir):
        if source_id not in by_id:
            remove_source_data(store, settings, iris, source_id)
    todo = [s for s in selected if s.id not in disabled]
    return _run_sources(run, todo)


def sources_holding(settings: Settings, iri: str) -> list[str]:
    """The sources whose accepted statements describe the record ``iri``."""
    needle = f"<{iri}> ".encode()
    return [
        s
        for s in known_sources(settings.data_dir)
        if any(
            line.startswith(needle)
            for line in HarvestFiles(settings.data_dir, s).accepted().splitlines()
        )
    ]


def suppress_record(store: Store, settings: Settings, iri: str) -> list[str]:
    """Remove a taken-down record from the sources' graphs in ``store`` (a writer handle)
    and from their accepted statements; returns the sources affected."""
    iris = Iris(settings.base_iri)
    affected = sources_holding(settings, iri)
    for source_id in affected:
        files = HarvestFiles(settings.data_dir, source_id)
        triples = [q.triple for q in ox.parse(files.accepted(), format=ox.RdfFormat.N_TRIPLES)]
        split = split_records(triples, source_id)
        split.records.pop(iri, None)
        kept = sorted({f"{t} .\n" for r in split.records.values() for t in r.triples})
        files.mark_pending()
        files.save_accepted("".join(kept).encode("utf-8"))
        store.replace_graph(iris.source_graph(source_id), files.accepted())
        files.clear_pending()
        log.info("source=%s takedown=%s", source_id, iri)
    return affected


# --- running sources, in worker processes when there are several -------------------


class _QueueProgress(Progress):
    """Progress events of a worker, sent to the parent's display."""

    def __init__(self, queue, source: str):
        self.queue, self.source = queue, source

    def fetched(self, size: int, total: int | None) -> None:
        self.queue.put(("fetched", self.source, size, total))

    def validated(self, done: int, total: int) -> None:
        self.queue.put(("validated", self.source, done, total))


_events = None


# Workers yield the CPU to the writer: its loads are the harvest's critical path.
WORKER_NICENESS = 5


def _init_worker(queue) -> None:
    global _events
    _events = queue
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


PerSource = Callable[[Settings, str, bytes], Any]


def _run_head_start(
    settings: Settings, source: Source, prepared: Prepared, per_source: PerSource | None
) -> None:
    if per_source is None or not prepared.record.loaded:
        return
    started = time.monotonic()
    try:
        prepared.noted = per_source(settings, source.id, prepared.accepted)
    except Exception:  # only a head start for another layer: the harvest goes on
        log.warning("source=%s head start failed", source.id, exc_info=True)
    prepared.outcome.timings["head start"] = time.monotonic() - started


def _prepare_in_worker(
    settings: Settings, source: Source, accept_shrink: frozenset, per_source: PerSource | None
) -> Prepared:
    # A feed is millions of short-lived, acyclic objects: the cyclic collector's full
    # passes over them cost up to a fifth of the time and free nothing until the end.
    gc.disable()
    try:
        prepared = prepare_source(
            settings, source, accept_shrink, _QueueProgress(_events, source.id)
        )
        _run_head_start(settings, source, prepared, per_source)
        return prepared
    finally:
        gc.enable()
        gc.collect()


def _run_sources(run: _Run, sources: list[Source]) -> list[Outcome]:
    """Prepare sources in ``harvest_workers`` processes (the CPU-heavy part) while this
    process, the only writer, loads each one as soon as it is ready."""
    accept = frozenset(run.accept_shrink)
    workers = min(run.settings.harvest_workers, len(sources))
    if workers <= 1:
        outcomes = []
        for source in sources:
            run.progress.start(source)
            prepared = prepare_source(run.settings, source, accept, run.progress)
            per_source = run.head_start.per_source if run.head_start else None
            _run_head_start(run.settings, source, prepared, per_source)
            outcomes.append(commit_source(run, source, prepared))
        return outcomes
    context = multiprocessing.get_context("forkserver")
    preload = ["harvester.harvest"]
    if run.head_start is not None:
        preload.append(run.head_start.per_source.__module__)
    context.set_forkserver_preload(preload)  # workers start without imports
    queue = context.Queue()
    by_id = {s.id: s for s in sources}
    relay = threading.Thread(target=_relay, args=(queue, run.progress, by_id), daemon=True)
    relay.start()
    outcomes_by_id: dict[str, Outcome] = {}
    # One process per source: each feed's memory budget is measured from a fresh
    # process, and what a big feed took is given back to the system at once.
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(queue,),
        max_tasks_per_child=1,
    )
    head_start = run.head_start
    per_source = head_start.per_source if head_start else None
    try:
        futures = {
            pool.submit(_prepare_in_worker, run.settings, s, accept, per_source): s for s in sources
        }
        starter = None
        if head_start is not None and head_start.after_all is not None:
            starter = threading.Thread(
                target=_start_after_all, args=(context, run.settings, head_start, futures)
            )
            starter.start()
        for future in as_completed(futures):
            source = futures[future]
            outcomes_by_id[source.id] = commit_source(run, source, future.result())
        if starter is not None:
            starter.join()  # its worker goes on after this returns: the caller collects it
    finally:
        pool.shutdown(wait=True)
        queue.put(None)
        relay.join(timeout=5)
        queue.close()
        queue.join_thread()
    return [outcomes_by_id[s.id] for s in sources]


def _start_after_all(
    context: multiprocessing.context.BaseContext,
    settings: Settings,
    head_start: HeadStart,
    futures: dict[Future, Source],
) -> None:
    """Once every source is prepared, start ``after_all`` in a worker of its own (the
    writer is still loading the last sources), if every loaded source was noted."""
    wait(futures)
    noted: dict[str, Any] = {}
    for future, source in futures.items():
        if future.exception() is not None:
            return
        prepared = future.result()
        if prepared.record.loaded:
            if prepared.noted is None:
                return
            noted[source.id] = prepared.noted
    if not noted:  # nothing new to work on
        return
    pool = ProcessPoolExecutor(1, mp_context=context, initializer=_init_after_all_worker)
    head_start._pool = pool
    head_start._pending = pool.submit(_after_all_in_worker, head_start.after_all, settings, noted)


def _init_after_all_worker() -> None:
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


def _after_all_in_worker(
    after_all: Callable[[Settings, dict[str, Any]], Any], settings: Settings, noted: dict
) -> Any:
    # at the workers' lower priority still: the writer's last loads, and the sources'
    # publication, come first
    collecting = gc.isenabled()
    gc.disable()
    try:
        return after_all(settings, noted)
    finally:
        if collecting:
            gc.enable()


def _relay(queue, progress: Progress, sources: dict[str, Source]) -> None:
    started: set[str] = set()
    while (event := queue.get()) is not None:
        kind, source_id, done, total = event
        if source_id not in started:
            started.add(source_id)
            progress.start(sources[source_id])
        getattr(progress, kind)(done, total)
