"""Real third-party clients against a running registry serving the example federation
(``example_registry``, a real ``ltc serve``), as developers who reuse the data use them:

- SPARQLWrapper with its default settings (``format=xml&output=xml&results=xml``) for
  SELECT, ASK, CONSTRUCT and DESCRIBE, and its other return formats; the SPARQL 1.1
  service description at ``GET /sparql``;
- rdflib dereferencing ``/resource`` in every syntax it parses; every minted IRI's
  document says what the IRI is;
- cross-origin reads: CORS headers and preflights with ``If-None-Match`` on every read
  route (a real browser's ``fetch()``: ``test_clients_browser.py``);
- the OpenAPI document (openapi-spec-validator) and every API answer validated against
  its schema; ``commune`` and ``postcode`` on ``/api/places``;
- the DCAT-AP catalogue read as an open-data portal reads it (pyshacl with shapes of the
  DCAT-AP mandatory and recommended properties written here, and the fields
  ckanext-dcat's parser takes);
- search engines: meta description, Open Graph, ``/sitemap.xml``, the place page's
  schema.org JSON-LD parsed by rdflib;
- the dump downloaded from a registry served with a relative ``data_dir`` from another
  working directory.

Comunica: ``test_clients_comunica.py``; jsonld.js and pyld: ``test_clients_jsonld.py``.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS
from SPARQLWrapper import JSON, JSONLD, N3, TURTLE, SPARQLWrapper

from conftest import ROOT
from core.config import child_environment, load_settings
from running_registry import LTC, free_port

SCHEMA = rdflib.Namespace("https://schema.org/")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
FABRIQUE = "https://tiers-lieux.example.org/lieux/la-fabrique-des-possibles-tours"
PLACES = "PREFIX schema: <https://schema.org/> SELECT ?p WHERE { ?p a schema:Place } LIMIT 5"
ASK = "PREFIX schema: <https://schema.org/> ASK { ?p a schema:Place }"
CONSTRUCT = (
    "PREFIX schema: <https://schema.org/> "
    "CONSTRUCT { ?p schema:name ?n } WHERE { ?p a schema:Place ; schema:name ?n } LIMIT 7"
)
DESCRIBE = f"DESCRIBE <{FABRIQUE}>"
# SPARQLWrapper 2.0 parses RDF answers into rdflib's ConjunctiveGraph, deprecated by rdflib 7
# and rdflib's own N3, TriG and TriX parsers still use what rdflib 7 deprecates
pytestmark = [
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated"),
    pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated"),
]


@pytest.fixture(scope="module")
def server(example_registry):
    return example_registry


def _base(server) -> str:
    return server.settings.base_iri


# -- SPARQLWrapper with its default settings ------------------------------------------------


def _default_wrapper(server, query: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server.sparql)  # nothing else set: format=xml, GET
    client.setQuery(query)
    return client


def test_sparqlwrapper_defaults_select_and_ask(server):
    select = _default_wrapper(server, PLACES).query()
    assert select.response.headers["Content-Type"].startswith("application/sparql-results+xml")
    assert len(select.convert().getElementsByTagName("result")) == 5
    ask = _default_wrapper(server, ASK).query().convert()
    assert ask.getElementsByTagName("boolean")[0].firstChild.data == "true"


def test_sparqlwrapper_defaults_construct_and_describe(server):
    answer = _default_wrapper(server, CONSTRUCT).query()
    # format=xml for a CONSTRUCT means RDF/XML, which SPARQLWrapper parses with rdflib
    assert answer.response.headers["Content-Type"].startswith("application/rdf+xml")
    graph = answer.convert()
    assert isinstance(graph, rdflib.Graph) and len(graph) == 7
    described = _default_wrapper(server, DESCRIBE).query().convert()
    place = rdflib.URIRef(FABRIQUE)
    assert (place, RDF.type, SCHEMA.Place) in described
    assert str(described.value(place, SCHEMA.name)) == "La Fabrique des Possibles"


@pytest.mark.parametrize(
    ("return_format", "syntax"), [(JSONLD, "json-ld"), (N3, "turtle"), (TURTLE, "turtle")]
)
def test_sparqlwrapper_other_graph_formats(server, return_format, syntax):
    client = _default_wrapper(server, CONSTRUCT)
    client.setReturnFormat(return_format)
    body = client.query().response.read()
    assert len(rdflib.Graph().parse(data=body, format=syntax)) == 7


def test_sparqlwrapper_select_json_with_default_get(server):
    client = _default_wrapper(server, PLACES)
    client.setReturnFormat(JSON)
    assert len(client.queryAndConvert()["results"]["bindings"]) == 5


@pytest.mark.parametrize(
    ("value", "query", "media_type"),
    [
        ("xml", PLACES, "application/sparql-results+xml"),
        ("json", PLACES, "application/sparql-results+json"),
        ("xml", CONSTRUCT, "application/rdf+xml"),
        ("json", CONSTRUCT, "application/ld+json"),
        ("json-ld", CONSTRUCT, "application/ld+json"),
        ("n3", CONSTRUCT, "text/turtle"),
        ("ttl", CONSTRUCT, "text/turtle"),
        ("nt", CONSTRUCT, "application/n-triples"),
    ],
)
def test_format_output_results_by_query_form(server, value, query, media_type):
    for parameter in ("format", "output", "results"):
        answer = requests.get(server.sparql, params={"query": query, parameter: value}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"].startswith(media_type), (parameter, value)


def test_an_unknown_format_value_falls_back_to_accept(server):
    answer = requests.get(
        server.sparql,
        params={"query": CONSTRUCT, "format": "no-such-format"},
        headers={"Accept": "application/n-triples"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/n-triples")


@pytest.mark.parametrize(
    ("accept", "syntax"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
        ("application/ld+json, application/n-triples;q=0.5, */*;q=0.1", "json-ld"),
    ],
)
def test_service_description(server, accept, syntax):
    answer = requests.get(
        server.sparql, headers={"Accept": accept, "Origin": "https://x.example"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    graph = rdflib.Graph().parse(data=answer.content, format=syntax)
    endpoint = rdflib.URIRef(_base(server) + "sparql")
    service = graph.value(None, SD.endpoint, endpoint)
    assert service is not None and (service, RDF.type, SD.Service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    names = {str(n) for n in graph.objects(None, SD.name)}
    assert _base(server) + "graph/source/amap-centre" in names
    assert _base(server) + "graph/meta" in names
    # browsers still get the query page
    page = requests.get(server.sparql, headers={"Accept": "text/html"}, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")


# -- rdflib: /resource in every syntax it names ---------------------------------------------


def _resource(server, iri: str = FABRIQUE, **params: str) -> str:
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    return f"{server.url}/resource?iri={quote(iri, safe='')}{extra}"


TRIPLE_SYNTAXES = ["xml", "n3", "turtle", "ttl", "nt", "nt11", "json-ld"]


@pytest.fixture(scope="module")
def reference(server) -> rdflib.Graph:
    answer = requests.get(_resource(server), headers={"Accept": "text/turtle"}, timeout=10)
    return rdflib.Graph().parse(data=answer.content, format="turtle")


@pytest.mark.parametrize("syntax", TRIPLE_SYNTAXES)
def test_rdflib_parses_resource_in_each_triple_syntax(server, reference, syntax):
    """``Graph().parse(url, format=…)``: rdflib's own Accept header for each syntax
    (``text/plain, */*;q=0.1`` for nt) gets that syntax, not HTML."""
    graph = rdflib.Graph().parse(_resource(server), format=syntax)
    assert (rdflib.URIRef(FABRIQUE), RDF.type, SCHEMA.Place) in graph
    assert isomorphic(graph, reference), syntax


@pytest.mark.parametrize("syntax", ["trig", "trix", "nquads"])
def test_rdflib_parses_resource_in_each_quad_syntax(server, reference, syntax):
    dataset = rdflib.Dataset()
    dataset.parse(_resource(server), format=syntax)
    quads = list(dataset.quads((None, None, None, None)))
    assert {(s, p, o) for s, p, o, _ in quads} == set(reference)
    if syntax != "nquads":  # rdflib asks every type for N-Quads: it gets N-Triples
        graphs = {str(g) for _, _, _, g in quads if g is not None}
        assert _base(server) + "graph/source/tiers-lieux" in graphs


def test_nquads_by_format_name_keep_the_graphs(server, reference):
    dataset = rdflib.Dataset()
    dataset.parse(_resource(server, format="nquads"), format="nquads")
    graphs = {str(g) for _, _, _, g in dataset.quads((None, None, None, None))}
    assert _base(server) + "graph/source/tiers-lieux" in graphs


def test_plain_text_is_ntriples(server):
    answer = requests.get(
        _resource(server), headers={"Accept": "text/plain, */*;q=0.1"}, timeout=10
    )
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert list(ox.parse(answer.content, format=ox.RdfFormat.N_TRIPLES))


