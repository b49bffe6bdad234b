"""``/sparql``: the SPARQL 1.1 Protocol over the published snapshot, read-only.

A request goes: query text and graph parameters → guard (refusals before any
evaluation) → format by content negotiation (or ``format=``) → ETag check (304) → the
same answer kept in memory → the client's allowance (``registry.limits.spend_sparql``)
→ a slot (``sparql_slots``: 503 at once when the workers and their short queue are
taken, 429 beyond ``sparql_per_client``) → a killable worker (timeout, row cap). Errors
are answered by ``registry.errors``.

The answer's format: ``format``, ``output`` or ``results`` (whichever a client sends:
SPARQLWrapper sends all three), read by the query's form — ``xml`` is SPARQL XML for a
SELECT and RDF/XML for a CONSTRUCT, ``json`` SPARQL JSON or JSON-LD, ``n3`` and ``ttl``
Turtle… —, a value that names nothing for that form falling back to ``Accept``.

An answer already computed for the same generation, query, format and graphs is served
again from memory (``registry.caching.kept_bodies``) without a query worker and without
spending the client's allowance (``registry.limits.spend_sparql``): a federating engine
(Comunica…) repeats many of its sub-queries. A client's query that finds all its own
``sparql_per_client`` queries in progress waits ``OWN_TURN_WAIT`` for one of them to end
before getting 429: an engine's sub-queries take milliseconds each.

``GET /sparql`` without a query is the SPARQL 1.1 service description (Turtle, JSON-LD,
N-Triples, RDF/XML) for programs asking for one of these, the query page for browsers.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import time
from collections.abc import Iterator

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from core.iris import Iris
from core.resources import folder
from core.vocab import DCT, RDF_TYPE, RDFS, VOID
from registry.caching import cached, kept_bodies
from registry.dataset import graph_sizes
from registry.limits import spend_sparql
from registry.linked_data import best_accepted
from registry.query_workers import QueryAnswer
from registry.rate_limit import RateLimited
from registry.runtime import (
    app_settings,
    client,
    generation,
    query_pool,
    read_store,
    sparql_slots,
)
from registry.sparql_guard import QueryInfo, QueryRefused, check_graph_iris, check_query

blueprint = Blueprint("sparql", __name__)

# Media types offered for each kind of answer, the first being the default; the
# values are the short names QueryPool understands (also the ``format`` parameter).
SOLUTION_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
GRAPH_TYPES: dict[str, str] = {
    "text/turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/rdf+xml": "rdfxml",
    "application/ld+json": "jsonld",
    "application/x-turtle": "turtle",
    "application/turtle": "turtle",
    "text/plain": "ntriples",
    "application/xml": "rdfxml",
    "application/json": "jsonld",
}
SOLUTION_FORMATS = frozenset(SOLUTION_TYPES.values())
GRAPH_FORMATS = frozenset(GRAPH_TYPES.values())
# ``format`` / ``output`` / ``results`` values, by kind of answer: the short names, the
# media types, and what common clients send (SPARQLWrapper: xml, json, n3, turtle,
# json-ld, csv, tsv; Virtuoso's and Fuseki's own names).
SOLUTION_NAMES: dict[str, str] = {
    **SOLUTION_TYPES,
    **{name: name for name in SOLUTION_FORMATS},
    "srj": "json",
    "srx": "xml",
    "sparql-results+json": "json",
    "sparql-results+xml": "xml",
    "text": "tsv",
}
GRAPH_NAMES: dict[str, str] = {
    **GRAPH_TYPES,
    **{name: name for name in GRAPH_FORMATS},
    "xml": "rdfxml",
    "rdf": "rdfxml",
    "rdf+xml": "rdfxml",
    "rdf/xml": "rdfxml",
    "json": "jsonld",
    "json-ld": "jsonld",
    "ld+json": "jsonld",
    "ttl": "turtle",
    "n3": "turtle",  # Turtle is N3 (what N3 parsers read)
    "text/n3": "turtle",
    "text/rdf+n3": "turtle",
    "application/n3": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
}
FORMAT_PARAMETERS = ("format", "output", "results")
OWN_TURN_WAIT = 0.5  # seconds a query may wait for one of its client's own to end
# the service description: media type → pyoxigraph format
DESCRIPTION_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
ENTAILMENT = "http://www.w3.org/ns/entailment/"
RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "RDF_XML",
    "JSON-LD",
)


@blueprint.after_request
def _vary(response: Response) -> Response:
    response.vary.add("Accept")
    return response


@blueprint.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    """Answer one SPARQL query (SPARQL 1.1 Protocol, query operation)."""
    settings = app_settings()
    query, default_graphs, named_graphs = _protocol_parameters()
    if query is None:
        if "update" in request.values:
            raise QueryRefused(
                "les mises à jour SPARQL sont refusées : ce point d'accès est en lecture seule",
                "SPARQL updates are refused: this endpoint is read-only",
            )
        if request.method == "GET":
            # an RDF syntax asked for by name: the service description (``*/*`` alone
            # still gets the 400 below, which says what is missing)
            asked = {value.split(";")[0].strip() for value, q in request.accept_mimetypes if q}
            best = best_accepted([*DESCRIPTION_TYPES, "text/html", "application/xhtml+xml"])
            if asked & set(DESCRIPTION_TYPES) and best in DESCRIPTION_TYPES:
                return service_description(best)
            if "text/html" in request.accept_mimetypes.values():
                return editor_page(example_query(request.args.get("example", "")))
        raise QueryRefused(
            "paramètre query manquant (GET ?query=…, ou POST)",
            "missing query parameter (GET ?query=…, or POST)",
        )
    allowed = (settings.base_iri.rstrip("/") + "/graph/",)
    check_graph_iris([*default_graphs, *named_graphs], allowed)
    info = check_query(
        query,
        max_length=settings.sparql_max_body,
        max_depth=settings.sparql_max_depth,
        allowed_graph_prefixes=allowed,
    )
    as_page = request.values.get("format") == "html"
    if as_page:  # the query page's own answer: a table (solutions) or Turtle (graphs)
        result_format = "turtle" if info.form in ("CONSTRUCT", "DESCRIBE") else "json"
    else:
        result_format = _negotiate(info)
    served = generation()
    etag = _etag(served, query, result_format, as_page, default_graphs, named_graphs)
    if etag in request.if_none_match:
        return _cacheable(Response(status=304), etag)

    def run() -> Response:
        """Evaluate the query: the client's allowance, a slot, a worker."""
        spend_sparql()
        # at most a few SPARQL requests hold a thread at once (public pages keep theirs)
        with _own_turn(client()):
            answer = query_pool().run(
                query,
                default_graphs=default_graphs or None,
                named_graphs=named_graphs or None,
                result_format=result_format,
                generation=served,
            )
        if as_page:
            return editor_page(query, answer)
        response = Response(answer.body, mimetype=answer.media_type)
        if answer.media_type.startswith("text/"):
            response.charset = "utf-8"
        if answer.truncated:
            response.headers["X-LTC-Truncated"] = "true"
        return response

    # the same answer of the same generation is served again from memory: no worker,
    # no allowance spent
    return _cacheable(kept_bodies().get("sparql:" + etag, run), etag)


