"""Parsing: each syntax is recognised, and hostile input fails fast with a clear error."""

from __future__ import annotations

import json
import time

import pytest

from harvester.errors import FeedError
from harvester.parse import ParseLimits, detect_syntax, parse_feed

PLACE_TTL = b"""@prefix schema: <https://schema.org/> .
<https://ex.org/lieu/1> a schema:Place ; schema:name "La Fabrique" .
"""


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "syntax"),
    [
        (PLACE_TTL, "flux.ttl", None, "turtle"),
        (PLACE_TTL, None, "text/turtle; charset=utf-8", "turtle"),
        (PLACE_TTL, None, None, "turtle"),
        (b'{"@id": "https://ex.org/a"}', None, None, "json-ld"),
        (b'<?xml version="1.0"?><rdf:RDF/>', None, None, "rdf-xml"),
        (b"<https://ex.org/a> <https://ex.org/p> <https://ex.org/b> .\n", None, None, "n-triples"),
        (b"", "flux.nq", None, "n-quads"),
        (b"", "flux.trig", "application/octet-stream", "trig"),
    ],
)
def test_syntax_is_found_from_media_type_extension_or_content(data, filename, content_type, syntax):
    assert detect_syntax(data, filename, content_type) == syntax


def test_each_syntax_gives_the_same_statement():
    expected = ("https://ex.org/lieu/1", "https://schema.org/name", "La Fabrique")
    docs = {
        "turtle": b'<https://ex.org/lieu/1> <https://schema.org/name> "La Fabrique" .',
        "n-triples": b'<https://ex.org/lieu/1> <https://schema.org/name> "La Fabrique" .\n',
        "n-quads": b'<https://ex.org/lieu/1> <https://schema.org/name> "La Fabrique" <https://g> .\n',
        "trig": b'<https://g> { <https://ex.org/lieu/1> <https://schema.org/name> "La Fabrique" }',
        "rdf-xml": b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:s="https://schema.org/">
  <rdf:Description rdf:about="https://ex.org/lieu/1"><s:name>La Fabrique</s:name></rdf:Description>
</rdf:RDF>""",
        "json-ld": json.dumps(
            {
                "@context": "https://w3id.org/ltc/context.jsonld",
                "id": "https://ex.org/lieu/1",
                "nom": "La Fabrique",
            }
        ).encode(),
    }
    for syntax, data in docs.items():
        triples = parse_feed(data, syntax=syntax)
        assert [(t.subject.value, t.predicate.value, t.object.value) for t in triples] == [
            expected
        ], syntax


def test_schema_org_context_is_resolved_from_the_pinned_copy():
    doc = {
        "@context": "http://schema.org/",
        "@id": "https://ex.org/a",
        "@type": "Place",
        "name": "X",
    }
    triples = parse_feed(json.dumps(doc).encode(), syntax="json-ld")
    assert {t.predicate.value for t in triples} == {
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        "https://schema.org/name",
    }


def _error(data: bytes, **kwargs) -> FeedError:
    started = time.monotonic()
    with pytest.raises(FeedError) as caught:
        parse_feed(data, **kwargs)
    assert time.monotonic() - started < 5, "a hostile document must fail fast"
    return caught.value


@pytest.mark.parametrize(
    ("data", "kwargs", "words"),
    [
        (b"", {}, "vide"),
        (b"  \n\t ", {"filename": "x.ttl"}, "vide"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, "binaire"),
        (b"\xff\xfe\xfa not utf8", {"filename": "x.ttl"}, "UTF-8"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", {}, "HTML"),
        (b"<html><head></head></html>", {"filename": "flux.ttl"}, "HTML"),
        (b"hello world", {}, "syntaxe inconnue"),
        (b"x", {"syntax": "csv"}, "syntaxe inconnue"),
        (
            b'{"@context": "https://evil.example/ctx.jsonld", "@id": "https://ex.org/a"}',
            {},
            "contexte JSON-LD distant",
        ),
        (
            b'{"@context": [{"@import": "http://evil.example/c"}], "@id": "https://ex.org/a"}',
            {},
            "contexte JSON-LD distant",
        ),
        (b"[" * 100_000 + b"]" * 100_000, {}, "trop imbriqué"),
        (b'{"@id": "https://ex.org/a", "https://ex.org/p": [', {}, "JSON invalide"),
        (b"@prefix s: <https://schema.org/> .\n<https://ex.org/a> s:name .", {}, "syntaxe"),
        (b"@prefix s: <https://schema.org/> .\n", {}, "aucun triplet"),
    ],
)
def test_bad_input_gets_a_clear_error(data, kwargs, words):
    assert words in _error(data, **kwargs).message("fr")


def test_xml_entity_expansion_is_refused_before_parsing():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    bomb += b"".join(
        b'<!ENTITY a%d "&a%d;&a%d;&a%d;&a%d;">' % (i + 1, i, i, i, i) for i in range(20)
    )
    bomb += b']><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&a20;</rdf:RDF>'
    assert "DOCTYPE" in _error(bomb).message("fr")


def test_size_and_statement_limits_are_enforced():
    big = PLACE_TTL * 10
    assert "trop gros" in _error(big, limits=ParseLimits(max_bytes=100)).message("fr")
    many = b"".join(b'<https://ex.org/%d> <https://ex.org/p> "1" .\n' % i for i in range(50))
    assert "trop de triplets" in _error(many, limits=ParseLimits(max_triples=10)).message("fr")


def test_syntax_error_says_where():
    error = _error(
        b'@prefix s: <https://schema.org/> .\n\n<https://ex.org/a> s:name "x" ;; s:url <',
        filename="f.ttl",
    )
    assert error.line == 3
    assert "ligne 3" in error.message("fr") and "line 3" in error.message("en")
