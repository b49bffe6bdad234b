"""The public SPARQL guard refuses unsafe queries before any parser sees them."""

from __future__ import annotations

import time

import pytest

from registry.sparql_guard import QueryRefused, check_graph_iris, check_query

LIMITS = {"max_length": 20_000, "max_depth": 64}
REGISTRY = ("https://w3id.org/ltc/",)


def refused(text: str, **options: object) -> QueryRefused:
    with pytest.raises(QueryRefused) as caught:
        check_query(text, **{**LIMITS, **options})  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 10", "SELECT"),
        ("PREFIX ex: <http://example.org/> ask { ?s ex:p ?o }", "ASK"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <https://w3id.org/ltc/place/1>", "DESCRIBE"),
        ('SELECT ?s WHERE { ?s ?p ?o FILTER(?o = "DELETE") }', "SELECT"),
        ("SELECT ?s WHERE { ?s ?p ?o FILTER(CONTAINS(?o, 'SERVICE <http://x> {}')) }", "SELECT"),
        ('SELECT ?s WHERE { ?s ?p """INSERT\nDATA LOAD""" }', "SELECT"),
        ("SELECT ?s WHERE { ?s ?p ?o } # DROP ALL; SERVICE <http://evil> {}", "SELECT"),
        ("SELECT ?s WHERE { ?s <http://example.org/delete> ?o }", "SELECT"),
        ("PREFIX ex: <http://example.org/> SELECT ?s WHERE { ?s ex:service ?o }", "SELECT"),
        ('SELECT ?s WHERE { ?s ?p "copy"@fr }', "SELECT"),
        ("SELECT ?service WHERE { ?service ?p ?o FILTER(?p < ?o) }", "SELECT"),
        ("SELECT * FROM <https://w3id.org/ltc/graph/a> WHERE { ?s ?p ?o }", "SELECT"),
        ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "SELECT"),
    ],
)
def test_accepts_read_only_queries(text: str, form: str) -> None:
    assert check_query(text, **LIMITS, allowed_graph_prefixes=REGISTRY).form == form


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <http://a> <http://b> <http://c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "LOAD <http://example.org/data.ttl>",
        "CLEAR ALL",
        "DROP GRAPH <http://example.org/g>",
        "CREATE GRAPH <http://example.org/g>",
        "ADD DEFAULT TO <http://example.org/g>",
        "MOVE DEFAULT TO <http://example.org/g>",
        "COPY DEFAULT TO <http://example.org/g>",
        "WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "SELECT * WHERE { ?s ?p ?o } ; delete where { ?s ?p ?o }",
    ],
)
def test_refuses_updates(text: str) -> None:
    error = refused(text)
    assert error.status == 400
    assert "read-only" in error.message_en and "lecture seule" in error.message_fr


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { service <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE SILENT <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { ?x ?y ?z . SERVICE ?endpoint { ?s ?p ?o } }",
        "SELECT * WHERE { { OPTIONAL { { SeRvIcE <http://x/> { ?s ?p ?o } } } } }",
        "SELECT * WHERE { ?s ?p 1.SERVICE <http://x/> { ?a ?b ?c } }",
        "SELECT * WHERE { ?s ?p ?o .SERVICE <http://x/> { ?a ?b ?c } }",
    ],
)
def test_refuses_service(text: str) -> None:
    assert "SERVICE" in refused(text).message_en


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
        "SELECT * FROM NAMED <ftp://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
        "SELECT * WHERE { GRAPH <urn:x:y> { ?s ?p ?o } }",
        "PREFIX f: <file:///etc/> SELECT * FROM f:passwd WHERE { ?s ?p ?o }",
        "SELECT * from <https://evil.example/g> WHERE { ?s ?p ?o }",
        "SELECT * WHERE { GRAPH <http://169.254.169.254/latest> { ?s ?p ?o } }",
    ],
)
def test_refuses_foreign_graphs(text: str) -> None:
    error = refused(text, allowed_graph_prefixes=REGISTRY)
    assert "graph" in error.message_en


def test_foreign_http_graph_allowed_without_prefix_list() -> None:
    text = "SELECT * FROM <https://example.org/g> WHERE { ?s ?p ?o }"
    assert check_query(text, **LIMITS).form == "SELECT"


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM <passwd> WHERE { ?s ?p ?o }",
        "SELECT * WHERE { GRAPH <../g> { ?s ?p ?o } }",
        "PREFIX r: <rel/> SELECT * WHERE { GRAPH r:g { ?s ?p ?o } }",
    ],
)
def test_refuses_relative_graph_iris(text: str) -> None:
    assert "relative" in refused(text).message_en


def test_refuses_base() -> None:
    assert "BASE" in refused("BASE <file:///> SELECT * WHERE { ?s ?p ?o }").message_en


def test_refuses_codepoint_escapes_outside_strings() -> None:
    refused("SELECT * WHERE { ?s ?p ?o } # \\u000A SERVICE <http://x/> { }")
    assert check_query('SELECT ("\\u00e9" AS ?e) WHERE {}', **LIMITS).form == "SELECT"


def test_protocol_graph_parameters() -> None:
    check_graph_iris(["https://w3id.org/ltc/graph/a"], REGISTRY)
    with pytest.raises(QueryRefused):
        check_graph_iris(["file:///etc/passwd"], REGISTRY)


def test_too_long_is_413() -> None:
    error = refused("SELECT * WHERE { ?s ?p ?o }" + " " * 100, max_length=50)
    assert error.status == 413
    assert "trop longue" in error.message_fr


@pytest.mark.parametrize("opening", ["{", "(", "["])
def test_deep_nesting_refused_quickly(opening: str) -> None:
    closing = {"{": "}", "(": ")", "[": "]"}[opening]
    text = "SELECT * WHERE { " + opening * 10_000 + closing * 10_000 + " }"
    started = time.perf_counter()
    error = refused(text, max_length=100_000, max_depth=64)
    assert time.perf_counter() - started < 1.0
    assert "nested" in error.message_en


def test_nesting_within_limit_accepted() -> None:
    text = "SELECT * WHERE " + "{" * 30 + " ?s ?p ?o " + "}" * 30
    assert check_query(text, **LIMITS).form == "SELECT"


def test_malformed_query_gets_parser_message() -> None:
    error = refused("SELECT * WHERE { ?s ?p }")
    assert error.status == 400
    assert error.message_en.startswith("invalid SPARQL query: error at 1:")
    assert "requête SPARQL invalide" in error.message_fr


def test_parsing_does_not_evaluate() -> None:
    """A query that would run for minutes even on an empty store is only parsed."""
    values = " ".join(str(i) for i in range(1000))
    groups = " ".join(f"{{ VALUES ?v{i} {{ {values} }} }}" for i in range(5))
    for form in ("SELECT (COUNT(*) AS ?n)", "ASK", "CONSTRUCT { ?v0 ?v1 ?v2 }"):
        started = time.perf_counter()
        text = f"{form} WHERE {{ {groups} FILTER(false) }}"
        check_query(text, max_length=100_000, max_depth=64)
        assert time.perf_counter() - started < 1.0
