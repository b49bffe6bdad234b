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
from registry.directory import Directory, load_directory
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
