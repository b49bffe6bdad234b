"""The remote store on a real Virtuoso open source (Debian's virtuoso-opensource), and
what the registry does about each of its pitfalls (docs/virtuoso.md): values read back
as the embedded store holds them, writes lost by a restart written back, answers the
server cuts completed or refused, never silent, its query errors reported as the query's
fault, credentials (HTTP Digest) never shown. The comparison of every route with the
embedded store is ``test_remote_comparison.py``."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import ROOT
from core.config import Settings
from core.store import StoreError, StoreFailed, open_store
from core.store.remote import PROBE_VALUES, canonical_terms, probe_literals
from ltc.pipeline import harvest
from store_fixtures import VirtuosoServer, clear_registry_graphs, store_settings

GRAPH = "https://w3id.org/ltc/graph/source/valeurs"
EX = "https://valeurs.example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
USER, PASSWORD = "ltc_moisson", "Ltc-s3cret-7x9"
BIND_CHAIN = """PREFIX schema: <https://schema.org/>
SELECT ?place ?km2 WHERE {
  ?place a schema:Place ; schema:geo [ schema:latitude ?lat ; schema:longitude ?lon ] .
  FILTER(?lat > 47.304 && ?lat < 47.484 && ?lon > 0.551 && ?lon < 0.817)
  BIND((?lat - 47.394) * 111.2 AS ?dy)
  BIND((?lon - 0.684) * 111.2 * 0.677 AS ?dx)
  BIND(?dx * ?dx + ?dy * ?dy AS ?km2)
} ORDER BY ?km2 LIMIT 50"""

VALUES = f"""\
<{EX}lieu/1> <https://schema.org/name> "Fête des Possibles · « tiers-lieu » 漢字 😀"@fr .
<{EX}lieu/1> <https://schema.org/latitude> "47.394812345678"^^<{XSD}double> .
<{EX}lieu/1> <https://schema.org/longitude> "0.70412345"^^<{XSD}double> .
<{EX}lieu/1> <https://schema.org/elevation> "1.50"^^<{XSD}decimal> .
<{EX}lieu/1> <https://schema.org/isAccessibleForFree> "1"^^<{XSD}boolean> .
<{EX}lieu/2> <https://schema.org/latitude> "48.85"^^<{XSD}decimal> .
<{EX}lieu/2> <https://schema.org/longitude> "2.35"^^<{XSD}decimal> .
<{EX}geo/1> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(0.704123 47.394812)"^^<{WKT}> .
<{EX}geo/2> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(2.35 48.85)"^^<{WKT}> .
<{EX}geo/3> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(1.0 47.0)"^^<{WKT}> .
""".encode()


def _canonical(ntriples: bytes) -> set[str]:
    """What the embedded store holds for these statements."""
    scratch = ox.Store()
    scratch.load(ntriples, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(GRAPH))
    return {str(quad.triple) for quad in scratch}


@pytest.fixture
def fresh(virtuoso_server: VirtuosoServer, tmp_path: Path) -> Settings:
    clear_registry_graphs(virtuoso_server.urls)
    return store_settings("sparql", tmp_path / "data", virtuoso_server, harvest_workers=1)


@pytest.fixture(scope="module")
def registry(virtuoso_server: VirtuosoServer, tmp_path_factory) -> Iterator[Settings]:
    """The example federation harvested into the session's Virtuoso (row limit 1 000)."""
    clear_registry_graphs(virtuoso_server.urls)
    settings = store_settings(
        "sparql",
        tmp_path_factory.mktemp("virtuoso-registry") / "data",
        virtuoso_server,
        harvest_workers=1,
        sparql_max_rows=5000,
    )
    harvest(settings)
    yield settings


# -- values ---------------------------------------------------------------------------------------


def test_values_come_back_as_the_embedded_store_holds_them(fresh, caplog):
    caplog.set_level(logging.WARNING, "ltc.store")
    with open_store(fresh, writer=True) as store:
        store.replace_graph(GRAPH, VALUES)
        store.publish()
    said = "\n".join(record.getMessage() for record in caplog.records)
    # the probe says plainly what the server does to values, and what the registry does
    assert "xsd:double is answered with fewer digits" in said
    assert (
        "geo:wktLiteral is answered as <http://www.openlinksw.com/schemas/virtrdf#Geometry>" in said
    )
    assert "corrected_values=" in said  # a WKT point stored at float precision
    with open_store(fresh, writer=False) as reader:
        rows = reader.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}")
        read = {str(ox.Triple(r["s"], r["p"], r["o"])) for r in rows}
        assert read == _canonical(VALUES)
        dumped = io.BytesIO()
        reader.dump_nquads(dumped)
        quads = ox.parse(input=dumped.getvalue(), format=ox.RdfFormat.N_QUADS)
        assert {str(q.triple) for q in quads} == _canonical(VALUES)
        # the text survives a query's own constants too (Virtuoso damages them in STR())
        name = ox.Literal("Fête des Possibles · « tiers-lieu » 漢字 😀", language="fr")
        query = "SELECT ?s ?n WHERE { ?s <https://schema.org/name> ?n FILTER(STR(?n) = STR(?n)) }"
        assert reader.select(query, {"n": name}) == [{"s": ox.NamedNode(EX + "lieu/1"), "n": name}]


