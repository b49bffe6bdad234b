"""What every store backend offers the harvester (one writer) and the web tier (readers).

Data model: one named graph per source plus the registry's own metadata graphs; the
default graph is not used. Queries see the *union of the named graphs* as their
default graph on every backend (and ``GRAPH ?g`` still names each one), so the same
SPARQL text runs unchanged on the embedded store and on a remote server. Oxigraph (the
library and the server alike) yields a triple held by two graphs twice in that union:
use DISTINCT where it matters.

Bindings are never formatted into the query as text: the embedded store passes them
to pyoxigraph as ``substitutions``; the remote store adds a ``VALUES`` block built from
the terms' N-Triples form (which pyoxigraph has already validated and escaped) at the
top of the query's outermost ``WHERE`` group. Both make a bound variable visible to
the patterns and ``FILTER``s of that group; use the same variable there, not in nested
sub-groups, for identical results on both backends. pyoxigraph also requires a bound
variable to be projected (named in the SELECT clause, even if only a FILTER uses it;
for ASK, bound by a pattern) and the embedded store refuses the query otherwise; the
remote backend is more lenient, so a query that runs on the embedded store runs on both.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import BinaryIO, Self

import pyoxigraph as ox

from core import sparql_text
from core.vocab import LTC

Term = ox.NamedNode | ox.Literal | ox.BlankNode

# Reserved graph where a remote store keeps its generation (the embedded store keeps
# it in a file). It is hidden from queries, named_graphs() and dumps on both backends.
GENERATION_GRAPH = "https://w3id.org/ltc/graph/generation"
REGISTRY_IRI = "https://w3id.org/ltc/registry"
GENERATION_PREDICATE = LTC + "generation"
RESERVED_GRAPHS = frozenset({GENERATION_GRAPH})


class StoreError(Exception):
    """The store cannot do what was asked; the message says what to do about it."""


class StoreFailed(StoreError):
    """The store itself failed (a remote server unreachable, in error, or answering
    something the registry cannot trust, such as a cut answer): not the caller's fault,
    and not cured by waiting (the web tier answers 502)."""


class Store(abc.ABC):
    """An RDF dataset of named graphs, written by one harvester and read by many.

    ``writer`` handles may change graphs and ``publish()``; reader handles only query.
    """

    writer: bool

    # -- queries -------------------------------------------------------------------

    @abc.abstractmethod
    def select(
        self, query: str, bindings: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        """Rows of a SELECT query; unbound variables are absent from a row."""

    @abc.abstractmethod
    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool:
        """Answer of an ASK query."""

    @abc.abstractmethod
    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        """Triples of a CONSTRUCT (or DESCRIBE) query."""

    # Whether ``statements`` and ``pairs`` are cheap local reads (embedded store), so a
    # reader joining scans in Python beats a SPARQL join (registry/directory_scans.py);
    # on a server they are whole-predicate answers, which its row limit may cut.
    scans_are_fast: bool = False

    def statements(
        self, predicate: str, obj: Term | None = None
    ) -> Iterator[tuple[Term, Term, ox.NamedNode]]:
        """(subject, object, graph) of every statement of the named graphs with this
        predicate (and object, if given), in no particular order."""
        query = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
        bindings: dict[str, Term] = {"p": ox.NamedNode(predicate)}
        if obj is not None:
            bindings["o"] = obj
        for row in self.select(query, bindings):
            yield row["s"], row["o"], row["g"]

    def pairs(self, predicate: str) -> Iterator[tuple[Term, Term]]:
        """(subject, object) of the statements with this predicate over the union of the
        named graphs (as queries read it), in no particular order: cheaper than
        ``statements`` when the graph does not matter."""
        query = f"SELECT ?s ?o WHERE {{ ?s {ox.NamedNode(predicate)} ?o }}"
        for row in self.select(query):
            yield row["s"], row["o"]

    # -- writes ----------------------------------------------------------------------

    @abc.abstractmethod
    def update(self, sparql_update: str) -> None:
        """Run a SPARQL 1.1 Update as one transaction."""

    @abc.abstractmethod
    def graph_ntriples(self, graph: str) -> bytes:
        """The graph's content as N-Triples (empty if the graph does not exist)."""

    @abc.abstractmethod
    def replace_graph(self, graph: str, ntriples: bytes, previous: bytes | None = None) -> None:
        """Make the graph hold exactly ``ntriples`` (empty content drops the graph)."""

    def apply_delta(self, graph: str, remove: bytes, add: bytes) -> None:
        """Delete then insert N-Triples in one transaction: one SPARQL Update of
        DELETE DATA and INSERT DATA. ``remove`` cannot hold blank nodes (SPARQL cannot
        name a stored blank node); blank nodes in ``add`` become new nodes."""
        self._require_writer()
        node = graph_node(graph, writing=True)
        remove_lines, remove_blank = canonical_lines(
            remove, f"the triples to remove from <{graph}>"
        )
        if remove_blank:
            raise StoreError(
                f"cannot remove blank nodes from <{graph}> by content: replace the graph instead"
            )
        add_lines, _ = canonical_lines(add, f"the triples to add to <{graph}>")
        if remove_lines or add_lines:
            self.update(delta_update(node, sorted(remove_lines), sorted(add_lines)))

    @abc.abstractmethod
    def drop_graph(self, graph: str) -> None:
        """Remove the graph and its content (no error if it does not exist)."""

    @abc.abstractmethod
    def named_graphs(self) -> set[str]:
        """IRIs of the named graphs holding at least one triple (reserved ones hidden)."""

    def reload_lost_graphs(self) -> list[str]:
        """Writer: compare what the store holds of each graph with what the registry wrote
        there, write again every graph the store lost statements of (a server restarted
        without a checkpoint, for instance) and return them. Nothing can be lost this
        way on the embedded store (its writes are synchronous): an empty list."""
        self._require_writer()
        return []

    # -- generations -------------------------------------------------------------------

    @abc.abstractmethod
    def publish(self) -> str:
        """Make the current content visible to readers; return the new generation."""

    @abc.abstractmethod
    def generation(self) -> str:
        """The generation this handle's readers see ("" before the first publish)."""

    def latest_generation(self) -> str:
        """The generation published last, which a reader handle may not have open yet
        (``refresh()`` or a new handle moves to it)."""
        return self.generation()

    def incomplete_graphs(self) -> set[str]:
        """Graphs left half-written by an interrupted non-transactional write; while any
        remain, ``publish()`` refuses to run. Empty on backends whose writes are atomic."""
        return set()

    def refresh(self) -> bool:
        """Follow a newer published generation; True when something changed."""
        return False

    # -- export and life cycle -------------------------------------------------------

    @abc.abstractmethod
    def dump_nquads(self, out: BinaryIO) -> None:
        """Write every named graph as N-Quads (dumps, backups, moving between backends)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store (and, for a writer, the single-writer lock)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _require_writer(self) -> None:
        if not self.writer:
            raise StoreError(
                "this store handle is read-only: open it with writer=True "
                "(only the harvester writes the store)"
            )


# -- helpers shared by the backends ------------------------------------------------------


def graph_node(graph: str, *, writing: bool = False) -> ox.NamedNode:
    """The graph's IRI as a term, refusing invalid IRIs and, for writes, reserved graphs."""
    try:
        node = ox.NamedNode(graph)
    except ValueError as error:
        raise StoreError(f"{graph!r} is not a valid graph IRI: {error}") from error
    if writing and graph in RESERVED_GRAPHS:
        raise StoreError(f"<{graph}> is reserved for the store's own bookkeeping")
    return node


