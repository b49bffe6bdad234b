"""Convergence as people see it, on the running example registry: one entry per physical
place in searches, one merged view for all its records, and the /convergences page."""

from __future__ import annotations

import html
from urllib.parse import quote

import requests


def _groups(expected, least_networks: int = 2):
    return [g for g in expected["same_places"] if len(g["networks"]) >= least_networks]


def test_every_record_of_a_shared_place_opens_one_merged_view(example_registry, expected):
    for group in expected["same_places"]:
        for place in group["places"]:
            answer = requests.get(
                example_registry.url + "/api/place", params={"iri": place}, timeout=10
            ).json()
            assert set(group["places"]) <= set(answer["records"]), place
            networks = {n["iri"] for o in answer["organisations"] for n in o["networks"]}
            assert set(group["networks"]) <= networks, (place, group["how"])


def test_a_merged_view_shows_which_source_says_what(example_registry, expected):
    group = next(g for g in expected["same_places"] if g["how"] == "sameAs")
    answer = requests.get(
        example_registry.url + "/api/place", params={"iri": group["places"][0]}, timeout=10
    ).json()
    names = answer["facts"]["nom"]
    assert {n["place"] for n in names} == set(group["places"])  # both records' names
    assert len({n["source"] for n in names}) == 2


def test_different_neighbours_stay_two_places(example_registry, expected):
    for a, b in expected["different_neighbours"]:
        answer = requests.get(
            example_registry.url + "/api/place", params={"iri": a}, timeout=10
        ).json()
        assert b not in answer["records"]


def test_search_lists_a_shared_place_once(example_registry, expected):
    group = next(g for g in expected["same_places"] if len(g["places"]) == 2)
    first = requests.get(
        example_registry.url + "/api/place", params={"iri": group["places"][0]}, timeout=10
    ).json()
    near = requests.get(
        example_registry.url + "/api/places",
        params={"lat": first["lat"], "lon": first["lon"], "radius": 1, "per_page": 100},
        timeout=10,
    ).json()
    listed = [p["iri"] for p in near["places"]]
    assert len(set(listed) & set(group["places"])) == 1


def test_convergences_page_lists_every_place_where_networks_meet(example_registry, expected):
    page = requests.get(example_registry.url + "/convergences", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    text = html.unescape(page.text)
    for group in _groups(expected):
        assert any(f"/lieu?iri={quote(p, safe=':/')}" in text for p in group["places"]), group
    assert "candidat" in text  # the collective's label for La Fabrique des Possibles
