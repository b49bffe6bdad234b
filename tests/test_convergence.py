"""Convergence, piece by piece: normalisation, scoring, declared links, clustering under
the collective's curation, and candidates."""

from __future__ import annotations

import math

import pytest

from convergence.cluster import cluster_places
from convergence.curation import DEFAULT_PATH, CurationError, load_curation, parse_curation
from convergence.derive import compute_from, derived_ntriples
from convergence.match import (
    ACCEPT_SCORE,
    REVIEW_SCORE,
    declared_links,
    external_key,
    inferred_links,
    prepare,
    score_pair,
)
from convergence.model import Link, PlaceFacts, Presence
from convergence.normalise import fold, name_tokens, street_key
from core.iris import Iris

NET_A = "https://a.example.org/reseau"
NET_B = "https://b.example.org/reseau"
NET_C = "https://c.example.org/reseau"


def place(
    iri: str,
    name: str,
    lat: float | None = 47.3900,
    lon: float | None = 0.6890,
    street: str = "",
    postcode: str = "37000",
    locality: str = "Tours",
    network: str = NET_A,
    same_as: tuple[str, ...] = (),
) -> PlaceFacts:
    return PlaceFacts(
        iri=f"https://x.example.org/{iri}",
        graph=f"https://w3id.org/ltc/graph/source/{network.split('//')[1].split('.')[0]}",
        source=network.split("//")[1].split(".")[0],
        networks=frozenset({network}),
        name=name,
        lat=lat,
        lon=lon,
        street=street,
        postcode=postcode,
        locality=locality,
        same_as=frozenset(same_as),
    )


def north(lat: float, metres: float) -> float:
    """Latitude ``metres`` north of ``lat``."""
    return lat + metres / 111_320


def east(lat: float, lon: float, metres: float) -> float:
    return lon + metres / (111_320 * math.cos(math.radians(lat)))


def score(a: PlaceFacts, b: PlaceFacts) -> float:
    return score_pair(prepare(a), prepare(b))[0]


# -- normalisation ------------------------------------------------------------------------


def test_fold_removes_accents_case_and_ligatures():
    assert fold("Cœur d'ÉTÉ à Bléré") == "coeur d'ete a blere"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Tiers-lieu La Filature", "LA FILATURE"),
        ("Salle des fêtes de Bléré", "Salle des Fêtes - Bléré"),
        ("Boutique Équi'Table", "Équi'Table"),
        ("AMAP Les Paniers de Saint-Cyr", "Les paniers de St-Cyr"),
        ("GAEC Les Vergers de la Varenne", "Les Vergers de la Varenne (Bléré)"),
        ("MPT Croix-Verte", "Maison pour tous de la Croix-Verte"),
    ],
)
def test_names_written_differently_normalise_alike(first, second):
    assert name_tokens(first, "Bléré") == name_tokens(second, "Bléré")


def test_discriminating_words_are_kept():
    assert name_tokens("Salle des fêtes", "Tours") != name_tokens("Salle Condorcet", "Tours")
    assert name_tokens("Le Moulin", "Tours") == ("moulin",)
    # a name made only of generic words keeps them rather than becoming empty
    assert name_tokens("Association", "Tours") == ("association",)
    # the commune's name goes, except when it is all there is
    assert name_tokens("Bléré", "Bléré") == ("blere",)


def test_street_abbreviations_and_punctuation_are_normalised():
    assert street_key("23, r. du Marché-aux-Herbes") == street_key("23 RUE DU MARCHE AUX HERBES")
    assert street_key("20 rue St-Jacques") == ("20", "rue saint jacques")
    assert street_key("12 bis av. Jean Jaurès") == ("12bis", "avenue jean jaures")
    assert street_key("lieu-dit La Varenne") == ("", "lieu dit varenne")


def test_external_identifiers_compare_across_spellings():
    assert external_key("http://www.openstreetmap.org/node/123") == "osm:node/123"
    assert external_key("https://openstreetmap.org/way/9/") == "osm:way/9"
    assert external_key("http://www.wikidata.org/entity/Q42") == "wikidata:Q42"
    assert external_key("https://www.wikidata.org/wiki/Q42") == "wikidata:Q42"


