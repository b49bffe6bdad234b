"""The public lookup pages without JavaScript (Flask test client): search by commune,
postcode, coordinates and name; filters; answers to ambiguous and unknown names; the
place page; hostile harvested text; the security headers; the widget; the vendored files.

The registry holds the example federation plus one hostile feed (a place whose texts carry
script payloads and whose website is a ``javascript:`` URL).
"""

from __future__ import annotations

import html
import math
import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.config import Settings, load_settings
from ltc.pipeline import harvest
from registry.app import create_app

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FABRIQUE = "https://tiers-lieux.example.org/lieux/la-fabrique-des-possibles-tours"
HOSTILE_PLACE = "https://hostile.example.org/lieux/piege"
SOLEIL = "https://energie-citoyenne.example.org/lieux/local-de-soleil-du-val-de-loire-tours"

HOSTILE_FEED = """\
@base <https://hostile.example.org/> .
@prefix schema: <https://schema.org/> .
@prefix ltc: <https://w3id.org/ltc/ns#> .
@prefix ltct: <https://w3id.org/ltc/theme/> .
@prefix ltcr: <https://w3id.org/ltc/role/> .
@prefix ltcp: <https://w3id.org/ltc/place-type/> .

<reseau> a ltc:Network ;
    schema:name "Réseau <b>piégé</b>" ;
    schema:url <https://hostile.example.org/> ;
    ltc:theme ltct:reemploi-reparation .

<organisations/piege> a schema:Organization ;
    schema:name "Atelier <script>window.__pwned = 'org'</script>" ;
    schema:memberOf <reseau> ;
    ltc:theme ltct:reemploi-reparation ;
    schema:url <javascript:window.__pwned='orgurl'> .

<lieux/piege> a schema:Place ;
    schema:name "Lieu <script>window.__pwned = 1</script> piégé" ;
    schema:description "Bienvenue <img src=x onerror=\\"window.__pwned = 2\\"> et <a href=\\"javascript:window.__pwned=3\\">clic</a>" ;
    schema:url <javascript:alert(1)> ;
    schema:address [ a schema:PostalAddress ;
        schema:streetAddress "1 rue <svg onload=\\"window.__pwned=4\\">" ;
        schema:postalCode "37000" ; schema:addressLocality "Tours" ; schema:addressCountry "FR" ] ;
    schema:geo [ a schema:GeoCoordinates ; schema:latitude 47.3941 ; schema:longitude 0.6848 ] ;
    ltc:theme ltct:reemploi-reparation ;
    ltc:placeType ltcp:atelier .

<presences/piege> a ltc:Presence ;
    ltc:organisation <organisations/piege> ;
    ltc:place <lieux/piege> ;
    ltc:role ltcr:atelier ;
    ltc:activity "réparation <script>window.__pwned = 5</script>" .
"""
HOSTILE_SOURCE = """
[[source]]
id = "hostile"
title = "Réseau piégé <script>window.__pwned = 6</script>"
network = "https://hostile.example.org/reseau"
url = "hostile.ttl"
syntax = "turtle"
namespaces = ["https://hostile.example.org/"]
license = "https://creativecommons.org/licenses/by/4.0/"
contact = "mailto:donnees@hostile.example.org"
frequency = "daily"
"""
HOSTILE_NAME = "Lieu <script>window.__pwned = 1</script> piégé"
HOSTILE_DESCRIPTION = (
    'Bienvenue <img src=x onerror="window.__pwned = 2"> et '
    '<a href="javascript:window.__pwned=3">clic</a>'
)


CROWD_SOURCE = """
[[source]]
id = "foule"
title = "Réseau nombreux"
network = "https://foule.example.org/reseau"
url = "foule.ttl"
syntax = "turtle"
namespaces = ["https://foule.example.org/"]
license = "https://creativecommons.org/licenses/by/4.0/"
contact = "mailto:donnees@foule.example.org"
frequency = "daily"
"""


