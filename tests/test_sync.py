"""Networks and reusers in sync: a network pings and its source is harvested at once; a
reuser follows the change feed from the dump.

Feeds come from a real HTTP server on 127.0.0.1; the store is the real on-disk one;
pings go to a real ``ltc serve`` (or the Flask application in-process) and are taken by
a real ``ltc watch`` process (or ``harvest_pinged``, which runs ``ltc harvest`` as a
child process, as the schedule does).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from pyld import jsonld
from rdflib.compare import isomorphic

from core import takedown
from core.changes import ChangeLog
from core.config import child_environment, load_settings
from core.datafolder import DataFolder
from core.iris import Iris
from core.ping import create_token, finish_requests, take_requests, waiting_requests
from core.vocab import GENID
from ltc.pipeline import harvest, remove_source, take_down
from ltc.schedule import harvest_pinged
from registry.app import create_app
from running_registry import LTC, start_registry, stop_registry

PREFIXES = """@prefix schema: <https://schema.org/> .
@prefix ltc: <https://w3id.org/ltc/ns#> .
"""
PLACE = """<https://{source}.example.org/lieu/{i}> a schema:Place ; schema:name "{name}" ;
    schema:address [ schema:postalCode "37000" ; schema:addressLocality "Tours" ] ;
    schema:geo [ schema:latitude {lat} ; schema:longitude 0.69 ] .
"""
SHARED = "La Maison commune"  # place 0 of both sources: one place across two networks


def feed(source: str, names: dict[int, str]) -> bytes:
    network = f'<https://{source}.example.org/reseau> a ltc:Network ; schema:name "{source}" .\n'
    places = "".join(
        PLACE.format(source=source, i=i, name=name, lat=f"{47.30 + i * 0.01:.2f}")
        for i, name in sorted(names.items())
    )
    return (PREFIXES + network + places).encode()


def place(source: str, i: int) -> str:
    return f"https://{source}.example.org/lieu/{i}"


class Federation:
    """Two sources, alpha and beta, whose feeds a test changes."""

    def __init__(self, feed_server, tmp_path: Path, **settings: object) -> None:
        self.server = feed_server
        self.names = {
            "alpha": {i: f"Lieu alpha {i}" for i in range(8)},
            "beta": {i: f"Lieu beta {i}" for i in range(5)},
        }
        self.names["alpha"][0] = self.names["beta"][0] = SHARED
        blocks = []
        for source in self.names:
            self.publish(source)
            blocks.append(
                f"""[[source]]
