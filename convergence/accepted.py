"""Convergence facts from the harvester's files instead of the store.

Each source's ``accepted.nt`` holds exactly what its graph holds (the harvester writes it
before loading, and repairs the graph from it), for either store backend. Reading the
few statements convergence needs from these files takes seconds at national scale,
where the two SPARQL queries over the on-disk store take half a minute. The rows made
here have the shape of those queries' answers and go through the same merging
(``convergence.derive``), so both give the same facts (a test checks they agree). What
a source gives is cached beside its file and read again only when the file changes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from convergence import cachefile
from convergence.derive import StoreFacts, facts_from_merged, merged_place_rows
from convergence.match import Prepared, PreparedKey, prepare, prepared_key
from convergence.model import PlaceFacts
from core.catalog import load_catalog
from core.config import Settings
from core.datafolder import DataFolder
from core.harvest_files import SourceFiles, known_sources
from core.iris import Iris
from core.vocab import LTC, OWL, RDF_TYPE, SCHEMA, XSD

OWL_SAME_AS = OWL + "sameAs"
NUMERIC = {
    XSD + name
    for name in (
        "decimal", "double", "float", "integer", "int", "long", "short", "byte",
        "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
        "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte",
    )
}  # fmt: skip
WANTED = {
    f"<{iri}>".encode()
    for iri in (
        RDF_TYPE,
        SCHEMA + "name",
        SCHEMA + "geo",
        SCHEMA + "latitude",
        SCHEMA + "longitude",
        SCHEMA + "address",
        SCHEMA + "streetAddress",
        SCHEMA + "postalCode",
        SCHEMA + "addressLocality",
        SCHEMA + "sameAs",
        OWL_SAME_AS,
        SCHEMA + "memberOf",
        LTC + "place",
        LTC + "organisation",
        LTC + "status",
        LTC + "charterDate",
    )
}


def _statements(ntriples: bytes) -> Iterator[ox.Triple]:
    """The statements convergence uses, parsed from the lines that can hold them."""
    kept = [line for line in ntriples.splitlines() if _predicate(line) in WANTED]
    if not kept:
        return iter(())
    quads = ox.parse(b"\n".join(kept) + b"\n", format=ox.RdfFormat.N_TRIPLES)
    return (quad.triple for quad in quads)


def _predicate(line: bytes) -> bytes:
    parts = line.split(b" ", 2)
    return parts[1] if len(parts) == 3 else b""


class _Graph:
    """One source graph's statements, indexed the way the rows need them."""

    def __init__(self, ntriples: bytes) -> None:
        self.types: dict[str, set[str]] = defaultdict(set)
        self.values: dict[tuple[str, str], list[ox.Term]] = defaultdict(list)
        for triple in _statements(ntriples):
            subject, predicate, value = triple.subject.value, triple.predicate.value, triple.object
            if predicate == RDF_TYPE:
                self.types[value.value].add(subject)
            else:
                self.values[(subject, predicate)].append(value)

    def get(self, subject: str, predicate: str) -> list[ox.Term]:
        return self.values.get((subject, predicate), [])


@dataclass
class _SourceRows:
    """What one source's file gives convergence: kept beside the file (``CACHE``) and
    used again while the file is the same, since reading it is most of the work."""

    digest: str  # of the file and the graph IRI the rows name
    places: dict[tuple[str, str], dict]  # merged_place_rows of its place rows
    networks: list[dict]
    presences: list[tuple[ox.Term, ox.Term]]  # (place, organisation)
    labels: list[dict]
    member_of: dict[str, list[ox.NamedNode]]
    # each place row through ``match.prepare``, by ``prepared_key``: the derived graph's
    # per-place work done once per version of the file (in the harvest's workers)
    prepared: dict[PreparedKey, Prepared]


_CACHE_VERSION = "3"  # bump when the rows made here change


