"""A graph's records: each subject IRI with its statements and those of the nodes it owns.

A record (a place, an organisation, a presence, an event, a cluster of the derived
graph…) is identified by its subject IRI. It owns the blank nodes and the registry's
skolem IRIs (``core.vocab.GENID``) it points to — an address, a geometry, opening
hours — and their own nodes in turn, and the subjects named after it with a fragment
(``<…/lieu/12#adresse>`` when ``<…/lieu/12>`` is a subject too): that closure is the
record's content, and its digest tells whether the record changed between two versions
of a graph.

Input is N-Triples as the store and ``accepted.nt`` write it: one statement per line,
which is read line by line (a record's statements are kept as lines, never parsed into
terms, so a source of 600 000 statements splits in a fraction of a second).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

from core.vocab import GENID, LTC, RDF_TYPE, SCHEMA

# The kinds a change feed names; the first type found in this order decides.
KINDS: dict[str, str] = {
    SCHEMA + "Place": "place",
    SCHEMA + "Organization": "organisation",
    LTC + "Presence": "presence",
    SCHEMA + "Event": "event",
    LTC + "PlaceCluster": "place-cluster",
    LTC + "Network": "network",
    LTC + "ConvergenceLabel": "convergence-label",
    LTC + "IdentityLink": "identity-link",
}
OTHER = "other"
_TYPE = f"<{RDF_TYPE}>"
# the object of a line when it is a node (an IRI or a blank node), not a literal
_NODE_OBJECT = re.compile(r" (<[^>]*>|_:\S+) \.\s*$")


@dataclass(frozen=True)
class Record:
    iri: str
    kind: str
    lines: tuple[str, ...]  # its statements and its owned nodes', sorted
    digest: str


def _owned(node: str) -> bool:
    return node.startswith("_:") or node.startswith(f"<{GENID}")


def split_records(ntriples: bytes) -> dict[str, Record]:
    """The graph's records by IRI. Statements about owned nodes nobody points to (none in
    the registry's graphs) belong to no record."""
    by_subject: dict[str, list[str]] = defaultdict(list)
    for raw in ntriples.decode("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        by_subject[line[: line.index(" ")]].append(line)
    fragments: dict[str, list[str]] = defaultdict(list)
    for subject in by_subject:
        owner = _fragment_owner(subject)
        if owner is not None and owner in by_subject:
            fragments[owner].append(subject)
    records = {}
    for subject, lines in by_subject.items():
        if _owned(subject) or not subject.startswith("<"):
            continue
        owner = _fragment_owner(subject)
        if owner is not None and owner in by_subject:
            continue
        parts = sorted(fragments.get(subject, ()))
        closure = _closure([subject, *parts], by_subject)
        if any("_:" in line for line in closure):
            digest = _digest(subject, by_subject)
            if parts:
                inner = "".join(_digest(part, by_subject) for part in parts)
                digest = hashlib.sha256((digest + inner).encode()).hexdigest()[:32]
        else:  # no label to abstract from (the harvester skolemises): the sorted lines
            digest = hashlib.sha256("\n".join(closure).encode("utf-8")).hexdigest()[:32]
        iri = subject[1:-1]
        records[iri] = Record(iri, _kind(lines), closure, digest)
    return records


def _fragment_owner(subject: str) -> str | None:
    """``<…/lieu/12>`` for ``<…/lieu/12#adresse>``; None for a subject without fragment."""
    if not subject.startswith("<") or "#" not in subject:
        return None
    return subject[: subject.index("#")] + ">"


def _closure(subjects: list[str], by_subject: dict[str, list[str]]) -> tuple[str, ...]:
    seen = set(subjects)
    pending = list(subjects)
    lines: list[str] = []
    while pending:
        for line in by_subject.get(pending.pop(), ()):
            lines.append(line)
            found = _NODE_OBJECT.search(line)
            if found and _owned(found.group(1)) and found.group(1) not in seen:
                seen.add(found.group(1))
                pending.append(found.group(1))
    return tuple(sorted(lines))


def _digest(subject: str, by_subject: dict[str, list[str]]) -> str:
    """A digest of the record's content that does not depend on blank node labels: each
    owned node is replaced by the digest of its own statements (a Merkle tree; a cycle of
    owned nodes is cut where it closes)."""

    def node_digest(node: str, path: frozenset[str]) -> str:
        parts = []
        for line in by_subject.get(node, ()):
            rest = line[len(node) :]
            found = _NODE_OBJECT.search(line)
            if found and found.group(1).startswith("_:"):
                inner = found.group(1)
                label = "_:cycle" if inner in path else node_digest(inner, path | {inner})
                rest = rest[: found.start(1) - len(node)] + label + " ."
            parts.append(rest)
        return hashlib.sha256("\n".join(sorted(parts)).encode("utf-8")).hexdigest()[:32]

    return node_digest(subject, frozenset({subject}))


def _kind(lines: list[str]) -> str:
    types = {
        line.rsplit(" ", 2)[1][1:-1]
        for line in lines
        if line.split(" ", 2)[1] == _TYPE and line.rstrip().endswith("> .")
    }
    return next((kind for iri, kind in KINDS.items() if iri in types), OTHER)
