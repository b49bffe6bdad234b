"""The compiled SHACL engine (harvester.shacl_sparql) gives pyshacl's results, but
where pyshacl departs from the SHACL specification (harvester/engine_differences.toml).

pyshacl is the reference. Both engines validate the same triples and the *sets* of
results are compared: (focus, sourceShape, severity, resultPath or None, value or
None, sourceConstraintComponent). pyshacl may report a result several times; the
compiled engine reports it once. Literals are compared as written (lexical form,
datatype, language): both engines read them so, whatever the store does to them.

On the shape fixtures and the example feeds the results are equal. The hand-written
edge cases probe the departures: there the results may differ only as an entry of
the allow-list says (the same rule as tests/test_engine_differential.py, on results
rather than on records' findings).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD

from harvester.normalise import normalise
from harvester.parse import parse_feed
from harvester.shacl_sparql import (
    CompiledShapes,
    ShapeResult,
    UnsupportedShape,
    UntranslatableRegex,
    translate_regex,
)
from harvester.validate import rdflib_graph, shapes_graph

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "shapes").glob("*.ttl"))
FEEDS = [
    "amap-centre.jsonld",
    "energie-citoyenne.ttl",
    "boutiques-equitables.rdf",
    "repair-cafes.nt",
    "tiers-lieux.jsonld",
    "monnaies-locales.ttl",
    "ltc-collectif.ttl",
]

PREFIXES = """
@prefix ex: <https://ex.org/> .
@prefix schema: <https://schema.org/> .
@prefix ltc: <https://w3id.org/ltc/ns#> .
@prefix ltct: <https://w3id.org/ltc/theme/> .
@prefix ltcr: <https://w3id.org/ltc/role/> .
@prefix ltcp: <https://w3id.org/ltc/place-type/> .
@prefix ltcs: <https://w3id.org/ltc/convergence-status/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
"""


# ---------------------------------------------------------------------------
# Comparing the two engines
# ---------------------------------------------------------------------------


def _rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> URIRef | BNode | Literal:
    """The rdflib term harvester.validate.rdflib_graph makes of an oxigraph term."""
    return next(
        iter(rdflib_graph([ox.Triple(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), term)]))
    )[2]


def _key(term: object) -> tuple | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
        term = _rdflib(term)
    if isinstance(term, Literal):
        datatype = None if term.language else str(term.datatype or XSD.string)
        return ("literal", datatype, term.language, str(term))
    if isinstance(term, BNode):
        return ("blank", str(term))
    return ("iri", str(term))


def _shape_name(node: object) -> str:
    return f"_:{node}" if isinstance(node, BNode) else str(node)


def reference(triples: list[ox.Triple], shapes: Graph) -> set[tuple]:
    """pyshacl's results, as comparable tuples."""
    _conforms, report, _text = pyshacl.validate(
        rdflib_graph(triples),
        shacl_graph=shapes,
        inference="none",
        allow_infos=True,
        allow_warnings=True,
    )
    found = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        path = report.value(result, SH.resultPath)
        found.add(
            (
                _key(report.value(result, SH.focusNode)),
                _shape_name(report.value(result, SH.sourceShape)),
                str(report.value(result, SH.resultSeverity)),
                str(path) if isinstance(path, URIRef) else None,
                _key(report.value(result, SH.value)),
                str(report.value(result, SH.sourceConstraintComponent)),
            )
        )
    return found


def compiled_results(results: list[ShapeResult]) -> set[tuple]:
    return {
        (_key(r.focus), r.source_shape, r.severity, r.path, _key(r.value), r.component)
        for r in results
    }


def turtle(text: str) -> list[ox.Triple]:
    data = (PREFIXES + text).encode()
    return [q.triple for q in ox.parse(data, format=ox.RdfFormat.TURTLE)]


def unexplained(triples: list[ox.Triple], expected: set, got: set) -> list[str]:
    """The results only one engine gives, on (focus, shape, severity, path, value),
    that no departure of the allow-list explains (a literal it concerns sits on the
    result's focus node and it names the result's shape)."""
    from test_engine_differential import allow_list

    def project(results: set) -> set:
        return {r[:5] for r in results}

    left = []
    for side, results in (
        ("pyshacl only", project(expected) - project(got)),
        ("compiled only", project(got) - project(expected)),
    ):
        for focus, shape, severity, path, value in sorted(results, key=str):
            if not any(
                shape in d.constraints
                and any(t.subject.value == focus[1] and d.concerns(t, triples) for t in triples)
                for d in allow_list()
            ):
                left.append(f"{side}: {focus} {shape} {severity} {path} {value}")
    return left


def assert_explained(triples: list[ox.Triple], shapes: Graph, compiled: CompiledShapes) -> set:
    expected = reference(triples, shapes)
    got = compiled_results(compiled.validate_triples(triples))
    assert not unexplained(triples, expected, got)
    return got