def canonical_lines(ntriples: bytes, what: str) -> tuple[set[str], bool]:
    """Parse N-Triples into canonical lines and say if any blank node occurs.

    pyoxigraph re-serialises each triple (the same form as ``str(term)``, and as its
    store's dumps), in Rust: ~0.7 s for 300 000 triples, twice as fast as formatting
    terms in Python. Parsing first also means invalid input changes nothing."""
    try:
        data = ox.serialize(
            ox.parse(input=ntriples, format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES
        )
    except SyntaxError as error:
        raise StoreError(f"{what} is not valid N-Triples: {error}") from error
    blank = b"_:" in data and any(
        isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)
        for quad in ox.parse(input=data, format=ox.RdfFormat.N_TRIPLES)
    )
    return set(data.decode("utf-8").splitlines()), blank


def delta_update(
    graph: ox.NamedNode, remove: Iterable[str], add: Iterable[str], block: int | None = None
) -> str:
    """One SPARQL Update text deleting then inserting canonical N-Triples lines. With
    ``block``, each DELETE DATA / INSERT DATA operation holds at most that many lines
    (still one request: Virtuoso's parser gives up on one block of ~5 000 statements)."""
    parts = []
    for keyword, lines in (("DELETE", list(remove)), ("INSERT", list(add))):
        size = block or len(lines) or 1
        for start in range(0, len(lines), size):
            text = "\n".join(lines[start : start + size])
            parts.append(f"{keyword} DATA {{ GRAPH {graph} {{\n{text}\n}} }}")
    return " ;\n".join(parts)


