"""Spreadsheets as volunteers save them: the standard template in XLSX, ODS and CSV (French
Excel's Windows-1252 with ``;``, UTF-8 with a BOM and ``,``), read without a mapping.

The same 14 rows are written by the tests in each format, with the hour forms people type,
themes in mixed case and as synonyms, a postcode whose leading zero Excel dropped, rows
without coordinates and an AMAP distributing in a Maison des associations it shares. Every
time slot must land as structured hours on the presence (or the place, for horaires_lieu)
or stay as text on the record and be reported with its row and column: none is lost.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import ROOT
from core.catalog import parse_catalog, standard_mapping_toml
from core.config import load_settings
from harvester.adapters import adapt_with_notes, load_mapping, standard_mapping
from harvester.adapters.standard import COLUMN_NAMES, HOURS_TEXT
from harvester.adapters.template_files import TEMPLATE_FILES, template_file
from harvester.checking import check_feed
from harvester.errors import FeedError
from harvester.spreadsheet import read_table

SETTINGS = load_settings(environ={})
NS = "https://mon-reseau.example.org/"
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi"]
HEADER = [
    "id", "id_lieu", "nom", "lieu", "adresse", "code_postal", "commune", "latitude",
    "longitude", "themes", "role", "horaires", "horaires_lieu", "telephone", "courriel",
    "site_web", "date_maj",
]  # fmt: skip

# id → (row values…) ; code_postal 1000 is a number, as Excel keeps it
ROWS: list[list[object]] = [
    ["amap-lac", "mda", "AMAP du Lac", "Maison des associations", "2 place du Marché", 1000,
     "Bourg-en-Bresse", "46,2052", "5,2255", "Alimentation, Agriculture bio",
     "point de distribution", "mar. 17h-19h", "Lundi au vendredi 9h-12h", "02 47 05 12 34",
     "lac@amap.example.org", "", "28/12/2025"],
    ["repair-lac", "mda", "Repair café du Lac", "", "", "", "", "", "", "réparation", "atelier",
     "Mercredi de 18h à 19h30", "", "", "", "", "28/12/2025"],
    ["mlc-lac", "mda", "La Pêche (monnaie locale)", "", "", "", "", "", "", "MONNAIE LOCALE",
     "permanence", "Me 18:00-19:30", "", "", "", "", "28/12/2025"],
    ["amap-tours", "", "AMAP des Halles", "", "Place des Halles", "37000", "Tours", "47,3900",
     "0,6800", "circuits courts", "point-de-distribution", "lundi et jeudi 18h-19h", "",
     "02 47 05 12 35", "", "www.amap-halles.example.org", "2025-12-28"],
    ["epicerie", "", "Épicerie du Coin", "", "1 rue Nationale", "37000", "Tours", "47,3950",
     "0,6870", "ALIMENTATION", "boutique",
     "du lundi au vendredi 9h-12h / 14h-18h, samedi 10h-12h, fermé le dimanche", "", "", "",
     "", "28/12/2025"],
    ["ferme-osm", "", "Ferme de la Source", "", "La Source", "37150", "Bléré", "47,3250",
     "0,9900", "agriculture", "boutique", "Mo-Fr 09:00-12:00,14:00-18:00; Sa 10:00-12:00; Su off",
     "", "", "", "", "28/12/2025"],
    ["bergerie", "", "Bergerie du Val", "", "lieu-dit Le Val", "37600", "Loches", "", "",
     "nature, Agriculture", "lieu d'activité", "17h30", "", "", "", "", "28/12/2025"],
    ["ressourcerie", "", "Ressourcerie des Deux Rives", "", "5 quai Sud", "37400", "Amboise",
     "", "", "Ressourcerie, Économie de la fonctionnalité", "boutique", "samedi matin", "", "",
     "", "", "28/12/2025"],
    ["velo", "", "Atelier Vélo Solidaire", "", "3 rue du Pont", "37000", "Tours", "47,3920",
     "0,6900", "Vélo", "atelier", "lundi-vendredi 9h-17h", "", "", "", "", "28/12/2025"],
    ["tiers-lieu", "", "La Fabrique", "", "8 rue Colbert", "37000", "Tours", "47,3960",
     "0,6950", "Tiers-lieux", "lieu-d-activite", "du mardi au samedi de 10h à 19h",
     "", "", "", "", "28/12/2025"],
    ["jardin", "", "Jardin partagé des Rives", "", "Quai Nord", "37000", "Tours", "47,4000",
     "0,6880", "Jardins partagés", "lieu-d-activite", "mercredi 17h30-19h; samedi 9h-12h", "",
     "", "", "", "28/12/2025"],
    ["energie", "", "Énergie Citoyenne 37", "", "12 bd Béranger", "37000", "Tours", "47,3890",
     "0,6820", "Énergie", "bureau", "", "", "", "", "", "28/12/2025"],
    ["sans-role", "", "Collectif sans rôle", "", "4 rue B", "37000", "Tours", "47,3910",
     "0,6860", "citoyenneté", "", "vendredi 20h-22h", "", "", "", "", "28/12/2025"],
    ["", "", "Ligne sans identifiant", "", "", "37000", "Tours", "", "", "", "", "", "", "", "",
     "", ""],
]  # fmt: skip
# Row numbers as the spreadsheet shows them: the header is row 1.
ROW = {row[0]: number for number, row in enumerate(ROWS, 2)}

# where each presence's hours must land: structured (days, opens, closes) or None (text)
EXPECTED_HOURS = {
    "amap-lac": [(["mardi"], "17:00:00", "19:00:00")],
    "repair-lac": [(["mercredi"], "18:00:00", "19:30:00")],
    "mlc-lac": [(["mercredi"], "18:00:00", "19:30:00")],
    "amap-tours": [(["lundi", "jeudi"], "18:00:00", "19:00:00")],
    "epicerie": [
        (WEEKDAYS, "09:00:00", "12:00:00"),
        (WEEKDAYS, "14:00:00", "18:00:00"),
        (["samedi"], "10:00:00", "12:00:00"),
    ],
    "ferme-osm": [
        (WEEKDAYS, "09:00:00", "12:00:00"),
        (WEEKDAYS, "14:00:00", "18:00:00"),
        (["samedi"], "10:00:00", "12:00:00"),
    ],
    "bergerie": None,
    "ressourcerie": None,
    "velo": [(WEEKDAYS, "09:00:00", "17:00:00")],
    "tiers-lieu": [(["mardi", "mercredi", "jeudi", "vendredi", "samedi"], "10:00:00", "19:00:00")],
    "jardin": [(["mercredi"], "17:30:00", "19:00:00"), (["samedi"], "09:00:00", "12:00:00")],
    "energie": [],
    "sans-role": [(["vendredi"], "20:00:00", "22:00:00")],
}


def as_text(value: object) -> str:
    return "" if value in ("", None) else str(value)


def write_xlsx(rows: list[list[object]] = ROWS, header: list[str] = HEADER) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Lieux"
    sheet.append(header)
    for row in rows:
        sheet.append([None if value == "" else value for value in row])
    workbook.create_sheet("Notes").append(["rien à lire ici"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_ods(rows: list[list[object]] = ROWS, header: list[str] = HEADER) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Lieux")
    for values in [header, *rows]:
        line = TableRow()
        for value in values:
            if isinstance(value, int | float):
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
            elif value:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
            else:
                cell = TableCell()
            line.addElement(cell)
        table.addElement(line)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def write_csv(
    encoding: str, delimiter: str, rows: list[list[object]] = ROWS, header: list[str] = HEADER
) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([as_text(value) for value in row])
    return out.getvalue().encode(encoding)


FORMATS = {
    "lieux.xlsx": write_xlsx,
    "lieux.ods": write_ods,
    "lieux-excel.csv": lambda: write_csv("cp1252", ";"),
    "lieux-utf8.csv": lambda: write_csv("utf-8-sig", ","),
}


@pytest.fixture(scope="module", params=sorted(FORMATS))
def checked(request):
    name = request.param
    data = FORMATS[name]()
    return name, check_feed(data, feed=name, settings=SETTINGS)


def by_type(document: dict, kind: str) -> dict[str, dict]:
    return {r["id"]: r for r in document["@graph"] if r["type"] == kind}


def test_each_format_is_read_as_the_same_table(checked):
    name, check = checked
    assert check.table is not None
    described = check.table.described
    if name.endswith(".xlsx"):
        assert described == "XLSX, feuille « Lieux »"
    elif name.endswith(".ods"):
        assert described == "ODS, feuille « Lieux »"
    elif "excel" in name:
        assert described == "CSV en Windows-1252, séparateur « ; »"
    else:
        assert described == "CSV en UTF-8 (avec BOM), séparateur « , »"
    document = json.loads(check.converted)
    places = by_type(document, "Lieu")
    assert places[f"{NS}lieux/mda"]["adresse"]["commune"] == "Bourg-en-Bresse"
    assert places[f"{NS}lieux/mda"]["geo"] == {
        "type": "Coordonnees",
        "latitude": 46.2052,
        "longitude": 5.2255,
    }
    organisations = by_type(document, "Organisation")
    assert organisations[f"{NS}organisations/amap-lac"]["telephone"] == "+33247051234"
    assert organisations[f"{NS}organisations/amap-tours"]["siteWeb"] == (
        "https://www.amap-halles.example.org"
    )


def test_every_time_slot_is_structured_or_kept_and_reported(checked):
    _, check = checked
    document = json.loads(check.converted)
    presences = by_type(document, "Presence")
    reported = {(r, f.column) for f in check.table.findings for r in f.rows}
    for ident, expected in EXPECTED_HOURS.items():
        suffix = f"{ident}/mda" if ident.endswith("-lac") else ident
        presence = presences[f"{NS}presences/{suffix}"]
        source = ROWS[ROW[ident] - 2][HEADER.index("horaires")]
        if expected is None:  # not understood: kept as written, and reported
            assert "horaires" not in presence
            assert presence[HOURS_TEXT] == source
            assert (ROW[ident], "horaires") in reported, ident
        else:
            got = [
                (e["jours"], e["ouverture"], e["fermeture"]) for e in presence.get("horaires", [])
            ]
            assert got == expected, ident
            assert HOURS_TEXT not in presence
            assert (ROW[ident], "horaires") not in reported, ident


def test_the_place_hours_go_on_the_place_not_on_the_organisations_there(checked):
    _, check = checked
    document = json.loads(check.converted)
    place = by_type(document, "Lieu")[f"{NS}lieux/mda"]
    assert [(e["jours"], e["ouverture"]) for e in place["horaires"]] == [(WEEKDAYS, "09:00:00")]
    presences = by_type(document, "Presence")
    # three organisations at one place, each with its own slot
    at_mda = [p for p in presences.values() if p["lieu"] == f"{NS}lieux/mda"]
    assert len(at_mda) == 3
    assert len({json.dumps(p["horaires"]) for p in at_mda}) == 2  # mardi, mercredi ×2


def test_themes_match_whatever_the_case_and_their_synonyms(checked):
    _, check = checked
    organisations = by_type(json.loads(check.converted), "Organisation")
    themes = {iri.rsplit("/", 1)[-1]: o.get("themes") for iri, o in organisations.items()}
    assert themes["amap-lac"] == ["alimentation", "agriculture"]
    assert themes["repair-lac"] == ["reemploi-reparation"]
    assert themes["mlc-lac"] == ["monnaie-locale"]
    assert themes["amap-tours"] == ["alimentation"]
    assert themes["epicerie"] == ["alimentation"]
    assert themes["velo"] == ["mobilite"]
    assert themes["tiers-lieu"] == ["tiers-lieux"]
    assert themes["jardin"] == ["nature"]
    assert themes["energie"] == ["energie"]
    assert themes["sans-role"] == ["citoyennete"]
    # the unknown value is reported once, with its row, in plain words (no %20)
    unknown = [f for f in check.table.findings if f.constraint == "ltcsh:Place-themeValue"]
    assert len(unknown) == 1
    assert unknown[0].value == "Économie de la fonctionnalité"
    assert unknown[0].rows == (ROW["ressourcerie"],) and unknown[0].column == "themes"
    assert "%20" not in check.text()


def test_the_lost_leading_zero_is_put_back_with_a_warning(checked):
    _, check = checked
    place = by_type(json.loads(check.converted), "Lieu")[f"{NS}lieux/mda"]
    assert place["adresse"]["codePostal"] == "01000"
    zero = [f for f in check.table.findings if f.column == "code_postal"]
    assert [(f.rows, f.severity) for f in zero] == [((ROW["amap-lac"],), "Warning")]
    assert "format Texte" in zero[0].fr


def test_rows_without_coordinates_are_told_they_will_be_placed_at_their_commune(checked):
    _, check = checked
    places = by_type(json.loads(check.converted), "Lieu")
    for ident in ("bergerie", "ressourcerie"):
        assert "geo" not in places[f"{NS}lieux/{ident}"]
    told = [f for f in check.table.findings if "position approximative" in f.fr]
    assert len(told) == 1 and told[0].column == "latitude"
    assert told[0].rows == (ROW["bergerie"], ROW["ressourcerie"])


def test_findings_name_row_and_column_in_row_order(checked):
    _, check = checked
    table = check.table
    assert table.rows == len(ROWS)
    firsts = [f.rows[0] for f in table.findings if f.rows]
    assert firsts == sorted(firsts)
    for finding in table.findings:
        assert finding.rows, finding
    where = {(f.rows, f.column, f.severity) for f in table.findings}
    assert ((ROW[""],), "id", "Violation") in where  # a row without id is not published
    assert ((ROW["sans-role"],), "role", "Warning") in where
    assert table.rejected_rows == [ROW[""]]
    text = check.text()
    assert f"ligne {ROW['sans-role']}, colonne role (K)" in text
    assert "ligne 2, colonne code_postal (F)" in text
    # written for a spreadsheet, not for JSON
    assert '"' not in " ".join(f.fr for f in table.findings)


def test_a_mapped_spreadsheet_reports_in_its_own_columns():
    mapping = """
