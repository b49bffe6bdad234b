"""The store interface behaves the same on the embedded store and on a SPARQL server."""

from __future__ import annotations

import io
import time

import pyoxigraph as ox
import pytest

from core.store import Store, StoreError, open_store
from core.store.base import canonical_lines, with_values
from core.store.embedded import EmbeddedStore
from store_fixtures import store_settings

G1 = "https://w3id.org/ltc/graph/source/amap-idf"
G2 = "https://w3id.org/ltc/graph/source/enercoop"
EX = "https://example.org/"
NAME = "https://schema.org/name"

DATA = f"""\
<{EX}place/1> <{NAME}> "La Ferme du Bonheur"@fr .
<{EX}place/1> <{NAME}> "The Happy Farm"@en-GB .
<{EX}place/1> <https://schema.org/geo> "POINT(2.35 48.85)"^^<http://www.opengis.net/ont/geosparql#wktLiteral> .
<{EX}place/1> <https://schema.org/maximumAttendeeCapacity> "42"^^<http://www.w3.org/2001/XMLSchema#integer> .
<{EX}place/1> <https://schema.org/description> "Épicerie « solidaire » 🌱 — ouverte\\nle \\"samedi\\" {{ matin }}\\tet\\\\soir" .
<{EX}place/2> <{NAME}> "Café réparation" .
<{EX}place/2> <https://schema.org/sameAs> <https://www.openstreetmap.org/node/1> .
""".encode()

OTHER = f"""\
<{EX}place/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Place> .
<{EX}org/9> <{NAME}> "Enercoop Île-de-France" .
""".encode()


def lines(ntriples: bytes) -> set[str]:
    return canonical_lines(ntriples, "test data")[0]


def test_replace_then_read_round_trips(store: Store):
    store.replace_graph(G1, DATA)
    assert lines(store.graph_ntriples(G1)) == lines(DATA)
    assert store.graph_ntriples(EX + "no-such-graph") == b""


def test_small_change_applies_the_difference_only(store: Store, monkeypatch):
    store.replace_graph(G1, DATA)
    store.replace_graph(G2, OTHER)
    changed = DATA.replace(b'"Caf\xc3\xa9 r\xc3\xa9paration"', b'"Repair Caf\xc3\xa9"')
    updates: list[str] = []
    # what goes to the store: a remote store's requests, the embedded store's updates
    sender = "_send_update" if hasattr(store, "_send_update") else "update"
    original = getattr(store, sender)
    monkeypatch.setattr(store, sender, lambda text: (updates.append(text), original(text)))
    store.replace_graph(G1, changed)
    assert lines(store.graph_ntriples(G1)) == lines(changed)
    assert lines(store.graph_ntriples(G2)) == lines(OTHER)
    # one transaction carrying the two changed triples, nothing else
    assert len(updates) == 1
    assert "réparation" in updates[0] and "Repair Café" in updates[0]
    assert "Bonheur" not in updates[0]
    store.replace_graph(G1, changed)  # no difference: nothing sent
    assert len(updates) == 1


def test_blank_nodes_are_replaced_whole(store: Store):
    with_blank = DATA + f'_:a <{NAME}> "anonyme" .\n<{EX}place/1> <{EX}contact> _:a .\n'.encode()
    store.replace_graph(G1, with_blank)
    store.replace_graph(G1, with_blank.replace(b'"anonyme"', b'"anonymous"'))
    stored = store.graph_ntriples(G1)
    assert lines(stored) >= lines(DATA)
    assert len(lines(stored)) == len(lines(DATA)) + 2
    assert b'"anonymous"' in stored and b'"anonyme"' not in stored


def test_replace_with_empty_content_empties_the_graph(store: Store):
    store.replace_graph(G1, DATA)
    store.replace_graph(G1, b"")
    assert store.graph_ntriples(G1) == b""
    assert G1 not in store.named_graphs()


def test_invalid_ntriples_change_nothing(store: Store):
    store.replace_graph(G1, DATA)
    with pytest.raises(StoreError):
        store.replace_graph(G1, DATA + b"<broken\n")
    assert lines(store.graph_ntriples(G1)) == lines(DATA)
    with pytest.raises(StoreError, match="N-Triples"):
        store.replace_graph(G2, OTHER + b"<broken\n")  # a new graph
    assert store.named_graphs() == {G1}
    assert store.incomplete_graphs() == set()