def _rows_of(data: bytes, digest: str, graph_iri: str) -> _SourceRows:
    graph, g = _Graph(data), ox.NamedNode(graph_iri)
    places = merged_place_rows(_place_rows(graph, g))
    return _SourceRows(
        digest=digest,
        places=places,
        networks=list(_network_rows(graph, g)),
        presences=[
            (place, organisation)
            for presence in graph.types.get(LTC + "Presence", ())
            for place in graph.get(presence, LTC + "place")
            for organisation in graph.get(presence, LTC + "organisation")
        ],
        labels=list(_label_rows(graph, g)),
        member_of={
            subject: [v for v in values if isinstance(v, ox.NamedNode)]
            for (subject, predicate), values in graph.values.items()
            if predicate == SCHEMA + "memberOf"
        },
        prepared=_prepared(places),
    )


def _prepared(places: dict[tuple[str, str], dict]) -> dict[PreparedKey, Prepared]:
    """``match.prepare`` of the place each merged row makes (``facts_from_merged``)."""
    prepared = {}
    for (iri, graph), merged in places.items():
        lat, lon = merged["geo"] or (None, None)
        place = PlaceFacts(iri, graph, "", frozenset(), name=merged["name"], lat=lat, lon=lon,
                           street=merged["street"], postcode=merged["postcode"],
                           locality=merged["locality"])  # fmt: skip
        prepared[prepared_key(place)] = prepare(place)
    return prepared


def _digest(data: bytes, graph_iri: str) -> str:
    digest = hashlib.sha256(data)
    digest.update(f"|{graph_iri}|{_CACHE_VERSION}".encode())
    return digest.hexdigest()


def _cache_file(folder: DataFolder, source_id: str) -> Path:
    return folder.convergence_cache / f"rows-{source_id}.pickle"


def _source_rows(files: SourceFiles, graph_iri: str, cache_file: Path) -> _SourceRows | None:
    data = files.accepted()
    if not data:
        return None
    digest = _digest(data, graph_iri)
    cached = cachefile.load(cache_file)
    if isinstance(cached, _SourceRows) and cached.digest == digest:
        return cached
    rows = _rows_of(data, digest, graph_iri)
    cachefile.save(cache_file, rows)
    return rows


def remember_source(settings: Settings, source_id: str, accepted: bytes) -> str:
    """Read what a source's new accepted statements give convergence and keep it in the
    cache, ahead of the derived graph: the harvester calls this in the worker process
    that prepared the source (through ``ltc.pipeline``), so that this reading, most of
    the derived graph's work, runs on both cores while the sources are still being
    loaded. Used only if ``accepted.nt`` ends up holding these very statements.
    Returns their digest (``read_accepted``'s ``expected``)."""
    if not accepted:
        return ""
    graph_iri = Iris(settings.base_iri).source_graph(source_id)
    rows = _rows_of(accepted, _digest(accepted, graph_iri), graph_iri)
    cachefile.save(_cache_file(DataFolder(settings.data_dir), source_id), rows)
    return rows.digest


class NotAhead(Exception):
    """The cache does not hold the version of a source's statements it was told of."""


