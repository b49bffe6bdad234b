"""Linked data: every IRI the registry mints dereferences here, and so does any harvested
IRI through ``/resource?iri=…``; each with content negotiation (HTML for browsers,
Turtle, JSON-LD, N-Triples, RDF/XML; or ``format=``) and ``Vary: Accept``.

Minted IRIs map to paths under the public base IRI (``base_iri``, default
https://w3id.org/ltc/, which redirects to this service): the ontology (``/ns``), its
alignments, the shapes, the JSON-LD context and the SKOS vocabularies come from the
packaged files (their IRIs stay under ``core.vocab.LTC_BASE`` whatever ``base_iri``
is); sources, harvests, graphs, skolem nodes and convergence resources from the store.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, abort, redirect, render_template, request

from core.resources import read_bytes, sparql_query
from core.vocab import DCAT, DCT, LTC, LTC_BASE, OWL, PROV, RDFS, SCHEMA, SH, SKOS, XSD
from registry.caching import cached
from registry.runtime import app_settings, read_store

blueprint = Blueprint("linked_data", __name__)

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
FORMAT_NAMES = {
    "html": "text/html",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
}
VOCABULARIES = {
    "theme": "themes.ttl",
    "role": "roles.ttl",
    "place-type": "place-types.ttl",
    "convergence-status": "convergence-status.ttl",
}
DOCUMENTS = {  # path → packaged files making the document at that IRI
    "ns": (("ontology", "ltc.ttl"), ("ontology", "registry.ttl")),
    "ns/alignments": (("ontology", "alignments.ttl"),),
    "shapes": (("shapes", "ltc-shapes.ttl"),),
}
PREFIXES = {
    "ltc": LTC,
    "schema": SCHEMA,
    "rdfs": RDFS,
    "owl": OWL,
    "skos": SKOS,
    "dct": DCT,
    "dcat": DCAT,
    "prov": PROV,
    "sh": SH,
    "xsd": XSD,
}


def negotiated() -> str:
    """The media type to answer with: ``format=`` first, else the Accept header (HTML
    for ``*/*`` and browsers); 406 when nothing offered is acceptable."""
    asked = request.args.get("format", "").strip().lower()
    if asked:
        if asked not in FORMAT_NAMES:
            abort(400, description="format: html, turtle, jsonld, nt or rdfxml")
        return FORMAT_NAMES[asked]
    offered = ["text/html", *RDF_FORMATS, "application/xhtml+xml", "application/json"]
    best = request.accept_mimetypes.best_match(offered)
    if best is None:
        abort(406)
    return {"application/xhtml+xml": "text/html", "application/json": "application/ld+json"}.get(
        best, best
    )


@dataclass(frozen=True)
class Statement:
    subject: ox.NamedNode | ox.BlankNode
    predicate: ox.NamedNode
    object: ox.Term
    graph: str  # the named graph (source) or packaged file that says it


def _serialise(statements: list[Statement], media_type: str) -> bytes:
    triples = sorted({ox.Triple(s.subject, s.predicate, s.object) for s in statements}, key=str)
    return ox.serialize(triples, format=RDF_FORMATS[media_type], prefixes=PREFIXES)


def _answer(iri: str, statements: list[Statement], media_type: str, title: str) -> Response:
    if media_type == "text/html":
        body = render_template(
            "resource.html",
            iri=iri,
            title=title,
            rows=_rows(iri, statements),
            incoming=[s for s in statements if s.object == ox.NamedNode(iri)],
            formats=[("Turtle", "turtle"), ("JSON-LD", "jsonld"), ("N-Triples", "nt")],
            local=local_link,
        )
        response = Response(body, mimetype="text/html")
    else:
        response = Response(_serialise(statements, media_type), mimetype=media_type)
    if media_type.startswith("text/"):
        response.charset = "utf-8"
    response.vary.add("Accept")
    response.headers["Link"] = f'<{iri}>; rel="canonical"'
    return response


def _rows(iri: str, statements: list[Statement]) -> list[tuple[str, list[Statement]]]:
    grouped: dict[str, list[Statement]] = {}
    for statement in statements:
        if statement.subject.value == iri and isinstance(statement.subject, ox.NamedNode):
            grouped.setdefault(statement.predicate.value, []).append(statement)
    return sorted(grouped.items())


def local_link(iri: str) -> str:
    """Where this service shows an IRI: its own path for minted IRIs, ``/resource`` for
    harvested ones (only http/https IRIs become links)."""
    base = app_settings().base_iri
    if iri.startswith(base):
        return "/" + iri[len(base) :]
    if iri.startswith(("http://", "https://")):
        return "/resource?" + urlencode({"iri": iri})
    return ""


# -- packaged documents ---------------------------------------------------------------------


@functools.cache
def _packaged(files: tuple[tuple[str, str], ...]) -> list[Statement]:
    statements = []
    for folder, name in files:
        for triple in ox.parse(read_bytes(folder, name), format=ox.RdfFormat.TURTLE):
            statements.append(Statement(triple.subject, triple.predicate, triple.object, name))
    return statements


@blueprint.get("/ns")
@blueprint.get("/ns/alignments")
@blueprint.get("/shapes")
def document() -> Response:
    """The ontology, its alignments and the SHACL shapes, each at its own IRI."""
    path = request.path.strip("/")
    media_type = negotiated()
    iri = LTC_BASE + path
    statements = _packaged(DOCUMENTS[path])
    return cached(lambda: _answer(iri, statements, media_type, iri), media_type)


@blueprint.get("/context.jsonld")
def context() -> Response:
    """The JSON-LD context publishers write (pinned copy, served at its IRI)."""
    body = read_bytes("ontology", "context.jsonld")

    def build() -> Response:
        response = Response(body, mimetype="application/ld+json")
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return cached(build)


@blueprint.get("/<any(theme, role, 'place-type', 'convergence-status'):scheme>/")
@blueprint.get("/<any(theme, role, 'place-type', 'convergence-status'):scheme>/<name>")
def concept(scheme: str, name: str = "") -> Response:
    """A SKOS vocabulary (the whole scheme at ``/theme/``) or one of its concepts."""
    media_type = negotiated()
    iri = f"{LTC_BASE}{scheme}/{name}"
    every = _packaged((("ontology", VOCABULARIES[scheme]),))
    statements = every if not name else [s for s in every if s.subject.value == iri]
    if not statements:
        abort(404)
    return cached(lambda: _answer(iri, statements, media_type, iri), media_type)


# -- the store ------------------------------------------------------------------------------


def describe(iri: str) -> list[Statement]:
    """What the store says of a resource, with the nodes it owns (skolem IRIs) one level
    down and the statements pointing at it, each with the graph that says it."""
    rows = read_store().select(sparql_query("describe-resource"), {"resource": ox.NamedNode(iri)})
    statements = []
    for row in rows:
        statements.append(
            Statement(row["s"], row["p"], row["o"], row["graph"].value)  # type: ignore[arg-type]
        )
    return statements


def _store_resource(iri: str) -> Response:
    media_type = negotiated()

    def build() -> Response:
        statements = describe(iri)
        if not statements:
            response = Response(
                render_template(
                    "resource.html",
                    iri=iri,
                    title=iri,
                    rows=[],
                    missing=True,
                    incoming=[],
                    formats=[],
                    local=local_link,
                ),
                status=404,
                mimetype="text/html",
            )
            response.vary.add("Accept")
            return response
        return _answer(iri, statements, media_type, iri)

    return cached(build, media_type)


@blueprint.get("/resource")
def resource() -> Response:
    """Any IRI the registry holds, harvested or minted: ``/resource?iri=…``."""
    raw = request.args.get("iri", "").strip()
    try:
        iri = ox.NamedNode(raw).value if raw.startswith(("http://", "https://")) else None
    except ValueError:
        iri = None
    if iri is None or len(iri) > 2000:
        abort(400, description="iri : une IRI http(s) absolue est attendue")
    base = app_settings().base_iri
    if iri.startswith(base) and not request.args.get("format"):
        return redirect(local_link(iri), code=303)
    return _store_resource(iri)


@blueprint.get("/source/<source_id>")
@blueprint.get("/harvest/<path:rest>")
@blueprint.get("/graph/<path:rest>")
@blueprint.get("/registry")
@blueprint.get("/lieu-ressource/<path:rest>")
@blueprint.get("/lien-identite/<path:rest>")
@blueprint.get("/.well-known/genid/<path:rest>")
def minted(**_: str) -> Response:
    """A resource the registry minted under its base IRI, described from the store."""
    return _store_resource(app_settings().base_iri + request.path.lstrip("/"))