adapter = "csv"
[network]
id = "https://essai.example.org/reseau"
nom = "Réseau d'essai"
[iri]
lieu = "https://essai.example.org/lieux/{N°}"
organisation = "https://essai.example.org/organisations/{N°}"
presence = "https://essai.example.org/presences/{N°}"
[fields]
nom = "Nom du lieu"
codePostal = "CP"
commune = "Ville"
horaires = "Ouverture"
themes = "Catégorie"
"""
    rows = [["N°", "Nom du lieu", "CP", "Ville", "Ouverture", "Catégorie"],
            ["1", "Café A", 7500, "Privas", "Lundi au vendredi 9h-12h", "Alimentation"],
            ["2", "", "37000", "Tours", "samedi matin", "Pêche"]]  # fmt: skip
    data = write_xlsx(rows[1:], rows[0])
    check = check_feed(data, feed="a.xlsx", settings=SETTINGS, mapping=mapping)
    assert check.table is not None
    document = json.loads(check.converted)
    place = by_type(document, "Lieu")["https://essai.example.org/lieux/1"]
    assert place["adresse"]["codePostal"] == "7500"  # a mapping copies faithfully
    assert place["themes"] == ["alimentation"]
    where = {(f.rows, f.column, f.constraint) for f in check.table.findings}
    assert ((2,), "CP", "ltcsh:Address-postalCode") in where
    assert ((3,), "Nom du lieu", "ltcsh:Place-name") in where
    assert ((3,), "Ouverture", None) in where
    assert check.rejected


def test_ltc_validate_reads_spreadsheets_with_the_expected_exit_status(cli, tmp_path):
    for name, make in FORMATS.items():
        path = tmp_path / name
        path.write_bytes(make())
        result = cli("validate", str(path))
        assert result.exit_code == 1, result.output  # the row without id is not published
        assert "ligne 15, colonne id (A)" in result.output
        report = json.loads(cli("validate", "--format", "json", str(path)).output)
        assert report["feeds"][0]["table"]["rejected_rows"] == [15]
    clean = tmp_path / "modele.xlsx"
    clean.write_bytes(template_file("modele-lieux.xlsx")[0])
    result = cli("validate", str(clean))
    assert result.exit_code == 0, result.output
    broken = tmp_path / "casse.xlsx"
    broken.write_bytes(b"PK\x03\x04 pas un classeur")
    result = cli("validate", str(broken))
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    other = tmp_path / "autre.csv"
    other.write_bytes(b"numero;intitule\n1;Cafe\n")
    result = cli("validate", str(other))
    assert result.exit_code == 2 and "modèle de tableur" in result.output
    hinted = tmp_path / "lieux.txt"
    hinted.write_bytes(b"id;nom\nx;Cafe\n")
    result = cli("validate", str(hinted))
    assert result.exit_code == 2 and ".csv" in result.output


def test_ltc_validate_with_a_mapping_and_a_namespace(cli, tmp_path):
    path = tmp_path / "lieux.ods"
    path.write_bytes(write_ods())
    result = cli("validate", "--format", "json", "--namespace", "https://r.example.net/", str(path))
    records = [r["iri"] for r in json.loads(result.output)["feeds"][0]["records"]]
    assert records and all(r.startswith("https://r.example.net/") for r in records)
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        standard_mapping_toml(
            parse_catalog(CATALOG.format(url="x.csv", extra='sheet = "Lieux"'))[0]
        ).decode()
    )
    result = cli("validate", "--mapping", str(mapping), str(path))
    assert result.exit_code == 1 and "ligne 15" in result.output


def test_ltc_convert_reads_the_standard_template_without_a_mapping(cli, tmp_path):
    path = tmp_path / "lieux.xlsx"
    path.write_bytes(write_xlsx())
    out = tmp_path / "lieux.jsonld"
    result = cli("convert", str(path), "--namespace", "https://r.example.net/", "-o", str(out))
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert "https://r.example.net/lieux/mda" in by_type(document, "Lieu")
    assert "ligne 15" in result.output  # the notes, on standard error
    assert cli("validate", str(out)).exit_code == 0


CATALOG = """
[[source]]
id = "tableur-essai"
title = "Réseau du tableur"
network = "https://tableur.example.org/reseau"
url = "{url}"
adapter = "tableur"
namespaces = ["https://tableur.example.org/"]
license = "https://creativecommons.org/licenses/by/4.0/"
contact = "mailto:donnees@tableur.example.org"
frequency = "daily"
{extra}
"""


def test_a_catalog_source_may_be_a_standard_spreadsheet_without_mapping():
    source = parse_catalog(CATALOG.format(url="lieux.xlsx", extra='sheet = "Lieux"'), Path("/"))[0]
    mapping = load_mapping(source.local_file(source.mapping).read_bytes())
    assert mapping.adapter == "tableur" and mapping.sheet == "Lieux"
    assert mapping.namespace == "https://tableur.example.org/"
    document = adapt_with_notes(write_xlsx(), "tableur", mapping).document
    ids = [r["id"] for r in document["@graph"]]
    assert all(i.startswith("https://tableur.example.org/") for i in ids)
    assert by_type(document, "Reseau")["https://tableur.example.org/reseau"]["nom"] == (
        "Réseau du tableur"
    )
    with pytest.raises(ValueError, match="sheet"):
        parse_catalog(CATALOG.format(url="x.csv", extra="").replace('"tableur"', '"csv"')
                      + 'mapping = "m.toml"\nsheet = "x"\n')  # fmt: skip


def test_iris_are_stable_from_one_harvest_to_the_next():
    first = adapt_with_notes(write_csv("utf-8", ";"), "tableur", standard_mapping(NS)).document
    reordered = [ROWS[-2], *ROWS[:-2]]
    second = adapt_with_notes(
        write_csv("utf-8", ";", reordered), "tableur", standard_mapping(NS)
    ).document
    assert {r["id"] for r in first["@graph"]} == {r["id"] for r in second["@graph"]}


def test_the_template_files_in_the_repository_are_the_ones_the_registry_serves():
    folder = ROOT / "docs" / "modele-tableur"
    for name in TEMPLATE_FILES:
        assert (folder / name).read_bytes() == template_file(name)[0], (
            f"{name} is out of date: run python docs/modele-tableur/build.py"
        )


def test_the_schema_describes_every_column_in_french():
    schema = json.loads(template_file("schema.json")[0])
    assert [f["name"] for f in schema["fields"]] == list(COLUMN_NAMES)
    for field in schema["fields"]:
        assert field["title"] and field["description"] and "example" in field
    required = {"id", "nom", "id_lieu", "lieu", "adresse", "code_postal", "commune",
                "code_insee", "latitude", "longitude", "themes", "horaires", "horaires_lieu",
                "telephone", "courriel", "site_web", "description", "date_maj"}  # fmt: skip
    assert required <= set(COLUMN_NAMES)


@pytest.mark.parametrize("name", [n for n in TEMPLATE_FILES if n != "schema.json"])
def test_each_template_is_a_filled_example_with_a_clean_report(name):
    data, _ = template_file(name)
    table = read_table(data, filename=name)
    assert table.header == list(COLUMN_NAMES) and len(table.rows) == 3
    check = check_feed(data, feed=name, settings=SETTINGS)
    assert not check.rejected and check.table.findings == [], check.text()
    assert check.counts["warned"] == 0


def test_valider_reads_the_csv_export_of_an_online_spreadsheet(feed_server, tmp_path):
    from registry.app import create_app

    feed_server.routes["/spreadsheets/d/abc/export"] = (
        200,
        {"Content-Type": "text/csv; charset=utf-8"},
        write_csv("utf-8", ","),
    )
    settings = load_settings(
        overrides={"data_dir": tmp_path / "data", "fetch_allow_networks": "127.0.0.1/32"},
        environ={},
    )
    client = create_app(settings).test_client()
    answer = client.post("/valider", data={"url": feed_server.url("/spreadsheets/d/abc/export")})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page[-2000:]
    assert "Lu comme CSV en UTF-8, séparateur « , »" in page
    assert "ligne 15, colonne id (A)" in page
    assert "data:application/ld+json;charset=utf-8;base64," in page


def test_page_addresses_of_online_spreadsheets_become_their_csv_export():
    from registry.validator import spreadsheet_export_url

    page = "https://docs.google.com/spreadsheets/d/1AbC-d_e/edit#gid=42"
    assert spreadsheet_export_url(page) == (
        "https://docs.google.com/spreadsheets/d/1AbC-d_e/export?format=csv&gid=42"
    )
    assert spreadsheet_export_url("https://framacalc.org/mon-reseau") == (
        "https://framacalc.org/mon-reseau.csv"
    )
    other = "https://exemple.org/lieux.csv"
    assert spreadsheet_export_url(other) == other


def test_a_volunteer_filling_the_template_as_the_guide_says_gets_a_clean_report():
    """docs/publier.md alone: the CSV template opened in French Excel, the example rows
    replaced, saved as « CSV (séparateur : point-virgule) » (Windows-1252)."""
    text = template_file("modele-lieux.csv")[0].decode("utf-8-sig")
    header = text.splitlines()[0].split(";")
    mine = [
        {"id": "amap-bourg", "id_lieu": "mda-bourg", "nom": "AMAP de Bourg",
         "lieu": "Maison des associations de Bourg", "adresse": "2 place du Marché",
         "code_postal": "1000", "commune": "Bourg-en-Bresse", "latitude": "46,2052",
         "longitude": "5,2255", "themes": "Alimentation, circuits courts",
         "role": "Point de distribution", "activites": "Distribution des paniers",
         "horaires": "mar. 17h-19h", "horaires_lieu": "Lundi au vendredi 9h-12h",
         "telephone": "04 74 00 00 00", "courriel": "amap@bourg.example.org",
         "osm": "node/42", "date_maj": "02/12/2026"},
        {"id": "repair-bourg", "id_lieu": "mda-bourg", "nom": "Repair café de Bourg",
         "themes": "Réparation", "role": "atelier", "horaires": "Mercredi de 18h à 19h30",
         "date_maj": "02/12/2026"},
        {"id": "ferme-bresse", "nom": "Ferme de Bresse", "adresse": "Route de Lyon",
         "code_postal": "01340", "commune": "Montrevel-en-Bresse", "latitude": "46,3378",
         "longitude": "5,1264", "themes": "agriculture bio", "role": "boutique",
         "horaires": "lundi et jeudi 18h-19h", "horaires_lieu": "fermé le dimanche",
         "osm": "way/123", "date_maj": "1er décembre 2026"},
    ]  # fmt: skip
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in mine:
        writer.writerow([row.get(name, "") for name in header])
    check = check_feed(out.getvalue().encode("cp1252"), feed="lieux.csv", settings=SETTINGS)
    problems = [(f.rows, f.column, f.fr) for f in check.table.findings]
    # only the zero Excel dropped is told about
    assert [(rows, column) for rows, column, _ in problems] == [((2,), "code_postal")]
    assert not check.rejected and check.table.rejected_rows == []


def test_an_online_spreadsheet_is_harvested_like_any_feed(feed_server, tmp_path):
    from ltc.pipeline import harvest

    feed_server.routes["/lieux.xlsx"] = (
        200,
        {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        write_xlsx(),
    )
    (tmp_path / "sources.toml").write_text(
        CATALOG.format(url=feed_server.url("/lieux.xlsx"), extra='sheet = "Lieux"'),
        encoding="utf-8",
    )
    settings = load_settings(
        overrides={
            "data_dir": tmp_path / "data",
            "sources_file": str(tmp_path / "sources.toml"),
            "harvest_workers": 1,
            "fetch_allow_networks": "127.0.0.1/32",
        },
        environ={},
    )
    (outcome,) = harvest(settings)
    assert outcome.status == "loaded", outcome.message
    # 13 rows with an id: 11 places, 13 organisations, 13 presences, and the network
    assert outcome.accepted == 11 + 13 + 13 + 1
    (again,) = harvest(settings)
    assert again.status == "unchanged"


def test_a_web_page_instead_of_a_spreadsheet_is_said_so():
    with pytest.raises(FeedError) as caught:
        check_feed(
            b"<!DOCTYPE html><html><body>Connexion requise</body></html>",
            feed="https://exemple.org/lieux.csv",
            settings=SETTINGS,
        )
    assert "page web" in caught.value.fr
