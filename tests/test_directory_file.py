"""The directory file: written once per generation by the harvest, mapped by every web
process of ``ltc serve --workers N``, rebuilt when damaged, replaced when a new
generation is published while the old one keeps serving."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from core.config import child_environment, load_settings
from core.datafolder import DataFolder
from core.iris import Iris
from core.store import open_store
from ltc.pipeline import harvest, publish
from registry.directory import Directory, load_directory, parts_from_store
from registry.directory_file import DirectoryFileError, directory_from_buffer, file_name, open_file
from running_registry import LTC, free_port, stop_registry
from running_registry import Server as Running

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PLACE = "https://tiers-lieux.example.org/lieux/la-fabrique-des-possibles-tours"
NEAR = "/api/places?lat=47.39&lon=0.69&radius=10"


@pytest.fixture
def settings(tmp_path):
    catalog = (EXAMPLES / "sources.toml").read_text(encoding="utf-8")
    catalog = catalog.replace('url = "feeds/', f'url = "{EXAMPLES.as_posix()}/feeds/')
    (tmp_path / "sources.toml").write_text(catalog, encoding="utf-8")
    settings = load_settings(
        overrides={
            "data_dir": str(tmp_path / "data"),
            "sources_file": str(tmp_path / "sources.toml"),
            "harvest_workers": 1,
            "snapshots_kept": 2,
            "snapshots_min_age": 0,  # old snapshots (and their directory files) go at once
        },
        environ={},
    )
    harvest(settings)
    return settings


def current_file(settings) -> Path:
    folder = DataFolder(settings.data_dir)
    return folder.directory_file(file_name(folder.read_current()))


def serve(settings, tmp_path: Path, workers: int) -> Running:
    """``ltc serve --workers N`` on the data folder; waits for the near-me API."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [LTC, "serve", "--port", str(port), "--workers", str(workers)],
            env=child_environment(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Running(f"http://127.0.0.1:{port}", process, settings)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(server.url + NEAR, timeout=10).status_code == 200:
                return server
        except requests.RequestException:  # not listening yet, or busy starting
            pass
        time.sleep(0.1)
    stop_registry(server)
    raise AssertionError(f"ltc serve did not answer: {log.read_text()}")


def workers_of(server: Running) -> set[int]:
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(c) for c in children}


def generations_seen(server: Running, tries: int = 40) -> set[str]:
    """The generations a run of fresh connections is answered from (the kernel spreads
    new connections over the workers)."""
    return {
        requests.get(server.url + NEAR, headers={"Connection": "close"}, timeout=5).json()[
            "generation"
        ]
        for _ in range(tries)
    }


def rename(settings, name: str) -> str:
    """Publish (as the harvest does) a generation where the place has another name."""
    place, label = ox.NamedNode(PLACE), ox.NamedNode("https://schema.org/name")
    with open_store(settings, writer=True) as writer:
        graphs = [g for g in writer.named_graphs() if "tiers-lieux" in g]
        graph = next(g for g in graphs if writer.ask(f"ASK {{ GRAPH <{g}> {{ {place} ?p ?o }} }}"))
        writer.update(
            f"DELETE {{ GRAPH <{graph}> {{ {place} {label} ?old }} }} "
            f"INSERT {{ GRAPH <{graph}> {{ {place} {label} {ox.Literal(name)} }} }} "
            f"WHERE {{ GRAPH <{graph}> {{ {place} {label} ?old }} }}"
        )
        publish(writer, settings)
        return writer.generation()


def test_the_file_answers_as_the_store_does(settings):
    """The mapped file gives the very cards, names, clusters and searches the store's
    reading gives."""
    iris = Iris(settings.base_iri)
    with open_store(settings, writer=False) as store:
        built = Directory.from_store(store, iris)
        mapped = open_file(current_file(settings), store.generation())
    assert len(mapped) == len(built) > 300
    assert dict(mapped.cards.items()) == dict(built.cards.items())
    assert dict(mapped.clusters.items()) == dict(built.clusters.items())
    assert mapped.networks == built.networks and mapped.sources == built.sources
    for text in ("Tours", "fabrique poss", "amap", "zzzz"):
        assert mapped.names.search(text) == built.names.search(text)
    card = mapped.cards[PLACE]
    assert card.name == "La Fabrique des Possibles" and card.hours
    near = mapped.index.near(card.lat, card.lon, 10)
    assert near and near == built.index.near(card.lat, card.lon, 10)
    assert "https://nowhere.example.org/x" not in mapped.cards


