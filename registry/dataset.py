"""The whole registry as one file, and its description.

``/dump.nq.gz``: every named graph of the published generation as gzipped N-Quads. It is
written once per generation to ``data_dir/cache/`` and then sent from there, so a popular
dump costs one store read per harvest. ``/void``: a VoID and DCAT description of the
registry and of each source (licence, publisher, feed, size, last load), by content
negotiation (Turtle, JSON-LD, N-Triples).
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request, send_file
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, XSD

from core import vocab
from core.catalog import Source, load_catalog, source_description
from core.datafolder import DataFolder, replacing
from core.harvest_files import SourceFiles, known_sources
from core.iris import Iris
from core.resources import sparql_query
from core.store import Store
from core.vocab import LTC
from registry.caching import cached
from registry.runtime import app_settings, read_store

blueprint = Blueprint("dataset", __name__)

VOID = Namespace(vocab.VOID)
_IANA = "https://www.iana.org/assignments/media-types/"
DUMP_NAME = "ltc-registre.nq.gz"
# Media types of /void, the first being the default; values are rdflib format names.
VOID_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
}

_DUMP_LOCK = threading.Lock()
_SIZES_LOCK = threading.Lock()


# -- the dump --------------------------------------------------------------------------------


def dump_path(store: Store, data_dir: Path) -> Path:
    """The gzipped N-Quads of the generation ``store`` has open, built on first use.

    Written to a temporary name then renamed, so a reader never sends half a file; older
    generations' dumps are removed once the new one exists."""
    generation = store.generation()
    folder = DataFolder(data_dir).web_cache
    target = folder / f"dump-{generation}.nq.gz"
    if target.exists():
        return target
    with _DUMP_LOCK:
        if target.exists():
            return target
        with (
            replacing(target) as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out,
        ):
            store.dump_nquads(out)
        for old in folder.glob("dump-*.nq.gz"):
            if old != target:
                old.unlink(missing_ok=True)
    return target


@blueprint.route("/dump.nq.gz")
def dump() -> Response:
    """The published registry as gzipped N-Quads (one named graph per source, the
    validation reports, and the metadata graph with each source's licence)."""
    store = read_store()
    settings = app_settings()

    def build() -> Response:
        path = dump_path(store, settings.data_dir)
        response = send_file(
            path,
            mimetype="application/gzip",
            as_attachment=True,
            download_name=DUMP_NAME,
            conditional=False,
            etag=False,
            max_age=None,
        )
        return response  # gzip is the file's format, not a Content-Encoding: clients keep it

    response = cached(build, store.generation())
    # which source is under which licence is in the dump's metadata graph and in /void
    licences = sorted({s.license for s in load_catalog(settings)})
    links = ['</void>; rel="describedby"; type="text/turtle"']
    links += [f'<{licence}>; rel="license"' for licence in licences if ">" not in licence]
    response.headers["Link"] = ", ".join(links)
    return response


# -- the description ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphSize:
    triples: int
    subjects: int


def graph_sizes(store: Store) -> tuple[dict[str, GraphSize], int]:
    """Triples and distinct subjects of every graph, plus distinct subjects overall,
    memoised for the generation ``store`` has open."""
    generation = store.generation()
    memo = current_app.extensions.get("ltc_graph_sizes")
    if memo and memo[0] == generation:
        return memo[1], memo[2]
    with _SIZES_LOCK:
        sizes = {
            row["g"].value: GraphSize(int(row["triples"].value), int(row["subjects"].value))
            for row in store.select(sparql_query("void-graph-sizes"))
            if isinstance(row.get("g"), ox.NamedNode)
        }
        rows = store.select(sparql_query("void-distinct-subjects"))
        subjects = int(rows[0]["n"].value) if rows else 0
        current_app.extensions["ltc_graph_sizes"] = (generation, sizes, subjects)
    return sizes, subjects


