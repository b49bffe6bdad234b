"""The example queries offered to developers answer on the harvested example federation
(sources' graphs and the registry's derived graph, as the endpoint serves them)."""

from __future__ import annotations

import pytest

from conftest import ROOT
from core.store import Store, open_store

QUERIES = sorted((ROOT / "sparql" / "examples").glob("*.rq"))


@pytest.fixture(scope="module")
def federation(example_registry) -> Store:
    """A reader of the store the example registry serves (harvested once per session)."""
    store = open_store(example_registry.settings, writer=False)
    yield store
    store.close()


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_example_query_returns_rows(federation, path):
    rows = federation.select(path.read_text(encoding="utf-8"))
    assert rows, f"{path.name} returned nothing on the example federation"


def test_places_where_networks_meet_include_every_referenced_shared_place(federation, expected):
    query = (ROOT / "sparql/examples/lieux-ou-se-croisent-plusieurs-reseaux.rq").read_text()
    found = {row["place"].value for row in federation.select(query)}
    rejected = {r["record"] for r in expected["rejected"]}
    for shared in expected["same_places"]:
        if shared["how"] == "reference" and not rejected & set(shared["places"]):
            assert set(shared["places"]) <= found, shared


def test_candidates_rank_places_by_networks_then_organisations(federation):
    query = (ROOT / "sparql/examples/lieux-de-convergence-candidats.rq").read_text()
    rows = federation.select(query)
    keys = [(-int(r["networks"].value), -int(r["organisations"].value)) for r in rows]
    assert keys == sorted(keys) and all(-networks >= 2 for networks, _ in keys)
    assert [int(r["rank"].value) for r in rows] == list(range(1, len(rows) + 1))