id = "{source}"
title = "Réseau {source}"
network = "https://{source}.example.org/reseau"
url = "{feed_server.url(f"/{source}.ttl")}"
syntax = "turtle"
namespaces = ["https://{source}.example.org/"]
license = "https://creativecommons.org/licenses/by/4.0/"
contact = "mailto:donnees@{source}.example.org"
frequency = "daily"
"""
            )
        catalog = tmp_path / "sources.toml"
        catalog.write_text("\n".join(blocks), encoding="utf-8")
        self.settings = load_settings(
            overrides={
                "data_dir": str(tmp_path / "data"),
                "sources_file": str(catalog),
                "harvest_workers": 1,
                "fetch_allow_networks": "127.0.0.1/32",
                "ping_poll_seconds": 0.2,
                **settings,
            },
            environ={},
        )

    def publish(self, source: str) -> None:
        body = feed(source, self.names[source])
        self.server.routes[f"/{source}.ttl"] = (200, {"Content-Type": "text/turtle"}, body)

    def fetches(self, source: str) -> int:
        return sum(1 for path in self.server.requests if path.startswith(f"/{source}.ttl"))


@pytest.fixture
def federation(feed_server, tmp_path) -> Federation:
    federation = Federation(feed_server, tmp_path)
    harvest(federation.settings)
    return federation


def ping(client, source: str, token: str | None, url: str = ""):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(url or f"/sources/{source}/ping", headers=headers)


def changes_since(client, since: str, limit: int = 100) -> tuple[list[dict], str]:
    """Every change since ``since``, following the next links; and where to resume."""
    found: list[dict] = []
    url = f"/api/changes?since={since}&limit={limit}"
    while True:
        answer = client.get(url)
        assert answer.status_code == 200, answer.data
        page = answer.get_json()
        found += page["changes"]
        if page["next"] is None:
            assert page["complete"] and page["resume_from"] == page["generation"]
            return found, page["resume_from"]
        url = page["next"]


# -- pings ------------------------------------------------------------------------------------


def test_a_ping_harvests_that_source_only_and_its_change_is_on_the_feed(federation, tmp_path):
    """Real processes: ``ltc serve`` receives the ping, ``ltc watch`` harvests; the secret
    never reaches a log, not even when a careless script puts it in the address."""
    settings = federation.settings
    env = child_environment(settings)
    made = subprocess.run(
        [LTC, "sources", "token", "alpha"], env=env, capture_output=True, text=True, check=True
    )
    secret = made.stdout.strip()
    assert secret.startswith("ltc1.") and secret not in made.stderr
    assert secret.split(".")[2] not in DataFolder(settings.data_dir).ping_tokens.read_text()
    serve_log, watch_log = tmp_path / "serve.log", tmp_path / "watch.log"
    server = start_registry(settings, serve_log)
    with watch_log.open("wb") as out:
        watcher = subprocess.Popen([LTC, "watch"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        since = requests.get(server.url + "/health", timeout=5).json()["generation"]
        federation.names["alpha"][3] = "Lieu alpha renommé"
        federation.publish("alpha")
        alpha, beta = federation.fetches("alpha"), federation.fetches("beta")
        url = server.url + "/sources/alpha/ping"
        in_address = requests.post(url, params={"token": secret}, timeout=5)
        assert in_address.status_code == 400 and "adresse" in in_address.json()["message"]
        wrong = requests.post(url, headers={"Authorization": "Bearer ltc1.x.y"}, timeout=5)
        assert wrong.status_code == 403
        answer = requests.post(url, headers={"Authorization": f"Bearer {secret}"}, timeout=5)
        assert answer.status_code == 202, answer.text
        assert answer.json()["queued"] and answer.json()["position"] == 1
        deadline, renamed = time.monotonic() + 90, []
        while time.monotonic() < deadline and not renamed:
            page = requests.get(server.url + "/api/changes", params={"since": since}, timeout=5)
            renamed = [c for c in page.json()["changes"] if c["iri"] == place("alpha", 3)]
            time.sleep(0.3)
        assert renamed, watch_log.read_text()
        change = renamed[0]
        assert (change["op"], change["kind"], change["source"]) == ("changed", "place", "alpha")
        assert "Lieu alpha renommé" in json.dumps(change["record"], ensure_ascii=False)
        assert federation.fetches("alpha") == alpha + 1
        assert federation.fetches("beta") == beta  # the other source was left alone
    finally:
        watcher.terminate()
        watcher.wait(10)
        stop_registry(server)
    logs = [serve_log, watch_log, *DataFolder(settings.data_dir).logs.glob("*")]
    written = "".join(path.read_text(encoding="utf-8", errors="replace") for path in logs)
    assert '"/sources/alpha/ping"' in written  # the access log did see the pings…
    assert secret not in written and secret.split(".")[2] not in written  # …not the secret


def test_ltc_serve_with_a_schedule_harvests_pings_between_its_rounds(feed_server, tmp_path):
    """harvest_every of an hour: a ping is still harvested within seconds."""
    federation = Federation(feed_server, tmp_path, harvest_every=60)
    settings = federation.settings
    harvest(settings)
    secret = create_token(settings.data_dir, "beta")
    server = start_registry(settings, tmp_path / "serve.log")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and federation.fetches("alpha") < 2:
            time.sleep(0.2)  # the round at start
        since = requests.get(server.url + "/health", timeout=5).json()["generation"]
        federation.names["beta"][2] = "Lieu beta renommé"
        federation.publish("beta")
        answer = requests.post(
            server.url + "/sources/beta/ping",
            headers={"Authorization": f"Bearer {secret}"},
            timeout=5,
        )
        assert answer.status_code == 202
        deadline, found = time.monotonic() + 60, []
        while time.monotonic() < deadline and not found:
            page = requests.get(server.url + "/api/changes", params={"since": since}, timeout=5)
            found = [c for c in page.json()["changes"] if c["iri"] == place("beta", 2)]
            time.sleep(0.3)
        assert found and found[0]["op"] == "changed"
        assert federation.fetches("alpha") == 2  # the initial harvest and the round at start
    finally:
        stop_registry(server)


def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_harvested(federation):
    settings = federation.settings
    client = create_app(settings).test_client()
    beta_secret = create_token(settings.data_dir, "beta")
    fetched = len(federation.server.requests)
    missing = ping(client, "alpha", None)
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    assert ping(client, "alpha", "").status_code == 401
    for wrong in (beta_secret, "ltc1.00000000.devine", "n'importe quoi"):
        assert ping(client, "alpha", wrong).status_code == 403
    assert ping(client, "inconnue", beta_secret).status_code == 404
    assert waiting_requests(settings.data_dir) == []
    assert harvest_pinged(settings) == []
    assert len(federation.server.requests) == fetched


def test_twenty_pings_in_a_burst_give_at_most_two_harvests(federation, tmp_path):
    settings = federation.settings
    secret = create_token(settings.data_dir, "alpha")
    server = start_registry(settings, tmp_path / "serve.log")
    env = child_environment(settings)
    watcher = subprocess.Popen([LTC, "watch"], env=env, stdout=subprocess.DEVNULL)
    try:
        before = federation.fetches("alpha")
        statuses: list[int] = []

        def send() -> None:
            answer = requests.post(
                server.url + "/sources/alpha/ping",
                headers={"Authorization": f"Bearer {secret}"},
                timeout=30,
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=send) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [202] * 20
        pings = DataFolder(settings.data_dir).pings
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (
            list(pings.glob("*.request")) or list(pings.glob("*.taken"))
        ):
            time.sleep(0.2)
        time.sleep(1.0)  # a few more looks: nothing else is harvested
        harvests = federation.fetches("alpha") - before
        assert 1 <= harvests <= 2
        assert federation.fetches("beta") == 1  # only the first harvest's
    finally:
        watcher.terminate()
        watcher.wait(10)
        stop_registry(server)


def test_a_ping_during_a_harvest_is_not_lost(federation):
    """The request is taken when its harvest starts: a ping meanwhile waits for the next."""
    settings = federation.settings
    client = create_app(settings).test_client()
    secret = create_token(settings.data_dir, "alpha")
    assert ping(client, "alpha", secret).status_code == 202
    second = ping(client, "alpha", secret).get_json()
    assert second["coalesced"] and second["position"] == 1
    assert take_requests(settings.data_dir) == ["alpha"]  # a harvest starts…
    during = ping(client, "alpha", secret).get_json()
    assert during["running"] and not during["coalesced"]
    finish_requests(settings.data_dir, ["alpha"])  # …and ends
    assert waiting_requests(settings.data_dir) == ["alpha"]  # one more harvest to run
    assert harvest_pinged(settings) == ["alpha"]
    assert waiting_requests(settings.data_dir) == []


def test_pings_beyond_the_hourly_allowance_get_429(feed_server, tmp_path):
    federation = Federation(feed_server, tmp_path, ping_rate_limit=3)
    harvest(federation.settings)
    client = create_app(federation.settings).test_client()
    secret = create_token(federation.settings.data_dir, "alpha")
    assert [ping(client, "alpha", secret).status_code for _ in range(3)] == [202] * 3
    refused = ping(client, "alpha", secret)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_a_revoked_secret_is_refused(federation, cli, monkeypatch):
    settings = federation.settings
    monkeypatch.setenv("LTC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LTC_SOURCES_FILE", settings.sources_file)
    first = cli("sources", "token", "alpha").output.splitlines()[0]
    second = cli("sources", "token", "alpha").output.splitlines()[0]
    client = create_app(settings).test_client()
    assert ping(client, "alpha", first).status_code == 202
    listed = cli("sources", "token", "alpha", "--list").output
    assert first.split(".")[1] in listed and first.split(".")[2] not in listed
    assert cli("sources", "token", "alpha", "--revoke", first.split(".")[1]).exit_code == 0
    assert ping(client, "alpha", first).status_code == 403
    assert ping(client, "alpha", second).status_code == 202
    assert cli("sources", "token", "alpha", "--revoke", "all").exit_code == 0
    assert ping(client, "alpha", second).status_code == 403


# -- the change feed ------------------------------------------------------------------------------


Graphs = dict[str, rdflib.Graph]


def _dump(client) -> tuple[Graphs, str]:
    """The dump's named graphs (rdflib), and the generation it states."""
    answer = client.get("/dump.nq.gz")
    assert answer.status_code == 200
    body = gzip.decompress(answer.get_data())
    answer.close()
    by_graph: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(body, format=ox.RdfFormat.N_QUADS):
        by_graph.setdefault(quad.graph_name.value, []).append(quad.triple)
    graphs = {}
    for name, triples in by_graph.items():
        graphs[name] = rdflib.Graph().parse(
            data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt"
        )
    return graphs, answer.headers["X-LTC-Generation"]


