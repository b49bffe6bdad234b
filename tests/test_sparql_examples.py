"""The example queries offered to developers answer on the example federation."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from conftest import EXAMPLES, ROOT
from harvester.feed import check_feed
from ltc.config import load_settings

QUERIES = sorted((ROOT / "sparql" / "examples").glob("*.rq"))


@pytest.fixture(scope="module")
def federation(expected) -> ox.Store:
    """An in-memory store holding the accepted records of every example RDF feed."""
    store = ox.Store()
    settings = load_settings(environ={})
    for source in expected["sources"]:
        if source["adapter"]:
            continue
        data = (EXAMPLES / source["file"]).read_bytes()
        validation = check_feed(
            data, source=source["id"], settings=settings, filename=source["file"]
        )
        graph = ox.NamedNode(f"https://w3id.org/ltc/graph/{source['id']}")
        store.extend(
            ox.Quad(t.subject, t.predicate, t.object, graph) for t in validation.accepted_triples()
        )
    return store


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_example_query_returns_rows(federation, path):
    rows = list(federation.query(path.read_text(encoding="utf-8"), use_default_graph_as_union=True))
    assert rows, f"{path.name} returned nothing on the example federation"


def test_places_where_networks_meet_include_every_referenced_shared_place(federation, expected):
    query = (ROOT / "sparql/examples/lieux-ou-se-croisent-plusieurs-reseaux.rq").read_text()
    found = {row["place"].value for row in federation.query(query, use_default_graph_as_union=True)}
    rejected = {r["record"] for r in expected["rejected"]}
    for shared in expected["same_places"]:
        if shared["how"] == "reference" and not rejected & set(shared["places"]):
            assert set(shared["places"]) <= found, shared