@pytest.mark.parametrize(
    "path",
    [
        "registry",
        "graph/source/amap-centre",
        "graph/report/amap-centre",
        "graph/meta",
        "graph/derived",
        "source/amap-centre",
    ],
)
def test_every_minted_document_says_what_its_iri_is(server, path):
    iri = rdflib.URIRef(_base(server) + path)
    graph = rdflib.Graph().parse(str(iri), format="turtle")
    assert list(graph.objects(iri, RDF.type)), f"{path}: no type"
    labels = [*graph.objects(iri, RDFS.label), *graph.objects(iri, DCTERMS.title)]
    assert labels, f"{path}: no label"


# -- cross-origin reads ---------------------------------------------------------------------

READ_ROUTES = [
    "/sparql?query=" + quote(PLACES),
    "/api/places?q=Tours",
    "/api/places.geojson?q=Tours",
    "/api/places.csv?q=Tours",
    "/api/place?iri=" + quote(FABRIQUE, safe=""),
    "/api/networks",
    "/api/themes",
    "/api/openapi.json",
    "/resource?iri=" + quote(FABRIQUE, safe=""),
    "/registry",
    "/source/amap-centre",
    "/void",
    "/catalog",
    "/ns",
    "/theme/",
    "/context.jsonld",
    "/sources?format=json",
    "/sources/amap-centre/historique.json",
    "/dump.nq.gz",
    "/sitemap.xml",
    "/suggestions?q=Tou",
    "/health",
]