def _owned(node: rdflib.term.Node) -> bool:
    return isinstance(node, rdflib.BNode) or str(node).startswith(GENID)


def _remove_record(graph: rdflib.Graph, subject: rdflib.term.Node) -> None:
    """The record's statements, its owned nodes', and its ``#fragment`` subjects'."""
    for _s, _p, value in list(graph.triples((subject, None, None))):
        graph.remove((subject, _p, value))
        if _owned(value):
            _remove_record(graph, value)
    if isinstance(subject, rdflib.URIRef) and "#" not in subject:
        for fragment in {s for s in graph.subjects() if str(s).startswith(f"{subject}#")}:
            _remove_record(graph, fragment)


def apply(graphs: Graphs, changes: list[dict]) -> None:
    """What a reuser does with each change, in order: replace or remove the record."""
    for change in changes:
        graph = graphs.setdefault(change["graph"], rdflib.Graph())
        _remove_record(graph, rdflib.URIRef(change["iri"]))
        if change["op"] != "removed":
            # another JSON-LD processor than the registry's (pyld), as a reuser would
            nquads = jsonld.to_rdf(change["record"], {"format": "application/n-quads"})
            graph.parse(data=nquads, format="nt")


def _graph(graphs: Graphs, name: str) -> rdflib.Graph:
    return graphs.get(name, rdflib.Graph())


