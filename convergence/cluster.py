"""Links into clusters: union-find that respects the collective's decisions and distance.

Order of application, strongest first: rejections (cannot-link), confirmations,
links networks declare, then inferred links by descending score. A merge is refused
when the resulting cluster would hold a rejected pair, or — except for a confirmation,
which is a person's decision — two places farther apart than ``max_cluster_km``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from convergence.model import Conflict, Link, PlaceFacts

DEFAULT_MAX_CLUSTER_KM = 0.3


@dataclass
class Clustering:
    """Which links were applied, the members of each cluster and the refused links."""

    members: dict[str, list[str]]  # root IRI → sorted member IRIs (every place)
    root_of: dict[str, str]
    applied: list[Link] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def _km(a: PlaceFacts, b: PlaceFacts) -> float:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return 0.0  # unknown distance: the address and name evidence decided
    mean = math.radians((a.lat + b.lat) / 2)
    return math.hypot((a.lon - b.lon) * math.cos(mean), a.lat - b.lat) * 111.32


def cluster_places(
    places: dict[str, PlaceFacts],
    links: Iterable[Link],
    *,
    confirmed: Iterable[tuple[str, str]] = (),
    rejected: Iterable[tuple[str, str]] = (),
    max_cluster_km: float = DEFAULT_MAX_CLUSTER_KM,
) -> Clustering:
    """Cluster ``places`` with ``links`` (declared and inferred) under the curation."""
    parent = {iri: iri for iri in places}
    members: dict[str, list[str]] = {iri: [iri] for iri in places}
    cannot: dict[str, set[str]] = defaultdict(set)
    for a, b in rejected:
        cannot[a].add(b)
        cannot[b].add(a)

    def find(iri: str) -> str:
        root = iri
        while parent[root] != root:
            root = parent[root]
        while parent[iri] != root:
            parent[iri], iri = root, parent[iri]
        return root

    def blocked_by_rejection(left: list[str], right: set[str]) -> tuple[str, str] | None:
        for iri in left:
            for other in cannot.get(iri, ()):
                if other in right:
                    return (iri, other)
        return None

    def too_far(left: list[str], right: list[str]) -> tuple[str, str, float] | None:
        for u in left:
            for v in right:
                km = _km(places[u], places[v])
                if km > max_cluster_km:
                    return (u, v, km)
        return None

    result = Clustering(members={}, root_of={})

    def attempt(link: Link, *, check_distance: bool) -> None:
        if link.a not in places or link.b not in places:
            if link.kind == "confirmed":
                missing = " et ".join(iri for iri in link.pair if iri not in places)
                result.conflicts.append(Conflict(link, f"fiche absente du registre : {missing}"))
            return
        ra, rb = find(link.a), find(link.b)
        if ra == rb:
            result.applied.append(link)
            return
        left, right = members[ra], members[rb]
        if len(left) > len(right):
            left, right = right, left
        pair = blocked_by_rejection(left, set(right))
        if pair is not None:
            if link.kind != "inferred":
                result.conflicts.append(
                    Conflict(link, f"bloqué par le rejet de {pair[0]} ↔ {pair[1]}")
                )
            return
        if check_distance:
            far = too_far(left, right)
            if far is not None:
                if link.kind != "inferred":
                    result.conflicts.append(
                        Conflict(
                            link,
                            f"{far[0]} et {far[1]} seraient réunis à {far[2] * 1000:.0f} m "
                            f"(plus de {max_cluster_km * 1000:.0f} m)",
                        )
                    )
                return
        # attach the smaller cluster under the larger one
        small, large = (ra, rb) if len(members[ra]) < len(members[rb]) else (rb, ra)
        parent[small] = large
        members[large] = sorted(members[large] + members.pop(small))
        result.applied.append(link)

    confirmed_pairs = sorted({tuple(sorted(pair)) for pair in confirmed})
    for a, b in confirmed_pairs:
        attempt(Link(a, b, 1.0, ("confirmé par le collectif",), "confirmed"), check_distance=False)
    ordered = sorted(links, key=lambda link: (link.kind != "declared", -link.score, link.a, link.b))
    decided = set(confirmed_pairs) | {tuple(sorted(pair)) for pair in rejected}
    for link in ordered:
        if link.pair in decided:
            continue
        attempt(link, check_distance=True)
    result.root_of = {iri: find(iri) for iri in places}
    result.members = {root: sorted(found) for root, found in members.items()}
    return result