def test_apply_delta(store: Store):
    store.replace_graph(G1, DATA)
    remove = f'<{EX}place/2> <{NAME}> "Café réparation" .\n'.encode()
    add = f'<{EX}place/3> <{NAME}> "Monnaie \\"locale\\"" .\n'.encode()
    store.apply_delta(G1, remove, add)
    assert lines(store.graph_ntriples(G1)) == (lines(DATA) - lines(remove)) | lines(add)
    with pytest.raises(StoreError, match="blank nodes"):
        store.apply_delta(G1, f'_:b <{NAME}> "x" .\n'.encode(), b"")


def test_drop_graph_and_named_graphs(store: Store):
    assert store.named_graphs() == set()
    store.replace_graph(G1, DATA)
    store.replace_graph(G2, OTHER)
    assert store.named_graphs() == {G1, G2}
    store.drop_graph(G1)
    store.drop_graph(EX + "never-existed")
    assert store.named_graphs() == {G2}
    assert store.graph_ntriples(G1) == b""


def test_select_runs_over_the_union_with_safe_bindings(store: Store):
    tricky = 'O\'Brien "le" } grand'
    store.replace_graph(G1, DATA + f"<{EX}place/4> <{NAME}> {ox.Literal(tricky)} .\n".encode())
    store.replace_graph(G2, OTHER)
    # a join across the two graphs, as if they were one
    name = ox.Literal("La Ferme du Bonheur", language="fr")
    query = f"SELECT ?s ?type ?name WHERE {{ ?s <{NAME}> ?name . ?s a ?type }}"
    rows = store.select(query, {"name": name})
    place = ox.NamedNode("https://schema.org/Place")
    assert rows == [{"s": ox.NamedNode(EX + "place/1"), "type": place, "name": name}]
    # a literal with quotes and a brace is a value, not query text
    query = f"SELECT ?s ?name WHERE {{ ?s <{NAME}> ?name }}"
    rows = store.select(query, {"name": ox.Literal(tricky)})
    assert rows == [{"s": ox.NamedNode(EX + "place/4"), "name": ox.Literal(tricky)}]
    attack = ox.Literal('x" } UNION { ?s ?p ?name } #')
    assert store.select(query, {"?name": attack}) == []
    # the bound variable is visible to FILTERs of the group, and GRAPH names each source
    rows = store.select(
        f"SELECT ?g ?want WHERE {{ GRAPH ?g {{ ?s <{NAME}> ?n }} FILTER(STR(?n) = STR(?want)) }}",
        {"want": ox.Literal("Enercoop Île-de-France")},
    )
    assert [row["g"] for row in rows] == [ox.NamedNode(G2)]
    # unbound variables are left out of a row
    rows = store.select("SELECT ?s ?missing WHERE { ?s <https://schema.org/sameAs> ?o }")
    assert rows == [{"s": ox.NamedNode(EX + "place/2")}]
    with pytest.raises(StoreError):
        store.select("SELECT ?s WHERE { ?s ?p ?o }", {"s": ox.BlankNode()})
    with pytest.raises(StoreError):
        store.select("SELECT nonsense")


def test_statements_of_a_predicate_name_their_graph(store: Store):
    """``statements`` (the directory's scans) gives every statement of a predicate in
    every named graph, on each backend; the object narrows it; ``pairs`` reads the union."""
    store.replace_graph(G1, DATA)
    store.replace_graph(G2, OTHER)
    found = set(store.statements(NAME))
    assert found == {
        (
            ox.NamedNode(EX + "place/1"),
            ox.Literal("La Ferme du Bonheur", language="fr"),
            ox.NamedNode(G1),
        ),
        (
            ox.NamedNode(EX + "place/1"),
            ox.Literal("The Happy Farm", language="en-GB"),
            ox.NamedNode(G1),
        ),
        (ox.NamedNode(EX + "place/2"), ox.Literal("Café réparation"), ox.NamedNode(G1)),
        (ox.NamedNode(EX + "org/9"), ox.Literal("Enercoop Île-de-France"), ox.NamedNode(G2)),
    }
    typed = store.statements(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", ox.NamedNode("https://schema.org/Place")
    )
    assert [(subject, graph) for subject, _, graph in typed] == [
        (ox.NamedNode(EX + "place/1"), ox.NamedNode(G2))
    ]
    assert list(store.statements(EX + "nothing")) == []
    assert set(store.pairs(NAME)) == {(subject, name) for subject, name, _ in found}