def test_the_dump_plus_the_changes_since_its_generation_is_the_latest_registry(federation):
    settings = federation.settings
    iris = Iris(settings.base_iri)
    held, generation = _dump(create_app(settings).test_client())
    # a network renames a place, drops one and adds one; another network is removed;
    # the operator takes a record down
    federation.names["alpha"][2] = "Lieu alpha renommé"
    del federation.names["alpha"][5]
    federation.names["alpha"][9] = "Lieu alpha nouveau"
    federation.publish("alpha")
    harvest(settings, only=["alpha"])
    remove_source(settings, "beta")
    takedown.add(settings.data_dir, place("alpha", 7), "demande de la personne")
    take_down(settings, place("alpha", 7))
    client = create_app(settings).test_client()
    found, resume = changes_since(client, generation, limit=3)
    latest, latest_generation = _dump(client)
    assert resume == latest_generation != generation
    by_iri = {(c["iri"], c["op"]) for c in found}
    assert (place("alpha", 2), "changed") in by_iri
    assert (place("alpha", 5), "removed") in by_iri
    assert (place("alpha", 9), "added") in by_iri
    assert (place("alpha", 7), "removed") in by_iri  # the takedown
    assert {(c["iri"], c["op"]) for c in found if c["source"] == "beta"} >= {
        (place("beta", i), "removed") for i in range(5)
    }
    derived_before = len(_graph(held, iris.derived_graph))
    apply(held, found)
    graphs = [iris.source_graph("alpha"), iris.source_graph("beta"), iris.derived_graph]
    for name in graphs:
        assert isomorphic(_graph(held, name), _graph(latest, name)), name
    assert len(_graph(latest, iris.source_graph("alpha"))) > 0
    # the cluster of alpha's and beta's shared place went with beta
    assert any(c["kind"] == "place-cluster" and c["op"] == "removed" for c in found)
    assert derived_before > len(_graph(latest, iris.derived_graph))
    assert len(_graph(held, iris.source_graph("beta"))) == 0
    # nothing since the latest: an empty, complete page
    assert changes_since(client, resume) == ([], resume)


