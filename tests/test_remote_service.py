"""The whole service on a remote store: the example federation harvested into a real
Oxigraph server process, and into a real Virtuoso, served by a real ``ltc serve`` with
``store_backend = sparql``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import rdflib
import requests

from ltc.pipeline import harvest
from running_registry import Server, start_registry, stop_registry
from store_fixtures import clear_registry_graphs, store_settings

FABRIQUE = "https://tiers-lieux.example.org/lieux/la-fabrique-des-possibles-tours"
PLACES = "PREFIX schema: <https://schema.org/> SELECT ?p WHERE { ?p a schema:Place }"


@pytest.fixture(scope="module", params=["oxigraph_server", "virtuoso_server"])
def remote_registry(request, tmp_path_factory) -> Iterator[Server]:
    server = request.getfixturevalue(request.param)
    clear_registry_graphs(server.urls)  # Virtuoso ignores DROP ALL
    settings = store_settings(
        "sparql",
        tmp_path_factory.mktemp("remote") / "data",
        server,
        harvest_workers=1,
        sparql_max_rows=50,
    )
    harvest(settings)
    server = start_registry(settings, tmp_path_factory.mktemp("log") / "serve.log")
    yield server
    stop_registry(server)


def test_sparql_select_over_the_union_with_the_row_cap(remote_registry):
    answer = requests.get(remote_registry.sparql, params={"query": PLACES}, timeout=20)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["results"]["bindings"]) == 50
    assert answer.headers["X-LTC-Truncated"] == "true"
    count = requests.get(
        remote_registry.sparql,
        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?p a <https://schema.org/Place> }"},
        headers={"Accept": "text/csv"},
        timeout=20,
    )
    assert count.headers["Content-Type"].startswith("text/csv")
    assert int(count.text.splitlines()[1]) > 400  # every source's places, not one graph


def test_sparql_construct_in_the_format_asked(remote_registry):
    query = (
        "PREFIX schema: <https://schema.org/> "
        "CONSTRUCT { ?p schema:name ?n } WHERE { ?p a schema:Place ; schema:name ?n } LIMIT 7"
    )
    answer = requests.get(
        remote_registry.sparql,
        params={"query": query},
        headers={"Accept": "text/turtle"},
        timeout=20,
    )
    assert answer.headers["Content-Type"].startswith("text/turtle")
    assert len(rdflib.Graph().parse(data=answer.text, format="turtle")) == 7


def test_refusals_and_errors_are_the_same(remote_registry):
    malformed = requests.get(remote_registry.sparql, params={"query": "SELECT ?x {"}, timeout=20)
    assert malformed.status_code == 400
    update = requests.post(remote_registry.sparql, data={"update": "CLEAR ALL"}, timeout=20)
    assert update.status_code == 400
    service = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"
    assert (
        requests.get(remote_registry.sparql, params={"query": service}, timeout=20).status_code
        == 400
    )


def test_api_and_linked_data_on_the_remote_store(remote_registry):
    places = requests.get(
        remote_registry.url + "/api/places",
        params={"lat": 47.3948, "lon": 0.704, "radius": 5},
        timeout=60,  # on a loaded machine, the first answer may wait for the directory
    ).json()
    assert FABRIQUE in {p["iri"] for p in places["places"]}
    detail = requests.get(
        remote_registry.url + "/api/place", params={"iri": FABRIQUE}, timeout=20
    ).json()
    assert len({n["iri"] for o in detail["organisations"] for n in o["networks"]}) >= 3
    turtle = requests.get(
        remote_registry.url + "/resource",
        params={"iri": FABRIQUE},
        headers={"Accept": "text/turtle"},
        timeout=20,
    )
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    assert (rdflib.URIRef(FABRIQUE), None, None) in graph