def test_ask_construct_update(store: Store):
    store.replace_graph(G1, DATA)
    assert store.ask(f"ASK {{ <{EX}place/2> ?p ?o }}")
    assert not store.ask("ASK { ?s ?p ?o }", {"s": ox.NamedNode(EX + "nobody")})
    assert store.ask("ASK { ?s ?p ?o }", {"s": ox.NamedNode(EX + "place/1")})
    triples = store.construct(
        f"CONSTRUCT {{ ?s <{EX}label> ?n }} WHERE {{ ?s <{NAME}> ?n }}",
        {"s": ox.NamedNode(EX + "place/2")},
    )
    assert triples == [
        ox.Triple(
            ox.NamedNode(EX + "place/2"), ox.NamedNode(EX + "label"), ox.Literal("Café réparation")
        )
    ]
    store.update(f'INSERT DATA {{ GRAPH <{G2}> {{ <{EX}x> <{NAME}> "ajouté" }} }}')
    assert store.named_graphs() == {G1, G2}
    assert store.ask(f'ASK {{ ?s <{NAME}> "ajouté" }}')
    with pytest.raises(StoreError):
        store.update("INSERT NONSENSE")


def test_publish_changes_the_generation(store: Store):
    first = store.publish()
    store.replace_graph(G1, DATA)
    second = store.publish()
    assert first != second
    assert sorted([second, first]) == [first, second]
    assert store.generation() == second


def test_dump_nquads_round_trips(store: Store):
    store.replace_graph(G1, DATA)
    store.replace_graph(G2, OTHER)
    store.publish()  # bookkeeping must not leak into dumps
    out = io.BytesIO()
    store.dump_nquads(out)
    dumped = set(ox.parse(input=out.getvalue(), format=ox.RdfFormat.N_QUADS))
    expected = {
        ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(graph))
        for graph, data in ((G1, DATA), (G2, OTHER))
        for q in ox.parse(input=data, format=ox.RdfFormat.N_TRIPLES)
    }
    assert dumped == expected


def test_unknown_backend_is_refused(tmp_path):
    with pytest.raises(StoreError, match="store_backend"):
        open_store(store_settings("fuseki", tmp_path), writer=True)


# -- embedded only -----------------------------------------------------------------------


def test_second_writer_is_refused_at_once(tmp_path):
    settings = store_settings("embedded", tmp_path)
    with open_store(settings, writer=True):
        started = time.monotonic()
        with pytest.raises(StoreError, match="another process is writing"):
            open_store(settings, writer=True)
        assert time.monotonic() - started < 1
    open_store(settings, writer=True).close()  # the lock is released on close


def test_reader_sees_snapshots_and_refreshes(tmp_path):
    settings = store_settings("embedded", tmp_path)
    with open_store(settings, writer=True) as writer:
        writer.replace_graph(G1, DATA)
        first = writer.publish()
        with open_store(settings, writer=False) as reader:
            assert reader.generation() == first
            writer.replace_graph(G2, OTHER)
            writer.drop_graph(G1)
            second = writer.publish()
            assert reader.named_graphs() == {G1}
            assert not reader.ask("ASK { ?s ?p ?o }", {"s": ox.NamedNode(EX + "org/9")})
            assert reader.refresh()
            assert not reader.refresh()
            assert reader.generation() == second
            assert reader.named_graphs() == {G2}
            with pytest.raises(StoreError, match="read-only"):
                reader.replace_graph(G1, DATA)


def test_old_snapshots_are_pruned(tmp_path):
    settings = store_settings("embedded", tmp_path, snapshots_kept=2, snapshots_min_age=0)
    with open_store(settings, writer=True) as writer:
        generations = [writer.publish() for _ in range(4)]
    kept = sorted(path.name for path in (tmp_path / "snapshots").iterdir())
    assert kept == generations[-2:]
    assert (tmp_path / "CURRENT").read_text().strip() == generations[-1]


def test_frequent_publications_keep_the_generation_a_reader_still_serves(tmp_path):
    """Pings may publish many generations within minutes: a web process still serving an
    older one (its next directory not built yet) can still open it for a query."""
    settings = store_settings("embedded", tmp_path, snapshots_kept=1, snapshots_min_age=600)
    with open_store(settings, writer=True) as writer:
        writer.replace_graph(G1, DATA)
        served = writer.publish()
        with open_store(settings, writer=False) as reader:
            assert reader.generation() == served
            for _ in range(5):
                writer.publish()
            with EmbeddedStore(settings, writer=False, generation=served) as again:
                assert again.generation() == served
                assert again.named_graphs() == {G1}
    assert (tmp_path / "snapshots" / served).is_dir()


def test_embedded_bound_variable_must_be_exposed(tmp_path):
    settings = store_settings("embedded", tmp_path)
    with open_store(settings, writer=True) as store, pytest.raises(StoreError, match="SELECT"):
        store.select("SELECT ?s WHERE { ?s ?p ?o }", {"o": ox.Literal("x")})


