"""Harvest provenance (PROV-O) and the DCAT description of each source, as N-Triples.

Each harvest is a ``prov:Activity`` (``ltc:Harvest``) in the metadata graph: which
source, when, the HTTP validators and content hash it saw, how many records it
accepted, rejected and warned, the shapes version, and its outcome. Each source is
described there as ``core.catalog.source_description`` says, with its last harvests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from core.catalog import Source, source_description
from core.iris import Iris
from core.vocab import LTC, PROV, RDF_TYPE, XSD


@dataclass
class HarvestRecord:
    source: str
    started: datetime
    ended: datetime
    status: str  # loaded, unchanged, failed, held
    message: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    accepted: int = 0
    rejected: int = 0
    warned: int = 0
    dropped: int = 0
    shapes_version: str | None = None
    loaded: bool = False


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _time(moment: datetime) -> ox.Literal:
    return ox.Literal(moment.isoformat().replace("+00:00", "Z"), datatype=_iri(XSD + "dateTime"))


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_iri(XSD + "integer"))


def ntriples(triples: list[ox.Triple]) -> bytes:
    return "".join(f"{t} .\n" for t in triples).encode("utf-8")


def activity_triples(record: HarvestRecord, iris: Iris) -> list[ox.Triple]:
    activity = _iri(iris.harvest(record.source, record.started))
    out = [
        (RDF_TYPE, _iri(PROV + "Activity")),
        (RDF_TYPE, _iri(LTC + "Harvest")),
        (PROV + "used", _iri(iris.source(record.source))),
        (PROV + "wasAssociatedWith", _iri(iris.registry)),
        (PROV + "startedAtTime", _time(record.started)),
        (PROV + "endedAtTime", _time(record.ended)),
        (LTC + "status", ox.Literal(record.status)),
        (LTC + "acceptedRecords", _int(record.accepted)),
        (LTC + "rejectedRecords", _int(record.rejected)),
        (LTC + "warnedRecords", _int(record.warned)),
        (LTC + "droppedStatements", _int(record.dropped)),
    ]
    optional = {
        LTC + "message": record.message,
        LTC + "httpETag": record.etag,
        LTC + "httpLastModified": record.last_modified,
        LTC + "contentHash": record.content_hash,
        LTC + "shapesVersion": record.shapes_version,
    }
    out += [(p, ox.Literal(v)) for p, v in optional.items() if v]
    if record.loaded:
        out.append((PROV + "generated", _iri(iris.source_graph(record.source))))
        out.append((LTC + "validationReport", _iri(iris.report_graph(record.source))))
    return [ox.Triple(activity, _iri(p), o) for p, o in out]


def source_triples(
    source: Source, iris: Iris, last: HarvestRecord, last_success: str | None
) -> list[ox.Triple]:
    """The DCAT description of a source (``core.catalog.source_description``) with its
    latest harvest (replaced each time)."""
    node = _iri(iris.source(source.id))
    out = source_description(source, iris)
    out.append(
        ox.Triple(node, _iri(LTC + "lastHarvest"), _iri(iris.harvest(source.id, last.started)))
    )
    if last_success:
        out.append(
            ox.Triple(
                node,
                _iri(LTC + "lastSuccessfulHarvest"),
                ox.Literal(last_success, datatype=_iri(XSD + "dateTime")),
            )
        )
    return out


def forget_source_description(meta_graph: str, source_iri: str) -> str:
    """A SPARQL Update removing what the metadata graph says of a source."""
    return (
        f"DELETE WHERE {{ GRAPH <{meta_graph}> {{ <{source_iri}> ?p ?o }} }} ;\n"
        f"DELETE WHERE {{ GRAPH <{meta_graph}> {{ <{source_iri}#distribution> ?p ?o }} }} ;\n"
        f"DELETE WHERE {{ GRAPH <{meta_graph}> {{ <{source_iri}#contact> ?p ?o }} }}"
    )


def replace_source_description(meta_graph: str, source_iri: str, triples: list[ox.Triple]) -> str:
    """One SPARQL Update replacing what the metadata graph says of a source."""
    body = ntriples(triples).decode("utf-8")
    return (
        f"{forget_source_description(meta_graph, source_iri)} ;\n"
        f"INSERT DATA {{ GRAPH <{meta_graph}> {{\n{body}}} }}"
    )
