"""Validate a normalised feed against the registry's shapes, record by record.

The registry's own shapes are always used (never shapes found in the data). Each
shape result is charged to the record it concerns: the record that owns its focus
node when the shape targets a class; when it targets the objects of a property
(coordinates, address, opening hours), the records whose statements lead to the focus
node, so that a literal where a node is required, or another record put there, is a
problem of the record that wrote it. A record with a Violation is rejected. A
presence, event or label that depends on a rejected place or organisation of the same
feed is rejected with it (``ltcsh:Cascade``).

Both engines read the literals as the feed wrote them (after normalisation): the
compiled engine keeps them away from the store's rewriting
(``harvester.shacl_sparql.keep_written_forms``), and pyshacl's rdflib terms are built
without rdflib's normalisation. An engine that fails raises ``EngineError``
(validation impossible), never a partial result.

Validation results depend only on a record's own statements, so they are cached by
the record's content: a changed feed revalidates only the records that changed (with
the statements of the nodes they lead to that another record owns, so that a record
is judged alike alone and with its whole feed).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import NamedTuple

import pyoxigraph as ox
import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD

from core import resources
from core.harvest_files import Finding as DocumentedFinding
from core.harvest_files import RecordFindings
from core.vocab import CASCADE, LTC, SCHEMA
from harvester.errors import EngineError, FeedError
from harvester.records import Record, SplitFeed, split_records

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
    value_is_iri: bool = False

    def message(self, lang: str) -> str:
        messages = constraint_messages(self.constraint)
        return messages.get(lang) or next(iter(messages.values()), self.constraint)


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
    revalidated: int = 0  # records actually run through the shapes (the others were cached)

    # Computed once: a validation is read many times and never changes once made.
    @cached_property
    def rejected(self) -> list[RecordResult]:
        return [r for r in self.results if r.rejected]

    @cached_property
    def accepted(self) -> list[RecordResult]:
        return [r for r in self.results if not r.rejected]

    @cached_property
    def warned(self) -> list[RecordResult]:
        return [r for r in self.results if r.warned]

    def accepted_triples(self) -> list[ox.Triple]:
        return [t for r in self.accepted for t in r.record.triples]

    def accepted_ntriples(self) -> bytes:
        """The accepted statements as N-Triples, record by record in IRI order: what the
        source's graph holds (a statement belongs to one record only: no duplicates)."""
        return "".join(line for r in self.accepted for line in r.record.lines).encode("utf-8")

    @property
    def report(self) -> Graph:
        return report_graph(self)


@cache
def shapes_graph() -> Graph:
    graph = Graph()
    graph.parse(data=resources.read_text("shapes", "ltc-shapes.ttl"), format="turtle")
    return graph


@cache
def shapes_version() -> str:
    """A digest of the shapes: cached validation results are void when it changes."""
    return hashlib.sha256(resources.read_bytes("shapes", "ltc-shapes.ttl")).hexdigest()[:16]


@cache
def constraint_messages(shape: str) -> dict[str, str]:
    found = {
        (m.language or "fr"): str(m)
        for m in shapes_graph().objects(URIRef(shape), SH.message)
        if isinstance(m, Literal)
    }
    return found or {"fr": shape, "en": shape}


# --- engines: both return (focus, shape, severity, path, value) tuples --------------

# focus (``focus_key``), shape, severity, path, value, value is an IRI
RawResult = tuple[str, str, str, str | None, str | None, bool]
Engine = Callable[[list[Record]], Iterable[RawResult]]


def _to_rdflib(term: ox.NamedNode | ox.Literal | ox.BlankNode):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(XSD.string):
        return Literal(term.value)
    # As written: rdflib's normalisation would turn " 45" into "45", "1.5E0" into "1.5".
    return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)


def focus_key(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    """How a result names its focus node: an IRI's text, or a literal in N-Triples
    syntax (a literal where a node is required: it starts with a quote)."""
    return str(term) if isinstance(term, ox.Literal) else term.value


def _ox_term(term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))


def rdflib_graph(triples: Iterable[ox.Triple]) -> Graph:
    graph = Graph()
    with warnings.catch_warnings():
        # rdflib warns about each odd literal ("weird boolean"): validation reports them
        warnings.simplefilter("ignore", UserWarning)
        for t in triples:
            graph.add((_to_rdflib(t.subject), _to_rdflib(t.predicate), _to_rdflib(t.object)))
    return graph


