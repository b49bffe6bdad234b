"""``/sparql``: the SPARQL 1.1 Protocol over the published snapshot, read-only.

A request goes: rate limit → query text and graph parameters → guard (refusals before
any evaluation) → format by content negotiation (or ``format=``) → ETag check → a
killable worker (timeout, row cap). Errors are answered by ``registry.app``.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from registry.app import app_settings, current_generation, query_pool, rate_limiter
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
EDITOR_PLACEHOLDER = """<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>Point d'accès SPARQL — registre LTC</title></head>
<body>
<main>
<h1>Point d'accès SPARQL du registre LTC</h1>
<p>Un éditeur de requêtes arrive bientôt sur cette page. En attendant, envoyez vos
requêtes SPARQL 1.1 à cette adresse (paramètre <code>query</code>, en GET ou en POST).</p>
</main>
</body>
</html>
"""


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
            return _editor_placeholder()
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
    result_format = _negotiate(info)
    etag = _etag(current_generation(), query, result_format, default_graphs, named_graphs)
    if etag in request.if_none_match:
        return _cacheable(Response(status=304), etag)
    answer = query_pool().run(
        query,
        default_graphs=default_graphs or None,
        named_graphs=named_graphs or None,
        result_format=result_format,
    )
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


def _etag(generation: str, query: str, result_format: str, *graphs: list[str]) -> str:
    key = json.dumps([generation, query, result_format, *graphs], ensure_ascii=False)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _cacheable(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _editor_placeholder() -> Response:
    response = Response(EDITOR_PLACEHOLDER, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
