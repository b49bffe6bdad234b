"""Convergence facts from the harvester's files instead of the store.

Each source's ``accepted.nt`` holds exactly what its graph holds (the harvester writes it
before loading, and repairs the graph from it), for either store backend. Reading the
few statements convergence needs from these files takes seconds at national scale,
where the two SPARQL queries over the on-disk store take half a minute. The rows made
here have the shape of those queries' answers, so ``facts_from_rows`` treats both alike
(a test checks they agree).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import pyoxigraph as ox

from convergence.derive import StoreFacts, facts_from_rows
from harvester.catalog import load_catalog
from harvester.state import SourceFiles, known_sources
from ltc.config import Settings
from ltc.iris import Iris

SCHEMA = "https://schema.org/"
LTC = "https://w3id.org/ltc/ns#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
XSD = "http://www.w3.org/2001/XMLSchema#"
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


def read_accepted(
    settings: Settings, iris: Iris, publishers: dict[str, str] | None = None
) -> StoreFacts:
    """The facts ``convergence.derive.read_store`` reads, from the files of every source
    the harvester holds; ``publishers`` (source id → network IRI) defaults to the
    catalog's."""
    if publishers is None:
        publishers = {source.id: source.network for source in load_catalog(settings)}
    graphs: dict[str, _Graph] = {}
    for source_id in known_sources(settings.data_dir):
        data = SourceFiles(settings.data_dir, source_id).accepted()
        if data:
            graphs[iris.source_graph(source_id)] = _Graph(data)
    member_of: dict[str, list[ox.Term]] = defaultdict(list)
    for graph in graphs.values():
        for (subject, predicate), values in graph.values.items():
            if predicate == SCHEMA + "memberOf":
                member_of[subject] += [v for v in values if isinstance(v, ox.NamedNode)]
    meeting_rows: list[dict] = []
    place_rows: list[dict] = []
    prefix = iris.source_graph("")
    for graph_iri, graph in graphs.items():
        g = ox.NamedNode(graph_iri)
        source_id = graph_iri[len(prefix) :]
        if publishers.get(source_id):
            meeting_rows.append(
                {
                    "kind": ox.Literal("source"),
                    "graph": g,
                    "network": ox.NamedNode(publishers[source_id]),
                    "sourceId": ox.Literal(source_id),
                }
            )
        meeting_rows += _meeting_rows(graph, g, member_of)
        place_rows += _place_rows(graph, g)
    return facts_from_rows(meeting_rows, place_rows, iris)


def _meeting_rows(graph: _Graph, g: ox.NamedNode, member_of: dict) -> Iterator[dict]:
    for network in graph.types.get(LTC + "Network", ()):
        for name in graph.get(network, SCHEMA + "name"):
            yield {"kind": ox.Literal("network"), "graph": g, "network": ox.NamedNode(network),
                   "name": name}  # fmt: skip
    for presence in graph.types.get(LTC + "Presence", ()):
        for place in graph.get(presence, LTC + "place"):
            for organisation in graph.get(presence, LTC + "organisation"):
                row = {"kind": ox.Literal("presence"), "graph": g, "place": place,
                       "organisation": organisation}  # fmt: skip
                networks = member_of.get(organisation.value) or [None]
                for network in networks:
                    yield {**row, "network": network} if network is not None else row
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
