"""The in-memory spatial index of places the web tier answers "autour de moi" from.

A bounding-box FILTER over 100 000 places takes ~0.3 s per query in pyoxigraph, too
slow for a public page; this index answers the same question in a few milliseconds.
It is built once per published generation as part of ``registry.directory.Directory``,
held by ``registry.snapshot`` with the generation it was built from.

Layout: a fixed grid of ``CELL_DEGREES`` × ``CELL_DEGREES`` cells (row by latitude,
column by longitude, columns wrapping at ±180°). A query visits the cells that can hold
a point within the radius (the exact longitude half-width of a spherical cap, so the
visit is right near the poles and across the antimeridian), then keeps the points whose
great-circle (haversine) distance is within the radius.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
CELL_DEGREES = 0.05  # ~5.5 km of latitude: a 10 km radius visits ~35 cells in France
MAX_RADIUS_KM = 50.0
_COLUMNS = round(360 / CELL_DEGREES)
_ROWS = round(180 / CELL_DEGREES)
_MARGIN = 1e-9  # radians added to every cell range, so rounding never loses a point


@dataclass(frozen=True, slots=True)
class Point:
    """A place with coordinates, its themes and the networks present there (IRIs)."""

    iri: str
    lat: float
    lon: float
    themes: frozenset[str] = field(default_factory=frozenset)
    networks: frozenset[str] = field(default_factory=frozenset)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km; the index uses the very same formula, so its results
    match a brute-force filter with this function to the last bit."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    return _distance(p1, math.radians(lon1), math.cos(p1), p2, math.radians(lon2), math.cos(p2))


def _distance(p1: float, l1: float, c1: float, p2: float, l2: float, c2: float) -> float:
    a = math.sin((p2 - p1) / 2) ** 2 + c1 * c2 * math.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def _check_lat(lat: float, name: str = "latitude") -> float:
    if not isinstance(lat, int | float) or not -90 <= lat <= 90:
        raise ValueError(f"{name} must be a number between -90 and 90 degrees, not {lat!r}")
    return float(lat)


def _check_lon(lon: float, name: str = "longitude") -> float:
    if not isinstance(lon, int | float) or not -180 <= lon <= 180:
        raise ValueError(f"{name} must be a number between -180 and 180 degrees, not {lon!r}")
    return float(lon)


def _check_limit(limit: int | None) -> None:
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, not {limit!r}")


def _row(lat: float) -> int:
    return min(_ROWS - 1, max(0, math.floor((lat + 90) / CELL_DEGREES)))


def _column(lon: float) -> int:
    # not wrapped: callers wrap, so that a range can run past 180°
    return math.floor((lon + 180) / CELL_DEGREES)


def _filter(
    themes: Iterable[str] | None, networks: Iterable[str] | None
) -> Callable[[Point], bool] | None:
    wanted_themes = frozenset(themes) if themes is not None else None
    wanted_networks = frozenset(networks) if networks is not None else None
    if wanted_themes is None and wanted_networks is None:
        return None

    def keep(point: Point) -> bool:
        if wanted_themes is not None and point.themes.isdisjoint(wanted_themes):
            return False
        return wanted_networks is None or not point.networks.isdisjoint(wanted_networks)

    return keep


# One entry per point in a cell: (lat radians, lon radians, cos lat, lat, lon, point).
_Entry = tuple[float, float, float, float, float, Point]


class SpatialIndex:
    """Places on a latitude/longitude grid, for radius and bounding-box queries."""

    def __init__(self, points: Iterable[Point], generation: str = "") -> None:
        self.generation = generation
        self._rows: dict[int, dict[int, list[_Entry]]] = {}
        count = 0
        for point in points:
            _check_lat(point.lat, "a point's latitude")
            _check_lon(point.lon, "a point's longitude")
            phi = math.radians(point.lat)
            entry = (phi, math.radians(point.lon), math.cos(phi), point.lat, point.lon, point)
            columns = self._rows.setdefault(_row(point.lat), {})
            columns.setdefault(_column(point.lon) % _COLUMNS, []).append(entry)
            count += 1
        self._count = count

    def __len__(self) -> int:
        return self._count

    def _cells(self, rows: range, columns: Iterable[int] | None) -> Iterable[list[_Entry]]:
        """The occupied cells of these rows and (wrapped) columns; None means all columns."""
        wanted = None if columns is None else {c % _COLUMNS for c in columns}
        for r in rows:
            occupied = self._rows.get(r)
            if not occupied:
                continue
            if wanted is None:
                yield from occupied.values()
            elif len(wanted) <= len(occupied):
                for c in wanted:
                    cell = occupied.get(c)
                    if cell:
                        yield cell
            else:
                for c, cell in occupied.items():
                    if c in wanted:
                        yield cell

    def near(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        *,
        themes: Iterable[str] | None = None,
        networks: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[tuple[Point, float]]:
        """Places within ``radius_km`` (inclusive) of a point, nearest first, with their
        distance in km; ``themes``/``networks`` keep places having any of those IRIs."""
        lat, lon = _check_lat(lat), _check_lon(lon)
        if not isinstance(radius_km, int | float) or not 0 < radius_km <= MAX_RADIUS_KM:
            raise ValueError(
                f"radius_km must be a number of kilometres greater than 0 and at most "
                f"{MAX_RADIUS_KM:g}, not {radius_km!r}"
            )
        _check_limit(limit)
        keep = _filter(themes, networks)
        phi = math.radians(lat)
        lam = math.radians(lon)
        cos_phi = math.cos(phi)
        angle = radius_km / EARTH_RADIUS_KM + _MARGIN  # angular radius
        low, high = phi - angle, phi + angle
        rows = range(_row(math.degrees(low)), _row(math.degrees(high)) + 1)
        columns: range | None = None
        if low > -math.pi / 2 and high < math.pi / 2:
            # longitude half-width of a spherical cap of that angular radius
            ratio = math.sin(angle) / cos_phi
            if ratio < 1:
                half = math.degrees(math.asin(ratio)) + math.degrees(_MARGIN)
                if 2 * half < 360 - 2 * CELL_DEGREES:
                    columns = range(_column(lon - half), _column(lon + half) + 1)
        found: list[tuple[float, str, Point]] = []
        sin, asin, sqrt = math.sin, math.asin, math.sqrt
        diameter = 2 * EARTH_RADIUS_KM
        for cell in self._cells(rows, columns):
            for p2, l2, c2, _, _, point in cell:
                a = sin((p2 - phi) / 2) ** 2 + cos_phi * c2 * sin((l2 - lam) / 2) ** 2
                km = diameter * asin(sqrt(min(1.0, a)))
                if km <= radius_km and (keep is None or keep(point)):
                    found.append((km, point.iri, point))
        found.sort(key=_by_distance)
        if limit is not None:
            found = found[:limit]
        return [(point, km) for km, _, point in found]

    def within(
        self,
        south: float,
        west: float,
        north: float,
        east: float,
        *,
        themes: Iterable[str] | None = None,
        networks: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[Point]:
        """Places inside a box (edges included), nearest to its centre first; ``west >
        east`` means a box across the ±180° meridian (what a map sends there)."""
        south, north = _check_lat(south, "south"), _check_lat(north, "north")
        west, east = _check_lon(west, "west"), _check_lon(east, "east")
        if south > north:
            raise ValueError(f"south ({south}) must not be greater than north ({north})")
        _check_limit(limit)
        keep = _filter(themes, networks)
        across = west > east
        first = _column(west)
        last = _column(east) + (_COLUMNS if across else 0)
        columns = None if last - first + 1 >= _COLUMNS else range(first, last + 1)
        centre_lat = (south + north) / 2
        centre_lon = (west + east + (360 if across else 0)) / 2
        if centre_lon > 180:
            centre_lon -= 360
        phi, lam = math.radians(centre_lat), math.radians(centre_lon)
        cos_phi = math.cos(phi)
        found: list[tuple[float, str, Point]] = []
        for cell in self._cells(range(_row(south), _row(north) + 1), columns):
            for p2, l2, c2, lat, lon, point in cell:
                if not south <= lat <= north:
                    continue
                inside = (lon >= west or lon <= east) if across else west <= lon <= east
                if inside and (keep is None or keep(point)):
                    found.append((_distance(phi, lam, cos_phi, p2, l2, c2), point.iri, point))
        found.sort(key=_by_distance)
        if limit is not None:
            found = found[:limit]
        return [point for _, _, point in found]


def _by_distance(item: tuple[float, str, Point]) -> tuple[float, str, float, float]:
    km, iri, point = item
    return km, iri, point.lat, point.lon


class Generational(Protocol):
    """What an ``IndexHolder`` keeps: something built from one generation of the store."""

    generation: str

    def __len__(self) -> int: ...


Index = TypeVar("Index", bound=Generational)
