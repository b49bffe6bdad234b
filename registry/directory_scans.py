"""The directory's reading of the store by scans: one read of the statements of each
predicate it needs (``Store.statements``, ``Store.pairs``: one index range each, only
the unknown terms decoded), joined here in dicts, instead of the joined SPARQL queries
(``sparql/directory-*.rq``: each join step a further index lookup). The answers are the
same, query by query, as the SPARQL reading of ``registry.directory`` (tests compare
them on the examples and on awkward statements).

Graph-scoped queries (``GRAPH ?graph { … }``) join statements of one graph; the others
read the union of the named graphs, as the store's queries do. When a place has
coordinates (or an address) in several graphs, the card's graph is the first of them
in IRI order (the SPARQL reading took whichever row came first).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache

import pyoxigraph as ox

from core.store import Store
from gazetteer.lookup import default_gazetteer, locate_address, timezone_for
from registry.directory_data import NameIndex, Network, PlaceCard
from registry.hours import Slot, parse_slot

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SCHEMA = "https://schema.org/"
LTC = "https://w3id.org/ltc/ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"

# SPARQL isNumeric: a literal of a numeric datatype with a valid lexical form (the store
# keeps an invalid one as an opaque literal, which isNumeric refuses)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DOUBLE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN")
_NUMERIC_FORMS = {
    XSD + "integer": _INTEGER,
    XSD + "decimal": _DECIMAL,
    XSD + "double": _DOUBLE,
    XSD + "float": _DOUBLE,
}

Key = tuple[object, object]  # (term, graph term)


def _number(term: object) -> float | None:
    """The value of a numeric literal (SPARQL isNumeric), None for anything else."""
    if not isinstance(term, ox.Literal):
        return None
    form = _NUMERIC_FORMS.get(term.datatype.value)
    if form is None or form.fullmatch(term.value) is None:
        return None
    try:
        return float(term.value)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def _slot(day: str, opens: str, closes: str, start: str, end: str) -> Slot | None:
    return parse_slot(day, opens, closes, start or None, end or None)


def _slot_order(slot: Slot) -> tuple:
    return slot.day, slot.opens, slot.closes


def assemble_cards(
    places: Iterable[str],
    located: dict[str, tuple[str, float, float]],
    addresses: dict[str, tuple[str, str, str]],
    themes: dict[str, set[str]],
    hours: Mapping[str, Iterable[Slot]],
    presences: dict[str, set[tuple[str, str]]],
    member_of: dict[str, set[str]],
    place_names: dict[str, set[str]],
    approximate: set[str],
) -> dict[str, PlaceCard]:
    """The card of each of ``places`` (in that order) from what a reading gathered."""
    cards = {}
    for place in places:
        graph, lat, lon = located[place]
        street, postcode, locality = addresses.get(place, ("", "", ""))
        present = presences.get(place, set())
        networks = {n for org, _ in present for n in member_of.get(org, ())}
        cards[place] = PlaceCard(
            iri=place,
            name=min(place_names.get(place) or {place}),
            lat=lat,
            lon=lon,
            street=street,
            postcode=postcode,
            locality=locality,
            themes=tuple(sorted(themes.get(place, ()))),
            networks=tuple(sorted(networks)),
            graphs=tuple(sorted({graph} | {g for _, g in present})),
            timezone=timezone_for(postcode or None, lat, lon),
            hours=tuple(sorted(set(hours.get(place, ())), key=_slot_order)),
            approximate=place in approximate,
        )
    return cards


def place_at_communes(
    rows: dict[str, dict],
) -> dict[str, tuple[str, float, float, tuple[str, str, str], set[str]]]:
    """Each place of ``rows`` (graph, themes, address, insee) at its commune's point:
    (graph, lat, lon, address, themes); a place whose commune the gazetteer cannot tell
    is left out."""
    gazetteer = default_gazetteer()
    placed = {}
    for place, found in rows.items():
        _, postcode, locality = found["address"]
        point = locate_address(gazetteer, postcode, locality, found["insee"])
        if point is not None:
            placed[place] = (
                found["graph"],
                point.lat,
                point.lon,
                found["address"],
                found["themes"],
            )
    return placed


class ScanReading:
    """The directory's cards and names, from scans of the store's statements."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._scans: dict[str, list[tuple[object, object, object]]] = {}
        self._types: dict[str, set[Key]] = {}
        self._union: dict[str, list[tuple[object, object]]] = {}
        presences = self._typed_in_graph(LTC + "Presence")
        self.presences: dict[str, set[tuple[str, str]]] = defaultdict(set)
        places_of = self._by_subject_in_graph(LTC + "place", keep=presences)
        for (presence, graph), organisations in self._by_subject_in_graph(
            LTC + "organisation", keep=presences
        ).items():
            for place in places_of.get((presence, graph), ()):
                for organisation in organisations:
                    self.presences[place.value].add((organisation.value, graph.value))
        self.member_of: dict[str, set[str]] = defaultdict(set)
        for organisation, network in self._pairs(SCHEMA + "memberOf"):
            if isinstance(network, ox.NamedNode):
                self.member_of[organisation.value].add(network.value)
        organisations = self._typed(SCHEMA + "Organization")
        self.organisation_names: dict[str, set[str]] = defaultdict(set)
        for organisation, name, _ in self._scan(SCHEMA + "name"):
            if organisation in organisations and isinstance(name, ox.Literal):
                self.organisation_names[organisation.value].add(name.value)
        self.place_names: dict[str, set[str]] = defaultdict(set)

    # -- scans -----------------------------------------------------------------------

    def _scan(self, predicate: str) -> list[tuple[object, object, object]]:
        """(subject, object, graph) of every statement with this predicate, read once."""
        found = self._scans.get(predicate)
        if found is None:
            found = list(self.store.statements(predicate))
            self._scans[predicate] = found
        return found

    def _pairs(self, predicate: str) -> list[tuple[object, object]]:
        """(subject, object) of the statements with this predicate in any graph: from the
        graph-scoped scan when one was read, else by the store's cheaper ``pairs``."""
        found = self._union.get(predicate)
        if found is None:
            if predicate in self._scans:
                found = [(subject, value) for subject, value, _ in self._scans[predicate]]
            else:
                found = list(self.store.pairs(predicate))
            self._union[predicate] = found
        return found

    def _typed_in_graph(self, kind: str) -> set[Key]:
        """(subject, graph) of every statement typing a subject ``kind``, read once."""
        found = self._types.get(kind)
        if found is None:
            statements = self.store.statements(RDF_TYPE, ox.NamedNode(kind))
            found = {(subject, graph) for subject, _, graph in statements}
            self._types[kind] = found
        return found

    def _typed(self, kind: str) -> set[object]:
        return {subject for subject, _ in self._typed_in_graph(kind)}

    def _by_subject_in_graph(
        self, predicate: str, keep: Collection[Key] | None = None
    ) -> dict[Key, list[object]]:
        found: dict[Key, list[object]] = defaultdict(list)
        for subject, value, graph in self._scan(predicate):
            key = (subject, graph)
            if keep is None or key in keep:
                found[key].append(value)
        return found

    def _by_subject(self, predicate: str) -> dict[object, set[object]]:
        found: dict[object, set[object]] = defaultdict(set)
        for subject, value in self._pairs(predicate):
            found[subject].add(value)
        return found

    # -- cards -----------------------------------------------------------------------

    def cards(self) -> dict[str, PlaceCard]:
        located, located_terms = self._located()
        approximate: set[str] = set()
        addresses: dict[str, tuple[str, str, str]] = {}
        themes: dict[str, set[str]] = defaultdict(set)
        for place, (graph, lat, lon, address, found_themes) in self._unlocated(
            located_terms
        ).items():
            located[place] = (graph, lat, lon)
            approximate.add(place)
            addresses[place] = address
            themes[place] |= found_themes
        with_geo = {subject for subject, _, _ in self._scan(SCHEMA + "geo")}
        parts = [
            self._by_subject(SCHEMA + key)
            for key in ("streetAddress", "postalCode", "addressLocality")
        ]
        for place, address_node in self._pairs(SCHEMA + "address"):
            if place not in with_geo:
                continue
            address = tuple(
                min((v.value for v in part.get(address_node, ())), default="") for part in parts
            )
            key = place.value
            addresses[key] = min(addresses.get(key, address), address)
        for place, theme in self._pairs(LTC + "theme"):
            if place in with_geo and isinstance(theme, ox.NamedNode):
                themes[place.value].add(theme.value)
        return assemble_cards(
            sorted(located),
            located,
            addresses,
            themes,
            self._hours(),
            self.presences,
            self.member_of,
            self.place_names,
            approximate,
        )

    def _located(self) -> tuple[dict[str, tuple[str, float, float]], set[object]]:
        """Places with valid coordinates in some graph: place → (graph, lat, lon), as
        ``sparql/directory-places.rq`` reads them; and the place terms."""
        latitudes = self._by_subject_in_graph(SCHEMA + "latitude")
        longitudes = self._by_subject_in_graph(SCHEMA + "longitude")
        names = self._by_subject_in_graph(SCHEMA + "name")
        found: dict[object, list[tuple[str, float, float]]] = defaultdict(list)
        named: set[Key] = set()
        for place, geo, graph in self._scan(SCHEMA + "geo"):
            key = (geo, graph)
            for lat_term in latitudes.get(key, ()):
                lat = _number(lat_term)
                if lat is None:
                    continue
                for lon_term in longitudes.get(key, ()):
                    lon = _number(lon_term)
                    if lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                        continue
                    found[place].append((graph.value, lat, lon))
                    named.add((place, graph))
        for place, graph in named:
            for name in names.get((place, graph), ()):
                if isinstance(name, ox.Literal):
                    self.place_names[place.value].add(name.value)
        located = {place.value: min(rows) for place, rows in found.items()}
        return located, set(found)

    def _unlocated(
        self, located: Collection[object]
    ) -> dict[str, tuple[str, float, float, tuple[str, str, str], set[str]]]:
        """As ``_Reading.unlocated`` (``sparql/directory-place-addresses.rq``): places
        with an address and no coordinates, each at its commune's point."""
        places = {key for key in self._typed_in_graph(SCHEMA + "Place") if key[0] not in located}
        if not places:
            return {}
        addresses = self._by_subject_in_graph(SCHEMA + "address", keep=places)
        if not addresses:
            return {}
        parts = [
            self._by_subject_in_graph(LTC + key if key == "inseeCode" else SCHEMA + key)
            for key in ("streetAddress", "postalCode", "addressLocality", "inseeCode")
        ]
        names = self._by_subject_in_graph(SCHEMA + "name", keep=addresses)
        themes = self._by_subject_in_graph(LTC + "theme", keep=addresses)
        rows: dict[str, dict] = {}
        for (place, graph), address_nodes in addresses.items():
            found = rows.setdefault(
                place.value, {"graph": graph.value, "themes": set(), "address": None, "insee": ""}
            )
            found["graph"] = min(found["graph"], graph.value)
            for name in names.get((place, graph), ()):
                if isinstance(name, ox.Literal):
                    self.place_names[place.value].add(name.value)
            for theme in themes.get((place, graph), ()):
                if isinstance(theme, ox.NamedNode):
                    found["themes"].add(theme.value)
            for node in address_nodes:
                values = [[v.value for v in part.get((node, graph), ())] or [""] for part in parts]
                address = (min(values[0]), min(values[1]), min(values[2]))
                found["address"] = min(found["address"] or address, address)
                found["insee"] = max(found["insee"], max(values[3]))
        return place_at_communes(rows)

    def _hours(self) -> dict[str, set[Slot]]:
        """As ``sparql/directory-opening-hours.rq``: a place's own hours and those of the
        presences there, each slot once."""
        specifications = self._by_subject(SCHEMA + "openingHoursSpecification")
        places = self._typed(SCHEMA + "Place")
        presences = self._typed(LTC + "Presence")
        hours_of: dict[str, set[object]] = defaultdict(set)
        for subject, found in specifications.items():
            if subject in places:
                hours_of[subject.value] |= found
        for presence, place, _ in self._scan(LTC + "place"):
            if presence in presences:
                hours_of[place.value] |= specifications.get(presence, set())
        days, opens, closes, starts, ends = (
            self._by_subject(SCHEMA + key)
            for key in ("dayOfWeek", "opens", "closes", "validFrom", "validThrough")
        )
        slots_of: dict[object, set[Slot]] = {}
        found_hours: dict[str, set[Slot]] = {}
        for place, specs in hours_of.items():
            slots: set[Slot] = set()
            for spec in specs:
                if spec not in slots_of:
                    slots_of[spec] = {
                        slot
                        for day in days.get(spec, ())
                        for a in opens.get(spec, ())
                        for b in closes.get(spec, ())
                        for start in ([v.value for v in starts.get(spec, ())] or [""])
                        for end in ([v.value for v in ends.get(spec, ())] or [""])
                        if (slot := _slot(day.value, a.value, b.value, start, end)) is not None
                    }
                slots |= slots_of[spec]
            if slots:
                found_hours[place] = slots
        return found_hours

    # -- names -----------------------------------------------------------------------

    def names(self, cards: dict[str, PlaceCard], networks: dict[str, Network]) -> NameIndex:
        """Names of places, of the organisations present there and of their networks."""
        names = NameIndex()
        alternates: dict[str, set[str]] = defaultdict(set)
        for subject, name in self._pairs(SCHEMA + "alternateName"):
            if isinstance(name, ox.Literal):
                alternates[subject.value].add(name.value)
        for place in cards:
            for name in sorted(self.place_names.get(place, set()) | alternates.get(place, set())):
                names.add(name, "place", place)
            for organisation in sorted({org for org, _ in self.presences.get(place, ())}):
                for name in sorted(
                    self.organisation_names.get(organisation, set())
                    | alternates.get(organisation, set())
                ):
                    names.add(name, "organisation", place)
            for network in cards[place].networks:
                if network in networks:
                    names.add(networks[network].name, "network", place)
        names.freeze()
        return names
