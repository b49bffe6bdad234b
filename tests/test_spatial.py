"""The spatial index gives exactly what a brute-force haversine filter gives, and
follows the store's generations."""

from __future__ import annotations

import random
import threading

import pytest

from core.config import load_settings
from core.iris import Iris
from core.store import open_store
from ltc.pipeline import harvest
from registry.directory import Directory
from registry.snapshot import SnapshotHolder
from registry.spatial import (
    CELL_DEGREES,
    Point,
    SpatialIndex,
    haversine_km,
)

THEMES = [f"https://w3id.org/ltc/theme/t{i}" for i in range(5)]
NETWORKS = [f"https://n{i}.example.org/reseau" for i in range(4)]


def _points(rng: random.Random) -> list[Point]:
    """Clusters, duplicates, cell borders, poles and the antimeridian."""
    points: list[Point] = []

    def add(lat: float, lon: float) -> None:
        lat, lon = max(-90.0, min(90.0, lat)), max(-180.0, min(180.0, lon))
        themes = frozenset(rng.sample(THEMES, rng.randint(0, 2)))
        networks = frozenset(rng.sample(NETWORKS, rng.randint(0, 2)))
        points.append(Point(f"https://x.example.org/{len(points)}", lat, lon, themes, networks))

    for _ in range(1500):  # France and around
        add(rng.uniform(41, 51.5), rng.uniform(-5.5, 9.8))
    for lat, lon in [(47.39, 0.70), (45.76, 4.83), (-21.1, 55.5)]:  # dense clusters
        for _ in range(400):
            add(lat + rng.gauss(0, 0.02), lon + rng.gauss(0, 0.03))
    for _ in range(50):  # same coordinates, different places
        add(48.85, 2.35)
    for _ in range(300):  # exactly on cell borders
        add(
            round(rng.uniform(43, 49) / CELL_DEGREES) * CELL_DEGREES,
            round(rng.uniform(-1, 6) / CELL_DEGREES) * CELL_DEGREES,
        )
    for _ in range(300):  # near the poles and the ±180° meridian
        add(rng.choice([1, -1]) * rng.uniform(89.5, 90), rng.uniform(-180, 180))
        add(rng.uniform(-60, 60), rng.choice([1, -1]) * rng.uniform(179.5, 180))
    for _ in range(500):  # the rest of the world
        add(rng.uniform(-90, 90), rng.uniform(-180, 180))
    return points


def _keep(point: Point, themes, networks) -> bool:
    return (themes is None or bool(point.themes & set(themes))) and (
        networks is None or bool(point.networks & set(networks))
    )


def brute_near(points, lat, lon, radius, themes=None, networks=None, limit=None, distances=None):
    found = distances or [(p, haversine_km(lat, lon, p.lat, p.lon)) for p in points]
    found = [(p, km) for p, km in found if km <= radius and _keep(p, themes, networks)]
    found.sort(key=lambda item: (item[1], item[0].iri, item[0].lat, item[0].lon))
    return found if limit is None else found[:limit]


def brute_within(points, south, west, north, east, themes=None, networks=None):
    def lon_ok(lon: float) -> bool:
        return (lon >= west or lon <= east) if west > east else west <= lon <= east

    return {
        p.iri
        for p in points
        if south <= p.lat <= north and lon_ok(p.lon) and _keep(p, themes, networks)
    }


@pytest.fixture(scope="module")
def world() -> tuple[list[Point], SpatialIndex]:
    points = _points(random.Random(42))
    return points, SpatialIndex(points, generation="test")


def _centres(rng: random.Random, points: list[Point]) -> list[tuple[float, float]]:
    centres = [(p.lat, p.lon) for p in rng.sample(points, 150)]
    centres += [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(50)]
    centres += [(90, 0), (-90, 12.5), (89.99, 180), (0, 180), (0, -180), (-45, 179.99)]
    centres += [(48.85, 2.35), (47.39, 0.70), (47.4, 0.7)]
    return centres


def test_near_matches_brute_force(world):
    points, index = world
    rng = random.Random(1)
    for lat, lon in _centres(rng, points):
        distances = [(p, haversine_km(lat, lon, p.lat, p.lon)) for p in points]
        for radius in (0.001, 0.5, 3, 10, rng.uniform(0.1, 50), 50):
            expected = brute_near(points, lat, lon, radius, distances=distances)
            assert index.near(lat, lon, radius) == expected, (
                lat,
                lon,
                radius,
            )


