"""Lexical safety checks for public SPARQL queries, run before any parser sees the text.

pyoxigraph follows ``SERVICE`` and ``LOAD`` to the network, has no query timeout and
crashes the process on queries nested a few thousand levels deep; rdflib's parser is
slow and recursion-limited (DESIGN.md, "Constraints that shape the design"). So a
public query is first scanned by an iterative lexer (``core.sparql_text``: strings,
IRIs and comments skipped) that bounds its length and nesting and refuses updates,
federation, foreign or relative graph IRIs and ``BASE``; only then does pyoxigraph
parse it, through a path that parses without evaluating (see ``_parse``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pyoxigraph as ox

from core.sparql_text import TOKENS

QueryForm = Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]

FORMS: frozenset[str] = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_KEYWORDS: frozenset[str] = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
ALLOWED_SCHEMES = ("http", "https")


class QueryRefused(Exception):
    """The query is not run; the messages say why (in French and English) and
    ``status`` is the HTTP status to answer with (400, or 413 when too long)."""

    def __init__(self, message_fr: str, message_en: str, status: int = 400) -> None:
        super().__init__(message_en)
        self.message_fr = message_fr
        self.message_en = message_en
        self.status = status


@dataclass(frozen=True)
class QueryInfo:
    """What the guard learnt about an accepted query (its form picks the result formats)."""

    form: QueryForm


_CODEPOINT_ESCAPE = re.compile(r"\\[uU]")
_LETTERS = re.compile(r"[A-Z]+")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def _refuse(message_fr: str, message_en: str, status: int = 400) -> QueryRefused:
    return QueryRefused(message_fr, message_en, status)


def check_graph_iri(iri: str, allowed_graph_prefixes: tuple[str, ...] | None = None) -> None:
    """Refuse a graph IRI a query may not name: relative, not http(s), or (when
    ``allowed_graph_prefixes`` is given) outside the registry's own graphs. Also for the
    protocol's ``default-graph-uri``/``named-graph-uri`` parameters."""
    match = _SCHEME.match(iri)
    if match is None:
        raise _refuse(
            f"IRI de graphe relative refusée : <{iri}> (écrivez une IRI absolue http(s))",
            f"relative graph IRI refused: <{iri}> (write an absolute http(s) IRI)",
        )
    if match.group(1).lower() not in ALLOWED_SCHEMES:
        raise _refuse(
            f"IRI de graphe refusée : <{iri}> (seuls les schémas http et https sont admis)",
            f"graph IRI refused: <{iri}> (only the http and https schemes are allowed)",
        )
    if allowed_graph_prefixes is not None and not iri.startswith(allowed_graph_prefixes):
        raise _refuse(
            f"graphe inconnu : <{iri}> (seuls les graphes du registre peuvent être nommés)",
            f"unknown graph: <{iri}> (only the registry's graphs can be named)",
        )


def check_graph_iris(
    iris: Iterable[str], allowed_graph_prefixes: tuple[str, ...] | None = None
) -> None:
    """``check_graph_iri`` for each IRI."""
    for iri in iris:
        check_graph_iri(iri, allowed_graph_prefixes)


def check_query(
    text: str,
    *,
    max_length: int,
    max_depth: int,
    allowed_graph_prefixes: tuple[str, ...] | None = None,
) -> QueryInfo:
    """Accept a read-only query that is safe to evaluate, or raise ``QueryRefused``.

    Everything is decided on tokens outside strings, IRIs and comments, so a literal
    "DELETE" in a FILTER is fine while ``service`` in any case, at any depth, is not.
    The scan is one regex pass with a counter (no recursion), so 10 000 nested groups
    are refused in milliseconds, before pyoxigraph's parser could crash on them.
    """
    if len(text) > max_length:
        raise _refuse(
            f"requête trop longue : {len(text)} caractères (maximum {max_length})",
            f"query too long: {len(text)} characters (at most {max_length})",
            413,
        )
    form = _lexical_checks(text, max_depth, allowed_graph_prefixes)
    _parse(text)
    if form is None:
        raise _refuse(
            "requête sans forme SELECT, ASK, CONSTRUCT ou DESCRIBE",
            "the query is not a SELECT, ASK, CONSTRUCT or DESCRIBE query",
        )
    return QueryInfo(form=form)


