"""Make every feed say things the same way before validation (docs/data-model.md §Normalisation).

1. ``http://schema.org/`` becomes ``https://schema.org/``;
2. an ``xsd:dateTime`` that is really a date is retyped ``xsd:date``;
3. blank nodes become stable skolem IRIs scoped to the source;
4. the shortcut "organisation ``schema:location`` place" becomes a presence;
5. ``geo:asWKT`` is derived from latitude and longitude.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict

import pyoxigraph as ox

from core.vocab import GENID, GEO, LTC, RDF_TYPE, SCHEMA, SCHEMA_HTTP, XSD
from harvester.errors import FeedError

MAX_BLANK_NODE_DEPTH = 32

_DATE = re.compile(r"^-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$")
_NUMERIC = {XSD + t for t in ("decimal", "double", "float", "integer")}

_TYPE = ox.NamedNode(RDF_TYPE)
_XSD_DATETIME = ox.NamedNode(XSD + "dateTime")
_XSD_DATE = ox.NamedNode(XSD + "date")
_ORGANIZATION = ox.NamedNode(SCHEMA + "Organization")
_LOCATION_IRI = SCHEMA + "location"
_GEO_IRI = SCHEMA + "geo"
_LATITUDE_IRI = SCHEMA + "latitude"
_LONGITUDE_IRI = SCHEMA + "longitude"
_PRESENCE = ox.NamedNode(LTC + "Presence")
_PRESENCE_ORG = ox.NamedNode(LTC + "organisation")
_PRESENCE_PLACE = ox.NamedNode(LTC + "place")
_HAS_GEOMETRY = ox.NamedNode(GEO + "hasGeometry")
_AS_WKT = ox.NamedNode(GEO + "asWKT")
_WKT = ox.NamedNode(GEO + "wktLiteral")

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def genid_prefix(source: str) -> str:
    """The IRI space where the registry mints a source's skolem IRIs."""
    return f"{GENID}{source}/"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _rewrite_terms(triples: list[ox.Triple]) -> tuple[list[ox.Triple], bool]:
    """https schema.org and dates, in one pass; also says whether blank nodes occur.
    Triples that need no change are kept as they are (most of them)."""
    out: list[ox.Triple] = []
    blank = False
    for t in triples:
        # One look at the N-Triples form rules out most statements at a third of the
        # cost of reading their terms (a literal mentioning these only costs a closer look).
        text = str(t)
        if "http://schema.org/" not in text and "_:" not in text and "#dateTime>" not in text:
            out.append(t)
            continue
        s, p, o = t.subject, t.predicate, t.object
        changed = False
        if p.value.startswith(SCHEMA_HTTP):
            p, changed = ox.NamedNode(SCHEMA + p.value[len(SCHEMA_HTTP) :]), True
        kind = type(o)
        if kind is ox.NamedNode:
            if o.value.startswith(SCHEMA_HTTP):
                o, changed = ox.NamedNode(SCHEMA + o.value[len(SCHEMA_HTTP) :]), True
        elif kind is ox.Literal:
            if o.datatype == _XSD_DATETIME and _DATE.match(o.value):
                o, changed = ox.Literal(o.value, datatype=_XSD_DATE), True
        else:
            blank = True
        if type(s) is ox.BlankNode:
            blank = True
        elif s.value.startswith(SCHEMA_HTTP):
            s, changed = ox.NamedNode(SCHEMA + s.value[len(SCHEMA_HTTP) :]), True
        out.append(ox.Triple(s, p, o) if changed else t)
    return out, blank


