"""The offline gazetteer, on the real packaged table: what a visitor typing a place gets."""

from __future__ import annotations

import time

import pytest

from gazetteer.lookup import (
    METROPOLE_BOX,
    OVERSEAS_BOXES,
    Commune,
    Gazetteer,
    default_gazetteer,
    normalise,
    timezone_for,
)


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return default_gazetteer()


def only(gaz: Gazetteer, text: str) -> Commune:
    res = gaz.resolve(text)
    assert res.status == "found", (text, res)
    assert len(res.matches) == 1, (text, [c.label for c in res.matches])
    return res.matches[0]


@pytest.mark.parametrize(
    "text", ["tours", "TOURS", "Tôurs", "  Tours ", "Tours 37000", "Tours (37)"]
)
def test_name_is_accent_case_and_qualifier_insensitive(gaz, text):
    tours = only(gaz, text)
    assert (tours.insee, tours.department) == ("37261", "37")
    assert tours.label == "Tours (37000)"
    assert tours.exact and tours.precision_note == ""
    assert tours.timezone == "Europe/Paris"


def test_postcode_and_insee_code(gaz):
    assert only(gaz, "37000").insee == "37261"
    assert only(gaz, "37261").name == "Tours"  # INSEE code
    assert only(gaz, "2A004").name == "Ajaccio"  # Corsica's letter codes


def test_postcode_shared_by_several_communes(gaz):
    res = gaz.resolve("37110")
    assert res.status == "found"
    names = [c.name for c in res.matches]
    assert "Château-Renault" in names and len(names) > 3
    pops = [c.population for c in res.matches]
    assert pops == sorted(pops, reverse=True)
    assert res.postcode == "37110"
    assert res.lat is not None and res.lon is not None
    assert not res.exact and res.precision_note == "position approximative"
    assert res.label.startswith("37110 (Château-Renault, ")


def test_homonyms_are_ambiguous_most_populous_first(gaz):
    res = gaz.resolve("Saint-Denis")
    assert res.status == "ambiguous"
    deps = [c.department for c in res.matches]
    assert set(deps[:2]) == {"974", "93"}
    assert len(deps) > 2  # the small Saint-Denis of the Aude, the Gard… too
    pops = [c.population for c in res.matches]
    assert pops == sorted(pops, reverse=True)


@pytest.mark.parametrize(
    ("text", "department"),
    [("St Denis 93", "93"), ("saint-denis (974)", "974"), ("Saint Denis 97400", "974"),
     ("ST-DENIS, 93200", "93")],
)  # fmt: skip
def test_qualifier_picks_the_homonym(gaz, text, department):
    c = only(gaz, text)
    assert c.name == "Saint-Denis" and c.department == department


def test_name_not_in_that_department_lists_the_homonyms(gaz):
    res = gaz.resolve("Tours 75")
    assert res.status == "ambiguous" and [c.insee for c in res.matches] == ["37261"]


def test_spelling_variants(gaz):
    assert only(gaz, "saint etienne").insee == "42218"
    assert only(gaz, "St-Étienne").insee == "42218"
    assert only(gaz, "lhay les roses").name == "L'Haÿ-les-Roses"  # elision typed without space
    assert only(gaz, "le mans").insee == "72181"
    assert only(gaz, "Cherbourg-Octeville").name == "Cherbourg-en-Cotentin"  # former commune


def test_typo_suggests_did_you_mean(gaz):
    res = gaz.resolve("Toulous")
    assert res.status == "unknown"
    assert res.suggestions[0].name == "Toulouse"
    assert len(res.suggestions) <= 5
    assert gaz.resolve("Marseile").suggestions[0].name == "Marseille"
    assert "Le Mans" in [c.name for c in gaz.resolve("Mans").suggestions]


@pytest.mark.parametrize(
    "text", ["xqzvbwkj", "", "   ", "!!!", "99999", "0", "Tours 99", "é" * 300]
)
def test_unknown_never_crashes(gaz, text):
    res = gaz.resolve(text)
    assert res.status in ("unknown", "ambiguous")
    assert res.precision_note == ""


def test_paris_arrondissements(gaz):
    for n in range(1, 21):
        c = only(gaz, f"750{n:02d}")
        assert c.name.startswith(f"Paris {n}e" if n > 1 else "Paris 1er")
        assert c.exact
    assert only(gaz, "75116").name == "Paris 16e Arrondissement"
    assert only(gaz, "Paris 15").postcodes == ("75015",)
    assert only(gaz, "Paris").insee == "75056"
    assert only(gaz, "69003").name == "Lyon 3e Arrondissement"
    assert only(gaz, "13016").name == "Marseille 16e Arrondissement"