def test_the_probe_finds_what_virtuoso_changes(fresh):
    with open_store(fresh, writer=True) as store:
        profile = store.profile()
    assert "http://www.w3.org/2001/XMLSchema#double" in profile.text
    assert profile.renamed == {"http://www.openlinksw.com/schemas/virtrdf#Geometry": WKT}
    assert profile.mangled_constants
    lossy = {literal.value for literal, _ in profile.lossy}
    assert "0.30000000000000004" in lossy  # 17 digits: more than Virtuoso keeps
    assert len(canonical_terms(probe_literals())) == len(PROBE_VALUES)


# -- lost writes ------------------------------------------------------------------------------------


def test_writes_lost_by_an_unclean_restart_are_written_back_at_harvest(
    registry, virtuoso_server, caplog
):
    meta = "https://w3id.org/ltc/graph/meta"
    with open_store(registry, writer=False) as reader:
        before = reader.graph_ntriples(meta)
    virtuoso_server.kill()  # no checkpoint
    virtuoso_server.start()
    # what a restart without a checkpoint does: recent statements are gone
    statements = [line for line in before.decode().splitlines() if "/harvest/" in line][:18]
    drop = "DELETE DATA { GRAPH <" + meta + "> { " + " ".join(statements) + " } }"
    requests.post(
        virtuoso_server.urls["store_update_url"],
        data=drop.encode(),
        headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        timeout=30,
    ).raise_for_status()
    caplog.set_level(logging.WARNING, "ltc.store")
    harvest(registry)
    said = "\n".join(record.getMessage() for record in caplog.records)
    assert f"graph=<{meta}>" in said and "lost statements" in said
    with open_store(registry, writer=False) as reader:
        after = set(reader.graph_ntriples(meta).decode().splitlines())
    assert set(statements) <= after


# -- cut answers, errors -------------------------------------------------------------------------------


