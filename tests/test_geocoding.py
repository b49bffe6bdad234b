"""Places without coordinates are placed at their commune's point by the registry: found
by their commune on ``/`` and in ``/api/places``, marked approximate, kept out of every
graph, and never evidence that two places are the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_spreadsheets import ROW, write_xlsx

from convergence.derived_graph import derive_graph
from core.config import load_settings
from gazetteer.lookup import default_gazetteer, locate_address
from ltc.pipeline import harvest
from registry.app import create_app

SHEET_NS = "https://tableur.example.org/"
RDF_FEED = """@prefix schema: <https://schema.org/> .
@prefix ltc: <https://w3id.org/ltc/ns#> .
@prefix ltct: <https://w3id.org/ltc/theme/> .

<https://rdf.example.org/lieux/grange> a schema:Place ;
    schema:name "La Grange aux Livres" ;
    ltc:theme ltct:culture ;
    schema:dateModified "2026-01-10"^^<http://www.w3.org/2001/XMLSchema#date> ;
    schema:address [ a schema:PostalAddress ; schema:postalCode "37600" ;
                     schema:addressLocality "Loches" ; schema:addressCountry "FR" ] .
"""
CATALOG = """
[[source]]
id = "tableur"
title = "Réseau du tableur"
network = "https://tableur.example.org/reseau"
url = "lieux.xlsx"
adapter = "tableur"
namespaces = ["https://tableur.example.org/"]
license = "https://creativecommons.org/licenses/by/4.0/"
contact = "mailto:donnees@tableur.example.org"
frequency = "daily"

[[source]]
id = "rdf"
title = "Réseau RDF"
network = "https://rdf.example.org/reseau"
url = "lieux.ttl"
syntax = "turtle"
namespaces = ["https://rdf.example.org/"]
license = "https://creativecommons.org/licenses/by/4.0/"
contact = "mailto:donnees@rdf.example.org"
frequency = "daily"
"""
BERGERIE = f"{SHEET_NS}lieux/bergerie"
GRANGE = "https://rdf.example.org/lieux/grange"


def test_an_address_gives_its_communes_point():
    gazetteer = default_gazetteer()
    loches = locate_address(gazetteer, "37600", "Loches")
    assert loches is not None and loches.label == "Loches (37600)" and loches.approximate
    assert abs(loches.lat - 47.13) < 0.05 and abs(loches.lon - 0.99) < 0.05
    by_insee = locate_address(gazetteer, None, None, "37132")
    assert (by_insee.lat, by_insee.lon, by_insee.basis) == (loches.lat, loches.lon, "insee")
    assert locate_address(gazetteer, "1000", None).label == "01000"  # the lost zero
    assert locate_address(gazetteer, None, "Tours").label == "Tours (37000)"
    assert locate_address(gazetteer, None, "Saint-Denis") is None  # several: no guess
    assert locate_address(gazetteer, "99999", "Nulle Part") is None


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    folder: Path = tmp_path_factory.mktemp("geocodage")
    (folder / "lieux.xlsx").write_bytes(write_xlsx())
    (folder / "lieux.ttl").write_text(RDF_FEED, encoding="utf-8")
    (folder / "sources.toml").write_text(CATALOG, encoding="utf-8")
    settings = load_settings(
        overrides={
            "data_dir": folder / "data",
            "sources_file": str(folder / "sources.toml"),
            "harvest_workers": 1,
        },
        environ={},
    )
    outcomes = harvest(settings)
    assert [o.status for o in outcomes] == ["loaded", "loaded"], outcomes
    return settings, create_app(settings).test_client()


def test_places_without_coordinates_are_found_by_their_commune_in_the_api(registry):
    _, client = registry
    answer = client.get("/api/places?commune=Loches&radius=2")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    places = {p["iri"]: p for p in answer.get_json()["places"]}
    assert BERGERIE in places and GRANGE in places  # a spreadsheet row and an RDF place
    for iri in (BERGERIE, GRANGE):
        assert places[iri]["approximate"] is True
        assert places[iri]["distance_km"] < 0.5
    precise = client.get("/api/places?commune=Tours&radius=5").get_json()["places"]
    assert precise and all(p["approximate"] is False for p in precise)
    amboise = client.get("/api/places?commune=Amboise&radius=2").get_json()["places"]
    assert [p["iri"] for p in amboise] == [f"{SHEET_NS}lieux/ressourcerie"]
    assert amboise[0]["name"] == "Ressourcerie des Deux Rives"


def test_they_are_found_on_the_public_search_page_and_by_name(registry):
    _, client = registry
    page = client.get("/?q=Loches").get_data(as_text=True)
    assert "Bergerie du Val" in page and "La Grange aux Livres" in page
    assert page.count("Position approximative") == 2  # the two places without coordinates
    place = client.get("/lieu", query_string={"iri": BERGERIE}).get_data(as_text=True)
    assert "position approximative" in place
    named = client.get("/api/places?q=Bergerie").get_json()["places"]
    assert [p["iri"] for p in named] == [BERGERIE]
    geojson = client.get("/api/places.geojson?commune=Loches&radius=2").get_json()
    flags = {f["id"]: f["properties"]["approximate"] for f in geojson["features"]}
    assert flags[BERGERIE] is True


def test_the_place_answer_says_the_position_is_approximate(registry):
    _, client = registry
    detail = client.get("/api/place", query_string={"iri": BERGERIE}).get_json()
    assert detail["approximate"] is True and detail["lat"] is not None
    precise = client.get("/api/place", query_string={"iri": f"{SHEET_NS}lieux/velo"})
    assert precise.get_json()["approximate"] is False


def test_approximate_points_are_in_no_graph_and_link_nothing(registry):
    settings, client = registry
    # the store holds no coordinates for these places, in any graph
    query = (
        "ASK { GRAPH ?g { ?p <https://schema.org/geo> ?geo } "
        f"VALUES ?p {{ <{BERGERIE}> <{GRANGE}> }} }}"
    )
    answer = client.get("/sparql", query_string={"query": query, "format": "json"})
    assert answer.get_json()["boolean"] is False
    # two places at the same commune point are not the same place for convergence
    derived = derive_graph(settings).decode()
    assert BERGERIE not in derived and GRANGE not in derived


def test_rows_are_numbered_for_the_harvested_spreadsheet_too(registry):
    settings, _ = registry
    from core.harvest_files import SourceFiles

    findings = SourceFiles(settings.data_dir, "tableur").findings()
    assert any(r.record == f"{SHEET_NS}lieux/ressourcerie" for r in findings)
    assert ROW["bergerie"] == 8
