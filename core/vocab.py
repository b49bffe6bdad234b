"""Namespaces of the LTC data model (see docs/data-model.md)."""

from __future__ import annotations

SCHEMA = "https://schema.org/"
SCHEMA_HTTP = "http://schema.org/"
# The namespace of the LTC ontology, its shapes, JSON-LD context and SKOS vocabularies:
# fixed IRIs that every network's data uses. Not the ``base_iri`` setting (core.config),
# the configurable base of the IRIs a registry mints (core.iris), which only defaults
# to the same text.
LTC_BASE = "https://w3id.org/ltc/"
LTC = LTC_BASE + "ns#"
LTC_THEME = LTC_BASE + "theme/"
LTC_ROLE = LTC_BASE + "role/"
LTC_PLACE_TYPE = LTC_BASE + "place-type/"
LTC_STATUS = LTC_BASE + "convergence-status/"
LTC_SHAPES = LTC_BASE + "shapes#"
LTC_CONTEXT = LTC_BASE + "context.jsonld"
GENID = "https://w3id.org/ltc/.well-known/genid/"
# Base of feeds read from files: their relative IRIs (and unknown short names of the
# JSON-LD context) land here, outside every namespace and not http(s), so that the
# shapes catch them where a URL or a vocabulary term was expected.
RELATIVE_BASE = "tag:w3id.org,2026:ltc/relative/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SH = "http://www.w3.org/ns/shacl#"
GEO = "http://www.opengis.net/ont/geosparql#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
# Dublin Core's frequency vocabulary (values of dct:accrualPeriodicity).
FREQ = "http://purl.org/cld/freq/"

RDF_TYPE = RDF + "type"

# The six record classes and the French word a volunteer reads for each.
RECORD_CLASSES: dict[str, str] = {
    SCHEMA + "Place": "lieu",
    SCHEMA + "Organization": "organisation",
    LTC + "Network": "réseau",
    LTC + "Presence": "présence",
    SCHEMA + "Event": "événement",
    LTC + "ConvergenceLabel": "label de convergence",
}
RECORD_CLASSES_EN: dict[str, str] = {
    SCHEMA + "Place": "place",
    SCHEMA + "Organization": "organisation",
    LTC + "Network": "network",
    LTC + "Presence": "presence",
    SCHEMA + "Event": "event",
    LTC + "ConvergenceLabel": "convergence label",
}

CASCADE = LTC_SHAPES + "Cascade"

PREFIXES: dict[str, str] = {
    "schema": SCHEMA,
    "ltc": LTC,
    "ltct": LTC_THEME,
    "ltcr": LTC_ROLE,
    "ltcp": LTC_PLACE_TYPE,
    "ltcs": LTC_STATUS,
    "ltcsh": LTC_SHAPES,
    "owl": OWL,
    "xsd": XSD,
    "rdf": RDF,
    "rdfs": RDFS,
    "sh": SH,
    "geo": GEO,
    "dct": DCT,
    "prov": PROV,
    "skos": SKOS,
    "org": ORG,
}


def compact(iri: str) -> str:
    """``https://schema.org/name`` → ``schema:name``; other IRIs unchanged."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def expand(curie: str) -> str:
    """``ltcsh:Place-name`` → the full IRI; full IRIs unchanged."""
    prefix, sep, local = curie.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return curie
