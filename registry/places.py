"""The place service behind the API and the public pages: searching the directory, and
everything known about one place ("lieu ressource unique") with, for each fact, the
source that says it.

Views ask this module; it asks the directory (memory) and the store (fixed queries of
``sparql/`` with the place bound as an IRI, never pasted into query text).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, overload

import numpy as np
import pyoxigraph as ox

from core.resources import sparql_query
from core.store import Store, row_text
from core.vocab import LTC, OWL, RDF_TYPE, SCHEMA, XSD
from registry.directory import Directory, PlaceCard, SourceInfo
from registry.hours import Slot, describe_next, is_open, next_opening, parse_slot
from registry.spatial import MAX_RADIUS_KM, haversine_km
from registry.vocabularies import label

OWL_SAME_AS = OWL + "sameAs"
XSD_DATE = ox.NamedNode(XSD + "date")
MAX_PER_PAGE = 100
MAX_MAP_RESULTS = 5000  # a map with more markers than this is unreadable anyway

# Properties of a place the page lists, in its order: key → IRI.
PLACE_FACTS = {
    "nom": SCHEMA + "name",
    "nomAlternatif": SCHEMA + "alternateName",
    "description": SCHEMA + "description",
    "typeLieu": LTC + "placeType",
    "themes": LTC + "theme",
    "telephone": SCHEMA + "telephone",
    "email": SCHEMA + "email",
    "siteWeb": SCHEMA + "url",
    "accessiblePMR": LTC + "wheelchairAccessible",
    "accessibilite": LTC + "accessibilityNote",
    "horairesTexte": SCHEMA + "openingHours",  # hours a spreadsheet gave that were not understood
    "memeQue": SCHEMA + "sameAs",
    "identiqueA": OWL_SAME_AS,
    "dateModification": SCHEMA + "dateModified",
}
ADDRESS_FACTS = {
    "rue": SCHEMA + "streetAddress",
    "codePostal": SCHEMA + "postalCode",
    "commune": SCHEMA + "addressLocality",
    "codeInsee": LTC + "inseeCode",
    "pays": SCHEMA + "addressCountry",
}
_FACT_KEYS = {iri: key for key, iri in {**PLACE_FACTS, **ADDRESS_FACTS}.items()}


class SearchError(ValueError):
    """A search the service cannot run, with what to change, in French and English."""

    def __init__(self, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_fr = message_fr
        self.message_en = message_en


@dataclass(frozen=True)
class Search:
    """One search: around a point (or in a box, or everywhere), with filters."""

    lat: float | None = None
    lon: float | None = None
    radius_km: float = 10.0
    bbox: tuple[float, float, float, float] | None = None  # south, west, north, east
    themes: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    open_now: bool = False
    text: str = ""
    page: int = 1
    per_page: int = 20

    def __post_init__(self) -> None:
        if (self.lat is None) != (self.lon is None):
            raise SearchError(
                "donnez la latitude et la longitude ensemble",
                "give latitude and longitude together",
            )
        if self.lat is not None and not (
            _finite(self.lat)
            and -90 <= self.lat <= 90
            and _finite(self.lon)
            and -180 <= self.lon <= 180  # type: ignore[operator]
        ):
            raise SearchError(
                "latitude entre -90 et 90, longitude entre -180 et 180",
                "latitude must be within -90..90 and longitude within -180..180",
            )
        if not (_finite(self.radius_km) and 0 < self.radius_km <= MAX_RADIUS_KM):
            raise SearchError(
                f"le rayon doit être compris entre 0 et {MAX_RADIUS_KM:g} km",
                f"the radius must be more than 0 and at most {MAX_RADIUS_KM:g} km",
            )
        if self.bbox is not None:
            south, west, north, east = self.bbox
            if not (
                all(_finite(v) for v in self.bbox)
                and -90 <= south <= north <= 90
                and -180 <= west <= 180
                and -180 <= east <= 180
            ):
                raise SearchError(
                    "cadre incorrect : sud,ouest,nord,est en degrés, sud ≤ nord",
                    "bad bbox: south,west,north,east in degrees, south ≤ north",
                )
        if not 1 <= self.per_page <= MAX_PER_PAGE or self.page < 1:
            raise SearchError(
                f"page ≥ 1 et de 1 à {MAX_PER_PAGE} résultats par page",
                f"page must be ≥ 1 and per_page within 1..{MAX_PER_PAGE}",
            )


def _finite(value: float | None) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True)
class Hit:
    card: PlaceCard
    distance_km: float | None
    open_now: bool | None
    next_opening: str | None


@dataclass
class Results:
    """One page of hits, the total before paging, and every hit's card for the map."""

    search: Search
    hits: list[Hit]
    total: int
    all_cards: Sequence[tuple[PlaceCard, float | None]] = field(repr=False, default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.search.per_page))


