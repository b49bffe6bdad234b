"""Convergence on the harvested example federation: shared places are one cluster,
different neighbours stay apart, candidates list every meeting place, the collective's
decisions survive recomputation, and removing a feed removes only its links."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import ROOT
from convergence.curation import Curation, parse_curation
from convergence.derive import compute
from convergence.derived_graph import derive_graph
from core.config import Settings, load_settings
from core.harvest_files import SourceFiles
from core.iris import Iris
from core.store import open_store
from harvester.harvest import remove_source_data
from ltc.convergence_cli import convergence_group
from ltc.pipeline import harvest

IRIS = Iris("https://w3id.org/ltc/")
MEETING_QUERY = ROOT / "sparql/examples/lieux-ou-se-croisent-plusieurs-reseaux.rq"
CANDIDATES_QUERY = ROOT / "sparql/examples/lieux-de-convergence-candidats.rq"


def _harvested(tmp_path_factory) -> Settings:
    settings = load_settings(
        overrides={"data_dir": tmp_path_factory.mktemp("registry"), "harvest_workers": 1},
        environ={},
    )
    harvest(settings)
    return settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return _harvested(tmp_path_factory)


@pytest.fixture(scope="module")
def store(settings):
    with open_store(settings, writer=False) as opened:
        yield opened


@pytest.fixture(scope="module")
def result(store):
    return compute(store, Curation(), iris=IRIS)


@pytest.fixture(scope="module")
def rejected(expected) -> set[str]:
    return {r["record"] for r in expected["rejected"]}


def _shared(expected, rejected) -> list[dict]:
    """The expected shared places, without records the harvest rejects."""
    out = []
    for shared in expected["same_places"]:
        places = [p for p in shared["places"] if p not in rejected]
        if places:
            out.append({**shared, "places": places})
    return out


def test_every_shared_place_is_one_cluster(result, expected, rejected):
    shared = _shared(expected, rejected)
    assert {s["how"] for s in shared} == {"reference", "sameAs", "similar"}
    for place in shared:
        clusters = {result.cluster(iri).id for iri in place["places"]}
        assert len(clusters) == 1, place


def test_different_neighbours_are_never_merged(result, expected):
    for a, b in expected["different_neighbours"]:
        assert result.cluster(a).id != result.cluster(b).id, (a, b)


def test_no_cluster_merges_places_of_two_expected_places(result, expected, rejected):
    # every cluster of several records is one of the expected shared places (or a part)
    known = [set(s["places"]) for s in _shared(expected, rejected)]
    for cluster in result.clusters:
        if len(cluster.places) > 1:
            assert any(set(cluster.places) <= places for places in known), cluster.places


def test_candidates_list_every_place_where_networks_meet(result, store, expected, rejected):
    candidates = {c.id: c for c in result.candidates}
    for place in _shared(expected, rejected):
        cluster = result.cluster(place["places"][0])
        assert cluster.id in candidates, place
        assert set(place["networks"]) <= set(cluster.networks), place
    # and every place the "several networks" example query finds, through presences
    meeting = {row["place"].value for row in store.select(MEETING_QUERY.read_text())}
    assert meeting
    for iri in meeting:
        assert result.cluster(iri).id in candidates, iri


def test_candidates_are_ranked(result):
    keys = [(-len(c.networks), -len(c.organisations)) for c in result.candidates]
    assert keys == sorted(keys)
    assert len(result.candidates[0].networks) >= 3


def test_inferred_links_explain_themselves(result, expected, rejected):
    similar = [s for s in _shared(expected, rejected) if s["how"] == "similar"]
    applied = {link.pair: link for link in result.applied}
    for place in similar:
        pair = tuple(sorted(place["places"][:2]))
        link = applied[pair]
        assert link.kind in {"inferred", "declared"}
        if link.kind == "inferred":
            assert link.score >= 0.9
            assert any(e.startswith("distance") for e in link.evidence)


def test_a_rejection_survives_recomputation(store, expected, rejected):
    place = next(s for s in _shared(expected, rejected) if s["how"] == "similar")
    a, b = place["places"][:2]
    curation = parse_curation(f'[[rejete]]\na = "{a}"\nb = "{b}"\nnote = "Deux lieux."\n')
    for _ in range(2):
        again = compute(store, curation, iris=IRIS)
        assert again.cluster(a).id != again.cluster(b).id
        assert tuple(sorted((a, b))) not in {link.pair for link in again.applied}
        assert tuple(sorted((a, b))) not in {link.pair for link in again.uncertain}


def test_a_confirmation_survives_recomputation(store, expected):
    a, b = expected["different_neighbours"][0]
    curation = parse_curation(f'[[confirme]]\na = "{a}"\nb = "{b}"\nnote = "Même lieu."\n')
    for _ in range(2):
        again = compute(store, curation, iris=IRIS)
        assert again.cluster(a).id == again.cluster(b).id
        link = next(link for link in again.applied if link.pair == tuple(sorted((a, b))))
        assert link.kind == "confirmed"


def test_a_confirmation_against_a_rejection_is_listed_and_the_rejection_holds(store, expected):
    halle = next(s for s in expected["same_places"] if len(s["places"]) == 3)
    first, second, third = sorted(halle["places"])
    curation = parse_curation(
        f'[[confirme]]\na = "{first}"\nb = "{second}"\nnote = "oui"\n'
        f'[[confirme]]\na = "{second}"\nb = "{third}"\nnote = "oui"\n'
        f'[[rejete]]\na = "{first}"\nb = "{third}"\nnote = "non"\n'
    )
    again = compute(store, curation, iris=IRIS)
    assert again.cluster(first).id != again.cluster(third).id
    conflicts = [c for c in again.conflicts if c.link.kind == "confirmed"]
    assert [c.link.pair for c in conflicts] == [(second, third)]


def test_removing_a_feed_removes_only_the_links_it_supported(tmp_path_factory, result):
    settings = _harvested(tmp_path_factory)
    gone = "monnaies-locales"
    prefix = "https://monnaies-locales.example.org/"
    with open_store(settings, writer=True) as writer:
        remove_source_data(writer, settings, IRIS, gone)
        writer.publish()
    with open_store(settings, writer=False) as reader:
        after = compute(reader, Curation(), iris=IRIS)
    before_pairs = {link.pair for link in result.applied}
    after_pairs = {link.pair for link in after.applied}
    touching = {pair for pair in before_pairs if any(iri.startswith(prefix) for iri in pair)}
    assert touching, "the removed feed supported some links"
    assert after_pairs == before_pairs - touching
    # the Halle de la Poste stays one place through the other two networks' OSM node
    halle = [
        "https://amap-centre.example.org/lieux/halle-de-la-poste-amboise",
        "https://mouvement-citoyen.example.org/annuaire/NQM",
    ]
    assert after.cluster(halle[0]).id == after.cluster(halle[1]).id
    # Le Bocal, where the removed network met another one, is no longer a candidate
    bocal = "https://energie-citoyenne.example.org/lieux/epicerie-cooperative-le-bocal-valence"
    assert result.cluster(bocal).is_candidate
    assert not after.cluster(bocal).is_candidate


def test_the_harvester_files_give_the_facts_the_store_gives(store, settings):
    from convergence.accepted import read_accepted
    from convergence.derive import read_store

    from_store = read_store(store, IRIS)
    from_files = read_accepted(settings, IRIS)
    assert from_files.places == from_store.places
    assert sorted(from_files.presences, key=repr) == sorted(from_store.presences, key=repr)
    assert from_files.labels == from_store.labels
    assert from_files.network_names == from_store.network_names


def test_derived_graph_answers_the_candidates_example_query(store, settings, result):
    derived = derive_graph(settings)
    assert derived == derive_graph(settings), "the same data gives the same graph"
    dataset = ox.Store()
    for graph in store.named_graphs():
        dataset.load(
            store.graph_ntriples(graph), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph)
        )
    dataset.load(derived, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(IRIS.derived_graph))
    rows = list(dataset.query(CANDIDATES_QUERY.read_text(), use_default_graph_as_union=True))
    assert [int(row["rank"].value) for row in rows] == list(range(1, len(result.candidates) + 1))
    assert int(rows[0]["networks"].value) >= 3
    assert ", " in rows[0]["networkNames"].value  # an ASCII separator: docs/virtuoso.md
    # derived facts name only the registry's resources and the feeds' places
    subjects = {quad.subject.value for quad in ox.parse(derived, ox.RdfFormat.N_TRIPLES)}
    assert all(
        s.startswith(
            ("https://w3id.org/ltc/lieu-ressource/", "https://w3id.org/ltc/lien-identite/")
        )
        for s in subjects
    )


def test_caches_of_unchanged_sources_give_the_graph_computed_afresh(tmp_path_factory):
    settings = _harvested(tmp_path_factory)  # its harvest left the caches behind
    before = derive_graph(settings)
    # a place leaves one source's file, as a new harvest of that source would write it
    files = SourceFiles(settings.data_dir, "mouvement-citoyen")
    gone = b"<https://mouvement-citoyen.example.org/annuaire/NQM"
    files.save_accepted(
        b"".join(line for line in files.accepted().splitlines(True) if not line.startswith(gone))
    )
    # and a place of another source is renamed: the pairs it is in are scored again
    files = SourceFiles(settings.data_dir, "energie-citoyenne")
    renamed = b"<https://energie-citoyenne.example.org/lieux/la-filature-roubaix> "
    name = b"<https://schema.org/name> "
    files.save_accepted(
        b"".join(
            renamed + name + b'"Garage solidaire des Hauts" .\n'
            if line.startswith(renamed + name)
            else line
            for line in files.accepted().splitlines(True)
        )
    )
    cached = derive_graph(settings)
    for cache in Path(settings.data_dir).rglob("convergence-*.pickle"):
        cache.unlink()
    assert cached == derive_graph(settings), "caches must never change the derived graph"
    assert cached != before and gone[1:] in before and gone[1:] not in cached


def _run(settings: Settings, monkeypatch, *args: str):
    for name in [n for n in __import__("os").environ if n.startswith("LTC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LTC_DATA_DIR", str(settings.data_dir))
    return CliRunner().invoke(convergence_group, list(args), catch_exceptions=False)


def test_candidates_command(settings, monkeypatch, result):
    text = _run(settings, monkeypatch, "candidates")
    assert text.exit_code == 0, text.output
    assert "rang" in text.output and "Halle de la Poste (Amboise)" in text.output
    as_json = _run(settings, monkeypatch, "candidates", "--format", "json")
    rows = json.loads(as_json.output)
    assert len(rows) == len(result.candidates)
    assert rows[0]["rang"] == 1 and rows[0]["reseaux"] >= 3
    assert all(len(row["noms_reseaux"]) >= 2 for row in rows)


def test_review_command(settings, monkeypatch):
    done = _run(settings, monkeypatch, "review")
    assert done.exit_code == 0, done.output
    # the example federation leaves nothing uncertain: every link is clear-cut
    assert "Aucun lien à trancher." in done.output


def test_review_command_lists_a_conflict_first(settings, monkeypatch, tmp_path, expected):
    halle = next(s for s in expected["same_places"] if len(s["places"]) == 3)
    first, second, third = sorted(halle["places"])
    curation = tmp_path / "curation.toml"
    curation.write_text(
        f'[[confirme]]\na = "{first}"\nb = "{second}"\nnote = "oui"\n'
        f'[[confirme]]\na = "{second}"\nb = "{third}"\nnote = "oui"\n'
        f'[[rejete]]\na = "{first}"\nb = "{third}"\nnote = "non"\n',
        encoding="utf-8",
    )
    done = _run(settings, monkeypatch, "review", "--curation", str(curation))
    assert done.exit_code == 0, done.output
    assert "1. CONFLIT (confirmation) : bloqué par le rejet de" in done.output
    assert second in done.output and third in done.output
    as_json = _run(settings, monkeypatch, "review", "--curation", str(curation), "--format", "json")
    [item] = json.loads(as_json.output)
    assert (item["type"], item["a"], item["b"]) == ("conflit", second, third)


def test_a_bad_curation_file_is_a_clear_command_error(settings, monkeypatch, tmp_path):
    curation = tmp_path / "curation.toml"
    curation.write_text('[[rejete]]\na = "https://x.example.org/a"\n', encoding="utf-8")
    done = _run(settings, monkeypatch, "candidates", "--curation", str(curation))
    assert done.exit_code == 1
    assert "[[rejete]] n° 1" in done.output


def test_the_harvest_head_start_gives_the_graph_computed_from_nothing(tmp_path_factory, caplog):
    """Each source's convergence rows are read by the worker that prepared it, and the
    derived graph computed while the last sources are loaded: the graph in the store
    must be the one computed afresh."""
    import shutil

    from core.datafolder import DataFolder

    settings = load_settings(
        overrides={"data_dir": tmp_path_factory.mktemp("head-start"), "harvest_workers": 2},
        environ={},
    )
    with caplog.at_level("INFO", logger="ltc.convergence"):
        harvest(settings)
    assert "derived graph: computed beside the harvest" in caplog.text
    with open_store(settings, writer=False) as opened:
        stored = opened.graph_ntriples(IRIS.derived_graph)
    shutil.rmtree(DataFolder(settings.data_dir).convergence_cache)
    afresh = ox.Store()  # the store's own forms of literals ("1.000" is kept as "1")
    afresh.load(derive_graph(settings), ox.RdfFormat.N_TRIPLES)
    expected = afresh.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    assert stored and set(stored.splitlines()) == set(expected.splitlines())


def test_pairs_scored_in_two_processes_give_the_same_links(store, monkeypatch):
    from convergence import match
    from convergence.derive import read_store

    places = list(read_store(store, IRIS).places.values())
    alone = match.inferred_links(places, minimum=0.0)
    monkeypatch.setattr(match, "PARALLEL_MIN_PAIRS", 1)
    cache = match.ScoreCache()
    assert match.inferred_links(places, minimum=0.0, cache=cache, processes=2) == alone
    assert len(alone) > 2 and len(cache.used) >= len(alone)