ODD = "https://odd.example.org/"
# Awkward statements for the two readings: several names and streets, a name that is an
# IRI, coordinates that are not numbers (a Python-only number form, a plain string, out
# of range, a derived integer type), a place known by its address only, hours of the
# place and of a presence, validity dates, an organisation typed in another graph.
ODD_DATA = f"""
PREFIX schema: <https://schema.org/>
PREFIX ltc: <https://w3id.org/ltc/ns#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
INSERT DATA {{
  GRAPH <{ODD}graph> {{
    <{ODD}a> a schema:Place ; schema:name "Zêta du lieu", "Alpha Œuvre" ;
      schema:name <{ODD}not-a-name> ; schema:alternateName "ZA" ;
      ltc:theme <https://w3id.org/ltc/themes/energie>, "not a theme" ;
      schema:geo [ schema:latitude "47.1"^^xsd:decimal ; schema:longitude "0.5"^^xsd:double ] ;
      schema:address [ schema:streetAddress "2 rue B", "1 rue A" ; schema:postalCode "37000" ;
                       schema:addressLocality "Tours" ] ;
      schema:openingHoursSpecification [ schema:dayOfWeek schema:Monday ;
        schema:opens "09:00:00"^^xsd:time ; schema:closes "12:00:00"^^xsd:time ;
        schema:validFrom "2026-01-01"^^xsd:date ] .
    <{ODD}presence> a ltc:Presence ; ltc:place <{ODD}a> ; ltc:organisation <{ODD}org> ;
      schema:openingHoursSpecification [ schema:dayOfWeek schema:Tuesday ;
        schema:opens "14:00:00"^^xsd:time ; schema:closes "18:00:00"^^xsd:time ] .
    <{ODD}org> schema:name "Organisation étrange" ; schema:memberOf <{ODD}network>, "x" .
    <{ODD}b> a schema:Place ; schema:name "Bêta" ;
      schema:geo [ schema:latitude "1_0"^^xsd:decimal ; schema:longitude "2"^^xsd:integer ] ;
      schema:address [ schema:postalCode "37000" ; schema:addressLocality "Tours" ;
                       ltc:inseeCode "37261" ] .
    <{ODD}c> a schema:Place ; schema:name "Gamma" ;
      schema:geo [ schema:latitude "95"^^xsd:double ; schema:longitude "1"^^xsd:double ] .
    <{ODD}d> a schema:Place ; schema:name "Delta" ;
      schema:geo [ schema:latitude " 47.2"^^xsd:decimal ; schema:longitude "0.6" ] .
    <{ODD}e> a schema:Place ; schema:name "Epsilon" ;
      schema:geo [ schema:latitude "47"^^xsd:int ; schema:longitude "1"^^xsd:int ] .
  }}
  GRAPH <{ODD}other> {{ <{ODD}org> a schema:Organization . }}
}}"""


def test_the_scans_read_the_store_as_the_sparql_queries_do(settings):
    """The embedded store's predicate scans give the very directory the flat SPARQL
    queries give (the reading a remote store keeps), on the example federation and on
    awkward statements."""
    with open_store(settings, writer=True) as writer:
        writer.update(ODD_DATA)
        publish(writer, settings)
    iris = Iris(settings.base_iri)
    with open_store(settings, writer=False) as store:
        assert store.scans_are_fast
        scanned = parts_from_store(store, iris)
        queried = parts_from_store(store, iris, scans=False)
    cards = scanned[1]
    assert len(cards) > 300 and cards == queried[1]
    assert sorted(scanned[2].labels) == sorted(queried[2].labels)
    assert scanned[3:] == queried[3:]  # networks, sources, clusters
    odd = cards[ODD + "a"]
    assert (odd.name, odd.street, odd.approximate) == ("Alpha Œuvre", "1 rue A", False)
    assert [slot.day for slot in odd.hours] == [0, 1]
    assert cards[ODD + "b"].approximate and cards[ODD + "b"].name == "Bêta"
    assert ODD + "c" not in cards and ODD + "d" not in cards
    found = scanned[2].search("oeuvre")
    assert found == [("Alpha Œuvre", "place", ODD + "a")]
    assert scanned[2].search("etrange") == [("Organisation étrange", "organisation", ODD + "a")]


