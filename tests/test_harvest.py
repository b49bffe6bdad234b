"""Harvest: every feed validated record by record and loaded, nothing good ever lost.

Each test runs on both store backends (embedded pyoxigraph, and a real `oxigraph serve`
process); hostile feeds come from a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import EXAMPLES
from core import takedown
from core.harvest_files import SourceFiles
from core.iris import Iris
from core.store import open_store
from core.vocab import expand
from harvester.state import HarvestFiles
from harvester.validate import without_info
from ltc.pipeline import harvest, take_down
from store_fixtures import store_settings

GOOD = """@prefix schema: <https://schema.org/> .
@prefix ltc: <https://w3id.org/ltc/ns#> .
<https://net.example.org/reseau> a ltc:Network ; schema:name "Réseau test" .
"""
PLACE = """<https://net.example.org/lieu/{i}> a schema:Place ; schema:name "Lieu {i}" ;
    schema:address [ schema:postalCode "37000" ; schema:addressLocality "Tours" ] .
"""


def feed(places: int = 10, extra: str = "") -> bytes:
    return (GOOD + "".join(PLACE.format(i=i) for i in range(places)) + extra).encode()


def catalog(
    path: Path, url: str, source: str = "net", namespace: str = "https://net.example.org/"
) -> Path:
    path.write_text(
        f"""[[source]]
id = "{source}"
title = "Réseau test"
network = "https://net.example.org/reseau"
url = "{url}"
namespaces = ["{namespace}"]
license = "https://creativecommons.org/licenses/by/4.0/"
contact = "mailto:test@net.example.org"
frequency = "daily"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(params=["embedded", "sparql"])
def backend(request):
    return request.param


@pytest.fixture
def make_settings(request, backend, tmp_path):
    def make(**extra):
        server = request.getfixturevalue("oxigraph_server") if backend == "sparql" else None
        return store_settings(backend, tmp_path / "data", server, **extra)

    if backend == "sparql":
        with open_store(make(), writer=True) as store:
            store.update("DROP SILENT ALL")
    return make


@pytest.fixture
def net(make_settings, feed_server, tmp_path):
    """A one-source federation served over HTTP, with short limits, already harvested once."""
    feed_server.routes["/feed.ttl"] = (200, {"Content-Type": "text/turtle"}, feed())
    settings = make_settings(
        sources_file=str(catalog(tmp_path / "sources.toml", feed_server.url("/feed.ttl"))),
        fetch_allow_networks="127.0.0.1/32",
        fetch_connect_timeout=1,
        fetch_read_timeout=1,
        fetch_deadline=3,
        max_feed_bytes=200_000,
    )
    (outcome,) = harvest(settings)
    assert outcome.status == "loaded" and outcome.accepted == 11
    return settings


def graph_of(settings, source: str = "net") -> bytes:
    with open_store(settings, writer=True) as store:
        return store.graph_ntriples(Iris(settings.base_iri).source_graph(source))


def places_in(settings, source: str = "net") -> int:
    return graph_of(settings, source).count(b"<https://schema.org/Place>")


