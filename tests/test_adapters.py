"""Adapters: GoGoCarto and CSV exports become LTC JSON-LD validated like any other feed."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from conftest import EXAMPLES
from core.config import load_settings
from core.vocab import LTC, LTC_SHAPES, SCHEMA
from harvester.adapters import (
    ADAPTERS,
    adapt,
    adapt_with_notes,
    convert,
    load_mapping,
    number,
)
from harvester.adapters.csv_table import hours_text
from harvester.adapters.gogocarto import open_hours
from harvester.errors import FeedError
from harvester.feed import check_feed, default_base
from harvester.normalise import normalise
from harvester.parse import parse_feed

SETTINGS = load_settings(environ={})
PLACE = SCHEMA + "Place"


def adapter_sources(expected: dict) -> list[dict]:
    return [s for s in expected["sources"] if s["adapter"]]


def mapping_for(source_id: str):
    return load_mapping((EXAMPLES / "mappings" / f"{source_id}.toml").read_bytes())


def adapted(source: dict) -> dict:
    data = (EXAMPLES / source["file"]).read_bytes()
    return adapt(data, source["adapter"], mapping_for(source["id"]))


def validate(document: dict, source: str = "essai"):
    return check_feed(
        json.dumps(document).encode(), source=source, settings=SETTINGS, syntax="json-ld"
    )


def row_ids(source: dict) -> list[str]:
    """The identifier of each entry / data row, in file order (as expected.json counts)."""
    field = re.search(r"\{(\w+)\}", source["record_iri_template"]).group(1)
    text = (EXAMPLES / source["file"]).read_text(encoding="utf-8-sig")
    if source["adapter"] == "gogocarto":
        return [entry[field] for entry in json.loads(text)["data"]]
    return [row[field] for row in csv.DictReader(io.StringIO(text), delimiter=";")]


def place_iri(source: dict, ident: str) -> str:
    return re.sub(r"\{\w+\}", ident, source["record_iri_template"])


def by_type(document: dict, kind: str) -> list[dict]:
    return [r for r in document["@graph"] if r["type"] == kind]


# ---------------------------------------------------------------- (1) example feeds


@pytest.fixture(scope="module", params=["mouvement-citoyen", "terres-paysannes"])
def example(request, expected):
    source = next(s for s in expected["sources"] if s["id"] == request.param)
    document = adapted(source)
    return source, document, validate(document, source["id"])


def test_example_sources_are_the_adapter_sources(expected):
    assert {s["id"]: s["adapter"] for s in adapter_sources(expected)} == {
        "mouvement-citoyen": "gogocarto",
        "terres-paysannes": "csv",
    }
    assert set(ADAPTERS) == {"gogocarto", "csv"}


def test_each_row_gives_a_place_an_organisation_and_a_presence(example):
    source, document, _ = example
    places = by_type(document, "Lieu")
    assert len(places) == source["rows"] == source["records"]["places"]
    assert [p["id"] for p in places] == [place_iri(source, i) for i in row_ids(source)]
    assert len(by_type(document, "Organisation")) == source["rows"]
    assert len(by_type(document, "Presence")) == source["rows"]
    networks = by_type(document, "Reseau")
    assert [n["id"] for n in networks] == [source["network"]]
    assert networks[0]["nom"] == source["network_name"]
    for organisation in by_type(document, "Organisation"):
        assert organisation["reseau"] == source["network"]
    every = [r["id"] for r in document["@graph"]]
    assert len(every) == len(set(every))
    assert all(any(i.startswith(ns) for ns in source["namespaces"]) for i in every)


def test_exactly_the_expected_rows_are_rejected(example, expected):
    source, document, validation = example
    ids = row_ids(source)
    want = {}
    for bad in expected["rejected_adapter_rows"]:
        if bad["source"] != source["id"]:
            continue
        assert ids[bad["row"] - 1] == bad["id"]
        want[place_iri(source, bad["id"])] = {
            c.replace("ltcsh:", LTC_SHAPES) for c in bad["constraints"]
        }
    assert want  # each adapter source has invalid rows on purpose

    rejected = {r.record.iri: r.violated_constraints() for r in validation.rejected}
    assert {
        i: c for i, c in rejected.items() if i in {p["id"] for p in by_type(document, "Lieu")}
    } == want

    # the organisation and presence of a rejected row go with it, and nothing else does
    presences = {p["lieu"]: p for p in by_type(document, "Presence")}
    allowed = dict(want)
    for place, constraints in want.items():
        allowed[presences[place]["id"]] = {LTC_SHAPES + "Cascade"}
        if LTC_SHAPES + "Place-name" in constraints:  # the row has no name at all
            allowed[presences[place]["organisation"]] = {LTC_SHAPES + "Organization-name"}
    assert set(rejected) <= set(allowed)
    for iri, constraints in rejected.items():
        assert constraints == allowed[iri], iri
    assert len(validation.results) == 1 + 3 * source["rows"]


def test_postcodes_stay_text_and_coordinates_become_numbers(example):
    _, document, _ = example
    for place in by_type(document, "Lieu"):
        if "adresse" in place:
            assert isinstance(place["adresse"]["codePostal"], str)
        if "geo" in place:
            assert isinstance(place["geo"]["latitude"], float)
            assert isinstance(place["geo"]["longitude"], float)


# ---------------------------------------------------------------- (2) shared places


def _feed_same_as(source: dict) -> dict[str, set[str]]:
    triples = parse_feed(
        (EXAMPLES / source["file"]).read_bytes(),
        syntax=source["syntax"],
        base_iri=default_base(source["id"]),
    )
    links: dict[str, set[str]] = {}
    for t in normalise(triples, source["id"]):
        if t.predicate.value == SCHEMA + "sameAs":
            links.setdefault(t.subject.value, set()).add(t.object.value)
    return links


def test_shared_places_of_adapter_sources_exist_and_keep_their_osm_links(expected):
    sources = {s["id"]: s for s in expected["sources"]}
    by_network = {s["network"]: s for s in expected["sources"]}
    documents = {s["id"]: adapted(s) for s in adapter_sources(expected)}
    accepted = {}
    for sid, document in documents.items():
        validation = validate(document, sid)
        accepted[sid] = {r.record.iri for r in validation.accepted if PLACE in r.record.classes}
    checked = 0
    for group in expected["same_places"]:
        mine = [
            (p, sid)
            for p in group["places"]
            for sid in documents
            if p.startswith(tuple(sources[sid]["namespaces"]))
        ]
        if not mine:
            continue
        for iri, sid in mine:
            places = {p["id"]: p for p in by_type(documents[sid], "Lieu")}
            assert iri in places
            assert iri in accepted[sid]
            if group["how"] != "sameAs":
                continue
            osm = {u for u in places[iri].get("memeQue", []) if "openstreetmap.org" in u}
            assert osm, f"{iri} lost its OpenStreetMap link"
            others = set()
            for network in group["networks"]:
                other = by_network[network]
                if other["adapter"]:
                    continue
                for place in group["places"]:
                    others |= _feed_same_as(other).get(place, set())
            assert osm & others, f"{iri} and the other places share no OpenStreetMap node"
            checked += 1
    assert checked == 2  # NQM (GoGoCarto) and TP-004 (CSV)


# ---------------------------------------------------------------- (3) opening hours


def test_gogocarto_hours_several_ranges_a_day_and_shared_ranges_grouped():
    entries, problems = open_hours(
        {"Mo": "09:00-12:00,14:00-18:00", "Tu": "09:00-12:00", "Sa": "9h30-12h"}
    )
    assert problems == []
    assert entries == [
        {
            "type": "Horaires",
            "jours": ["lundi", "mardi"],
            "ouverture": "09:00:00",
            "fermeture": "12:00:00",
        },
        {"type": "Horaires", "jours": ["lundi"], "ouverture": "14:00:00", "fermeture": "18:00:00"},
        {"type": "Horaires", "jours": ["samedi"], "ouverture": "09:30:00", "fermeture": "12:00:00"},
    ]


@pytest.mark.parametrize("value", [None, "", {}, [], {"Mo": ""}, {"Mo": None, "Su": " "}])
def test_gogocarto_hours_missing_days_give_nothing(value):
    assert open_hours(value) == ([], [])


def test_gogocarto_hours_malformed_values_are_left_out():
    entries, problems = open_hours(
        {
            "Mo": "9h-midi",
            "Xx": "09:00-10:00",
            "Tu": "25:00-26:00",
            "We": 12,
            "Th": "18:00-24:00",
            "Fr": {"open": "09:00"},
            "Sa": "10:00-12:00, n'importe quoi",
            "su": ["14:00-16:00"],
        }
    )
    assert entries == [
        {"type": "Horaires", "jours": ["samedi"], "ouverture": "10:00:00", "fermeture": "12:00:00"},
        {
            "type": "Horaires",
            "jours": ["dimanche"],
            "ouverture": "14:00:00",
            "fermeture": "16:00:00",
        },
    ]
    assert len(problems) == 7
    assert open_hours("Mo 09:00-12:00")[0] == []
    assert open_hours(["09:00-12:00"])[0] == []


def test_osm_style_hours_in_a_csv_cell():
    entries, problems = hours_text("Mo-Fr 09:00-12:00,14:00-18:00; Sa 10:00-12:00; Su off; PH off")
    assert problems == ["PH off"]
    assert entries[0]["jours"] == ["lundi", "mardi", "mercredi", "jeudi", "vendredi"]
    assert [e["ouverture"] for e in entries] == ["09:00:00", "14:00:00", "10:00:00"]
    assert hours_text("Fr-Mo 18:00-20:00")[0][0]["jours"] == [
        "lundi",
        "vendredi",
        "samedi",
        "dimanche",
    ]
    assert hours_text("24/7") == ([], ["24/7"])


def test_converted_hours_validate_and_bad_hours_do_not_stop_the_row():
    entries = [
        {
            "id": "a1",
            "name": "Café A",
            "geo": {"latitude": 47.39, "longitude": 0.68},
            "openHours": {"Mo": "09:00-12:00,14:00-18:00", "We": "14:00-18:00"},
        },
        {
            "id": "a2",
            "name": "Café B",
            "geo": {"latitude": 47.39, "longitude": 0.68},
            "openHours": {"Mo": "toute la journée", "Tu": "10:00-11:00"},
        },
        {
            "id": "a3",
            "name": "Café C",
            "geo": {"latitude": 47.39, "longitude": 0.68},
            "openHours": "Mo-Fr 08:00-09:00",
        },
    ]
    result = adapt_with_notes(json.dumps({"data": entries}).encode(), "gogocarto", gogo_mapping())
    places = {p["id"].rsplit("/", 1)[-1]: p for p in by_type(result.document, "Lieu")}
    assert len(places["a1"]["horaires"]) == 2
    assert places["a2"]["horaires"] == [
        {"type": "Horaires", "jours": ["mardi"], "ouverture": "10:00:00", "fermeture": "11:00:00"}
    ]
    assert len(places["a3"]["horaires"][0]["jours"]) == 5
    assert [n.row for n in result.notes] == [2]
    assert "toute la journée" in result.notes[0].fr
    validation = validate(result.document)
    assert validation.rejected == []


# ---------------------------------------------------------------- (4) hostile input

GOGO_MAPPING = """
adapter = "gogocarto"
[network]
id = "https://essai.example.org/reseau"
nom = "Réseau d'essai"
[iri]
lieu = "https://essai.example.org/lieux/{id}"
organisation = "https://essai.example.org/organisations/{id}"
presence = "https://essai.example.org/presences/{id}"
[fields]
nom = "name"
codePostal = "address.postalCode"
latitude = "geo.latitude"
longitude = "geo.longitude"
themes = "categories"
horaires = "openHours"
accessiblePMR = "pmr"
[values.themes]
"Jardins" = "nature"
[presence]
role = "permanence"
"""

CSV_MAPPING = """
adapter = "csv"
list_separator = "|"
[network]
id = "https://essai.example.org/reseau"
nom = "Réseau d'essai"
[iri]
lieu = "https://essai.example.org/lieux/{id}"
organisation = "https://essai.example.org/organisations/{id}"
presence = "https://essai.example.org/presences/{id}"
[fields]
nom = "nom"
codePostal = "cp"
commune = "ville"
latitude = "lat"
longitude = "lon"
themes = "themes"
horaires = "horaires"
siteWeb = "site"
memeQue = ["osm", "wikidata"]
dateModification = "maj"
[constants]
pays = "FR"
typeLieu = "ferme"
"""


def gogo_mapping(top: str = ""):
    return load_mapping(top + GOGO_MAPPING)


def csv_mapping(top: str = ""):
    """The test CSV mapping, with ``top`` lines (``max_rows = 4``) before its tables."""
    return load_mapping(top + CSV_MAPPING)


def feed_error(call) -> FeedError:
    with pytest.raises(FeedError) as caught:
        call()
    error = caught.value
    assert error.fr and error.en and error.fr != error.en
    return error


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<html><body>Erreur 502</body></html>", "JSON"),
        (b"id;name\nx;y\n", "JSON"),
        (b'{"data": [', "JSON"),
        (b'{"foo": 1}', "GoGoCarto"),
        (b'{"data": {"id": "a"}}', "GoGoCarto"),
        (b"[1, 2, 3]", "GoGoCarto"),
        (b'{"data": [{"foo": 1}]}', "id"),
        (b'{"data": []}', "aucune entrée"),
        (b'{"@context": "https://w3id.org/ltc/context.jsonld", "@graph": []}', "JSON-LD"),
        (b"", "vide"),
        (b"   \n", "vide"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binaire"),
        (b"\xff\xfe{\x00}\x00", "UTF-16"),
        (b'{"data": [{"id": "a", "name": "Caf\xe9"}]}', "UTF-8"),
        (b"[" * 200 + b"]" * 200, "imbriqué"),
        (b"[" * 5000 + b"]" * 5000, "imbriqué"),
    ],
)
def test_unreadable_gogocarto_exports_are_feed_errors(data, words):
    error = feed_error(lambda: adapt(data, "gogocarto", gogo_mapping()))
    assert words in error.fr


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "vide"),
        (b"\n\r\n\n", "vide"),
        (b"\xef\xbb\xbf", "vide"),
        (b";;;\n;;;\n", "vide"),
        (b"id;nom;cp;ville;lat;lon;themes;horaires;site;osm;wikidata;maj\n", "sans ligne"),
        (
            b"id;cp;ville;lat;lon;themes;horaires;site;osm;wikidata;maj\n1;37000;Tours;;;;;;;;;\n",
            "nom",
        ),
        (b"GIF89a\x01\x00\x01\x00\x00\xff\x00,", "binaire"),
    ],
)
def test_unreadable_csv_files_are_feed_errors(data, words):
    error = feed_error(lambda: adapt(data, "csv", csv_mapping()))
    assert words in error.fr


def test_a_missing_column_is_named_with_the_columns_found():
    error = feed_error(lambda: adapt(b"id,name,cp\n1,A,37000\n", "csv", csv_mapping()))
    assert "nom" in error.fr and "name" in error.fr and "« , »" in error.fr
    assert "nom" in error.en and "missing" in error.en


def test_a_csv_as_french_excel_saves_it_is_read_by_default():
    """Windows-1252 with « ; »: detected, not refused."""
    data = (
        "id;nom;cp;ville;lat;lon;themes;horaires;site;osm;wikidata;maj\n"
        "1;Épicerie de Bléré;37150;Bléré;;;;;;;;\n"
    ).encode("cp1252")
    (place,) = by_type(adapt(data, "csv", csv_mapping()), "Lieu")
    assert place["nom"] == "Épicerie de Bléré"


def test_the_latin1_error_says_where_when_the_mapping_asks_for_utf8():
    data = "id;nom\n1;A\n2;Bléré\n".encode("latin-1")
    strict = load_mapping(CSV_MAPPING + '\n[csv]\nencoding = "utf-8"\n')
    error = feed_error(lambda: adapt(data, "csv", strict))
    assert error.line == 3 and "UTF-8" in error.fr


def test_too_many_rows():
    rows = "".join(f"{i};Lieu {i};37000;Tours;;;;;;;;\n" for i in range(5))
    data = ("id;nom;cp;ville;lat;lon;themes;horaires;site;osm;wikidata;maj\n" + rows).encode()
    assert len(by_type(adapt(data, "csv", csv_mapping()), "Lieu")) == 5
    error = feed_error(lambda: adapt(data, "csv", csv_mapping("max_rows = 4\n")))
    assert "4" in error.fr
    entries = json.dumps({"data": [{"id": str(i), "name": "x"} for i in range(5)]}).encode()
    feed_error(lambda: adapt(entries, "gogocarto", gogo_mapping("max_rows = 4\n")))


def test_the_adapter_must_match_the_mapping():
    error = feed_error(lambda: adapt(b"id;nom\n1;A\n", "gogocarto", csv_mapping()))
    assert "csv" in error.fr
    feed_error(lambda: adapt(b"id;nom\n1;A\n", "xml", csv_mapping()))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (CSV_MAPPING + "couleur = 'verte'\n", "couleur"),
        (CSV_MAPPING.replace("[fields]\n", "[fields]\nnom_du_lieu = 'x'\n"), "nom_du_lieu"),
        (CSV_MAPPING.replace("[network]\n", "[network]\nurl = 'https://x.org'\n"), "url"),
        (re.sub(r"\[network\]\n.*\n.*\n", "", CSV_MAPPING), "network"),
        (CSV_MAPPING.replace('nom = "Réseau d\'essai"\n', ""), "nom"),
        (CSV_MAPPING.replace('adapter = "csv"\n', ""), "adapter"),
        (CSV_MAPPING.replace('adapter = "csv"', 'adapter = "xls"'), "xls"),
        (CSV_MAPPING.replace('nom = "nom"\n', ""), "nom"),
        (CSV_MAPPING.replace("lieux/{id}", "lieux/"), "accolades"),
        (CSV_MAPPING.replace("lieux/{id}", "lieux/{id"), "accolades"),
        (CSV_MAPPING.replace("https://essai.example.org/lieux", "essai.example.org/lieux"), "lieu"),
        (CSV_MAPPING.replace("organisations/{id}", "lieux/{id}"), "différents"),
        (CSV_MAPPING.replace('typeLieu = "ferme"', 'typeLieu = "grange"'), "grange"),
        (CSV_MAPPING + "[presence]\nrole = 'cantine'\n", "cantine"),
        (CSV_MAPPING + "[values.themes]\n'Bio' = 'bio'\n", "bio"),
        (CSV_MAPPING.replace('nom = "nom"', 'nom = ["nom", "titre"]'), "nom"),
        (CSV_MAPPING.replace('lat"', 'lat"\nlatitude2 = "x"'), "latitude2"),
        (CSV_MAPPING.replace('longitude = "lon"\n', ""), "longitude"),
        ("max_rows = 0\n" + CSV_MAPPING, "max_rows"),
        (CSV_MAPPING + "[csv]\ndelimiter = ':'\n", "delimiter"),
        (GOGO_MAPPING + "[csv]\ndelimiter = ';'\n", "csv"),
        ("network = 3\n" + CSV_MAPPING, "TOML"),
        ("adapter = \n", "TOML"),
        (b"adapter = '\xe9'", "UTF-8"),
    ],
)
def test_bad_mappings_are_feed_errors_naming_the_key(text, words):
    error = feed_error(lambda: load_mapping(text))
    assert words in error.fr
    assert error.fr.startswith("correspondance : ") and error.en.startswith("mapping: ")


def test_messy_csv_rows_are_mapped_faithfully_and_never_crash():
    header = "\ufeffid,nom,cp,ville,lat,lon,themes,horaires,site,osm,wikidata,maj\n"
    rows = [
        '1,Ferme A,07500,Privas,"44,735","4,599",agriculture|Jardins bio,Mo 09:00-12:00,www.a.org,,,28/12/2025',
        "2,Ferme B,7500,Paris,abc,2.35,nature,,,,,2025-12-28 10:30",
        "3,Ferme C,37000,Tours",
        "4,Ferme D,37000,Tours,47.39,0.68,,,,,,,en trop,encore",
        ",Sans identifiant,37000,Tours,47.39,0.68,,,,,,",
        '1,"Doublon, même id",37000,Tours,47.39,0.68,,,,,,',
        '5,"Guillemet "mal" placé,37000,Tours,47.39,0.68,,,,,,',
        "6,Ferme E,37000,Tours,1e999,0.68,,,http://exa mple.org,https://www.openstreetmap.org/node/1,https://www.wikidata.org/wiki/Q1,hier",
        ",,,,,,,,,,,",
    ]
    data = (header + "\n".join(rows) + "\n").encode()
    result = adapt_with_notes(data, "csv", csv_mapping())
    places = {p["id"].rsplit("/", 1)[-1]: p for p in by_type(result.document, "Lieu")}
    assert set(places) == {"1", "2", "3", "4", "5", "6"}
    a = places["1"]
    assert a["geo"] == {"type": "Coordonnees", "latitude": 44.735, "longitude": 4.599}
    assert a["adresse"] == {
        "type": "Adresse",
        "codePostal": "07500",
        "commune": "Privas",
        "pays": "FR",
    }
    assert a["themes"] == ["agriculture", "Jardins%20bio"]
    assert a["typeLieu"] == "ferme"
    assert a["dateModification"] == "2025-12-28"
    assert places["2"]["adresse"]["codePostal"] == "7500"
    assert places["2"]["geo"]["latitude"] == "abc"
    assert places["2"]["dateModification"] == "2025-12-28T10:30:00"
    assert "geo" not in places["3"]
    assert places["6"]["memeQue"] == [
        "https://www.openstreetmap.org/node/1",
        "https://www.wikidata.org/wiki/Q1",
    ]
    organisations = {
        o["id"].rsplit("/", 1)[-1]: o for o in by_type(result.document, "Organisation")
    }
    assert organisations["6"]["siteWeb"] == "http://exa%20mple.org"
    assert organisations["1"]["siteWeb"] == "www.a.org"
    notes = " / ".join(n.fr for n in result.notes)
    assert "pas d'identifiant" in notes and "en double" in notes and "Jardins bio" in notes

    validation = validate(result.document)
    rejected = {
        r.record.iri.rsplit("/", 1)[-1]: r.violated_constraints()
        for r in validation.rejected
        if PLACE in r.record.classes
    }
    assert rejected == {
        "2": {LTC_SHAPES + "Address-postalCode", LTC_SHAPES + "Geo-latitude"},
        "6": {LTC_SHAPES + "Geo-latitude", LTC_SHAPES + "Record-dateModifiedType"},
    }
    warned = {
        f.constraint for r in validation.results for f in r.findings if r.record.iri.endswith("/1")
    }
    assert LTC_SHAPES + "Place-themeValue" in warned and LTC_SHAPES + "Contact-url" in warned


def test_messy_gogocarto_entries_never_crash():
    entries = [
        {"id": "a", "name": ["liste"], "geo": {"latitude": "47,39", "longitude": 0.68}},
        {"id": "b", "name": "B", "geo": "47.39,0.68", "address": {"postalCode": 37000}},
        {"id": "c", "name": "C", "geo": {"latitude": float("nan"), "longitude": True}},
        "pas un objet",
        {"id": {"x": 1}, "name": "D"},
        {
            "id": 12,
            "name": "E",
            "address": {"postalCode": "01000"},
            "pmr": "peut-être",
            "categories": ["Jardins", "@id", "schema:Monday"],
        },
        {
            "id": "f",
            "name": "F",
            "address": {"postalCode": "37000"},
            "pmr": "oui",
            "categories": "Jardins",
        },
    ]
    result = adapt_with_notes(json.dumps(entries).encode(), "gogocarto", gogo_mapping())
    places = {p["id"].rsplit("/", 1)[-1]: p for p in by_type(result.document, "Lieu")}
    assert set(places) == {"a", "b", "c", "12", "f"}
    assert "nom" not in places["a"] and places["a"]["geo"]["latitude"] == 47.39
    assert places["b"]["adresse"]["codePostal"] == "37000" and "geo" not in places["b"]
    assert places["c"]["geo"] == {"type": "Coordonnees", "latitude": "nan", "longitude": "true"}
    assert places["12"]["themes"] == ["nature", "%40id", "schema%3AMonday"]
    assert "accessiblePMR" not in places["12"] and places["f"]["accessiblePMR"] is True
    assert places["f"]["themes"] == ["nature"]
    assert len(result.notes) == 4  # not an object, no id, 'peut-être', unmapped categories
    text = json.dumps(result.document, allow_nan=False)  # no NaN sneaks into the output
    validation = validate(json.loads(text))
    rejected = {
        r.record.iri.rsplit("/", 1)[-1] for r in validation.rejected if PLACE in r.record.classes
    }
    assert rejected == {"a", "c"}


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("47,39", 47.39),
        (" -0.5 ", -0.5),
        ("47.39", 47.39),
        (47, 47),
        ("", None),
        (None, None),
        ("47.39.1", "47.39.1"),
        ("N 47°", "N 47°"),
        ("inf", "inf"),
        (True, "true"),
    ],
)
def test_numbers(raw, value):
    assert number(raw) == value


# ---------------------------------------------------------------- (5) output


def test_convert_gives_pretty_utf8_json_ld_that_pyoxigraph_parses(expected):
    source = next(s for s in expected["sources"] if s["id"] == "terres-paysannes")
    data = (EXAMPLES / source["file"]).read_bytes()
    text = convert(data, mapping_for(source["id"]))
    assert isinstance(text, str)
    assert "Bléré" in text and '\n  "@graph": [\n' in text
    document = json.loads(text)
    assert document == adapted(source)
    assert document["@context"] == "https://w3id.org/ltc/context.jsonld"
    # parse_feed pins the context and hands the document to pyoxigraph's JSON-LD parser
    triples = parse_feed(text.encode("utf-8"), syntax="json-ld", base_iri=default_base("t"))
    places = {q.subject.value for q in triples if q.object.value == PLACE}
    assert len(places) == source["rows"]
    members = {q.object.value for q in triples if q.predicate.value == SCHEMA + "memberOf"}
    assert members == {source["network"]}
    roles = {q.object.value for q in triples if q.predicate.value == LTC + "role"}
    assert roles == {"https://w3id.org/ltc/role/lieu-d-activite"}