def pyshacl_engine(records: list[Record]) -> Iterable[RawResult]:
    """The reference engine: pyshacl over an rdflib copy of the data."""
    _conforms, report, _text = pyshacl.validate(
        rdflib_graph(t for r in records for t in r.triples),
        shacl_graph=shapes_graph(),
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
    )
    for result in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(result, SH.sourceShape)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        yield (
            focus_key(_ox_term(report.value(result, SH.focusNode))),
            str(shape) if isinstance(shape, URIRef) else "",
            SEVERITIES.get(str(report.value(result, SH.resultSeverity)), "Violation"),
            str(path) if isinstance(path, URIRef) else None,
            str(value) if value is not None else None,
            isinstance(value, URIRef),
        )


@cache
def _compiled_shapes():
    from harvester.shacl_sparql import CompiledShapes

    return CompiledShapes.compile(shapes_graph())


def sparql_engine(records: list[Record]) -> Iterable[RawResult]:
    """The fast engine: the shapes compiled to SPARQL over an in-memory pyoxigraph store,
    giving pyshacl's results but where pyshacl departs from the SHACL specification
    (harvester/engine_differences.toml; tests/test_engine_differential.py checks it)."""
    from harvester.shacl_sparql import kept_line

    # every literal as written, whatever the store would make of it
    data = "".join(kept_line(line) for r in records for line in r.lines).encode("utf-8")
    for result in _compiled_shapes().validate_ntriples(data, kept=True):
        value = result.value
        yield (
            focus_key(result.focus),
            result.source_shape,
            SEVERITIES.get(result.severity, "Violation"),
            result.path,
            value.value if value is not None else None,
            isinstance(value, ox.NamedNode),
        )


ENGINES: dict[str, Engine] = {"pyshacl": pyshacl_engine, "sparql": sparql_engine}
DEFAULT_ENGINE = "sparql"


# --- records --------------------------------------------------------------------


def record_digest(record: Record) -> str:
    return hashlib.sha256("".join(sorted(record.lines)).encode("utf-8")).hexdigest()[:32]


def astuple(finding: Finding) -> list:
    return [
        finding.constraint,
        finding.severity,
        finding.focus,
        finding.path,
        finding.value,
        finding.value_is_iri,
    ]