def assert_same(triples: list[ox.Triple], shapes: Graph, compiled: CompiledShapes) -> set:
    expected = reference(triples, shapes)
    got = compiled_results(compiled.validate_triples(triples))
    assert got == expected, (
        f"pyshacl only: {sorted(expected - got, key=str)}\n"
        f"compiled only: {sorted(got - expected, key=str)}"
    )
    return got


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return shapes_graph()


@pytest.fixture(scope="module")
def compiled(shapes: Graph) -> CompiledShapes:
    return CompiledShapes.compile(shapes)


# ---------------------------------------------------------------------------
# (a) the shape fixtures
# ---------------------------------------------------------------------------


def test_fixtures_exist():
    assert len(FIXTURES) > 100


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_fixture(fixture: Path, shapes: Graph, compiled: CompiledShapes):
    triples = [q.triple for q in ox.parse(path=str(fixture), format=ox.RdfFormat.TURTLE)]
    got = assert_same(triples, shapes, compiled)
    if ".invalid" in fixture.name:
        constraint = "https://w3id.org/ltc/shapes#" + fixture.name.split(".")[0]
        assert any(r[1] == constraint for r in got)


# ---------------------------------------------------------------------------
# (b) the example feeds, parsed and normalised as the harvester does
# ---------------------------------------------------------------------------


@cache
def feed_triples(name: str) -> tuple[ox.Triple, ...]:
    source = Path(name).stem
    data = (ROOT / "examples" / "feeds" / name).read_bytes()
    base = f"tag:w3id.org,2026:ltc/relative/{source}/"
    return tuple(normalise(parse_feed(data, filename=name, base_iri=base), source))


@cache
def feed_reference(name: str) -> frozenset[tuple]:
    """pyshacl on a feed takes a second or two: once per feed for the whole module."""
    return frozenset(reference(list(feed_triples(name)), shapes_graph()))


@pytest.mark.parametrize("name", FEEDS)
def test_example_feed(name: str, compiled: CompiledShapes):
    expected = feed_reference(name)
    got = compiled_results(compiled.validate_triples(feed_triples(name)))
    assert got == expected, (
        f"pyshacl only: {sorted(expected - got, key=str)}\n"
        f"compiled only: {sorted(got - expected, key=str)}"
    )


def test_example_feeds_exercise_every_severity():
    severities = {r[2] for name in FEEDS for r in feed_reference(name)}
    assert severities == {str(SH.Violation), str(SH.Warning), str(SH.Info)}


def test_validate_a_store(compiled: CompiledShapes):
    """validate() reads the store's default graph; other graphs are ignored."""
    store = ox.Store()
    for t in feed_triples("repair-cafes.nt"):
        store.add(ox.Quad(t.subject, t.predicate, t.object))
    store.add(
        ox.Quad(
            ox.NamedNode("https://ex.org/other"),
            ox.NamedNode(str(RDF.type)),
            ox.NamedNode("https://schema.org/Place"),
            ox.NamedNode("https://ex.org/graph"),
        )
    )
    assert compiled_results(compiled.validate(store)) == feed_reference("repair-cafes.nt")


# ---------------------------------------------------------------------------
# (c) hand-written edge cases
# ---------------------------------------------------------------------------