def test_overseas(gaz):
    reunion = only(gaz, "97400")
    assert reunion.name == "Saint-Denis" and reunion.timezone == "Indian/Reunion"
    assert only(gaz, "Cayenne").timezone == "America/Cayenne"
    assert only(gaz, "Mamoudzou").timezone == "Indian/Mayotte"
    assert only(gaz, "Nouméa").timezone == "Pacific/Noumea"
    assert only(gaz, "Fort-de-France").timezone == "America/Martinique"


def test_timezone_for_places():
    assert timezone_for("97400") == "Indian/Reunion"
    assert timezone_for("97311") == "America/Cayenne"
    assert timezone_for("37000") == "Europe/Paris"
    assert timezone_for("2A004") == "Europe/Paris"
    assert timezone_for(None, -21.1, 55.5) == "Indian/Reunion"
    assert timezone_for(None, 16.24, -61.53) == "America/Guadeloupe"
    assert timezone_for(None, 17.9, -62.85) == "America/St_Barthelemy"
    assert timezone_for("", 48.85, 2.35) == "Europe/Paris"
    assert timezone_for(None, None, None) == "Europe/Paris"
    assert timezone_for("garbage", 14.6, -61.07) == "America/Martinique"


def test_polynesia_has_three_time_zones(gaz):
    assert only(gaz, "Papeete").timezone == "Pacific/Tahiti"
    assert only(gaz, "Nuku-Hiva").timezone == "Pacific/Marquesas"
    assert only(gaz, "Gambier").timezone == "Pacific/Gambier"
    assert timezone_for("98742") == "Pacific/Marquesas"  # a Nuku-Hiva postcode
    assert timezone_for(None, -9.8, -139.0) == "Pacific/Marquesas"
    assert timezone_for(None, -17.55, -149.56) == "Pacific/Tahiti"


def test_island_communes_sit_on_their_island(gaz):
    """Communes named after their island get their seat village's point, not the mean of
    the territory (which would be in the ocean)."""
    bora = only(gaz, "Bora-Bora")
    assert bora.exact and abs(bora.lat + 16.5) < 0.1 and abs(bora.lon + 151.75) < 0.1
    lifou = only(gaz, "Lifou")
    assert lifou.exact and abs(lifou.lon - 167.26) < 0.1
    assert only(gaz, "Saint-Barthélemy 977").exact


def in_france(c: Commune) -> bool:
    boxes = [METROPOLE_BOX, *OVERSEAS_BOXES.values()]
    return any(s <= c.lat <= n and w <= c.lon <= e for s, n, w, e in boxes)


def test_every_commune_has_a_point_in_france(gaz):
    outside = [c.label for c in gaz.communes if not in_france(c)]
    assert outside == []
    # and in its own territory's box for overseas communes
    for c in gaz.communes:
        if c.department in OVERSEAS_BOXES:
            s, n, w, e = OVERSEAS_BOXES[c.department]
            assert s <= c.lat <= n and w <= c.lon <= e, c.label
            assert c.timezone != "Europe/Paris"


def test_counts(gaz):
    assert len(gaz.communes) >= 34_000
    assert len(gaz.by_postcode) >= 6_000
    assert len({c.insee for c in gaz.communes}) == len(gaz.communes)
    exact = sum(c.exact for c in gaz.communes)
    assert exact >= 14_000  # the join's own points; the rest are flagged approximate
    # every postcode resolves to a point
    for pc in gaz.by_postcode:
        res = gaz.resolve(pc)
        assert res.status == "found" and res.lat is not None, pc


def test_approximate_points_are_flagged(gaz):
    approx = [c for c in gaz.communes if not c.exact]
    assert approx
    assert all(c.precision_note == "position approximative" for c in approx)
    res = gaz.resolve(approx[0].insee)
    assert res.precision_note == "position approximative"


def test_suggest_by_prefix(gaz):
    got = gaz.suggest("sai")
    assert 0 < len(got) <= 8
    assert all(normalise(c.name).startswith("saint") for c in got)
    pops = [c.population for c in got]
    assert pops == sorted(pops, reverse=True)
    assert got[0].name == "Saint-Étienne"
    assert [c.name for c in gaz.suggest("tou", limit=3)] == ["Toulouse", "Toulon", "Tours"]
    assert gaz.suggest("TÔU", limit=3) == gaz.suggest("tou", limit=3)


def test_suggest_word_start_and_postcode(gaz):
    denis = gaz.suggest("denis")
    assert {c.department for c in denis[:2]} == {"974", "93"}
    assert all("denis" in normalise(c.name) for c in denis)
    assert gaz.suggest("370")[0].name == "Tours"
    assert all(any(p.startswith("371") for p in c.postcodes) for c in gaz.suggest("371"))
    assert gaz.suggest("") == [] and gaz.suggest("zzzzqq") == []