def nquads_of_graph(ntriples: bytes, graph: str, out: BinaryIO) -> None:
    """Write a graph's N-Triples as N-Quads in that graph (re-serialised, so any
    server's N-Triples flavour comes out canonical)."""
    node = ox.NamedNode(graph)
    quads = (
        ox.Quad(q.subject, q.predicate, q.object, node)
        for q in ox.parse(input=ntriples, format=ox.RdfFormat.N_TRIPLES)
    )
    ox.serialize(quads, out, ox.RdfFormat.N_QUADS)


_GENERATION = re.compile(r"^g(\d+)-")


def generation_number(name: str) -> int:
    """The counter of a generation name, -1 for anything else."""
    match = _GENERATION.match(name)
    return int(match.group(1)) if match else -1


def next_generation(previous: Iterable[str]) -> str:
    """A name after every one given, sortable as text: ``g000042-20261130T021500Z``."""
    number = max((generation_number(name) for name in previous), default=-1) + 1
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"g{number:06d}-{stamp}"


_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def row_text(row: Mapping[str, Term], name: str) -> str:
    """The text of a row's value for ``name`` (IRI or literal), "" when unbound."""
    term = row.get(name)
    return term.value if term is not None else ""


def checked_bindings(bindings: Mapping[str, Term] | None) -> dict[str, ox.NamedNode | ox.Literal]:
    """Bindings with their names stripped of ``?``/``$`` and checked; IRIs and literals only
    (a blank node has no identity outside the store, so it cannot be sent back)."""
    checked: dict[str, ox.NamedNode | ox.Literal] = {}
    for name, term in (bindings or {}).items():
        bare = name.lstrip("?$")
        if not _VARIABLE.match(bare):
            raise StoreError(f"binding name {name!r} is not a SPARQL variable name")
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise StoreError(
                f"binding ?{bare} must be a pyoxigraph NamedNode or Literal, "
                f"not {type(term).__name__}"
            )
        checked[bare] = term
    return checked


def with_values(query: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """The query with a one-row ``VALUES`` block opening its outermost WHERE group.

    A bare sub-select (``WHERE { SELECT … }``) is wrapped as ``{ VALUES … { SELECT … } }``
    since a sub-select must stand alone in its group, and the short form
    ``CONSTRUCT WHERE { P }`` becomes ``CONSTRUCT { P } WHERE { VALUES … P }``.
    """
    if not bindings:
        return query
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(str(term) for term in bindings.values())
    block = f" VALUES ({names}) {{ ({values}) }} "
    form = None
    after_form: re.Match[str] | None = None
    groups = 0
    depth = 0
    target = None
    for match in sparql_text.tokens(query):
        kind = match.lastgroup
        if kind == sparql_text.SPACE or kind == sparql_text.COMMENT:
            continue
        if target is not None:
            # first significant token inside the WHERE group
            end = _matching_brace(query, target)
            inner = query[target + 1 : end]
            if kind == sparql_text.WORD and match.group().upper() == "SELECT":
                inner = "{ " + inner + " }"
            if (
                form == "CONSTRUCT"
                and after_form is not None
                and after_form.lastgroup == sparql_text.WORD
            ):
                head, template, tail = (
                    query[: after_form.start()],
                    query[target : end + 1],
                    query[end + 1 :],
                )
                return f"{head}{template} WHERE {{{block}{inner}}}{tail}"
            return f"{query[: target + 1]}{block}{inner}{query[end:]}"
        if form is not None and after_form is None:
            after_form = match
        if kind == sparql_text.WORD and depth == 0 and form is None:
            upper = match.group().upper()
            if upper in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
                form = upper
        elif kind == sparql_text.OPEN and match.group() == "{":  # ( and [ make no group
            if depth == 0:
                groups += 1
                template = (
                    form == "CONSTRUCT"
                    and after_form is not None
                    and after_form.group() == "{"
                    and groups == 1
                )
                if not template:
                    target = match.start()
            depth += 1
        elif kind == sparql_text.CLOSE and match.group() == "}":
            depth -= 1
    raise StoreError("bindings need a query with a closed WHERE { … } group")


def _matching_brace(query: str, start: int) -> int:
    end = sparql_text.matching_close(query, start)
    if end is None:
        raise StoreError("the query's WHERE group is not closed")
    return end