def void_graph(store: Store) -> Graph:
    """VoID + DCAT: the registry as a void:Dataset and dcat:Dataset, each source's graph a
    void:subset with its licence, publisher, origin and size. The whole has no
    void:uriSpace: its records keep their networks' IRIs (each subset names its own)."""
    settings = app_settings()
    iris = Iris(settings.base_iri)
    sizes, subjects = graph_sizes(store)
    ltc = Namespace(LTC)
    graph = Graph()
    for prefix, namespace in (
        ("void", VOID),
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("ltc", ltc),
        ("xsd", XSD),
    ):
        graph.bind(prefix, namespace)
    dataset = URIRef(iris.base + "dataset")
    dump_node = URIRef(iris.base + "dataset#dump")
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.title, Literal("Registre des Lieux de Convergence", lang="fr")))
    graph.add((dataset, DCTERMS.title, Literal("Registry of the Lieux de Convergence", lang="en")))
    graph.add(
        (
            dataset,
            DCTERMS.description,
            Literal(
                "Les lieux et organisations publiés par les réseaux membres, validés fiche par "
                "fiche ; chaque source garde sa licence (voir ses sous-ensembles).",
                lang="fr",
            ),
        )
    )
    graph.add((dataset, DCTERMS.publisher, URIRef(iris.registry)))
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(iris.base + "sparql")))
    graph.add((dataset, VOID.dataDump, URIRef(iris.base + "dump.nq.gz")))
    graph.add((dataset, VOID.triples, Literal(sum(s.triples for s in sizes.values()))))
    graph.add((dataset, VOID.distinctSubjects, Literal(subjects)))
    graph.add((dataset, ltc.generation, Literal(store.generation())))
    graph.add((dataset, DCAT.distribution, dump_node))
    graph.add((dump_node, RDF.type, DCAT.Distribution))
    graph.add((dump_node, DCAT.downloadURL, URIRef(iris.base + "dump.nq.gz")))
    graph.add((dump_node, DCAT.mediaType, URIRef(_IANA + "application/n-quads")))
    graph.add((dump_node, DCAT.compressFormat, URIRef(_IANA + "application/gzip")))
    for source in load_catalog(settings):
        _describe_source(graph, dataset, source, iris, sizes)
    return graph


def _describe_source(
    graph: Graph, dataset: URIRef, source: Source, iris: Iris, sizes: dict[str, GraphSize]
) -> None:
    """A source's named graph as a void:subset (the registry's copy: its size, licence,
    publisher, last load) whose dct:source is the network's own dataset, described as in
    the metadata graph's DCAT catalogue (``core.catalog.source_description``), with the
    feed it is harvested from."""
    named_graph = iris.source_graph(source.id)
    subset = URIRef(named_graph)
    origin = URIRef(iris.source(source.id))
    size = sizes.get(named_graph, GraphSize(0, 0))
    state = SourceFiles(app_settings().data_dir, source.id).load_state()
    graph.add((dataset, VOID.subset, subset))
    graph.add((subset, RDF.type, VOID.Dataset))
    graph.add((subset, DCTERMS.title, Literal(f"{source.title} — dans le registre LTC", lang="fr")))
    graph.add((subset, DCTERMS.license, URIRef(source.license)))
    graph.add((subset, DCTERMS.publisher, URIRef(source.network)))
    graph.add((subset, DCTERMS.source, origin))
    if state.last_loaded:
        modified = Literal(state.last_loaded, datatype=XSD.dateTime)
        graph.add((subset, DCTERMS.modified, modified))
    graph.add((subset, VOID.triples, Literal(size.triples)))
    graph.add((subset, VOID.distinctSubjects, Literal(size.subjects)))
    graph.add((subset, VOID.sparqlEndpoint, URIRef(iris.base + "sparql")))
    graph.add((subset, VOID.dataDump, URIRef(iris.base + "dump.nq.gz")))
    for namespace in source.namespaces:
        graph.add((subset, VOID.uriSpace, Literal(namespace)))
    description = source_description(source, iris)
    graph.parse(data=ox.serialize(description, format=ox.RdfFormat.N_TRIPLES), format="nt")


@blueprint.route("/void")
def void() -> Response:
    """The VoID/DCAT description, Turtle by default, JSON-LD or N-Triples by Accept."""
    store = read_store()
    best = request.accept_mimetypes.best_match(list(VOID_TYPES), default="text/turtle")
    media_type = best or "text/turtle"

    def build() -> Response:
        body = void_graph(store).serialize(format=VOID_TYPES[media_type])
        response = Response(body, mimetype=media_type)
        response.charset = "utf-8"
        return response

    response = cached(build, media_type, _states_fingerprint())
    response.vary.add("Accept")
    return response


def _states_fingerprint() -> tuple[int, ...]:
    """The sources' files change the description (last load) before a publish."""
    folder = DataFolder(app_settings().data_dir)
    return tuple(
        stamp
        for source in known_sources(folder)
        for stamp in SourceFiles(folder, source).fingerprint()
    )
