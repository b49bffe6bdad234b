"""Authority: a source speaks only about subjects inside its own namespaces.

Statements about anyone else's subjects (another network's place, schema.org terms,
shapes or ontology axioms sent inside a feed) are dropped and reported; referring to
other IRIs as objects stays allowed (a presence at another network's place).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pyoxigraph as ox

from harvester.normalise import genid_prefix


@dataclass
class AuthorityResult:
    kept: list[ox.Triple]
    dropped: int = 0
    dropped_subjects: Counter[str] = field(default_factory=Counter)


def restrict(triples: list[ox.Triple], namespaces: tuple[str, ...], source: str) -> AuthorityResult:
    """Keep the statements whose subject the source owns (its namespaces and skolem IRIs)."""
    owned = (*namespaces, genid_prefix(source))
    kept: list[ox.Triple] = []
    dropped: Counter[str] = Counter()
    for triple in triples:
        subject = triple.subject
        if isinstance(subject, ox.NamedNode) and subject.value.startswith(owned):
            kept.append(triple)
        else:
            dropped[str(subject.value)] += 1
    return AuthorityResult(kept, sum(dropped.values()), dropped)
