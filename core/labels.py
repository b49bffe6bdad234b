"""How a finding reads for the person who wrote the feed: a property by the JSON key of
the LTC context they wrote (``adresse (schema:address)``), a value as they wrote it, a
record's kind in words. Shared by every report (``ltc validate``, ``/valider``,
``/sources``)."""

from __future__ import annotations

import json
from functools import cache

from core import resources
from core.vocab import RECORD_CLASSES, RECORD_CLASSES_EN, RELATIVE_BASE, compact


@cache
def field_names() -> dict[str, str]:
    """Property IRI → the JSON key a publisher writes (from the LTC context)."""
    context = json.loads(resources.read_text("ontology", "context.jsonld"))["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("/", "#"))}
    names: dict[str, str] = {}
    for key, definition in context.items():
        iri = definition.get("@id") if isinstance(definition, dict) else definition
        if not isinstance(iri, str) or key[0].isupper() or key.startswith("@") or key in prefixes:
            continue
        prefix, _, local = iri.partition(":")
        if prefix in prefixes:
            names.setdefault(prefixes[prefix] + local, key)
    return names


def field_label(path: str | None) -> str:
    """``https://schema.org/address`` → ``adresse (schema:address)``; "—" without a path."""
    if path is None:
        return "—"
    key = field_names().get(path)
    return f"{key} ({compact(path)})" if key else compact(path)


def display_value(value: str | None) -> str | None:
    """What the publisher wrote: an unknown short name, not the IRI it was resolved to."""
    if value and value.startswith(RELATIVE_BASE):
        return value[len(RELATIVE_BASE) :].split("/", 1)[-1]
    return value


def record_kind(types: list[str], lang: str = "fr") -> str:
    """A record's classes in words: ``lieu``, ``organisation/lieu``…"""
    names = RECORD_CLASSES if lang == "fr" else RECORD_CLASSES_EN
    return "/".join(names[c] for c in types if c in names)