class _Skolemiser:
    """Names each blank node after its owner, the property that leads to it and its content,
    so the same description always gets the same IRI, whatever the file's blank node labels."""

    def __init__(self, triples: list[ox.Triple], source: str):
        self.prefix = genid_prefix(source)
        self.outgoing: dict[ox.BlankNode, list[tuple[str, Term]]] = defaultdict(list)
        self.parents: dict[ox.BlankNode, list[tuple[Term, str]]] = defaultdict(list)
        for t in triples:
            if isinstance(t.subject, ox.BlankNode):
                self.outgoing[t.subject].append((t.predicate.value, t.object))
            if isinstance(t.object, ox.BlankNode):
                self.parents[t.object].append((t.subject, t.predicate.value))
        self.contents: dict[ox.BlankNode, str] = {}
        self.names: dict[ox.BlankNode, ox.NamedNode] = {}

    def content(self, node: ox.BlankNode, depth: int = 0, seen: frozenset = frozenset()) -> str:
        if node in self.contents:
            return self.contents[node]
        if depth > MAX_BLANK_NODE_DEPTH:
            raise _too_deep()
        if node in seen:
            return "cycle"
        parts = sorted(
            f"{p} [{self.content(o, depth + 1, seen | {node})}]"
            if isinstance(o, ox.BlankNode)
            else f"{p} {o}"
            for p, o in self.outgoing.get(node, ())
        )
        self.contents[node] = text = "; ".join(parts)
        return text

    def name(self, node: ox.BlankNode, depth: int = 0) -> ox.NamedNode:
        if node in self.names:
            return self.names[node]
        if depth > MAX_BLANK_NODE_DEPTH:
            raise _too_deep()
        self.names[node] = ox.NamedNode(self.prefix + "pending")  # cycle guard
        owners = sorted(self.parents.get(node, ()), key=lambda sp: (str(sp[0]), sp[1]))
        owner_key = "top"
        if owners:
            owner, predicate = owners[0]
            owner_iri = self.name(owner, depth + 1) if isinstance(owner, ox.BlankNode) else owner
            owner_key = f"{owner_iri.value}|{predicate}"
        named = ox.NamedNode(self.prefix + _digest(f"{owner_key}|{self.content(node)}"))
        self.names[node] = named
        return named

    def term(self, term: Term) -> Term:
        return self.name(term) if isinstance(term, ox.BlankNode) else term


def _too_deep() -> FeedError:
    return FeedError(
        f"nœuds anonymes imbriqués sur plus de {MAX_BLANK_NODE_DEPTH} niveaux",
        f"blank nodes nested more than {MAX_BLANK_NODE_DEPTH} levels deep",
    )


def _skolemise(triples: list[ox.Triple], source: str) -> list[ox.Triple]:
    skolem = _Skolemiser(triples, source)
    return [ox.Triple(skolem.term(t.subject), t.predicate, skolem.term(t.object)) for t in triples]


def _derive(triples: list[ox.Triple], source: str) -> list[ox.Triple]:
    """Presences from the location shortcut, and WKT points from coordinates."""
    organisations: set = set()
    locations: list[ox.Triple] = []
    geo_links: list[ox.Triple] = []
    coordinates: dict = defaultdict(lambda: ([], []))
    for t in triples:
        predicate = t.predicate.value
        if predicate == RDF_TYPE:
            if t.object == _ORGANIZATION:
                organisations.add(t.subject)
        elif predicate == _LOCATION_IRI:
            locations.append(t)
        elif predicate == _LATITUDE_IRI:
            coordinates[t.subject][0].append(t.object)
        elif predicate == _LONGITUDE_IRI:
            coordinates[t.subject][1].append(t.object)
        elif predicate == _GEO_IRI:
            geo_links.append(t)
    added: list[ox.Triple] = []
    shortcuts: set[ox.Triple] = set()
    for t in locations:
        if t.subject in organisations and isinstance(t.object, ox.NamedNode):
            presence = ox.NamedNode(
                f"{genid_prefix(source)}presence-{_digest(t.subject.value + '|' + t.object.value)}"
            )
            added += [
                ox.Triple(presence, _TYPE, _PRESENCE),
                ox.Triple(presence, _PRESENCE_ORG, t.subject),
                ox.Triple(presence, _PRESENCE_PLACE, t.object),
            ]
            shortcuts.add(t)
    for t in geo_links:
        if t.object not in coordinates:
            continue
        latitudes, longitudes = coordinates[t.object]
        lat, lon = _number(latitudes), _number(longitudes)
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            continue
        wkt = ox.Literal(f"POINT({lon!r} {lat!r})", datatype=_WKT)
        added += [ox.Triple(t.subject, _HAS_GEOMETRY, t.object), ox.Triple(t.object, _AS_WKT, wkt)]
    if shortcuts:
        triples = [t for t in triples if t not in shortcuts]
    return triples + added


def _number(values: list[Term]) -> float | None:
    if len(values) != 1:
        return None
    value = values[0]
    if not isinstance(value, ox.Literal) or value.datatype.value not in _NUMERIC:
        return None
    try:
        return float(value.value)
    except ValueError:
        return None


def normalise(triples: list[ox.Triple], source: str) -> list[ox.Triple]:
    """The feed's triples as the registry stores and validates them (duplicates removed)."""
    triples, blank = _rewrite_terms(triples)
    if blank:
        triples = _skolemise(triples, source)
    return list(dict.fromkeys(_derive(triples, source)))