def crowd_feed(count: int) -> str:
    """``count`` places scattered within 40 km of Lyon (a load for the list and the map)."""
    lines = [
        "@base <https://foule.example.org/> .",
        "@prefix schema: <https://schema.org/> .",
        "@prefix ltc: <https://w3id.org/ltc/ns#> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        '<reseau> a ltc:Network ; schema:name "Réseau nombreux" ;',
        "    ltc:theme <https://w3id.org/ltc/theme/numerique> .",
    ]
    for n in range(count):
        # a deterministic spiral: no two places at one point
        angle, distance = n * 2.399963, 0.35 * (n / count) ** 0.5
        lat = 45.764 + distance * math.sin(angle)
        lon = 4.8357 + distance * 1.4 * math.cos(angle)
        lines.append(
            f'<lieux/{n}> a schema:Place ; schema:name "Point numérique {n}" ;\n'
            '    schema:address [ a schema:PostalAddress ; schema:streetAddress "1 place Bellecour" ;\n'
            '        schema:postalCode "69002" ; schema:addressLocality "Lyon" ; schema:addressCountry "FR" ] ;\n'
            f"    schema:geo [ a schema:GeoCoordinates ; schema:latitude {lat:.6f} ; schema:longitude {lon:.6f} ] ;\n"
            "    ltc:theme <https://w3id.org/ltc/theme/numerique> ;\n"
            "    ltc:placeType <https://w3id.org/ltc/place-type/autre> ;\n"
            '    schema:dateModified "2026-01-01"^^xsd:date .'
        )
    return "\n".join(lines) + "\n"


def federation_settings(folder: Path, crowd: int = 0, **overrides: object) -> Settings:
    """Harvest the example federation and the hostile feed into ``folder`` (and ``crowd``
    more places around Lyon)."""
    catalog = (EXAMPLES / "sources.toml").read_text(encoding="utf-8")
    # the example catalog's paths are relative to it: make them absolute for the copy
    catalog = re.sub(
        r'^(url|mapping) = "(?!https?:)([^"]+)"',
        lambda m: f'{m.group(1)} = "{(EXAMPLES / m.group(2)).as_posix()}"',
        catalog,
        flags=re.MULTILINE,
    )
    (folder / "hostile.ttl").write_text(HOSTILE_FEED, encoding="utf-8")
    catalog += HOSTILE_SOURCE
    if crowd:
        (folder / "foule.ttl").write_text(crowd_feed(crowd), encoding="utf-8")
        catalog += CROWD_SOURCE
    (folder / "sources.toml").write_text(catalog, encoding="utf-8")
    settings = load_settings(
        overrides={
            "data_dir": folder / "data",
            "sources_file": str(folder / "sources.toml"),
            "harvest_workers": 1,
            "assets_dir": REPO / "node_modules",
            **overrides,
        },
        environ={},
    )
    harvest(settings)
    return settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return federation_settings(tmp_path_factory.mktemp("public"))


@pytest.fixture(scope="module")
def client(settings):
    return create_app(settings).test_client()