@pytest.mark.parametrize("route", READ_ROUTES)
def test_cors_on_every_read_route_with_if_none_match(server, route):
    origin = {"Origin": "https://reuse.example.net"}
    preflight = requests.options(
        server.url + route,
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept, if-none-match",
        },
        timeout=10,
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "if-none-match" in allowed and "accept" in allowed
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    first = requests.get(server.url + route, headers=origin, timeout=30)
    assert first.status_code == 200, first.text[:200]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in first.headers["Access-Control-Expose-Headers"]
    if "ETag" in first.headers:
        again = requests.get(
            server.url + route,
            headers={**origin, "If-None-Match": first.headers["ETag"]},
            timeout=30,
        )
        assert again.status_code == 304
        assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_errors_carry_cors_too(server):
    missing = requests.get(server.url + "/api/place?iri=https://nowhere.example/x", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["Access-Control-Allow-Origin"] == "*"


def test_the_validator_post_stays_same_origin(server):
    answer = requests.post(
        server.url + "/valider", data={}, headers={"Origin": "https://x.example"}, timeout=10
    )
    assert "Access-Control-Allow-Origin" not in answer.headers


# -- OpenAPI --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec(server) -> dict:
    from openapi_spec_validator import validate

    document = requests.get(server.url + "/api/openapi.json", timeout=10).json()
    validate(document)
    return document


def _check(spec: dict, path: str, answer: requests.Response, status: str = "200") -> None:
    """The answer's body against the schema the description gives for it."""
    import jsonschema

    responses = spec["paths"][path]["get"]["responses"]
    assert status in responses, f"{path}: status {status} undocumented"
    content = responses[status]["content"]
    media_type = answer.headers["Content-Type"].split(";")[0]
    assert media_type in content, f"{path}: {media_type} undocumented"
    schema = {**content[media_type]["schema"], "components": spec["components"]}
    body = answer.json() if "json" in media_type else answer.text
    jsonschema.Draft202012Validator(schema).validate(body)


def test_every_field_is_documented(spec):
    def walk(schema: dict, where: str) -> None:
        assert schema.get("description") or "$ref" in schema or where.endswith("]"), where
        for name, child in schema.get("properties", {}).items():
            assert child.get("description") or "$ref" in child, f"{where}.{name}"
            walk(child, f"{where}.{name}")
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], where + "[]")

    for name, schema in spec["components"]["schemas"].items():
        walk(schema, name)
    for path, item in spec["paths"].items():
        for status, response in item["get"]["responses"].items():
            if status not in ("304",) and status.startswith(("2", "4")) and status != "404":
                assert response.get("content"), f"{path} {status}: no content described"
    place = spec["components"]["schemas"]["Place"]["properties"]
    source = spec["components"]["schemas"]["Source"]["properties"]
    assert {"detail", "same_place"} <= set(place) and {"page", "stale"} <= set(source)


