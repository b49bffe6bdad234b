"""``/sparql``: the SPARQL 1.1 Protocol over the published snapshot, read-only.

A request goes: rate limit → query text and graph parameters → guard (refusals before
any evaluation) → format by content negotiation (or ``format=``) → ETag check → a
killable worker (timeout, row cap). Errors are answered by ``registry.app``.
"""

from __future__ import annotations

import functools
import hashlib
import json

from flask import Blueprint, Response, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from core.resources import folder
from registry.query_workers import QueryAnswer
from registry.runtime import app_settings, generation, query_pool, rate_limiter
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
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, X-LTC-Truncated, Retry-After",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type, If-None-Match",
    "Access-Control-Max-Age": "86400",
}


@blueprint.before_request
def _limit_rate() -> None:
    if request.method != "OPTIONS":
        rate_limiter().take(request.remote_addr or "unknown")


@blueprint.after_request
def _cors(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    if request.method == "OPTIONS":
        response.headers.update(PREFLIGHT_HEADERS)
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
    answer = query_pool().run(
        query,
        default_graphs=default_graphs or None,
        named_graphs=named_graphs or None,
        result_format=result_format,
        generation=served,
    )
    if as_page:
        return _cacheable(editor_page(query, answer), etag)
    response = Response(answer.body, mimetype=answer.media_type)
    if answer.media_type.startswith("text/"):
        response.charset = "utf-8"
    if answer.truncated:
        response.headers["X-LTC-Truncated"] = "true"
    return _cacheable(response, etag)


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
    """The short name of the answer's format: ``format=`` first, then Accept."""
    graph_answer = info.form in ("CONSTRUCT", "DESCRIBE")
    offered = GRAPH_TYPES if graph_answer else SOLUTION_TYPES
    allowed = GRAPH_FORMATS if graph_answer else SOLUTION_FORMATS
    requested = request.values.get("format")
    if requested:
        name = offered.get(requested, requested.lower())
        if name not in allowed:
            raise QueryRefused(
                f"format {requested!r} impossible pour une requête {info.form} "
                f"(possibles : {', '.join(sorted(allowed))})",
                f"format {requested!r} is not available for a {info.form} query "
                f"(available: {', '.join(sorted(allowed))})",
            )
        return name
    best = request.accept_mimetypes.best_match(list(offered))
    return offered[best] if best else next(iter(offered.values()))


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
