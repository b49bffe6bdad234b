"""One answer, one generation: while the directory of a newly published generation is
being built, every answer (body and ETag) still comes from the previous generation; once
it is ready, every answer comes from the new one.

A harvest publishes a generation in which a place is renamed; the directory build of that
generation is held back by the test until it has checked the answers of /api/places,
/api/place, /lieu and / against the previous generation's.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest

from core.config import load_settings
from core.iris import Iris
from core.store import open_store
from ltc.pipeline import harvest
from registry.app import create_app
from registry.directory import Directory
from registry.snapshot import SnapshotHolder

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PLACE = "https://tiers-lieux.example.org/lieux/la-fabrique-des-possibles-tours"
OLD_NAME = "La Fabrique des Possibles"
NEW_NAME = "La Fabrique Renommee Pendant La Reconstruction"  # ASCII: JSON escapes no byte
ROUTES = {
    "/api/places": "/api/places?lat=47.39&lon=0.69&radius=10",
    "/api/place": f"/api/place?iri={PLACE}",
    "/lieu": f"/lieu?iri={PLACE}",
    "/": "/?q=Tours",
}


@pytest.fixture
def settings(tmp_path):
    catalog = (EXAMPLES / "sources.toml").read_text(encoding="utf-8")
    block = next(b for b in catalog.split("[[source]]") if 'id = "tiers-lieux"' in b)
    block = block.replace('url = "feeds/', f'url = "{EXAMPLES.as_posix()}/feeds/')
    (tmp_path / "sources.toml").write_text("[[source]]" + block, encoding="utf-8")
    settings = load_settings(
        overrides={
            "data_dir": str(tmp_path / "data"),
            "sources_file": str(tmp_path / "sources.toml"),
            "harvest_workers": 1,
        },
        environ={},
    )
    harvest(settings)
    return settings


def rename(settings, name: str) -> str:
    """Publish a generation where the place has another name; returns the generation."""
    graph = Iris(settings.base_iri).source_graph("tiers-lieux")
    place, label = ox.NamedNode(PLACE), ox.NamedNode("https://schema.org/name")
    with open_store(settings, writer=True) as writer:
        writer.update(
            f"DELETE {{ GRAPH <{graph}> {{ {place} {label} ?old }} }} "
            f"INSERT {{ GRAPH <{graph}> {{ {place} {label} {ox.Literal(name)} }} }} "
            f"WHERE {{ GRAPH <{graph}> {{ {place} {label} ?old }} }}"
        )
        return writer.publish()


def answers(client) -> dict[str, tuple[str, str]]:
    """Each route's ETag and body."""
    found = {}
    for route, url in ROUTES.items():
        response = client.get(url)
        assert response.status_code == 200, (route, response.data[:300])
        found[route] = (response.headers["ETag"], response.get_data(as_text=True))
    return found


def names_in(body: str) -> set[str]:
    """Which of the place's names the body shows (its organisation, « Association La
    Fabrique des Possibles », keeps its own name)."""
    return {n for n in (OLD_NAME, NEW_NAME) if re.search("(?<!Association )" + re.escape(n), body)}


def test_every_answer_comes_from_one_generation_while_the_next_is_prepared(settings):
    app = create_app(settings)
    iris = Iris(settings.base_iri)
    hold = threading.Event()
    building = threading.Event()
    builds: list[str] = []

    def build(store):
        builds.append(store.generation())
        if len(builds) == 2:  # the renamed generation: held back by the test
            building.set()
            assert hold.wait(30)
        return Directory.from_store(store, iris)

    holder = SnapshotHolder(
        lambda: open_store(settings, writer=False), build=build, check_seconds=0
    )
    app.extensions["ltc_snapshots"] = holder
    client = app.test_client()

    before = answers(client)
    for route, (_etag, body) in before.items():
        assert names_in(body) == {OLD_NAME}, route
    first = holder.current().generation

    second = rename(settings, NEW_NAME)
    assert second != first
    client.get("/health")  # notices the new generation: its directory starts building
    assert building.wait(30)

    during = answers(client)
    assert during == before  # same ETags, same bodies: the old generation, wholly
    assert client.get("/health").get_json()["generation"] == first
    for route, (etag, _body) in before.items():
        assert client.get(ROUTES[route], headers={"If-None-Match": etag}).status_code == 304

    hold.set()
    holder.wait(30)
    after = answers(client)
    assert client.get("/health").get_json()["generation"] == second
    for route, (etag, body) in after.items():
        assert etag != before[route][0], route
        assert names_in(body) == {NEW_NAME}, route
    assert builds == [first, second] and holder.last_error is None


def test_sparql_answers_come_from_the_generation_of_the_request(settings):
    """A query worker opens the snapshot its request answers from, not the newest one."""
    from registry.query_workers import QueryPool

    query = f"SELECT ?name WHERE {{ <{PLACE}> <https://schema.org/name> ?name }}"
    with open_store(settings, writer=False) as reader:
        first = reader.generation()
    second = rename(settings, NEW_NAME)
    with QueryPool(settings, workers=1, timeout=30) as pool:
        old = pool.run(query, generation=first).body.decode()
        new = pool.run(query, generation=second).body.decode()
        again = pool.run(query, generation=first).body.decode()
    assert OLD_NAME in old and NEW_NAME not in old
    assert NEW_NAME in new
    assert again == old
