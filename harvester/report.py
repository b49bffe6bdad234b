"""Validation reports a volunteer can act on: text (French or English), JSON, Turtle."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from rdflib import Graph

from core.labels import display_value, field_label, field_names, record_kind
from core.vocab import compact
from harvester.validate import FeedValidation, Finding, RecordResult

_WORDS = {
    "fr": {
        "Violation": "erreur",
        "Warning": "avertissement",
        "Info": "suggestion",
        "rejected": "REJETÉ",
        "warned": "à corriger",
        "value": "valeur",
        "field": "champ",
        "summary": "{records} fiches : {accepted} acceptées, {rejected} rejetées, "
        "{warned} avec avertissements",
        "ignored": "{n} déclarations ignorées : elles ne portent sur aucune fiche d'un type connu",
        "infos": "Suggestions ({n}) :",
    },
    "en": {
        "Violation": "error",
        "Warning": "warning",
        "Info": "suggestion",
        "rejected": "REJECTED",
        "warned": "to fix",
        "value": "value",
        "field": "field",
        "summary": "{records} records: {accepted} accepted, {rejected} rejected, "
        "{warned} with warnings",
        "ignored": "{n} statements ignored: they are about no record of a known type",
        "infos": "Suggestions ({n}):",
    },
}


def _kind(result: RecordResult, lang: str) -> str:
    return record_kind(result.record.classes, lang)


def _finding_line(finding: Finding, lang: str) -> str:
    words = _WORDS[lang]
    line = f"    [{words[finding.severity]}] {field_label(finding.path)} : {finding.message(lang)}"
    if finding.value is not None:
        line += f" — {words['value']} : « {display_value(finding.value)} »"
    return line


def summary(validation: FeedValidation) -> dict[str, int]:
    return {
        "records": len(validation.results),
        "accepted": len(validation.accepted),
        "rejected": len(validation.rejected),
        "warned": len(validation.warned),
        "ignored_statements": len(validation.ignored),
    }


def text_report(validation: FeedValidation, title: str, lang: str = "fr") -> str:
    words = _WORDS[lang]
    counts = summary(validation)
    lines = [f"{title} — {words['summary'].format(**counts)}"]
    infos: Counter[str] = Counter()
    for result in validation.results:
        shown = [f for f in result.findings if f.severity != "Info"]
        infos.update(f.message(lang) for f in result.findings if f.severity == "Info")
        if not shown:
            continue
        status = words["rejected"] if result.rejected else words["warned"]
        name = f" « {result.record.name} »" if result.record.name else ""
        lines.append(f"  {status}  {_kind(result, lang)}{name} <{result.record.iri}>")
        order = {"Violation": 0, "Warning": 1}
        lines += [_finding_line(f, lang) for f in sorted(shown, key=lambda f: order[f.severity])]
    if infos:
        lines.append("  " + words["infos"].format(n=sum(infos.values())))
        lines += [f"    {n} × {message}" for message, n in infos.most_common()]
    if validation.ignored:
        lines.append("  " + words["ignored"].format(n=len(validation.ignored)))
    return "\n".join(lines)


def json_report(validation: FeedValidation, title: str, lang: str = "fr") -> dict[str, Any]:
    return {
        "feed": title,
        "source": validation.source,
        "summary": summary(validation),
        "records": [
            {
                "iri": r.record.iri,
                "types": [compact(c) for c in r.record.classes],
                "name": r.record.name,
                "status": "rejected" if r.rejected else "warned" if r.warned else "accepted",
                "problems": [
                    {
                        "severity": f.severity,
                        "constraint": compact(f.constraint),
                        "focus": f.focus,
                        "path": f.path,
                        "field": field_names().get(f.path or ""),
                        "value": display_value(f.value),
                        "message": f.message(lang),
                    }
                    for f in r.findings
                ],
            }
            for r in validation.results
        ],
    }


def dumps_json(reports: list[dict[str, Any]], errors: list[dict[str, Any]], status: int) -> str:
    return json.dumps(
        {"status": status, "feeds": reports, "errors": errors}, ensure_ascii=False, indent=2
    )


def turtle_report(validations: list[FeedValidation]) -> str:
    merged = Graph()
    merged.bind("sh", "http://www.w3.org/ns/shacl#")
    merged.bind("ltcsh", "https://w3id.org/ltc/shapes#")
    merged.bind("schema", "https://schema.org/")
    for validation in validations:
        for triple in validation.report:
            merged.add(triple)
    return merged.serialize(format="turtle")