def search(directory: Directory, query: Search, now: datetime) -> Results:
    """Places matching ``query``, nearest first (by name when no point is given).

    The matches are card numbers of the directory's mapped arrays until the page is cut:
    only the cards of the page (and of what asks for ``all_cards``) are decoded."""
    table = directory.table
    themes = query.themes or None
    networks = query.networks or None
    distances: np.ndarray | None = None
    if query.lat is not None and query.lon is not None:
        cards, distances = table.near_cards(query.lat, query.lon, query.radius_km, themes, networks)
    elif query.bbox is not None:
        cards = table.within_cards(query.bbox, themes, networks)
    else:  # no point, no box: everywhere, by name
        cards = table.cards_by_name(themes, networks)
    keep = np.ones(len(cards), dtype=bool)
    if query.text:
        keep &= np.isin(cards, directory.names.card_numbers(query.text))
    if query.open_now:
        card_at = directory.cards.card_at
        keep &= np.array([bool(card_at(n).open_at(now)) for n in cards.tolist()], dtype=bool)
    cards = cards[keep]
    if distances is not None:
        distances = distances[keep]
    first = table.one_per_cluster(cards)
    if distances is not None:
        distances = distances[np.isin(cards, first)]  # same order, duplicates gone
    found = _Found(directory, query, first, distances)
    start = (query.page - 1) * query.per_page
    hits = [_hit(card, km, now) for card, km in found[start : start + query.per_page]]
    return Results(query, hits, len(found), found)


class _Found(Sequence[tuple[PlaceCard, float | None]]):
    """The matches in order, each card decoded when asked for; a distance is computed
    again with ``haversine_km``, exactly as the spatial index's contract says."""

    def __init__(
        self, directory: Directory, query: Search, cards: np.ndarray, distances: np.ndarray | None
    ) -> None:
        self._card_at = directory.cards.card_at
        self._query = query
        self._cards = cards.tolist()
        self._near = distances is not None

    def __len__(self) -> int:
        return len(self._cards)

    def _item(self, number: int) -> tuple[PlaceCard, float | None]:
        card = self._card_at(number)
        if not self._near:
            return card, None
        assert self._query.lat is not None and self._query.lon is not None
        return card, haversine_km(self._query.lat, self._query.lon, card.lat, card.lon)

    @overload
    def __getitem__(self, index: int) -> tuple[PlaceCard, float | None]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[PlaceCard, float | None]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._item(n) for n in self._cards[index]]
        return self._item(self._cards[index])


def _hit(card: PlaceCard, km: float | None, now: datetime) -> Hit:
    if not card.hours:
        return Hit(card, km, None, None)
    open_now = is_open(card.hours, now, card.timezone)
    upcoming = None if open_now else next_opening(card.hours, now, card.timezone)
    return Hit(card, km, open_now, describe_next(upcoming, now) if upcoming else None)


# -- one place ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One value of one property, and who says it."""

    value: str
    is_iri: bool
    source: SourceInfo | None
    place: str  # the place record it is said of (several in a merged view)


@dataclass
class OrganisationAtPlace:
    iri: str
    name: str
    networks: list[tuple[str, str]]  # (IRI, name)
    roles: list[str]  # French labels
    activities: list[str]
    hours: list[Slot]
    url: str
    telephone: str
    email: str
    description: str
    themes: list[str]  # French labels
    presence: str
    source: SourceInfo | None
    hours_text: list[str] = field(default_factory=list)  # hours not understood, as written


@dataclass
class EventAtPlace:
    iri: str
    name: str
    start: str
    end: str
    organizer: str
    url: str
    source: SourceInfo | None


@dataclass
class PlaceDetail:
    """Everything present at one place, across networks, each fact with its source."""

    iri: str
    name: str
    lat: float | None
    lon: float | None
    facts: dict[str, list[Fact]]
    hours: list[Slot]
    open_now: bool | None
    next_opening: str | None
    timezone: str
    organisations: list[OrganisationAtPlace]
    events: list[EventAtPlace]
    labels: list[tuple[str, str, SourceInfo | None]]  # (status label, charter date, source)
    sources: list[SourceInfo]
    records: list[str] = field(default_factory=list)  # this place's records, across networks
    approximate: bool = False  # lat/lon are the commune's point (no record gives any)

    def values(self, key: str) -> list[str]:
        """The distinct values of a fact, in the order sources give them."""
        return list(dict.fromkeys(fact.value for fact in self.facts.get(key, [])))

    @property
    def links(self) -> dict[str, list[str]]:
        """OpenStreetMap and Wikidata pages the place is the same as."""
        same = self.values("memeQue") + self.values("identiqueA")
        return {
            "openstreetmap": [v for v in same if "openstreetmap.org/" in v],
            "wikidata": [v for v in same if "wikidata.org/" in v],
        }


