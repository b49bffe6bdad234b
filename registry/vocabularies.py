"""The registry's SKOS vocabularies (themes, roles, place types, statuses) as French labels,
read once from the packaged ontology files: pages and the API show labels, not IRIs."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pyoxigraph as ox

from core.resources import read_bytes
from core.text import fold
from core.vocab import SKOS

VOCABULARY_FILES = ("themes.ttl", "roles.ttl", "place-types.ttl", "convergence-status.ttl")


@dataclass(frozen=True, slots=True)
class Concept:
    """A SKOS concept: its IRI, French label and the scheme it belongs to."""

    iri: str
    label: str
    scheme: str


@functools.cache
def concepts() -> dict[str, Concept]:
    """Every concept of the registry's vocabularies, by IRI."""
    found: dict[str, Concept] = {}
    for name in VOCABULARY_FILES:
        labels: dict[str, str] = {}
        schemes: dict[str, str] = {}
        for triple in ox.parse(read_bytes("ontology", name), format=ox.RdfFormat.TURTLE):
            subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
            if predicate == SKOS + "prefLabel" and getattr(obj, "language", None) == "fr":
                labels[subject.value] = obj.value
            elif predicate == SKOS + "inScheme":
                schemes[subject.value] = obj.value
        for iri, scheme in schemes.items():
            found[iri] = Concept(iri, labels.get(iri, iri.rsplit("/", 1)[-1]), scheme)
    return found


def label(iri: str) -> str:
    """The French label of a concept, or the IRI's last segment for an unknown one."""
    concept = concepts().get(iri)
    return concept.label if concept else iri.rstrip("/").rsplit("/", 1)[-1]


def in_scheme(scheme_suffix: str) -> list[Concept]:
    """The concepts of one scheme (``theme/``, ``role/``…), sorted by label."""
    return sorted(
        (c for c in concepts().values() if c.iri.rsplit("/", 1)[0].endswith(scheme_suffix)),
        key=lambda c: fold(c.label),
    )
