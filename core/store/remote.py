"""Any SPARQL 1.1 server (Oxigraph server, Virtuoso, Fuseki, GraphDB, QLever…) as the store.

Only the three standard protocols are used: Query (URL-encoded POST; the ``Accept``
header follows the query form: SPARQL JSON results for SELECT and ASK, N-Triples for
CONSTRUCT and DESCRIBE), Update (POST ``application/sparql-update``) and the Graph Store
HTTP Protocol. Measured servers and their pitfalls: ``docs/virtuoso.md`` and the README.

**The registry's own list of graphs.** Servers disagree on what the default graph is and
some cannot enumerate graphs (Virtuoso answers ``GRAPH ?g {}`` with one empty row). So
the registry never asks: at each ``publish()`` it writes, in its reserved bookkeeping
graph (``GENERATION_GRAPH``), the generation, every graph it holds with its statement
count (``void:triples``), and a fixed probe of values (below). Every query names its
dataset with ``default-graph-uri`` and ``named-graph-uri``, both listing those graphs
(never an empty list, which a server reads as "every graph": ``NO_GRAPH`` then), so the
default graph is their union and ``GRAPH ?g`` ranges over them, as on the embedded store.

**The writer's copy.** The harvester's writer handle keeps, in the data folder's
``store/`` (the embedded backend's live store, opened the same way and under the same
single-writer lock), an exact copy of what it wrote to the server. Deltas are computed
from the caller's files or from that copy, never from the server's serialisation (which
may change values); the writer's ``graph_ntriples``, ``named_graphs`` and dumps read the
copy. ``reload_lost_graphs()`` compares each graph's statement count on the server with
the copy and writes back any graph the server lost statements of (a server restarted
without a checkpoint loses its latest writes). Switching a data folder from the embedded
backend to a server therefore loads the server from the embedded store; a new data
folder in front of a populated server copies it first.

**Values.** The probe is a set of literals (doubles, decimals, WKT, dates, non-ASCII
text…) stored in the bookkeeping graph. Comparing what the server answers with what the
embedded store answers for the same literals tells how this server changes values, and
how to undo it when it can be undone: a datatype renamed (Virtuoso: ``geo:wktLiteral``
answered as ``virtrdf:Geometry``), a lexical form answered lossily but exact as text
(Virtuoso: ``xsd:double`` with 6 significant digits, exact through ``STR``: the answer
is asked again with each such value's text), a non-canonical form (written as the
embedded store writes it). What cannot be undone (a value the server *stores* altered)
is said in the log at every harvest, and ``publish()`` compares the numeric and WKT
values of every changed graph with the copy and says which ones differ.

**No silent truncation.** A server may cut answers at its row limit (Virtuoso's
``ResultSetMaxRows``, 10 000 by default, with only an ``X-SPARQL-MaxRows`` header; it
cuts CONSTRUCT and Graph Store reads with no sign at all). A cut is recognised by that
header, or by a row count reaching the limit a probe found; the registry's own reads are
then counted and read again in pages with a stable order (``ORDER BY`` every variable;
Virtuoso's sorted-TOP limit makes it sort in a sub-query instead) and a count that does
not add up is an error (``StoreFailed``), never a silent loss. Graph reads are checked
against the published statement count.

Readers of a remote store have no snapshots: each graph replacement is one request
(a Graph Store PUT or one SPARQL Update, each one transaction on the servers measured),
so a reader sees a source's old or new version; the generation changes once, after the
whole harvest (``publish()``), and tells caches to refresh.

Credentials (``store_user``, ``store_password``, ``store_auth`` = basic or digest) go
to the three URLs; they are never logged, and never part of an error message.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import pyoxigraph as ox
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from core import sparql_text
from core.config import Settings
from core.store.base import (
    GENERATION_GRAPH,
    GENERATION_PREDICATE,
    REGISTRY_IRI,
    RESERVED_GRAPHS,
    Store,
    StoreError,
    StoreFailed,
    Term,
    canonical_lines,
    checked_bindings,
    delta_update,
    generation_number,
    graph_node,
    next_generation,
    nquads_of_graph,
    with_values,
)
from core.vocab import GEO, LTC, RDF, VOID, XSD

if TYPE_CHECKING:
    from core.store.embedded import EmbeddedStore

log = logging.getLogger("ltc.store")

TIMEOUT = (10, 300)  # seconds: connect, then each read
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
# Named as the whole dataset when the store holds no graph yet, so that a server's own
# idea of the default graph never leaks in.
NO_GRAPH = "https://w3id.org/ltc/graph/none"
# Statements per DELETE DATA / INSERT DATA block of one update request: Virtuoso 7.2's
# SPARQL parser runs out of memory on one block of ~5 000 statements ("SP030").
UPDATE_BLOCK = 2000
# Rows the row-limit probe asks for: a server that cuts below it is found out.
CAP_PROBE_ROWS = 10_001
MAX_ROWS_HEADER = "X-SPARQL-MaxRows"

VOID_TRIPLES = VOID + "triples"
RDF_VALUE = RDF + "value"
WRITTEN = LTC + "writtenStatements"  # the writer's copy only: statements it holds
VALUE_FIXES = LTC + "valueCorrections"  # JSON [[datatype, as read back, as sent]…]
FIXES_PER_LITERAL = 500
CONSTANT_PROBE = "Île-de-France · 漢字 😀"
PROBE_PREFIX = REGISTRY_IRI + "/store-probe/"
TEXT_PREFIX = "ltc_text_"  # companion variables carrying a value's text (STR)

_X = XSD
# The probe: literals whose fate on a server says how it treats values. Each is stored
# in the bookkeeping graph; what the embedded store makes of it is the reference.
PROBE_VALUES: tuple[tuple[str, str], ...] = (
    ("47.394812345678", _X + "double"),
    ("0.704", _X + "double"),
    ("1.5E21", _X + "double"),
    ("0.30000000000000004", _X + "double"),
    ("0.1", _X + "float"),
    ("1.50", _X + "decimal"),
    ("0.704123", _X + "decimal"),
    ("0.1234567890123456789", _X + "decimal"),
    ("042", _X + "integer"),
    ("1", _X + "boolean"),
    ("2026-11-30T02:15:00.500+00:00", _X + "dateTime"),
    ("2026-11-30", _X + "date"),
    ("09:30:00", _X + "time"),
    ("POINT(0.704123 47.394812)", GEO + "wktLiteral"),
    ("POINT(1.0 47.0)", GEO + "wktLiteral"),
    ("Fête des Possibles · « tiers-lieu » 漢字 😀", ""),
    ('tab\there, "quotes", back\\slash', ""),
)
PROBE_LANGUAGE = {15: "fr"}
# Values compared, graph by graph, between the server and the writer's copy at publish.
CHECKED_TYPES = (_X + "double", _X + "float", _X + "decimal", GEO + "wktLiteral")
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
# SQL states (Virtuoso answers 500 with "Virtuoso <state> Error …") that are the query's
# fault: data exceptions, syntax and access rule violations, cardinality.
_QUERY_STATES = ("21", "22", "37", "42")
_SERVER_STATE = re.compile(r"^\s*Virtuoso\s+([0-9A-Z]{5})\s+Error")


def probe_literals() -> list[ox.Literal]:
    out = []
    for index, (text, datatype) in enumerate(PROBE_VALUES):
        if index in PROBE_LANGUAGE:
            out.append(ox.Literal(text, language=PROBE_LANGUAGE[index]))
        elif datatype:
            out.append(ox.Literal(text, datatype=ox.NamedNode(datatype)))
        else:
            out.append(ox.Literal(text))
    return out


class QueryRejected(StoreFailed):
    """The server refused a query as wrong (its 400, or one of its query errors). For a
    public query it is the client's fault (400); for the registry's own, a bug."""


class StoreTimeout(StoreFailed):
    """The server did not answer within the time given."""


# -- query text -----------------------------------------------------------------------------


def query_form(query: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the query's form ("" if none is found)."""
    depth = 0
    for match in sparql_text.tokens(query):
        kind = match.lastgroup
        if kind == sparql_text.WORD and depth == 0:
            word = match.group().upper()
            if word in QUERY_FORMS:
                return word
        elif kind == sparql_text.OPEN and match.group() == "{":
            depth += 1
        elif kind == sparql_text.CLOSE and match.group() == "}":
            depth -= 1
    return ""


