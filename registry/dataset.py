"""The whole registry as one file, and its description.

``/dump.nq.gz``: every named graph of the published generation as gzipped N-Quads. It is
written once per generation to ``data_dir/cache/`` (an absolute path: settings resolve
``data_dir`` when they load, and ``DataFolder`` again) and then sent from there, so a
popular dump costs one store read per harvest. ``/void`` (also at ``/catalog``): a VoID
and DCAT-AP description — a ``dcat:Catalog`` of the registry's dataset and of each
source's (title, description, publisher as a ``foaf:Agent``, licence, contact point as a
``vcard:Kind``, distributions with their ``dcat:accessURL``), the SPARQL endpoint as a
``dcat:DataService``, sizes and last loads — by content negotiation (Turtle, JSON-LD,
N-Triples, RDF/XML), so an open-data portal (CKAN with ckanext-dcat, data.gouv.fr)
harvests it.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, send_file
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, XSD

from core import vocab
from core.catalog import Source, load_catalog, source_description
from core.datafolder import DataFolder, replacing
from core.harvest_files import SourceFiles, known_sources
from core.iris import Iris
from core.resources import sparql_query
from core.store import Store
from core.vocab import LTC
from registry.caching import cached
from registry.linked_data import best_accepted
from registry.runtime import app_settings, directory, read_store

blueprint = Blueprint("dataset", __name__)

VOID = Namespace(vocab.VOID)
_IANA = "https://www.iana.org/assignments/media-types/"
DUMP_NAME = "ltc-registre.nq.gz"
# Media types of /void, the first being the default; values are rdflib format names.
VOID_TYPES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",  # what ckanext-dcat's harvester reads by default
}
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
FRENCH = URIRef(EU + "language/FRA")
FRANCE = URIRef(EU + "country/FRA")
KEYWORDS = ("transition écologique", "économie sociale et solidaire", "tiers-lieux", "AMAP")

_DUMP_LOCK = threading.Lock()
_SIZES_LOCK = threading.Lock()


# -- the dump --------------------------------------------------------------------------------


def dump_path(store: Store, data_dir: Path, iris: Iris | None = None) -> Path:
    """The gzipped N-Quads of the generation ``store`` has open, built on first use; with
    ``iris``, its metadata graph states that generation (``<registry> ltc:generation
    "g…"``: a reuser follows ``/api/changes?since=`` from there).

    Written to a temporary name then renamed, so a reader never sends half a file; older
    generations' dumps are removed once the new one exists."""
    generation = store.generation()
    folder = DataFolder(data_dir).web_cache
    target = folder / f"dump-{generation}{'' if iris is None else '-g'}.nq.gz"
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
            if iris is not None:
                out.write(generation_quad(iris, generation))
        for old in folder.glob("dump-*.nq.gz"):
            if old != target:
                old.unlink(missing_ok=True)
    return target


def generation_quad(iris: Iris, generation: str) -> bytes:
    """The dump's statement of its generation, in the metadata graph (N-Quads)."""
    quad = ox.Quad(
        ox.NamedNode(iris.registry),
        ox.NamedNode(LTC + "generation"),
        ox.Literal(generation),
        ox.NamedNode(iris.meta_graph),
    )
    return f"{quad} .\n".encode()