@contextlib.contextmanager
def _own_turn(who: str) -> Iterator[None]:
    """``sparql_slots().hold(who)``; when the refusal is for the client's own share
    (``sparql_per_client`` queries in progress), wait up to ``OWN_TURN_WAIT`` for one of
    them to end first. A full process (``Busy``) is answered at once."""
    deadline = time.monotonic() + OWN_TURN_WAIT
    with contextlib.ExitStack() as held:
        while True:
            try:
                held.enter_context(sparql_slots().hold(who))
                break
            except RateLimited:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.005)
        yield


def _protocol_parameters() -> tuple[str | None, list[str], list[str]]:
    """The query text and the graph parameters, from the URL, a form or the body."""
    length = request.content_length
    if length is not None and length > app_settings().sparql_max_body:
        raise RequestEntityTooLarge()
    args = request.args
    query = args.get("query")
    default_graphs = args.getlist("default-graph-uri")
    named_graphs = args.getlist("named-graph-uri")
    if request.method == "POST":
        mimetype = request.mimetype
        if mimetype == "application/x-www-form-urlencoded":
            form = request.form
            query = form.get("query")
            default_graphs += form.getlist("default-graph-uri")
            named_graphs += form.getlist("named-graph-uri")
        elif mimetype == "application/sparql-query":
            query = request.get_data(cache=False).decode("utf-8", errors="replace")
        else:
            raise QueryRefused(
                "type de contenu non pris en charge : envoyez application/sparql-query ou "
                "application/x-www-form-urlencoded",
                "unsupported content type: send application/sparql-query or "
                "application/x-www-form-urlencoded",
                415,
            )
    return query, default_graphs, named_graphs


def _negotiate(info: QueryInfo) -> str:
    """The short name of the answer's format: ``format``/``output``/``results`` first (the
    first value that names a format for this query's form), then Accept."""
    graph_answer = info.form in ("CONSTRUCT", "DESCRIBE")
    offered = GRAPH_TYPES if graph_answer else SOLUTION_TYPES
    names = GRAPH_NAMES if graph_answer else SOLUTION_NAMES
    for parameter in FORMAT_PARAMETERS:
        for value in request.values.getlist(parameter):
            name = names.get(value.strip().lower())
            if name is not None:
                return name
    best = best_accepted(list(offered))
    return offered[best] if best else next(iter(offered.values()))


