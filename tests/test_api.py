"""The JSON API, GeoJSON and CSV on a running registry over the example federation,
checked against what the store itself holds (through the SPARQL endpoint)."""

from __future__ import annotations

import csv
import io
import math

import pytest
import requests

TOURS = {"lat": 47.3948, "lon": 0.704}
FABRIQUE = "https://tiers-lieux.example.org/lieux/la-fabrique-des-possibles-tours"
PLACES_WITH_COORDINATES = """
PREFIX schema: <https://schema.org/>
SELECT ?place ?lat ?lon WHERE {
  ?place a schema:Place ; schema:geo [ schema:latitude ?lat ; schema:longitude ?lon ] .
}"""


def _get(server, path, **params):
    answer = requests.get(server.url + path, params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer


def _all_pages(server, **params):
    places, url = [], server.url + "/api/places"
    while url:
        body = requests.get(url, params=params, timeout=10).json()
        places += body["places"]
        url, params = body["next"], None
    return places, body["total"]


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def store_places(example_registry):
    rows = requests.get(
        example_registry.sparql, params={"query": PLACES_WITH_COORDINATES}, timeout=10
    ).json()["results"]["bindings"]
    return {r["place"]["value"]: (float(r["lat"]["value"]), float(r["lon"]["value"])) for r in rows}


def _covers_once(places, expected):
    """Each expected place is listed, or named as the same place as a listed one (the
    registry lists one physical place once), and no place is listed twice."""
    listed = {p["iri"] for p in places}
    same = {iri for p in places for iri in p["same_place"]}
    assert expected <= listed | same
    assert listed <= expected and not listed & same


def test_near_me_returns_exactly_the_places_within_the_radius_nearest_first(
    example_registry, store_places
):
    places, total = _all_pages(example_registry, radius=10, per_page=7, **TOURS)
    expected = {
        iri for iri, (lat, lon) in store_places.items() if _km(*TOURS.values(), lat, lon) <= 10
    }
    assert expected and total == len(places)
    _covers_once(places, expected)
    distances = [p["distance_km"] for p in places]
    assert distances == sorted(distances) and distances[-1] <= 10


def test_pages_do_not_overlap_and_link_to_each_other(example_registry):
    first = _get(example_registry, "/api/places", radius=10, per_page=5, **TOURS).json()
    second = requests.get(first["next"], timeout=10).json()
    assert first["page"] == 1 and second["page"] == 2 and second["previous"]
    assert not {p["iri"] for p in first["places"]} & {p["iri"] for p in second["places"]}
    assert first["pages"] == math.ceil(first["total"] / 5)


def test_bounding_box_search(example_registry, store_places):
    box = (47.30, 0.60, 47.45, 0.80)
    places, _ = _all_pages(example_registry, bbox=",".join(map(str, box)), per_page=100)
    expected = {
        iri
        for iri, (lat, lon) in store_places.items()
        if box[0] <= lat <= box[2] and box[1] <= lon <= box[3]
    }
    assert expected
    _covers_once(places, expected)


def test_theme_and_network_filters_keep_only_matching_places(example_registry):
    everything, _ = _all_pages(example_registry, radius=50, per_page=100, **TOURS)
    energy, _ = _all_pages(example_registry, radius=50, per_page=100, theme="energie", **TOURS)
    assert 0 < len(energy) < len(everything)
    assert all(any(t["iri"].endswith("/energie") for t in p["themes"]) for p in energy)
    network = "https://repair-cafes.example.org/reseau"
    repair, _ = _all_pages(example_registry, radius=50, per_page=100, network=network, **TOURS)
    assert 0 < len(repair) < len(everything)
    assert all(network in {n["iri"] for n in p["networks"]} for p in repair)
    assert FABRIQUE in {p["iri"] for p in repair}  # present there, though not its own place


def test_open_at_keeps_places_open_at_that_moment_in_their_time_zone(example_registry):
    # La Fabrique is open Monday 8:30-19:00 (Paris): 10:00 Paris is in, 20:00 is out
    monday_morning, _ = _all_pages(
        example_registry, radius=50, per_page=100, open_at="2026-12-07T10:00:00+01:00", **TOURS
    )
    monday_night, _ = _all_pages(
        example_registry, radius=50, per_page=100, open_at="2026-12-07T20:00:00+01:00", **TOURS
    )
    assert FABRIQUE in {p["iri"] for p in monday_morning}
    assert FABRIQUE not in {p["iri"] for p in monday_night}
    assert all(p["open_now"] is True for p in monday_morning)


def test_name_search_is_accent_and_case_insensitive(example_registry):
    plain = _get(example_registry, "/api/places", q="fabrique possibles").json()
    shouted = _get(example_registry, "/api/places", q="FABRIQUE POSSIBLÉS").json()
    assert FABRIQUE in {p["iri"] for p in plain["places"]}
    assert plain["places"] == shouted["places"]


def test_every_place_names_its_sources_and_their_licences(example_registry):
    body = _get(example_registry, "/api/places", radius=10, **TOURS).json()
    assert body["licenses"]
    for place in body["places"]:
        assert place["sources"] and all(s["license"].startswith("http") for s in place["sources"])
        assert not any(s["stale"] for s in place["sources"])  # harvested just now


def test_a_source_without_a_recent_harvest_is_stale():
    from datetime import UTC, datetime

    from registry.directory import SourceInfo

    source = SourceInfo("x", "i", "g", "X", last_success="2026-01-01T00:00:00Z")
    assert source.stale(datetime(2026, 2, 15, tzinfo=UTC), after_days=30)
    assert not source.stale(datetime(2026, 1, 20, tzinfo=UTC), after_days=30)
    assert SourceInfo("y", "i", "g", "Y").stale(datetime(2026, 1, 1, tzinfo=UTC), 30)


def test_one_place_with_every_organisation_across_networks(example_registry):
    place = _get(example_registry, "/api/place", iri=FABRIQUE).json()
    networks = {n["iri"] for o in place["organisations"] for n in o["networks"]}
    assert {
        "https://tiers-lieux.example.org/reseau",
        "https://repair-cafes.example.org/reseau",
        "https://amap-centre.example.org/reseau",
    } <= networks
    assert {o["source"] for o in place["organisations"]} >= {"repair-cafes", "amap-centre"}
    assert place["facts"]["nom"][0] == {
        "value": "La Fabrique des Possibles",
        "source": "tiers-lieux",
        "place": FABRIQUE,
    }
    assert place["convergence_labels"][0]["status"] == "candidat"
    assert {s["id"] for s in place["sources"]} >= {"tiers-lieux", "ltc-collectif"}


def test_geojson_and_csv_hold_the_same_places_as_the_list(example_registry):
    params = {"radius": 10, **TOURS}
    listed, _ = _all_pages(example_registry, per_page=100, **params)
    geojson = _get(example_registry, "/api/places.geojson", **params)
    assert geojson.headers["Content-Type"].startswith("application/geo+json")
    features = geojson.json()["features"]
    assert [f["id"] for f in features] == [p["iri"] for p in listed]
    lon, lat = features[0]["geometry"]["coordinates"]
    assert (lat, lon) == (listed[0]["lat"], listed[0]["lon"])
    rows = list(
        csv.DictReader(io.StringIO(_get(example_registry, "/api/places.csv", **params).text))
    )
    assert [r["iri"] for r in rows] == [p["iri"] for p in listed]
    assert all(r["licenses"] for r in rows)


@pytest.mark.parametrize(
    "params, words",
    [
        ({"lat": "95", "lon": "0"}, "latitude"),
        ({"lat": "abc", "lon": "0"}, "lat"),
        ({"lat": "47"}, "ensemble"),
        ({"lat": "47", "lon": "1", "radius": "500"}, "rayon"),
        ({"lat": "47", "lon": "1", "radius": "nan"}, "rayon"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "50,0,40,1"}, "sud"),
        ({"page": "-1"}, "page"),
        ({"per_page": "100000"}, "page"),
        ({"theme": "javascript:alert(1)"}, "theme"),
        ({"open_at": "demain"}, "open_at"),
    ],
)
def test_bad_parameters_get_a_400_that_says_which(example_registry, params, words):
    answer = requests.get(example_registry.url + "/api/places", params=params, timeout=10)
    assert answer.status_code == 400 and words in answer.text
    assert "Traceback" not in answer.text


