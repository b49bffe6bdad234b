"""What convergence works on: the facts about each place, the links between places, the
clusters they form and the result of one computation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

LinkKind = Literal["declared", "inferred", "confirmed"]


@dataclass(frozen=True)
class PlaceFacts:
    """One place record as the matcher sees it (one IRI, possibly in several feeds)."""

    iri: str
    graph: str
    source: str
    networks: frozenset[str]
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    street: str = ""
    postcode: str = ""
    locality: str = ""
    same_as: frozenset[str] = frozenset()

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class Link:
    """Two places said or found to be the same; ``a`` < ``b`` always."""

    a: str
    b: str
    score: float
    evidence: tuple[str, ...]
    kind: LinkKind

    def __post_init__(self) -> None:
        if self.a > self.b:
            a, b = self.b, self.a
            object.__setattr__(self, "a", a)
            object.__setattr__(self, "b", b)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a, self.b)


@dataclass(frozen=True)
class Presence:
    """An organisation of some networks present at a place (from ``ltc:Presence``)."""

    organisation: str
    place: str
    networks: frozenset[str]
    graph: str = ""


@dataclass(frozen=True)
class Label:
    """The collective's ``ltc:ConvergenceLabel`` on a place."""

    place: str
    status: str
    charter_date: str = ""


@dataclass(frozen=True)
class Cluster:
    """Place records describing one physical place, and who meets there."""

    id: str
    places: tuple[str, ...]
    networks: tuple[str, ...]
    organisations: tuple[str, ...]
    place_networks: tuple[str, ...] = ()
    labels: tuple[Label, ...] = ()

    @property
    def is_candidate(self) -> bool:
        """Organisations of at least two different networks meet here."""
        return len(self.networks) >= 2


@dataclass(frozen=True)
class Conflict:
    """A link that could not be applied: what blocked it, in French for the reviewer."""

    link: Link
    reason: str


@dataclass
class Result:
    """One computation of identity links, clusters and candidates.

    ``links`` holds every link found (declared, and inferred ones scoring at least the
    review threshold); ``applied`` the ones that joined or confirmed a cluster;
    ``uncertain`` the inferred ones left for the collective to decide; ``conflicts``
    the confirmed or declared links that could not be applied, and why."""

    places: dict[str, PlaceFacts]
    links: list[Link]
    applied: list[Link]
    clusters: list[Cluster]
    candidates: list[Cluster]
    conflicts: list[Conflict]
    uncertain: list[Link]
    cluster_of: dict[str, Cluster] = field(default_factory=dict)
    network_names: dict[str, str] = field(default_factory=dict)

    def cluster(self, iri: str) -> Cluster | None:
        """The cluster holding the place ``iri`` (None for an unknown place)."""
        return self.cluster_of.get(iri)