@dataclass
class ValidationCache:
    """Findings of each record by content digest, valid for one version of the shapes."""

    shapes: str = ""
    records: dict[str, tuple[str, list[Finding]]] = field(default_factory=dict)

    def to_json(self) -> dict:
        # Findings as plain tuples: dataclasses.asdict costs more than validating.
        return {
            "shapes": self.shapes,
            "records": {
                iri: [digest, [astuple(f) for f in findings]]
                for iri, (digest, findings) in self.records.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict) -> ValidationCache:
        if data.get("shapes") != shapes_version():
            return cls(shapes_version())
        records = {
            iri: (digest, [Finding(*f) for f in findings])
            for iri, (digest, findings) in data.get("records", {}).items()
        }
        return cls(data["shapes"], records)


@dataclass(frozen=True)
class _Reach:
    """How a shape's focus nodes are found: instances of classes, or objects of
    predicates (the statements that lead to them)."""

    classes: frozenset[str] = frozenset()
    objects_of: frozenset[str] = frozenset()


@cache
def shape_reach() -> dict[str, _Reach]:
    """For each shape that reports results (named by IRI), how its focus nodes are
    reached: its own targets, those of the node shape whose ``sh:property`` it is, or
    the path of the property shape whose ``sh:property`` it is."""
    graph = shapes_graph()
    reach: dict[object, _Reach] = {}

    def path_predicates(shape) -> frozenset[str]:
        path = graph.value(shape, SH.path)
        if isinstance(path, URIRef):
            return frozenset({str(path)})
        alternatives = graph.value(path, SH.alternativePath) if path is not None else None
        if alternatives is None:
            return frozenset()
        return frozenset(str(m) for m in Collection(graph, alternatives))

    def visit(shape, found: _Reach, seen: frozenset) -> None:
        if shape in seen:
            return
        mine = _Reach(
            frozenset(str(c) for c in graph.objects(shape, SH.targetClass)),
            frozenset(str(p) for p in graph.objects(shape, SH.targetObjectsOf)),
        )
        here = _Reach(found.classes | mine.classes, found.objects_of | mine.objects_of)
        previous = reach.get(shape, _Reach())
        reach[shape] = _Reach(
            previous.classes | here.classes, previous.objects_of | here.objects_of
        )
        predicates = path_predicates(shape)
        for nested in graph.objects(shape, SH.property):
            # a property shape of a node shape has the same focus nodes; of a property
            # shape, the values of its path
            inner = _Reach(frozenset(), predicates) if predicates else here
            visit(nested, inner, seen | {shape})

    for shape in set(graph.subjects(SH.targetClass, None)) | set(
        graph.subjects(SH.targetObjectsOf, None)
    ):
        visit(shape, _Reach(), frozenset())
    return {str(shape): r for shape, r in reach.items() if isinstance(shape, URIRef)}


@cache
def _leading_predicates() -> frozenset[str]:
    return frozenset(p for r in shape_reach().values() for p in r.objects_of)


class _Leads:
    """The statements of the records validated whose object a shape targets: object
    (``focus_key``) → the subjects that lead to it. Built once, when first needed (a
    literal, a record or a shared node as focus: broken feeds)."""

    def __init__(self, records: Iterable[Record]) -> None:
        self.records = records
        self._index: dict[tuple[str, str], list[str]] | None = None

    def subjects(self, focus: str, predicates: frozenset[str]) -> list[str]:
        if self._index is None:
            self._index = {}
            read = {ox.NamedNode(p) for p in _leading_predicates()}
            for record in self.records:
                for t in record.triples:
                    if t.predicate in read:
                        key = (focus_key(t.object), t.predicate.value)
                        self._index.setdefault(key, []).append(t.subject.value)
        return [s for p in predicates for s in self._index.get((focus, p), ())]


def _charge(raw: Iterable[RawResult], split: SplitFeed, leads: _Leads) -> dict[str, list[Finding]]:
    """Each result charged to the records it concerns (see the module's docstring).
    A result on a node reached through a statement (``sh:targetObjectsOf``) goes to
    the records of the statements that lead to it, never to a record that does not
    write one: a place whose ``schema:geo`` is another place is the one at fault. A
    node that one record owns and no other links to is its owner's (no lookup)."""
    by_record: dict[str, list[Finding]] = {}
    reaches = shape_reach()
    records_, shared, owners = split.records, split.shared, split.owner
    for focus, shape, severity, path, value, value_is_iri in raw:
        reach = reaches.get(shape)
        owner = owners.get(focus)
        if (
            reach is None
            or not reach.objects_of
            or (owner is not None and focus not in records_ and focus not in shared)
        ):
            if owner is None:
                continue
            records: Iterable[str] = (owner,)
        else:  # a literal, a record, a shared node: the statements that lead to it
            leading = {owners.get(s) for s in leads.subjects(focus, reach.objects_of)}
            if reach.classes and focus in records_:
                leading.add(focus)  # a record, also a target as an instance of a class
            leading.discard(None)
            if not leading and owner:
                leading = {owner}
            records = sorted(leading)  # type: ignore[type-var]
        finding = Finding(shape, severity, focus, path, value, value_is_iri)
        for record in records:
            found = by_record.setdefault(record, [])
            # One constraint may fail through several components (datatype, range…): say it once.
            if finding not in found:
                found.append(finding)
    return by_record


def _foreign_nodes(todo: list[Record], split: SplitFeed) -> Record | None:
    """The statements of nodes the records to validate lead to (coordinates, address,
    hours) that another record owns, as one record-like group: validated with them, a
    record sees the same nodes alone as with the whole feed."""
    read = _leading_predicates()
    mine = {r.iri for r in todo}
    wanted: dict[str, set[str]] = {}  # owner → nodes
    for record in todo:
        for t in record.triples:
            if t.predicate.value in read and type(t.object) is ox.NamedNode:
                node = t.object.value
                owner = split.owner.get(node)
                if owner is not None and owner not in mine:
                    wanted.setdefault(owner, set()).add(node)
    if not wanted:
        return None
    triples = [
        t
        for owner, nodes in sorted(wanted.items())
        for t in split.records[owner].triples
        if t.subject.value in nodes
    ]
    return Record("", [], triples)


def run_engine(engine: str, records: list[Record]) -> list[RawResult]:
    """The raw results of an engine; EngineError when it fails (validation impossible)."""
    try:
        return list(ENGINES[engine](records))
    except Exception as error:  # whatever the engine raises: pyshacl, rdflib, the store
        raise EngineError(engine, error) from error


def _cascade(results: dict[str, RecordResult]) -> None:
    """Reject what depends on a rejected record of the same feed, until nothing changes
    (one finding per record: its first link to a record rejected before this round)."""
    dependents = []
    for iri, result in results.items():
        links = [
            (predicate, target)
            for record_class in result.record.classes
            for predicate in _DEPENDENCIES.get(record_class, ())
            for target in result.record.links(predicate)
        ]
        if links:
            dependents.append((iri, result, links))
    rejected = {iri for iri, r in results.items() if r.rejected}
    while True:
        newly = []
        for iri, result, links in dependents:
            if iri in rejected:
                continue
            for predicate, target in links:
                if target in rejected:
                    result.findings.append(
                        Finding(CASCADE, "Violation", iri, predicate, target, True)
                    )
                    newly.append(iri)
                    break
        if not newly:
            return
        rejected.update(newly)


def no_record_error() -> FeedError:
    return FeedError(
        "aucune fiche d'un type connu (Lieu, Organisation, Reseau, Presence, Evenement, "
        "LabelConvergence) : vérifiez les types et le contexte JSON-LD",
        "no record of a known type (schema:Place, schema:Organization, ltc:Network, "
        "ltc:Presence, schema:Event, ltc:ConvergenceLabel): check the types and the context",
    )


def validate_split(
    split: SplitFeed,
    source: str,
    *,
    engine: str = DEFAULT_ENGINE,
    cache: ValidationCache | None = None,
) -> FeedValidation:
    """Validate records, reusing ``cache`` for unchanged ones and refreshing it in place."""
    if not split.records:
        raise no_record_error()
    cache = cache if cache is not None and cache.shapes == shapes_version() else None
    digests = {iri: record_digest(r) for iri, r in split.records.items()}
    findings: dict[str, list[Finding]] = {}
    todo = []
    for iri, digest in digests.items():
        cached = cache.records.get(iri) if cache else None
        if cached and cached[0] == digest:
            findings[iri] = list(cached[1])
        else:
            todo.append(iri)
    if todo:
        records = [split.records[iri] for iri in todo]
        foreign = _foreign_nodes(records, split) if len(todo) < len(split.records) else None
        given = [*records, foreign] if foreign else records
        fresh = _charge(run_engine(engine, given), split, _Leads(given))
        for iri in todo:
            findings[iri] = fresh.get(iri, [])
    if cache is not None:
        cache.records = {iri: (digests[iri], list(findings[iri])) for iri in digests}
    results = {
        iri: RecordResult(record, findings[iri]) for iri, record in sorted(split.records.items())
    }
    _cascade(results)
    return FeedValidation(source, list(results.values()), split.ignored, revalidated=len(todo))


def validate_triples(
    triples: list[ox.Triple], source: str, *, engine: str = DEFAULT_ENGINE
) -> FeedValidation:
    """Validate the normalised triples of one feed; nothing is loaded anywhere."""
    return validate_split(split_records(triples, source), source, engine=engine)


def record_findings(validation: FeedValidation) -> list[RecordFindings]:
    """The findings of each record with any, for ``findings.json``
    (``core.harvest_files``): the report as people read it, grouped by record."""
    return [
        RecordFindings(
            result.record.iri,
            list(result.record.classes),
            result.record.name,
            [
                DocumentedFinding(
                    f.severity,
                    f.constraint,
                    f.focus,
                    f.path,
                    f.value,
                    f.value_is_iri,
                    constraint_messages(f.constraint),
                )
                for f in result.findings
            ],
        )
        for result in validation.results
        if result.findings
    ]


def _nt_focus(focus: str) -> str:
    """A finding's focus in N-Triples: an IRI, or a literal already written so."""
    return focus if focus.startswith('"') else f"<{focus}>"


def _rdflib_focus(focus: str) -> URIRef | Literal:
    if not focus.startswith('"'):
        return URIRef(focus)
    (quad,) = ox.parse(f"<urn:x> <urn:x> {focus} .".encode(), format=ox.RdfFormat.N_TRIPLES)
    return _to_rdflib(quad.object)


def _nt_literal(text: str, lang: str | None = None) -> str:
    return str(ox.Literal(text, language=lang)) if lang else str(ox.Literal(text))


class Reports(NamedTuple):
    full: bytes  # every result: the source's ``report.nt`` and its /sources page
    stored: bytes  # what the store keeps: the same without sh:Info (``without_info``)


def report_ntriples(validation: FeedValidation, report_iri: str) -> Reports:
    """The ``sh:ValidationReport`` as N-Triples, its nodes named inside ``report_iri``
    (written directly: building an rdflib graph of it costs more than validating), in
    full and as the store keeps it."""
    sh = str(SH)
    head = [
        f"<{report_iri}> <{RDF.type}> <{sh}ValidationReport> .",
        f"<{report_iri}> <{sh}conforms> "
        f'"{str(not any(r.findings for r in validation.results)).lower()}"^^<{XSD.boolean}> .',
    ]
    full, stored = list(head), list(head)
    messages: dict[str, list[str]] = {}
    n = 0
    for result in validation.results:
        for finding in result.findings:
            n += 1
            node = f"<{report_iri}#r{n}>"
            if finding.constraint not in messages:
                messages[finding.constraint] = [
                    _nt_literal(text, lang)
                    for lang, text in constraint_messages(finding.constraint).items()
                ]
            lines = [
                f"<{report_iri}> <{sh}result> {node} .",
                f"{node} <{RDF.type}> <{sh}ValidationResult> .",
                f"{node} <{sh}focusNode> {_nt_focus(finding.focus)} .",
                f"{node} <{sh}sourceShape> <{finding.constraint}> .",
                f"{node} <{sh}resultSeverity> <{sh}{finding.severity}> .",
            ]
            if finding.path:
                lines.append(f"{node} <{sh}resultPath> <{finding.path}> .")
            if finding.value is not None:
                value = f"<{finding.value}>" if finding.value_is_iri else _nt_literal(finding.value)
                lines.append(f"{node} <{sh}value> {value} .")
            lines += [f"{node} <{sh}resultMessage> {m} ." for m in messages[finding.constraint]]
            full += lines
            if finding.severity != "Info":
                stored += lines
    return Reports(
        ("\n".join(full) + "\n").encode("utf-8"), ("\n".join(stored) + "\n").encode("utf-8")
    )


def without_info(report: bytes) -> bytes:
    """The report as the store keeps it: without its ``sh:Info`` results (suggestions such
    as "add opening hours", most of a typical report). The full report stays in the
    source's ``report.nt`` and on its /sources page. Reads ``report_ntriples`` output,
    where each result is a ``<…#rN>`` node written on lines of its own."""
    info_marker = f"> <{SH}resultSeverity> <{SH}Info> .".encode()
    info_nodes = {
        line[: line.index(b" ")] for line in report.splitlines() if line.endswith(info_marker)
    }
    if not info_nodes:
        return report
    kept = [
        line
        for line in report.splitlines()
        if line[: line.find(b" ")] not in info_nodes and line.rsplit(b" ", 2)[-2] not in info_nodes
    ]
    return b"\n".join(kept) + b"\n"


def report_graph(validation: FeedValidation) -> Graph:
    """The feed's ``sh:ValidationReport``, cascades included."""
    graph = Graph()
    graph.bind("sh", str(SH))
    graph.bind("ltcsh", "https://w3id.org/ltc/shapes#")
    report = BNode()
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, Literal(not any(r.findings for r in validation.results))))
    for result in validation.results:
        for finding in result.findings:
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.focusNode, _rdflib_focus(finding.focus)))
            graph.add((node, SH.sourceShape, URIRef(finding.constraint)))
            graph.add((node, SH.resultSeverity, SH[finding.severity]))
            if finding.path:
                graph.add((node, SH.resultPath, URIRef(finding.path)))
            if finding.value is not None:
                value = URIRef(finding.value) if finding.value_is_iri else Literal(finding.value)
                graph.add((node, SH.value, value))
            for lang, text in constraint_messages(finding.constraint).items():
                graph.add((node, SH.resultMessage, Literal(text, lang=lang)))
    return graph