EDGE_CASES = {
    "ill-typed-times-and-order": r"""
        ex:lieu a schema:Place ; schema:name "Horaires" ;
            schema:openingHoursSpecification ex:h1, ex:h2, ex:h3, ex:h4, ex:h5, ex:h6, ex:h7,
                ex:h8, ex:h9, ex:h10, ex:h11, ex:h12 .
        ex:h1 schema:dayOfWeek schema:Monday ; schema:opens "9h"^^xsd:time ; schema:closes "18:00:00"^^xsd:time .
        ex:h2 schema:dayOfWeek schema:Monday ; schema:opens "09:00"^^xsd:time ; schema:closes "18:00:00Z"^^xsd:time .
        ex:h3 schema:dayOfWeek schema:Monday ; schema:opens "09:00:00.5"^^xsd:time ; schema:closes "09:00:00.25"^^xsd:time .
        ex:h4 schema:dayOfWeek schema:Monday ; schema:opens "09:00:00+01:00"^^xsd:time ; schema:closes "08:30:00Z"^^xsd:time .
        ex:h5 schema:dayOfWeek schema:Monday ; schema:opens "25:00:00"^^xsd:time ; schema:closes "T10:00"^^xsd:time .
        ex:h6 schema:dayOfWeek schema:Monday ; schema:opens "09:00:00" ; schema:closes 18 .
        ex:h7 schema:dayOfWeek schema:Monday ; schema:opens ex:nine ; schema:closes ex:eight .
        ex:h8 schema:dayOfWeek schema:Monday ; schema:opens "18:00:00"^^xsd:time, "08:00:00"^^xsd:time ; schema:closes "12:00:00"^^xsd:time .
        ex:h9 schema:dayOfWeek schema:Monday ; schema:opens "2026-01-01T10:00:00"^^xsd:dateTime ; schema:closes "2026-01-01T09:00:00"^^xsd:dateTime .
        ex:h10 schema:dayOfWeek schema:Monday ; schema:opens 10 ; schema:closes 9 .
        ex:h11 schema:dayOfWeek schema:Monday ; schema:opens "b"@fr ; schema:closes "a" .
        ex:h12 schema:dayOfWeek schema:Monday ; schema:opens "12:00:00"^^xsd:time ; schema:closes "12:00:00"^^xsd:time .
    """,
    "ill-typed-dates": r"""
        ex:l1 a schema:Place ; schema:name "1" ; schema:dateModified "2026-02-30"^^xsd:date .
        ex:l2 a schema:Place ; schema:name "2" ; schema:dateModified "2026-01-01Z"^^xsd:date .
        ex:l3 a schema:Place ; schema:name "3" ; schema:dateModified "0000-01-01"^^xsd:date .
        ex:l4 a schema:Place ; schema:name "4" ; schema:dateModified "2026-01-01T10:00"^^xsd:dateTime .
        ex:l5 a schema:Place ; schema:name "5" ; schema:dateModified "2026-01-01T10:00:00.123456789+02:00"^^xsd:dateTime .
        ex:l6 a schema:Place ; schema:name "6" ; schema:dateModified "hier"^^xsd:dateTime .
        ex:l7 a schema:Place ; schema:name "7" ; schema:dateModified "2026-1-1"^^xsd:date .
        ex:l8 a schema:Place ; schema:name "8" ; schema:dateModified "2024-02-29"^^xsd:date, "2025-02-29"^^xsd:date .
        ex:l9 a schema:Place ; schema:name "9" ; schema:dateModified "2026-01-01T10:00:00-14:00"^^xsd:dateTime, "2026-01-01T10:00:00+15:00"^^xsd:dateTime .
        ex:l10 a schema:Place ; schema:name "10" ; schema:dateModified "2026-01-01" , "2026-01-01"@fr, 2026 .
        ex:l11 a schema:Place ; schema:name "11" ; schema:dateModified "10000-01-01"^^xsd:date, "2026-13-01"^^xsd:date .
        ex:lab a ltc:ConvergenceLabel ; ltc:place ex:l1 ; ltc:status ltcs:pilote ;
            ltc:charterDate "2026-01-01T00:00:00"^^xsd:dateTime, "2026-06-31"^^xsd:date, "2026-06-30"^^xsd:date .
        ex:ev a schema:Event ; schema:name "Fête" ; schema:location ex:l1 ; schema:startDate "2026-06-21T25:00:00"^^xsd:dateTime .
    """,
    "coordinates": r"""
        ex:lieu a schema:Place ; schema:name "Coordonnées" ;
            schema:geo ex:g1, ex:g2, ex:g3, ex:g4, ex:g5, ex:g6, ex:g7, ex:g8, ex:g9, ex:g10,
                ex:g11, ex:g12, ex:g13, ex:g14, ex:g15, ex:g16, ex:g17, ex:g18, ex:g19, ex:g20, ex:g21 .
        ex:g1 schema:latitude "45.2" ; schema:longitude "4,8" .
        ex:g2 schema:latitude "abc"^^xsd:decimal ; schema:longitude "1.5E0"^^xsd:decimal .
        ex:g3 schema:latitude " 45"^^xsd:integer ; schema:longitude "INF"^^xsd:double .
        ex:g4 schema:latitude "-INF"^^xsd:double ; schema:longitude "-INF"^^xsd:float .
        ex:g5 schema:latitude 90 ; schema:longitude -180 .
        ex:g6 schema:latitude 90.0e0 ; schema:longitude 180.0000000001 .
        ex:g7 schema:latitude 90.0000001 ; schema:longitude "-180.0"^^xsd:float .
        ex:g8 schema:latitude 51.2e0 ; schema:longitude 2.0 .
        ex:g9 schema:latitude 41.2e0 ; schema:longitude -5.3e0 .
        ex:g10 schema:latitude 51.2 ; schema:longitude 9.7 .
        ex:g11 schema:latitude true ; schema:longitude "45"@fr .
        ex:g12 schema:latitude ex:lat ; schema:longitude [ schema:value 4 ] .
        ex:g13 schema:latitude "1e400"^^xsd:double ; schema:longitude "99999999999999999999"^^xsd:integer .
        ex:g14 schema:latitude "45.764"^^xsd:float ; schema:longitude "4.835"^^xsd:float .
        ex:g15 schema:latitude "41.2"^^xsd:float ; schema:longitude "9.7"^^xsd:float .
        ex:g16 schema:latitude "45"^^xsd:int ; schema:longitude "4"^^xsd:byte .
        ex:g17 schema:latitude "300"^^xsd:byte ; schema:longitude "-5"^^xsd:nonNegativeInteger .
        ex:g18 schema:latitude "2026-01-01"^^xsd:date ; schema:longitude "PT1H"^^xsd:duration .
        ex:g19 schema:latitude -21.0 ; schema:longitude 55.5 .
        ex:g20 schema:latitude 16.0 ; schema:longitude -61.5, -61.6 .
        ex:g21 schema:latitude 45.0, 45.0e0 .
    """,
    "names": r"""
        ex:p1 a schema:Place ; schema:name "   " ; schema:geo ex:g .
        ex:p2 a schema:Place ; schema:name "\t\n" ; schema:geo ex:g .
        ex:p3 a schema:Place ; schema:name "\u00A0" ; schema:geo ex:g .
        ex:p4 a schema:Place ; schema:name "\u2003"@fr ; schema:geo ex:g .
        ex:p5 a schema:Place ; schema:name "\u001C\u001F" ; schema:geo ex:g .
        ex:p6 a schema:Place ; schema:name "" ; schema:geo ex:g .
        ex:p7 a schema:Place ; schema:name "Épicerie Ünïcödé 日本 🌱"@fr ; schema:geo ex:g .
        ex:p8 a schema:Place ; schema:name ex:nom ; schema:geo ex:g .
        ex:p9 a schema:Place ; schema:name 42 ; schema:geo ex:g .
        ex:p10 a schema:Place ; schema:name "  x  "^^xsd:token ; schema:geo ex:g .
        ex:p11 a schema:Place ; schema:name "\u0085" ; schema:geo ex:g .
        ex:p12 a schema:Place ; schema:name "\u200B", "\u180E" ; schema:geo ex:g .
        ex:p13 a schema:Place ; schema:name ""@fr, " "@en ; schema:geo ex:g .
        ex:p15 a schema:Place ; schema:name " "@FR, "Ça"@fr-CA ; schema:geo ex:g .
        ex:p14 a schema:Place ; schema:name "quote \" and backslash \\", "x\u0001y" ; schema:geo ex:g .
        ex:o1 a schema:Organization ; schema:name "\u3000" ; schema:memberOf ex:net .
        ex:net a ltc:Network ; schema:name "\r\n" .
        ex:ev a schema:Event ; schema:name "Réunion « publique »" ; schema:startDate "2026-01-01"^^xsd:date ; schema:location ex:p1 .
        ex:g schema:latitude 45.0 ; schema:longitude 4.0 .
    """,
    "place-and-organisation": r"""
        ex:both a schema:Place, schema:Organization ; schema:name "Les deux" ;
            schema:memberOf ex:net ; schema:telephone "0123456789" ; schema:email "pas un courriel" ;
            schema:url "https://ex.org/site" ; schema:dateModified "2026-01-01"^^xsd:date ;
            ltc:theme ltct:alimentation .
        ex:net a ltc:Network, schema:Organization ; schema:name "Réseau" .
    """,
    "in-with-literals": r"""
        ex:p a schema:Place ; schema:name "Thèmes" ; schema:geo ex:g ;
            ltc:theme "alimentation", ltct:alimentation, ltct:inconnu, "alimentation"@fr, [ a ltct:x ] ;
            ltc:placeType ltcp:boutique, "boutique", <http://w3id.org/ltc/place-type/ferme> ;
            schema:openingHoursSpecification ex:h .
        ex:h schema:dayOfWeek "lundi", schema:Monday, <http://schema.org/Monday> ;
            schema:opens "09:00:00"^^xsd:time ; schema:closes "12:00:00"^^xsd:time .
        ex:g schema:latitude 45.0 ; schema:longitude 4.0 .
        ex:pr a ltc:Presence ; ltc:organisation "org" ; ltc:place ex:p, ex:q ; ltc:role "siege", ltcr:siege, ltcr:cuisine .
        ex:lab a ltc:ConvergenceLabel ; ltc:place "lieu" ; ltc:status "candidat" .
        ex:lab2 a ltc:ConvergenceLabel ; ltc:place ex:p ; ltc:status ltcs:candidat, ltcs:pilote .
        ex:o a schema:Organization ; schema:name "O" ; schema:memberOf "réseau", [ schema:name "R" ] .
        ex:ev a schema:Event ; schema:name "E" ; schema:startDate "2026-01-01"^^xsd:date, "2026-01-02"^^xsd:date ; schema:location "ici" .
    """,
    "patterns": r"""
        ex:p a schema:Place ; schema:name "Motifs" ; schema:address ex:a1, ex:a2, ex:a3, ex:a4, ex:a5, ex:a6 ;
            schema:telephone "+33123456789\n", "+33 1 23 45 67 89", "+٣٣١٢٣٤٥٦٧٨٩", +33123456789 ;
            schema:email "é@exemple.fr", "a@b.c\n", "a@b@c.fr", "a b@c.fr" ;
            schema:url <ftp://ex.org/>, "https://ex.org/", <https://ex.org/é>, <HTTPS://EX.ORG/>, [ schema:value "u" ] .
        ex:a1 schema:postalCode "75001\n" ; ltc:inseeCode "75056\n" ; schema:addressLocality "Paris" .
        ex:a2 schema:postalCode "7500١" ; ltc:inseeCode "2A004" .
        ex:a3 schema:postalCode 75001 ; ltc:inseeCode "2B0001" .
        ex:a4 schema:postalCode "75001"@fr ; ltc:inseeCode "20004" .
        ex:a5 schema:postalCode "\n75001" ; ltc:inseeCode 69123 .
        ex:a6 schema:postalCode ex:cp ; ltc:inseeCode "69123 " .
        ex:o a schema:Organization ; schema:name "O" ; schema:memberOf ex:net ;
            ltc:siret 12345678901234, "1234567890123４", "12345678901234\n" ;
            ltc:rna "W751234567", "w751234567", "W75123456" .
    """,
    "literal-and-blank-focus-nodes": r"""
        ex:p a schema:Place ; schema:name "Nœuds" ; schema:geo "45.2,4.8", [ schema:latitude 45.0 ; schema:longitude 4.0 ] ;
            schema:address "1 rue de la Paix", [ schema:postalCode "7500" ] ;
            schema:openingHoursSpecification "lun-ven 9h-18h", [ schema:dayOfWeek schema:Friday ] .
    """,
    "same-as-alternative-path": r"""
        ex:p1 a schema:Place ; schema:name "A" ; schema:geo ex:g ; schema:sameAs ex:x ; owl:sameAs ex:x .
        ex:p2 a schema:Place ; schema:name "B" ; schema:geo ex:g ; owl:sameAs "x" .
        ex:p3 a schema:Place ; schema:name "C" ; schema:address [ schema:postalCode "75001" ] ; schema:sameAs ex:y .
        ex:p4 a schema:Place ; schema:name "D" ; schema:address [ schema:addressLocality "Lyon" ], [ schema:postalCode 69001 ] .
        ex:g schema:latitude 45.0 ; schema:longitude 4.0 .
    """,
    "subclasses-in-the-data": r"""
        ex:Shop rdfs:subClassOf schema:Place . ex:Kiosk rdfs:subClassOf ex:Shop .
        ex:k a ex:Kiosk ; schema:name "" .
        ex:Coop rdfs:subClassOf schema:Organization .
        ex:c a ex:Coop ; schema:name "Coop" .
    """,
    "records-without-anything": r"""
        ex:p a schema:Place . ex:o a schema:Organization . ex:n a ltc:Network .
        ex:pr a ltc:Presence . ex:e a schema:Event . ex:l a ltc:ConvergenceLabel .
        ex:thing a schema:Thing ; schema:name "" .
    """,
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_case(case: str, shapes: Graph, compiled: CompiledShapes):
    got = assert_explained(turtle(EDGE_CASES[case]), shapes, compiled)
    assert got  # every case is about something reported


def test_blank_nodes_keep_their_identity(compiled: CompiledShapes):
    """Results name the caller's blank nodes; any iterable of triples will do."""
    triples = turtle(
        'ex:p a schema:Place ; schema:name "P" ; schema:address [ schema:postalCode "1" ] .'
    )
    address = next(t.object for t in triples if t.predicate.value == "https://schema.org/address")
    focus = {r.focus for r in compiled.validate_triples(iter(triples))}
    assert address in focus


def test_empty_feed(shapes: Graph, compiled: CompiledShapes):
    assert compiled.validate_triples([]) == []
    assert reference([], shapes) == set()


STORE_REWRITES = """
    ex:p a schema:Place ; schema:name "P" ; schema:geo ex:g ; schema:address ex:a ;
        schema:openingHoursSpecification ex:h .
    ex:h schema:dayOfWeek schema:Monday ; schema:opens "24:00:00"^^xsd:time ;
        schema:closes "23:00:00"^^xsd:time .
    ex:a schema:postalCode 75001.0 ; schema:addressLocality "Paris" .
    ex:g schema:latitude " 5"^^xsd:integer, "5"^^xsd:integer ; schema:longitude "4"^^xsd:int .
"""


def _short(results: set) -> set:
    return {(r[1].split("#")[1], r[5].split("#")[1]) for r in results}


def _differences(expected: set, got: set) -> tuple[set, set]:
    return _short(expected - got), _short(got - expected)


def test_literals_are_read_as_written(shapes: Graph, compiled: CompiledShapes):
    """What the store would rewrite is read as the feed wrote it (the specification):

    * "75001.0"^^xsd:decimal (the store keeps "75001") fails ^[0-9]{5}$;
    * " 5"^^xsd:integer and "5"^^xsd:integer are two values (sh:maxCount 1); " 5" is
      not in the lexical space of xsd:integer (sh:datatype in sh:or, and no number to
      compare with the bounds);
    * "4"^^xsd:int is not an xsd:integer for sh:datatype (the store makes it one);
    * "24:00:00"^^xsd:time is a time, midnight (the store makes it "00:00:00"), before
      23:00:00. pyshacl (rdflib) refuses it: the `rdflib-lexical-space` departure.
    """
    triples = turtle(STORE_REWRITES)
    expected = reference(triples, shapes)
    got = compiled_results(compiled.validate_triples(triples))
    assert {
        ("Address-postalCode", "PatternConstraintComponent"),
        ("Geo-latitude", "MaxCountConstraintComponent"),
        ("Geo-latitude", "OrConstraintComponent"),
        ("Geo-latitude", "MinInclusiveConstraintComponent"),
        ("Geo-latitude", "MaxInclusiveConstraintComponent"),
        ("Geo-longitude", "OrConstraintComponent"),
    } <= _short(got)
    assert not {c for c, _ in _short(got)} & {"Hours-opens", "Hours-order"}
    assert _differences(expected, got) == (
        {
            ("Hours-opens", "DatatypeConstraintComponent"),
            ("Hours-order", "LessThanConstraintComponent"),
        },
        {
            ("Geo-latitude", "OrConstraintComponent"),
            ("Geo-latitude", "MinInclusiveConstraintComponent"),
            ("Geo-latitude", "MaxInclusiveConstraintComponent"),
        },
    )
    assert not unexplained(triples, expected, got)


def test_validate_ntriples_reads_literals_as_written(compiled: CompiledShapes):
    """The harvester's way in (N-Triples lines) gives what validate_triples gives, and a
    string that contains datatype-like text stays that string: two such strings are two
    values, and results give them back unchanged."""
    kept = "urn:x-ltc-shacl:kept-datatype:"
    triples = turtle(
        STORE_REWRITES
        + f"""
        ex:ev a schema:Event ; schema:name "E" ; schema:location ex:p ;
            schema:startDate "2026-06-21^^<{XSD}int>", "2026-06-21^^<{kept}{XSD}int>" .
        ex:ev2 a schema:Event ; schema:name "F" ; schema:location ex:p ;
            schema:startDate "2026-06-21\\"^^<{XSD}int> ." .
        """
    )
    lines = "".join(f"{t} .\n" for t in triples).encode()
    from_lines = compiled_results(compiled.validate_ntriples(lines))
    assert from_lines == compiled_results(compiled.validate_triples(triples))
    values = {r[4][3] for r in from_lines if r[1].endswith("#Event-startDate") and r[4]}
    assert values == {
        f"2026-06-21^^<{XSD}int>",
        f"2026-06-21^^<{kept}{XSD}int>",
        f'2026-06-21"^^<{XSD}int> .',
    }
    counts = {r[0][1] for r in from_lines if r[5].endswith("#MaxCountConstraintComponent")}
    assert counts == {"https://ex.org/ev", "https://ex.org/g"}


def test_written_forms_round_trip():
    from harvester.shacl_sparql import keep_written_forms, kept, written, written_forms

    lines = (
        b'<urn:s> <urn:p> "45.50"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
        b'<urn:s> <urn:p> "x^^<http://www.w3.org/2001/XMLSchema#int> ." .\n'
        b'<urn:s> <urn:p> "x"^^<http://www.w3.org/2001/XMLSchema#string> .\n'
        b'<urn:s> <urn:p> "x"@fr .\n'
    )
    encoded = keep_written_forms(lines)
    assert encoded.count(b"kept-datatype") == 1
    assert written_forms(encoded) == lines
    store = ox.Store()
    store.bulk_load(encoded, format=ox.RdfFormat.N_TRIPLES)
    assert {str(written(q.object)) for q in store} == {
        str(q.object) for q in ox.parse(lines, format=ox.RdfFormat.N_TRIPLES)
    }
    literal = ox.Literal("2026-01-01T10:00:00Z", datatype=ox.NamedNode(f"{XSD}dateTimeStamp"))
    assert written(kept(literal)) == literal and kept(literal) != literal


@pytest.mark.parametrize(
    ("lexical", "datatype", "ok"),
    [
        ("45", "integer", True),
        (" 45", "integer", False),
        ("+45", "integer", True),
        ("1_0", "integer", False),
        ("٤٥", "integer", False),
        ("45.50", "decimal", True),
        (".5", "decimal", True),
        ("1.5E0", "decimal", False),
        ("1.5E0", "double", True),
        ("+INF", "float", True),
        ("inf", "double", False),
        ("NaN", "double", True),
        ("300", "byte", False),
        ("127", "byte", True),
        ("-5", "nonNegativeInteger", False),
        ("2024-02-29", "date", True),
        ("2026-02-29", "date", False),
        ("2026-04-31", "date", False),
        ("0000-02-29", "date", True),
        ("10000-01-01", "date", True),
        ("2026-01-01Z", "date", True),
        ("20260101", "date", False),
        ("2026-01-01T10:00", "dateTime", False),
        ("2026-01-01T24:00:00", "dateTime", True),
        ("2026-01-01T10:00:00+15:00", "dateTime", False),
        ("2026-01-01T10:00:00", "dateTimeStamp", False),
        ("2026-01-01T10:00:00Z", "dateTimeStamp", True),
        ("24:00:00", "time", True),
        ("24:00:01", "time", False),
        ("09:00", "time", False),
        ("1", "boolean", True),
        ("TRUE", "boolean", False),
        (" x ", "token", True),
    ],
)
def test_lexical_spaces_are_xml_schema_ones(lexical: str, datatype: str, ok: bool):
    from harvester.shacl_sparql import well_formed

    assert well_formed(lexical, str(XSD) + datatype) is ok


def test_validate_a_store_sees_what_the_store_keeps(shapes: Graph, compiled: CompiledShapes):
    """validate() on a store loaded elsewhere sees the store's canonical forms:
    75001.0 as 75001, xsd:int as xsd:integer, 24:00:00 as 00:00:00."""
    triples = turtle(STORE_REWRITES)
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    got = _short(compiled_results(compiled.validate(store)))
    written = _short(compiled_results(compiled.validate_triples(triples)))
    assert written - got == {
        ("Address-postalCode", "PatternConstraintComponent"),
        ("Geo-longitude", "OrConstraintComponent"),
    }
    assert got <= written


@pytest.mark.parametrize(
    ("data", "constraint", "component"),
    [
        (
            'ex:p a schema:Place ; schema:geo ex:g . ex:g schema:latitude "NaN"^^xsd:double ; schema:longitude 4.0 .',
            "Geo-latitude",
            "MinInclusiveConstraintComponent",
        ),
        (
            "ex:p a schema:Place ; schema:openingHoursSpecification ex:h . "
            'ex:h schema:opens [ schema:value 9 ] ; schema:closes "18:00:00"^^xsd:time .',
            "Hours-order",
            "LessThanConstraintComponent",
        ),
    ],
)
def test_where_pyshacl_fails_a_violation_is_reported(
    data: str, constraint: str, component: str, shapes: Graph, compiled: CompiledShapes
):
    """pyshacl raises (decimal.InvalidOperation, ReportableRuntimeError) on these."""
    triples = turtle(data)
    with pytest.raises(Exception):  # noqa: B017 - whatever pyshacl raises
        reference(triples, shapes)
    got = compiled_results(compiled.validate_triples(triples))
    assert (constraint, component) in {(r[1].split("#")[1], r[5].split("#")[1]) for r in got}


# Constructs the registry's shapes do not use (yet) but the engine supports.
GENERIC_SHAPES = r"""
ex:ThingShape a sh:NodeShape ;
    sh:targetClass ex:Thing ;
    sh:targetObjectsOf ex:part ;
    sh:property [ sh:path ex:tag ; sh:minCount 2 ; sh:maxCount 3 ; sh:pattern "^[a-z]+$" ; sh:flags "i" ] ,
        [ sh:path ex:code ; sh:in ( "A" "B" 1 ex:c ) ; sh:minLength 2 ] ,
        [ sh:path ex:part ; sh:qualifiedValueShape [ sh:path ex:ok ; sh:minCount 1 ] ; sh:qualifiedMinCount 2 ] ,
        [ sh:path ex:part ; sh:property [ sh:path ex:weight ; sh:maxInclusive "2026-01-01"^^xsd:date ] ] ,
        ex:Thing-kind , ex:Thing-off , ex:Thing-not .
ex:Thing-kind a sh:PropertyShape ; sh:path ex:link ; sh:nodeKind sh:BlankNodeOrIRI ; sh:severity sh:Info .
ex:Thing-off a sh:PropertyShape ; sh:path ex:tag ; sh:maxCount 0 ; sh:deactivated true .
ex:Thing-not a sh:PropertyShape ; sh:path ex:weight ; sh:not [ sh:datatype xsd:integer ] ; sh:maxCount 0 ;
    sh:severity sh:Warning .
ex:Other a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:or ( [ sh:nodeKind sh:IRI ; sh:pattern "one" ] [ sh:path ex:tag ; sh:minCount 3 ] ) ;
    sh:not [ sh:path ex:code ; sh:minLength 10 ] .
"""

GENERIC_DATA = r"""
ex:one a ex:Thing ; ex:tag "abc", "DEF", "g1" ; ex:code "A", "B", 1, 1.5, ex:c, "c" ;
    ex:part ex:two, ex:three, "lit" ; ex:link "lien", ex:l, [ ex:x 1 ] ; ex:weight 3 .
ex:two ex:ok true ; ex:weight "2025-12-31"^^xsd:date, "2026-06-01"^^xsd:date, 1 .
ex:three ex:ok false ; ex:tag "x" ; ex:code "longer than ten characters" .
_:b a ex:Thing ; ex:tag "a", "b", "c", "d" .
ex:four a ex:Thing ; ex:tag "q" .
"""


def test_generic_constructs_match_pyshacl():
    shapes = Graph().parse(data=PREFIXES + GENERIC_SHAPES, format="turtle")
    got = assert_same(turtle(GENERIC_DATA), shapes, CompiledShapes.compile(shapes))
    components = {r[5].split("#")[1] for r in got}
    assert {
        "MinCountConstraintComponent",
        "MaxCountConstraintComponent",
        "PatternConstraintComponent",
        "InConstraintComponent",
        "MinLengthConstraintComponent",
        "QualifiedMinCountConstraintComponent",
        "MaxInclusiveConstraintComponent",
        "NodeKindConstraintComponent",
        "NotConstraintComponent",
        "OrConstraintComponent",
    } <= components


# ---------------------------------------------------------------------------
# (d) what the engine refuses
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "construct"),
    [
        (
            """ex:S a sh:NodeShape ; sh:targetClass ex:C ;
               sh:sparql [ sh:select "SELECT $this WHERE { $this ex:p ?o }" ] .""",
            "sh:sparql",
        ),
        ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true .", "sh:closed"),
        (
            "ex:S a sh:NodeShape ; sh:targetNode ex:x ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
            "sh:targetNode",
        ),
        (
            "ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ( ex:p ex:q ) ; sh:minCount 1 .",
            "sh:path",
        ),
        (
            "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:T . ex:T sh:datatype xsd:string .",
            "sh:node",
        ),
    ],
)
def test_unsupported_constructs(shape: str, construct: str):
    with pytest.raises(UnsupportedShape) as raised:
        CompiledShapes.compile(Graph().parse(data=PREFIXES + shape, format="turtle"))
    assert "https://ex.org/S" in str(raised.value)
    assert construct in str(raised.value)


