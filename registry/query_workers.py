"""Public SPARQL queries in killable worker processes.

pyoxigraph has no query timeout and a signal cannot interrupt a running query, so a
runaway public query can only be stopped by killing the process that runs it. Each
worker is a process (``forkserver`` context: no copy of the web tier's threads or
sockets) that opens the embedded store's read-only snapshot of the generation each
query names (the one its request answers from; the published one otherwise), and sends
the serialised answer back over a Pipe. The parent waits ``timeout`` seconds; then it
SIGKILLs the worker, starts a fresh one and raises ``QueryTimeout``, while the other
workers keep answering.

Only the embedded backend needs this. With ``store_backend = "sparql"`` the remote
server runs the queries and its own timeout applies (``oxigraph serve --timeout-s``),
so ``QueryPool`` refuses that backend.

Queries must have passed ``registry.sparql_guard.check_query`` first: the workers run
what they are given (the guard keeps out SERVICE, updates and deep nesting).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import threading
from dataclasses import dataclass
from itertools import islice
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import pyoxigraph as ox

from core.config import Settings

RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


WORKER_START_GRACE = 20.0  # seconds a new worker may take to start, on top of the timeout
WORKER_NICENESS = 10  # query workers run after the web process's threads


class QueryError(Exception):
    """A query could not be answered (base class)."""


class QueryTimeout(QueryError):
    """The query ran longer than the pool's timeout; its worker was killed."""


class QueryFailed(QueryError):
    """The worker died or the store failed; the worker was replaced."""


class QueryInvalid(QueryError):
    """The query or the requested format is wrong (the client's fault: HTTP 400)."""


@dataclass(frozen=True)
class QueryAnswer:
    """A serialised answer; ``truncated`` when rows beyond ``max_rows`` were dropped."""

    body: bytes
    media_type: str
    truncated: bool


# -- worker side ---------------------------------------------------------------------------


def serialize_answer(result: object, result_format: str, max_rows: int) -> tuple[bytes, str, bool]:
    """A query result in ``result_format``, cut at ``max_rows`` (body, media type, cut)."""
    name = result_format.lower()
    if isinstance(result, ox.QueryTriples):
        graph_format = GRAPH_FORMATS.get(name) or ox.RdfFormat.from_media_type(name)
        if graph_format is None:
            raise ValueError(f"unsupported format for CONSTRUCT/DESCRIBE: {result_format}")
        triples = list(islice(result, max_rows + 1))
        body = ox.serialize(triples[:max_rows], format=graph_format)
        return body or b"", graph_format.media_type, len(triples) > max_rows
    results_format = RESULT_FORMATS.get(name) or ox.QueryResultsFormat.from_media_type(name)
    if results_format is None:
        raise ValueError(f"unsupported format for SELECT/ASK: {result_format}")
    if isinstance(result, ox.QueryBoolean):
        return result.serialize(format=results_format), results_format.media_type, False
    assert isinstance(result, ox.QuerySolutions)
    variables = [variable.value for variable in result.variables]
    rows = list(islice(result, max_rows + 1))
    truncated = len(rows) > max_rows
    # The solutions iterator cannot be rewound, so the kept rows are written as TSV (terms
    # in their N-Triples form, lossless) and read back: pyoxigraph then serialises them.
    if variables:
        lines = ["\t".join(f"?{name}" for name in variables)]
        lines += [
            "\t".join("" if term is None else str(term) for term in row) for row in rows[:max_rows]
        ]
        kept = ox.parse_query_results(("\n".join(lines) + "\n").encode(), ox.QueryResultsFormat.TSV)
    else:
        bindings = ",".join("{}" for _ in rows[:max_rows])
        kept = ox.parse_query_results(
            f'{{"head":{{"vars":[]}},"results":{{"bindings":[{bindings}]}}}}'.encode(),
            ox.QueryResultsFormat.JSON,
        )
    assert isinstance(kept, ox.QuerySolutions)
    return kept.serialize(format=results_format), results_format.media_type, truncated