def read_accepted(
    settings: Settings,
    iris: Iris,
    publishers: dict[str, str] | None = None,
    expected: Mapping[str, str] | None = None,
) -> StoreFacts:
    """The facts ``convergence.derive.read_store`` reads, from the files of every source
    the harvester holds; ``publishers`` (source id → network IRI) defaults to the
    catalog's. ``expected``: sources whose new statements are not in their files yet,
    with the digest ``remember_source`` gave them: read from the cache only (NotAhead
    if it holds another version). ``digests`` of the facts say which versions they
    come from."""
    if publishers is None:
        publishers = {source.id: source.network for source in load_catalog(settings)}
    expected = expected or {}
    by_source: dict[str, _SourceRows] = {}
    digests: dict[str, str] = {}
    folder = DataFolder(settings.data_dir)
    for source_id in known_sources(folder):
        cache_file = _cache_file(folder, source_id)
        if source_id in expected:
            rows = cachefile.load(cache_file) if expected[source_id] else None
            if expected[source_id] and (
                not isinstance(rows, _SourceRows) or rows.digest != expected[source_id]
            ):
                raise NotAhead(source_id)
        else:
            files = SourceFiles(folder, source_id)
            rows = _source_rows(files, iris.source_graph(source_id), cache_file)
        digests[source_id] = rows.digest if rows is not None else ""
        if rows is not None:
            by_source[source_id] = rows
    member_of: dict[str, list[ox.Term]] = defaultdict(list)
    for rows in by_source.values():
        for subject, networks in rows.member_of.items():
            member_of[subject] += networks
    meeting_rows: list[dict] = []
    merged_places: dict[tuple[str, str], dict] = {}
    prepared: dict[PreparedKey, Prepared] = {}
    for source_id, rows in by_source.items():
        g = ox.NamedNode(iris.source_graph(source_id))
        if publishers.get(source_id):
            meeting_rows.append(
                {
                    "kind": ox.Literal("source"),
                    "graph": g,
                    "network": ox.NamedNode(publishers[source_id]),
                    "sourceId": ox.Literal(source_id),
                }
            )
        meeting_rows += rows.networks
        for place, organisation in rows.presences:
            row = {"kind": ox.Literal("presence"), "graph": g, "place": place,
                   "organisation": organisation}  # fmt: skip
            for network in member_of.get(organisation.value) or [None]:
                meeting_rows.append({**row, "network": network} if network is not None else row)
        meeting_rows += rows.labels
        merged_places.update(rows.places)
        prepared.update(rows.prepared)
    facts = facts_from_merged(meeting_rows, merged_places, iris)
    facts.prepared, facts.digests = prepared, digests
    return facts


def accepted_digests(settings: Settings, iris: Iris) -> dict[str, str]:
    """The digest of each source's accepted statements as its file holds them now."""
    folder = DataFolder(settings.data_dir)
    digests = {}
    for source_id in known_sources(folder):
        data = SourceFiles(folder, source_id).accepted()
        digests[source_id] = _digest(data, iris.source_graph(source_id)) if data else ""
    return digests


def _network_rows(graph: _Graph, g: ox.NamedNode) -> Iterator[dict]:
    for network in graph.types.get(LTC + "Network", ()):
        for name in graph.get(network, SCHEMA + "name"):
            yield {"kind": ox.Literal("network"), "graph": g, "network": ox.NamedNode(network),
                   "name": name}  # fmt: skip


def _label_rows(graph: _Graph, g: ox.NamedNode) -> Iterator[dict]:
    for label in graph.types.get(LTC + "ConvergenceLabel", ()):
        dates = graph.get(label, LTC + "charterDate") or [None]
        for place in graph.get(label, LTC + "place"):
            for status in graph.get(label, LTC + "status"):
                for date in dates:
                    row = {"kind": ox.Literal("label"), "graph": g, "place": place,
                           "status": status}  # fmt: skip
                    yield {**row, "charterDate": date} if date is not None else row


def _place_rows(graph: _Graph, g: ox.NamedNode) -> Iterator[dict]:
    for place in graph.types.get(SCHEMA + "Place", ()):
        node = ox.NamedNode(place)
        yield {"graph": g, "place": node}
        for name in graph.get(place, SCHEMA + "name"):
            yield {"graph": g, "place": node, "name": name}
        for geo in graph.get(place, SCHEMA + "geo"):
            for lat in graph.get(geo.value, SCHEMA + "latitude"):
                for lon in graph.get(geo.value, SCHEMA + "longitude"):
                    if _numeric(lat) and _numeric(lon):
                        yield {"graph": g, "place": node, "lat": lat, "lon": lon}
        for address in graph.get(place, SCHEMA + "address"):
            for key, predicate in (
                ("street", "streetAddress"),
                ("postcode", "postalCode"),
                ("locality", "addressLocality"),
            ):
                for value in graph.get(address.value, SCHEMA + predicate):
                    yield {"graph": g, "place": node, key: value}
        for predicate in (SCHEMA + "sameAs", OWL_SAME_AS):
            for same in graph.get(place, predicate):
                if isinstance(same, ox.NamedNode):
                    yield {"graph": g, "place": node, "sameAs": same}


def _numeric(term: ox.Term) -> bool:
    return isinstance(term, ox.Literal) and term.datatype.value in NUMERIC