def service_description(media_type: str) -> Response:
    """The SPARQL 1.1 service description of this endpoint, in ``media_type``."""

    def build() -> Response:
        triples = description_triples()
        body = ox.serialize(triples, format=DESCRIPTION_TYPES[media_type], prefixes=_PREFIXES)
        response = Response(body, mimetype=media_type)
        if media_type.startswith("text/"):
            response.charset = "utf-8"
        return response

    return cached(build, "service-description", media_type)


_PREFIXES = {"sd": SD, "formats": FORMATS, "void": VOID, "dct": DCT, "rdfs": RDFS}


def description_triples() -> list[ox.Triple]:
    """``sd:Service`` with its endpoint, language, result formats, features and the
    dataset a query runs over: the union of the named graphs as default graph, and each
    named graph (source, report, metadata, derived graph) with its size."""
    iris = Iris(app_settings().base_iri)
    endpoint = ox.NamedNode(iris.base + "sparql")
    service = ox.NamedNode(iris.base + "sparql#service")
    dataset = ox.NamedNode(iris.base + "sparql#dataset")
    default = ox.BlankNode("defaultGraph")
    triples: list[ox.Triple] = []

    def add(subject: ox.NamedNode | ox.BlankNode, predicate: str, value: ox.Term) -> None:
        triples.append(ox.Triple(subject, ox.NamedNode(predicate), value))

    add(service, RDF_TYPE, ox.NamedNode(SD + "Service"))
    add(service, SD + "endpoint", endpoint)
    add(service, SD + "supportedLanguage", ox.NamedNode(SD + "SPARQL11Query"))
    for name in RESULT_FORMATS:
        add(service, SD + "resultFormat", ox.NamedNode(FORMATS + name))
    add(service, SD + "feature", ox.NamedNode(SD + "UnionDefaultGraph"))
    add(service, SD + "defaultEntailmentRegime", ox.NamedNode(ENTAILMENT + "Simple"))
    add(service, RDFS + "label", ox.Literal("Registre LTC — point d'accès SPARQL", language="fr"))
    add(service, RDFS + "label", ox.Literal("LTC Registry — SPARQL endpoint", language="en"))
    add(service, SD + "defaultDataset", dataset)
    add(dataset, RDF_TYPE, ox.NamedNode(SD + "Dataset"))
    add(dataset, DCT + "source", ox.NamedNode(iris.base + "dataset"))  # its VoID (/void)
    add(dataset, SD + "defaultGraph", default)
    add(default, RDF_TYPE, ox.NamedNode(SD + "Graph"))
    sizes, subjects = graph_sizes(read_store())
    add(default, VOID + "triples", ox.Literal(sum(s.triples for s in sizes.values())))
    add(default, VOID + "distinctSubjects", ox.Literal(subjects))
    for position, (name, size) in enumerate(sorted(sizes.items())):
        named = ox.BlankNode(f"namedGraph{position}")
        graph = ox.BlankNode(f"graph{position}")
        add(dataset, SD + "namedGraph", named)
        add(named, RDF_TYPE, ox.NamedNode(SD + "NamedGraph"))
        add(named, SD + "name", ox.NamedNode(name))
        add(named, SD + "graph", graph)
        add(graph, RDF_TYPE, ox.NamedNode(SD + "Graph"))
        add(graph, VOID + "triples", ox.Literal(size.triples))
    return triples


def _etag(generation: str, query: str, result_format: str, *parts: object) -> str:
    key = json.dumps([generation, query, result_format, *parts], ensure_ascii=False)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _cacheable(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def editor_page(query: str, answer: QueryAnswer | None = None) -> Response:
    """The query page: the example queries, an editor (a form: it works without
    JavaScript) and, after a run, the answer as a table."""
    table = None
    text = None
    if answer is not None:
        if answer.media_type.startswith("application/sparql-results+json"):
            table = _table(json.loads(answer.body))
        else:
            text = answer.body.decode("utf-8", "replace")
    html = render_template(
        "sparql_editor.html",
        examples=examples(),
        query=query,
        table=table,
        text=text,
        truncated=answer.truncated if answer else False,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "public, max-age=60"
    response.vary.add("Accept")
    return response


def _table(results: dict) -> dict:
    if "boolean" in results:
        return {"columns": ["réponse"], "rows": [["oui" if results["boolean"] else "non"]]}
    columns = results["head"]["vars"]
    rows = [
        [row.get(name, {}).get("value", "") for name in columns]
        for row in results["results"]["bindings"]
    ]
    return {"columns": columns, "rows": rows}


@functools.cache
def examples() -> list[tuple[str, str, str]]:
    """(name, title, query) of each example of ``sparql/examples/``; the title is the
    first comment line."""
    found = []
    for path in sorted(folder("sparql").joinpath("examples").iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".rq"):
            continue
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        title = first.lstrip("# ").split(" — ")[0] if first.startswith("#") else path.name
        found.append((path.name[:-3], title, text))
    return found


def example_query(name: str) -> str:
    """The example named ``name``, else the first one."""
    every = examples()
    return next((text for key, _, text in every if key == name), every[0][2] if every else "")
