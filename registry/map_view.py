"""What the public map shows: a colour and an icon per theme, the Lieux de Convergence,
and the places grouped on the server for the national view (``/carte.json``).

The home page opens on the map of France with every place: sending 100 000 points to
the browser would weigh megabytes, so the server groups them by square cells of
``CELL_PX`` screen pixels at the map's zoom (Web Mercator, as the map draws them) and
sends one compact row per group — its centre, how many places, the theme most of them
have, how many Lieux de Convergence — and one row per place standing alone in its cell.
The groups of the national zooms are computed once per generation, from the in-memory
directory the searches use; closer zooms ask the directory's spatial index for the
places in view.

The directory is read through the arrays of its mapped file (``Directory.table``: each
card's name, position, themes, networks, and the record standing for its physical
place, shown once as the searches do), so no card is decoded for the map.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from registry.api import THEME_BASE
from registry.directory import Directory, PlaceCard


@dataclass(frozen=True, slots=True)
class ThemeStyle:
    """How a theme looks on the map, the cards and the filters: a colour (white icons on
    it contrast at least 4.5:1) and an icon of the Tabler set (``registry.assets``)."""

    colour: str
    icon: str


# theme short name → style; the order is the legend's when nothing else orders it
THEME_STYLES: dict[str, ThemeStyle] = {
    "alimentation": ThemeStyle("#c2410c", "basket"),
    "agriculture": ThemeStyle("#4d7c0f", "plant-2"),
    "energie": ThemeStyle("#a16207", "bolt"),
    "finance-solidaire": ThemeStyle("#0e7490", "pig-money"),
    "mobilite": ThemeStyle("#1d4ed8", "bike"),
    "habitat": ThemeStyle("#78350f", "home"),
    "reemploi-reparation": ThemeStyle("#0f766e", "tool"),
    "education": ThemeStyle("#4338ca", "school"),
    "culture": ThemeStyle("#be185d", "masks-theater"),
    "citoyennete": ThemeStyle("#334155", "users-group"),
    "commerce-equitable": ThemeStyle("#9f1239", "heart-handshake"),
    "sante": ThemeStyle("#b91c1c", "heartbeat"),
    "nature": ThemeStyle("#15803d", "trees"),
    "numerique": ThemeStyle("#6b21a8", "device-laptop"),
    "tiers-lieux": ThemeStyle("#a21caf", "building-community"),
    "monnaie-locale": ThemeStyle("#854d0e", "coin"),
}
OTHER = "autre"  # a place without a theme of the vocabulary
OTHER_STYLE = ThemeStyle("#4b5563", "map-pin")
THEME_ORDER = (*THEME_STYLES, OTHER)
_THEME_NUMBER = {theme: number for number, theme in enumerate(THEME_ORDER)}

CELL_PX = 60  # a group's cell, in screen pixels
TILE_PX = 256
PRECOMPUTED_ZOOMS = range(0, 11)  # groups computed once per generation (national views)
MAX_ZOOM = 19
ALONE_ZOOM = 17  # from this zoom on, every place is shown by itself
MAX_PLACES = 3000  # places sent one by one, at most, for one view
MAX_SPAN = 6.0  # degrees: the widest box asked of the spatial index (closer zooms)
FRANCE = (41.2, -5.6, 51.3, 9.9)  # south, west, north, east: the home page's first view


def theme_id(theme: str) -> str:
    """Short name of a theme IRI ("https://w3id.org/ltc/theme/energie" → "energie")."""
    return theme.removeprefix(THEME_BASE)


def style(theme: str) -> ThemeStyle:
    """The style of a theme (IRI or short name); the neutral one for an unknown theme."""
    return THEME_STYLES.get(theme_id(theme), OTHER_STYLE)


def first_theme(themes: Iterable[str]) -> str:
    """The theme that gives a place its colour: its first theme of the vocabulary (themes
    are sorted), or ``autre``."""
    for theme in themes:
        if theme_id(theme) in THEME_STYLES:
            return theme_id(theme)
    return OTHER


# -- the places the map shows ---------------------------------------------------------------


@dataclass
class _Places:
    """One row per physical place of a generation (the first record of each cluster),
    in numpy arrays over the directory file's card numbers, and the groups of the
    national zooms once computed."""

    cards: Mapping[str, PlaceCard]  # what it was built from (identity tells the generation)
    table: Any  # the directory file's arrays
    rows: np.ndarray  # row → card number
    number: np.ndarray  # card number → row (every record of a place → its row)
    lats: np.ndarray
    lons: np.ndarray
    xs: np.ndarray  # Web Mercator, 0…1
    ys: np.ndarray
    themes: np.ndarray  # index in THEME_ORDER
    convergence: np.ndarray  # bool
    levels: dict[int, dict[tuple[int, int], tuple]] = field(default_factory=dict)

    def iri(self, row: int) -> str:
        return self.table.iris[int(self.rows[row])]

    def name(self, row: int) -> str:
        return self.table.names[int(self.rows[row])]

    def row_of(self, iri: str) -> int:
        card = self.table.iris.find(iri)
        return -1 if card < 0 else int(self.number[card])

    @property
    def convergence_places(self) -> set[str]:
        return {self.iri(int(row)) for row in np.flatnonzero(self.convergence)}


def _mercator(lat: float, lon: float) -> tuple[float, float]:
    lat = max(-85.0511, min(85.0511, lat))
    sin = math.sin(math.radians(lat))
    return (lon + 180) / 360, 0.5 - math.log((1 + sin) / (1 - sin)) / (4 * math.pi)


def _build(found: Directory) -> _Places:
    """The rows, from the mapped arrays: no card is decoded."""
    table = found.table
    count = len(table.iris)
    head = table.card_head.astype(np.int64)
    rows = np.flatnonzero(head == np.arange(count))
    row_of_card = np.full(count, -1, dtype=np.int64)
    row_of_card[rows] = np.arange(len(rows))
    number = row_of_card[head]
    members: dict[int, list[int]] = {}
    for card in np.flatnonzero(head != np.arange(count)).tolist():
        members.setdefault(int(head[card]), []).append(card)
    theme_offsets, theme_values = table.theme_offsets.tolist(), table.theme_values.tolist()
    network_offsets, network_values = table.network_offsets.tolist(), table.network_values.tolist()
    styled = [_THEME_NUMBER[first_theme((iri,))] for iri in table.theme_list]
    other = _THEME_NUMBER[OTHER]
    themes = np.empty(len(rows), dtype=np.int16)
    convergence = np.zeros(len(rows), dtype=bool)
    for row, card in enumerate(rows.tolist()):
        group = [card, *members.get(card, ())]
        own = theme_values[theme_offsets[card] : theme_offsets[card + 1]]
        if not own and len(group) > 1:
            own = sorted(
                {t for m in group for t in theme_values[theme_offsets[m] : theme_offsets[m + 1]]}
            )
        themes[row] = next((styled[t] for t in own if styled[t] != other), other)
        if len(group) == 1:
            convergence[row] = network_offsets[card + 1] - network_offsets[card] >= 2
        else:
            networks = {
                w
                for m in group
                for w in network_values[network_offsets[m] : network_offsets[m + 1]]
            }
            convergence[row] = len(networks) >= 2
    lats, lons = table.lat[rows], table.lon[rows]
    projected = [_mercator(lat, lon) for lat, lon in zip(lats.tolist(), lons.tolist(), strict=True)]
    xs = np.array([x for x, _ in projected])
    ys = np.array([y for _, y in projected])
    return _Places(found.cards, table, rows, number, lats, lons, xs, ys, themes, convergence)


_lock = threading.Lock()
_latest: _Places | None = None


def _places(found: Directory) -> _Places:
    """The rows of this directory's generation, built once (the latest generation kept)."""
    global _latest
    with _lock:
        if _latest is None or _latest.cards is not found.cards:
            _latest = _build(found)
        return _latest


