"""The SPARQL endpoint on a real running server (``ltc serve``, waitress, worker processes)
over the harvested example federation: protocol, formats, refusals and protections."""

from __future__ import annotations

import html
import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import fields

import pytest
import rdflib
import requests
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

from conftest import ROOT
from core.config import Settings, load_settings
from ltc.pipeline import harvest
from running_registry import Server, start_registry, stop_registry

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
PLACES = "PREFIX schema: <https://schema.org/> SELECT ?p WHERE { ?p a schema:Place } LIMIT 5"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    data_dir = tmp_path_factory.mktemp("registry")
    settings = load_settings(
        overrides={"data_dir": data_dir, "harvest_workers": 1, "sparql_timeout": 2},
        environ={},
    )
    harvest(settings)
    return settings


@pytest.fixture(scope="module")
def server(settings, tmp_path_factory) -> Iterator[Server]:
    running = start_registry(settings, tmp_path_factory.mktemp("log") / "serve.log")
    yield running
    stop_registry(running)


def _count(server: Server) -> int:
    answer = requests.get(server.sparql, params={"query": COUNT}, timeout=10)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def _wrapper(server: Server, query: str, return_format: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server.sparql)
    client.setQuery(query)
    client.setReturnFormat(return_format)
    return client


# -- a real client --------------------------------------------------------------------------


def test_sparqlwrapper_select_json_and_xml(server):
    rows = _wrapper(server, PLACES, JSON).queryAndConvert()["results"]["bindings"]
    assert len(rows) == 5 and all(row["p"]["type"] == "uri" for row in rows)
    document = _wrapper(server, PLACES, XML).queryAndConvert()
    assert len(document.getElementsByTagName("result")) == 5