def split_prologue(query: str) -> tuple[str, str]:
    """The query's PREFIX and BASE declarations, and the rest (which can then be used
    as a sub-query)."""
    position, expect = 0, 0
    for match in sparql_text.tokens(query):
        kind = match.lastgroup
        if kind in (sparql_text.SPACE, sparql_text.COMMENT):
            continue
        if expect:
            expect -= 1
            position = match.end()
            continue
        word = match.group().upper() if kind == sparql_text.WORD else ""
        if word in ("PREFIX", "BASE"):
            expect = 2 if word == "PREFIX" else 1
            position = match.end()
            continue
        break
    return query[:position], query[position:]


def _graphs_named(update: str) -> set[str] | None:
    """Graphs an update names (after GRAPH, WITH, INTO, USING); None when it may touch
    any graph (``GRAPH ?g``, ``DROP ALL``…)."""
    named: set[str] = set()
    before: list[str] = []  # the significant tokens seen, upper-cased words
    for match in sparql_text.tokens(update):
        kind = match.lastgroup
        if kind in (sparql_text.SPACE, sparql_text.COMMENT):
            continue
        text = match.group()
        previous = before[-1] if before else ""
        if previous in ("GRAPH", "WITH", "INTO", "USING"):
            if kind == sparql_text.IRI:
                named.add(text[1:-1])
            elif kind == sparql_text.VAR:
                return None
        word = text.upper() if kind == sparql_text.WORD else text
        if word in ("ALL", "NAMED", "DEFAULT") and {"DROP", "CLEAR"} & set(before[-2:]):
            return None
        before.append(word)
    return named


# -- values ---------------------------------------------------------------------------------


def canonical_terms(literals: list[ox.Literal]) -> list[ox.Literal]:
    """Each literal as the embedded store (pyoxigraph) holds it: ``"042"^^xsd:integer``
    becomes ``"42"``, ``"1.5E21"^^xsd:double`` ``"1500000000000000000000"``…"""
    if not literals:
        return []
    scratch = ox.Store()
    predicate = ox.NamedNode("urn:ltc:value")
    scratch.extend(
        ox.Quad(ox.NamedNode(f"urn:ltc:{index}"), predicate, literal, ox.DefaultGraph())
        for index, literal in enumerate(literals)
    )
    out = list(literals)
    for quad in scratch:
        out[int(quad.subject.value[8:])] = quad.object
    return out


@dataclass
class Profile:
    """How a server treats values and rows, learned from the probe."""

    renamed: dict[str, str] = field(default_factory=dict)  # server datatype → ours
    text: set[str] = field(default_factory=set)  # our datatypes: read their text (STR)
    text_server: set[str] = field(default_factory=set)  # the same, as the server names them
    canon: set[str] = field(default_factory=set)  # our datatypes: write canonically
    lossy: list[tuple[ox.Literal, str]] = field(default_factory=list)  # stored altered
    notes: list[str] = field(default_factory=list)  # plain sentences for the log
    # (our datatype, the value as read back) → the value sent: values the server stores
    # altered, found by the per-graph check at publish and published with the graphs
    corrections: dict[tuple[str, str], ox.Literal] = field(default_factory=dict)
    # the server damages non-ASCII text of the query's own string constants in STR()
    mangled_constants: bool = False

    @property
    def active(self) -> bool:
        return bool(self.renamed or self.text or self.canon or self.corrections)

    def fixes(self, datatype: str) -> str | None:
        """Our datatype for a server literal's datatype, when its value needs fixing."""
        ours = self.renamed.get(datatype, datatype)
        if ours in self.text or ours in self.canon or datatype in self.renamed:
            return ours
        return None


def analyse_probe(answered: Mapping[int, tuple[Term, str | None]]) -> Profile:
    """What the server made of each probe literal (its answer and its text), compared
    with what the embedded store makes of it."""
    profile = Profile()
    expected = canonical_terms(probe_literals())
    for index, wanted in enumerate(expected):
        ours = wanted.datatype.value
        got = answered.get(index)
        if got is None:
            profile.lossy.append((wanted, "(absent)"))
            continue
        term, text = got
        if term == wanted:
            continue
        if not isinstance(term, ox.Literal) or (wanted.language or "") != (term.language or ""):
            profile.lossy.append((wanted, str(term)))
            continue
        theirs = term.datatype.value
        if theirs != ours and theirs not in profile.renamed:
            profile.renamed[theirs] = ours
            profile.notes.append(f"{_short(ours)} is answered as {_short(theirs)}: named back")
        plain, textual = canonical_terms(
            [
                ox.Literal(term.value, datatype=wanted.datatype),
                ox.Literal(text if text is not None else term.value, datatype=wanted.datatype),
            ]
        )
        if plain == wanted:
            if term.value != wanted.value and ours not in profile.canon:
                profile.canon.add(ours)
                profile.notes.append(
                    f"{_short(ours)} is answered in another form ({term.value} for "
                    f"{wanted.value}): written back as the embedded store writes it"
                )
        elif textual == wanted:
            if ours not in profile.text:
                profile.text.add(ours)
                profile.notes.append(
                    f"{_short(ours)} is answered with fewer digits ({term.value} for "
                    f"{wanted.value}): the registry reads its text (STR) instead"
                )
            profile.text_server.add(theirs)
        else:
            profile.lossy.append((wanted, text if text is not None else term.value))
    return profile


def _short(datatype: str) -> str:
    for prefix, namespace in (("xsd:", XSD), ("geo:", GEO)):
        if datatype.startswith(namespace):
            return prefix + datatype[len(namespace) :]
    return f"<{datatype}>"


# -- the HTTP side ---------------------------------------------------------------------------


def _auth(settings: Settings) -> AuthBase | None:
    if not settings.store_user:
        return None
    kind = settings.store_auth.strip().lower()
    if kind == "basic":
        return HTTPBasicAuth(settings.store_user, settings.store_password)
    if kind == "digest":
        return HTTPDigestAuth(settings.store_user, settings.store_password)
    raise StoreError(
        f"store_auth is {settings.store_auth!r}: use basic or digest "
        "(setting store_auth, variable LTC_STORE_AUTH)"
    )


def _public_url(url: str) -> str:
    """A URL without any user:password part, for messages."""
    return re.sub(r"//[^/@]*@", "//", url)


@dataclass
class Answer:
    """A query's answer, parsed."""

    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Term]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] | None = None
    cut: bool = False  # the server may have cut it (its header, or its row limit reached)
    limit: int | None = None  # the server's row limit, when it cut


@dataclass
class Ledger:
    """What the bookkeeping graph says."""

    generation: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    probe: dict[int, tuple[Term, str | None]] = field(default_factory=dict)
    fixes: dict[str, list[list[str]]] = field(default_factory=dict)  # graph → corrections


_CAPS: dict[str, int | None] = {}
_CAPS_LOCK = threading.Lock()