@blueprint.route("/dump.nq.gz")
def dump() -> Response:
    """The published registry as gzipped N-Quads (one named graph per source, the
    validation reports, and the metadata graph with each source's licence)."""
    store = read_store()
    settings = app_settings()

    def build() -> Response:
        path = dump_path(store, settings.data_dir, Iris(settings.base_iri))
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
    response.headers["X-LTC-Generation"] = store.generation()
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
    """VoID + DCAT-AP: the ``dcat:Catalog`` ``{base}catalog`` of the registry's dataset
    (a void:Dataset and dcat:Dataset, with the dump and the SPARQL endpoint as
    distributions) and of each source's dataset (``core.catalog.source_description``);
    each source's graph a void:subset with its licence, publisher, origin and size. The
    whole has no void:uriSpace: its records keep their networks' IRIs (each subset names
    its own)."""
    settings = app_settings()
    iris = Iris(settings.base_iri)
    sizes, subjects = graph_sizes(store)
    ltc = Namespace(LTC)
    graph = Graph()
    for prefix, namespace in (
        ("void", VOID),
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("ltc", ltc),
        ("xsd", XSD),
    ):
        graph.bind(prefix, namespace)
    catalog = URIRef(iris.base + "catalog")
    dataset = URIRef(iris.base + "dataset")
    dump_node = URIRef(iris.base + "dataset#dump")
    sparql_node = URIRef(iris.base + "dataset#sparql")
    service = URIRef(iris.base + "sparql#service")
    endpoint = URIRef(iris.base + "sparql")
    dump_url = URIRef(iris.base + "dump.nq.gz")
    registry = URIRef(iris.registry)
    name_fr = "Registre des Lieux de Convergence de la Transition"
    name_en = "Registry of the Lieux de Convergence de la Transition"

    graph.add((registry, RDF.type, FOAF.Agent))
    graph.add((registry, FOAF.name, Literal(name_fr, lang="fr")))
    graph.add((registry, FOAF.name, Literal(name_en, lang="en")))

    sources = load_catalog(settings)
    loads = {s.id: SourceFiles(settings.data_dir, s.id).load_state().last_loaded for s in sources}
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal(name_fr + " — catalogue", lang="fr")))
    graph.add((catalog, DCTERMS.title, Literal(name_en + " — catalogue", lang="en")))
    graph.add(
        (
            catalog,
            DCTERMS.description,
            Literal(
                "Le registre rassemblé et chacune de ses sources : les jeux de données des "
                "réseaux membres, moissonnés et validés par le registre, chacun sous sa licence.",
                lang="fr",
            ),
        )
    )
    graph.add(
        (
            catalog,
            DCTERMS.description,
            Literal(
                "The registry as a whole and each of its sources: the member networks' "
                "datasets, harvested and validated by the registry, each under its licence.",
                lang="en",
            ),
        )
    )
    graph.add((catalog, DCTERMS.publisher, registry))
    graph.add((catalog, FOAF.homepage, URIRef(iris.base)))
    graph.add((catalog, DCTERMS.language, FRENCH))
    graph.add((catalog, DCTERMS.spatial, FRANCE))
    latest = max((moment for moment in loads.values() if moment), default=None)
    if latest:
        graph.add((catalog, DCTERMS.modified, Literal(latest, datatype=XSD.dateTime)))
    graph.add((catalog, DCAT.dataset, dataset))
    graph.add((catalog, DCAT.service, service))

    graph.add((service, RDF.type, DCAT.DataService))
    graph.add((service, DCTERMS.title, Literal("Point d'accès SPARQL du registre LTC", lang="fr")))
    graph.add((service, DCTERMS.title, Literal("LTC Registry SPARQL endpoint", lang="en")))
    graph.add((service, DCAT.endpointURL, endpoint))
    graph.add((service, DCAT.endpointDescription, endpoint))  # its service description
    graph.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    graph.add((service, DCAT.servesDataset, dataset))

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
    graph.add(
        (
            dataset,
            DCTERMS.description,
            Literal(
                "The places and organisations the member networks publish, validated record "
                "by record; each source keeps its licence (see its subsets).",
                lang="en",
            ),
        )
    )
    graph.add((dataset, DCTERMS.publisher, registry))
    # who answers for the whole: the sources page names each source's own contact
    contact = URIRef(iris.base + "dataset#contact")
    graph.add((dataset, DCAT.contactPoint, contact))
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, VCARD.fn, Literal(name_fr)))
    graph.add((contact, VCARD.hasURL, URIRef(iris.base + "sources")))
    graph.add((dataset, DCTERMS.language, FRENCH))
    graph.add((dataset, DCTERMS.spatial, FRANCE))
    for keyword in KEYWORDS:
        graph.add((dataset, DCAT.keyword, Literal(keyword, lang="fr")))
    if latest:
        graph.add((dataset, DCTERMS.modified, Literal(latest, datatype=XSD.dateTime)))
    graph.add((dataset, VOID.sparqlEndpoint, endpoint))
    graph.add((dataset, VOID.dataDump, dump_url))
    graph.add((dataset, VOID.triples, Literal(sum(s.triples for s in sizes.values()))))
    graph.add((dataset, VOID.distinctSubjects, Literal(subjects)))
    graph.add((dataset, ltc.generation, Literal(store.generation())))
    graph.add((dataset, DCAT.distribution, dump_node))
    graph.add((dump_node, RDF.type, DCAT.Distribution))
    graph.add((dump_node, DCTERMS.title, Literal("Tout le registre (N-Quads, gzip)", lang="fr")))
    graph.add(
        (
            dump_node,
            DCTERMS.description,
            Literal(
                "Chaque source dans son graphe nommé, les rapports de validation et le graphe "
                "des métadonnées (licence et éditeur de chaque source) ; reconstruit à chaque "
                "moissonnage.",
                lang="fr",
            ),
        )
    )
    graph.add((dump_node, DCAT.accessURL, dump_url))
    graph.add((dump_node, DCAT.downloadURL, dump_url))
    graph.add((dump_node, DCAT.mediaType, URIRef(_IANA + "application/n-quads")))
    graph.add((dump_node, DCTERMS["format"], URIRef(EU + "file-type/RDF_N_QUADS")))
    graph.add((dump_node, DCAT.compressFormat, URIRef(_IANA + "application/gzip")))
    graph.add((dataset, DCAT.distribution, sparql_node))
    graph.add((sparql_node, RDF.type, DCAT.Distribution))
    graph.add((sparql_node, DCTERMS.title, Literal("Point d'accès SPARQL", lang="fr")))
    graph.add(
        (
            sparql_node,
            DCTERMS.description,
            Literal(
                "Requêtes SPARQL 1.1 ; le graphe par défaut est l'union des graphes nommés.",
                lang="fr",
            ),
        )
    )
    graph.add((sparql_node, DCAT.accessURL, endpoint))
    graph.add((sparql_node, DCAT.accessService, service))
    names = _network_names()
    for source in sources:
        graph.add((catalog, DCAT.dataset, URIRef(iris.source(source.id))))
        graph.add((service, DCAT.servesDataset, URIRef(iris.source(source.id))))
        _describe_source(graph, dataset, source, iris, sizes, loads.get(source.id))
        publisher = URIRef(source.network)
        graph.add((publisher, RDF.type, FOAF.Agent))
        graph.add((publisher, FOAF.name, Literal(names.get(source.network) or source.title)))
    return graph


