"""Public queries run in killable worker processes over the read-only snapshot."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from core.config import Settings, load_settings
from core.store import open_store
from registry.query_workers import (
    QueryFailed,
    QueryInvalid,
    QueryPool,
    QueryTimeout,
)

GRAPH = "https://w3id.org/ltc/graph/test"
PLACES = 2000
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def ntriples(count: int, label: str = "place") -> bytes:
    return "".join(
        f'<https://w3id.org/ltc/place/{i}> <http://www.w3.org/2000/01/rdf-schema#label> "{label} {i}"@fr .\n'
        for i in range(count)
    ).encode()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("workers") / "data"
    settings = load_settings(overrides={"data_dir": str(data_dir)}, environ={})
    with open_store(settings, writer=True) as store:
        store.replace_graph(GRAPH, ntriples(PLACES))
        store.publish()
    return settings


@pytest.fixture(scope="module")
def pool(settings: Settings) -> Iterator[QueryPool]:
    pool = QueryPool(settings, workers=2, timeout=1.0, max_rows=500)
    yield pool
    pool.close()


POINT = (
    "SELECT ?label WHERE { <https://w3id.org/ltc/place/7> "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label }"
)


@pytest.mark.parametrize(
    ("result_format", "media_type", "expected"),
    [
        ("json", "application/sparql-results+json", b'"value":"place 7"'),
        ("xml", "application/sparql-results+xml", b'xml:lang="fr">place 7</literal>'),
        ("csv", "text/csv", b"place 7"),
        ("tsv", "text/tab-separated-values", b'"place 7"@fr'),
        ("application/sparql-results+json", "application/sparql-results+json", b"place 7"),
    ],
)
def test_select_in_each_format(
    pool: QueryPool, result_format: str, media_type: str, expected: bytes
) -> None:
    answer = pool.run(POINT, default_graphs=None, named_graphs=None, result_format=result_format)
    assert answer.media_type.split(";")[0] == media_type
    assert expected in answer.body
    assert not answer.truncated


def test_ask(pool: QueryPool) -> None:
    answer = pool.run(
        "ASK { ?s ?p ?o }", default_graphs=None, named_graphs=None, result_format="json"
    )
    assert json.loads(answer.body) == {"head": {}, "boolean": True}


@pytest.mark.parametrize(
    ("result_format", "expected"),
    [
        ("turtle", b"place 7"),
        ("ntriples", b'"place 7"@fr .'),
        ("rdfxml", b'xml:lang="fr">place 7<'),
        ("jsonld", b'"@value":"place 7"'),
    ],
)
def test_construct_and_describe_in_each_format(
    pool: QueryPool, result_format: str, expected: bytes
) -> None:
    for query in (
        "CONSTRUCT WHERE { <https://w3id.org/ltc/place/7> ?p ?o }",
        "DESCRIBE <https://w3id.org/ltc/place/7>",
    ):
        answer = pool.run(
            query, default_graphs=None, named_graphs=None, result_format=result_format
        )
        assert expected in answer.body, answer.body
        assert not answer.truncated


def test_graph_options(pool: QueryPool) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    for graphs, count in (([GRAPH], PLACES), (["https://w3id.org/ltc/graph/none"], 0)):
        answer = pool.run(query, default_graphs=graphs, named_graphs=None, result_format="csv")
        assert answer.body.splitlines()[1] == str(count).encode()
    answer = pool.run(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        default_graphs=None,
        named_graphs=[],
        result_format="csv",
    )
    assert answer.body.splitlines() == [b"g"]


def test_row_cap_sets_truncated(pool: QueryPool) -> None:
    answer = pool.run(
        "SELECT ?s WHERE { ?s ?p ?o }", default_graphs=None, named_graphs=None, result_format="json"
    )
    assert answer.truncated
    assert len(json.loads(answer.body)["results"]["bindings"]) == 500
    answer = pool.run(
        "CONSTRUCT WHERE { ?s ?p ?o }",
        default_graphs=None,
        named_graphs=None,
        result_format="ntriples",
    )
    assert answer.truncated and len(answer.body.splitlines()) == 500
    answer = pool.run(
        "SELECT ?s WHERE { ?s ?p ?o } LIMIT 500",
        default_graphs=None,
        named_graphs=None,
        result_format="json",
    )
    assert not answer.truncated


def test_invalid_query_and_format(pool: QueryPool) -> None:
    with pytest.raises(QueryInvalid, match="error at 1:"):
        pool.run(
            "SELECT * WHERE { ?s }", default_graphs=None, named_graphs=None, result_format="json"
        )
    with pytest.raises(QueryInvalid, match="unsupported format"):
        pool.run(POINT, default_graphs=None, named_graphs=None, result_format="turtle")


def test_runaway_query_is_killed_while_others_answer(pool: QueryPool) -> None:
    outcome: dict[str, object] = {}

    def runaway() -> None:
        started = time.perf_counter()
        try:
            pool.run(CARTESIAN, default_graphs=None, named_graphs=None, result_format="json")
        except QueryTimeout as error:
            outcome["error"] = error
        outcome["elapsed"] = time.perf_counter() - started

    before = set(pool.worker_pids())
    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.2)
    started = time.perf_counter()
    answer = pool.run(POINT, default_graphs=None, named_graphs=None, result_format="json")
    assert time.perf_counter() - started < 0.5
    assert b"place 7" in answer.body
    thread.join(10)
    assert isinstance(outcome["error"], QueryTimeout)
    assert 1.0 <= outcome["elapsed"] < 3.0  # type: ignore[operator]
    after = set(pool.worker_pids())
    assert len(after) == 2 and after != before  # the killed worker was replaced
    for pid in before - after:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    answer = pool.run(POINT, default_graphs=None, named_graphs=None, result_format="csv")
    assert b"place 7" in answer.body


def test_crashed_worker_is_replaced(settings: Settings) -> None:
    with QueryPool(settings, workers=1, timeout=5.0) as pool:
        (pid,) = pool.worker_pids()
        pool.run(POINT, default_graphs=None, named_graphs=None, result_format="json")
        os.kill(pid, 9)
        started = time.perf_counter()
        with pytest.raises(QueryFailed, match="died"):
            pool.run(POINT, default_graphs=None, named_graphs=None, result_format="json")
        assert time.perf_counter() - started < 1.0
        answer = pool.run(POINT, default_graphs=None, named_graphs=None, result_format="json")
        assert b"place 7" in answer.body
        assert pool.worker_pids() != [pid]


def test_workers_see_new_snapshot(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": str(tmp_path / "data")}, environ={})
    with open_store(settings, writer=True) as store:
        store.replace_graph(GRAPH, ntriples(3, "old"))
        store.publish()
        with QueryPool(settings, workers=1, timeout=5.0) as pool:
            answer = pool.run(
                POINT.replace("/7>", "/1>"),
                default_graphs=None,
                named_graphs=None,
                result_format="tsv",
            )
            assert b'"old 1"@fr' in answer.body
            store.replace_graph(GRAPH, ntriples(3, "new"))
            store.publish()
            answer = pool.run(
                POINT.replace("/7>", "/1>"),
                default_graphs=None,
                named_graphs=None,
                result_format="tsv",
            )
            assert b'"new 1"@fr' in answer.body


def test_nothing_published_is_reported(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": str(tmp_path / "empty")}, environ={})
    with (
        QueryPool(settings, workers=1, timeout=5.0) as pool,
        pytest.raises(QueryFailed, match="nothing has been published"),
    ):
        pool.run(POINT, default_graphs=None, named_graphs=None, result_format="json")


def test_remote_backend_refused(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={"data_dir": str(tmp_path), "store_backend": "sparql"}, environ={}
    )
    with pytest.raises(ValueError, match="timeout-s"):
        QueryPool(settings)


def test_literal_round_trip(tmp_path: Path) -> None:
    """Kept rows go through TSV and back: awkward literals and blank nodes survive."""
    settings = load_settings(overrides={"data_dir": str(tmp_path / "data")}, environ={})
    nasty = 'tab\there "quoted" \\ back\nline é 😀'
    literal = ox.Literal(nasty)
    data = f"_:b <http://example.org/p> {literal} .\n".encode()
    with open_store(settings, writer=True) as store:
        store.replace_graph(GRAPH, data)
        store.publish()
    with QueryPool(settings, workers=1, timeout=5.0) as pool:
        answer = pool.run(
            "SELECT ?s ?o ?missing WHERE { ?s ?p ?o }",
            default_graphs=None,
            named_graphs=None,
            result_format="json",
        )
    (row,) = json.loads(answer.body)["results"]["bindings"]
    assert row["o"] == {"type": "literal", "value": nasty}
    assert row["s"]["type"] == "bnode" and "missing" not in row
