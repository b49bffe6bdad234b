"""Any SPARQL 1.1 server (Oxigraph server, Fuseki, Virtuoso, GraphDB…) as the store.

Only the three standard protocols are used: Query (URL-encoded POST, JSON results),
Update (POST ``application/sparql-update``) and the Graph Store HTTP Protocol.

Union default graph: servers disagree on what the default graph is (Oxigraph: a
real, separate graph unless started with ``--union-default-graph``; Fuseki: a TDB
option; Virtuoso: everything). So every query names its dataset explicitly with the
protocol's ``default-graph-uri`` and ``named-graph-uri`` parameters, both listing the
registry's named graphs: the default graph is then their union and ``GRAPH ?g`` ranges
over them, exactly as on the embedded store. The list costs one tiny query; it is
cached, dropped after each write made through this handle and, for readers, when
``refresh()`` sees a new generation (a graph created meanwhile joins the union then).

Readers of a remote store have no snapshots: each graph replacement is one request
(a Graph Store PUT or one SPARQL Update, each one transaction), so a reader sees a source's
old or new version, never half of one; the generation changes once, after the whole
harvest (``publish()``), and tells caches to refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import BinaryIO

import pyoxigraph as ox
import requests

from core.config import Settings
from core.store.base import (
    GENERATION_GRAPH,
    GENERATION_PREDICATE,
    REGISTRY_IRI,
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
    with_values,
)

TIMEOUT = (10, 300)  # seconds: connect, then each read
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
# Named as the whole dataset when the store holds no graph yet, so that a server's own
# idea of the default graph never leaks in.
NO_GRAPH = "https://w3id.org/ltc/graph/none"


class RemoteStore(Store):
    """A SPARQL 1.1 server reached through its Query, Update and Graph Store URLs."""

    def __init__(self, settings: Settings, *, writer: bool) -> None:
        self.writer = writer
        self.query_url = settings.store_query_url
        self.update_url = settings.store_update_url
        self.graph_store_url = settings.store_graph_store_url
        missing = [
            name
            for name, value in (
                ("store_query_url", self.query_url),
                ("store_update_url", self.update_url if writer else "-"),
                ("store_graph_store_url", self.graph_store_url if writer else "-"),
            )
            if not value
        ]
        if missing:
            variables = ", ".join(f"LTC_{name.upper()}" for name in missing)
            raise StoreError(
                f"store_backend is sparql but {', '.join(missing)} is empty: "
                f"set {variables} (or the config file) to the server's endpoint URL"
            )
        self._session: requests.Session | None = requests.Session()
        self._dataset: list[str] | None = None
        self._seen_generation: str | None = None

    # -- HTTP ------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        what: str,
        timeout: tuple[float, float] = TIMEOUT,
        **kwargs: object,
    ) -> requests.Response:
        if self._session is None:
            raise StoreError("this store handle is closed")
        try:
            response = self._session.request(method, url, timeout=timeout, **kwargs)
        except requests.RequestException as error:
            raise StoreError(
                f"cannot reach the SPARQL store at {url} ({what}): {error}. "
                "Is the server running, and are the store_*_url settings right?"
            ) from error
        if response.status_code >= 400 and not (method == "GET" and response.status_code == 404):
            raise StoreError(
                f"the SPARQL store at {url} answered {response.status_code} "
                f"{response.reason} to {what}: {response.text[:300]}"
            )
        return response

    def _post_query(self, query: str, accept: str, dataset: bool) -> requests.Response:
        form: list[tuple[str, str]] = [("query", query)]
        if dataset:
            graphs = self._union_graphs() or [NO_GRAPH]
            form += [("default-graph-uri", graph) for graph in graphs]
            form += [("named-graph-uri", graph) for graph in graphs]
        return self._request(
            "POST", self.query_url, "a query", data=form, headers={"Accept": accept}
        )

    def _results(self, query: str, dataset: bool = True) -> ox.QuerySolutions | ox.QueryBoolean:
        response = self._post_query(query, RESULTS_JSON, dataset)
        try:
            return ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as error:
            raise StoreError(
                f"the SPARQL store at {self.query_url} did not answer with SPARQL JSON "
                f"results: {error}"
            ) from error

    def dataset_graphs(self) -> list[str]:
        """The registry's named graphs: the dataset a query of the union is asked over."""
        return list(self._union_graphs())

    def _union_graphs(self) -> list[str]:
        if self._dataset is None:
            if self._seen_generation is None:  # so that refresh() can tell what changed
                self._seen_generation = self.generation()
            self._dataset = sorted(self._all_graphs())
        return self._dataset

    def _solutions(self, query: str, dataset: bool) -> ox.QuerySolutions:
        result = self._results(query, dataset)
        if not isinstance(result, ox.QuerySolutions):
            raise StoreError("select() needs a SELECT query")
        return result

    def _all_graphs(self) -> set[str]:
        rows = self._solutions(
            "SELECT ?g WHERE { GRAPH ?g {} FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }",
            dataset=False,
        )
        return {
            node.value
            for row in rows
            if isinstance(node := row["g"], ox.NamedNode) and node.value not in RESERVED_GRAPHS
        }

    # -- queries ---------------------------------------------------------------------

    def select(
        self, query: str, bindings: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        result = self._solutions(with_values(query, checked_bindings(bindings)), dataset=True)
        names = [variable.value for variable in result.variables]
        return [{name: term for name in names if (term := row[name]) is not None} for row in result]

    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool:
        result = self._results(with_values(query, checked_bindings(bindings)))
        if not isinstance(result, ox.QueryBoolean):
            raise StoreError("ask() needs an ASK query")
        return bool(result)

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        response = self._post_query(
            with_values(query, checked_bindings(bindings)), N_TRIPLES, dataset=True
        )
        try:
            return [
                quad.triple
                for quad in ox.parse(input=response.content, format=ox.RdfFormat.N_TRIPLES)
            ]
        except SyntaxError as error:
            raise StoreError(
                f"the SPARQL store at {self.query_url} did not answer with N-Triples: {error}"
            ) from error

    # -- writes ----------------------------------------------------------------------

    def update(self, sparql_update: str) -> None:
        self._require_writer()
        self._upload(
            "POST",
            self.update_url,
            "an update",
            sparql_update.encode("utf-8"),
            content_type="application/sparql-update; charset=utf-8",
        )

    def _upload(
        self,
        method: str,
        url: str,
        what: str,
        body: bytes,
        graph: str | None = None,
        content_type: str = N_TRIPLES,
    ) -> None:
        """Send a write. urllib3 bounds each send of the body by the *connect* timeout,
        and a busy server may not read a big body for longer than that (Oxigraph server
        loads 300 000 triples in ~20 s), so big bodies get the read timeout for both."""
        self._dataset = None
        timeout = TIMEOUT if len(body) < 1_000_000 else (TIMEOUT[1], TIMEOUT[1])
        self._request(
            method,
            url,
            what,
            params={"graph": graph} if graph else None,
            data=body,
            headers={"Content-Type": content_type},
            timeout=timeout,
        )

    def graph_ntriples(self, graph: str) -> bytes:
        if not self.graph_store_url:
            raise StoreError("set store_graph_store_url to read whole graphs from the store")
        graph_node(graph)
        response = self._request(
            "GET",
            self.graph_store_url,
            f"reading <{graph}>",
            params={"graph": graph},
            headers={"Accept": N_TRIPLES},
        )
        return b"" if response.status_code == 404 else response.content

    def replace_graph(self, graph: str, ntriples: bytes, previous: bytes | None = None) -> None:
        """Make the graph hold exactly ``ntriples`` in one request, so the server's
        readers see the old or the new graph, never a mix.

        A graph the server does not hold yet, or blank nodes on either side (SPARQL
        cannot name a stored blank node), go as one Graph Store Protocol ``PUT``.
        Otherwise the stored graph is read back and only the difference is sent, as one
        SPARQL Update (DELETE DATA + INSERT DATA: one transaction): Oxigraph server
        needs ~48 s to PUT 300 000 triples over an existing graph, which it clears and
        reloads in a transaction, but ~5 s to read it back and apply a 1 % difference.
        Empty content drops the graph. Invalid N-Triples are refused before sending.
        ``previous``, when the caller knows the graph's current content, saves reading
        it back.
        """
        self._require_writer()
        node = graph_node(graph, writing=True)
        new_lines, new_blank = canonical_lines(ntriples, f"the new content of <{graph}>")
        if not new_lines:
            self.drop_graph(graph)
            return
        stored = self.graph_ntriples(graph) if previous is None else previous
        old_lines, old_blank = canonical_lines(stored, f"the content of <{graph}> on the server")
        if not old_lines or new_blank or old_blank:
            self._upload("PUT", self.graph_store_url, f"replacing <{graph}>", ntriples, graph)
            return
        remove = old_lines - new_lines
        add = new_lines - old_lines
        if remove or add:
            self.update(delta_update(node, sorted(remove), sorted(add)))

    def drop_graph(self, graph: str) -> None:
        self._require_writer()
        node = graph_node(graph, writing=True)
        self.update(f"DROP SILENT GRAPH {node}")

    def named_graphs(self) -> set[str]:
        return self._all_graphs()

    # -- generations -------------------------------------------------------------------

    def publish(self) -> str:
        """Replace the generation triple in its reserved graph (one update request)."""
        self._require_writer()
        generation = next_generation([self.generation()])
        graph = ox.NamedNode(GENERATION_GRAPH)
        triple = (
            f"{ox.NamedNode(REGISTRY_IRI)} {ox.NamedNode(GENERATION_PREDICATE)} "
            f"{ox.Literal(generation)}"
        )
        self.update(f"DROP SILENT GRAPH {graph} ;\nINSERT DATA {{ GRAPH {graph} {{ {triple} }} }}")
        self._seen_generation = generation
        return generation

    def generation(self) -> str:
        rows = self._solutions(
            f"SELECT ?generation WHERE {{ GRAPH <{GENERATION_GRAPH}> "
            f"{{ <{REGISTRY_IRI}> <{GENERATION_PREDICATE}> ?generation }} }}",
            dataset=False,
        )
        values = [str(row["generation"].value) for row in rows]
        return max(values, key=generation_number, default="")

    def refresh(self) -> bool:
        """True when the generation changed since this handle last looked; the list of
        graphs making up the union is then fetched again on the next query."""
        generation = self.generation()
        changed = self._seen_generation is not None and generation != self._seen_generation
        if generation != self._seen_generation:
            self._dataset = None
        self._seen_generation = generation
        return changed

    # -- export and life cycle -------------------------------------------------------

    def dump_nquads(self, out: BinaryIO) -> None:
        for graph in sorted(self.named_graphs()):
            nquads_of_graph(self.graph_ntriples(graph), graph, out)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
