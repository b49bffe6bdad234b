"""What the web tier knows of one published generation, as plain data: a place's card,
a network, a source to credit, the name index being built, and ``DirectoryData``, the
directory as the web tier reads it (its parts are the mapped file's,
``registry.directory_file``). How it is read from the store is ``registry.directory``.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from core.text import fold
from registry.hours import Slot, is_open
from registry.spatial import SpatialIndex


@dataclass(frozen=True, slots=True)
class PlaceCard:
    """What a result list shows of a place, and what its filters need."""

    iri: str
    name: str
    lat: float
    lon: float
    street: str = ""
    postcode: str = ""
    locality: str = ""
    themes: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    graphs: tuple[str, ...] = ()  # the named graphs (sources) saying what the card shows
    timezone: str = "Europe/Paris"
    hours: tuple[Slot, ...] = ()
    approximate: bool = False  # lat/lon are the commune's point, from the gazetteer

    def open_at(self, moment: datetime) -> bool | None:
        """True or False, or None when the place publishes no hours."""
        return is_open(self.hours, moment, self.timezone) if self.hours else None


@dataclass(frozen=True, slots=True)
class Network:
    iri: str
    name: str
    url: str = ""
    graph: str = ""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A harvested source as answers credit it."""

    id: str
    iri: str
    graph: str
    title: str
    network: str = ""
    license: str = ""
    last_success: str = ""

    def stale(self, now: datetime, after_days: int) -> bool:
        """True when the source has had no successful harvest for ``after_days`` days:
        its data may be out of date (pages and the API say so)."""
        try:
            last = datetime.fromisoformat(self.last_success.replace("Z", "+00:00"))
        except ValueError:
            return True
        return now - last > timedelta(days=after_days)


@dataclass
class NameIndex:
    """Folded words of every searchable name → the places they lead to. A query matches
    a name when each of its words starts one of the name's words."""

    labels: list[tuple[str, str, str]] = field(default_factory=list)  # (label, kind, place)
    _words: list[str] = field(default_factory=list)  # sorted distinct folded words
    _postings: dict[str, list[int]] = field(default_factory=dict)  # word → label numbers

    @property
    def postings(self) -> dict[str, list[int]]:
        """Folded word → numbers of the labels having it."""
        return self._postings

    def add(self, label: str, kind: str, place: str) -> None:
        number = len(self.labels)
        self.labels.append((label, kind, place))
        for word in set(folded(label).split()):
            self._postings.setdefault(word, []).append(number)

    def freeze(self) -> None:
        self._words = sorted(self._postings)

    def _starting(self, prefix: str) -> set[int]:
        found: set[int] = set()
        start = bisect.bisect_left(self._words, prefix)
        for word in self._words[start:]:
            if not word.startswith(prefix):
                break
            found.update(self._postings[word])
        return found

    def search(self, text: str, limit: int = 50) -> list[tuple[str, str, str]]:
        """(label, kind, place) of the names matching ``text``, shortest names first."""
        words = fold(text).split()
        if not words:
            return []
        numbers: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):  # longest first: fewest hits
            hits = self._starting(word)
            numbers = hits if numbers is None else numbers & hits
            if not numbers:
                return []
        assert numbers is not None
        matches = sorted((self.labels[n] for n in numbers), key=lambda m: (len(m[0]), m))
        return matches[:limit]


@dataclass
class DirectoryData:
    """Everything the web tier reads for one published generation, over the generation's
    directory file (``registry.directory_file``): mapping-like, decoded on demand."""

    generation: str
    index: SpatialIndex
    cards: Mapping[str, PlaceCard]
    names: Any  # .search(text, limit) → [(label, kind, place)], as NameIndex.search
    networks: dict[str, Network]
    sources: dict[str, SourceInfo]  # by named graph
    clusters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # place → members
    # places placed at their commune's point (no coordinates of their own): an index of
    # their own, so that ``index`` holds exactly the networks' coordinates
    approximate_index: SpatialIndex = field(default_factory=lambda: SpatialIndex(()))
    # the mapped file's arrays: searches by card number (``registry.directory_file``)
    table: Any = None

    def __len__(self) -> int:
        return len(self.cards)

    def network_name(self, iri: str) -> str:
        network = self.networks.get(iri)
        return network.name if network else iri

    def source_of_graph(self, graph: str) -> SourceInfo | None:
        return self.sources.get(graph)


@lru_cache(maxsize=65536)
def folded(label: str) -> str:
    """``fold`` of a label, remembered: a network's name is a label of every place."""
    return fold(label)