def _lexical_checks(
    text: str, max_depth: int, allowed_graph_prefixes: tuple[str, ...] | None
) -> QueryForm | None:
    depth = 0
    form: QueryForm | None = None
    prefixes: dict[str, str] = {}
    pending: str | None = None  # "FROM", "GRAPH" or "PREFIX": the next token is its operand
    prefix_name: str | None = None
    for match in TOKENS.finditer(text):
        kind = match.lastgroup
        token = match.group()
        if kind == "space":
            continue
        if kind != "string" and _CODEPOINT_ESCAPE.search(token):
            # SPARQL 1.1 lets a server unescape \u sequences before parsing, which could
            # turn a comment or an IRI into live syntax: only allowed inside strings.
            raise _refuse(
                "séquence d'échappement \\u ou \\U refusée hors des chaînes de caractères",
                "\\u or \\U escape sequences are refused outside string literals",
            )
        if kind == "comment":
            continue
        if kind == "open":
            depth += 1
            if depth > max_depth:
                raise _refuse(
                    f"requête trop imbriquée : plus de {max_depth} niveaux de {{ ( [",
                    f"query nested too deeply: more than {max_depth} levels of {{ ( [",
                )
        elif kind == "close":
            depth = max(0, depth - 1)
        if pending == "PREFIX":
            if prefix_name is None and kind == "word" and token.endswith(":"):
                prefix_name = token
                continue
            if prefix_name is not None and kind == "iri":
                prefixes[prefix_name] = token[1:-1]
            pending, prefix_name = None, None
            continue
        if pending in ("FROM", "GRAPH"):
            if pending == "FROM" and kind == "word" and token.upper() == "NAMED":
                continue
            pending = None
            if kind in ("iri", "var") or (kind == "word" and ":" in token):
                iri = _graph_operand(kind, token, prefixes)
                if iri is not None:
                    check_graph_iri(iri, allowed_graph_prefixes)
                continue
        if kind != "word":
            continue
        # Keywords are looked for in every run of letters of the word, so that "1.SERVICE"
        # or "x-DELETE" cannot slip a keyword past the lexer; a prefixed name's local part
        # (after the colon) belongs to the name and is not looked at.
        pieces = _LETTERS.findall(token.partition(":")[0].upper())
        if not pieces:
            continue
        refused = [piece for piece in pieces if piece in UPDATE_KEYWORDS]
        upper = refused[0] if refused else pieces[-1]
        if refused:
            raise _refuse(
                f"les mises à jour SPARQL ({upper}) sont refusées : ce point d'accès est "
                "en lecture seule",
                f"SPARQL updates ({upper}) are refused: this endpoint is read-only",
            )
        if "SERVICE" in pieces:
            raise _refuse(
                "les requêtes fédérées (SERVICE) sont refusées",
                "federated queries (SERVICE) are refused",
            )
        if "BASE" in pieces:
            raise _refuse(
                "la déclaration BASE est refusée : écrivez des IRI absolues",
                "BASE declarations are refused: write absolute IRIs",
            )
        if ":" in token:
            continue
        if upper in ("FROM", "GRAPH", "PREFIX"):
            pending = upper
        elif upper in FORMS and form is None and depth == 0:
            form = upper  # type: ignore[assignment]
    return form


def _graph_operand(kind: str | None, token: str, prefixes: dict[str, str]) -> str | None:
    """The IRI after FROM/GRAPH (a prefixed name expanded), None for a variable."""
    if kind == "iri":
        return token[1:-1]
    if kind == "word":
        prefix, _, local = token.partition(":")
        namespace = prefixes.get(prefix + ":")
        if namespace is None:
            return None  # undeclared prefix: the parser refuses the query
        return namespace + local
    return None


def _parse(text: str) -> None:
    """Parse with pyoxigraph without evaluating the query.

    pyoxigraph has no parse-only API, and running the query even on an empty store is
    not harmless (``SELECT (COUNT(*) …)`` over a few ``VALUES`` blocks evaluates
    eagerly for minutes). But it checks ``substitutions`` after parsing and before
    evaluating: binding a random variable the query cannot project makes it stop there
    with a RuntimeError, while a malformed query raises SyntaxError first.
    """
    probe = "ltcParseProbe" + secrets.token_hex(12)
    while probe in text:  # pragma: no cover - 96 random bits
        probe = "ltcParseProbe" + secrets.token_hex(12)
    try:
        ox.Store().query(text, substitutions={ox.Variable(probe): ox.Literal("")})
    except SyntaxError as error:
        raise _refuse(
            f"requête SPARQL invalide : {error}", f"invalid SPARQL query: {error}"
        ) from error
    except RuntimeError:
        return
    raise _refuse(  # pragma: no cover - only if pyoxigraph stops checking substitutions
        "la requête n'a pas pu être analysée sans être exécutée",
        "the query could not be parsed without running it",
    )