# -- scoring ------------------------------------------------------------------------------


def test_same_place_described_twice_scores_above_acceptance():
    a = place("a", "Tiers-lieu La Filature", street="23 rue du Marché-aux-Herbes")
    b = place(
        "b",
        "La Filature",
        lat=north(47.39, 12),
        street="23, r. du Marché-aux-Herbes",
        network=NET_B,
    )
    assert score(a, b) >= ACCEPT_SCORE


def test_typo_and_moved_pin_still_link_at_the_same_address():
    a = place("a", "Épicerie La Marmite Solidaire", street="14 rue Gambetta")
    b = place("b", "La Marmtie Solidaire", lat=north(47.39, 140), street="14 rue Gambetta")
    assert score(a, b) >= ACCEPT_SCORE


def test_two_shops_of_one_street_stay_apart():
    a = place("a", "Le Bocal à Projets", street="11 rue Condorcet")
    b = place("b", "Le Bocal Équitable", lat=north(47.39, 100), street="37 rue Condorcet")
    assert score(a, b) < REVIEW_SCORE


def test_same_name_far_apart_is_not_linked():
    a = place("a", "Les Vergers de la Varenne", street="lieu-dit La Varenne", postcode="37150")
    b = place(
        "b",
        "Les Vergers de la Varenne",
        lat=north(47.39, 6000),
        street="lieu-dit La Varenne",
        postcode="37400",
    )
    assert score(a, b) < REVIEW_SCORE


def test_same_name_nearby_without_address_is_only_uncertain():
    a = place("a", "La Cabane")
    b = place("b", "La Cabane", lat=north(47.39, 110), network=NET_B)
    assert REVIEW_SCORE <= score(a, b) < ACCEPT_SCORE


def test_places_without_coordinates_link_by_address_and_name():
    a = place("a", "Café Le Lavoir", lat=None, lon=None, street="3 place du Marché")
    b = place("b", "Le Lavoir", street="3 pl. du Marché", network=NET_B)
    [link] = inferred_links([a, b])
    assert link.score >= ACCEPT_SCORE
    assert "adresse identique" in link.evidence
    assert not any(e.startswith("distance") for e in link.evidence)


def test_inferred_links_carry_score_and_evidence():
    a = place("a", "La Filature", street="23 rue du Marché")
    b = place("b", "La Filature", lat=north(47.39, 10), street="23 rue du Marché")
    [link] = inferred_links([a, b])
    assert link.kind == "inferred"
    assert link.evidence[0] == "nom 1.00"
    assert "distance 10 m" in link.evidence
    assert "adresse identique" in link.evidence


def test_blocking_finds_pairs_across_grid_cells_and_by_address():
    base = place("a", "Le Tilleul", lat=47.39, lon=0.69, street="5 rue des Lilas")
    # 60 m east: another grid cell, still compared
    neighbour = place("b", "Le Tilleul", lon=east(47.39, 0.69, 60), street="5 rue des Lilas")
    # pin moved 2 km but same address and name: compared thanks to the address block
    moved = place("c", "Le Tilleul", lat=north(47.39, 2000), street="5 rue des Lilas")
    pairs = {(link.a, link.b) for link in inferred_links([base, neighbour, moved], minimum=0.0)}
    assert (base.iri, neighbour.iri) in pairs
    assert (base.iri, moved.iri) in pairs


# -- declared links -------------------------------------------------------------------------


def test_declared_links_from_sameas_and_shared_identifiers():
    a = place("a", "Halle", same_as=("https://www.openstreetmap.org/node/7",))
    b = place("b", "Halle", network=NET_B, same_as=("http://openstreetmap.org/node/7",))
    c = place("c", "Autre nom", network=NET_C, same_as=("https://x.example.org/a",))
    links = declared_links([a, b, c])
    assert {link.pair for link in links} == {(a.iri, b.iri), (a.iri, c.iri)}
    assert all(link.kind == "declared" and link.score == 1.0 for link in links)
    osm = next(link for link in links if link.pair == (a.iri, b.iri))
    assert osm.evidence == ("identifiant commun osm:node/7",)


