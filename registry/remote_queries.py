"""Public SPARQL queries on a remote store (``store_backend = "sparql"``).

The same contract as ``QueryPool.run`` (format, timeout, row cap, the same errors), but
the server runs the query: the registry asks it over the union of the registry's own
graphs (the list it publishes; or the graphs the client named, never an empty dataset),
with the ``Accept`` header the query's form calls for, gives up after ``sparql_timeout``
seconds, reads at most ``MAX_ANSWER_BYTES``, fixes the values the server is known to
change (``core.store.remote``: the probe) and re-serialises at most ``sparql_max_rows``
rows in the format the client asked for.

``truncated`` (the ``X-LTC-Truncated`` header) is set when the registry cut the answer
at ``sparql_max_rows`` and also when the *server* cut it below that (its
``X-SPARQL-MaxRows`` header, or as many rows as its row limit): such an answer is
marked, never passed off as complete.

Errors: a query the server refuses as wrong is the client's fault (``QueryInvalid``,
400, with the server's message); a server that fails, cannot be reached or answers
something unreadable is the store's fault (``QueryFailed``, 502); giving up after the
timeout is ``QueryTimeout`` (503). Giving up does not stop the query on the server: give
the server its own timeout too (Virtuoso's ``MaxQueryExecutionTime``).
"""

from __future__ import annotations

import pyoxigraph as ox

from core.config import Settings
from core.store import StoreError
from core.store.remote import QueryRejected, RemoteStore, StoreTimeout
from registry.query_workers import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    QueryAnswer,
    QueryFailed,
    QueryInvalid,
    QueryTimeout,
)

MAX_ANSWER_BYTES = 256 * 1024 * 1024


class RemoteQueries:
    """Runs guarded public queries on the remote store's query endpoint."""

    def __init__(self, settings: Settings, store: RemoteStore) -> None:
        self.url = settings.store_query_url
        self.timeout = settings.sparql_timeout
        self.max_rows = settings.sparql_max_rows
        self._store = store

    def run(
        self,
        query: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        result_format: str = "json",
        generation: str | None = None,
    ) -> QueryAnswer:
        """Answer one query (see ``QueryPool.run``). A remote store has no snapshots: the
        server answers from what it holds now, over the graphs of ``generation`` (the
        request's) when the client names none."""
        try:
            if generation and generation != self._store.generation():
                self._store.refresh()
            answer = self._store.query(
                query,
                default_graphs=default_graphs,
                named_graphs=named_graphs,
                timeout=self.timeout,
                max_bytes=MAX_ANSWER_BYTES,
            )
        except StoreTimeout:
            raise QueryTimeout(f"the store did not answer within {self.timeout:g} s") from None
        except QueryRejected as error:
            raise QueryInvalid(_server_message(str(error))) from error
        except StoreError as error:
            raise QueryFailed(str(error)) from error
        name = result_format.lower()
        if answer.triples is not None:
            return self._graph(answer.triples, name, answer.cut)
        results_format = RESULT_FORMATS.get(name) or ox.QueryResultsFormat.from_media_type(name)
        if results_format is None:
            raise QueryInvalid(f"unsupported format for SELECT/ASK: {result_format}")
        if answer.boolean is not None:
            value = "true" if answer.boolean else "false"
            boolean = ox.parse_query_results(
                f'{{"head":{{}},"boolean":{value}}}'.encode(), ox.QueryResultsFormat.JSON
            )
            body = boolean.serialize(format=results_format)
            return QueryAnswer(body, results_format.media_type, False)
        kept = answer.rows[: self.max_rows]
        truncated = len(answer.rows) > self.max_rows or answer.cut
        return QueryAnswer(
            _solutions(answer.variables, kept).serialize(format=results_format),
            results_format.media_type,
            truncated,
        )

    def _graph(self, triples: list[ox.Triple], name: str, cut: bool) -> QueryAnswer:
        graph_format = GRAPH_FORMATS.get(name) or ox.RdfFormat.from_media_type(name)
        if graph_format is None:
            raise QueryInvalid(f"unsupported format for CONSTRUCT/DESCRIBE: {name}")
        kept = triples[: self.max_rows]
        return QueryAnswer(
            ox.serialize(kept, format=graph_format) or b"",
            graph_format.media_type,
            len(triples) > self.max_rows or cut,
        )

    def close(self) -> None:
        self._store.close()


def _solutions(variables: list[str], rows: list[dict[str, ox.NamedNode | ox.Literal]]):
    """Rows as a ``QuerySolutions`` to serialise: written as TSV (terms in their
    N-Triples form, lossless) and read back."""
    if variables:
        lines = ["\t".join(f"?{name}" for name in variables)]
        lines += [
            "\t".join(str(row[name]) if name in row else "" for name in variables) for row in rows
        ]
        return ox.parse_query_results(("\n".join(lines) + "\n").encode(), ox.QueryResultsFormat.TSV)
    bindings = ",".join("{}" for _ in rows)
    return ox.parse_query_results(
        f'{{"head":{{"vars":[]}},"results":{{"bindings":[{bindings}]}}}}'.encode(),
        ox.QueryResultsFormat.JSON,
    )


def _server_message(message: str) -> str:
    """The server's own words about the query, without the registry's framing."""
    _, _, said = message.partition(" to a query: ")
    return (said or message)[:500]