def convergence_places(found: Directory) -> set[str]:
    """IRIs of the Lieux de Convergence of the directory: physical places (a card, or the
    first record of a cluster) where organisations of at least two networks are."""
    return _places(found).convergence_places


def is_convergence(found: Directory, iri: str) -> bool:
    """Whether the place of this record is a Lieu de Convergence."""
    places = _places(found)
    row = places.row_of(iri)
    return row >= 0 and bool(places.convergence[row])


# -- groups ---------------------------------------------------------------------------------


def _scale(zoom: int) -> float:
    """Cells across the whole world at this zoom (one cell: CELL_PX pixels)."""
    if zoom >= ALONE_ZOOM:
        return 2.0**zoom * TILE_PX  # a pixel: places apart only at one point
    return 2.0**zoom * TILE_PX / CELL_PX


def _group(places: _Places, rows: Iterable[int], zoom: int) -> dict[tuple[int, int], tuple]:
    """(column, row) → (count, lat, lon, theme, convergences, first row)."""
    scale = _scale(zoom)
    sums: dict[tuple[int, int], list] = {}
    xs, ys = places.xs.tolist(), places.ys.tolist()
    lats, lons = places.lats.tolist(), places.lons.tolist()
    themes, convergence = places.themes.tolist(), places.convergence.tolist()
    for n in rows:
        key = (int(xs[n] * scale), int(ys[n] * scale))
        cell = sums.get(key)
        if cell is None:
            sums[key] = [1, lats[n], lons[n], Counter((themes[n],)), int(convergence[n]), n]
        else:
            cell[0] += 1
            cell[1] += lats[n]
            cell[2] += lons[n]
            cell[3][themes[n]] += 1
            cell[4] += convergence[n]
    return {
        key: (count, lat / count, lon / count, _dominant(counter), conv, first)
        for key, (count, lat, lon, counter, conv, first) in sums.items()
    }