# -- clustering ---------------------------------------------------------------------------


def _link(a: PlaceFacts, b: PlaceFacts, score: float = 0.95, kind: str = "inferred") -> Link:
    return Link(a.iri, b.iri, score, ("test",), kind)


def test_links_cluster_transitively():
    a, b = place("a", "X"), place("b", "X", lat=north(47.39, 20))
    c = place("c", "X", lat=north(47.39, 40))
    found = cluster_places({p.iri: p for p in (a, b, c)}, [_link(a, b), _link(b, c)])
    assert found.root_of[a.iri] == found.root_of[b.iri] == found.root_of[c.iri]


def test_a_cluster_never_spans_more_than_the_maximum_distance():
    # a chain of places 200 m apart: each link is plausible, the chain is not one place
    chain = [place(str(i), "X", lat=north(47.39, 200 * i)) for i in range(4)]
    links = [_link(chain[i], chain[i + 1], 0.99 - i / 100) for i in range(3)]
    found = cluster_places({p.iri: p for p in chain}, links, max_cluster_km=0.3)
    assert found.root_of[chain[0].iri] == found.root_of[chain[1].iri]
    assert found.root_of[chain[1].iri] != found.root_of[chain[2].iri]
    assert found.root_of[chain[2].iri] == found.root_of[chain[3].iri]
    wider = cluster_places({p.iri: p for p in chain}, links, max_cluster_km=1.0)
    assert len({wider.root_of[p.iri] for p in chain}) == 1


def test_stronger_links_are_applied_first():
    a, b = place("a", "X"), place("b", "X", lat=north(47.39, 200))
    c = place("c", "X", lat=north(47.39, 400))
    # b-c is stronger: it wins, and a-b would then span 400 m
    found = cluster_places({p.iri: p for p in (a, b, c)}, [_link(a, b, 0.91), _link(b, c, 0.99)])
    assert found.root_of[b.iri] == found.root_of[c.iri] != found.root_of[a.iri]


def test_rejection_holds_even_indirectly_and_confirmation_joins():
    a, b, c = place("a", "X"), place("b", "X"), place("c", "X")
    d = place("d", "Y", lat=north(47.39, 900))
    places = {p.iri: p for p in (a, b, c, d)}
    found = cluster_places(
        places,
        [_link(a, b), _link(b, c)],
        rejected=[(a.iri, c.iri)],
        confirmed=[(c.iri, d.iri)],
    )
    assert found.root_of[a.iri] != found.root_of[c.iri]
    # a person's confirmation joins places farther apart than the maximum distance
    assert found.root_of[c.iri] == found.root_of[d.iri]


def test_confirmation_breaking_a_rejection_is_a_conflict_and_the_rejection_holds():
    a, b, c = place("a", "X"), place("b", "Y"), place("c", "Z")
    places = {p.iri: p for p in (a, b, c)}
    found = cluster_places(
        places, [], confirmed=[(a.iri, b.iri), (b.iri, c.iri)], rejected=[(a.iri, c.iri)]
    )
    assert found.root_of[a.iri] != found.root_of[c.iri]
    [conflict] = found.conflicts
    assert conflict.link.kind == "confirmed"
    assert "rejet" in conflict.reason


def test_declared_link_too_far_is_reported():
    a = place("a", "X")
    b = place("b", "X", lat=north(47.39, 5000), network=NET_B)
    found = cluster_places({a.iri: a, b.iri: b}, [_link(a, b, 1.0, "declared")])
    assert found.root_of[a.iri] != found.root_of[b.iri]
    assert "5000 m" in found.conflicts[0].reason


# -- curation -------------------------------------------------------------------------------