SEARCHES = [
    {},
    {"lat": "47.3948", "lon": "0.704", "radius": "10"},
    {"commune": "Tours", "radius": "20"},
    {"postcode": "37000"},
    {"q": "fabrique"},
    {"theme": "alimentation", "per_page": "100"},
    {"open_at": "2026-12-02T10:00+01:00"},
    {"bbox": "47.3,0.6,47.5,0.8", "page": "2", "per_page": "2"},
]


@pytest.mark.parametrize("params", SEARCHES)
def test_search_answers_match_the_schema(server, spec, params):
    for path in ("/api/places", "/api/places.geojson", "/api/places.csv"):
        answer = requests.get(server.url + path, params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        _check(spec, path, answer)


def test_place_networks_and_themes_match_the_schema(server, spec):
    listing = requests.get(server.url + "/api/places", params={"per_page": 100}, timeout=10)
    iris = [place["iri"] for place in listing.json()["places"]][:40]
    for iri in [FABRIQUE, *iris]:
        answer = requests.get(server.url + "/api/place", params={"iri": iri}, timeout=10)
        assert answer.status_code == 200
        _check(spec, "/api/place", answer)
    missing = requests.get(
        server.url + "/api/place", params={"iri": "https://nowhere.example/x"}, timeout=10
    )
    _check(spec, "/api/place", missing, "404")
    for path in ("/api/networks", "/api/themes"):
        _check(spec, path, requests.get(server.url + path, timeout=10))
    bad = requests.get(server.url + "/api/places", params={"lat": "north"}, timeout=10)
    _check(spec, "/api/places", bad, "400")


def _within(server, params: dict) -> dict:
    answer = requests.get(server.url + "/api/places", params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_commune_and_postcode_are_searched_around(server):
    everything = _within(server, {"per_page": 100})["total"]
    tours = _within(server, {"commune": "Tours", "radius": 20, "per_page": 100})
    assert 0 < tours["total"] < everything
    assert all(p["distance_km"] is not None and p["distance_km"] <= 20 for p in tours["places"])
    assert tours["centre"]["label"].startswith("Tours")
    by_point = _within(server, {"lat": tours["centre"]["lat"], "lon": tours["centre"]["lon"],
                                "radius": 20, "per_page": 100})  # fmt: skip
    assert [p["iri"] for p in by_point["places"]] == [p["iri"] for p in tours["places"]]
    postcode = _within(server, {"postcode": "37000", "radius": 20})
    assert postcode["total"] > 0 and postcode["centre"]["insee"]
    assert _within(server, {"commune": "Tours", "postcode": "37000"})["total"] > 0


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"commune": "Nulle-Part-sur-Rien"}, "unknown"),
        ({"commune": "Saint-Denis"}, "ambiguous"),
        ({"commune": "Tours", "lat": "47", "lon": "0.7"}, "one centre"),
        ({"postcode": "3700"}, "postcode"),
    ],
)
def test_a_commune_that_cannot_be_used_is_refused(server, params, words):
    answer = requests.get(server.url + "/api/places", params=params, timeout=10)
    assert answer.status_code == 400
    assert words in answer.text


