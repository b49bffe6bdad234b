"""The ontology files agree with each other, with the JSON-LD context and with the contract.

Reads `ontology/*.ttl`, `ontology/context.jsonld` and `docs/data-model.md` from the
repository; no network, no store.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

ROOT = Path(__file__).parents[1]
ONTOLOGY = ROOT / "ontology"
DATA_MODEL = ROOT / "docs" / "data-model.md"

LTC = Namespace("https://w3id.org/ltc/ns#")
LTC_ONTOLOGY = URIRef("https://w3id.org/ltc/ns")
SCHEMA = Namespace("https://schema.org/")
ORG = Namespace("http://www.w3.org/ns/org#")

EXPECTED_FILES = [
    "ltc.ttl",
    "alignments.ttl",
    "themes.ttl",
    "roles.ttl",
    "place-types.ttl",
    "convergence-status.ttl",
]

# JSON key whose property-scoped context lists the short names -> (file, namespace).
# The scheme's own IRI is the namespace followed by "scheme".
VOCABULARIES = {
    "themes": ("themes.ttl", "https://w3id.org/ltc/theme/"),
    "role": ("roles.ttl", "https://w3id.org/ltc/role/"),
    "typeLieu": ("place-types.ttl", "https://w3id.org/ltc/place-type/"),
    "statut": ("convergence-status.ttl", "https://w3id.org/ltc/convergence-status/"),
}

THEMES = [
    "alimentation",
    "energie",
    "finance-solidaire",
    "mobilite",
    "habitat",
    "reemploi-reparation",
    "education",
    "culture",
    "citoyennete",
    "commerce-equitable",
    "sante",
    "nature",
    "numerique",
    "tiers-lieux",
    "agriculture",
    "monnaie-locale",
]

DAYS = {
    "lundi": "Monday",
    "mardi": "Tuesday",
    "mercredi": "Wednesday",
    "jeudi": "Thursday",
    "vendredi": "Friday",
    "samedi": "Saturday",
    "dimanche": "Sunday",
}

OWL_TERM_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty}


# --- helpers ---------------------------------------------------------------


@cache
def graph(name: str) -> Graph:
    return Graph().parse(ONTOLOGY / name, format="turtle")


@cache
def context() -> dict:
    with (ONTOLOGY / "context.jsonld").open(encoding="utf-8") as f:
        return json.load(f)["@context"]


def prefixes(ctx: dict) -> dict[str, str]:
    """Simple term definitions usable as prefixes (IRI ending in / or #)."""
    return {
        key: value
        for key, value in ctx.items()
        if isinstance(value, str) and not key.startswith("@") and value[-1:] in ("/", "#")
    }


def expand(value: str, prefix_map: dict[str, str]) -> str:
    """Expand a compact IRI with the context's prefixes; keywords and IRIs pass through."""
    prefix, sep, local = value.partition(":")
    if sep and prefix in prefix_map and not local.startswith("//"):
        return prefix_map[prefix] + local
    return value


def term_iris(ctx: dict, prefix_map: dict[str, str]) -> dict[str, str]:
    """JSON key -> expanded IRI, for every term of a context (scoped contexts included).

    Prefix definitions (`"ltc": "https://w3id.org/ltc/ns#"`) are not terms of interest.
    """
    found: dict[str, str] = {}
    for key, value in ctx.items():
        if key.startswith("@") or prefix_map.get(key) == value:
            continue
        iri = value if isinstance(value, str) else value.get("@id")
        if iri and not iri.startswith("@"):
            found[key] = expand(iri, prefix_map)
        if isinstance(value, dict) and isinstance(value.get("@context"), dict):
            for sub_key, sub_iri in term_iris(value["@context"], prefix_map).items():
                found[f"{key}/{sub_key}"] = sub_iri
    return found


def scoped_short_names(key: str) -> dict[str, str]:
    """Short name -> expanded IRI in the property-scoped context of `key`."""
    ctx = context()
    scoped = ctx[key]["@context"]
    prefix_map = prefixes(ctx)
    return {name: expand(iri, prefix_map) for name, iri in scoped.items()}


def languages(g: Graph, subject: URIRef, predicate: URIRef) -> list[str]:
    return sorted(
        o.language or ""
        for o in g.objects(subject, predicate)
        if isinstance(o, Literal) and str(o).strip()
    )


def in_ltc(term: object) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(str(LTC))


def declared_ltc_terms() -> set[URIRef]:
    g = graph("ltc.ttl")
    return {s for t in OWL_TERM_TYPES for s in g.subjects(RDF.type, t) if in_ltc(s)}


def context_ltc_iris() -> list[str]:
    ctx = context()
    return sorted({iri for iri in term_iris(ctx, prefixes(ctx)).values() if iri.startswith(LTC)})


def concepts(g: Graph, scheme: URIRef) -> set[URIRef]:
    return set(g.subjects(SKOS.inScheme, scheme)) | set(g.subjects(RDF.type, SKOS.Concept))


def data_model_vocabularies() -> dict[str, list[str]]:
    """Namespace -> short names, from the "Vocabularies" section of docs/data-model.md."""
    text = DATA_MODEL.read_text(encoding="utf-8")
    section = text.split("## Vocabularies", 1)[1].split("\n## ", 1)[0]
    prefix_map = prefixes(context())
    found: dict[str, list[str]] = {}
    for item in re.split(r"\n- ", section):
        head = re.match(r"\s*[\w ]+\(`(\w+):`\):(.*)", item, re.S)
        if head and head.group(1) in prefix_map:
            found[prefix_map[head.group(1)]] = re.findall(r"`([^`]+)`", head.group(2))
    return found


# --- files -----------------------------------------------------------------


def test_expected_files_exist():
    missing = [name for name in EXPECTED_FILES if not (ONTOLOGY / name).is_file()]
    assert not missing, f"missing ontology files: {missing}"


@pytest.mark.parametrize("path", sorted(ONTOLOGY.glob("*.ttl")), ids=lambda p: p.name)
def test_turtle_file_parses(path: Path):
    g = graph(path.name)
    assert len(g) > 0, f"{path.name} is empty"


# --- ltc.ttl ---------------------------------------------------------------


def test_ontology_header():
    g = graph("ltc.ttl")
    assert (LTC_ONTOLOGY, RDF.type, OWL.Ontology) in g
    assert (LTC_ONTOLOGY, OWL.versionInfo, Literal("0.1.0")) in g
    assert (
        LTC_ONTOLOGY,
        DCTERMS.license,
        URIRef("https://creativecommons.org/licenses/by/4.0/"),
    ) in g
    assert g.value(LTC_ONTOLOGY, DCTERMS.created) is not None
    for predicate in (DCTERMS.title, DCTERMS.description):
        assert languages(g, LTC_ONTOLOGY, predicate) == ["en", "fr"], predicate


@pytest.mark.parametrize("iri", context_ltc_iris())
def test_context_ltc_term_is_declared(iri: str):
    g = graph("ltc.ttl")
    term = URIRef(iri)
    kinds = set(g.objects(term, RDF.type)) & OWL_TERM_TYPES
    assert kinds, f"{iri} is used in context.jsonld but not declared in ltc.ttl"
    assert (term, RDFS.isDefinedBy, LTC_ONTOLOGY) in g
    for predicate in (RDFS.label, RDFS.comment):
        assert languages(g, term, predicate) == ["en", "fr"], f"{iri} {predicate}"


def test_ltc_terms_match_context_exactly():
    declared = {str(t) for t in declared_ltc_terms()}
    used = set(context_ltc_iris())
    assert declared - used == set(), "declared in ltc.ttl but absent from context.jsonld"
    assert used - declared == set(), "used in context.jsonld but not declared in ltc.ttl"


def test_record_classes_and_superclasses():
    g = graph("ltc.ttl")
    for cls in (LTC.Network, LTC.Presence, LTC.ConvergenceLabel):
        assert (cls, RDF.type, OWL.Class) in g
    assert (LTC.Network, RDFS.subClassOf, SCHEMA.Organization) in g
    assert (LTC.Network, RDFS.subClassOf, ORG.Organization) in g
    assert (LTC.Place, None, None) not in g, "places are schema:Place, not ltc:Place"


def test_ltc_ttl_only_describes_ltc_terms():
    """Axioms about other vocabularies' terms belong in alignments.ttl."""
    g = graph("ltc.ttl")
    foreign = {
        (s, p, o)
        for s, p, o in g
        if s != LTC_ONTOLOGY
        and not in_ltc(s)
        and not (
            p == RDF.type
            and o
            in {
                OWL.AnnotationProperty,
                OWL.DatatypeProperty,
                OWL.ObjectProperty,
            }
        )
    }
    assert not foreign, f"statements about external terms in ltc.ttl: {sorted(foreign)}"


def test_every_ltc_iri_in_ontology_files_is_declared():
    registry = graph("registry.ttl")
    declared = declared_ltc_terms() | {
        s for t in OWL_TERM_TYPES for s in registry.subjects(RDF.type, t) if in_ltc(s)
    }
    undeclared = {}
    for path in sorted(ONTOLOGY.glob("*.ttl")):
        used = {t for triple in graph(path.name) for t in triple if in_ltc(t)}
        if used - declared:
            undeclared[path.name] = sorted(used - declared)
    assert not undeclared, f"ltc: IRIs not declared in ltc.ttl or registry.ttl: {undeclared}"


def test_alignments_put_places_as_org_sites():
    g = graph("alignments.ttl")
    assert (SCHEMA.Place, RDFS.subClassOf, ORG.Site) in g
    assert (ORG.hasSite, OWL.propertyChainAxiom, None) in g


# --- SKOS schemes ----------------------------------------------------------


@pytest.mark.parametrize("key", sorted(VOCABULARIES))
def test_context_short_names_are_scheme_concepts(key: str):
    filename, namespace = VOCABULARIES[key]
    g = graph(filename)
    scheme = URIRef(namespace + "scheme")
    in_context = scoped_short_names(key)
    for name, iri in in_context.items():
        assert iri == namespace + name, f"{key}: {name} expands to {iri}"
    in_scheme = {str(c) for c in concepts(g, scheme)}
    assert set(in_context.values()) - in_scheme == set(), f"{key}: in context, not in {filename}"
    assert in_scheme - set(in_context.values()) == set(), f"{key}: in {filename}, not in context"


@pytest.mark.parametrize("key", sorted(VOCABULARIES))
def test_scheme_is_well_formed(key: str):
    filename, namespace = VOCABULARIES[key]
    g = graph(filename)
    scheme = URIRef(namespace + "scheme")
    assert (scheme, RDF.type, SKOS.ConceptScheme) in g
    for predicate in (SKOS.prefLabel, DCTERMS.title):
        assert languages(g, scheme, predicate) == ["en", "fr"], predicate
    found = concepts(g, scheme)
    assert found, f"no concept in {filename}"
    for concept in found:
        name = str(concept).removeprefix(namespace)
        assert str(concept) == namespace + name, f"{concept} outside {namespace}"
        assert (concept, RDF.type, SKOS.Concept) in g, concept
        assert (concept, SKOS.inScheme, scheme) in g, concept
        assert (concept, SKOS.topConceptOf, scheme) in g, concept
        assert (scheme, SKOS.hasTopConcept, concept) in g, concept
        assert list(g.objects(concept, SKOS.notation)) == [Literal(name)], concept
        assert languages(g, concept, SKOS.prefLabel) == ["en", "fr"], f"{concept} prefLabel"
        assert languages(g, concept, SKOS.definition) == ["en", "fr"], f"{concept} definition"
    assert set(g.objects(scheme, SKOS.hasTopConcept)) == found


def test_sixteen_themes():
    namespace = VOCABULARIES["themes"][1]
    g = graph("themes.ttl")
    found = {str(c) for c in concepts(g, URIRef(namespace + "scheme"))}
    assert found == {namespace + name for name in THEMES}


def test_schemes_match_data_model():
    documented = data_model_vocabularies()
    assert len(documented) == len(VOCABULARIES), f"vocabulary lists found: {sorted(documented)}"
    for filename, namespace in VOCABULARIES.values():
        found = {str(c) for c in concepts(graph(filename), URIRef(namespace + "scheme"))}
        assert found == {namespace + name for name in documented[namespace]}, filename


def test_days_map_to_schema_days():
    assert scoped_short_names("jours") == {fr: str(SCHEMA[en]) for fr, en in DAYS.items()}


def test_scoped_contexts_expand_short_names():
    """A real JSON-LD parser gives the same short name different IRIs under different keys."""
    doc = {
        "@context": context(),
        "@graph": [
            {"id": "https://ex.org/p", "type": "Presence", "role": ["boutique", "inconnu"]},
            {"id": "https://ex.org/l", "type": "Lieu", "typeLieu": "boutique"},
        ],
    }
    quads = ox.parse(
        json.dumps(doc).encode(), format=ox.RdfFormat.JSON_LD, base_iri="https://feed.example/"
    )
    values = {(q.predicate.value, q.object.value) for q in quads}
    assert (str(LTC.role), "https://w3id.org/ltc/role/boutique") in values
    assert (str(LTC.placeType), "https://w3id.org/ltc/place-type/boutique") in values
    unknown = {o for p, o in values if p == str(LTC.role) and "inconnu" in o}
    assert unknown == {"https://feed.example/inconnu"}, "unknown short names stay detectable"


# --- publishing guides -----------------------------------------------------


@pytest.mark.parametrize("guide", ["publier.md", "publishing.md"])
def test_guide_example_is_the_example_file(guide: str):
    """The example printed in the guide is the file the validator tests."""
    text = (ROOT / "docs" / guide).read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)```", text, re.S)
    assert block, f"no JSON example in {guide}"
    example = (ROOT / "docs" / "exemple-minimal.jsonld").read_text(encoding="utf-8")
    assert json.loads(block.group(1)) == json.loads(example)


def test_registry_terms_have_french_and_english_labels():
    g = graph("registry.ttl")
    terms = {s for s in g.subjects(RDF.type, None) if str(s).startswith(LTC)}
    assert terms
    for term in terms:
        assert (term, RDFS.isDefinedBy, LTC_ONTOLOGY) in g
        for predicate in (RDFS.label, RDFS.comment):
            assert languages(g, term, predicate) == ["en", "fr"], f"{term} {predicate}"
