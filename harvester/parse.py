"""Turn the bytes of a feed into RDF triples, refusing what could hang or trick the parser.

Parsing is done by pyoxigraph (Rust, no network access, no entity expansion once
DOCTYPEs are refused); JSON-LD contexts are pinned first (``harvester.jsonld``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pyoxigraph as ox

from harvester import jsonld
from harvester.budget import WHILE_PARSING, MemoryBudget, json_document_bytes
from harvester.errors import FeedError

SYNTAXES: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "n-triples": ox.RdfFormat.N_TRIPLES,
    "n-quads": ox.RdfFormat.N_QUADS,
    "rdf-xml": ox.RdfFormat.RDF_XML,
    "json-ld": ox.RdfFormat.JSON_LD,
}

_EXTENSIONS = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".trig": "trig",
    ".nt": "n-triples",
    ".ntriples": "n-triples",
    ".nq": "n-quads",
    ".nquads": "n-quads",
    ".rdf": "rdf-xml",
    ".owl": "rdf-xml",
    ".xml": "rdf-xml",
    ".jsonld": "json-ld",
    ".json": "json-ld",
}

_MEDIA_TYPES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/trig": "trig",
    "application/n-triples": "n-triples",
    "text/plain": None,  # says nothing useful: look at the extension or the content
    "application/n-quads": "n-quads",
    "application/rdf+xml": "rdf-xml",
    "application/xml": "rdf-xml",
    "text/xml": "rdf-xml",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
}

_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.IGNORECASE)
_XML_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_TURTLE_HINT = re.compile(rb"^\s*(@prefix|@base|PREFIX\s|BASE\s)", re.IGNORECASE | re.MULTILINE)
_NTRIPLES_LINE = re.compile(rb"^\s*(<[^>]*>|_:\S+)\s+<[^>]*>\s+.*\.\s*$")


PARSE_CHUNK = 65_536  # statements read between two checks of the memory budget


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = 64 * 1024 * 1024
    max_json_depth: int = 64
    max_triples: int = 5_000_000
    max_memory: int = 1024 * 1024 * 1024  # bytes one feed may make the process grow by


def syntax_names() -> list[str]:
    return list(SYNTAXES)


def detect_syntax(data: bytes, filename: str | None = None, content_type: str | None = None) -> str:
    """The feed's syntax from its media type, then its extension, then its first bytes."""
    if content_type:
        media = content_type.split(";")[0].strip().lower()
        if media == "text/html" or media == "application/xhtml+xml":
            raise _html_error()
        if _MEDIA_TYPES.get(media):
            return _MEDIA_TYPES[media]  # type: ignore[return-value]
    if filename:
        lowered = filename.lower().split("?")[0]
        for extension, syntax in _EXTENSIONS.items():
            if lowered.endswith(extension):
                return syntax
    head = data[:4096].lstrip()
    if head.startswith((b"{", b"[")):
        return "json-ld"
    if head.startswith(b"<?xml") or b"<rdf:RDF" in head:
        return "rdf-xml"
    if _TURTLE_HINT.search(head):
        return "turtle"
    first_line = head.split(b"\n", 1)[0]
    if _NTRIPLES_LINE.match(first_line):
        return "n-triples"
    raise FeedError(
        "syntaxe inconnue : ni Turtle, TriG, N-Triples, N-Quads, RDF/XML ni JSON-LD",
        "unknown syntax: not Turtle, TriG, N-Triples, N-Quads, RDF/XML or JSON-LD",
    )


def _html_error() -> FeedError:
    return FeedError(
        "une page HTML a été reçue au lieu de données RDF (l'adresse du flux est-elle la bonne ?)",
        "an HTML page was received instead of RDF data (is the feed address right?)",
    )


def _check_bytes(data: bytes, limits: ParseLimits) -> None:
    if len(data) > limits.max_bytes:
        raise FeedError(
            f"fichier trop gros ({len(data)} octets, {limits.max_bytes} au plus)",
            f"file too large ({len(data)} bytes, at most {limits.max_bytes})",
        )
    if not data.strip():
        raise FeedError("le fichier est vide", "the file is empty")
    if b"\x00" in data[:65536]:
        raise FeedError(
            "fichier binaire : ce n'est pas un flux RDF", "binary file: this is not an RDF feed"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FeedError(
            f"le fichier n'est pas en UTF-8 (octet {error.start})",
            f"the file is not UTF-8 (byte {error.start})",
        ) from error
    if _HTML.match(data[:1024]):
        raise _html_error()


def parse_feed(
    data: bytes,
    *,
    syntax: str | None = None,
    filename: str | None = None,
    content_type: str | None = None,
    base_iri: str | None = None,
    limits: ParseLimits | None = None,
    budget: MemoryBudget | None = None,
) -> list[ox.Triple]:
    """The triples of a feed (named graphs of TriG/N-Quads are merged), or a FeedError.

    ``budget`` (by default a new one of ``limits.max_memory``) is checked as statements
    arrive, so a feed heading past it is refused while it is being read."""
    limits = limits or ParseLimits()
    budget = budget or MemoryBudget(limits.max_memory)
    _check_bytes(data, limits)
    if syntax is None:
        syntax = detect_syntax(data, filename, content_type)
    elif syntax not in SYNTAXES:
        raise FeedError(
            f"syntaxe inconnue : {syntax} (possibles : {', '.join(SYNTAXES)})",
            f"unknown syntax: {syntax} (known: {', '.join(SYNTAXES)})",
        )
    if syntax == "rdf-xml" and _XML_DTD.search(data):
        raise FeedError(
            "RDF/XML avec DOCTYPE ou entités refusé : retirez la déclaration <!DOCTYPE …>",
            "RDF/XML with a DOCTYPE or entities is refused: remove the <!DOCTYPE …> declaration",
        )
    if syntax == "json-ld":
        budget.check(1.0, 0, "lecture du JSON", "reading the JSON", ahead=json_document_bytes(data))
        data = jsonld.prepare(data, limits.max_json_depth)
    try:
        quads = ox.parse(data, format=SYNTAXES[syntax], base_iri=base_iri)
        triples: list[ox.Triple] = []
        while len(triples) <= limits.max_triples:
            chunk = [quad.triple for quad in itertools.islice(quads, PARSE_CHUNK)]
            if not chunk:
                break
            triples += chunk
            budget.check(WHILE_PARSING, len(triples), "lecture", "parsing")
    except SyntaxError as error:
        raise FeedError(
            f"erreur de syntaxe {syntax} : {_parser_message(error)}",
            f"{syntax} syntax error: {_parser_message(error)}",
            line=error.lineno,
            column=error.offset,
        ) from error
    except ValueError as error:  # e.g. a JSON-LD document the parser cannot turn into RDF
        raise FeedError(f"erreur {syntax} : {error}", f"{syntax} error: {error}") from error
    if len(triples) > limits.max_triples:
        raise FeedError(
            f"trop de triplets (plus de {limits.max_triples})",
            f"too many triples (more than {limits.max_triples})",
        )
    if not triples:
        raise FeedError("le fichier ne contient aucun triplet", "the file contains no statement")
    return triples


def _parser_message(error: SyntaxError) -> str:
    text = str(error.msg if error.msg else error)
    # pyoxigraph already says "Parser error at line L column C: …"; keep its reason only.
    return re.sub(r"^Parser error at line \d+ (between columns \d+ and \d+|column \d+): ", "", text)