def test_example_federation_is_loaded_with_exactly_the_expected_rejections(make_settings, expected):
    settings = make_settings()
    outcomes = {o.source: o for o in harvest(settings)}
    assert all(o.status == "loaded" for o in outcomes.values())
    for source in expected["sources"]:
        if source["adapter"]:
            continue
        wanted = {
            r["record"]: sorted(expand(c) for c in r["constraints"])
            for r in expected["rejected"]
            if r["source"] == source["id"]
        }
        assert outcomes[source["id"]].rejections == wanted, source["id"]
    iris = Iris(settings.base_iri)
    with open_store(settings, writer=True) as store:
        rows = store.select(
            "SELECT ?g (COUNT(DISTINCT ?p) AS ?n) WHERE { GRAPH ?g { ?p a <https://schema.org/Place> } } GROUP BY ?g"
        )
        places = {row["g"].value: int(row["n"].value) for row in rows}
        meta, used = iris.meta_graph, iris.source("amap-centre")
        activities = store.select(
            f"SELECT ?a ?accepted WHERE {{ GRAPH <{meta}> {{ "
            "?a a <http://www.w3.org/ns/prov#Activity> ; "
            "<https://w3id.org/ltc/ns#acceptedRecords> ?accepted ; "
            f"<http://www.w3.org/ns/prov#used> <{used}> }} }}"
        )
    amap = next(s for s in expected["sources"] if s["id"] == "amap-centre")
    rejected_places = sum(
        1 for r in expected["rejected"] if r["source"] == "amap-centre" and "/lieu" in r["record"]
    )
    assert places[iris.source_graph("amap-centre")] <= amap["records"]["places"]
    assert places[iris.source_graph("amap-centre")] >= amap["records"]["places"] - rejected_places
    assert [int(a["accepted"].value) for a in activities] == [outcomes["amap-centre"].accepted]


def test_the_store_keeps_what_needs_fixing_and_the_file_every_suggestion(make_settings, expected):
    settings = make_settings()
    harvest(settings, only=["amap-centre"])
    iris = Iris(settings.base_iri)
    severities = (
        "SELECT ?severity (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ "
        "?r <http://www.w3.org/ns/shacl#resultSeverity> ?severity }} }} GROUP BY ?severity"
    )
    with open_store(settings, writer=True) as store:
        rows = store.select(severities.format(graph=iris.report_graph("amap-centre")))
    in_store = {row["severity"].value.rsplit("#")[-1]: int(row["n"].value) for row in rows}
    assert in_store["Violation"] > 0 and in_store["Warning"] > 0 and "Info" not in in_store
    rejected = [r for r in expected["rejected"] if r["source"] == "amap-centre"]
    assert in_store["Violation"] >= len(rejected)
    report_file = SourceFiles(settings.data_dir, "amap-centre").report()
    assert b"<http://www.w3.org/ns/shacl#Info>" in report_file  # suggestions kept for people
    # what a repair would restore from the file is exactly what the harvest stored
    with open_store(settings, writer=True) as store:
        stored = store.graph_ntriples(iris.report_graph("amap-centre"))
    assert set(stored.splitlines()) == set(without_info(report_file).splitlines())


def test_unchanged_feed_costs_nothing_and_a_changed_record_is_revalidated_alone(net, feed_server):
    (again,) = harvest(net)
    assert again.status == "unchanged" and again.revalidated == 0
    changed = feed().replace(b'"Lieu 3"', b'"Lieu 3 bis"')
    feed_server.routes["/feed.ttl"] = (200, {"Content-Type": "text/turtle"}, changed)
    (outcome,) = harvest(net)
    assert outcome.status == "loaded" and outcome.revalidated == 1
    assert b'"Lieu 3 bis"' in graph_of(net)