class RemoteStore(Store):
    """A SPARQL 1.1 server reached through its Query, Update and Graph Store URLs."""

    def __init__(self, settings: Settings, *, writer: bool) -> None:
        self.writer = writer
        self.query_url = settings.store_query_url
        self.update_url = settings.store_update_url
        self.graph_store_url = settings.store_graph_store_url
        missing = [
            name
            for name, value in (
                ("store_query_url", self.query_url),
                ("store_update_url", self.update_url if writer else "-"),
                ("store_graph_store_url", self.graph_store_url if writer else "-"),
            )
            if not value
        ]
        if missing:
            variables = ", ".join(f"LTC_{name.upper()}" for name in missing)
            raise StoreError(
                f"store_backend is sparql but {', '.join(missing)} is empty: "
                f"set {variables} (or the config file) to the server's endpoint URL"
            )
        self._secret = settings.store_password
        self._graph_prefix = settings.base_iri.rstrip("/") + "/graph/"
        self._probe_rows = max(settings.sparql_max_rows + 1, CAP_PROBE_ROWS)
        self._session: requests.Session | None = requests.Session()
        self._session.auth = _auth(settings)
        self._lock = threading.Lock()
        self._profile: Profile | None = None
        self._generation: str | None = None  # the generation this handle's view is of
        self._counts: dict[str, int] = {}  # published statement count of each graph
        self._fixes: dict[str, list[list[str]]] = {}  # published corrections, by graph
        self._local_fixes: dict[str, list[list[str]]] = {}
        self._text_vars: dict[str, frozenset[str]] = {}  # query → variables read as text
        self._vars: dict[str, list[str]] = {}  # query → its variables
        self._inner_sort = False  # the server cannot sort big pages (Virtuoso SR353)
        self._journal: EmbeddedStore | None = None
        self._dirty: set[str] | None = set()  # None: every graph may have changed
        if writer:
            from core.store.embedded import EmbeddedStore

            self._journal = EmbeddedStore(settings, writer=True)
            try:
                self._open_writer()
            except BaseException:
                self.close()
                raise

    # -- HTTP ------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        what: str,
        timeout: tuple[float, float] = TIMEOUT,
        **kwargs: object,
    ) -> requests.Response:
        if self._session is None:
            raise StoreError("this store handle is closed")
        shown = _public_url(url)
        try:
            response = self._session.request(method, url, timeout=timeout, **kwargs)
        except requests.Timeout as error:
            raise StoreTimeout(
                f"the SPARQL store at {shown} did not answer {what} within {timeout[1]:g} s"
            ) from error
        except requests.RequestException as error:
            raise StoreFailed(
                f"cannot reach the SPARQL store at {shown} ({what}): {self._hide(error)}. "
                "Is the server running, and are the store_*_url settings right?"
            ) from error
        if response.status_code >= 400 and not (method == "GET" and response.status_code == 404):
            self._fail(response, shown, what)
        return response

    def _fail(self, response: requests.Response, shown: str, what: str) -> None:
        text = response.content[:2000].decode("utf-8", "replace").strip()
        message = (
            f"the SPARQL store at {shown} answered {response.status_code} {response.reason} "
            f"to {what}: {self._hide(text[:600])}"
        )
        if response.status_code in (401, 403):
            raise StoreFailed(
                message + " (check store_user, store_password and store_auth, and the "
                "server's grants)"
            )
        state = _SERVER_STATE.match(text)
        if response.status_code == 400 or (state and state.group(1)[:2] in _QUERY_STATES):
            raise QueryRejected(message)
        if state and state.group(1) == "S1T00":
            raise StoreTimeout(message)
        raise StoreFailed(message)

    def _hide(self, error: object) -> str:
        text = str(error)
        return text.replace(self._secret, "***") if self._secret else text

    def _post_query(
        self,
        query: str,
        accept: str,
        dataset: tuple[list[str], list[str]] | None,
        timeout: tuple[float, float] = TIMEOUT,
        stream: bool = False,
    ) -> requests.Response:
        form: list[tuple[str, str]] = [("query", query)]
        if dataset is not None:
            defaults, named = dataset
            form += [("default-graph-uri", graph) for graph in defaults or [NO_GRAPH]]
            form += [("named-graph-uri", graph) for graph in named or [NO_GRAPH]]
        return self._request(
            "POST",
            self.query_url,
            "a query",
            timeout=timeout,
            data=form,
            headers={"Accept": accept},
            stream=stream,
        )

    def _union(self) -> tuple[list[str], list[str]]:
        graphs = self.dataset_graphs()
        return graphs, graphs

    def dataset_graphs(self) -> list[str]:
        """The registry's named graphs: the dataset a query of the union is asked over
        (the writer: what it holds now; a reader: what its generation published)."""
        if self._journal is not None:
            return sorted(self._journal.named_graphs())
        self._view()
        return sorted(graph for graph, count in self._counts.items() if count)

    # -- answers -----------------------------------------------------------------------

    def _parse(self, response: requests.Response, form: str, body: bytes | None = None) -> Answer:
        content = response.content if body is None else body
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            if form in ("CONSTRUCT", "DESCRIBE"):
                graph_format = ox.RdfFormat.from_media_type(media_type) or ox.RdfFormat.N_TRIPLES
                triples = [
                    quad.triple
                    for quad in ox.parse(input=content, format=graph_format)
                    if isinstance(quad.graph_name, ox.DefaultGraph)
                ]
                return Answer(triples=triples)
            results_format = ox.QueryResultsFormat.from_media_type(media_type)
            result = ox.parse_query_results(content, results_format or ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as error:
            raise StoreFailed(
                f"the SPARQL store at {_public_url(self.query_url)} answered a {form or 'query'} "
                f"with something unreadable ({media_type or 'no type'}): {error}"
            ) from error
        if isinstance(result, ox.QueryBoolean):
            return Answer(boolean=bool(result))
        variables = [variable.value for variable in result.variables]
        rows = [
            {name: term for name in variables if (term := row[name]) is not None} for row in result
        ]
        if form == "ASK":  # Virtuoso answers ASK as a one-cell table (__ASK_RETVAL)
            values = [term.value for row in rows for term in row.values()]
            return Answer(boolean=bool(values) and values[0] in ("1", "true"))
        return Answer(variables, rows)

    def _accept(self, form: str) -> str:
        return N_TRIPLES if form in ("CONSTRUCT", "DESCRIBE") else RESULTS_JSON

    def _cut(self, response: requests.Response, size: int) -> int | None:
        """The server's row limit when this answer of ``size`` rows may have been cut."""
        header = response.headers.get(MAX_ROWS_HEADER, "").strip()
        if header:
            cap = int(header) if header.isdigit() else size
            with _CAPS_LOCK:
                _CAPS[self.query_url] = cap
            return cap
        cap = self._row_cap()
        return cap if cap is not None and size >= cap else None

    def _row_cap(self) -> int | None:
        """The server's row limit, found once per process and endpoint: ask for
        more rows than ``sparql_max_rows`` (at least ``CAP_PROBE_ROWS``), rows that need
        no data, and count what comes back."""
        with _CAPS_LOCK:
            if self.query_url in _CAPS:
                return _CAPS[self.query_url]
        wanted = self._probe_rows
        digits = "VALUES ?{} {{ 0 1 2 3 4 5 6 7 8 9 }}"
        blocks = " ".join(digits.format(f"a{n}" if n else "a") for n in range(len(str(wanted))))
        query = f"SELECT ?a WHERE {{ {blocks} }} LIMIT {wanted}"
        response = self._post_query(query, "text/csv", None)
        header = response.headers.get(MAX_ROWS_HEADER, "").strip()
        rows = max(0, len(response.content.splitlines()) - 1)
        cap = int(header) if header.isdigit() else (rows if rows < wanted else None)
        with _CAPS_LOCK:
            _CAPS[self.query_url] = cap
        if cap is not None:
            log.warning(
                "store=sparql row_limit=%d: the SPARQL server cuts answers at %d rows; the "
                "registry reads longer answers in pages. Set the server's limit above "
                "sparql_max_rows (Virtuoso: ResultSetMaxRows), see docs/virtuoso.md",
                cap,
                cap,
            )
        return cap

    def _run(
        self,
        query: str,
        form: str,
        dataset: tuple[list[str], list[str]] | None,
        timeout: tuple[float, float] = TIMEOUT,
        max_bytes: int | None = None,
    ) -> Answer:
        """One request, parsed; ``cut`` says whether the server may have cut it."""
        response = self._post_query(
            query, self._accept(form), dataset, timeout, stream=max_bytes is not None
        )
        body = None
        if max_bytes is not None:
            with response:
                body = _read_capped(response, max_bytes)
        answer = self._parse(response, form, body)
        size = len(answer.triples) if answer.triples is not None else len(answer.rows)
        if answer.boolean is None:
            answer.limit = self._cut(response, size)
            answer.cut = answer.limit is not None
        return answer

    # -- reading values back as the embedded store holds them ---------------------------

    def profile(self) -> Profile:
        """How this server treats values (the probe in the bookkeeping graph)."""
        if self._profile is None:
            self._view()
        return self._profile or Profile()

    def _text_wanted(self, rows: Iterable[Mapping[str, Term]]) -> frozenset[str]:
        server_types = self.profile().text_server
        return frozenset(
            name
            for row in rows
            for name, term in row.items()
            if isinstance(term, ox.Literal) and term.datatype.value in server_types
        )

    def _with_text(
        self,
        query: str,
        variables: list[str],
        text_vars: Iterable[str],
        *,
        order: bool = False,
        offset: int | None = None,
        limit: int | None = None,
    ) -> str:
        """The query as a sub-query, with each value's text beside it (for the datatypes
        the server answers lossily), optionally ordered and sliced (a page)."""
        prologue, body = split_prologue(query)
        types = ", ".join(f"<{t}>" for t in sorted(self.profile().text_server))
        projection = [f"?{name}" for name in variables]
        projection += [
            f'(IF(DATATYPE(?{name}) IN ({types}), STR(?{name}), "") AS ?{TEXT_PREFIX}{name})'
            for name in sorted(text_vars)
            if types
        ]
        keys = " ".join(f"?{name}" for name in variables)
        if order and keys and self._inner_sort:
            inner = f"SELECT * WHERE {{\n{body}\n}} ORDER BY {keys}"
            text = f"{prologue}\nSELECT {' '.join(projection)} WHERE {{ {{\n{inner}\n}} }}"
        else:
            text = f"{prologue}\nSELECT {' '.join(projection)} WHERE {{\n{body}\n}}"
            if order and keys:
                text += f"\nORDER BY {keys}"
        if offset:
            text += f"\nOFFSET {offset}"
        if limit is not None:
            text += f"\nLIMIT {limit}"
        return text

    def _fix(self, rows: list[dict[str, Term]], correct: bool = True) -> list[dict[str, Term]]:
        """Undo what the server does to values (the probe says what): renamed datatypes,
        lossy answers (from the companion text), non-canonical forms; then, with
        ``correct``, values the server stores altered (the published corrections)."""
        profile = self.profile()
        todo: list[tuple[dict[str, Term], str, ox.Literal]] = []
        for row in rows:
            for name, term in list(row.items()):
                if name.startswith(TEXT_PREFIX):
                    del row[name]
                    continue
                if not profile.active or not isinstance(term, ox.Literal):
                    continue
                ours = profile.fixes(term.datatype.value)
                if ours is None:
                    if correct and profile.corrections:
                        sent = profile.corrections.get((term.datatype.value, term.value))
                        if sent is not None:
                            row[name] = sent
                    continue
                text = row.get(TEXT_PREFIX + name)
                lexical = term.value
                if ours in profile.text and isinstance(text, ox.Literal) and text.value:
                    lexical = text.value
                todo.append((row, name, ox.Literal(lexical, datatype=ox.NamedNode(ours))))
        fixed = canonical_terms([literal for _, _, literal in todo])
        for (row, name, _), literal in zip(todo, fixed, strict=True):
            if correct and profile.corrections:
                literal = profile.corrections.get((literal.datatype.value, literal.value), literal)
            row[name] = literal
        return rows

    def _rows(
        self,
        query: str,
        dataset: tuple[list[str], list[str]] | None,
        *,
        page: bool = True,
        timeout: tuple[float, float] = TIMEOUT,
        max_bytes: int | None = None,
        correct: bool = True,
        key: str | None = None,
    ) -> Answer:
        """A SELECT's rows as the embedded store would give them: values fixed, and,
        with ``page``, read whole however the server cuts answers. ``key`` names the
        query whatever its bindings (what is learnt of its variables is kept under it)."""
        key = key or query
        known = self._text_vars.get(key, frozenset())
        variables = self._vars.get(key)
        if known and variables:
            text = self._with_text(query, variables, known)
            answer = self._run(text, "SELECT", dataset, timeout, max_bytes)
        else:
            answer = self._run(query, "SELECT", dataset, timeout, max_bytes)
        if self.profile().text and not answer.cut:
            wanted = self._text_wanted(answer.rows) - known
            if wanted:  # values answered lossily: asked again with their text
                known = self._text_vars[key] = known | wanted
                variables = self._vars[key] = variables or _plain(answer.variables)
                text = self._with_text(query, variables, known)
                answer = self._run(text, "SELECT", dataset, timeout, max_bytes)
        answer.variables = _plain(answer.variables)
        vouched = len(answer.rows) < self._probe_rows - 1  # the row-limit probe saw as many
        if page and not answer.cut and not vouched:
            # the server's own count says whether it cut the answer without saying so
            answer.cut = self._count(query, dataset) != len(answer.rows)
            answer.limit = len(answer.rows) if answer.cut else None
        if answer.cut and page:
            answer.rows = self._pages(query, answer, dataset)
            answer.cut = False
        answer.rows = self._fix(answer.rows, correct)
        answer.variables = [v for v in answer.variables if not v.startswith(TEXT_PREFIX)]
        return answer

    def _count(self, query: str, dataset: tuple[list[str], list[str]] | None) -> int:
        """How many rows the server says a SELECT has."""
        prologue, body = split_prologue(query)
        counted = self._run(
            f"{prologue}\nSELECT (COUNT(*) AS ?ltc_rows) WHERE {{\n{body}\n}}", "SELECT", dataset
        )
        return int(counted.rows[0]["ltc_rows"].value) if counted.rows else 0

    def _pages(
        self,
        query: str,
        first: Answer,
        dataset: tuple[list[str], list[str]] | None,
    ) -> list[dict[str, Term]]:
        """Read a cut answer whole: count its rows, then read it in pages of the server's
        limit, ordered by every variable. A total that does not add up is an error."""
        size = max(1, first.limit or self._row_cap() or len(first.rows))
        total = self._count(query, dataset)
        variables = _plain(first.variables)
        text_vars = set(variables) if self.profile().text else set()
        rows: list[dict[str, Term]] = []
        while len(rows) < total:
            text = self._with_text(
                query, variables, text_vars, order=True, offset=len(rows), limit=size
            )
            try:
                page = self._run(text, "SELECT", dataset)
            except QueryRejected as error:
                if "SR353" in str(error) and not self._inner_sort:
                    self._inner_sort = True  # Virtuoso: sort in a sub-query instead
                    continue
                raise
            if not page.rows:
                break
            rows += page.rows
        if len(rows) != total:
            raise StoreFailed(
                f"the SPARQL store at {_public_url(self.query_url)} cut an answer at {size} "
                f"rows, and reading it in pages gave {len(rows)} of its {total} rows: raise "
                "the server's row limit above the registry's largest read (Virtuoso: "
                "ResultSetMaxRows and MaxSortedTopRows, see docs/virtuoso.md)"
            )
        return rows

    # -- queries ---------------------------------------------------------------------

    def select(
        self, query: str, bindings: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        text = self._bound(query, bindings)
        if query_form(text) != "SELECT":
            raise StoreError("select() needs a SELECT query")
        return self._rows(text, self._union(), key=query).rows

    def ask(self, query: str, bindings: Mapping[str, Term] | None = None) -> bool:
        text = self._bound(query, bindings)
        if query_form(text) != "ASK":
            raise StoreError("ask() needs an ASK query")
        return bool(self._run(text, "ASK", self._union()).boolean)

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> list[ox.Triple]:
        text = self._bound(query, bindings)
        form = query_form(text)
        if form not in ("CONSTRUCT", "DESCRIBE"):
            raise StoreError("construct() needs a CONSTRUCT or DESCRIBE query")
        if form == "CONSTRUCT" and (self.profile().text or self.profile().corrections):
            built = self._construct_here(text, self._union(), TIMEOUT, None, page=True)
            if built is not None:
                return built.triples or []
        answer = self._run(text, form, self._union())
        if answer.cut:
            raise StoreFailed(
                f"the SPARQL store at {_public_url(self.query_url)} may have cut a "
                f"{form} answer at its row limit ({len(answer.triples or [])} triples): "
                "raise the server's limit (Virtuoso: ResultSetMaxRows)"
            )
        return self._fix_triples(answer.triples or [])

    def _bound(self, query: str, bindings: Mapping[str, Term] | None) -> str:
        """The query with its bindings (``with_values``). On a server that damages
        non-ASCII text of the query's own constants (Virtuoso, in STR()), such a literal
        is bound by BIND(SUBSTR(…)), which it reads right, instead of VALUES."""
        checked = checked_bindings(bindings)
        text = with_values(query, checked)
        foreign = any(
            isinstance(term, ox.Literal) and not term.value.isascii() for term in checked.values()
        )
        if not foreign or not self.profile().mangled_constants:
            return text
        names = " ".join(f"?{name}" for name in checked)
        values = " ".join(str(term) for term in checked.values())
        block = f" VALUES ({names}) {{ ({values}) }} "
        binds = " ".join(f"BIND({_expression(term)} AS ?{name})" for name, term in checked.items())
        return text.replace(block, f" {binds} ", 1)

    def _fix_triples(self, triples: list[ox.Triple]) -> list[ox.Triple]:
        rows = [{"s": t.subject, "p": t.predicate, "o": t.object} for t in triples]
        return [ox.Triple(row["s"], row["p"], row["o"]) for row in self._fix(rows)]

    def query(
        self,
        query: str,
        *,
        default_graphs: list[str] | None,
        named_graphs: list[str] | None,
        timeout: float,
        max_bytes: int,
    ) -> Answer:
        """A public query (already guarded), over the graphs named or the union: one
        request (rows beyond the server's limit are not read: ``cut`` says so), values
        fixed as for the registry's own reads."""
        if default_graphs is None and named_graphs is None:
            dataset = self._union()
        else:
            dataset = (default_graphs or [], named_graphs or [])
        form = query_form(query)
        deadline = (5.0, timeout)
        if form == "SELECT":
            return self._rows(query, dataset, page=False, timeout=deadline, max_bytes=max_bytes)
        if form == "CONSTRUCT" and (self.profile().text or self.profile().corrections):
            built = self._construct_here(query, dataset, deadline, max_bytes)
            if built is not None:
                return built
        answer = self._run(query, form, dataset, deadline, max_bytes)
        if answer.triples is not None:
            answer.triples = self._fix_triples(answer.triples)
        return answer

    def _construct_here(
        self,
        query: str,
        dataset: tuple[list[str], list[str]] | None,
        timeout: tuple[float, float],
        max_bytes: int | None,
        page: bool = False,
    ) -> Answer | None:
        """A CONSTRUCT on a server that answers some values lossily: its WHERE part asked
        as a SELECT (whose values can be fixed), then its template filled in here by
        pyoxigraph. None when that cannot be done (no template of its own, blank nodes
        in the rows, a form the server refuses as a SELECT): the server's CONSTRUCT then."""
        prologue, body = split_prologue(query)
        template = _template(body)
        if template is None:
            return None
        start, end = template
        try:
            answer = self._rows(
                f"{prologue}\nSELECT * {body[end + 1 :]}",
                dataset,
                page=page,
                timeout=timeout,
                max_bytes=max_bytes,
            )
        except QueryRejected:
            return None
        if any(isinstance(t, ox.BlankNode) for row in answer.rows for t in row.values()):
            return None
        names = [name for name in answer.variables if not name.startswith(TEXT_PREFIX)]
        rows = " ".join(
            "(" + " ".join(str(row[n]) if n in row else "UNDEF" for n in names) + ")"
            for row in answer.rows
        )
        values = f"VALUES ({' '.join('?' + n for n in names)}) {{ {rows} }}" if names else ""
        local = f"{prologue}\nCONSTRUCT {body[start : end + 1]} WHERE {{ {values} }}"
        try:
            result = ox.Store().query(local)
        except (SyntaxError, ValueError, OSError, RuntimeError):
            return None
        return Answer(triples=list(result), cut=answer.cut, limit=answer.limit)

    # -- the bookkeeping graph --------------------------------------------------------------

    def _bookkeeping(self) -> Ledger:
        """The server's bookkeeping graph: generation, graph counts, probe answers and
        the corrections of values it stores altered."""
        query = (
            f"SELECT ?s ?p ?o (STR(?o) AS ?text) WHERE {{ GRAPH <{GENERATION_GRAPH}> "
            "{ ?s ?p ?o } }"
        )
        answer = self._run(query, "SELECT", None)
        if answer.cut:
            raise StoreFailed(
                f"the SPARQL store at {_public_url(self.query_url)} cut the registry's "
                f"bookkeeping graph at {answer.limit} rows: raise its row limit"
            )
        ledger = Ledger()
        generations = []
        for row in answer.rows:
            subject, predicate, value = row.get("s"), row.get("p"), row.get("o")
            if subject is None or predicate is None or value is None:
                continue
            if predicate.value == GENERATION_PREDICATE and subject.value == REGISTRY_IRI:
                generations.append(value.value)
            elif predicate.value == VOID_TRIPLES and value.value.isdigit():
                ledger.counts[subject.value] = int(value.value)
            elif predicate.value == VALUE_FIXES:
                ledger.fixes.setdefault(subject.value, []).extend(json.loads(value.value))
            elif predicate.value == RDF_VALUE and subject.value.startswith(PROBE_PREFIX):
                suffix = subject.value[len(PROBE_PREFIX) :]
                if suffix.isdigit():
                    text = row.get("text")
                    ledger.probe[int(suffix)] = (value, text.value if text is not None else None)
        ledger.generation = max(generations, key=generation_number, default="")
        return ledger

    def _learn(self, ledger: Ledger) -> Profile:
        """The profile of the server from a bookkeeping graph (and one query)."""
        profile = analyse_probe(ledger.probe) if ledger.probe else Profile()
        clashes: set[tuple[str, str]] = set()
        for fixes in ledger.fixes.values():
            for read_type, read, sent_type, sent in fixes:
                key = (read_type, read)
                value = ox.Literal(sent, datatype=ox.NamedNode(sent_type))
                if profile.corrections.setdefault(key, value) != value:
                    clashes.add(key)  # two values sent became one: nothing to undo
        for key in clashes:
            del profile.corrections[key]
        answer = self._run(
            f"SELECT (STR(?x) AS ?y) WHERE {{ VALUES ?x {{ {ox.Literal(CONSTANT_PROBE)} }} }}",
            "SELECT",
            None,
        )
        said = answer.rows[0].get("y") if answer.rows else None
        if said is None or said.value != CONSTANT_PROBE:
            profile.mangled_constants = True
            profile.notes.append(
                "non-ASCII text written in a query loses its characters in STR(), REPLACE "
                "and GROUP_CONCAT separators: values are bound with SUBSTR instead, and "
                "the registry's queries keep such text out of their own constants"
            )
        return profile

    def _view(self) -> None:
        """Load this handle's view: the published generation, its graphs and their counts,
        and what the probe says of the server."""
        with self._lock:
            if self._generation is not None and self._profile is not None:
                return
            ledger = self._bookkeeping()
            self._generation, self._counts = ledger.generation, ledger.counts
            self._fixes = ledger.fixes
            self._profile = self._learn(ledger)

    def _probe_statements(self) -> list[str]:
        return [
            f"<{PROBE_PREFIX}{index}> <{RDF_VALUE}> {literal} ."
            for index, literal in enumerate(probe_literals())
        ]

    def _open_writer(self) -> None:
        """Probe the server, say how it treats values, and make sure the writer's copy
        and the server start from the same content."""
        ledger = self._bookkeeping()
        if len(ledger.probe) < len(PROBE_VALUES):
            node = ox.NamedNode(GENERATION_GRAPH)
            self._send_update(
                f"INSERT DATA {{ GRAPH {node} {{\n" + "\n".join(self._probe_statements()) + "\n} }"
            )
            ledger = self._bookkeeping()
        generation, counts = ledger.generation, ledger.counts
        self._generation, self._counts, self._fixes = generation, counts, ledger.fixes
        self._profile = self._learn(ledger)
        self._say_profile(self._profile)
        local_generation, local = self._local_ledger()
        if local_generation or local:
            self._fixes = self._local_fixes  # the copy's, which the server may have lost
            return
        journal = self._require_journal()
        held = journal.named_graphs()
        if held:  # a data folder of the embedded backend: the server gets its content
            log.warning(
                "store=sparql adopted=%d: the data folder's store becomes the registry's "
                "copy; graphs the server lacks are loaded into it",
                len(held),
            )
            self._write_local_ledger(generation or "-", {g: None for g in held})
            return
        listed = sorted(g for g, n in counts.items() if n) or self._server_graphs()
        for graph in listed:
            journal.replace_graph(graph, self._server_graph(graph, counts.get(graph)))
        if listed:
            log.warning(
                "store=sparql copied=%d: the data folder had no copy of what the registry "
                "holds on the SPARQL server: copied from the server",
                len(listed),
            )
        self._write_local_ledger(generation or "-", {g: counts.get(g) for g in listed})

    def _say_profile(self, profile: Profile) -> None:
        for note in profile.notes:
            log.warning("store=sparql value_check: the SPARQL server changes values: %s", note)
        for wanted, answered in profile.lossy:
            log.warning(
                "store=sparql value_check: the SPARQL server does not keep %s as sent: it "
                "comes back as %s; each publication checks such values in the graphs and "
                "corrects what it can (corrected_values, altered_values lines)",
                wanted,
                answered,
            )

    def _server_graphs(self) -> list[str]:
        """The registry's graphs on a server that has no list of them yet (a registry
        of an earlier release): those under ``{base_iri}graph/``."""
        prefix = ox.Literal(self._graph_prefix)
        query = (
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(STRSTARTS(STR(?g), {prefix})) }}"
        )
        rows = self._rows(query, None).rows
        return sorted(
            row["g"].value
            for row in rows
            if isinstance(row.get("g"), ox.NamedNode) and row["g"].value not in RESERVED_GRAPHS
        )

    # -- the writer's copy ---------------------------------------------------------------

    def _require_journal(self) -> EmbeddedStore:
        self._require_writer()
        if self._journal is None:
            raise StoreError("this store handle is closed")
        return self._journal

    def _local_ledger(self) -> tuple[str, dict[str, tuple[int | None, int]]]:
        """The copy's bookkeeping: the generation last published from this data folder,
        and each graph's count on the server and in the copy at that moment (its
        corrections go to ``self._fixes``)."""
        journal = self._require_journal()
        rows = journal.select(
            f"SELECT ?s ?p ?o WHERE {{ GRAPH <{GENERATION_GRAPH}> {{ ?s ?p ?o }} }}"
        )
        generation = ""
        server: dict[str, int | None] = {}
        written: dict[str, int] = {}
        fixes: dict[str, list[list[str]]] = {}
        for row in rows:
            predicate, value = row["p"].value, row["o"].value
            if predicate == GENERATION_PREDICATE:
                generation = value
            elif predicate == VOID_TRIPLES:
                server[row["s"].value] = int(value) if value.isdigit() else None
            elif predicate == WRITTEN and value.isdigit():
                written[row["s"].value] = int(value)
            elif predicate == VALUE_FIXES:
                fixes.setdefault(row["s"].value, []).extend(json.loads(value))
        self._local_fixes = fixes
        return generation, {g: (server.get(g), n) for g, n in written.items()}

    def _write_local_ledger(
        self,
        generation: str,
        server: Mapping[str, int | None],
        written: Mapping[str, int] | None = None,
    ) -> None:
        journal = self._require_journal()
        known = dict(written or {})
        written = {**known, **self._journal_counts(set(server) - set(known))}
        lines = [
            f"<{REGISTRY_IRI}> <{GENERATION_PREDICATE}> {ox.Literal(generation)} .",
            *(f"<{g}> <{WRITTEN}> {_integer(written.get(g, 0))} ." for g in sorted(server)),
            *(
                f"<{g}> <{VOID_TRIPLES}> {_integer(n)} ."
                for g, n in sorted(server.items())
                if n is not None
            ),
            *self._fix_statements(set(server)),
        ]
        node = ox.NamedNode(GENERATION_GRAPH)
        journal.update(
            f"DROP SILENT GRAPH {node} ;\n" + delta_update(node, [], lines, UPDATE_BLOCK)
        )

    def _fix_statements(self, graphs: set[str]) -> list[str]:
        """The corrections of each graph as statements: JSON lists in literals."""
        out = []
        for graph in sorted(graphs):
            fixes = self._fixes.get(graph) or []
            for start in range(0, len(fixes), FIXES_PER_LITERAL):
                text = json.dumps(fixes[start : start + FIXES_PER_LITERAL], ensure_ascii=True)
                out.append(f"<{graph}> <{VALUE_FIXES}> {ox.Literal(text)} .")
        return out

    def _journal_counts(self, graphs: set[str]) -> dict[str, int]:
        if not graphs:
            return {}
        journal = self._require_journal()
        values = " ".join(f"<{g}>" for g in sorted(graphs))
        rows = journal.select(
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
            "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        )
        return {row["g"].value: int(row["n"].value) for row in rows}

    def _server_counts(self, graphs: set[str]) -> dict[str, int]:
        if not graphs:
            return {}
        values = " ".join(f"<{g}>" for g in sorted(graphs))
        answer = self._rows(
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
            "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            None,
        )
        return {
            row["g"].value: int(row["n"].value)
            for row in answer.rows
            if "g" in row and "n" in row and row["n"].value.isdigit()
        }

    def reload_lost_graphs(self) -> list[str]:
        """Compare each graph's statement count on the server with the writer's copy and
        write back, from the copy, every graph the server lost statements of (or still
        holds although the registry dropped it); the bookkeeping graph too when the
        server lost a publication. Returns what was written back."""
        journal = self._require_journal()
        local_generation, local = self._local_ledger()
        graphs = journal.named_graphs()
        written = self._journal_counts(graphs)
        held = self._server_counts(graphs | set(local) | set(self._counts))
        repaired = []
        for graph in sorted(graphs):
            server_then, written_then = local.get(graph, (None, written.get(graph, 0)))
            merged = written_then - server_then if server_then is not None else 0
            expected = written.get(graph, 0) - merged
            if held.get(graph, 0) != expected:
                log.warning(
                    "store=sparql graph=<%s> server_statements=%d written=%d: the SPARQL "
                    "server lost statements (a restart without a checkpoint?): reloaded "
                    "from the registry's copy",
                    graph,
                    held.get(graph, 0),
                    expected,
                )
                self._put(graph, journal.graph_ntriples(graph))
                self._mark(graph)
                repaired.append(graph)
        for graph in sorted((set(local) | set(self._counts)) - graphs):
            if held.get(graph):
                log.warning(
                    "store=sparql graph=<%s> server_statements=%d: dropped by the registry "
                    "but still on the server: dropped again",
                    graph,
                    held[graph],
                )
                self._send_update(f"DROP SILENT GRAPH <{graph}>")
                repaired.append(graph)
        server_generation = self._bookkeeping().generation
        if local_generation not in ("", "-") and server_generation != local_generation:
            log.warning(
                "store=sparql generation=%s server_generation=%s: the SPARQL server lost "
                "the last publication: published again",
                local_generation,
                server_generation or "(none)",
            )
            repaired.append(GENERATION_GRAPH)
        return repaired

    def _mark(self, graph: str | None) -> None:
        if self._dirty is not None:
            if graph is None:
                self._dirty = None
            else:
                self._dirty.add(graph)

    # -- writes ----------------------------------------------------------------------

    def _send_update(self, text: str) -> None:
        body = text.encode("utf-8")
        self._upload(
            "POST",
            self.update_url,
            "an update",
            body,
            content_type="application/sparql-update; charset=utf-8",
        )

    def _put(self, graph: str, ntriples: bytes) -> None:
        if ntriples.strip():
            self._upload("PUT", self.graph_store_url, f"replacing <{graph}>", ntriples, graph)
        else:
            self._send_update(f"DROP SILENT GRAPH <{graph}>")

    def update(self, sparql_update: str) -> None:
        """Run the update on the server (one request), then on the writer's copy."""
        journal = self._require_journal()
        try:
            ox.Store().update(sparql_update)  # refused here, it reaches neither store
        except SyntaxError as error:
            raise StoreError(f"invalid SPARQL update: {error}") from error
        except (OSError, RuntimeError):
            pass  # valid, but needs data the scratch store has not: the server decides
        self._send_update(sparql_update)
        journal.update(sparql_update)
        touched = _graphs_named(sparql_update)
        if touched is None:
            self._mark(None)
        else:
            for graph in touched:
                self._mark(graph)

    def _upload(
        self,
        method: str,
        url: str,
        what: str,
        body: bytes,
        graph: str | None = None,
        content_type: str = N_TRIPLES,
    ) -> None:
        """Send a write. urllib3 bounds each send of the body by the *connect* timeout,
        and a busy server may not read a big body for longer than that (Oxigraph server
        loads 300 000 triples in ~20 s), so big bodies get the read timeout for both."""
        timeout = TIMEOUT if len(body) < 1_000_000 else (TIMEOUT[1], TIMEOUT[1])
        self._request(
            method,
            url,
            what,
            params={"graph": graph} if graph else None,
            data=body,
            headers={"Content-Type": content_type},
            timeout=timeout,
        )

    def graph_ntriples(self, graph: str) -> bytes:
        """The writer: its copy (exactly what it wrote). A reader: the server's graph,
        checked against the statement count published for it."""
        graph_node(graph)
        if self._journal is not None:
            return self._journal.graph_ntriples(graph)
        self._view()
        return self._server_graph(graph, self._counts.get(graph))

    def _server_graph(self, graph: str, expected: int | None) -> bytes:
        """A graph as the server holds it, values fixed; a count that differs from the
        published one is an error (a cut read, or a harvest writing it right now)."""
        cap = self._row_cap()
        fits = cap is None or (expected is not None and expected < cap)
        if self.graph_store_url and fits and not self.profile().active:
            response = self._request(
                "GET",
                self.graph_store_url,
                f"reading <{graph}>",
                params={"graph": graph},
                headers={"Accept": N_TRIPLES},
            )
            data = b"" if response.status_code == 404 else response.content
            try:
                triples = [q.triple for q in ox.parse(input=data, format=ox.RdfFormat.N_TRIPLES)]
            except SyntaxError as error:
                raise StoreFailed(
                    f"the SPARQL store's Graph Store answered <{graph}> with invalid "
                    f"N-Triples: {error}"
                ) from error
            if expected is None or len(triples) == expected:
                return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        if expected is None:
            expected = self._server_counts({graph}).get(graph, 0)
        rows = self._statements(graph, "", expected, "graph statements")
        if expected is not None and len(rows) != expected:
            raise StoreFailed(
                f"reading <{graph}> from the SPARQL store at {_public_url(self.query_url)} "
                f"gave {len(rows)} statements, but {expected} were published: a harvest may "
                "be writing it now, or the server cut the answer (row limit)"
            )
        triples = [ox.Triple(row["s"], row["p"], row["o"]) for row in rows]
        return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""

    def _statements(
        self, graph: str, condition: str, expected: int | None, key: str, correct: bool = True
    ) -> list[dict[str, Term]]:
        """The statements ?s ?p ?o of a graph (with a FILTER ``condition``) as rows, read
        whole: a graph bigger than the server's row limit is read in slices under it, by
        the MD5 of the subject (standard SPARQL; no ORDER BY: sorting a big graph again
        for each page costs Virtuoso ~0.3 s a page, a slice ~0.06 s), plus one slice for
        blank-node subjects. A slice still cut is read in pages. ``expected`` None: the
        server counts them first, and rows that do not add up to its own count are an
        error (an answer it cut without saying so), never a silent loss."""
        pattern = f"GRAPH <{graph}> {{ ?s ?p ?o {condition} }}"
        counted = expected is None
        if expected is None:
            answer = self._run(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}", "SELECT", None)
            expected = int(answer.rows[0]["n"].value) if answer.rows else 0
        cap = self._row_cap()
        needed = -(-expected * 20 // (cap * 17)) if cap else 1  # slices of ~0.85 the limit
        slices = [""]
        if needed > 1:
            width = 2 if needed <= 256 else 3
            prefixes = [f"{n:0{width}x}" for n in range(16**width)]
            size = -(-len(prefixes) // needed)
            digest = f"SUBSTR(MD5(STR(?s)), 1, {width})"
            slices = ["FILTER(isBlank(?s))"] + [
                f"FILTER(isIRI(?s) && {digest} IN ("
                + ", ".join(f'"{prefix}"' for prefix in prefixes[start : start + size])
                + "))"
                for start in range(0, len(prefixes), size)
            ]
        rows: list[dict[str, Term]] = []
        for part in slices:
            query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o {condition} {part} }} }}"
            rows += self._rows(query, None, correct=correct, key=key).rows
        if counted and len(rows) != expected:
            raise StoreFailed(
                f"reading <{graph}> from the SPARQL store at {_public_url(self.query_url)} "
                f"gave {len(rows)} statements where the server counts {expected}: it cut an "
                "answer without saying so. Raise its row limit (Virtuoso: ResultSetMaxRows) "
                "above the registry's largest read, see docs/virtuoso.md"
            )
        return rows

    def replace_graph(self, graph: str, ntriples: bytes, previous: bytes | None = None) -> None:
        """Make the graph hold exactly ``ntriples`` on the server in one request, so its
        readers see the old or the new graph, never a mix; then in the writer's copy.

        A graph empty before, or blank nodes on either side (SPARQL cannot name a stored
        blank node), go as one Graph Store Protocol ``PUT``. Otherwise only the
        difference is sent, as one SPARQL Update (DELETE DATA + INSERT DATA, in blocks:
        one transaction): Oxigraph server needs ~48 s to PUT 300 000 triples over an
        existing graph but ~5 s to apply a 1 % difference. The difference is computed
        from ``previous`` (the caller's own record of the graph, e.g. the harvester's
        files) or from the writer's copy, never from what the server answers. Empty
        content drops the graph. Invalid N-Triples are refused before sending."""
        journal = self._require_journal()
        node = graph_node(graph, writing=True)
        new_lines, new_blank = canonical_lines(ntriples, f"the new content of <{graph}>")
        if not new_lines:
            self.drop_graph(graph)
            return
        stored = journal.graph_ntriples(graph) if previous is None else previous
        old_lines, old_blank = canonical_lines(stored, f"the previous content of <{graph}>")
        if not old_lines or new_blank or old_blank:
            self._put(graph, ntriples)
        else:
            remove = old_lines - new_lines
            add = new_lines - old_lines
            if remove or add:
                self._send_update(delta_update(node, sorted(remove), sorted(add), UPDATE_BLOCK))
        journal.replace_graph(graph, ntriples, previous=stored)
        self._mark(graph)

    def apply_delta(self, graph: str, remove: bytes, add: bytes) -> None:
        journal = self._require_journal()
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
            self._send_update(
                delta_update(node, sorted(remove_lines), sorted(add_lines), UPDATE_BLOCK)
            )
            journal.apply_delta(graph, remove, add)
            self._mark(graph)

    def drop_graph(self, graph: str) -> None:
        journal = self._require_journal()
        node = graph_node(graph, writing=True)
        self._send_update(f"DROP SILENT GRAPH {node}")
        journal.drop_graph(graph)
        self._mark(graph)

    def named_graphs(self) -> set[str]:
        return set(self.dataset_graphs())

    def incomplete_graphs(self) -> set[str]:
        """Graphs whose write into the writer's copy was interrupted (its bulk loads are
        not transactional): written again before ``publish()`` accepts to run."""
        return self._journal.incomplete_graphs() if self._journal is not None else set()

    # -- generations -------------------------------------------------------------------

    def publish(self) -> str:
        """Check the graphs changed since the last publication (statement counts, and
        numeric and WKT values against the writer's copy: differences are logged), then
        replace the bookkeeping graph in one update: generation, graphs with their
        counts, probe."""
        journal = self._require_journal()
        pending = self.incomplete_graphs()
        if pending:
            raise StoreError(
                "not publishing: an interrupted write left these graphs incomplete: "
                + ", ".join(f"<{graph}>" for graph in sorted(pending))
                + ". Replace or drop them again first (harvest these sources again)."
            )
        graphs = journal.named_graphs()
        _, local = self._local_ledger()
        changed = graphs if self._dirty is None else (self._dirty & graphs) | (graphs - set(local))
        written = self._journal_counts(changed)
        held = self._server_counts(changed)
        counts = {g: local[g][0] for g in graphs - changed if g in local}
        for graph in sorted(changed):
            counts[graph] = held.get(graph, 0)
            if held.get(graph, 0) != written.get(graph, 0):
                log.warning(
                    "store=sparql graph=<%s> server_statements=%d written=%d: the SPARQL "
                    "server holds a different number of statements than it was sent (it "
                    "merged or dropped values it does not keep as sent)",
                    graph,
                    held.get(graph, 0),
                    written.get(graph, 0),
                )
        for graph in changed:
            self._fixes.pop(graph, None)
        if self.profile().active or self.profile().lossy:  # the probe found changes
            self._fixes.update(self._check_values(sorted(changed)))
        self._fixes = {g: f for g, f in self._fixes.items() if g in graphs and f}
        missing = [g for g in graphs if counts.get(g) is None]
        if missing:
            counts.update(self._server_counts(set(missing)))
        generation = next_generation([self._generation or "", self._local_ledger()[0]])
        node = ox.NamedNode(GENERATION_GRAPH)
        statements = [
            f"<{REGISTRY_IRI}> <{GENERATION_PREDICATE}> {ox.Literal(generation)} .",
            *(f"<{g}> <{VOID_TRIPLES}> {_integer(counts.get(g) or 0)} ." for g in sorted(graphs)),
            *self._probe_statements(),
            *self._fix_statements(graphs),
        ]
        self._send_update(
            f"DROP SILENT GRAPH {node} ;\n" + delta_update(node, [], statements, UPDATE_BLOCK)
        )
        known = {g: local[g][1] for g in graphs - changed if g in local}
        self._write_local_ledger(
            generation, {g: counts.get(g) for g in graphs}, written={**known, **written}
        )
        self._generation, self._counts = generation, {g: counts.get(g) or 0 for g in graphs}
        self._dirty = set()
        self._profile = None  # learnt again, with the corrections just published
        self._view_writer()
        return generation

    def _view_writer(self) -> None:
        ledger = Ledger(self._generation or "", dict(self._counts), fixes=dict(self._fixes))
        ledger.probe = self._bookkeeping().probe
        self._profile = self._learn(ledger)

    def _check_values(self, graphs: list[str]) -> dict[str, list[list[str]]]:
        """The per-graph value check: the numeric and WKT values of each graph as the
        server answers them (fixed as readers fix them) against the writer's copy. A
        value the server stores altered becomes a correction readers apply ([datatype and
        value as read back, datatype and value as sent]); what cannot be paired is said
        in the log. Returns the corrections of each graph."""
        journal = self._require_journal()
        profile = self.profile()
        checked = set(CHECKED_TYPES)
        theirs = ", ".join(f"<{t}>" for t in sorted(checked | set(profile.renamed)))
        found: dict[str, list[list[str]]] = {}
        for graph in graphs:
            sent = {
                (quad.subject, quad.predicate, quad.object)
                for quad in journal.quads(graph)
                if isinstance(quad.object, ox.Literal) and quad.object.datatype.value in checked
            }
            if not sent:
                continue
            # the predicates that carry such values: the server looks them up in its index
            # instead of filtering every statement of the graph
            predicates = " ".join(sorted({str(predicate) for _, predicate, _ in sent}))
            condition = (
                f"VALUES ?p {{ {predicates} }} FILTER(isLiteral(?o) && DATATYPE(?o) IN ({theirs}))"
            )
            rows = self._statements(graph, condition, None, "checked values", correct=False)
            held = {(row["s"], row["p"], row["o"]) for row in rows}
            if held == sent:
                continue
            gone: dict[tuple[Term, Term], list[ox.Literal]] = {}
            came: dict[tuple[Term, Term], list[ox.Literal]] = {}
            for side, values in ((gone, sent - held), (came, held - sent)):
                for subject, predicate, value in values:
                    side.setdefault((subject, predicate), []).append(value)
            fixes, lost = [], 0
            for key, sent_values in gone.items():
                read = came.get(key, [])
                if len(sent_values) == 1 and len(read) == 1:
                    was, now = sent_values[0], read[0]
                    fixes.append([now.datatype.value, now.value, was.datatype.value, was.value])
                else:
                    lost += len(sent_values)
            if fixes:
                was, now = fixes[0][3], fixes[0][1]
                log.warning(
                    "store=sparql graph=<%s> corrected_values=%d: the SPARQL server stores "
                    "%d numeric or WKT values of this graph altered (e.g. %s is read back as "
                    "%s): readers get the values sent, from the corrections published with "
                    "the graph",
                    graph,
                    len(fixes),
                    len(fixes),
                    was,
                    now,
                )
                found[graph] = fixes
            if lost:
                log.warning(
                    "store=sparql graph=<%s> altered_values=%d: the SPARQL server does not "
                    "answer %d numeric or WKT values of this graph as they were sent, and "
                    "the registry cannot tell which value became which: they differ on this "
                    "server (see docs/virtuoso.md)",
                    graph,
                    lost,
                    lost,
                )
        return found

    def generation(self) -> str:
        """Writer: the generation published last. Reader: the generation of this handle's
        view (its graphs and their counts), until ``refresh()``."""
        if self._journal is not None:
            return self._generation or ""
        self._view()
        return self._generation or ""

    def latest_generation(self) -> str:
        rows = self._run(
            f"SELECT ?generation WHERE {{ GRAPH <{GENERATION_GRAPH}> "
            f"{{ <{REGISTRY_IRI}> <{GENERATION_PREDICATE}> ?generation }} }}",
            "SELECT",
            None,
        ).rows
        values = [row["generation"].value for row in rows if "generation" in row]
        return max(values, key=generation_number, default="")

    def refresh(self) -> bool:
        """True when a newer generation was published since this handle's view was
        loaded; the view (graphs, counts, probe) is then loaded again."""
        if self._journal is not None:
            return False
        latest = self.latest_generation()
        if self._generation is None:
            self._view()
            return False
        if latest == self._generation:
            return False
        with self._lock:
            self._generation = self._profile = None
            self._text_vars.clear()
        self._view()
        return True

    # -- export and life cycle -------------------------------------------------------

    def dump_nquads(self, out: BinaryIO) -> None:
        for graph in self.dataset_graphs():  # the writer: from its copy
            nquads_of_graph(self.graph_ntriples(graph), graph, out)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._session is not None:
            self._session.close()
            self._session = None