def test_unknown_or_malformed_place(example_registry):
    missing = requests.get(
        example_registry.url + "/api/place", params={"iri": "https://nowhere.example/x"}, timeout=10
    )
    assert missing.status_code == 404
    bad = requests.get(example_registry.url + "/api/place", params={"iri": "<x>"}, timeout=10)
    assert bad.status_code == 400


def test_answers_carry_an_etag_and_304_when_unchanged(example_registry):
    first = _get(example_registry, "/api/places", radius=5, **TOURS)
    assert "max-age" in first.headers["Cache-Control"]
    again = requests.get(
        example_registry.url + "/api/places",
        params={"radius": 5, **TOURS},
        headers={"If-None-Match": first.headers["ETag"]},
        timeout=10,
    )
    assert again.status_code == 304


def test_networks_and_themes_count_places(example_registry):
    networks = _get(example_registry, "/api/networks").json()["networks"]
    assert len(networks) >= 8 and all(n["name"] for n in networks)
    assert sum(n["places"] for n in networks) > 0
    themes = _get(example_registry, "/api/themes").json()["themes"]
    energy = next(t for t in themes if t["id"] == "energie")
    assert energy["label"] == "Énergie" and energy["places"] > 0


def test_openapi_describes_every_route_and_parameter_the_api_accepts(example_registry):
    document = _get(example_registry, "/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for path, item in document["paths"].items():
        for operation in item.values():
            params = {
                p["name"]: "1"
                for p in operation.get("parameters", [])
                if p["name"] in ("page", "per_page", "radius")
            }
            if path == "/api/place":
                params = {"iri": FABRIQUE}
            answer = requests.get(example_registry.url + path, params=params, timeout=10)
            assert answer.status_code == 200, (path, answer.text)
