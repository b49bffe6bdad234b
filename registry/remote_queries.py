"""Public SPARQL queries on a remote store (``store_backend = "sparql"``).

The same contract as ``QueryPool.run`` (format, timeout, row cap, the same errors), but
the server runs the query: the registry asks it over the union of its named graphs (or
the graphs the client named), gives up after ``sparql_timeout`` seconds, reads at most
``MAX_ANSWER_BYTES``, and re-serialises at most ``sparql_max_rows`` rows in the format
the client asked for. Giving up does not stop the query on the server: give the server
its own timeout too (Fuseki, Virtuoso and GraphDB have one).
"""

from __future__ import annotations

from itertools import islice

import pyoxigraph as ox
import requests

from core.config import Settings
from core.store.remote import RemoteStore
from registry.query_workers import (
    GRAPH_FORMATS,
    QueryAnswer,
    QueryFailed,
    QueryInvalid,
    QueryTimeout,
    serialize_answer,
)

MAX_ANSWER_BYTES = 256 * 1024 * 1024
ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"


class RemoteQueries:
    """Runs guarded public queries on the remote store's query endpoint."""

    def __init__(self, settings: Settings, store: RemoteStore) -> None:
        self.url = settings.store_query_url
        self.timeout = settings.sparql_timeout
        self.max_rows = settings.sparql_max_rows
        self._store = store
        self._session = requests.Session()

    def run(
        self,
        query: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        result_format: str = "json",
        generation: str | None = None,
    ) -> QueryAnswer:
        """Answer one query (see ``QueryPool.run``); a remote store has no snapshots, so
        ``generation`` cannot be chosen: the server answers from what it holds now."""
        if default_graphs is None and named_graphs is None:
            default_graphs = named_graphs = self._store.dataset_graphs()
        form = [("query", query)]
        form += [("default-graph-uri", g) for g in default_graphs or []]
        form += [("named-graph-uri", g) for g in named_graphs or []]
        try:
            with self._session.post(
                self.url,
                data=form,
                headers={"Accept": ACCEPT},
                timeout=(5, self.timeout),
                stream=True,
            ) as response:
                body = _read_capped(response)
                status, media_type = response.status_code, response.headers.get("Content-Type", "")
        except requests.Timeout:
            raise QueryTimeout(f"the store did not answer within {self.timeout} s") from None
        except requests.RequestException as error:
            raise QueryFailed(f"cannot reach the SPARQL store: {error}") from error
        if status == 400:
            raise QueryInvalid(body.decode("utf-8", "replace")[:500])
        if status >= 300:
            raise QueryFailed(f"the SPARQL store answered {status}")
        try:
            if media_type.startswith("application/n-triples"):
                return self._triples(body, result_format)
            result = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as error:
            raise QueryFailed(f"unreadable answer from the SPARQL store: {error}") from error
        try:
            return QueryAnswer(*serialize_answer(result, result_format, self.max_rows))
        except ValueError as error:
            raise QueryInvalid(str(error)) from error

    def _triples(self, body: bytes, result_format: str) -> QueryAnswer:
        graph_format = GRAPH_FORMATS.get(result_format.lower())
        if graph_format is None:
            raise QueryInvalid(f"unsupported format for CONSTRUCT/DESCRIBE: {result_format}")
        quads = ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
        triples = [quad.triple for quad in islice(quads, self.max_rows + 1)]
        kept = triples[: self.max_rows]
        return QueryAnswer(
            ox.serialize(kept, format=graph_format) or b"",
            graph_format.media_type,
            len(triples) > self.max_rows,
        )

    def close(self) -> None:
        self._session.close()


def _read_capped(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(1 << 16):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise QueryFailed(f"the store's answer is larger than {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
