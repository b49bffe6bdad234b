"""The web tier's directory of one published generation: the spatial index, a card per
place (what a result list shows, and its hours for "ouvert maintenant"), the names
people search for, the networks and the sources to credit.

It is read from the store once per generation: on the embedded store by scans of a
few predicates' statements joined in Python (``registry.directory_scans``), elsewhere by
a few flat SPARQL queries (``sparql/directory-*.rq`` …, ``_Reading``), which give the
same directory, into the generation's directory file (``registry.directory_file``:
the harvest writes it when it publishes, or the first web process that needs it), which
every web process maps; it is replaced as a whole when the store publishes a new
generation (``registry.snapshot``), so every answer comes from one generation.

A place with an address but no coordinates is placed at its commune's point from the
offline gazetteer (``gazetteer.lookup.locate_address``) and its card says
``approximate``: it is found by its commune, by name and on the map, and the pages and
the API say the position is approximate. That point is the web tier's own derived data,
computed when the directory is built; it is written in no graph (docs/data-model.md).
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Collection, Iterator

import pyoxigraph as ox

from core.datafolder import DataFolder
from core.iris import Iris
from core.resources import sparql_query
from core.store import Store, row_text
from registry.directory_data import DirectoryData, NameIndex, Network, PlaceCard, SourceInfo
from registry.directory_file import (
    directory_from_buffer,
    encode,
    load_or_build,
    locked,
    write_file,
)
from registry.directory_scans import ScanReading, assemble_cards, place_at_communes
from registry.hours import Slot, parse_slot

__all__ = ["Directory", "NameIndex", "Network", "PlaceCard", "SourceInfo"]

log = logging.getLogger(__name__)


class Directory(DirectoryData):
    """Everything the web tier reads for one published generation, over the generation's
    directory file (``registry.directory_file``): mapping-like, decoded on demand."""

    @classmethod
    def from_store(cls, store: Store, iris: Iris) -> Directory:
        """Read the generation the store handle sees now, in the directory file's form,
        kept in memory (``load_directory`` writes the file and maps it)."""
        return directory_from_buffer(directory_bytes(store, iris), kind=cls)


def directory_bytes(store: Store, iris: Iris) -> bytes:
    """The directory file of the generation ``store`` sees, from its SPARQL reads."""
    return encode(*parts_from_store(store, iris))


def load_directory(store: Store, iris: Iris, folder: DataFolder) -> Directory:
    """The web tier's directory of the generation ``store`` sees: its file mapped, built
    first if missing or unsound (one process builds, the others wait and map it)."""
    return load_or_build(
        folder, store.generation(), lambda: directory_bytes(store, iris), kind=Directory
    )


@contextlib.contextmanager
def publishing(store: Store, iris: Iris, folder: DataFolder) -> Iterator[None]:
    """Around a publication (the harvest's ``store.publish()``): the directory file is
    built from the writer's view, which is what the publication will show, then the
    publication happens under the folder's directory lock and the file is written with
    the new generation's name. A web process that notices the new generation waits for
    that file instead of building one: the generation is served as soon as it is
    published. A failed build is logged; the web tier builds the file then."""
    try:
        data: bytes | None = directory_bytes(store, iris)
    except Exception:
        log.exception("directory file not prepared: the web tier will build it")
        data = None
    with locked(folder):
        yield
        if data is not None:
            write_file(folder, store.generation(), data)


def parts_from_store(
    store: Store, iris: Iris, *, scans: bool | None = None
) -> tuple[
    str,
    dict[str, PlaceCard],
    NameIndex,
    dict[str, Network],
    dict[str, SourceInfo],
    dict[str, tuple[str, ...]],
]:
    """What a directory file holds, read from the generation the store handle sees now
    (read first, so a concurrent refresh can only make it look older than it is):
    generation, cards, searchable names (label, kind, place), networks, sources, clusters.
    ``scans``: read by direct scans (``registry.directory_scans``) rather than by the
    flat SPARQL queries; by default where the store scans its own indexes (embedded)."""
    generation = store.generation()
    if scans is None:
        scans = store.scans_are_fast
    read = ScanReading(store) if scans else _Reading(store)
    networks = _networks(store)
    cards = read.cards()
    names = read.names(cards, networks)
    return generation, cards, names, networks, _sources(store, iris), _clusters(store, iris)


class _Reading:
    """The flat queries the directory is built from, joined here."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.presences: dict[str, set[tuple[str, str]]] = defaultdict(set)  # place → (org, graph)
        for row in store.select(sparql_query("directory-presences")):
            self.presences[row["place"].value].add((row["organisation"].value, row["graph"].value))
        self.member_of: dict[str, set[str]] = defaultdict(set)
        self.organisation_names: dict[str, set[str]] = defaultdict(set)
        for row in store.select(sparql_query("directory-organisations")):
            organisation = row["organisation"].value
            if "network" in row:
                self.member_of[organisation].add(row["network"].value)
            if "name" in row:
                self.organisation_names[organisation].add(row["name"].value)
        self.place_names: dict[str, set[str]] = defaultdict(set)

    def cards(self) -> dict[str, PlaceCard]:
        located: dict[str, tuple[str, float, float]] = {}
        for row in self.store.select(sparql_query("directory-places")):
            place = row["place"].value
            try:
                lat, lon = float(row["lat"].value), float(row["lon"].value)
            except ValueError:
                continue
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                continue
            located.setdefault(place, (row["graph"].value, lat, lon))
            if "name" in row:
                self.place_names[place].add(row["name"].value)
        approximate: set[str] = set()
        addresses: dict[str, tuple[str, str, str]] = {}
        themes: dict[str, set[str]] = defaultdict(set)
        for place, (graph, lat, lon, address, found_themes) in self.unlocated(located).items():
            located[place] = (graph, lat, lon)
            approximate.add(place)
            addresses[place] = address
            themes[place] |= found_themes
        for row in self.store.select(sparql_query("directory-addresses")):
            address = tuple(row_text(row, key) for key in ("street", "postcode", "locality"))
            place = row["place"].value
            addresses[place] = min(addresses.get(place, address), address)
        for row in self.store.select(sparql_query("directory-themes")):
            themes[row["place"].value].add(row["theme"].value)
        return assemble_cards(
            located,
            located,
            addresses,
            themes,
            _hours(self.store),
            self.presences,
            self.member_of,
            self.place_names,
            approximate,
        )

    def unlocated(
        self, located: Collection[str]
    ) -> dict[str, tuple[str, float, float, tuple[str, str, str], set[str]]]:
        """Places with an address and no coordinates (not in ``located``), each at its
        commune's point: (graph, lat, lon, (street, postcode, locality), themes). A place
        whose commune the gazetteer cannot tell is left out, as before."""
        rows: dict[str, dict] = {}
        for row in self.store.select(sparql_query("directory-place-addresses")):
            place = row["place"].value
            if place in located:
                continue
            found = rows.setdefault(
                place,
                {"graph": row["graph"].value, "themes": set(), "address": None, "insee": ""},
            )
            if "name" in row:
                self.place_names[place].add(row["name"].value)
            if "theme" in row:
                found["themes"].add(row["theme"].value)
            address = tuple(row_text(row, key) for key in ("street", "postcode", "locality"))
            found["address"] = min(found["address"] or address, address)
            found["insee"] = max(found["insee"], row_text(row, "insee"))
        return place_at_communes(rows) if rows else {}

    def names(self, cards: dict[str, PlaceCard], networks: dict[str, Network]) -> NameIndex:
        """Names of places, of the organisations present there and of their networks."""
        names = NameIndex()
        alternates: dict[str, set[str]] = defaultdict(set)
        for row in self.store.select(sparql_query("directory-alternate-names")):
            alternates[row["subject"].value].add(row["name"].value)
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


def _hours(store: Store) -> dict[str, list[Slot]]:
    found: dict[str, list[Slot]] = defaultdict(list)
    for row in store.select(sparql_query("directory-opening-hours")):
        slot = parse_slot(
            row_text(row, "day"),
            row_text(row, "opens"),
            row_text(row, "closes"),
            row_text(row, "validFrom") or None,
            row_text(row, "validThrough") or None,
        )
        if slot is not None:
            found[row["place"].value].append(slot)
    return found


def _networks(store: Store) -> dict[str, Network]:
    found: dict[str, Network] = {}
    for row in store.select(sparql_query("network-names")):
        iri = row["network"].value
        if iri not in found:
            found[iri] = Network(iri, *(row_text(row, key) for key in ("name", "url", "graph")))
    return found


def _clusters(store: Store, iris: Iris) -> dict[str, tuple[str, ...]]:
    """Each clustered place → every record of its cluster (itself included)."""
    rows = store.select(
        sparql_query("directory-clusters"), {"derived": ox.NamedNode(iris.derived_graph)}
    )
    members: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        members[row["cluster"].value].append(row["place"].value)
    return {place: tuple(group) for group in members.values() for place in group}


def _sources(store: Store, iris: Iris) -> dict[str, SourceInfo]:
    rows = store.select(
        sparql_query("sources-for-attribution"), {"meta": ox.NamedNode(iris.meta_graph)}
    )
    found: dict[str, SourceInfo] = {}
    for row in rows:
        graph = row["graph"].value
        found[graph] = SourceInfo(
            id=row_text(row, "id"),
            iri=row["source"].value,
            graph=graph,
            title=row_text(row, "title") or row_text(row, "id"),
            network=row_text(row, "network"),
            license=row_text(row, "license"),
            last_success=row_text(row, "lastSuccess"),
        )
    return found