def place_detail(store: Store, directory: Directory, iri: str, now: datetime) -> PlaceDetail | None:
    """The place page's content, or None when the store says nothing of that place.

    When the registry found other records of the same physical place (a convergence
    cluster), the view merges them: every record's facts (each with its source and
    record, conflicting values all shown), organisations, hours, events and labels."""
    members = directory.clusters.get(iri, (iri,))
    records = [iri, *(m for m in members if m != iri)]
    facts: dict[str, list[Fact]] = defaultdict(list)
    place_hours: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    coordinates: dict[str, list[float | None]] = {}
    found = []
    for record in records:
        if _record_facts(store, directory, record, facts, place_hours, coordinates):
            found.append(record)
    if iri not in found:
        return None
    points = [coordinates[r] for r in found if None not in coordinates[r]]
    lat, lon = points[0] if points else (None, None)
    card = directory.cards.get(iri)
    approximate = False
    if lat is None and card is not None and card.approximate:
        lat, lon, approximate = card.lat, card.lon, True
    timezone = card.timezone if card else "Europe/Paris"
    hours = _slots(place_hours.values())
    nodes = [ox.NamedNode(record) for record in found]
    organisations = _unique(o for node in nodes for o in _organisations(store, directory, node))
    every_slot = hours + [slot for org in organisations for slot in org.hours]
    open_now = is_open(every_slot, now, timezone) if every_slot else None
    upcoming = next_opening(every_slot, now, timezone) if every_slot and not open_now else None
    detail = PlaceDetail(
        iri=iri,
        name=next((f.value for f in facts.get("nom", []) if f.place == iri), iri),
        lat=lat,
        lon=lon,
        facts=dict(facts),
        hours=hours,
        open_now=open_now,
        next_opening=describe_next(upcoming, now) if upcoming else None,
        timezone=timezone,
        organisations=organisations,
        events=[e for node in nodes for e in _events(store, directory, node, now.date())],
        labels=[lab for node in nodes for lab in _labels(store, directory, node)],
        sources=[],
        records=found,
        approximate=approximate,
    )
    detail.sources = _sources_of(detail)
    return detail


def _record_facts(
    store: Store,
    directory: Directory,
    record: str,
    facts: dict[str, list[Fact]],
    place_hours: dict[str, dict[str, set[str]]],
    coordinates: dict[str, list[float | None]],
) -> bool:
    """Add what the store says of one place record; False when it is not a place."""
    is_place = False
    point: list[float | None] = [None, None]
    for row in store.select(sparql_query("place-statements"), {"place": ox.NamedNode(record)}):
        source = directory.source_of_graph(row["graph"].value)
        prop, value = row["property"].value, row["value"]
        if prop == RDF_TYPE and value.value == SCHEMA + "Place":
            is_place = True
        sub_prop, sub_value = row.get("subProperty"), row.get("subValue")
        if prop == SCHEMA + "geo" and sub_prop is not None:
            if sub_prop.value == SCHEMA + "latitude":
                point[0] = _float(sub_value)
            elif sub_prop.value == SCHEMA + "longitude":
                point[1] = _float(sub_value)
        elif prop == SCHEMA + "openingHoursSpecification" and sub_prop is not None:
            place_hours[value.value][sub_prop.value].add(sub_value.value)
        elif prop == SCHEMA + "address" and sub_prop is not None:
            _add_fact(facts, sub_prop.value, sub_value, source, record)
        elif sub_prop is None:
            _add_fact(facts, prop, value, source, record)
    coordinates[record] = point
    return is_place


def _unique(organisations: Iterable[OrganisationAtPlace]) -> list[OrganisationAtPlace]:
    by_presence = {o.presence: o for o in organisations}
    return sorted(
        by_presence.values(), key=lambda o: (o.networks[0][1] if o.networks else "", o.name)
    )


def _add_fact(
    facts: dict[str, list[Fact]], prop: str, value: ox.Term, source: SourceInfo | None, iri: str
) -> None:
    key = _FACT_KEYS.get(prop)
    if key is None:
        return
    is_iri = isinstance(value, ox.NamedNode)
    text = label(value.value) if key in ("typeLieu", "themes") else value.value
    fact = Fact(text, is_iri and key not in ("typeLieu", "themes"), source, iri)
    if fact not in facts[key]:
        facts[key].append(fact)


def _float(term: ox.Term | None) -> float | None:
    try:
        return float(term.value) if term is not None else None
    except ValueError:
        return None


