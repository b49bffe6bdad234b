"""The bundled example federation: harvest it, and check the outcome it is meant to have."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from core import resources
from core.config import Settings
from core.vocab import LTC_SHAPES, expand
from harvester.harvest import Outcome, Progress
from ltc.pipeline import harvest


@dataclass
class DemoOutcome:
    source: str
    status: str
    accepted: int = 0
    rejected: int = 0
    expected_rejected: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences


def expected() -> dict[str, Any]:
    return json.loads(resources.read_text("examples", "expected.json"))


def expected_rejections(truth: dict[str, Any], source: dict[str, Any]) -> dict[str, set[str]]:
    """Records of ``source`` that must be rejected, with the constraints they violate.

    For adapter feeds the truth names rows; their places are the records checked (a row
    also yields an organisation and a presence, rejected with the place or not)."""
    if not source.get("adapter"):
        return {
            r["record"]: {expand(c) for c in r["constraints"]}
            for r in truth["rejected"]
            if r["source"] == source["id"]
        }
    template = source["record_iri_template"]
    return {
        re.sub(r"\{\w+\}", row["id"], template): {expand(c) for c in row["constraints"]}
        for row in truth["rejected_adapter_rows"]
        if row["source"] == source["id"]
    }


def compare(outcome: Outcome, truth: dict[str, Any], source: dict[str, Any]) -> DemoOutcome:
    wanted = expected_rejections(truth, source)
    result = DemoOutcome(
        source["id"], outcome.status, outcome.accepted, outcome.rejected, len(wanted)
    )
    if outcome.status != "loaded" and outcome.status != "unchanged":
        result.differences.append(f"statut {outcome.status} : {outcome.message}")
        return result
    got = {iri: set(constraints) for iri, constraints in outcome.rejections.items()}
    if source.get("adapter"):
        # Only the places of the listed rows are checked; what a row's rejected place
        # drags along (its organisation, its presence) is not a difference.
        cascade = {LTC_SHAPES + "Cascade", LTC_SHAPES + "Organization-name"}
        got = {iri: c for iri, c in got.items() if iri in wanted or not c <= cascade}
    for iri in sorted(wanted.keys() | got.keys()):
        if wanted.get(iri) != got.get(iri):
            result.differences.append(
                f"{iri} : attendu {sorted(wanted.get(iri, []))}, obtenu {sorted(got.get(iri, []))}"
            )
    return result


def run(settings: Settings, progress: Progress | None = None) -> list[DemoOutcome]:
    """Harvest the example federation into the configured store and check each source."""
    truth = expected()
    by_id = {s["id"]: s for s in truth["sources"]}
    outcomes = harvest(settings, progress=progress)
    return [compare(o, truth, by_id[o.source]) for o in outcomes if o.source in by_id]