def _plain(variables: list[str]) -> list[str]:
    return [v for v in variables if not v.startswith(TEXT_PREFIX)]


def _template(body: str) -> tuple[int, int] | None:
    """Where a CONSTRUCT's own template starts and ends (its braces), or None (the short
    form ``CONSTRUCT WHERE``)."""
    seen = False
    for match in sparql_text.tokens(body):
        kind = match.lastgroup
        if kind in (sparql_text.SPACE, sparql_text.COMMENT):
            continue
        if not seen:
            if kind != sparql_text.WORD or match.group().upper() != "CONSTRUCT":
                return None
            seen = True
            continue
        if kind == sparql_text.OPEN and match.group() == "{":
            end = sparql_text.matching_close(body, match.start())
            return None if end is None else (match.start(), end)
        return None
    return None


def _expression(term: ox.NamedNode | ox.Literal) -> str:
    """A term as an expression whose text Virtuoso reads right (see ``_bound``)."""
    if isinstance(term, ox.NamedNode) or term.value.isascii():
        return str(term)
    text = f"SUBSTR({ox.Literal(term.value)}, 1)"
    if term.language:
        return f"STRLANG({text}, {ox.Literal(term.language)})"
    if term.datatype.value != XSD + "string":
        return f"STRDT({text}, {term.datatype})"
    return text


def _integer(value: int) -> str:
    return f'"{int(value)}"^^<{XSD}integer>'


def _read_capped(response: requests.Response, limit: int) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(1 << 16):
        size += len(chunk)
        if size > limit:
            raise StoreFailed(f"the SPARQL store's answer is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