def test_radius_edge_is_inclusive_and_identical(world):
    points, index = world
    rng = random.Random(2)
    for _ in range(200):
        a, b = rng.sample(points[:1500], 2)
        km = haversine_km(a.lat, a.lon, b.lat, b.lon)
        if not 0 < km <= 50:
            continue
        found = index.near(a.lat, a.lon, km)
        assert found == brute_near(points, a.lat, a.lon, km)
        assert b.iri in {p.iri for p, _ in found}


def test_same_coordinates_all_found():
    points = [Point(f"urn:p{i}", 45.0, 5.0) for i in range(20)] + [Point("urn:far", 46.0, 5.0)]
    found = SpatialIndex(points).near(45.0, 5.0, 1)
    assert [p.iri for p, _ in found] == sorted(f"urn:p{i}" for i in range(20))
    assert all(km == 0 for _, km in found)


def test_filters_and_limit(world):
    points, index = world
    rng = random.Random(3)
    for lat, lon in _centres(rng, points)[:60]:
        distances = [(p, haversine_km(lat, lon, p.lat, p.lon)) for p in points]
        for themes, networks in [
            (THEMES[:1], None),
            (None, NETWORKS[1:3]),
            (THEMES[2:4], NETWORKS[:1]),
            ([], None),
        ]:
            expected = brute_near(points, lat, lon, 25, themes, networks, distances=distances)
            found = index.near(lat, lon, 25, themes=themes, networks=networks)
            assert found == expected
            limited = index.near(lat, lon, 25, themes=themes, networks=networks, limit=3)
            assert limited == expected[:3]
    assert index.near(47.39, 0.70, 10, limit=0) == []


def test_within_matches_brute_force(world):
    points, index = world
    rng = random.Random(4)
    boxes = [
        (47.3, 0.6, 47.5, 0.8),
        (47.35, 0.65, 47.45, 0.75),  # on cell borders
        (-90, -180, 90, 180),
        (89, -180, 90, 180),
        (-60, 179, 60, -179),  # across the ±180° meridian
        (-10, 170, 10, 180),
        (48.85, 2.35, 48.85, 2.35),  # a single point
    ]
    for _ in range(100):
        south, west = rng.uniform(-90, 89), rng.uniform(-180, 179)
        boxes.append(
            (south, west, min(90, south + rng.uniform(0, 3)), min(180, west + rng.uniform(0, 4)))
        )
    for south, west, north, east in boxes:
        for themes, networks in [(None, None), (THEMES[:2], NETWORKS[:2])]:
            found = index.within(south, west, north, east, themes=themes, networks=networks)
            assert len(found) == len({p.iri for p in found})
            assert {p.iri for p in found} == brute_within(
                points, south, west, north, east, themes, networks
            ), (south, west, north, east)
    found = index.within(47.3, 0.6, 47.5, 0.8, limit=5)
    centre = [haversine_km(47.4, 0.7, p.lat, p.lon) for p in found]
    assert centre == sorted(centre) and len(found) == 5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda i: i.near(91, 0, 5), "latitude"),
        (lambda i: i.near(-90.5, 0, 5), "latitude"),
        (lambda i: i.near(45, 180.1, 5), "longitude"),
        (lambda i: i.near(45, 5, 0), "radius_km"),
        (lambda i: i.near(45, 5, -1), "radius_km"),
        (lambda i: i.near(45, 5, 50.01), "radius_km"),
        (lambda i: i.near(45, 5, float("nan")), "radius_km"),
        (lambda i: i.near(float("nan"), 5, 1), "latitude"),
        (lambda i: i.near("45", 5, 1), "latitude"),
        (lambda i: i.near(45, 5, 1, limit=-1), "limit"),
        (lambda i: i.within(46, 0, 45, 1), "south"),
        (lambda i: i.within(45, -181, 46, 1), "west"),
        (lambda i: i.within(45, 0, 46, 181), "east"),
    ],
)
def test_validation(call, message):
    with pytest.raises(ValueError, match=message):
        call(SpatialIndex([Point("urn:a", 45, 5)]))