def _slots(specifications: Iterable[dict[str, set[str]]]) -> list[Slot]:
    """Slots of opening-hours nodes given as ``{property: values}``: one slot per day."""
    slots = set()
    for spec in specifications:
        opens, closes = spec.get(SCHEMA + "opens", set()), spec.get(SCHEMA + "closes", set())
        if len(opens) != 1 or len(closes) != 1:
            continue  # the shapes reject such nodes; never guess
        valid_from = min(spec.get(SCHEMA + "validFrom", {""})) or None
        valid_through = min(spec.get(SCHEMA + "validThrough", {""})) or None
        for day in spec.get(SCHEMA + "dayOfWeek", ()):
            slot = parse_slot(day, min(opens), min(closes), valid_from, valid_through)
            if slot is not None:
                slots.add(slot)
    return sorted(slots, key=lambda s: (s.day, s.opens, s.closes))


def _organisations(
    store: Store, directory: Directory, node: ox.NamedNode
) -> list[OrganisationAtPlace]:
    presences: dict[str, dict] = {}
    for row in store.select(sparql_query("place-presences"), {"place": node}):
        presence = presences.setdefault(
            row["presence"].value,
            {"graph": row["graph"].value, "props": defaultdict(list), "hours": {}},
        )
        prop, value = row["property"].value, row["value"].value
        sub_prop = row.get("subProperty")
        if sub_prop is not None:
            spec = presence["hours"].setdefault(value, defaultdict(set))
            spec[sub_prop.value].add(row["subValue"].value)
        elif value not in presence["props"][prop]:
            presence["props"][prop].append(value)
    about: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in store.select(sparql_query("place-organisations"), {"place": node}):
        values = about[row["organisation"].value][row["property"].value]
        if row["value"].value not in values:
            values.append(row["value"].value)
    found = []
    for presence_iri, presence in sorted(presences.items()):
        props = presence["props"]
        for organisation in props.get(LTC + "organisation", []):
            facts = about.get(organisation, {})
            networks = facts.get(SCHEMA + "memberOf", [])
            found.append(
                OrganisationAtPlace(
                    iri=organisation,
                    name=_first(facts, SCHEMA + "name") or organisation,
                    networks=[(n, directory.network_name(n)) for n in networks],
                    roles=[label(r) for r in props.get(LTC + "role", [])],
                    activities=sorted(props.get(LTC + "activity", [])),
                    hours=_slots(presence["hours"].values()),
                    url=_first(facts, SCHEMA + "url"),
                    telephone=_first(facts, SCHEMA + "telephone"),
                    email=_first(facts, SCHEMA + "email"),
                    description=_first(facts, SCHEMA + "description"),
                    themes=[label(t) for t in facts.get(LTC + "theme", [])],
                    presence=presence_iri,
                    source=directory.source_of_graph(presence["graph"]),
                    hours_text=props.get(SCHEMA + "openingHours", []),
                )
            )
    return sorted(found, key=lambda o: (o.networks[0][1] if o.networks else "", o.name))


def _first(facts: dict[str, list[str]], prop: str) -> str:
    values = facts.get(prop)
    return values[0] if values else ""


def _events(
    store: Store, directory: Directory, node: ox.NamedNode, today: date
) -> list[EventAtPlace]:
    rows = store.select(
        sparql_query("place-events"),
        {"place": node, "today": ox.Literal(today.isoformat(), datatype=XSD_DATE)},
    )
    return [
        EventAtPlace(
            iri=row["event"].value,
            name=row_text(row, "name") or row["event"].value,
            start=row_text(row, "start"),
            end=row_text(row, "end"),
            organizer=row_text(row, "organizerName"),
            url=row_text(row, "url"),
            source=directory.source_of_graph(row["graph"].value),
        )
        for row in rows
    ]


def _labels(
    store: Store, directory: Directory, node: ox.NamedNode
) -> list[tuple[str, str, SourceInfo | None]]:
    rows = store.select(sparql_query("place-labels"), {"place": node})
    return [
        (
            label(row["status"].value),
            row_text(row, "charterDate"),
            directory.source_of_graph(row["graph"].value),
        )
        for row in rows
    ]


def _sources_of(detail: PlaceDetail) -> list[SourceInfo]:
    seen: dict[str, SourceInfo] = {}
    every = [f.source for facts in detail.facts.values() for f in facts]
    every += [o.source for o in detail.organisations]
    every += [e.source for e in detail.events] + [s for _, _, s in detail.labels]
    for source in every:
        if source is not None:
            seen.setdefault(source.id, source)
    return sorted(seen.values(), key=lambda s: s.title.casefold())
