"""Validate a normalised feed against the registry's shapes, record by record.

pyshacl runs once over the feed's records with the registry's own shapes (never
shapes found in the data); each result is charged to the record that owns its
focus node. A record with a Violation is rejected; a presence, event or label that
depends on a rejected place or organisation of the same feed is rejected with it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from functools import cache

import pyoxigraph as ox
import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD

from harvester.errors import FeedError
from harvester.records import Record, SplitFeed, split_records
from ltc import resources
from ltc.vocab import CASCADE, LTC, SCHEMA

SEVERITIES = {str(SH.Violation): "Violation", str(SH.Warning): "Warning", str(SH.Info): "Info"}

# Links whose target must not be a rejected record of the same feed.
_DEPENDENCIES = {
    LTC + "Presence": (LTC + "organisation", LTC + "place"),
    SCHEMA + "Event": (SCHEMA + "location",),
    LTC + "ConvergenceLabel": (LTC + "place",),
}

# Ill-typed literals are what validation reports; rdflib need not log each one.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Finding:
    """One problem of a record: which node, which field, what is wrong."""

    constraint: str
    severity: str  # Violation, Warning or Info
    focus: str
    path: str | None
    value: str | None
    messages: dict[str, str]

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or next(iter(self.messages.values()), "")


@dataclass
class RecordResult:
    record: Record
    findings: list[Finding] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(f.severity == "Violation" for f in self.findings)

    @property
    def warned(self) -> bool:
        return not self.rejected and any(f.severity == "Warning" for f in self.findings)

    def violated_constraints(self) -> set[str]:
        return {f.constraint for f in self.findings if f.severity == "Violation"}


@dataclass
class FeedValidation:
    source: str
    results: list[RecordResult]
    ignored: list[ox.Triple]
    report: Graph  # the sh:ValidationReport, cascades included

    @property
    def rejected(self) -> list[RecordResult]:
        return [r for r in self.results if r.rejected]

    @property
    def accepted(self) -> list[RecordResult]:
        return [r for r in self.results if not r.rejected]

    @property
    def warned(self) -> list[RecordResult]:
        return [r for r in self.results if r.warned]

    def accepted_triples(self) -> list[ox.Triple]:
        return [t for r in self.accepted for t in r.record.triples]


@cache
def shapes_graph() -> Graph:
    graph = Graph()
    graph.parse(data=resources.read_text("shapes", "ltc-shapes.ttl"), format="turtle")
    return graph


@cache
def shapes_version() -> str:
    """A digest of the shapes: caches of validation results are void when it changes."""
    return hashlib.sha256(resources.read_bytes("shapes", "ltc-shapes.ttl")).hexdigest()[:16]


@cache
def _messages(shape: str) -> dict[str, str]:
    found = {
        (m.language or "fr"): str(m)
        for m in shapes_graph().objects(URIRef(shape), SH.message)
        if isinstance(m, Literal)
    }
    if not found and shape == CASCADE:
        found = {
            "fr": "Rejeté car il renvoie à un lieu ou une organisation rejeté dans ce flux.",
            "en": "Rejected because it refers to a place or organisation rejected in this feed.",
        }
    return found


def _to_rdflib(term: ox.NamedNode | ox.Literal | ox.BlankNode):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(XSD.string):
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def rdflib_graph(triples: list[ox.Triple]) -> Graph:
    graph = Graph()
    for t in triples:
        graph.add((_to_rdflib(t.subject), _to_rdflib(t.predicate), _to_rdflib(t.object)))
    return graph


def _findings(report: Graph, split: SplitFeed) -> dict[str, list[Finding]]:
    by_record: dict[str, list[Finding]] = {}
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = str(report.value(result, SH.focusNode))
        record = split.owner.get(focus)
        if record is None:
            continue
        shape = report.value(result, SH.sourceShape)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        finding = Finding(
            constraint=str(shape) if isinstance(shape, URIRef) else "",
            severity=SEVERITIES.get(str(report.value(result, SH.resultSeverity)), "Violation"),
            focus=focus,
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if value is not None else None,
            messages=_messages(str(shape))
            or {"en": str(report.value(result, SH.resultMessage) or "")},
        )
        # One constraint may fail through several components (datatype, range…): say it once.
        if finding not in by_record.setdefault(record, []):
            by_record[record].append(finding)
    return by_record


def _cascade(results: dict[str, RecordResult], report: Graph) -> None:
    """Reject what depends on a rejected record of the same feed, until nothing changes."""
    changed = True
    while changed:
        changed = False
        rejected = {iri for iri, r in results.items() if r.rejected}
        for iri, result in results.items():
            if result.rejected:
                continue
            for record_class in result.record.classes:
                for predicate in _DEPENDENCIES.get(record_class, ()):
                    for target in result.record.links(predicate):
                        if target in rejected and not result.rejected:
                            result.findings.append(
                                Finding(
                                    CASCADE, "Violation", iri, predicate, target, _messages(CASCADE)
                                )
                            )
                            _add_cascade_result(report, iri, predicate, target)
                            changed = True


def _add_cascade_result(report: Graph, focus: str, path: str, value: str) -> None:
    node = BNode()
    validation = report.value(predicate=RDF.type, object=SH.ValidationReport)
    if validation is not None:
        report.set((validation, SH.conforms, Literal(False)))
        report.add((validation, SH.result, node))
    report.add((node, RDF.type, SH.ValidationResult))
    report.add((node, SH.focusNode, URIRef(focus)))
    report.add((node, SH.resultPath, URIRef(path)))
    report.add((node, SH.value, URIRef(value)))
    report.add((node, SH.resultSeverity, SH.Violation))
    report.add((node, SH.sourceShape, URIRef(CASCADE)))
    for lang, text in _messages(CASCADE).items():
        report.add((node, SH.resultMessage, Literal(text, lang=lang)))


def validate_triples(triples: list[ox.Triple], source: str) -> FeedValidation:
    """Validate the normalised triples of one feed; nothing is loaded anywhere."""
    split = split_records(triples, source)
    if not split.records:
        raise FeedError(
            "aucune fiche d'un type connu (Lieu, Organisation, Reseau, Presence, Evenement, "
            "LabelConvergence) : vérifiez les types et le contexte JSON-LD",
            "no record of a known type (schema:Place, schema:Organization, ltc:Network, "
            "ltc:Presence, schema:Event, ltc:ConvergenceLabel): check the types and the context",
        )
    data = rdflib_graph([t for r in split.records.values() for t in r.triples])
    _conforms, report, _text = pyshacl.validate(
        data,
        shacl_graph=shapes_graph(),
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
    )
    findings = _findings(report, split)
    results = {
        iri: RecordResult(record, findings.get(iri, []))
        for iri, record in sorted(split.records.items())
    }
    _cascade(results, report)
    return FeedValidation(source, list(results.values()), split.ignored, report)
