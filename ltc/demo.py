"""The bundled example federation and the check of its expected outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harvester.errors import FeedError
from harvester.feed import check_feed
from ltc import resources
from ltc.config import Settings
from ltc.vocab import expand


@dataclass
class Outcome:
    source: str
    records: int = 0
    rejected: int = 0
    expected_rejected: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences


def expected() -> dict[str, Any]:
    return json.loads(resources.read_text("examples", "expected.json"))


def rdf_sources() -> list[dict[str, Any]]:
    """The example sources published in an RDF syntax (adapter feeds come later)."""
    return [s for s in expected()["sources"] if not s.get("adapter")]


def expected_rejections(source: str) -> dict[str, set[str]]:
    return {
        r["record"]: {expand(c) for c in r["constraints"]}
        for r in expected()["rejected"]
        if r["source"] == source
    }


def check_source(source: dict[str, Any], settings: Settings) -> Outcome:
    outcome = Outcome(source["id"])
    wanted = expected_rejections(source["id"])
    outcome.expected_rejected = len(wanted)
    try:
        validation = check_feed(
            resources.read_bytes("examples", source["file"]),
            source=source["id"],
            settings=settings,
            filename=source["file"],
        )
    except FeedError as error:
        outcome.differences.append(f"illisible : {error.message('fr')}")
        return outcome
    got = {r.record.iri: r.violated_constraints() for r in validation.rejected}
    outcome.records, outcome.rejected = len(validation.results), len(got)
    for iri in sorted(wanted.keys() | got.keys()):
        if wanted.get(iri) != got.get(iri):
            outcome.differences.append(
                f"{iri} : attendu {sorted(wanted.get(iri, []))}, obtenu {sorted(got.get(iri, []))}"
            )
    return outcome


def check_all(settings: Settings) -> list[Outcome]:
    return [check_source(source, settings) for source in rdf_sources()]
