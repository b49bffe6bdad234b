"""Tests of the SHACL shapes (shapes/ltc-shapes.ttl) against docs/data-model.md.

Every constraint of the "Constraints" table is one shape whose IRI is the
constraint id. For each one, tests/fixtures/shapes/ holds at least one valid
fixture (``{id}.valid*.ttl``) and one invalid fixture (``{id}.invalid*.ttl``);
``CASES`` says which focus node(s), result path and severity the invalid
fixtures must produce.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pyshacl import validate
from pyshacl.entrypoints import meta_validate
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, SH

ROOT = Path(__file__).resolve().parent.parent
SHAPES_FILE = ROOT / "shapes" / "ltc-shapes.ttl"
CONTEXT_FILE = ROOT / "ontology" / "context.jsonld"
DATA_MODEL = ROOT / "docs" / "data-model.md"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shapes"

SCHEMA = Namespace("https://schema.org/")
LTC = Namespace("https://w3id.org/ltc/ns#")
LTCSH = Namespace("https://w3id.org/ltc/shapes#")
EX = Namespace("https://ex.org/")

PLACE = EX["lieu/1"]
GEO = EX["geo/1"]
ADDRESS = EX["adresse/1"]
HOURS = EX["horaires/1"]
ORG = EX["organisation/1"]
NETWORK = EX["reseau/1"]
PRESENCE = EX["presence/1"]
EVENT = EX["evenement/1"]
LABEL = EX["label/1"]
ALL_RECORDS = (PLACE, ORG, NETWORK, PRESENCE, EVENT, LABEL)

# An alternative path, written ("alt", (p1, p2, …)); None: the shape has no path.
SAME_AS_PATH = ("alt", (SCHEMA.sameAs, OWL.sameAs))

# constraint id -> (focus nodes every invalid fixture must report, resultPath, severity)
CASES: dict[str, tuple[tuple[URIRef, ...], object, URIRef]] = {
    "Place-name": ((PLACE,), SCHEMA.name, SH.Violation),
    "Place-location": ((PLACE,), None, SH.Violation),
    "Place-geo-count": ((PLACE,), SCHEMA.geo, SH.Violation),
    "Place-address-node": ((PLACE,), SCHEMA.address, SH.Violation),
    "Geo-latitude": ((GEO,), SCHEMA.latitude, SH.Violation),
    "Geo-longitude": ((GEO,), SCHEMA.longitude, SH.Violation),
    "Geo-france": ((GEO,), None, SH.Warning),
    "Address-postalCode": ((ADDRESS,), SCHEMA.postalCode, SH.Violation),
    "Address-locality": ((ADDRESS,), SCHEMA.addressLocality, SH.Warning),
    "Address-inseeCode": ((ADDRESS,), LTC.inseeCode, SH.Violation),
    "Place-theme": ((PLACE,), LTC.theme, SH.Warning),
    "Place-themeValue": ((PLACE,), LTC.theme, SH.Warning),
    "Place-placeType": ((PLACE,), LTC.placeType, SH.Warning),
    "Place-openingHours": ((PLACE,), SCHEMA.openingHoursSpecification, SH.Info),
    "Place-sameAs": ((PLACE,), SAME_AS_PATH, SH.Info),
    "Record-dateModified": (ALL_RECORDS, SCHEMA.dateModified, SH.Warning),
    "Record-dateModifiedType": (ALL_RECORDS, SCHEMA.dateModified, SH.Violation),
    "Contact-telephone": ((PLACE, ORG), SCHEMA.telephone, SH.Warning),
    "Contact-email": ((PLACE, ORG), SCHEMA.email, SH.Warning),
    "Contact-url": (ALL_RECORDS, SCHEMA.url, SH.Warning),
    "Hours-dayOfWeek": ((HOURS,), SCHEMA.dayOfWeek, SH.Violation),
    "Hours-opens": ((HOURS,), SCHEMA.opens, SH.Violation),
    "Hours-closes": ((HOURS,), SCHEMA.closes, SH.Violation),
    "Hours-order": ((HOURS,), SCHEMA.opens, SH.Warning),
    "Organization-name": ((ORG,), SCHEMA.name, SH.Violation),
    "Organization-network": ((ORG,), SCHEMA.memberOf, SH.Violation),
    "Organization-theme": ((ORG,), LTC.theme, SH.Warning),
    "Organization-siret": ((ORG,), LTC.siret, SH.Warning),
    "Organization-rna": ((ORG,), LTC.rna, SH.Warning),
    "Network-name": ((NETWORK,), SCHEMA.name, SH.Violation),
    "Presence-organisation": ((PRESENCE,), LTC.organisation, SH.Violation),
    "Presence-place": ((PRESENCE,), LTC.place, SH.Violation),
    "Presence-role": ((PRESENCE,), LTC.role, SH.Warning),
    "Presence-roleValue": ((PRESENCE,), LTC.role, SH.Violation),
    "Event-name": ((EVENT,), SCHEMA.name, SH.Violation),
    "Event-startDate": ((EVENT,), SCHEMA.startDate, SH.Violation),
    "Event-location": ((EVENT,), SCHEMA.location, SH.Violation),
    "Label-place": ((LABEL,), LTC.place, SH.Violation),
    "Label-status": ((LABEL,), LTC.status, SH.Violation),
    "Label-charterDate": ((LABEL,), LTC.charterDate, SH.Warning),
}

# JSON-LD context key whose scoped context defines the short names -> shape with the sh:in list
VOCAB_SHAPES = {
    "themes": "Place-themeValue",
    "role": "Presence-roleValue",
    "typeLieu": "Place-placeType",
    "statut": "Label-status",
    "jours": "Hours-dayOfWeek",
}

SEVERITY_LETTERS = {"V": SH.Violation, "W": SH.Warning, "I": SH.Info}

FIXTURE_NAME = re.compile(
    r"^(?P<id>[A-Za-z]+-[A-Za-z-]+?)\.(?P<kind>valid|invalid)(?:-[a-z0-9-]+)?$"
)


def _fixtures(kind: str) -> list[tuple[str, Path]]:
    out = []
    for path in sorted(FIXTURES.glob("*.ttl")):
        m = FIXTURE_NAME.match(path.stem)
        assert m, f"badly named fixture {path.name}"
        if m["kind"] == kind:
            out.append((m["id"], path))
    return out


VALID = _fixtures("valid")
INVALID = _fixtures("invalid")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES_FILE, format="turtle")


def _constraints(shapes: Graph) -> set[URIRef]:
    """Shapes carrying a severity, i.e. the constraints (code-level rules excluded)."""
    return {
        s
        for s in shapes.subjects(SH.severity, None)
        if isinstance(s, URIRef) and (s, RDF.type, LTC.CodeRule) not in shapes
    }


def _run(shapes: Graph, data_file: Path) -> Graph:
    data = Graph().parse(data_file, format="turtle")
    _, results, _ = validate(
        data, shacl_graph=shapes, inference="none", allow_warnings=True, allow_infos=True
    )
    return results


def _results(report: Graph) -> list[dict]:
    out = []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        out.append(
            {
                "shape": report.value(r, SH.sourceShape),
                "focus": report.value(r, SH.focusNode),
                "path": _path(report, report.value(r, SH.resultPath)),
                "severity": report.value(r, SH.resultSeverity),
            }
        )
    return out


def _path(g: Graph, node):
    """A result path as an IRI, ("alt", (…)) for an alternative path, or None."""
    if isinstance(node, BNode):
        alt = g.value(node, SH.alternativePath)
        if alt is not None:
            return ("alt", tuple(Collection(g, alt)))
        raise AssertionError(f"unexpected complex path {list(g.predicate_objects(node))}")
    return node


@pytest.mark.parametrize(("cid", "path"), INVALID, ids=[p.stem for _, p in INVALID])
def test_invalid_fixture_reports_the_constraint(shapes, cid, path):
    focus_nodes, result_path, severity = CASES[cid]
    results = _results(_run(shapes, path))
    mine = [r for r in results if r["shape"] == LTCSH[cid]]
    for focus in focus_nodes:
        assert any(
            r["focus"] == focus and r["path"] == result_path and r["severity"] == severity
            for r in mine
        ), f"no {cid} result on {focus} (path {result_path}, {severity}); got {mine}"
    assert all(r["severity"] == severity for r in mine)
    others = [r for r in results if r["shape"] != LTCSH[cid] and r["severity"] == SH.Violation]
    assert not others, f"the fixture should only break {cid}, but also: {others}"


@pytest.mark.parametrize(("cid", "path"), VALID, ids=[p.stem for _, p in VALID])
def test_valid_fixture_passes_the_constraint(shapes, cid, path):
    results = _results(_run(shapes, path))
    assert not [r for r in results if r["shape"] == LTCSH[cid]]
    assert not [r for r in results if r["severity"] == SH.Violation]


def test_every_constraint_has_fixtures_and_a_case(shapes):
    ids = {str(s).removeprefix(str(LTCSH)) for s in _constraints(shapes)}
    assert ids == set(CASES), "CASES and the shapes file disagree"
    assert ids - {cid for cid, _ in VALID} == set(), "constraints without a valid fixture"
    assert ids - {cid for cid, _ in INVALID} == set(), "constraints without an invalid fixture"
    assert {cid for cid, _ in VALID + INVALID} <= ids, "fixtures for unknown constraints"


def test_severities_match_cases(shapes):
    for cid, (_, _, severity) in CASES.items():
        assert list(shapes.objects(LTCSH[cid], SH.severity)) == [severity], cid


def test_constraints_match_the_data_model_table(shapes):
    """ids and severities of the shapes file = the Constraints table of data-model.md."""
    text = DATA_MODEL.read_text(encoding="utf-8")
    table = text.split("## Constraints", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for line in table.splitlines():
        m = re.match(r"^\|\s*`ltcsh:([^`]+)`\s*\|.*\|\s*([VWI])\s*\|\s*$", line)
        if m:
            documented[m[1]] = SEVERITY_LETTERS[m[2]]
    assert len(documented) > 30
    in_shapes = {
        str(s).removeprefix(str(LTCSH)): shapes.value(s, SH.severity) for s in _constraints(shapes)
    }
    assert in_shapes == documented
    assert "ltcsh:Cascade" in text
    assert (LTCSH.Cascade, RDF.type, LTC.CodeRule) in shapes


def test_every_constraint_has_one_message_per_language(shapes):
    rules = _constraints(shapes) | {LTCSH.Cascade}
    for s in rules:
        messages = list(shapes.objects(s, SH.message))
        langs = sorted(m.language for m in messages if isinstance(m, Literal))
        assert langs == ["en", "fr"], f"{s}: {messages}"
        assert all(str(m).strip() for m in messages), s


def test_code_rule_is_not_a_shape(shapes):
    assert (LTCSH.Cascade, RDF.type, SH.NodeShape) not in shapes
    assert (LTCSH.Cascade, RDF.type, SH.PropertyShape) not in shapes
    assert (LTCSH.Cascade, SH.severity, SH.Violation) in shapes
    shape_predicates = {p for p in shapes.predicates(LTCSH.Cascade, None)}
    assert shape_predicates <= {RDF.type, SH.severity, SH.message, *_RDFS_DOC}


_RDFS_DOC = {
    URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
    URIRef("http://www.w3.org/2000/01/rdf-schema#comment"),
}


def test_shapes_pass_shacl_shacl(shapes):
    conforms, _, text = meta_validate(shapes, inference="none")
    assert conforms, text


def test_shacl_shacl_catches_a_broken_shape():
    """The meta-validation is not vacuous: a malformed shape fails it."""
    broken = Graph().parse(
        format="turtle",
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <https://ex.org/shape> a sh:PropertyShape ;
            sh:path <https://schema.org/name> ;
            sh:minCount "one" ;
            sh:severity "grave" .
        """,
    )
    conforms, _, _ = meta_validate(broken, inference="none")
    assert not conforms