# -- DCAT-AP: the catalogue as a portal reads it --------------------------------------------

# Written for this test (the official DCAT-AP SHACL files cannot be fetched here): the
# classes and properties DCAT-AP 3 makes mandatory (sh:Violation) or recommended
# (sh:Warning, checked below as well) for a catalogue, its datasets, distributions,
# publishers and contact points.
DCAT_AP_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix s: <urn:test:dcat-ap#> .

s:Catalog a sh:NodeShape ; sh:targetClass dcat:Catalog ;
  sh:property [ sh:path dct:title ; sh:minCount 1 ] ,
              [ sh:path dct:description ; sh:minCount 1 ] ,
              [ sh:path dct:publisher ; sh:minCount 1 ; sh:maxCount 1 ; sh:class foaf:Agent ] ,
              [ sh:path dcat:dataset ; sh:minCount 1 ; sh:class dcat:Dataset ] ,
              [ sh:path foaf:homepage ; sh:minCount 1 ; sh:severity sh:Warning ] ,
              [ sh:path dct:language ; sh:minCount 1 ; sh:severity sh:Warning ] ,
              [ sh:path dct:modified ; sh:minCount 1 ; sh:severity sh:Warning ] .

s:Dataset a sh:NodeShape ; sh:targetClass dcat:Dataset ;
  sh:property [ sh:path dct:title ; sh:minCount 1 ] ,
              [ sh:path dct:description ; sh:minCount 1 ] ,
              [ sh:path dcat:contactPoint ; sh:minCount 1 ; sh:class vcard:Kind ;
                sh:severity sh:Warning ] ,
              [ sh:path dct:publisher ; sh:minCount 1 ; sh:maxCount 1 ; sh:class foaf:Agent ;
                sh:severity sh:Warning ] ,
              [ sh:path dcat:distribution ; sh:minCount 1 ; sh:class dcat:Distribution ;
                sh:severity sh:Warning ] .

s:Distribution a sh:NodeShape ; sh:targetClass dcat:Distribution ;
  sh:property [ sh:path dcat:accessURL ; sh:minCount 1 ; sh:nodeKind sh:IRI ] ,
              [ sh:path dct:title ; sh:minCount 1 ; sh:severity sh:Warning ] .

s:Agent a sh:NodeShape ; sh:targetClass foaf:Agent ;
  sh:property [ sh:path foaf:name ; sh:minCount 1 ] .

s:Kind a sh:NodeShape ; sh:targetClass vcard:Kind ;
  sh:or ( [ sh:path vcard:hasEmail ; sh:minCount 1 ] [ sh:path vcard:hasURL ; sh:minCount 1 ] ) .

s:DataService a sh:NodeShape ; sh:targetClass dcat:DataService ;
  sh:property [ sh:path dcat:endpointURL ; sh:minCount 1 ] ,
              [ sh:path dct:title ; sh:minCount 1 ] .