def test_the_atom_feed_carries_the_same_changes(federation):
    settings = federation.settings
    _held, generation = _dump(create_app(settings).test_client())
    federation.names["alpha"][1] = "Lieu alpha bis"
    federation.publish("alpha")
    harvest(settings, only=["alpha"])
    client = create_app(settings).test_client()
    answer = client.get(f"/api/changes.atom?since={generation}")
    assert answer.status_code == 200 and answer.mimetype == "application/atom+xml"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.get_data(as_text=True)
    assert place("alpha", 1) in body and "Lieu alpha bis" in body


def test_a_since_older_than_what_is_kept_gets_410_and_the_dump(feed_server, tmp_path):
    federation = Federation(feed_server, tmp_path, changes_keep_days=0.5 / 86400)
    settings = federation.settings
    harvest(settings)
    first = ChangeLog(settings.data_dir).index().base  # the first generation
    for name in ("Lieu alpha bis", "Lieu alpha ter"):  # two generations, a second apart
        time.sleep(1.0)
        federation.names["alpha"][1] = name
        federation.publish("alpha")
        harvest(settings, only=["alpha"])
    client = create_app(settings).test_client()
    index = ChangeLog(settings.data_dir).index()
    assert index.base != first and len(index.generations) == 1  # older ones forgotten
    assert client.get(f"/api/changes?since={index.base}").status_code == 200
    for since in (first, "2001-01-01T00:00:00Z"):
        gone = client.get(f"/api/changes?since={since}")
        assert gone.status_code == 410, since
        assert gone.get_json()["dump"] == "/dump.nq.gz" and "export" in gone.get_json()["message"]
    assert client.get("/api/changes?since=hier").status_code == 400
    assert client.get("/api/changes?limit=0").status_code == 400


def test_a_record_is_its_iri_with_the_nodes_it_owns_whatever_their_labels():
    from core.records import split_records

    statements = """<https://a.example.org/lieu/1> <https://schema.org/address> <https://a.example.org/lieu/1#adresse> .
<https://a.example.org/lieu/1#adresse> <https://schema.org/postalCode> "37000" .
<https://a.example.org/lieu/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Place> .
<https://a.example.org/lieu/2> <https://schema.org/geo> _:b1 .
_:b1 <https://schema.org/latitude> "47.3" .
"""
    before = split_records(statements.encode())
    assert set(before) == {"https://a.example.org/lieu/1", "https://a.example.org/lieu/2"}
    assert before["https://a.example.org/lieu/1"].kind == "place"
    assert len(before["https://a.example.org/lieu/1"].lines) == 3  # with its address
    relabelled = split_records(statements.replace("_:b1", "_:autre").encode())
    assert (
        relabelled["https://a.example.org/lieu/2"].digest
        == before["https://a.example.org/lieu/2"].digest
    )
    moved = split_records(statements.replace("37000", "37100").encode())
    assert (
        moved["https://a.example.org/lieu/1"].digest
        != before["https://a.example.org/lieu/1"].digest
    )


def test_change_feed_answers_match_the_openapi_description(federation):
    import jsonschema
    from openapi_spec_validator import validate

    settings = federation.settings
    _held, generation = _dump(create_app(settings).test_client())
    federation.names["alpha"][4] = "Lieu alpha quater"
    del federation.names["alpha"][6]
    federation.publish("alpha")
    harvest(settings, only=["alpha"])
    client = create_app(settings).test_client()
    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    for path, query, status in (
        ("/api/changes", f"since={generation}&limit=1", "200"),
        ("/api/changes", "", "200"),
        ("/api/changes", "since=2001-01-01", "410"),
    ):
        answer = client.get(f"{path}?{query}")
        assert str(answer.status_code) == status, (query, answer.data)
        content = spec["paths"][path]["get"]["responses"][status]["content"]
        schema = {**content["application/json"]["schema"], "components": spec["components"]}
        jsonschema.Draft202012Validator(schema).validate(answer.get_json())
    removed = changes_since(client, generation)[0]
    assert {c["op"] for c in removed} >= {"changed", "removed"}