@pytest.mark.parametrize("key", sorted(VOCAB_SHAPES))
def test_sh_in_lists_equal_the_context_short_names(shapes, key):
    context = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("/", "#"))}
    scoped = context[key]["@context"]

    def expand(curie: str) -> URIRef:
        prefix, local = curie.split(":", 1)
        return URIRef(prefixes[prefix] + local)

    from_context = [expand(v) for v in scoped.values()]
    in_list = shapes.value(LTCSH[VOCAB_SHAPES[key]], SH["in"])
    from_shapes = list(Collection(shapes, in_list))
    assert len(from_shapes) == len(set(from_shapes))
    assert set(from_shapes) == set(from_context)
    if key != "jours":  # short name -> IRI = namespace + short name
        for short, curie in scoped.items():
            assert curie.split(":", 1)[1] == short


def test_geo_france_ignores_missing_or_non_numeric_coordinates(shapes):
    for lat, lon in (
        ("", "schema:longitude 4.835 ;"),
        ('schema:latitude "4.835" ;', ""),
        ('schema:latitude "4.835" ;', 'schema:longitude "45.764" ;'),
    ):
        data = (
            "@prefix schema: <https://schema.org/> .\n"
            '<https://ex.org/lieu/1> a schema:Place ; schema:name "X" ; '
            "schema:geo <https://ex.org/geo/1> .\n"
            f"<https://ex.org/geo/1> {lat} {lon} a schema:GeoCoordinates .\n"
        )
        _, report, _ = validate(
            Graph().parse(data=data, format="turtle"), shacl_graph=shapes, inference="none"
        )
        assert LTCSH["Geo-france"] not in {r["shape"] for r in _results(report)}, data