"""


@pytest.fixture(scope="module")
def catalogue(server) -> rdflib.Graph:
    # ckanext-dcat's harvester asks for RDF/XML by default
    answer = requests.get(
        server.url + "/catalog", headers={"Accept": "application/rdf+xml"}, timeout=30
    )
    assert answer.headers["Content-Type"].startswith("application/rdf+xml")
    return rdflib.Graph().parse(data=answer.content, format="xml")


def test_catalogue_conforms_to_the_dcat_ap_shapes(catalogue):
    from pyshacl import validate

    shapes = rdflib.Graph().parse(data=DCAT_AP_SHAPES, format="turtle")
    _, report, text = validate(catalogue, shacl_graph=shapes, allow_warnings=False)
    severities = set(report.objects(None, SH.resultSeverity))
    assert not severities, text  # neither a violation nor a missing recommended property


def test_catalogue_as_ckanext_dcat_reads_it(server, catalogue):
    """What ckanext-dcat's DCAT-AP profile takes from each dataset of the catalogue: title,
    notes (description), contact email, publisher name, licence, and resources (the
    distributions' URLs)."""
    catalog = catalogue.value(None, RDF.type, DCAT.Catalog)
    assert catalog == rdflib.URIRef(_base(server) + "catalog")
    datasets = set(catalogue.objects(catalog, DCAT.dataset))
    assert len(datasets) == 10  # the registry and its nine sources
    for dataset in datasets:
        title = catalogue.value(dataset, DCTERMS.title)
        notes = catalogue.value(dataset, DCTERMS.description)
        publisher = catalogue.value(dataset, DCTERMS.publisher)
        assert title and notes and catalogue.value(publisher, FOAF.name), dataset
        resources = [
            catalogue.value(d, DCAT.downloadURL) or catalogue.value(d, DCAT.accessURL)
            for d in catalogue.objects(dataset, DCAT.distribution)
        ]
        assert resources and all(resources), dataset
        contact = catalogue.value(dataset, DCAT.contactPoint)
        assert (contact, RDF.type, VCARD.Kind) in catalogue
        if dataset != rdflib.URIRef(_base(server) + "dataset"):  # a source: one licence
            assert catalogue.value(dataset, DCTERMS.license)
            email = catalogue.value(contact, VCARD.hasEmail)
            assert str(email).startswith("mailto:")
            distribution = catalogue.value(dataset, DCAT.distribution)
            assert catalogue.value(distribution, DCTERMS.license)
    service = catalogue.value(catalog, DCAT.service)
    assert catalogue.value(service, DCAT.endpointURL) == rdflib.URIRef(_base(server) + "sparql")


def test_void_links_lead_to_the_dump(server):
    graph = rdflib.Graph().parse(data=requests.get(server.url + "/void", timeout=30).text)
    links = {*graph.objects(None, VOID.dataDump), *graph.objects(None, DCAT.downloadURL)}
    assert links
    for link in links:
        answer = requests.get(str(link), timeout=60)
        assert answer.status_code == 200
        assert list(ox.parse(gzip.decompress(answer.content), format=ox.RdfFormat.N_QUADS))


# -- search engines -------------------------------------------------------------------------


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.scripts: list[str] = []
        self._in_jsonld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("name") or values.get("property")):
            self.meta[values.get("name") or values["property"]] = values.get("content") or ""
        if tag == "script" and values.get("type") == "application/ld+json":
            self._in_jsonld = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_jsonld = self._in_jsonld and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_jsonld:
            self.scripts[-1] += data


def _head(server, path: str) -> _Head:
    answer = requests.get(server.url + path, headers={"Accept": "text/html"}, timeout=10)
    assert answer.status_code == 200
    parsed = _Head()
    parsed.feed(answer.text)
    return parsed


@pytest.mark.parametrize("path", ["/", "/?q=Tours", "/convergences", "/sources", "/sparql"])
def test_public_pages_have_a_description_and_open_graph(server, path):
    meta = _head(server, path).meta
    assert 50 <= len(meta["description"]) <= 300
    assert meta["og:title"] and meta["og:description"] and meta["og:url"]