def test_sparqlwrapper_ask_and_construct(server):
    ask = "PREFIX schema: <https://schema.org/> ASK { ?p a schema:Place }"
    assert _wrapper(server, ask, JSON).queryAndConvert()["boolean"] is True
    construct = (
        "PREFIX schema: <https://schema.org/> "
        "CONSTRUCT { ?p schema:name ?n } WHERE { ?p a schema:Place ; schema:name ?n } LIMIT 7"
    )
    response = _wrapper(server, construct, TURTLE).query().response
    assert response.headers["Content-Type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=response.read(), format="turtle")
    assert len(graph) == 7


def test_post_form_and_post_sparql_query(server):
    form = requests.post(server.sparql, data={"query": COUNT}, timeout=10)
    direct = requests.post(
        server.sparql,
        data=COUNT.encode(),
        headers={"Content-Type": "application/sparql-query"},
        timeout=10,
    )
    assert form.status_code == direct.status_code == 200
    assert form.json() == direct.json()


def test_csv_and_tsv_by_accept_and_by_format(server):
    for accept, name, separator in (
        ("text/csv", "csv", ","),
        ("text/tab-separated-values", "tsv", "\t"),
    ):
        by_accept = requests.get(
            server.sparql, params={"query": PLACES}, headers={"Accept": accept}, timeout=10
        )
        by_name = requests.get(server.sparql, params={"query": PLACES, "format": name}, timeout=10)
        assert by_accept.headers["Content-Type"].startswith(accept)
        assert by_name.headers["Content-Type"].startswith(accept)
        assert by_accept.text == by_name.text
        assert len(by_accept.text.strip().splitlines()) == 6 and separator not in by_accept.text


def test_graph_parameters_name_the_registry_graphs_only(server, settings):
    graph = settings.base_iri + "graph/meta"
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    meta = requests.get(
        server.sparql, params={"query": query, "default-graph-uri": graph}, timeout=10
    )
    assert meta.status_code == 200
    assert 0 < int(meta.json()["results"]["bindings"][0]["n"]["value"]) < _count(server)
    foreign = requests.get(
        server.sparql,
        params={"query": query, "default-graph-uri": "file:///etc/passwd"},
        timeout=10,
    )
    assert foreign.status_code == 400 and "file:///etc/passwd" in foreign.text


# -- refusals ---------------------------------------------------------------------------------


def test_malformed_query_gets_the_parser_message(server):
    answer = requests.get(server.sparql, params={"query": "SELECT ?x WHERE { ?x"}, timeout=10)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/plain")
    french, english = (
        answer.text.index("requête SPARQL invalide"),
        answer.text.index("invalid SPARQL query"),
    )
    assert french < english and "1:" in answer.text  # the parser's position
    assert "Traceback" not in answer.text


def test_update_is_refused_and_the_data_is_still_there(server):
    before = _count(server)
    for update in ("DELETE WHERE { ?s ?p ?o }", "CLEAR ALL", "DROP ALL"):
        answer = requests.post(server.sparql, data={"query": update}, timeout=10)
        assert answer.status_code == 400 and "read-only" in answer.text
        answer = requests.post(server.sparql, data={"update": update}, timeout=10)
        assert answer.status_code == 400
    assert _count(server) == before > 0


@pytest.fixture
def sentinel() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it receives."""
    received: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/sparql", received
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_service_and_load_are_refused_and_never_reach_the_network(server, sentinel):
    url, received = sentinel
    queries = [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{url}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"LOAD <{url}>",
    ]
    for query in queries:
        answer = requests.post(server.sparql, data={"query": query}, timeout=10)
        assert answer.status_code == 400, query
        assert "SERVICE" in answer.text or "LOAD" in answer.text
    time.sleep(0.2)
    assert received == []


def test_deep_nesting_is_refused_and_the_service_stays_up(server):
    query = "SELECT * WHERE " + "{" * 10_000 + "?s ?p ?o" + "}" * 10_000
    answer = requests.post(server.sparql, data={"query": query}, timeout=10)
    assert answer.status_code == 400 and "nested" in answer.text
    assert requests.get(server.url + "/health", timeout=5).status_code == 200
    assert _count(server) > 0


def test_oversized_body_gets_413(server):
    body = b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * 1024 * 1024
    answer = requests.post(
        server.sparql, data=body, headers={"Content-Type": "application/sparql-query"}, timeout=10
    )
    assert answer.status_code == 413


def test_runaway_query_is_stopped_while_another_client_is_served(server):
    outcome: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        answer = requests.post(server.sparql, data={"query": RUNAWAY}, timeout=30)
        outcome.update(
            status=answer.status_code, text=answer.text, seconds=time.monotonic() - started
        )

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)  # the runaway query is running in a worker now
    started = time.monotonic()
    other = requests.get(server.sparql, params={"query": PLACES}, timeout=10)
    other_seconds = time.monotonic() - started
    thread.join()
    assert other.status_code == 200 and other_seconds < 1.5
    assert outcome["status"] == 503 and "2 s" in str(outcome["text"])
    assert outcome["seconds"] < 5
    assert _count(server) > 0  # its worker was replaced


# -- HTTP behaviour -------------------------------------------------------------------------


def test_cors_and_preflight(server):
    answer = requests.get(server.sparql, params={"query": PLACES}, timeout=10)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept" in answer.headers["Vary"]
    preflight = requests.options(
        server.sparql,
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_etag_and_not_modified(server):
    first = requests.get(server.sparql, params={"query": PLACES}, timeout=10)
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    again = requests.get(
        server.sparql, params={"query": PLACES}, headers={"If-None-Match": etag}, timeout=10
    )
    assert again.status_code == 304 and again.content == b""
    other_format = requests.get(
        server.sparql,
        params={"query": PLACES, "format": "csv"},
        headers={"If-None-Match": etag},
        timeout=10,
    )
    assert other_format.status_code == 200 and other_format.headers["ETag"] != etag


def test_truncated_answers_are_marked(settings, server):
    query = "SELECT ?s WHERE { ?s ?p ?o }"
    answer = requests.get(server.sparql, params={"query": query, "format": "tsv"}, timeout=10)
    assert answer.headers["X-LTC-Truncated"] == "true"
    assert len(answer.text.strip().splitlines()) == settings.sparql_max_rows + 1


def test_query_page_offers_every_example_and_runs_it_as_a_table(server):
    page = requests.get(server.sparql, headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    examples = sorted(p.stem for p in (ROOT / "sparql" / "examples").glob("*.rq"))
    for name in examples:
        assert f"?example={name}" in page.text
    chosen = requests.get(
        server.sparql,
        params={"example": "organisations-par-reseau"},
        headers={"Accept": "text/html"},
        timeout=10,
    )
    query = (ROOT / "sparql" / "examples" / "organisations-par-reseau.rq").read_text("utf-8")
    assert html.escape(query, quote=False) in chosen.text
    # what the page's form sends: the query, format=html → a table of the answer
    answer = requests.get(server.sparql, params={"query": query, "format": "html"}, timeout=10)
    assert answer.status_code == 200 and "<table>" in answer.text
    assert "Réseau des Repair Cafés Solidaires" in answer.text
    assert requests.get(server.sparql, timeout=10).status_code == 400  # programs: no query


def test_query_page_shows_harvested_text_inert(server):
    query = 'SELECT ?x WHERE { BIND("<script>alert(1)</script>" AS ?x) }'
    answer = requests.get(server.sparql, params={"query": query, "format": "html"}, timeout=10)
    assert "<script>alert" not in answer.text and "&lt;script&gt;alert(1)" in answer.text


def test_rate_limit_answers_429_with_retry_after(settings, tmp_path):
    limited = Settings(
        **{**{f.name: getattr(settings, f.name) for f in fields(Settings)}, "sparql_rate_limit": 3}
    )
    running = start_registry(limited, tmp_path / "serve.log")
    try:
        # five minutes' worth at once (15 distinct queries: repeats are served from
        # memory and cost nothing), then 429
        statuses = [
            requests.get(running.sparql, params={"query": f"{PLACES} # {n}"}, timeout=10)
            for n in range(16)
        ]
        assert [answer.status_code for answer in statuses] == [200] * 15 + [429]
        assert int(statuses[-1].headers["Retry-After"]) >= 1
        assert requests.get(running.url + "/health", timeout=5).status_code == 200
    finally:
        stop_registry(running)


def test_health_is_503_before_anything_is_published(tmp_path):
    from registry.app import create_app

    app = create_app(load_settings(overrides={"data_dir": tmp_path}, environ={}))
    client = app.test_client()
    answer = client.get("/health")
    assert answer.status_code == 503 and answer.json == {
        "status": "unavailable",
        "generation": None,
    }
    query = client.get("/sparql", query_string={"query": "ASK {}"})
    assert query.status_code == 503 and "Traceback" not in query.text
