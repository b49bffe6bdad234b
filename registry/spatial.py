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

import numpy as np

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


class SpatialIndex:
    """Places on a latitude/longitude grid, for radius and bounding-box queries.

    The points live in numpy arrays sorted by grid cell (the same arrays whether built
    here from ``Point``s or mapped from the directory file, ``registry.directory_file``):
    a query finds its cells' slices with a binary search, keeps the candidates within
    the radius (or the box) with a vectorised haversine and a small margin, then
    computes the exact distance of those few with ``math`` as ``haversine_km`` does, so
    the answers are those of a brute-force filter to the last bit."""

    def __init__(self, points: Iterable[Point] = (), generation: str = "") -> None:
        kept = list(points)
        for point in kept:
            _check_lat(point.lat, "a point's latitude")
            _check_lon(point.lon, "a point's longitude")
        lat = np.array([p.lat for p in kept], dtype=np.float64)
        lon = np.array([p.lon for p in kept], dtype=np.float64)
        order = np.argsort(cell_keys(lat, lon), kind="stable")
        self._setup(
            lat[order], lon[order], cell_keys(lat, lon)[order], [kept[i] for i in order].__getitem__
        )
        self.generation = generation

    @classmethod
    def from_arrays(
        cls,
        lat: np.ndarray,
        lon: np.ndarray,
        keys: np.ndarray,
        point_at: Callable[[int], Point],
        generation: str = "",
    ) -> SpatialIndex:
        """An index over arrays already sorted by ``cell_keys`` (a mapped file's);
        ``point_at(i)`` makes the ``Point`` of row ``i``."""
        index = cls.__new__(cls)
        index._setup(lat, lon, keys, point_at)
        index.generation = generation
        return index

    def _setup(
        self, lat: np.ndarray, lon: np.ndarray, keys: np.ndarray, point_at: Callable[[int], Point]
    ) -> None:
        self._lat, self._lon, self._keys = lat, lon, keys
        self._phi = np.radians(lat)
        self._lam = np.radians(lon)
        self._cos = np.cos(self._phi)
        self._point_at = point_at

    def __len__(self) -> int:
        return len(self._lat)

    def _candidates(self, rows: range, columns: range | None) -> np.ndarray:
        """Row numbers of the points in these rows and (wrapped) columns; None: all."""
        low: list[int] = []
        high: list[int] = []
        for r in rows:
            base = r * _COLUMNS
            if columns is None or len(columns) >= _COLUMNS:
                segments = [(0, _COLUMNS - 1)]
            else:
                first, last = columns.start % _COLUMNS, (columns.stop - 1) % _COLUMNS
                segments = [(first, last)] if first <= last else [(first, _COLUMNS - 1), (0, last)]
            for a, b in segments:
                low.append(base + a)
                high.append(base + b + 1)
        if not low or not len(self._keys):
            return np.empty(0, dtype=np.int64)
        starts = np.searchsorted(self._keys, low, side="left")
        stops = np.searchsorted(self._keys, high, side="left")
        pieces = [
            np.arange(a, b) for a, b in zip(starts.tolist(), stops.tolist(), strict=True) if b > a
        ]
        return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)

    def _exact(self, rows: np.ndarray, phi: float, lam: float, cos_phi: float) -> list[float]:
        """Distances of these rows from a point, computed as ``haversine_km`` does."""
        radians, cos = math.radians, math.cos
        found = []
        for lat, lon in zip(self._lat[rows].tolist(), self._lon[rows].tolist(), strict=True):
            p2 = radians(lat)
            found.append(_distance(phi, lam, cos_phi, p2, radians(lon), cos(p2)))
        return found

    def _cap(
        self, lat: float, lon: float, radius_km: float
    ) -> tuple[float, float, float, range, range | None]:
        """The query point in radians, its cosine, and the grid rows and columns a
        radius around it can reach."""
        lat, lon = _check_lat(lat), _check_lon(lon)
        if not isinstance(radius_km, int | float) or not 0 < radius_km <= MAX_RADIUS_KM:
            raise ValueError(
                f"radius_km must be a number of kilometres greater than 0 and at most "
                f"{MAX_RADIUS_KM:g}, not {radius_km!r}"
            )
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
        return phi, lam, cos_phi, rows, columns

    def near_rows(self, lat: float, lon: float, radius_km: float) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the places within ``radius_km`` (inclusive) and their distances, in no
        order: what ``near`` finds, without a Python object per place. The distances are
        numpy's; a place within a hair of the radius is decided by ``math``, as
        ``haversine_km`` decides it."""
        phi, lam, cos_phi, rows, columns = self._cap(lat, lon, radius_km)
        found = self._candidates(rows, columns)
        if not len(found):
            return found, np.empty(0)
        p2 = self._phi[found]
        a = np.sin((p2 - phi) / 2) ** 2 + cos_phi * self._cos[found] * (
            np.sin((self._lam[found] - lam) / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))
        keep = km <= radius_km * (1 - 1e-9)
        edge = np.flatnonzero((km > radius_km * (1 - 1e-9)) & (km <= radius_km * (1 + 1e-9) + 1e-9))
        if len(edge):
            exact = self._exact(found[edge], phi, lam, cos_phi)
            keep[edge] = np.array(exact) <= radius_km
        return found[keep], km[keep]

    def within_rows(
        self, south: float, west: float, north: float, east: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the places inside a box (edges included) and their distances to its
        centre, in no order (``within`` without a Python object per place)."""
        south, north = _check_lat(south, "south"), _check_lat(north, "north")
        west, east = _check_lon(west, "west"), _check_lon(east, "east")
        if south > north:
            raise ValueError(f"south ({south}) must not be greater than north ({north})")
        across = west > east
        first = _column(west)
        last = _column(east) + (_COLUMNS if across else 0)
        columns = None if last - first + 1 >= _COLUMNS else range(first, last + 1)
        centre_lat = (south + north) / 2
        centre_lon = (west + east + (360 if across else 0)) / 2
        if centre_lon > 180:
            centre_lon -= 360
        phi, lam = math.radians(centre_lat), math.radians(centre_lon)
        found = self._candidates(range(_row(south), _row(north) + 1), columns)
        lats, lons = self._lat[found], self._lon[found]
        inside = (south <= lats) & (lats <= north)
        inside &= ((lons >= west) | (lons <= east)) if across else ((west <= lons) & (lons <= east))
        found = found[inside]
        p2 = self._phi[found]
        a = np.sin((p2 - phi) / 2) ** 2 + math.cos(phi) * self._cos[found] * (
            np.sin((self._lam[found] - lam) / 2) ** 2
        )
        return found, 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))

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
        rows_found = self._candidates(rows, columns)
        if len(rows_found):
            p2 = self._phi[rows_found]
            a = np.sin((p2 - phi) / 2) ** 2 + cos_phi * self._cos[rows_found] * (
                np.sin((self._lam[rows_found] - lam) / 2) ** 2
            )
            km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))
            # vectorised functions may differ from math's in the last bits: a margin here,
            # the exact comparison below
            rows_found = rows_found[km <= radius_km * (1 + 1e-9) + 1e-9]
        found: list[tuple[float, str, Point]] = []
        for row, km_exact in zip(
            rows_found.tolist(), self._exact(rows_found, phi, lam, cos_phi), strict=True
        ):
            if km_exact <= radius_km:
                point = self._point_at(row)
                if keep is None or keep(point):
                    found.append((km_exact, point.iri, point))
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
        rows_found = self._candidates(range(_row(south), _row(north) + 1), columns)
        lats, lons = self._lat[rows_found], self._lon[rows_found]
        inside = (south <= lats) & (lats <= north)
        inside &= ((lons >= west) | (lons <= east)) if across else ((west <= lons) & (lons <= east))
        rows_found = rows_found[inside]
        found: list[tuple[float, str, Point]] = []
        for row, km in zip(
            rows_found.tolist(), self._exact(rows_found, phi, lam, cos_phi), strict=True
        ):
            point = self._point_at(row)
            if keep is None or keep(point):
                found.append((km, point.iri, point))
        found.sort(key=_by_distance)
        if limit is not None:
            found = found[:limit]
        return [point for _, _, point in found]


def cell_keys(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The grid cell of each point as one sortable number (row × columns + column), as
    ``_row`` and ``_column`` tell it."""
    rows = np.clip(np.floor((lat + 90) / CELL_DEGREES), 0, _ROWS - 1).astype(np.int64)
    columns = np.floor((lon + 180) / CELL_DEGREES).astype(np.int64) % _COLUMNS
    return rows * _COLUMNS + columns


def _by_distance(item: tuple[float, str, Point]) -> tuple[float, str, float, float]:
    km, iri, point = item
    return km, iri, point.lat, point.lon


class Generational(Protocol):
    """What an ``IndexHolder`` keeps: something built from one generation of the store."""

    generation: str

    def __len__(self) -> int: ...


Index = TypeVar("Index", bound=Generational)
