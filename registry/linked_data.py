"""Linked data: every IRI the registry mints dereferences here, and so does any harvested
IRI through ``/resource?iri=…``; each with content negotiation (HTML for browsers,
Turtle, JSON-LD, N-Triples, RDF/XML, and what RDF libraries ask for: ``text/plain``
is N-Triples, ``text/n3`` Turtle, TriG and N-Quads put each statement in the named
graph (source) that says it, TriX too; or ``format=``) and ``Vary: Accept``.

Every minted IRI's document says what the IRI is — a type and a label — even when the
store only names it (``/registry``, ``/graph/…``): ``identity``.

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
from werkzeug.datastructures import MIMEAccept

from core.catalog import CatalogError, load_catalog
from core.resources import read_bytes, sparql_query
from core.vocab import (
    DCAT,
    DCT,
    LTC,
    LTC_BASE,
    OWL,
    PROV,
    RDF_TYPE,
    RDFS,
    SCHEMA,
    SH,
    SKOS,
    VOID,
    XSD,
)
from registry import cors
from registry.caching import cached
from registry.runtime import app_settings, read_store

blueprint = Blueprint("linked_data", __name__)
cors.install(blueprint)  # CORS on every read of the application (registry.cors)

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
QUAD_FORMATS = frozenset({"application/trig", "application/n-quads"})
TRIX = "application/trix"  # rdflib's TriX, written by rdflib
# other names clients send for the same syntaxes (the answer keeps the name asked for)
ALIASES = {
    "text/plain": "application/n-triples",  # N-Triples' first media type (rdflib's "nt")
    "text/n3": "text/turtle",  # Turtle is N3
    "text/rdf+n3": "text/turtle",
    "application/x-turtle": "text/turtle",
    "application/turtle": "text/turtle",
    "application/xhtml+xml": "text/html",
    "application/json": "application/ld+json",
    "application/xml": "application/rdf+xml",
}
FORMAT_NAMES = {
    "html": "text/html",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "n3": "text/n3",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "xml": "application/rdf+xml",
    "trig": "application/trig",
    "nquads": "application/n-quads",
    "nq": "application/n-quads",
    "trix": TRIX,
}
# the order decides between types a client accepts equally: HTML first (browsers,
# */*), then N-Triples, which the N-Triples, N-Quads and Turtle parsers all read (rdflib
# sends every type it parses when it is given no format)
OFFERED = [
    "text/html",
    "application/n-triples",
    "text/turtle",
    "application/ld+json",
    "application/rdf+xml",
    "application/trig",
    "application/n-quads",
    TRIX,
    *ALIASES,
]
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
    "void": VOID,
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "foaf": "http://xmlns.com/foaf/0.1/",
}


def negotiated() -> str:
    """The media type to answer with: ``format=`` first, else the Accept header (HTML
    for ``*/*`` and browsers); 406 when nothing offered is acceptable. An alias
    (``text/plain``, ``text/n3``…) is kept: the answer is labelled as asked."""
    asked = request.args.get("format", "").strip().lower()
    if asked:
        if asked not in FORMAT_NAMES:
            abort(
                400,
                description="format: html, turtle, jsonld, nt, rdfxml, n3, trig, nquads or trix",
            )
        return FORMAT_NAMES[asked]
    best = best_accepted(OFFERED)
    if best is None:
        abort(406)
    return "text/html" if best == "application/xhtml+xml" else best


def best_accepted(offered: list[str]) -> str | None:
    """The Accept header's best match among ``offered``, ignoring media-type parameters:
    ``text/turtle; charset=utf-8`` (what a script sends back from a Content-Type) is
    Turtle."""
    ranges = [(value.split(";")[0].strip(), q) for value, q in request.accept_mimetypes]
    return MIMEAccept(ranges).best_match(offered) if ranges else offered[0]


def syntax(media_type: str) -> str:
    """The syntax written for a media type (``text/plain`` → N-Triples…)."""
    return ALIASES.get(media_type, media_type)


@dataclass(frozen=True)
class Statement:
    subject: ox.NamedNode | ox.BlankNode
    predicate: ox.NamedNode
    object: ox.Term
    graph: str  # the named graph (source) or packaged file that says it


def _serialise(statements: list[Statement], media_type: str) -> bytes:
    written = syntax(media_type)
    if written in QUAD_FORMATS or written == TRIX:
        quads = sorted({_quad(s) for s in statements}, key=str)
        if written == TRIX:
            return _trix(quads)
        return ox.serialize(quads, format=RDF_FORMATS[written], prefixes=PREFIXES)
    triples = sorted({ox.Triple(s.subject, s.predicate, s.object) for s in statements}, key=str)
    return ox.serialize(triples, format=RDF_FORMATS[written], prefixes=PREFIXES)


def _quad(statement: Statement) -> ox.Quad:
    """The statement in the named graph that says it (a packaged file's statements, and
    what the registry says of its own IRIs, in the default graph)."""
    graph: ox.NamedNode | ox.DefaultGraph = ox.DefaultGraph()
    if statement.graph.startswith(("http://", "https://")) and statement.graph != _SELF:
        graph = ox.NamedNode(statement.graph)
    return ox.Quad(statement.subject, statement.predicate, statement.object, graph)


def _trix(quads: list[ox.Quad]) -> bytes:
    from rdflib import Dataset

    dataset = Dataset()
    dataset.parse(data=ox.serialize(quads, format=ox.RdfFormat.N_QUADS), format="nquads")
    return dataset.serialize(format="trix", encoding="utf-8")


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
    if media_type.startswith("text/") or media_type == TRIX:
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


_SELF = "urn:ltc:registry-says"  # the "graph" of what the registry says of its own IRIs
FOAF = "http://xmlns.com/foaf/0.1/"
SD = "http://www.w3.org/ns/sparql-service-description#"


def identity(iri: str, statements: list[Statement]) -> list[Statement]:
    """What a minted IRI is — its type and its label — when the store does not say it
    (the registry itself, the named graphs, a source, a harvest…)."""
    base = app_settings().base_iri
    if not iri.startswith(base):
        return []
    about = [s for s in statements if s.subject == ox.NamedNode(iri)]
    types = {s.object for s in about if s.predicate.value == RDF_TYPE}
    labelled = any(s.predicate.value in _LABELS for s in about)
    kinds, labels = _minted_kind(iri[len(base) :], about)
    node = ox.NamedNode(iri)
    out = []
    if not types:
        out += [Statement(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(k), _SELF) for k in kinds]
    if not labelled:
        out += [
            Statement(node, ox.NamedNode(RDFS + "label"), ox.Literal(text, language=lang), _SELF)
            for lang, text in labels
        ]
    return out


def _always_described(iri: str) -> bool:
    """The registry itself, its metadata and derived graphs, and each catalog source's
    graphs: documents that exist even when no statement of the store names them."""
    path = iri.removeprefix(app_settings().base_iri)
    if path in ("registry", "graph/meta", "graph/derived"):
        return True
    parts = path.split("/")
    if len(parts) == 3 and parts[:2] in (["graph", "source"], ["graph", "report"]):
        return parts[2] in _source_titles()
    return False


_LABELS = frozenset(
    {RDFS + "label", DCT + "title", SCHEMA + "name", SKOS + "prefLabel", FOAF + "name"}
)


def _source_titles() -> dict[str, str]:
    try:
        return {s.id: s.title for s in load_catalog(app_settings())}
    except CatalogError:
        return {}


def _source_title(source_id: str) -> str:
    return _source_titles().get(source_id, source_id)


def _minted_kind(path: str, about: list[Statement]) -> tuple[list[str], list[tuple[str, str]]]:
    """(types, [(language, label)]) of the minted IRI at ``path`` under the base."""
    parts = path.split("/")
    head = parts[0]
    if path == "registry":
        return [PROV + "SoftwareAgent", FOAF + "Agent"], [
            ("fr", "Registre des Lieux de Convergence de la Transition"),
            ("en", "Registry of the Lieux de Convergence de la Transition"),
        ]
    if head == "graph" and len(parts) == 3 and parts[1] == "source":
        title = _source_title(parts[2])
        return [VOID + "Dataset", SD + "Graph"], [
            ("fr", f"{title} — graphe de la source dans le registre LTC"),
            ("en", f"{title} — the source's named graph in the LTC registry"),
        ]
    if head == "graph" and len(parts) == 3 and parts[1] == "report":
        title = _source_title(parts[2])
        return [VOID + "Dataset", SD + "Graph"], [
            ("fr", f"{title} — rapport de validation (graphe)"),
            ("en", f"{title} — validation report (named graph)"),
        ]
    if path == "graph/meta":
        return [VOID + "Dataset", SD + "Graph"], [
            ("fr", "Métadonnées du registre LTC : sources et moissonnages"),
            ("en", "LTC registry metadata: sources and harvests"),
        ]
    if path == "graph/derived":
        return [VOID + "Dataset", SD + "Graph"], [
            ("fr", "Graphe dérivé du registre LTC : lieux ressources uniques et liens"),
            ("en", "LTC registry derived graph: place clusters and identity links"),
        ]
    if head == "source" and len(parts) == 2:
        title = _source_title(parts[1])
        return [DCAT + "Dataset"], [("fr", title), ("en", title)]
    if head == "harvest" and len(parts) >= 3:
        title = _source_title(parts[1])
        return [PROV + "Activity", LTC + "Harvest"], [
            ("fr", f"Moissonnage de « {title} » ({parts[2]})"),
            ("en", f"Harvest of “{title}” ({parts[2]})"),
        ]
    if head == "lieu-ressource":
        return [LTC + "PlaceCluster"], [
            ("fr", f"Lieu ressource unique {parts[-1]}"),
            ("en", f"Place cluster {parts[-1]}"),
        ]
    if head == "lien-identite":
        return [LTC + "IdentityLink"], [
            ("fr", f"Lien d'identité {parts[-1]}"),
            ("en", f"Identity link {parts[-1]}"),
        ]
    return [RDFS + "Resource"], [
        ("fr", f"Nœud {parts[-1]} d'une fiche moissonnée"),
        ("en", f"Node {parts[-1]} of a harvested record"),
    ]


def _store_resource(iri: str) -> Response:
    media_type = negotiated()

    def build() -> Response:
        statements = describe(iri)
        if statements or _always_described(iri):
            statements = statements + identity(iri, statements)
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