def test_conditional_get_sends_the_stored_validators(net, feed_server):
    def answer(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            handler.send_response(304)
            handler.end_headers()
            return
        body = feed()
        handler.send_response(200)
        handler.send_header("ETag", '"v1"')
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    feed_server.routes["/feed.ttl"] = answer
    assert harvest(net)[0].status in ("loaded", "unchanged")
    (outcome,) = harvest(net)
    assert outcome.status == "unchanged"
    assert feed_server.headers[-1].get("If-None-Match") == '"v1"'


def _drip(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "text/turtle")
    handler.end_headers()
    for _ in range(60):
        handler.wfile.write(b"#")
        handler.wfile.flush()
        time.sleep(0.2)


def _header_drip(handler):
    """One header line every half second, each within the read timeout (1 s)."""
    handler.send_response(200)
    for n in range(60):
        handler.send_header(f"X-Drip-{n}", "x")
        handler.flush_headers()
        time.sleep(0.5)
    handler.end_headers()


def _byte_drip_under_read_timeout(handler):
    """One byte of the status line every 0.8 s: no single read ever times out."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/turtle\r\n\r\n":
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(0.8)


def _slow(handler):
    time.sleep(3)
    handler.send_response(200)
    handler.end_headers()


def _gzip_bomb(handler):
    body = gzip.compress(b"#" * 50_000_000)
    handler.send_response(200)
    handler.send_header("Content-Type", "text/turtle")
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _redirect_to(location):
    def answer(handler):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.end_headers()

    return answer


HOSTILE = {
    "timeout": (_slow, "délai dépassé"),
    "drip-fed": (_drip, "délai dépassé"),
    "drip-fed headers": (_header_drip, "n'a pas été reçu en 3 s"),
    "status line a byte at a time": (_byte_drip_under_read_timeout, "n'a pas été reçu en 3 s"),
    "oversized": ((200, {"Content-Type": "text/turtle"}, b"#" * 300_000), "trop gros"),
    "gzip bomb": (_gzip_bomb, "trop gros"),
    "redirect loop": (_redirect_to("/feed.ttl"), "trop de redirections"),
    "redirect to metadata address": (
        _redirect_to("http://169.254.169.254/latest/"),
        "adresse interdite",
    ),
    "redirect to another loopback": (_redirect_to("http://127.0.0.2:9/"), "adresse interdite"),
    "redirect to a file": (_redirect_to("file:///etc/passwd"), "seules les adresses http"),
    "HTML instead of RDF": (
        (200, {"Content-Type": "text/html"}, b"<html><body>Maintenance</body></html>"),
        "HTML",
    ),
    "syntax error": (
        (200, {"Content-Type": "text/turtle"}, feed() + b"<https://net.example.org/x> ;; ."),
        "syntaxe",
    ),
    "XML entities": (
        (
            200,
            {"Content-Type": "application/rdf+xml"},
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&b;</rdf:RDF>',
        ),
        "DOCTYPE",
    ),
    "remote JSON-LD context": (
        (
            200,
            {"Content-Type": "application/ld+json"},
            b'{"@context": "http://127.0.0.1:9/ctx", "@id": "https://net.example.org/a"}',
        ),
        "contexte JSON-LD distant",
    ),
    "server error": ((500, {}, b"oops"), "500"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_feed_fails_clearly_and_keeps_the_previous_data(net, feed_server, case):
    route, words = HOSTILE[case]
    before = graph_of(net)
    feed_server.routes["/feed.ttl"] = route
    started = time.monotonic()
    (outcome,) = harvest(net)
    # the 3 s deadline bounds the whole fetch, headers included
    assert time.monotonic() - started < (6 if "reçu en 3 s" in words else 15)
    assert outcome.status == "failed", outcome
    assert words in outcome.message
    assert graph_of(net) == before
    state = SourceFiles(net.data_dir, "net").load_state()
    assert state.status == "failed" and state.last_loaded is not None


def test_unreachable_host_keeps_the_previous_data(net, tmp_path):
    before = graph_of(net)
    settings = net.__class__(
        **{
            **net.__dict__,
            "sources_file": str(catalog(tmp_path / "c2.toml", "http://127.0.0.1:9/feed.ttl")),
        }
    )
    (outcome,) = harvest(settings)
    assert outcome.status == "failed" and "injoignable" in outcome.message
    assert graph_of(net) == before


def test_statements_about_other_namespaces_are_dropped_and_reported(net, feed_server):
    intruder = (
        '<https://other.example.org/lieu/1> <https://schema.org/name> "Pris en otage" .\n'
        "<https://schema.org/Place> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <https://ex.org/X> .\n"
        "<https://net.example.org/shape> a <http://www.w3.org/ns/shacl#NodeShape> .\n"
    )
    feed_server.routes["/feed.ttl"] = (200, {"Content-Type": "text/turtle"}, feed(extra=intruder))
    (outcome,) = harvest(net)
    assert outcome.status == "loaded" and outcome.dropped == 2
    graph = graph_of(net)
    assert b"other.example.org" not in graph and b"subClassOf" not in graph
    assert (
        b"NodeShape" not in graph
    )  # not a record: never loaded, and shapes come only from the registry


def test_a_feed_wholly_outside_its_namespaces_says_so_and_counts_what_it_dropped(
    net, feed_server, caplog
):
    caplog.set_level("INFO", logger="ltc.harvest")
    before = graph_of(net)
    elsewhere = feed().replace(b"https://net.example.org/", b"https://elsewhere.example.org/")
    feed_server.routes["/feed.ttl"] = (200, {"Content-Type": "text/turtle"}, elsewhere)
    (outcome,) = harvest(net)
    about_elsewhere = [
        q for q in ox.parse(elsewhere, format=ox.RdfFormat.TURTLE) if "elsewhere" in str(q.subject)
    ]
    assert outcome.status == "failed"
    assert "aucune déclaration sur les espaces de noms de la source" in outcome.message
    assert "https://net.example.org/" in outcome.message
    assert outcome.dropped == len(about_elsewhere) == 32
    last = SourceFiles(net.data_dir, "net").history()[-1]
    assert last["status"] == "failed" and last["dropped"] == outcome.dropped
    assert f"status=failed accepted=0 rejected=0 warned=0 dropped={outcome.dropped}" in caplog.text
    assert graph_of(net) == before


def test_an_unchanged_source_keeps_its_counts_in_the_history_and_the_log(net, feed_server, caplog):
    caplog.set_level("INFO", logger="ltc.harvest")
    intruder = '<https://other.example.org/x> <https://schema.org/name> "x" .\n'
    feed_server.routes["/feed.ttl"] = (
        200,
        {"Content-Type": "text/turtle"},
        feed(
            extra=intruder + "<https://net.example.org/lieu/bad> a <https://schema.org/Place> .\n"
        ),
    )
    (loaded,) = harvest(net)
    (again,) = harvest(net)
    assert again.status == "unchanged"
    state = SourceFiles(net.data_dir, "net").load_state()
    assert state.rejected == loaded.rejected >= 1 and state.dropped == loaded.dropped == 1
    last = SourceFiles(net.data_dir, "net").history()[-1]
    assert last["status"] == "unchanged"
    assert (last["accepted"], last["rejected"], last["warned"], last["dropped"]) == (
        state.accepted,
        state.rejected,
        state.warned,
        state.dropped,
    )
    assert (again.rejected, again.warned, again.dropped) == (
        state.rejected,
        state.warned,
        state.dropped,
    )
    logged = [line for line in caplog.text.splitlines() if "status=unchanged" in line][-1]
    assert (
        f"accepted={state.accepted} rejected={state.rejected} warned={state.warned} "
        f"dropped={state.dropped}"
    ) in logged


def test_shrunken_feed_is_held_until_accepted_on_purpose(net, feed_server):
    before = graph_of(net)
    feed_server.routes["/feed.ttl"] = (200, {"Content-Type": "text/turtle"}, feed(places=2))
    (held,) = harvest(net)
    assert held.status == "held" and "--accept-shrink net" in held.message
    assert graph_of(net) == before
    (applied,) = harvest(net, accept_shrink={"net"})
    assert applied.status == "loaded" and places_in(net) == 2


def test_takedown_removes_a_record_now_and_at_every_harvest(net):
    iri = "https://net.example.org/lieu/4"
    takedown.add(net.data_dir, iri, "demande de la personne concernée")
    assert take_down(net, iri) == ["net"]
    assert f"<{iri}>".encode() not in graph_of(net)
    (outcome,) = harvest(net)
    assert outcome.suppressed == 1 and f"<{iri}>".encode() not in graph_of(net)


def test_removing_a_source_from_the_catalog_removes_its_data(net, tmp_path, feed_server):
    feed_server.routes["/other.ttl"] = (
        200,
        {},
        feed().replace(b"net.example.org", b"other.example.org"),
    )
    other = catalog(
        tmp_path / "other.toml",
        feed_server.url("/other.ttl"),
        "other",
        "https://other.example.org/",
    )
    settings = net.__class__(**{**net.__dict__, "sources_file": str(other)})
    harvest(settings)
    assert graph_of(net, "net") == b""
    assert places_in(net, "other") == 10
    assert not SourceFiles(net.data_dir, "net").folder.exists()


def test_sparql_endpoint_source_is_harvested_with_its_construct_query(
    make_settings, feed_server, tmp_path
):
    feed_server.routes["/sparql"] = (200, {"Content-Type": "text/turtle"}, feed())
    path = catalog(tmp_path / "s.toml", feed_server.url("/sparql"))
    path.write_text(
        path.read_text() + 'kind = "sparql"\nquery = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"\n'
    )
    settings = make_settings(sources_file=str(path), fetch_allow_networks="127.0.0.1/32")
    (outcome,) = harvest(settings)
    assert outcome.status == "loaded" and outcome.accepted == 11
    assert "query=CONSTRUCT" in feed_server.requests[-1]


def test_example_adapter_feeds_are_harvested(make_settings):
    settings = make_settings()
    outcomes = {
        o.source: o for o in harvest(settings, only=["mouvement-citoyen", "terres-paysannes"])
    }
    for source in ("mouvement-citoyen", "terres-paysannes"):
        assert outcomes[source].status == "loaded"
        assert outcomes[source].accepted > 30
    assert (EXAMPLES / "mappings" / "terres-paysannes.toml").exists()


def test_a_harvest_killed_during_the_load_leaves_no_mix(make_settings, backend, tmp_path):
    """Readers see the previous or the new version of a source, never a mix; the next
    harvest repairs the store from what was accepted."""
    import os
    import signal
    import subprocess
    import sys

    old, new = feed(places=4000), feed(places=4000).replace(b'"Lieu ', b'"Nouveau lieu ')
    path = tmp_path / "feed.ttl"
    path.write_bytes(old)
    settings = make_settings(sources_file=str(catalog(tmp_path / "sources.toml", "feed.ttl")))
    assert harvest(settings)[0].status == "loaded"
    before = graph_of(settings)
    path.write_bytes(new)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTC_")}
    env.update({f"LTC_{k.upper()}": str(v) for k, v in settings.__dict__.items() if v != ""})
    pending = HarvestFiles(settings.data_dir, "net").path(HarvestFiles.PENDING)
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("ltc")), "harvest"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not pending.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert pending.exists(), "the harvest finished before it could be killed"
    if backend == "embedded":
        with open_store(settings, writer=False) as reader:  # the published snapshot
            seen = reader.graph_ntriples(Iris(settings.base_iri).source_graph("net"))
        assert set(seen.splitlines()) == set(before.splitlines())
    else:
        seen = graph_of(settings)
        assert set(seen.splitlines()) in (
            set(before.splitlines()),
            set(graph_of_content(settings, new).splitlines()),
        )
    (outcome,) = harvest(settings)
    assert outcome.status == "loaded"
    assert not pending.exists()
    accepted = SourceFiles(settings.data_dir, "net").accepted()
    assert set(graph_of(settings).splitlines()) == set(accepted.splitlines())
    assert b'"Nouveau lieu 1"' in graph_of(settings)


def graph_of_content(settings, data: bytes) -> bytes:
    """What the source graph holds once ``data`` is accepted (every record of it is valid)."""
    from harvester.normalise import normalise
    from harvester.parse import parse_feed
    from harvester.validate import validate_triples

    triples = normalise(parse_feed(data, syntax="turtle"), "net")
    return validate_triples(triples, "net").accepted_ntriples()