def test_resolve_is_fast(gaz):
    """Not a timing assertion (shared machines): prints the mean cost for the report."""
    queries = ["Tours", "37000", "St Denis 93", "Saint-Denis", "Toulouse", "75011"]
    n = 10_000
    start = time.perf_counter()
    for i in range(n):
        gaz.resolve(queries[i % len(queries)])
    mean_us = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for i in range(1000):
        gaz.suggest(["sai", "tou", "denis", "370", "mar"][i % 5] + "abcdefghij"[i % 10])
    suggest_us = (time.perf_counter() - start) / 1000 * 1e6
    print(f"\nresolve: {mean_us:.1f} µs/call; suggest (mostly uncached): {suggest_us:.1f} µs/call")


# -- French grammar of commune names ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "of", "at"),
    [
        # le, la, les, l'
        ("Le Mans", "du Mans", "au Mans"),
        ("Le Havre", "du Havre", "au Havre"),
        ("La Rochelle", "de La Rochelle", "à La Rochelle"),
        ("Les Sables-d'Olonne", "des Sables-d'Olonne", "aux Sables-d'Olonne"),
        ("Les Mureaux", "des Mureaux", "aux Mureaux"),
        ("L'Haÿ-les-Roses", "de L'Haÿ-les-Roses", "à L'Haÿ-les-Roses"),
        ("L'Isle-Adam", "de L'Isle-Adam", "à L'Isle-Adam"),
        # a vowel, accented or not, and y
        ("Orléans", "d'Orléans", "à Orléans"),
        ("Amboise", "d'Amboise", "à Amboise"),
        ("Évry-Courcouronnes", "d'Évry-Courcouronnes", "à Évry-Courcouronnes"),
        ("Yvetot", "d'Yvetot", "à Yvetot"),
        # a mute h elides, an aspirated one (the short list) does not
        ("Hyères", "d'Hyères", "à Hyères"),
        ("Hérouville-Saint-Clair", "d'Hérouville-Saint-Clair", "à Hérouville-Saint-Clair"),
        ("Hendaye", "de Hendaye", "à Hendaye"),
        ("Haguenau", "de Haguenau", "à Haguenau"),
        # a consonant; a name merely starting like an article
        ("Tours", "de Tours", "à Tours"),
        ("Saint-Étienne", "de Saint-Étienne", "à Saint-Étienne"),
        ("Lens", "de Lens", "à Lens"),
        ("Lescar", "de Lescar", "à Lescar"),
        ("Laval", "de Laval", "à Laval"),
        # a label with its postcode
        ("Orléans (45000)", "d'Orléans (45000)", "à Orléans (45000)"),
        ("Le Mans (72000)", "du Mans (72000)", "au Mans (72000)"),
        ("Hendaye (64700)", "de Hendaye (64700)", "à Hendaye (64700)"),
    ],
)
def test_french_elision_and_contraction(name, of, at):
    from gazetteer.grammar import a, de

    assert (de(name), a(name)) == (of, at)


def test_aspirated_h_list_names_real_communes(gaz):
    from gazetteer.grammar import ASPIRATED_H_NAMES

    for name in ASPIRATED_H_NAMES:
        assert gaz.resolve(name).status in ("found", "ambiguous"), name
        assert name.startswith("H")


# -- ranking of approximate matches -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("Toures", "Tours"),  # before Tourves, Tourbes, Tournes: closeness, then population
        ("Strasbour", "Strasbourg"),
        ("toulouze", "Toulouse"),  # before Toulouzette
        ("tuors", "Tours"),  # two letters swapped: one typo
        ("Bordeau", "Bordeaux"),
        ("Marseile", "Marseille"),
    ],
)
def test_approximate_matches_by_closeness_then_population(gaz, typed, first):
    res = gaz.resolve(typed)
    assert res.status == "unknown"
    assert res.suggestions[0].name == first, [c.label for c in res.suggestions]


def test_suggestions_at_one_distance_are_by_population(gaz):
    names = [c.name for c in gaz.resolve("Toures").suggestions]
    assert names.index("Tours") < names.index("Tourves")


# -- the commune at a position ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "name"),
    [
        (47.3941, 0.6848, "Tours"),  # 1.5 km from Tours' point, 1 km from La Riche's
        (47.36, 0.63, "Joué-lès-Tours"),
        (47.902, 1.909, "Orléans"),
        (48.11, -1.68, "Rennes"),
        (48.8566, 2.3522, "Paris 4e Arrondissement"),
    ],
)
def test_nearest_commune_of_a_position(gaz, lat, lon, name):
    assert gaz.nearest(lat, lon).name == name


def test_nearest_commune_far_from_any(gaz):
    assert gaz.nearest(0.0, -30.0) is None
    assert gaz.nearest(float("nan"), 2.0) is None