def test_sparql_marks_an_answer_the_server_cut(registry):
    from registry.app import create_app

    client = create_app(registry).test_client()
    every = client.get(
        "/sparql",
        query_string={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert every.status_code == 200
    # 5 000 allowed by the registry, but the server stops at its 1 000
    assert len(every.json["results"]["bindings"]) == 1000
    assert every.headers["X-LTC-Truncated"] == "true"
    few = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 10"})
    assert "X-LTC-Truncated" not in few.headers
    # the registry's own reads are whole: the index has every place (484 > 1 000 rows read)
    places = client.get("/api/places.geojson").json["features"]
    assert len(places) > 400


def test_the_servers_query_errors_are_the_querys_fault(registry):
    from registry.app import create_app

    client = create_app(registry).test_client()
    # the example query as it was: Virtuoso refuses its arithmetic (SR087), for good: 400
    answer = client.get("/sparql", query_string={"query": BIND_CHAIN})
    assert answer.status_code == 400
    assert "SR087" in answer.text and "réessayez" not in answer.text
    assert "127.0.0.1" not in answer.text  # the store's words, not its address
    # the bundled example, written for every server, answers
    example = (ROOT / "sparql" / "examples" / "lieux-autour-d-un-point.rq").read_text()
    rows = client.get("/sparql", query_string={"query": example}).json["results"]["bindings"]
    assert rows and float(rows[0]["km2"]["value"]) <= float(rows[-1]["km2"]["value"])


def test_a_store_that_fails_is_a_502(registry):
    from registry.app import create_app

    broken = dataclasses.replace(registry, store_query_url="http://127.0.0.1:9/sparql")
    answer = create_app(broken).test_client().get("/api/networks")
    assert answer.status_code == 502 and "réessayez" not in answer.text


class _CuttingProxy:
    """A SPARQL server that cuts every answer at ``rows`` rows and says nothing (no
    header), except the row-limit probe: the registry cannot know its limit in advance."""

    def __init__(self, target: str, rows: int) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length")
                }
                answer = requests.request(
                    self.command, target + self.path, data=body, headers=headers, timeout=60
                )
                content = answer.content
                kind = answer.headers.get("Content-Type", "")
                probe = body is not None and b"VALUES+%3Fa" in body
                if kind.startswith("application/sparql-results+json") and not probe:
                    document = json.loads(content)
                    bindings = document.get("results", {}).get("bindings")
                    if bindings is not None and len(bindings) > rows:
                        document["results"]["bindings"] = bindings[:rows]
                        content = json.dumps(document).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(content)

            do_GET = do_POST = do_PUT = _relay

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        outer.rows = rows

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_read_the_server_cuts_without_saying_is_an_error_in_ltc_harvest(
    virtuoso_server, tmp_path
):
    """In front of Virtuoso, a server that cuts every answer at 100 rows and says
    nothing: the registry learns a limit of 1 000 (the probe), its reads come back short
    of the server's own counts, and `ltc harvest` stops with a clear error."""
    from click.testing import CliRunner

    from ltc.cli import main

    clear_registry_graphs(virtuoso_server.urls)
    proxy = _CuttingProxy(virtuoso_server.base, rows=100)
    try:
        environment = {
            "LTC_DATA_DIR": str(tmp_path / "data"),
            "LTC_HARVEST_WORKERS": "1",
            "LTC_STORE_BACKEND": "sparql",
            "LTC_STORE_QUERY_URL": proxy.url + "/sparql",
            "LTC_STORE_UPDATE_URL": proxy.url + "/sparql",
            "LTC_STORE_GRAPH_STORE_URL": proxy.url + "/sparql-graph-crud",
        }
        result = CliRunner().invoke(main, ["harvest"], env=environment)
    finally:
        proxy.close()
    assert result.exit_code != 0
    assert "cut an answer without saying so" in result.output
    assert "ResultSetMaxRows" in result.output


# -- credentials ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def harvester_account(virtuoso_server: VirtuosoServer) -> tuple[str, str]:
    """A Virtuoso account for the harvester, as docs/virtuoso.md creates it."""
    virtuoso_server.isql(
        f"DB.DBA.USER_CREATE('{USER}', '{PASSWORD}'); "
        f'GRANT SPARQL_SELECT TO "{USER}"; GRANT SPARQL_UPDATE TO "{USER}"; '
        f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{USER}', 7);"
    )
    return USER, PASSWORD


def test_digest_credentials_are_used_and_never_shown(
    virtuoso_server, harvester_account, tmp_path, caplog
):
    from click.testing import CliRunner

    from ltc.cli import main

    clear_registry_graphs(virtuoso_server.urls)
    user, password = harvester_account
    environment = {
        "LTC_DATA_DIR": str(tmp_path / "data"),
        "LTC_HARVEST_WORKERS": "1",
        "LTC_STORE_BACKEND": "sparql",
        "LTC_STORE_USER": user,
        "LTC_STORE_PASSWORD": password,
        "LTC_STORE_AUTH": "digest",
        **{f"LTC_{name.upper()}": url for name, url in virtuoso_server.digest_urls.items()},
    }
    caplog.set_level(logging.INFO)
    runner = CliRunner()
    result = runner.invoke(main, ["harvest", "repair-cafes"], env=environment)
    assert result.exit_code == 0, result.output
    shown = runner.invoke(main, ["config"], env=environment).output
    assert 'store_password = "(hidden)"' in shown and password not in shown
    log = (tmp_path / "data" / "logs" / "harvest.log").read_text(encoding="utf-8")
    assert password not in log and password not in caplog.text
    # a wrong password: a clear error, which does not show it either
    wrong = {**environment, "LTC_STORE_PASSWORD": "not-" + password}
    failed = runner.invoke(main, ["harvest", "repair-cafes"], env=wrong)
    assert failed.exit_code != 0 and "401" in failed.output and "store_password" in failed.output
    assert "not-" + password not in failed.output
    # and without credentials, the authenticated endpoint is refused
    anonymous = {k: v for k, v in environment.items() if "USER" not in k and "PASSWORD" not in k}
    assert runner.invoke(main, ["harvest", "repair-cafes"], env=anonymous).exit_code != 0


def test_basic_credentials_are_sent(tmp_path):
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(self.headers.get("Authorization", ""))
            body = b'{"head":{"vars":["g"]},"results":{"bindings":[]}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = store_settings(
            "sparql",
            tmp_path,
            store_query_url=f"http://127.0.0.1:{server.server_port}/query",
            store_user="lecteur",
            store_password="mot-de-passe",
        )
        with open_store(settings, writer=False) as reader:
            assert reader.latest_generation() == ""
    finally:
        server.shutdown()
        server.server_close()
    assert seen and all(header.startswith("Basic ") for header in seen)
    with pytest.raises(StoreError, match="basic or digest"):
        open_store(
            store_settings(
                "sparql",
                tmp_path,
                store_query_url="http://x/q",
                store_user="u",
                store_auth="kerberos",
            ),
            writer=False,
        )


def test_failures_are_store_failures():
    assert issubclass(StoreFailed, StoreError)
