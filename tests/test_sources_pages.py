"""The sources pages and the online validator, on the harvested example federation:
what a network's volunteer reads (counts, French report, Turtle, history, Atom) and what
the validator refuses."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import rdflib
import requests

from core.catalog import load_catalog
from core.config import Settings, load_settings
from core.harvest_files import SourceFiles
from ltc.pipeline import harvest
from registry.app import create_app

ROOT = Path(__file__).resolve().parents[1]
FEEDS = ROOT / "examples" / "feeds"
ATOM = "{http://www.w3.org/2005/Atom}"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@pytest.fixture(scope="module")
def settings(example_registry) -> Settings:
    return example_registry.settings


@pytest.fixture(scope="module")
def client(settings):
    return create_app(settings).test_client()


@pytest.fixture(scope="module")
def server(example_registry) -> str:
    """The example federation behind a real ``ltc serve``."""
    return example_registry.url


def _row_counts(html: str, source_id: str) -> dict[str, int]:
    row = re.search(rf'<tr id="source-{source_id}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {source_id}"
    return {k: int(v) for k, v in re.findall(r'data-field="(\w+)">(\d+)<', row.group(1))}


def _rejected_on_page(html: str) -> set[str]:
    return set(re.findall(r'<li class="valider-fiche rejetee" data-iri="([^"]+)"', html))


# -- /sources ---------------------------------------------------------------------------------


def test_sources_lists_every_source_with_the_state_files_counts(settings, server):
    answer = requests.get(server + "/sources", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    catalog = load_catalog(settings)
    assert len(catalog) >= 8
    for source in catalog:
        state = SourceFiles(settings.data_dir, source.id).load_state()
        assert source.title in answer.text
        assert _row_counts(answer.text, source.id) == {
            "accepted": state.accepted,
            "rejected": state.rejected,
            "warnings": state.warned,
        }
        assert f'href="/sources/{source.id}"' in answer.text
        assert source.license in answer.text


def test_sources_json_carries_counts_licence_and_report_link(settings, client):
    answer = client.get("/sources?format=json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    listed = {s["id"]: s for s in answer.get_json()["sources"]}
    assert set(listed) == {s.id for s in load_catalog(settings)}
    amap = listed["amap-centre"]
    state = SourceFiles(settings.data_dir, "amap-centre").load_state()
    assert (amap["accepted"], amap["rejected"], amap["warnings"]) == (
        state.accepted,
        state.rejected,
        state.warned,
    )
    assert amap["status"] == "loaded" and amap["last_harvest"] == state.last_attempt
    assert amap["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert amap["report"].endswith("/sources/amap-centre/rapport.ttl")


def test_sources_pages_have_etags_and_answer_304(client):
    for path in (
        "/sources",
        "/sources?format=json",
        "/sources/amap-centre",
        "/sources/amap-centre/rapport.ttl",
        "/sources/amap-centre/historique.json",
        "/sources/amap-centre/atom",
        "/valider",
    ):
        first = client.get(path)
        assert first.status_code == 200, path
        assert first.headers["ETag"] and "max-age" in first.headers["Cache-Control"], path
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, path
    assert (
        client.get("/sources").headers["ETag"] != client.get("/sources?format=json").headers["ETag"]
    )


def test_a_source_page_shows_a_rejected_record_and_its_french_message(client, settings):
    answer = client.get("/sources/amap-centre")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    rejected = _rejected_on_page(html)
    state = SourceFiles(settings.data_dir, "amap-centre").load_state()
    assert len(rejected) == state.rejected
    # a postal code of four digits, with the shape's French message and the value written
    record = "https://amap-centre.example.org/lieux/maison-de-quartier-du-vieux-marche-orleans"
    assert record in rejected
    block = html[html.index(f'data-iri="{record}"') :]
    block = block[: block.index("</li>")]
    assert "Le code postal n&#39;a pas 5 chiffres" in block
    assert "codePostal" in block and "« 4500 »" in block and "erreur" in block
    # a problem found on an owned node (opening hours) is charged to its place
    assert "https://amap-centre.example.org/lieux/domaine-maraicher-des-bruyeres-tours" in rejected
    assert "Dernières moissons" in html and "chargée" in html


def test_a_long_report_shows_its_first_records_and_points_to_the_full_one(
    client, settings, monkeypatch
):
    import registry.readable_report

    monkeypatch.setattr(registry.readable_report, "REPORT_SHOWN", 3)
    html = client.get("/sources/amap-centre", headers={"Cache-Control": "no-cache"}).get_data(
        as_text=True
    )
    assert len(_rejected_on_page(html)) == 3
    state = SourceFiles(settings.data_dir, "amap-centre").load_state()
    assert f"({state.rejected + state.warned - 3} autres)" in html
    assert 'href="/sources/amap-centre/rapport.ttl">le rapport complet en Turtle' in html


def test_the_turtle_report_downloads_and_parses(client):
    answer = client.get("/sources/amap-centre/rapport.ttl")
    assert answer.status_code == 200 and answer.mimetype == "text/turtle"
    assert "attachment" in answer.headers["Content-Disposition"]
    graph = rdflib.Graph().parse(data=answer.get_data(as_text=True), format="turtle")
    assert len(list(graph.subjects(rdflib.RDF.type, SH.ValidationReport))) == 1
    violations = set(graph.subjects(SH.resultSeverity, SH.Violation))
    assert violations


def test_history_json_lists_the_last_harvests(client, settings):
    answer = client.get("/sources/repair-cafes/historique.json")
    assert answer.status_code == 200
    harvests = answer.get_json()["harvests"]
    assert harvests == list(reversed(SourceFiles(settings.data_dir, "repair-cafes").history()))
    assert harvests[0]["status"] == "loaded"


def test_atom_feed_has_an_entry_for_a_harvest_with_rejections(server, settings):
    answer = requests.get(server + "/sources/amap-centre/atom", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(answer.content)
    assert feed.tag == ATOM + "feed"
    for tag in ("id", "title", "updated", "author/" + ATOM + "name"):
        assert feed.find(ATOM + tag) is not None and feed.find(ATOM + tag).text, tag
    self_link = [link for link in feed.findall(ATOM + "link") if link.get("rel") == "self"]
    assert self_link and self_link[0].get("href") == server + "/sources/amap-centre/atom"
    entries = feed.findall(ATOM + "entry")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.find(ATOM + "id").text.startswith(server + "/harvest/amap-centre/")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.find(ATOM + "updated").text)
    rejected = SourceFiles(settings.data_dir, "amap-centre").load_state().rejected
    assert rejected and f"{rejected} rejetées" in entry.find(ATOM + "summary").text
    again = ET.fromstring(requests.get(server + "/sources/amap-centre/atom", timeout=10).content)
    assert again.find(f"{ATOM}entry/{ATOM}id").text == entry.find(ATOM + "id").text


def test_atom_tells_a_network_when_its_feed_breaks(tmp_path, feed_server):
    feed = (FEEDS / "ltc-collectif.ttl").read_bytes()
    feed_server.routes["/flux.ttl"] = (200, {"Content-Type": "text/turtle"}, feed)
    catalog = tmp_path / "sources.toml"
    catalog.write_text(
        "[[source]]\n"
        'id = "collectif"\n'
        'title = "Collectif LTC"\n'
        'network = "https://collectif-ltc.example.org/reseau"\n'
        f'url = "{feed_server.url("/flux.ttl")}"\n'
        'namespaces = ["https://collectif-ltc.example.org/"]\n'
        'license = "https://creativecommons.org/licenses/by/4.0/"\n'
        'contact = "mailto:donnees@collectif-ltc.example.org"\n'
        'frequency = "daily"\n',
        encoding="utf-8",
    )
    settings = load_settings(
        overrides={
            "data_dir": tmp_path / "data",
            "sources_file": str(catalog),
            "harvest_workers": 1,
            "fetch_allow_networks": "127.0.0.1/32",
        },
        environ={},
    )
    harvest(settings)
    feed_server.routes["/flux.ttl"] = (500, {}, b"panne")
    harvest(settings)
    client = create_app(settings).test_client()
    feed = ET.fromstring(client.get("/sources/collectif/atom").data)
    entries = feed.findall(ATOM + "entry")
    assert "Échec" in entries[0].find(ATOM + "summary").text
    assert "500" in entries[0].find(ATOM + "summary").text
    assert len({e.find(ATOM + "id").text for e in entries}) == len(entries)
    page = client.get("/sources").get_data(as_text=True)
    assert "échec" in page


def test_an_unknown_source_is_a_french_404(client):
    for path in ("/sources/inconnue", "/sources/inconnue/atom", "/sources/inconnue/rapport.ttl"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Source introuvable" in answer.get_data(as_text=True)


def test_harvested_text_is_escaped(tmp_path):
    from registry.readable_report import Problem, ReadableReport, RecordReport

    app = create_app(load_settings(overrides={"data_dir": tmp_path}, environ={}))
    record = RecordReport("https://x.example/<b>", "lieu", "<script>alert(1)</script>")
    record.problems.append(Problem("Violation", "nom", "<i>message</i>", '"><img src=x>'))
    with app.test_request_context():
        from flask import render_template

        html = render_template("rapport.html", report=ReadableReport([record], [], rejected=1))
    assert "<script>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html


# -- /valider --------------------------------------------------------------------------------


def test_valider_form_labels_every_control(client):
    html = client.get("/valider").get_data(as_text=True)
    controls = re.findall(r'<(?:input|select)[^>]*\sid="([^"]+)"', html)
    assert set(controls) == {"valider-url", "valider-fichier", "valider-syntaxe"}
    for control in controls:
        assert f'<label for="{control}">' in html
    assert "<script" not in html and "style=" not in html


def test_valider_a_file_gives_the_same_rejected_records_as_ltc_validate(server, cli):
    path = FEEDS / "energie-citoyenne.ttl"
    result = cli("validate", "--format", "json", str(path))
    expected = {
        record["iri"]
        for record in json.loads(result.output)["feeds"][0]["records"]
        if record["status"] == "rejected"
    }
    assert expected
    answer = requests.post(
        server + "/valider",
        files={"fichier": (path.name, path.read_bytes(), "text/turtle")},
        data={"syntaxe": ""},
        timeout=60,
    )
    assert answer.status_code == 200
    assert _rejected_on_page(answer.text) == expected
    assert f"<strong>{len(expected)} rejetées</strong>" in answer.text
    assert answer.headers["Cache-Control"] == "no-store"


def test_valider_refuses_a_local_address_and_sends_nothing(server, feed_server):
    feed_server.routes["/x"] = (200, {"Content-Type": "text/turtle"}, b"")
    answer = requests.post(server + "/valider", data={"url": feed_server.url("/x")}, timeout=30)
    assert answer.status_code == 422
    assert "adresse interdite" in answer.text
    assert feed_server.requests == []


def test_valider_upload_over_the_feed_limit_is_a_clear_413(tmp_path, settings):
    small = load_settings(
        overrides={"data_dir": settings.data_dir, "max_feed_bytes": 100_000}, environ={}
    )
    client = create_app(small).test_client()
    answer = client.post(
        "/valider",
        data={"fichier": (io.BytesIO(b"#" * 300_000), "gros.ttl")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 413
    assert "Fichier trop gros" in answer.get_data(as_text=True)
    # an upload above the SPARQL body limit but within the feed limit is accepted
    feed = (FEEDS / "ltc-collectif.ttl").read_bytes()
    assert len(feed) < 100_000
    big_enough = feed + b"\n" + b"#" * (small.sparql_max_body + 1000) + b"\n"
    assert len(big_enough) < 100_000
    answer = client.post(
        "/valider",
        data={"fichier": (io.BytesIO(big_enough), "collectif.ttl")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[-500:]


def test_valider_needs_a_url_or_a_file_and_a_known_syntax(client):
    assert client.post("/valider", data={}).status_code == 400
    answer = client.post(
        "/valider",
        data={"url": "https://exemple.org/flux.ttl", "syntaxe": "inconnue"},
    )
    assert answer.status_code == 400
    assert "Syntaxe inconnue" in answer.get_data(as_text=True)


def test_valider_unparsable_file_says_where(client):
    answer = client.post(
        "/valider",
        data={"fichier": (io.BytesIO(b"@prefix : <x> .\n:a :b "), "casse.ttl")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert "ligne" in answer.get_data(as_text=True)


def test_pages_work_before_the_first_harvest(tmp_path):
    client = create_app(load_settings(overrides={"data_dir": tmp_path}, environ={})).test_client()
    listing = client.get("/sources")
    assert listing.status_code == 200 and "jamais moissonnée" in listing.get_data(as_text=True)
    again = client.get("/sources", headers={"If-None-Match": listing.headers["ETag"]})
    assert again.status_code == 304
    page = client.get("/sources/amap-centre")
    assert page.status_code == 200 and "Pas encore de rapport" in page.get_data(as_text=True)
    form = client.get("/valider")
    assert form.status_code == 200 and form.headers["ETag"]
    assert (
        client.get("/valider", headers={"If-None-Match": form.headers["ETag"]}).status_code == 304
    )


def test_valider_posts_are_rate_limited(settings):
    limited = load_settings(
        overrides={"data_dir": settings.data_dir, "validator_rate_limit": 2}, environ={}
    )
    client = create_app(limited).test_client()
    statuses = [client.post("/valider", data={}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    assert client.get("/valider").status_code == 200  # reading the form is not limited