def test_unsupported_construct_in_the_registry_shapes(shapes: Graph):
    broken = Graph()
    for triple in shapes:
        broken.add(triple)
    broken.add(
        (
            URIRef("https://w3id.org/ltc/shapes#Place-name"),
            SH.closed,
            Literal(True),
        )
    )
    with pytest.raises(UnsupportedShape, match="Place-name: sh:closed"):
        CompiledShapes.compile(broken)


# ---------------------------------------------------------------------------
# Regular expressions: Python's dialect translated to the store's
# ---------------------------------------------------------------------------

PATTERNS = [
    r"\S",
    r"^[0-9]{5}$",
    r"^([013-9][0-9]|2[AB1-9])[0-9]{3}$",
    r"^\+[1-9][0-9]{6,14}$",
    r"^[^@\s:]+@[^@\s]+\.[^@\s]+$",
    r"^https?://",
    r"^[0-9]{14}$",
    r"^W[0-9A-Z][0-9]{8}$",
    r"^a$|^b$",
    r"[\s\d]+x",
    r"\w+é",
    r"[^\S]",
    r"a{,2}b",
    r"a{}",
    r"a{,}",
    r"x\.y",
    r"[]a]",
    r"[^]a]",
    r"\Aab\Z",
    r"é+",
    r"\D\W",
    r"[\x41-\x43]",
]
STRINGS = [
    "",
    " ",
    "\t",
    "\n",
    "\u00a0",
    "\u001c",
    "\u0085",
    "\u180e",
    "\u200b",
    "\u3000",
    "75001",
    "75001\n",
    "\n75001",
    "7500١",
    "2A004",
    "+33123456789",
    "+33123456789\n",
    "a@b.c",
    "é@exemple.fr",
    "https://ex.org/",
    "HTTPS://EX.ORG/",
    "W751234567",
    "a",
    "b",
    "a\n",
    "ab",
    "ab\n",
    "aab",
    "a{}",
    "x.y",
    "xzy",
    "]",
    "1 x",
    "__é",
    "ééé",
    "A",
    "D",
    "日本",
    "🌱",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_translated_regex_matches_like_python(pattern: str):
    import re

    translated = translate_regex(pattern)
    store = ox.Store()
    values = " ".join(str(ox.Literal(s)) for s in STRINGS)
    query = f"SELECT ?s (REGEX(?s, {ox.Literal(translated)}) AS ?m) WHERE {{ VALUES ?s {{ {values} }} }}"
    rust = {row["s"].value: row["m"].value == "true" for row in store.query(query)}
    python = {s: re.search(pattern, s) is not None for s in STRINGS}
    assert rust == python


@pytest.mark.parametrize("pattern", [r"(?=a)", r"\bword", r"(a)\1", r"a*+", r"(?i)a", r"(a$)"])
def test_untranslatable_regex(pattern: str):
    with pytest.raises(UntranslatableRegex):
        translate_regex(pattern)
