"""One convergence computation over the store, and the derived graph it produces.

``compute`` reads places, presences and labels from the source graphs, finds the
links (declared by networks, inferred by the registry), clusters them under the
collective's curation and ranks the candidate Lieux de Convergence. ``derived_ntriples``
turns the result into the registry's derived graph (``convergence.derived_graph`` puts
it in the store after each harvest).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import pyoxigraph as ox

from convergence.cluster import DEFAULT_MAX_CLUSTER_KM, cluster_places
from convergence.curation import Curation, load_curation
from convergence.match import (
    ACCEPT_SCORE,
    Prepared,
    PreparedKey,
    ScoreCache,
    declared_links,
    inferred_links,
)
from convergence.model import Cluster, Label, Link, PlaceFacts, Presence, Result
from core.iris import Iris
from core.resources import sparql_query
from core.store import Store, row_text
from core.vocab import LTC, RDF_TYPE, XSD

DEFAULT_BASE = "https://w3id.org/ltc/"


# -- reading the store ---------------------------------------------------------------


def _number(row: dict, key: str) -> float | None:
    term = row.get(key)
    if term is None:
        return None
    try:
        return float(term.value)
    except ValueError:
        return None


@dataclass
class StoreFacts:
    """What convergence reads from the store."""

    places: dict[str, PlaceFacts]
    presences: list[Presence]
    labels: list[Label]
    network_names: dict[str, str]
    # places already through ``match.prepare`` (by ``prepared_key``): a head start
    prepared: dict[PreparedKey, Prepared] = field(default_factory=dict)
    # read from the harvester's files: the digest of each source's version of them
    digests: dict[str, str] = field(default_factory=dict)


def _smallest(current: str, new: str) -> str:
    """The smaller non-empty text: one value, whatever order rows come in."""
    if not current:
        return new
    return min(current, new) if new else current


def read_store(store: Store, iris: Iris, exclude: Iterable[str] = ()) -> StoreFacts:
    """Places, presences, labels and network names of the source graphs, minus the
    ``exclude``d graphs. A place's networks are those publishing its graph (the
    graph's IRI when the metadata graph does not say); a place published in several
    source graphs keeps the smallest graph IRI and the union of the networks."""
    return facts_from_rows(
        store.select(sparql_query("convergence-presences")),
        store.select(sparql_query("convergence-places")),
        iris,
        exclude,
    )


def merged_place_rows(place_rows: Iterable[dict]) -> dict[tuple[str, str], dict]:
    """Rows of ``convergence-places.rq`` merged by (place, graph): one value of each
    field whatever order rows come in (the smallest), coordinates, sameAs links."""
    rows: dict[tuple[str, str], dict] = {}
    for row in place_rows:
        key = (row_text(row, "place"), row_text(row, "graph"))
        merged = rows.setdefault(
            key,
            {"name": "", "street": "", "postcode": "", "locality": "", "geo": None, "same": set()},
        )
        for field_name in ("name", "street", "postcode", "locality"):
            merged[field_name] = _smallest(merged[field_name], row_text(row, field_name))
        lat, lon = _number(row, "lat"), _number(row, "lon")
        if lat is not None and lon is not None:
            merged["geo"] = min(merged["geo"] or (lat, lon), (lat, lon))
        if row_text(row, "sameAs"):
            merged["same"].add(row_text(row, "sameAs"))
    return rows


def facts_from_rows(
    meeting_rows: Iterable[dict],
    place_rows: Iterable[dict],
    iris: Iris,
    exclude: Iterable[str] = (),
) -> StoreFacts:
    """The facts from rows shaped as the answers of ``convergence-presences.rq`` and
    ``convergence-places.rq`` (whatever produced them: the store, or the harvester's
    files through ``convergence.accepted``)."""
    return facts_from_merged(meeting_rows, merged_place_rows(place_rows), iris, exclude)


def facts_from_merged(
    meeting_rows: Iterable[dict],
    merged_places: dict[tuple[str, str], dict],
    iris: Iris,
    exclude: Iterable[str] = (),
) -> StoreFacts:
    """``facts_from_rows`` for place rows already merged (``merged_place_rows``)."""
    prefix = iris.source_graph("")
    skip = set(exclude)

    def wanted(graph: str) -> bool:
        return graph.startswith(prefix) and graph not in skip

    publishers: dict[str, set[str]] = defaultdict(set)
    source_ids: dict[str, str] = {}
    presences: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    labels: set[Label] = set()
    names: dict[str, str] = {}
    for row in meeting_rows:
        kind, graph = row_text(row, "kind"), row_text(row, "graph")
        if kind == "source":
            publishers[graph].add(row_text(row, "network"))
            if row_text(row, "sourceId"):
                source_ids[graph] = row_text(row, "sourceId")
        elif kind == "network":
            network = row_text(row, "network")
            names[network] = _smallest(names.get(network, ""), row_text(row, "name"))
        elif not wanted(graph):
            continue
        elif kind == "presence":
            found = presences[(row_text(row, "organisation"), row_text(row, "place"), graph)]
            if row_text(row, "network"):
                found.add(row_text(row, "network"))
        elif kind == "label":
            place, status = row_text(row, "place"), row_text(row, "status")
            labels.add(Label(place, status, row_text(row, "charterDate")))

    rows = {key: merged for key, merged in merged_places.items() if wanted(key[1])}
    places: dict[str, PlaceFacts] = {}
    for (iri, graph), merged in sorted(rows.items()):
        networks = frozenset(publishers.get(graph) or {graph})
        known = places.get(iri)
        if known is not None:  # sorted: ``known`` has the smaller graph
            places[iri] = replace(
                known, networks=known.networks | networks, same_as=known.same_as | merged["same"]
            )
            continue
        lat, lon = merged["geo"] or (None, None)
        places[iri] = PlaceFacts(
            iri=iri,
            graph=graph,
            source=source_ids.get(graph, graph[len(prefix) :]),
            networks=networks,
            name=merged["name"],
            lat=lat,
            lon=lon,
            street=merged["street"],
            postcode=merged["postcode"],
            locality=merged["locality"],
            same_as=frozenset(merged["same"]),
        )
    return StoreFacts(
        places=places,
        presences=[
            Presence(org, place, frozenset(networks), graph)
            for (org, place, graph), networks in sorted(presences.items())
        ],
        labels=sorted(labels, key=lambda label: (label.place, label.status, label.charter_date)),
        network_names=names,
    )


# -- computing -----------------------------------------------------------------------


def cluster_id(members: Iterable[str]) -> str:
    """Stable id of a cluster: a hash of its smallest member IRI."""
    return hashlib.sha256(min(members).encode("utf-8")).hexdigest()[:16]


def compute_from(
    places: dict[str, PlaceFacts],
    presences: Iterable[Presence] = (),
    labels: Iterable[Label] = (),
    *,
    curation: Curation | None = None,
    max_cluster_km: float = DEFAULT_MAX_CLUSTER_KM,
    scores: ScoreCache | None = None,
    processes: int = 1,
    prepared: dict[PreparedKey, Prepared] | None = None,
) -> Result:
    """Links, clusters and candidates for places already read (``scores``: pairs
    scored by an earlier run, see ``ScoreCache``; ``processes``: how many may score
    pairs; ``prepared``: places already through ``match.prepare``)."""
    curation = curation if curation is not None else Curation()
    declared = declared_links(places.values())
    declared_pairs = {link.pair for link in declared}
    inferred = [
        link
        for link in inferred_links(
            places.values(), cache=scores, processes=processes, known_places=prepared
        )
        if link.pair not in declared_pairs
    ]
    accepted = [
        link
        for link in inferred
        if link.score >= ACCEPT_SCORE and not curation.decided(link.a, link.b)
    ]
    clustering = cluster_places(
        places,
        [*declared, *accepted],
        confirmed=curation.confirmed_pairs,
        rejected=curation.rejected_pairs,
        max_cluster_km=max_cluster_km,
    )
    at_place: dict[str, list[Presence]] = defaultdict(list)
    for presence in presences:
        if presence.place in places:
            at_place[presence.place].append(presence)
    labels_at: dict[str, list[Label]] = defaultdict(list)
    for label in labels:
        labels_at[label.place].append(label)

    clusters: list[Cluster] = []
    cluster_of: dict[str, Cluster] = {}
    for members in clustering.members.values():
        found = [p for iri in members for p in at_place.get(iri, ())]
        cluster = Cluster(
            id=cluster_id(members),
            places=tuple(members),
            networks=tuple(sorted({n for p in found for n in p.networks})),
            organisations=tuple(sorted({p.organisation for p in found})),
            place_networks=tuple(sorted({n for iri in members for n in places[iri].networks})),
            labels=tuple(
                sorted(
                    (label for iri in members for label in labels_at.get(iri, ())),
                    key=lambda label: (label.place, label.status, label.charter_date),
                )
            ),
        )
        clusters.append(cluster)
        for iri in members:
            cluster_of[iri] = cluster
    clusters.sort(key=lambda c: c.id)
    candidates = sorted(
        (c for c in clusters if c.is_candidate),
        key=lambda c: (-len(c.networks), -len(c.organisations), c.id),
    )
    uncertain = [
        link
        for link in inferred
        if not curation.decided(link.a, link.b) and cluster_of[link.a].id != cluster_of[link.b].id
    ]
    return Result(
        places=places,
        links=sorted([*declared, *inferred], key=lambda link: link.pair),
        applied=sorted(clustering.applied, key=lambda link: link.pair),
        clusters=clusters,
        candidates=candidates,
        conflicts=clustering.conflicts,
        uncertain=uncertain,
        cluster_of=cluster_of,
    )


def compute(
    store: Store,
    curation: Curation | None = None,
    max_cluster_km: float = DEFAULT_MAX_CLUSTER_KM,
    *,
    iris: Iris | None = None,
    exclude_graphs: Iterable[str] = (),
) -> Result:
    """Read the store's source graphs and compute links, clusters and candidates.

    ``curation`` defaults to the repository's ``convergence/curation.toml``;
    ``exclude_graphs`` leaves source graphs out (what the result would be without them).
    """
    iris = iris or Iris(DEFAULT_BASE)
    return result_from_facts(
        read_store(store, iris, exclude_graphs),
        curation if curation is not None else load_curation(),
        max_cluster_km,
    )


def result_from_facts(
    facts: StoreFacts,
    curation: Curation,
    max_cluster_km: float,
    scores: ScoreCache | None = None,
    processes: int = 1,
) -> Result:
    """Links, clusters and candidates for facts already read (from the store or files)."""
    result = compute_from(
        facts.places,
        facts.presences,
        facts.labels,
        curation=curation,
        max_cluster_km=max_cluster_km,
        scores=scores,
        processes=processes,
        prepared=facts.prepared,
    )
    result.network_names = facts.network_names
    return result


# -- the derived graph ------------------------------------------------------------------

_DECIMAL = ox.NamedNode(XSD + "decimal")
_INTEGER = ox.NamedNode(XSD + "integer")


def cluster_iri(cluster: Cluster, iris: Iris) -> str:
    """IRI of a cluster resource (one physical place described by several records)."""
    return f"{iris.base}lieu-ressource/{cluster.id}"


def link_iri(link: Link, iris: Iris) -> str:
    """IRI of an identity link resource, stable for the pair."""
    digest = hashlib.sha256(f"{link.a} {link.b}".encode()).hexdigest()[:16]
    return f"{iris.base}lien-identite/{digest}"


def derived_ntriples(result: Result, iris: Iris) -> bytes:
    """The derived graph: clusters of more than one record and candidates (members,
    networks and organisations present, counts, rank), and the applied identity links
    with their kind, score and evidence. Sorted lines, so that successive graphs differ
    only where the facts do."""
    n = ox.NamedNode
    triples: list[ox.Triple] = []

    def add(subject: str, predicate: str, value: ox.NamedNode | ox.Literal) -> None:
        triples.append(ox.Triple(n(subject), n(predicate), value))

    rank = {c.id: i for i, c in enumerate(result.candidates, 1)}
    for cluster in result.clusters:
        if len(cluster.places) < 2 and cluster.id not in rank:
            continue
        iri = cluster_iri(cluster, iris)
        add(iri, RDF_TYPE, n(LTC + "PlaceCluster"))
        for place in cluster.places:
            add(iri, LTC + "hasPlace", n(place))
        for network in cluster.networks:
            add(iri, LTC + "presentNetwork", n(network))
        for organisation in cluster.organisations:
            add(iri, LTC + "presentOrganisation", n(organisation))
        add(iri, LTC + "networkCount", ox.Literal(str(len(cluster.networks)), datatype=_INTEGER))
        add(
            iri,
            LTC + "organisationCount",
            ox.Literal(str(len(cluster.organisations)), datatype=_INTEGER),
        )
        if cluster.id in rank:
            add(iri, RDF_TYPE, n(LTC + "ConvergenceCandidate"))
            add(iri, LTC + "candidateRank", ox.Literal(str(rank[cluster.id]), datatype=_INTEGER))
    for link in result.applied:
        iri = link_iri(link, iris)
        add(iri, RDF_TYPE, n(LTC + "IdentityLink"))
        add(iri, LTC + "linkedPlace", n(link.a))
        add(iri, LTC + "linkedPlace", n(link.b))
        add(iri, LTC + "linkKind", ox.Literal(link.kind))
        add(iri, LTC + "score", ox.Literal(f"{link.score:.3f}", datatype=_DECIMAL))
        for evidence in link.evidence:
            add(iri, LTC + "evidence", ox.Literal(evidence, language="fr"))
    lines = sorted({str(t) + " .\n" for t in triples})
    return "".join(lines).encode("utf-8")