GOOD = """
[[confirme]]
a = "https://x.example.org/b"
b = "https://x.example.org/a"
note = "Même lieu, vérifié sur place."
par = "Groupe données"
date = 2026-11-30

[[rejete]]
a = "https://x.example.org/c"
b = "https://x.example.org/d"
note = "Deux boutiques voisines."
"""


def test_curation_file_is_read_with_pairs_in_order():
    curation = parse_curation(GOOD)
    assert curation.confirmed_pairs == [("https://x.example.org/a", "https://x.example.org/b")]
    assert curation.confirmed[0].date == "2026-11-30"
    assert curation.rejected_pairs == [("https://x.example.org/c", "https://x.example.org/d")]
    assert curation.decided("https://x.example.org/d", "https://x.example.org/c")


def test_the_repository_curation_file_is_valid():
    assert DEFAULT_PATH.exists()
    load_curation()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[rejete]]\na = "https://x/a"\nnote = "n"', "[[rejete]] n° 1 : la clé « b »"),
        ('[[confirme]]\na = "https://x/a"\nb = "https://x/b"', "« note »"),
        ('[[confirme]]\na = "https://x/a"\nb = "https://x/a"\nnote = "n"', "même fiche"),
        ('[[confirme]]\na = "x"\nb = "https://x/b"\nnote = "n"', "n'est pas une IRI"),
        ('[[rejete]]\na = "https://x/a"\nb = "https://x/b"\nnote = "n"\nvu = 1', "vu"),
        ('[[rejete]]\na = "https://x/a"\nb = "https://x/b"\nnote = "n"\ndate = "hier"', "date"),
        ('[[oui]]\na = "https://x/a"', "section(s) inconnue(s) oui"),
        ("[[rejete]\n", "TOML illisible"),
    ],
)
def test_bad_curation_entries_are_explained(text, message):
    with pytest.raises(CurationError) as error:
        parse_curation(text, "essai.toml")
    assert str(error.value).startswith("essai.toml")
    assert message in str(error.value)


def test_a_pair_cannot_be_both_confirmed_and_rejected():
    text = (
        '[[confirme]]\na = "https://x/a"\nb = "https://x/b"\nnote = "oui"\n'
        '[[rejete]]\na = "https://x/b"\nb = "https://x/a"\nnote = "non"\n'
    )
    with pytest.raises(CurationError, match=r"\[\[rejete\]\] n° 1 .* déjà décidée"):
        parse_curation(text, "essai.toml")


def test_a_missing_curation_file_given_explicitly_is_an_error(tmp_path):
    with pytest.raises(CurationError, match="introuvable"):
        load_curation(tmp_path / "absent.toml")


# -- computation ----------------------------------------------------------------------------


def _presence(org: str, where: PlaceFacts, network: str) -> Presence:
    return Presence(f"https://o.example.org/{org}", where.iri, frozenset({network}))


def test_candidates_are_ranked_by_networks_then_organisations():
    one = place("one", "La Filature", street="1 rue A")
    one_bis = place("one-bis", "Filature", lat=north(47.39, 8), street="1 rue A", network=NET_B)
    two = place("two", "Le Hangar", lat=north(47.39, 3000), street="9 rue B")
    alone = place("alone", "Le Four", lat=north(47.39, 6000))
    presences = [
        _presence("o1", one, NET_A),
        _presence("o2", one_bis, NET_B),
        _presence("o3", two, NET_A),
        _presence("o4", two, NET_B),
        _presence("o5", two, NET_B),
        _presence("o6", alone, NET_A),
        _presence("o7", alone, NET_A),
    ]
    # a network's own second organisation at "two" counts as an organisation, not a network
    places = {p.iri: p for p in (one, one_bis, two, alone)}
    result = compute_from(places, presences)
    assert [c.places for c in result.candidates] == [(two.iri,), (one.iri, one_bis.iri)]
    assert result.cluster(one.iri) is result.cluster(one_bis.iri)
    assert result.cluster(alone.iri).is_candidate is False
    # a third network at "one" puts it first
    presences.append(_presence("o8", one, NET_C))
    result = compute_from(places, presences)
    assert result.candidates[0].places == (one.iri, one_bis.iri)
    assert len(result.candidates[0].networks) == 3