def test_place_page_embeds_schema_org_json_ld(server):
    head = _head(server, "/lieu?iri=" + quote(FABRIQUE, safe=""))
    assert "La Fabrique des Possibles" in head.meta["description"]
    assert head.meta["og:title"] == "La Fabrique des Possibles"
    assert len(head.scripts) == 1
    document = json.loads(head.scripts[0])
    # what a search engine's parser does with "https://schema.org": the pinned copy
    schema_context = json.loads(
        (ROOT / "ontology" / "contexts" / "schemaorg.jsonld").read_text(encoding="utf-8")
    )["@context"]
    assert document["@context"] == "https://schema.org"
    document["@context"] = schema_context
    graph = rdflib.Graph().parse(data=json.dumps(document), format="json-ld")
    place = rdflib.URIRef(FABRIQUE)
    assert (place, RDF.type, SCHEMA.Place) in graph
    assert str(graph.value(place, SCHEMA.name)) == "La Fabrique des Possibles"
    address = graph.value(place, SCHEMA.address)
    assert str(graph.value(address, SCHEMA.addressLocality)) == "Tours"
    assert str(graph.value(address, SCHEMA.postalCode)) == "37000"
    geo = graph.value(place, SCHEMA.geo)
    assert graph.value(geo, SCHEMA.latitude) is not None
    hours = list(graph.objects(place, SCHEMA.openingHoursSpecification))
    assert hours and all(graph.value(h, SCHEMA.opens) for h in hours)
    present = set(graph.subjects(SCHEMA.location, place))
    assert len(present) >= 3  # the organisations of several networks


def test_sitemap_lists_the_place_pages(server):
    answer = requests.get(server.url + "/sitemap.xml", timeout=10)
    assert answer.headers["Content-Type"].startswith("application/xml")
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    urls = [loc.text for loc in ET.fromstring(answer.content).iter(namespace + "loc")]
    places = [u for u in urls if urlsplit(u).path == "/lieu"]
    assert FABRIQUE in {parse_qs(urlsplit(u).query)["iri"][0] for u in places}
    assert len(places) >= 50 and len(set(urls)) == len(urls)
    page = requests.get(places[0], timeout=10)
    assert page.status_code == 200


# -- the dump from a relative data folder ---------------------------------------------------


def test_settings_resolve_a_relative_data_dir_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(overrides={"data_dir": "ltc-data"}, environ={})
    assert settings.data_dir == tmp_path / "ltc-data"
    assert load_settings(environ={}).data_dir == tmp_path / "ltc-data"  # the default


def test_dump_served_with_a_relative_data_dir_from_another_folder(tmp_path):
    """``ltc harvest`` then ``ltc serve`` run from the folder holding ``ltc-data`` with
    ``LTC_DATA_DIR=ltc-data`` (what ``ltc demo --serve`` does): the dump is sent."""
    port = free_port()
    work = tmp_path / "work"
    work.mkdir()
    settings = load_settings(
        overrides={"base_iri": f"http://127.0.0.1:{port}/", "harvest_workers": 1},
        environ={},
    )
    env = child_environment(settings)
    env["LTC_DATA_DIR"] = "ltc-data"  # relative, as the default is
    harvest = subprocess.run(
        [LTC, "harvest"], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert (work / "ltc-data" / "CURRENT").exists(), harvest.stdout + harvest.stderr
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [LTC, "serve", "--port", str(port)], cwd=work, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        answer = requests.get(url + "/dump.nq.gz", timeout=60)
        assert answer.status_code == 200, (tmp_path / "serve.log").read_text()
        quads = list(ox.parse(gzip.decompress(answer.content), format=ox.RdfFormat.N_QUADS))
        assert len(quads) > 1000
        assert list((work / "ltc-data" / "cache").glob("dump-*.nq.gz"))
        void = rdflib.Graph().parse(data=requests.get(url + "/void", timeout=30).text)
        for link in void.objects(None, DCAT.downloadURL):
            assert requests.get(str(link), timeout=60).status_code == 200
    finally:
        process.terminate()
        process.wait(10)
        log.close()
    assert not re.search(r"FileNotFoundError", (tmp_path / "serve.log").read_text())


def test_ltc_data_absolute_in_the_child_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = child_environment(load_settings(overrides={"data_dir": "d"}, environ={}))
    assert Path(env["LTC_DATA_DIR"]).is_absolute()