def _worker_main(connection: Connection, settings: Settings) -> None:
    """Serve queries from the parent until it sends None or goes away."""
    from core.store import StoreError
    from core.store.embedded import EmbeddedStore

    # a runaway public query must not take the CPU from the public pages
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    store: EmbeddedStore | None = None
    with contextlib.suppress(StoreError):  # nothing published yet: retried at each query
        store = EmbeddedStore(settings, writer=False)
    with contextlib.suppress(OSError):
        connection.send(("ready",))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        query, default_graphs, named_graphs, result_format, max_rows, generation = request
        try:
            if generation and (store is None or store.generation() != generation):
                store = EmbeddedStore(settings, writer=False, generation=generation)
            elif store is None:
                store = EmbeddedStore(settings, writer=False)  # maybe published since
            elif not generation:
                store.refresh()
            options: dict[str, Any] = {}
            if default_graphs is not None:
                options["default_graph"] = [ox.NamedNode(iri) for iri in default_graphs]
            else:
                options["use_default_graph_as_union"] = True
            if named_graphs is not None:
                options["named_graphs"] = [ox.NamedNode(iri) for iri in named_graphs]
            result = store._db.query(query, **options)
            answer = ("ok", *serialize_answer(result, result_format, max_rows))
        except (SyntaxError, ValueError) as error:
            answer = ("invalid", str(error))
        except StoreError as error:
            answer = ("failed", str(error))
        except Exception as error:  # reported; the worker lives on
            answer = ("failed", f"{type(error).__name__}: {error}")
        connection.send(answer)


# -- parent side ---------------------------------------------------------------------------


class _Worker:
    def __init__(self, context: Any, settings: Settings) -> None:
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_worker_main, args=(child, settings), daemon=True, name="ltc-query-worker"
        )
        self.process.start()
        child.close()
        self.fresh = True  # has not said "ready" yet: still starting (interpreter, snapshot)

    def stop(self, *, kill: bool) -> None:
        if not kill:
            with contextlib.suppress(OSError):
                self.connection.send(None)
            self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()
        self.process.close()


class QueryPool:
    """A fixed number of worker processes answering read-only queries, each query cut
    at ``timeout`` seconds and capped at ``max_rows`` rows (or triples)."""

    def __init__(
        self, settings: Settings, *, workers: int = 2, timeout: float = 10.0, max_rows: int = 10000
    ) -> None:
        if settings.store_backend != "embedded":
            raise ValueError(
                f"QueryPool serves the embedded store only, not store_backend="
                f"{settings.store_backend!r}: with a remote SPARQL server, send the query to "
                "it and rely on its own timeout (e.g. `oxigraph serve --timeout-s`)"
            )
        self.settings = settings
        self.timeout = timeout
        self.max_rows = max_rows
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["pyoxigraph", "registry.query_workers"])
        self._lock = threading.Lock()
        self._closed = False
        self._all: list[_Worker] = []
        self._idle: queue.Queue[_Worker] = queue.Queue()
        for _ in range(max(1, workers)):
            self._idle.put(self._start())

    def _start(self) -> _Worker:
        worker = _Worker(self._context, self.settings)
        with self._lock:
            self._all.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        with self._lock:
            owned = worker in self._all
            if owned:
                self._all.remove(worker)
        if owned:  # else close() has already stopped it
            worker.stop(kill=True)
        if not self._closed:
            self._idle.put(self._start())

    def run(
        self,
        query: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        result_format: str = "json",
        generation: str | None = None,
    ) -> QueryAnswer:
        """Answer one query in a worker; ``result_format`` is a short name (json, xml, csv,
        tsv; turtle, ntriples, rdfxml, jsonld) or a media type; ``generation``, the one
        to answer from (default: the published one). Waits at most ``timeout`` for a
        free worker and ``timeout`` for the answer."""
        if self._closed:
            raise QueryFailed("the query pool is closed")
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            raise QueryTimeout(f"every query worker stayed busy for {self.timeout} s") from None
        try:
            if worker.fresh:  # the timeout counts the query, not the worker's start
                if not worker.connection.poll(WORKER_START_GRACE):
                    self._replace(worker)
                    raise QueryFailed("a query worker did not start in time")
                worker.connection.recv()  # ("ready",)
                worker.fresh = False
            worker.connection.send(
                (query, default_graphs, named_graphs, result_format, self.max_rows, generation)
            )
            if not worker.connection.poll(self.timeout):
                self._replace(worker)
                raise QueryTimeout(f"the query ran longer than {self.timeout} s and was stopped")
            answer = worker.connection.recv()
        except (EOFError, OSError) as error:
            self._replace(worker)
            raise QueryFailed(f"the query worker died ({error or 'no answer'})") from error
        self._idle.put(worker)
        if answer[0] == "ok":
            return QueryAnswer(body=answer[1], media_type=answer[2], truncated=answer[3])
        if answer[0] == "invalid":
            raise QueryInvalid(answer[1])
        raise QueryFailed(answer[1])

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (monitoring, tests)."""
        with self._lock:
            return [worker.process.pid for worker in self._all if worker.process.pid]

    def close(self) -> None:
        """Stop every worker (killing those still busy)."""
        self._closed = True
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.stop(kill=False)

    def __enter__(self) -> QueryPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