def _network_names() -> dict[str, str]:
    """The networks' names, as their feeds give them (the directory of the snapshot)."""
    found = directory()
    return {iri: network.name for iri, network in found.networks.items() if network.name}


def _describe_source(
    graph: Graph,
    dataset: URIRef,
    source: Source,
    iris: Iris,
    sizes: dict[str, GraphSize],
    last_loaded: str | None,
) -> None:
    """A source's named graph as a void:subset (the registry's copy: its size, licence,
    publisher, last load) whose dct:source is the network's own dataset, described as in
    the metadata graph's DCAT catalogue (``core.catalog.source_description``), with the
    feed it is harvested from."""
    named_graph = iris.source_graph(source.id)
    subset = URIRef(named_graph)
    origin = URIRef(iris.source(source.id))
    size = sizes.get(named_graph, GraphSize(0, 0))
    graph.add((dataset, VOID.subset, subset))
    graph.add((subset, RDF.type, VOID.Dataset))
    graph.add((subset, DCTERMS.title, Literal(f"{source.title} — dans le registre LTC", lang="fr")))
    graph.add((subset, RDFS.label, Literal(f"{source.title} — dans le registre LTC", lang="fr")))
    graph.add((subset, DCTERMS.license, URIRef(source.license)))
    graph.add((subset, DCTERMS.publisher, URIRef(source.network)))
    graph.add((subset, DCTERMS.source, origin))
    if last_loaded:
        modified = Literal(last_loaded, datatype=XSD.dateTime)
        graph.add((subset, DCTERMS.modified, modified))
        graph.add((origin, DCTERMS.modified, modified))
    graph.add((subset, VOID.triples, Literal(size.triples)))
    graph.add((subset, VOID.distinctSubjects, Literal(size.subjects)))
    graph.add((subset, VOID.sparqlEndpoint, URIRef(iris.base + "sparql")))
    graph.add((subset, VOID.dataDump, URIRef(iris.base + "dump.nq.gz")))
    for namespace in source.namespaces:
        graph.add((subset, VOID.uriSpace, Literal(namespace)))
    description = source_description(source, iris)
    graph.parse(data=ox.serialize(description, format=ox.RdfFormat.N_TRIPLES), format="nt")


@blueprint.route("/void")
@blueprint.route("/catalog")
def void() -> Response:
    """The VoID/DCAT-AP description, Turtle by default, JSON-LD, N-Triples or RDF/XML by
    Accept (also at ``/catalog``, the catalogue's IRI)."""
    store = read_store()
    media_type = best_accepted(list(VOID_TYPES)) or "text/turtle"

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
