"""The registry's vocabularies (themes, roles, place types) as people write them.

A spreadsheet says « Alimentation », « agriculture bio » or « Réparation » where a feed
says ``alimentation``, ``agriculture`` or ``reemploi-reparation``. Each value is matched,
without regard to case, accents, punctuation or a final plural, against the short names,
the labels (``skos:prefLabel``) and the synonyms (``skos:altLabel``) of the SKOS schemes
shipped in ``ontology/`` (``themes.ttl``, ``roles.ttl``, ``place-types.ttl``). A key that
two concepts of one scheme share is ambiguous and matches nothing: nothing is guessed.
"""

from __future__ import annotations

from functools import cache

import pyoxigraph as ox

from core import resources
from core.text import fold

SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMES = {  # JSON-LD key → (file, namespace of its concepts)
    "themes": ("themes.ttl", "https://w3id.org/ltc/theme/"),
    "role": ("roles.ttl", "https://w3id.org/ltc/role/"),
    "typeLieu": ("place-types.ttl", "https://w3id.org/ltc/place-type/"),
}


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    if len(word) > 3 and word.endswith(("eux", "aux")):
        return word[:-1]
    return word


def key(text: str) -> str:
    """The matching key of a value: folded, each word without a final plural mark."""
    return " ".join(_singular(word) for word in fold(text).split())


@cache
def _scheme(vocabulary: str) -> tuple[dict[str, str], dict[str, str]]:
    """(key → short name, short name → French label) of one scheme."""
    filename, namespace = SCHEMES[vocabulary]
    data = resources.read_bytes("ontology", filename)
    names: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for quad in ox.parse(data, format=ox.RdfFormat.TURTLE):
        subject, predicate, value = quad.subject, quad.predicate.value, quad.object
        if not isinstance(subject, ox.NamedNode) or not subject.value.startswith(namespace):
            continue
        short = subject.value[len(namespace) :]
        if short == "scheme" or not isinstance(value, ox.Literal):
            continue
        if predicate in (SKOS + "prefLabel", SKOS + "altLabel", SKOS + "notation"):
            names.setdefault(key(value.value), set()).add(short)
            names.setdefault(key(short), set()).add(short)
        if predicate == SKOS + "prefLabel" and value.language == "fr":
            labels[short] = value.value
    unique = {k: next(iter(v)) for k, v in names.items() if len(v) == 1 and k}
    return unique, labels


def match(vocabulary: str, text: str) -> str | None:
    """The short name a written value stands for in ``vocabulary`` (``themes``, ``role``,
    ``typeLieu``), or None when it matches no concept (or several)."""
    return _scheme(vocabulary)[0].get(key(text))


def short_names(vocabulary: str) -> list[str]:
    """Every short name of the scheme, in the order of their French labels."""
    labels = _scheme(vocabulary)[1]
    return sorted(labels, key=lambda name: key(labels[name]))


def label(vocabulary: str, short: str) -> str:
    """The French label of a short name (the short name itself if unknown)."""
    return _scheme(vocabulary)[1].get(short, short)