def test_large_additions_are_bulk_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr("core.store.embedded.ATOMIC_ADD_LIMIT", 0)
    with open_store(store_settings("embedded", tmp_path), writer=True) as store:
        store.replace_graph(G1, DATA)
        store.replace_graph(G1, OTHER + DATA[: DATA.index(b"\n") + 1])
        assert lines(store.graph_ntriples(G1)) == lines(OTHER + DATA[: DATA.index(b"\n") + 1])
        assert store.incomplete_graphs() == set()


def test_interrupted_write_blocks_publish_until_repaired(tmp_path, monkeypatch):
    settings = store_settings("embedded", tmp_path)
    with open_store(settings, writer=True) as store:
        store.replace_graph(G1, OTHER)

        def crash(*args):
            raise StoreError("disk full")

        monkeypatch.setattr("core.store.embedded.ATOMIC_ADD_LIMIT", 0)
        monkeypatch.setattr(store, "_bulk_load", crash)
        with pytest.raises(StoreError, match="disk full"):
            store.replace_graph(G1, DATA)  # removals done, additions lost
        monkeypatch.undo()
    with open_store(settings, writer=True) as store:  # the mark survives the process
        assert store.incomplete_graphs() == {G1}
        with pytest.raises(StoreError, match="incomplete"):
            store.publish()
        store.replace_graph(G1, DATA)
        assert store.incomplete_graphs() == set()
        store.publish()


def test_reader_before_any_publish_is_told_to_harvest(tmp_path):
    with pytest.raises(StoreError, match="ltc harvest"):
        open_store(store_settings("embedded", tmp_path), writer=False)


# -- remote only -------------------------------------------------------------------------


def test_server_down_names_the_url(tmp_path):
    from store_fixtures import _free_port

    url = f"http://127.0.0.1:{_free_port()}/query"
    settings = store_settings("sparql", tmp_path, store_query_url=url)
    with open_store(settings, writer=False) as reader, pytest.raises(StoreError, match=url):
        reader.select("SELECT * WHERE { ?s ?p ?o }")


def test_remote_reader_follows_generations(oxigraph_server, tmp_path):
    settings = store_settings("sparql", tmp_path, oxigraph_server)
    org = {"s": ox.NamedNode(EX + "org/9")}
    with open_store(settings, writer=True) as store:
        store.update("DROP SILENT ALL")
        store.replace_graph(G1, DATA)
        first = store.publish()
        with open_store(settings, writer=False) as reader:
            assert reader.generation() == first
            assert reader.ask("ASK { ?s ?p ?o }", {"s": ox.NamedNode(EX + "place/1")})
            store.replace_graph(G2, OTHER)  # a new graph joins the union at the next generation
            assert not reader.refresh()
            assert not reader.ask("ASK { ?s ?p ?o }", org)
            store.publish()
            assert reader.refresh()
            assert reader.ask("ASK { ?s ?p ?o }", org)
            with pytest.raises(StoreError, match="read-only"):
                reader.drop_graph(G1)


def test_remote_writer_needs_every_url(tmp_path):
    settings = store_settings("sparql", tmp_path, store_query_url="http://127.0.0.1:1/query")
    with pytest.raises(StoreError, match="LTC_STORE_UPDATE_URL"):
        open_store(settings, writer=True)


def test_values_injection_keeps_query_shapes():
    bound = {"x": ox.Literal("}")}
    assert with_values("CONSTRUCT WHERE { ?s ?p ?x }", bound).startswith(
        "CONSTRUCT { ?s ?p ?x } WHERE {"
    )
    subselect = with_values("SELECT * { SELECT ?s { ?s ?p ?x } }", bound)
    assert subselect == 'SELECT * { VALUES (?x) { ("}") } {  SELECT ?s { ?s ?p ?x }  }}'
    assert "VALUES" in with_values('ASK { ?s ?p "{" } # }', bound).split('"{"')[0]


def test_values_injection_counts_braces_only():
    """The shared lexer (core.sparql_text) also yields ( and [ as brackets: they make no
    group, so the VALUES block still opens the WHERE group."""
    bound = {"x": ox.Literal("x")}
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p [ ?q ?x ] FILTER(?x != ')') }"
    assert with_values(query, bound) == (
        'SELECT (COUNT(*) AS ?n) WHERE { VALUES (?x) { ("x") }  ?s ?p [ ?q ?x ] '
        "FILTER(?x != ')') }"
    )