def _dominant(counter: Counter[int]) -> int:
    other = _THEME_NUMBER[OTHER]
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0] == other, item[0]))
    return ranked[0][0]


def _level(places: _Places, zoom: int) -> dict[tuple[int, int], tuple]:
    level = places.levels.get(zoom)
    if level is None:
        level = _group(places, range(len(places.rows)), zoom)
        with _lock:
            places.levels[zoom] = level
    return level


def _cells_in(
    level: dict[tuple[int, int], tuple], box: tuple[float, float, float, float], zoom: int
) -> list[tuple]:
    south, west, north, east = box
    scale = _scale(zoom)
    x0, y1 = _mercator(south, west)
    x1, y0 = _mercator(north, east)
    columns = range(int(x0 * scale), int(x1 * scale) + 1)
    rows = range(int(y0 * scale), int(y1 * scale) + 1)
    if len(columns) * len(rows) <= len(level):
        return [cell for c in columns for r in rows if (cell := level.get((c, r))) is not None]
    return [
        cell
        for (c, r), cell in level.items()
        if columns.start <= c < columns.stop and rows.start <= r < rows.stop
    ]


def _narrowed(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The box, at most ``MAX_SPAN`` degrees wide and high around its centre (a close
    zoom shows far less; a wider box is a client's mistake, not worth a scan)."""
    south, west, north, east = box
    if north - south > MAX_SPAN:
        middle = (north + south) / 2
        south, north = middle - MAX_SPAN / 2, middle + MAX_SPAN / 2
    if not west > east and east - west > MAX_SPAN:
        middle = (east + west) / 2
        west, east = middle - MAX_SPAN / 2, middle + MAX_SPAN / 2
    return max(-90.0, south), max(-180.0, west), min(90.0, north), min(180.0, east)


def map_data(
    found: Directory, zoom: int, box: tuple[float, float, float, float] = FRANCE
) -> dict[str, Any]:
    """What the map shows in a box (south, west, north, east) at a zoom: ``groups`` as
    ``[lat, lon, count, theme, convergences]`` and ``places`` as ``[lat, lon, theme,
    convergence (0/1), iri, name]``; ``themes`` names the theme numbers."""
    zoom = max(0, min(MAX_ZOOM, zoom))
    places = _places(found)
    if zoom in PRECOMPUTED_ZOOMS:
        cells = _cells_in(_level(places, zoom), box, zoom)
    else:
        south, west, north, east = _narrowed(box)
        cards = found.table.within_cards((south, west, north, east))
        rows = np.unique(places.number[cards])
        cells = list(_group(places, rows[rows >= 0].tolist(), zoom).values())
    digits = 3 if zoom < 9 else 5
    groups, alone = [], []
    for count, lat, lon, theme, conv, first in sorted(cells, key=lambda c: -c[0]):
        if count == 1:
            alone.append(first)
        else:
            groups.append([round(lat, digits), round(lon, digits), count, theme, conv])
    truncated = len(alone) > MAX_PLACES
    alone = alone[:MAX_PLACES]
    return {
        "zoom": zoom,
        "themes": list(THEME_ORDER),
        "groups": groups,
        "places": [
            [
                round(float(places.lats[n]), 5),
                round(float(places.lons[n]), 5),
                int(places.themes[n]),
                int(places.convergence[n]),
                places.iri(n),
                places.name(n),
            ]
            for n in alone
        ],
        "truncated": truncated,
    }
