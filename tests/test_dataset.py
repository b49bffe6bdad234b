"""The whole registry as a file (``/dump.nq.gz``) and its VoID/DCAT description
(``/void``), on the harvested example federation."""

from __future__ import annotations

import gzip
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests

from core.catalog import load_catalog
from core.config import Settings, load_settings
from core.iris import Iris
from core.store import open_store
from ltc.pipeline import harvest
from registry.app import create_app

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCT = rdflib.namespace.DCTERMS
QUADS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


@pytest.fixture(scope="module")
def settings(example_registry) -> Settings:
    return example_registry.settings


@pytest.fixture(scope="module")
def client(settings):
    return create_app(settings).test_client()


@pytest.fixture(scope="module")
def server(example_registry) -> str:
    """The example federation behind a real ``ltc serve``."""
    return example_registry.url


def _store_quads(settings: Settings) -> int:
    with open_store(settings, writer=False) as store:
        return int(store.select(QUADS)[0]["n"].value)


def test_dump_is_the_whole_store_as_nquads_one_graph_per_source(settings, server):
    answer = requests.get(server + "/dump.nq.gz", timeout=60)
    assert answer.status_code == 200
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.headers["ETag"] and "max-age" in answer.headers["Cache-Control"]
    assert 'rel="describedby"' in answer.headers["Link"] and "/void" in answer.headers["Link"]
    licence = '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
    assert licence in answer.headers["Link"]
    quads = list(ox.parse(gzip.decompress(answer.content), format=ox.RdfFormat.N_QUADS))
    # the store's statements, and the one saying which generation the dump is (to follow
    # /api/changes from it)
    assert len(quads) == _store_quads(settings) + 1
    generation = answer.headers["X-LTC-Generation"]
    stated = [q for q in quads if q.predicate.value == "https://w3id.org/ltc/ns#generation"]
    assert [q.object.value for q in stated] == [generation]
    assert stated[0].graph_name.value == Iris(settings.base_iri).meta_graph
    per_graph = Counter(q.graph_name.value for q in quads)
    iris = Iris(settings.base_iri)
    for source in load_catalog(settings):
        assert per_graph[iris.source_graph(source.id)] > 0, source.id
    # the metadata graph says under which licence each source's graph is published
    meta = [q for q in quads if q.graph_name.value == iris.meta_graph]
    licences = {
        q.subject.value: q.object.value for q in meta if q.predicate.value == str(DCT.license)
    }
    assert licences[iris.source("amap-centre")] == "https://creativecommons.org/licenses/by/4.0/"


def _get(client, path: str, **headers: str):
    """A GET whose response (a file sent by send_file) is read and closed."""
    response = client.get(path, headers=headers)
    response.get_data()
    response.close()
    return response


def test_dump_is_built_once_per_generation_and_answers_304(settings, client):
    first = _get(client, "/dump.nq.gz")
    cached = list((Path(settings.data_dir) / "cache").glob("dump-*.nq.gz"))
    assert len(cached) == 1
    built = cached[0].stat().st_mtime_ns
    again = _get(client, "/dump.nq.gz")
    assert again.data == first.data and cached[0].stat().st_mtime_ns == built
    assert again.headers["ETag"] == first.headers["ETag"]
    not_modified = _get(client, "/dump.nq.gz", **{"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not not_modified.data


def test_a_new_generation_gets_a_new_dump(tmp_path):
    settings = load_settings(
        overrides={"data_dir": tmp_path / "data", "harvest_workers": 1}, environ={}
    )
    harvest(settings, only=["ltc-collectif"])
    client = create_app(settings).test_client()
    first = _get(client, "/dump.nq.gz")
    generation = client.get("/health").get_json()["generation"]
    harvest(settings, only=["repair-cafes"])
    # the new generation is served once its directory is ready (in the background)
    deadline = time.monotonic() + 30
    while client.get("/health").get_json()["generation"] == generation:
        assert time.monotonic() < deadline, "the new generation was never served"
        time.sleep(0.05)
    second = _get(client, "/dump.nq.gz", **{"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert len(gzip.decompress(second.data)) > len(gzip.decompress(first.data))
    assert len(list((tmp_path / "data" / "cache").glob("dump-*.nq.gz"))) == 1


def test_void_describes_the_dataset_and_every_source_with_its_licence(settings, server):
    answer = requests.get(server + "/void", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/turtle")
    assert "Accept" in answer.headers["Vary"]
    graph = rdflib.Graph().parse(data=answer.text, format="turtle")
    base = settings.base_iri
    dataset = rdflib.URIRef(base + "dataset")
    assert (dataset, rdflib.RDF.type, VOID.Dataset) in graph
    assert graph.value(dataset, VOID.sparqlEndpoint) == rdflib.URIRef(base + "sparql")
    assert graph.value(dataset, VOID.dataDump) == rdflib.URIRef(base + "dump.nq.gz")
    assert graph.value(dataset, VOID.triples).toPython() == _store_quads(settings)
    assert graph.value(dataset, VOID.distinctSubjects).toPython() > 0
    iris = Iris(base)
    subsets = set(graph.objects(dataset, VOID.subset))
    catalog = load_catalog(settings)
    assert subsets == {rdflib.URIRef(iris.source_graph(s.id)) for s in catalog}
    for source in catalog:
        node = rdflib.URIRef(iris.source_graph(source.id))
        assert graph.value(node, DCT.source) == rdflib.URIRef(iris.source(source.id))
        assert graph.value(node, DCT.license) == rdflib.URIRef(source.license)
        assert graph.value(node, DCT.publisher) == rdflib.URIRef(source.network)
        assert graph.value(node, DCT.modified) is not None
        assert graph.value(node, VOID.triples).toPython() > 0
        assert {str(o) for o in graph.objects(node, VOID.uriSpace)} == set(source.namespaces)
    total = sum(graph.value(s, VOID.triples).toPython() for s in subsets)
    assert 0 < total < graph.value(dataset, VOID.triples).toPython()


def test_void_negotiates_jsonld_and_ntriples(client):
    jsonld = client.get("/void", headers={"Accept": "application/ld+json"})
    assert jsonld.status_code == 200 and jsonld.mimetype == "application/ld+json"
    triples = set(ox.parse(jsonld.data, format=ox.RdfFormat.JSON_LD))
    assert len(triples) > 50
    ntriples = client.get("/void", headers={"Accept": "application/n-triples"})
    assert ntriples.mimetype == "application/n-triples"
    assert len(set(ox.parse(ntriples.data, format=ox.RdfFormat.N_TRIPLES))) == len(triples)
    turtle = client.get("/void")
    assert len({turtle.headers["ETag"], jsonld.headers["ETag"], ntriples.headers["ETag"]}) == 3
    assert client.get("/void", headers={"If-None-Match": turtle.headers["ETag"]}).status_code == 304