def test_invalid_point_refused():
    with pytest.raises(ValueError, match="latitude"):
        SpatialIndex([Point("urn:a", 95, 5)])


# -- from a real store -------------------------------------------------------------------

PLACES_WITH_COORDINATES = """
PREFIX schema: <https://schema.org/>
SELECT DISTINCT ?place WHERE {
  GRAPH ?g { ?place schema:geo ?geo . ?geo schema:latitude ?lat ; schema:longitude ?lon }
  FILTER(STRSTARTS(STR(?g), "https://w3id.org/ltc/graph/source/"))
  FILTER(isNumeric(?lat) && isNumeric(?lon))
}"""

PRESENCE_NETWORKS = """
PREFIX schema: <https://schema.org/>
PREFIX ltc: <https://w3id.org/ltc/ns#>
SELECT DISTINCT ?place ?network WHERE {
  ?presence a ltc:Presence ; ltc:place ?place ; ltc:organisation ?org .
  ?org schema:memberOf ?network .
}"""


@pytest.fixture(scope="module")
def harvested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spatial")
    settings = load_settings(overrides={"data_dir": str(tmp), "harvest_workers": 1}, environ={})
    harvest(settings)
    store = open_store(settings, writer=False)
    yield settings, store
    store.close()


def test_index_from_store_holds_every_place_with_coordinates(harvested):
    settings, store = harvested
    index = Directory.from_store(store, Iris(settings.base_iri)).index
    assert index.generation == store.generation() != ""
    everything = index.within(-90, -180, 90, 180)
    expected = {row["place"].value for row in store.select(PLACES_WITH_COORDINATES)}
    assert len(expected) > 100
    assert {p.iri for p in everything} == expected
    assert len(everything) == len(index) == len(expected)

    networks: dict[str, set[str]] = {}
    for row in store.select(PRESENCE_NETWORKS):
        networks.setdefault(row["place"].value, set()).add(row["network"].value)
    by_iri = {p.iri: p for p in everything}
    shared = [iri for iri, found in networks.items() if iri in by_iri and len(found) >= 2]
    assert shared, "the example federation has places where networks meet"
    for iri, found in networks.items():
        if iri in by_iri:
            assert found == by_iri[iri].networks, iri
    assert any(p.themes for p in everything)
    some = by_iri[shared[0]]
    near = index.near(some.lat, some.lon, 1, networks=sorted(networks[shared[0]])[:1])
    assert some in [p for p, _ in near]


def test_holder_rebuilds_after_a_publish(tmp_path):
    settings = load_settings(
        overrides={"data_dir": str(tmp_path), "harvest_workers": 1}, environ={}
    )
    harvest(settings, only=["amap-centre"])
    builds = []
    started = threading.Event()
    release = threading.Event()

    def build(store):
        builds.append(store.generation())
        if len(builds) == 2:
            started.set()
            assert release.wait(10)
        return Directory.from_store(store, Iris(settings.base_iri)).index

    holder = SnapshotHolder(
        lambda: open_store(settings, writer=False), check_seconds=3600, build=build
    )
    first = holder.current().directory
    assert holder.check(force=True) is False  # nothing new
    assert holder.current().directory is first and len(builds) == 1
    new_place = "https://amap-centre.example.org/lieux/test-spatial-nouveau"
    assert not first.near(10.5, 20.5, 1)

    schema = "https://schema.org/"
    ntriples = (
        f"<{new_place}> <{schema}geo> _:g .\n"
        f'_:g <{schema}latitude> "10.5"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
        f'_:g <{schema}longitude> "20.5"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
    ).encode()
    with open_store(settings, writer=True) as writer:
        writer.replace_graph("https://w3id.org/ltc/graph/source/test-spatial", ntriples)
        generation = writer.publish()

    assert holder.check(force=True) is True
    assert started.wait(10)
    # while the new index is built, readers keep the old one and no second build starts
    assert holder.current().directory is first
    assert holder.current().generation == first.generation != generation
    assert holder.check(force=True) is False
    release.set()
    holder.wait(10)
    current = holder.current().directory
    assert current is not first and current.generation == generation
    assert holder.current().generation == generation
    assert [p.iri for p, _ in current.near(10.5, 20.5, 1)] == [new_place]
    assert len(builds) == 2 and holder.last_error is None