def test_a_damaged_file_is_refused_and_built_again(settings):
    path = current_file(settings)
    good = path.read_bytes()
    generation = DataFolder(settings.data_dir).read_current()
    damaged = bytearray(good)
    damaged[len(good) // 2] ^= 0xFF
    for bad in (bytes(damaged), good[: len(good) - 100], b"", b"LTCDIR\x00\x01garbage"):
        with pytest.raises(DirectoryFileError):
            directory_from_buffer(bad, generation)
    with pytest.raises(DirectoryFileError):
        directory_from_buffer(good, "g999999-other")
    path.write_bytes(good[:1000])  # a truncated file, as a crash might leave
    with open_store(settings, writer=False) as store:
        directory = load_directory(store, Iris(settings.base_iri), DataFolder(settings.data_dir))
    assert len(directory) > 300 and path.read_bytes() == good


def test_workers_share_one_file_and_a_dead_worker_is_replaced(settings, tmp_path):
    path = current_file(settings)
    written = path.stat().st_mtime_ns, path.stat().st_ino
    first = serve(settings, tmp_path, 2)
    second = serve(settings, tmp_path, 2)
    try:
        generation = DataFolder(settings.data_dir).read_current()
        assert generations_seen(first) == generations_seen(second) == {generation}
        # ready without building: the harvest's file, untouched
        assert (path.stat().st_mtime_ns, path.stat().st_ino) == written
        workers = workers_of(first)
        assert len(workers) == 2
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = workers_of(first)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.2)
        assert len(workers_of(first)) == 2 and victim not in workers_of(first)
        assert generations_seen(first) == {generation}
    finally:
        stop_registry(first)
        stop_registry(second)
    assert first.process.returncode == 0  # SIGTERM: the workers stopped, then the parent


def test_a_new_generation_is_served_by_every_worker_and_old_files_go(settings, tmp_path):
    folder = DataFolder(settings.data_dir)
    old = folder.read_current()
    server = serve(settings, tmp_path, 2)
    try:
        new = rename(settings, "La Fabrique Renommee")
        assert current_file(settings).exists()
        deadline = time.monotonic() + 30
        while generations_seen(server, 10) != {new} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert generations_seen(server) == {new}
        body = requests.get(server.url + NEAR, timeout=5).text
        assert "La Fabrique Renommee" in body
        for _ in range(2):  # two more publications: the first generations' snapshots go
            rename(settings, "Encore Renommee")
        kept = {p.name for p in folder.snapshots.iterdir()}
        names = {p.name for p in folder.directory_files()}
        assert names == {f"directory-{g}.bin" for g in kept}
        assert f"directory-{old}.bin" not in names
        assert requests.get(server.url + NEAR, timeout=5).status_code == 200
    finally:
        stop_registry(server)


def test_the_scheduled_harvest_runs_in_one_process_only(settings, tmp_path):
    """With ``--workers 2`` and ``harvest_every``, one process harvests at start, not two
    (each would otherwise start a round, the second skipping it for the lock)."""
    scheduled = dataclasses.replace(settings, harvest_every=60.0)
    before = DataFolder(settings.data_dir).read_current()
    server = serve(scheduled, tmp_path, 2)
    try:
        deadline = time.monotonic() + 60
        while DataFolder(settings.data_dir).read_current() == before:
            assert time.monotonic() < deadline, "the scheduled harvest did not publish"
            time.sleep(0.2)
        time.sleep(2)  # a second round, had one started, would be logged by now
    finally:
        stop_registry(server)
    (log,) = tmp_path.glob("serve-*.log")
    lines = log.read_text(encoding="utf-8").splitlines()
    rounds = [line for line in lines if "harvest: starting" in line]
    skipped = [line for line in lines if "scheduled harvest skipped" in line]
    assert len(rounds) == 1 and not skipped, lines