class _Page(HTMLParser):
    """The visible text of a page, its links and its result items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.hits: list[str] = []  # data-iri of the result list items
        self.hit_texts: list[list[str]] = []  # the visible text of each result item
        self._in_hit = False
        self.scripts: list[dict[str, str | None]] = []
        self.inline_handlers: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.inline_handlers += [name for name in attributes if name.startswith("on")]
        if tag == "script":
            self.scripts.append(attributes)
            self._skip += 1
        elif tag == "style":
            self._skip += 1
        elif tag == "a":
            self._href, self._link_text = attributes.get("href"), []
        elif tag == "li" and "hit" in (attributes.get("class") or "").split():
            self.hits.append(attributes.get("data-iri") or "")
            self.hit_texts.append([])
            self._in_hit = True

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag == "li":
            self._in_hit = False
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._link_text).split())))
            self._href = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._in_hit:
            self.hit_texts[-1].append(data)
        if self._href is not None:
            self._link_text.append(data)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def page(client, url: str, status: int = 200) -> _Page:
    answer = client.get(url)
    assert answer.status_code == status, answer.get_data(as_text=True)[:2000]
    assert answer.mimetype == "text/html"
    parsed = _Page()
    parsed.feed(answer.get_data(as_text=True))
    return parsed


def result_names(parsed: _Page) -> list[str]:
    return [text for href, text in parsed.links if href.startswith("/lieu?iri=")]


# -- search -----------------------------------------------------------------------------------


def test_bare_form_has_labelled_controls(client):
    parsed = page(client, "/")
    assert "Trouver les alternatives près de chez vous" in parsed.visible
    assert "Commune, code postal, ou nom" in parsed.visible
    assert parsed.hits == []


def test_search_by_commune_lists_places_nearest_first(client):
    parsed = page(client, "/?q=tours&radius=5")
    assert "à moins de 5 km de Tours (37000)" in parsed.visible
    assert "position exacte" in parsed.visible
    assert FABRIQUE in parsed.hits and SOLEIL in parsed.hits
    distances = [
        float(d.replace(",", ".")) * (1 if unit == "km" else 0.001)
        for d, unit in re.findall(r"à ([\d,]+) (km|m)\b", parsed.visible)
    ]
    assert distances and distances == sorted(distances)


def test_accents_and_case_do_not_matter(client):
    assert page(client, "/?q=JOUE-LES-TOURS").hits == page(client, "/?q=Joué-lès-Tours").hits


def test_search_by_postcode(client):
    parsed = page(client, "/?q=37000&radius=5")
    assert "Tours" in parsed.visible and "37000" in parsed.visible
    assert FABRIQUE in parsed.hits


def test_search_by_coordinates(client):
    parsed = page(client, "/?lat=47.3941&lon=0.6848&radius=2")
    assert "autour de votre position (47.3941, 0.6848)" in parsed.visible.lower()
    assert FABRIQUE in parsed.hits
    far = page(client, "/?lat=43.6&lon=3.88&radius=2")  # Montpellier: nothing from Tours
    assert FABRIQUE not in far.hits


def test_search_by_place_organisation_or_network_name(client):
    by_place = page(client, "/?q=fabrique+des+possibles")
    assert FABRIQUE in by_place.hits
    # a network's name (typed without accents) near a point: its places there, nearest first
    by_network = page(client, "/?q=energies+citoyennes+en+reseau&lat=47.3855&lon=0.6907&radius=3")
    assert "pour « energies citoyennes en reseau »" in by_network.visible
    assert by_network.hits[0] == SOLEIL
    assert FABRIQUE not in by_network.hits


def test_theme_filter_narrows_results(client):
    everything = page(client, "/?q=tours&radius=3")
    energy = page(client, "/?q=tours&radius=3&theme=energie")
    assert SOLEIL in energy.hits
    assert len(energy.hits) < len(everything.hits)
    for text in energy.hit_texts:
        themes = " ".join(text).split("Thèmes :")[1]
        assert "Énergie" in themes


def test_network_filter_keeps_only_that_network(client):
    network = "https://energie-citoyenne.example.org/reseau"
    parsed = page(client, f"/?q=tours&radius=20&network={network}")
    assert parsed.hits and SOLEIL in parsed.hits
    assert HOSTILE_PLACE not in parsed.hits
    for text in parsed.hit_texts:
        assert "Énergies Citoyennes en Réseau" in " ".join(text).split("Réseaux :")[1]


def test_open_now_filter_uses_the_place_time(client, monkeypatch):
    # Tuesday 15:00 in Tours: the Local de Soleil du Val de Loire opens 14:00–17:00
    tuesday = datetime(2026, 12, 1, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))
    monkeypatch.setattr("registry.public.now", lambda: tuesday)
    everything = page(client, "/?q=tours&radius=10")
    open_now = page(client, "/?q=tours&radius=10&open_now=1")
    assert SOLEIL in open_now.hits
    total = int(re.search(r"(\d+) lieux? à moins", everything.visible).group(1))
    open_total = int(re.search(r"(\d+) lieux? à moins", open_now.visible).group(1))
    assert 0 < open_total < total
    assert open_now.visible.count("Ouvert maintenant") == len(open_now.hits) + 1  # + the label
    sunday_night = datetime(2026, 12, 6, 3, 0, tzinfo=ZoneInfo("Europe/Paris"))
    monkeypatch.setattr("registry.public.now", lambda: sunday_night)
    assert SOLEIL not in page(client, "/?q=tours&radius=10&open_now=1").hits


def test_results_grouped_by_theme_link_to_the_filter(client):
    parsed = page(client, "/?q=tours&radius=10")
    theme_links = [(h, t) for h, t in parsed.links if "theme=" in h]
    assert theme_links, "no theme links"
    href, text = next((h, t) for h, t in theme_links if t.startswith("Énergie"))
    count = int(re.search(r"\((\d+)\)", text).group(1))
    filtered = page(client, html.unescape(href))
    assert f"{count} lieu" in filtered.visible


def test_ambiguous_commune_offers_a_choice(client):
    parsed = page(client, "/?q=saint-denis")
    assert "Plusieurs communes s’appellent « saint-denis »" in parsed.visible
    choices = [(h, t) for h, t in parsed.links if t.startswith("Saint-Denis (")]
    assert len(choices) >= 2
    assert any("974" in t for _, t in choices)  # La Réunion's
    chosen = page(client, html.unescape(choices[0][0]))
    assert "à moins de 10 km de Saint-Denis" in chosen.visible


def test_unknown_name_suggests_close_communes(client):
    parsed = page(client, "/?q=toulouze")
    assert "Aucune commune, aucun code postal ni aucun lieu ne correspond" in parsed.visible
    assert "Vouliez-vous dire" in parsed.visible
    assert any(t.startswith("Toulouse (") for _, t in parsed.links)


def test_nonsense_still_gets_a_helpful_page(client):
    parsed = page(client, "/?q=zzqxw")
    assert "Vérifiez l’orthographe" in parsed.visible or "Vouliez-vous dire" in parsed.visible


def test_bad_radius_and_coordinates_are_explained(client):
    parsed = page(client, "/?q=tours&radius=500")
    assert "Le rayon doit être compris entre 1 et 50 km" in parsed.visible
    assert parsed.hits  # searched with the default radius
    bad = page(client, "/?lat=abc&lon=2", status=400)
    assert "Coordonnées incorrectes" in bad.visible


def test_overseas_commune_is_searchable(client):
    parsed = page(client, "/?q=97400")
    assert "Saint-Denis" in parsed.visible


def test_pagination_links(client):
    parsed = page(client, "/?lat=47.39&lon=0.69&radius=50")
    total = int(re.search(r"(\d+) lieux", parsed.visible).group(1))
    assert total > 20  # the example federation has enough places near Tours to paginate
    assert len(parsed.hits) == 20
    next_link = next(h for h, t in parsed.links if t == "Page suivante")
    second = page(client, html.unescape(next_link))
    assert not set(second.hits) & set(parsed.hits)


def test_map_container_asks_the_api_the_same_search(client):
    answer = client.get("/?q=tours&radius=5&theme=energie")
    body = answer.get_data(as_text=True)
    geojson = html.unescape(re.search(r'data-geojson="([^"]+)"', body).group(1))
    assert "theme=energie" in geojson and "radius=5" in geojson
    features = client.get(geojson).get_json()["features"]
    parsed = _Page()
    parsed.feed(body)
    assert sorted(f["id"] for f in features) == sorted(parsed.hits)


def test_suggestions_json(client):
    answer = client.get("/suggestions?q=tou")
    assert answer.status_code == 200
    suggestions = answer.get_json()["suggestions"]
    assert suggestions[0]["kind"] == "commune"
    assert any(s["label"].startswith("Tours") for s in suggestions)
    names = client.get("/suggestions?q=fabrique").get_json()["suggestions"]
    assert any(s["kind"] == "lieu" and "Fabrique" in s["label"] for s in names)


# -- place page ---------------------------------------------------------------------------------


def test_place_page_shows_every_organisation_across_networks(client):
    detail = client.get("/api/place", query_string={"iri": FABRIQUE}).get_json()
    parsed = page(client, "/lieu?iri=" + FABRIQUE)
    assert detail["name"] in parsed.visible
    networks = {n["name"] for o in detail["organisations"] for n in o["networks"]}
    assert len(networks) >= 3
    for organisation in detail["organisations"]:
        assert organisation["name"] in parsed.visible
    for network in networks:
        assert network in parsed.visible
    assert "source :" in parsed.visible and "moissonnée le" in parsed.visible
    hrefs = [h for h, _ in parsed.links]
    assert any("format=turtle" in h for h in hrefs) and any("format=jsonld" in h for h in hrefs)


def test_unknown_place_is_a_404_page(client):
    parsed = page(client, "/lieu?iri=https://example.org/nulle-part", status=404)
    assert "Lieu introuvable" in parsed.visible
    assert "Lieu introuvable" in page(client, "/lieu?iri=javascript:alert(1)", status=400).visible


# -- hostile text ---------------------------------------------------------------------------------


def test_hostile_text_is_escaped_everywhere(client):
    for url in ("/lieu?iri=" + HOSTILE_PLACE, "/?q=tours&radius=5", "/widget?commune=Tours"):
        body = client.get(url).get_data(as_text=True)
        parsed = _Page()
        parsed.feed(body)
        assert "window.__pwned" not in "".join(str(s) for s in parsed.scripts)
        assert parsed.inline_handlers == []
        assert "<script>window" not in body and "<img src=x" not in body
        assert all(not h.lower().startswith("javascript:") for h, _ in parsed.links)
        assert all(not s.get("src") or s["src"].startswith("/") for s in parsed.scripts)
        assert HOSTILE_NAME in parsed.visible
    place = page(client, "/lieu?iri=" + HOSTILE_PLACE)
    assert HOSTILE_DESCRIPTION in place.visible
    assert "javascript:alert(1)" in place.visible  # shown as text, not a link
    assert "Atelier <script>window.__pwned = 'org'</script>" in place.visible


def test_distances_read_in_french():
    from registry.public import kilometres

    assert [kilometres(v) for v in (0.0042, 0.35, 0.998, 1.24, 9.96, 12.4)] == [
        "0 m",
        "350 m",
        "1,0 km",
        "1,2 km",
        "10 km",
        "12 km",
    ]


def test_link_target_allows_only_safe_schemes():
    from registry.public import email_link, link_target, telephone_link

    assert link_target("https://example.org/a") == "https://example.org/a"
    assert link_target("mailto:a@example.org") and link_target("tel:+33123456789")
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "vbscript:x"):
        assert link_target(bad) is None
    assert telephone_link("+33 2 47 00 00 00") == "tel:+33247000000"
    assert telephone_link("javascript:1") is None
    assert email_link("a@example.org") == "mailto:a@example.org"
    assert email_link('x" onclick="y@z') is None


# -- headers ----------------------------------------------------------------------------------------


def test_pages_forbid_inline_scripts_and_framing(client):
    answer = client.get("/?q=tours")
    policy = answer.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert directives["frame-ancestors"] == "'self'"
    assert "https://tile.openstreetmap.org" in directives["img-src"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"]
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert answer.headers["ETag"] and "max-age" in answer.headers["Cache-Control"]
    for url in ("/lieu?iri=" + FABRIQUE, "/api/places?q=tours"):
        assert "frame-ancestors 'self'" in client.get(url).headers["Content-Security-Policy"]


def test_widget_may_be_framed_anywhere_and_keeps_its_presets(client):
    answer = client.get("/widget?commune=Tours&radius=5&theme=energie")
    assert "frame-ancestors *" in answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in answer.headers
    parsed = _Page()
    parsed.feed(answer.get_data(as_text=True))
    assert "à moins de 5 km de Tours (37000)" in parsed.visible
    assert SOLEIL in parsed.hits and FABRIQUE not in parsed.hits
    assert "Rechercher" not in [t for _, t in parsed.links]  # no site navigation
    assert 'name="commune" value="Tours"' in answer.get_data(as_text=True)


def test_tile_host_with_subdomains_becomes_a_wildcard():
    from registry.security import tile_origin

    assert (
        tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    )
    assert tile_origin("/tiles/{z}/{x}/{y}.png") == ""


# -- vendored front-end files -----------------------------------------------------------------------


def test_vendor_serves_only_allow_listed_dist_files(client, settings):
    if not (settings.assets_dir / "leaflet" / "dist" / "leaflet.js").is_file():
        pytest.skip("front-end packages not installed: run `npm ci`")
    with client.get("/vendor/leaflet/dist/leaflet.js") as answer:
        assert answer.status_code == 200 and "immutable" in answer.headers["Cache-Control"]
        assert answer.mimetype == "text/javascript"
    with client.get("/vendor/leaflet.markercluster/dist/MarkerCluster.css") as answer:
        assert answer.status_code == 200 and answer.mimetype == "text/css"
    for bad in (
        "/vendor/axe-core/axe.min.js",
        "/vendor/leaflet/package.json",
        "/vendor/leaflet/dist/../package.json",
        "/vendor/leaflet/dist/%2e%2e/package.json",
        "/vendor/leaflet/dist/..%2f..%2fleaflet.markercluster/package.json",
        "/vendor/leaflet/dist/leaflet-src.esm.js.missing",
    ):
        with client.get(bad) as answer:
            assert answer.status_code == 404, bad
    body = client.get("/?q=tours").get_data(as_text=True)
    assert re.search(r'src="/vendor/leaflet/dist/leaflet\.js\?v=[\d.]+"', body)