def test_derived_graph_is_sorted_and_holds_clusters_links_and_candidates():
    a = place("a", "La Filature", street="1 rue A")
    b = place("b", "La Filature", lat=north(47.39, 5), street="1 rue A", network=NET_B)
    result = compute_from(
        {a.iri: a, b.iri: b}, [_presence("o1", a, NET_A), _presence("o2", b, NET_B)]
    )
    text = derived_ntriples(result, Iris("https://w3id.org/ltc/")).decode()
    lines = text.splitlines()
    assert lines == sorted(lines)
    cluster = f"<https://w3id.org/ltc/lieu-ressource/{result.clusters[0].id}>"
    assert f"{cluster} <https://w3id.org/ltc/ns#hasPlace> <{a.iri}> ." in lines
    assert f"{cluster} <https://w3id.org/ltc/ns#candidateRank> " in text
    assert "<https://w3id.org/ltc/ns#score> " in text
    assert '"adresse identique"@fr' in text
    assert derived_ntriples(result, Iris("https://w3id.org/ltc/")).decode() == text


def test_review_lists_conflicts_then_links_that_would_join_most_networks():
    from convergence.curation import Curation, Decision
    from ltc.convergence_cli import review_items

    # two uncertain pairs: same name ~110 m apart, no address
    same_network = (place("r", "La Cabane"), place("s", "La Cabane", lat=north(47.39, 110)))
    two_networks = (
        place("p", "Le Lavoir", lat=north(47.39, 5000)),
        place("q", "Le Lavoir", lat=north(47.39, 5110), network=NET_B),
    )
    x, y, z = (place(n, f"Lieu {n}", lat=north(47.39, 9000 + 700 * i)) for i, n in enumerate("xyz"))
    curation = Curation(
        confirmed=(Decision(x.iri, y.iri, "oui"), Decision(y.iri, z.iri, "oui")),
        rejected=(Decision(x.iri, z.iri, "non"),),
    )
    places = {p.iri: p for p in (*same_network, *two_networks, x, y, z)}
    items = review_items(compute_from(places, curation=curation))
    assert [(i["type"], i["reseaux_gagnes"]) for i in items] == [
        ("conflit", 0),
        ("incertain", 1),
        ("incertain", 0),
    ]
    assert {items[1]["a"], items[1]["b"]} == {two_networks[0].iri, two_networks[1].iri}
    assert items[1]["indices"][0] == "nom 1.00"


def test_a_confirmation_about_a_vanished_record_is_listed():
    a = place("a", "X")
    gone = "https://x.example.org/disparue"
    found = cluster_places({a.iri: a}, [], confirmed=[(a.iri, gone)])
    [conflict] = found.conflicts
    assert conflict.reason == f"fiche absente du registre : {gone}"


def test_networks_count_not_sources():
    # one network publishing two feeds: its two records of one place are one place,
    # and its two organisations there do not make a meeting of networks
    first = place("feed1", "La Filature", street="1 rue A")
    second = PlaceFacts(
        **{
            **place("feed2", "La Filature", street="1 rue A").__dict__,
            "graph": "g2",
            "source": "s2",
        }
    )
    presences = [
        Presence("https://o.example.org/1", first.iri, frozenset({NET_A}), first.graph),
        Presence("https://o.example.org/2", second.iri, frozenset({NET_A}), "g2"),
    ]
    result = compute_from({first.iri: first, second.iri: second}, presences)
    cluster = result.cluster(first.iri)
    assert cluster is result.cluster(second.iri)
    assert cluster.networks == (NET_A,) and len(cluster.organisations) == 2
    assert result.candidates == []


def test_an_identifier_shared_by_many_records_is_not_a_place_id():
    commune = "http://www.wikidata.org/entity/Q288"  # a town, not a place
    many = [place(str(i), f"Lieu {i}", same_as=(commune,)) for i in range(10)]
    assert declared_links(many) == []
