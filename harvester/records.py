"""Cut a normalised feed into records: typed resources with the nodes they own.

A record is a resource with one of the six record classes. It owns the nodes described
in the feed that hang from it and are not records themselves (address, coordinates,
opening hours: skolemised blank nodes, or IRIs such as ``<lieu/1#adresse>``), but not
other records it links to. Statements about anything else are set aside and reported.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from core.vocab import RDF_TYPE, RECORD_CLASSES, SCHEMA

_TYPE = ox.NamedNode(RDF_TYPE)
_NAME = ox.NamedNode(SCHEMA + "name")


@dataclass
class Record:
    iri: str
    classes: list[str]
    triples: list[ox.Triple] = field(default_factory=list)

    @cached_property
    def lines(self) -> list[str]:
        """The record's statements as N-Triples lines (computed once: digests, loading)."""
        return [f"{t} .\n" for t in self.triples]

    @property
    def name(self) -> str | None:
        names = sorted(t.object.value for t in self.triples if t.predicate == _NAME)
        return names[0] if names else None

    def links(self, predicate: str) -> list[str]:
        """IRIs this record points to through ``predicate`` (on the record itself)."""
        return [
            t.object.value
            for t in self.triples
            if t.subject.value == self.iri
            and t.predicate.value == predicate
            and isinstance(t.object, ox.NamedNode)
        ]


@dataclass
class SplitFeed:
    records: dict[str, Record]
    owner: dict[str, str]  # IRI of a record or of a node it owns → the record's IRI
    ignored: list[ox.Triple]
    # nodes (not records) that the nodes of more than one record link to: one owns them,
    # the others' statements lead to them too (validation charges them all)
    shared: set[str] = field(default_factory=set)


def split_records(triples: list[ox.Triple], source: str = "") -> SplitFeed:
    """Group the statements of a normalised feed by the record that owns their subject."""
    classes: dict[str, list[str]] = defaultdict(list)
    outgoing: dict[str, list[ox.Triple]] = defaultdict(list)
    links: dict[str, list[str]] = defaultdict(list)  # subject → IRIs it points to
    # Each term is read once here (reading a term builds a new Python object).
    for t in triples:
        subject_node, predicate, target = t
        subject = subject_node.value
        outgoing[subject].append(t)
        if type(target) is ox.NamedNode:
            if predicate == _TYPE:
                if (value := target.value) in RECORD_CLASSES:
                    classes[subject].append(value)
            else:
                links[subject].append(target.value)
    records = {iri: Record(iri, sorted(found)) for iri, found in classes.items()}
    owner: dict[str, str] = {}
    shared: set[str] = set()
    for iri in sorted(records):
        owner[iri] = iri
        queue = deque([iri])
        while queue:
            for target in links.get(queue.popleft(), ()):
                if target in outgoing and target not in records:
                    if target not in owner:
                        owner[target] = iri
                        queue.append(target)
                    elif owner[target] != iri:
                        shared.add(target)
    ignored: list[ox.Triple] = []
    # Statements were grouped by subject above: hand each group over whole.
    for subject, group in outgoing.items():
        record_iri = owner.get(subject)
        if record_iri is None:
            ignored.extend(group)
        else:
            records[record_iri].triples.extend(group)
    return SplitFeed(records, owner, ignored, shared)
