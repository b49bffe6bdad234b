"""Linked data on a running registry: minted IRIs dereference (the example registry's
base IRI is its own address), harvested IRIs through /resource, with content
negotiation that real clients (rdflib, curl) use."""

from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import quote

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS

SCHEMA = rdflib.Namespace("https://schema.org/")
FABRIQUE = "https://tiers-lieux.example.org/lieux/la-fabrique-des-possibles-tours"
RDF_TYPES = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]


def _resource_url(server, iri: str) -> str:
    return f"{server.url}/resource?iri={quote(iri, safe='')}"


def test_rdflib_dereferences_a_place_by_content_negotiation(example_registry):
    graph = rdflib.Graph().parse(_resource_url(example_registry, FABRIQUE))
    place = rdflib.URIRef(FABRIQUE)
    assert (place, RDF.type, SCHEMA.Place) in graph
    assert str(graph.value(place, SCHEMA.name)) == "La Fabrique des Possibles"
    # the presences of other networks point at it, and come along
    assert len(set(graph.subjects(rdflib.URIRef("https://w3id.org/ltc/ns#place"), place))) >= 3


def test_rdflib_dereferences_a_minted_source_iri(example_registry):
    source = rdflib.URIRef(example_registry.settings.base_iri + "source/amap-centre")
    graph = rdflib.Graph().parse(str(source))
    assert str(graph.value(source, DCTERMS.identifier)) == "amap-centre"
    assert graph.value(source, DCTERMS.license) is not None


@pytest.mark.parametrize("media_type", RDF_TYPES)
def test_each_rdf_type_by_accept(example_registry, media_type):
    answer = requests.get(
        _resource_url(example_registry, FABRIQUE), headers={"Accept": media_type}, timeout=10
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith(media_type)
    assert "Accept" in answer.headers["Vary"]
    # pyoxigraph's parsers (rdflib's JSON-LD parser warns about its own deprecations)
    parsed = ox.parse(answer.content, format=ox.RdfFormat.from_media_type(media_type))
    triples = {quad.triple for quad in parsed}
    place = ox.NamedNode(FABRIQUE)
    assert ox.Triple(place, ox.NamedNode(str(RDF.type)), ox.NamedNode(SCHEMA + "Place")) in triples


def test_browsers_get_html_that_links_onwards(example_registry):
    answer = requests.get(
        _resource_url(example_registry, FABRIQUE),
        headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"},
        timeout=10,
    )
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "La Fabrique des Possibles" in answer.text
    assert "format=turtle" in answer.text and 'lang="fr"' in answer.text


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed here")
@pytest.mark.parametrize("media_type", ["text/turtle", "application/ld+json", "text/html"])
def test_curl_with_each_accept_type(example_registry, media_type):
    url = example_registry.settings.base_iri + "source/amap-centre"
    done = subprocess.run(
        ["curl", "-s", "-D", "-", "-H", f"Accept: {media_type}", url],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    headers, _, body = done.stdout.partition("\n\n")  # text mode turned CRLF into LF
    assert f"content-type: {media_type}" in headers.lower()
    assert "amap-centre" in body


def test_unknown_resource_and_bad_iri(example_registry):
    missing = requests.get(
        _resource_url(example_registry, "https://nowhere.example/x"),
        headers={"Accept": "text/turtle"},
        timeout=10,
    )
    assert missing.status_code == 404
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "not an iri"):
        answer = requests.get(_resource_url(example_registry, bad), timeout=10)
        assert answer.status_code == 400
    unacceptable = requests.get(
        _resource_url(example_registry, FABRIQUE), headers={"Accept": "image/png"}, timeout=10
    )
    assert unacceptable.status_code == 406


def test_ontology_shapes_themes_and_context_at_their_iris(example_registry):
    url = example_registry.url
    ontology = rdflib.Graph().parse(url + "/ns")
    assert (rdflib.URIRef("https://w3id.org/ltc/ns"), RDF.type, OWL.Ontology) in ontology
    shapes = rdflib.Graph().parse(url + "/shapes")
    assert len(
        set(shapes.subjects(RDF.type, rdflib.URIRef("http://www.w3.org/ns/shacl#NodeShape")))
    )
    theme = rdflib.URIRef("https://w3id.org/ltc/theme/energie")
    themes = rdflib.Graph().parse(url + "/theme/energie")
    assert str(themes.value(theme, SKOS.prefLabel)) in ("Énergie", "Energy")
    context = requests.get(url + "/context.jsonld", timeout=10)
    assert context.headers["Content-Type"].startswith("application/ld+json")
    assert "@context" in json.loads(context.text)


def test_resource_pages_are_cacheable(example_registry):
    url = _resource_url(example_registry, FABRIQUE)
    first = requests.get(url, headers={"Accept": "text/turtle"}, timeout=10)
    again = requests.get(
        url,
        headers={"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]},
        timeout=10,
    )
    assert again.status_code == 304
    html = requests.get(url, headers={"Accept": "text/html"}, timeout=10)
    assert html.headers["ETag"] != first.headers["ETag"]  # one ETag per representation
