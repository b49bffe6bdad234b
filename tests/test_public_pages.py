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
from urllib.parse import urlencode
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
    assert "Trouvez les lieux de la transition près de chez vous" in parsed.visible
    assert "Commune, code postal, ou nom" in parsed.visible
    assert parsed.hits == []


def test_search_by_commune_lists_places_nearest_first(client):
    answer = client.get("/?q=tours&radius=5")
    assert 'id="resultats-titre" data-precision="exacte"' in answer.get_data(as_text=True)
    parsed = page(client, "/?q=tours&radius=5")
    assert "à moins de 5 km de Tours (37000)" in parsed.visible
    assert "Position approximative" not in parsed.visible
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
    # « Autour de moi »: « autour de vous », naming the commune of the position
    assert "à moins de 2 km autour de vous, près de Tours (37000)" in parsed.visible
    assert "47.3941" not in parsed.visible.replace('value="47.3941"', "")
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
    assert all("Ouvert maintenant" in " ".join(text) for text in open_now.hit_texts)
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


# -- a service for citizens (the public lookup's design) -------------------------------------


def _between(body: str, start: str, end: str) -> str:
    return body.split(start, 1)[1].split(end, 1)[0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Orléans", "à moins de 10 km d'Orléans (45000)"),
        ("Le Mans", "à moins de 10 km du Mans (72000)"),
        ("Les Sables-d'Olonne", "à moins de 10 km des Sables-d'Olonne (85100)"),
        ("La Rochelle 17", "à moins de 10 km de La Rochelle (17000)"),
        ("Amboise", "à moins de 10 km d'Amboise (37400)"),
        ("Hendaye", "à moins de 10 km de Hendaye (64700)"),
    ],
)
def test_commune_names_take_french_grammar(client, query, expected):
    assert expected in page(client, "/?" + urlencode({"q": query})).visible


def test_widget_title_takes_french_grammar(client):
    body = client.get("/widget?commune=Orl%C3%A9ans").get_data(as_text=True)
    assert "<title>Lieux de la transition autour d'Orléans (45000)" in html.unescape(body)


def test_misspelt_commune_is_offered_even_when_names_match(client):
    parsed = page(client, "/?q=Strasbour")
    assert parsed.hits, "places named « Strasbourg… » are listed"
    assert "Vouliez-vous dire la commune Strasbourg (67000) ?" in parsed.visible
    typo = page(client, "/?q=Toures")
    offered = [t for h, t in typo.links if "q=" in h and re.match(r".+ \(\d{5}\)$", t)]
    assert offered[0] == "Tours (37000)"


def test_header_is_for_citizens_and_the_footer_for_networks(client):
    body = client.get("/?q=tours").get_data(as_text=True)
    header = _between(body, '<header class="site">', "</header>")
    assert re.findall(r'href="([^"]+)"', header) == ["/", "/", "/convergences"]
    footer = _between(body, '<footer class="site">', "</footer>")
    assert "Pour les réseaux et les développeurs" in footer
    for path in ("/publier", "/valider", "/sources", "/api", "/sparql"):
        assert f'href="{path}"' in footer


def test_results_carry_theme_colours_icons_and_a_legend(client):
    body = client.get("/?q=tours&radius=5").get_data(as_text=True)
    parsed = _Page()
    parsed.feed(body)
    cards = re.findall(
        r'<li class="hit t-([a-z-]+)[^"]*" data-iri="([^"]+)" data-theme="([a-z-]+)"', body
    )
    assert len(cards) == len(parsed.hits)
    assert all(colour == theme for colour, _, theme in cards)
    assert re.search(r'<use href="/vendor/icones\.svg\?v=[\d.]+#i-[a-z0-9-]+">', body)
    legend = _between(body, '<nav class="facets"', "</nav>")
    assert 'class="pastille t-' in legend
    assert "data-themes='" in body  # the map's colours, from the same table


def test_every_theme_has_a_colour_and_an_icon_in_the_stylesheet_and_the_sprite(client):
    from registry.map_view import THEME_STYLES
    from registry.vocabularies import in_scheme

    themes = {c.iri.rsplit("/", 1)[1] for c in in_scheme("theme")}
    assert themes == set(THEME_STYLES)
    css = (REPO / "registry" / "static" / "public.css").read_text(encoding="utf-8")
    for theme, look in THEME_STYLES.items():
        assert f".t-{theme} {{ --c: {look.colour}; }}" in css
    with client.get("/vendor/icones.svg?v=x") as answer:
        assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
        assert "immutable" in answer.headers["Cache-Control"]
        sprite = answer.get_data(as_text=True)
    for look in THEME_STYLES.values():
        assert f'<symbol id="i-{look.icon}"' in sprite
    assert "<script" not in sprite and "MIT" in sprite


def test_home_page_opens_on_the_map_of_france(client):
    body = client.get("/").get_data(as_text=True)
    assert 'id="carte-france"' in body and 'data-clusters="/carte.json"' in body
    assert "Lieux de Convergence" in _between(body, 'class="convergence-phrase"', "</p>")
    assert "markercluster" not in body  # the server groups the places
    assert len(body) < 40_000


def test_map_data_groups_places_on_the_server(client):
    national = client.get("/carte.json?zoom=5&bbox=-90,-180,90,180").get_json()
    assert national["themes"][-1] == "autre" and "energie" in national["themes"]
    shown = sum(g[2] for g in national["groups"]) + len(national["places"])
    everything = client.get("/api/places?per_page=1").get_json()["total"]
    assert shown == everything  # every physical place once, as the searches count them
    assert len(national["groups"]) < 60
    assert any(g[4] > 0 for g in national["groups"])  # Lieux de Convergence marked
    close = client.get("/carte.json?zoom=18&bbox=47.37,0.66,47.41,0.72").get_json()
    places = {p[4]: p for p in close["places"]}
    assert SOLEIL in places and close["themes"][places[SOLEIL][2]] == "energie"
    fabrique = [p for p in close["places"] if p[5] == "La Fabrique des Possibles"]
    assert len(fabrique) == 1 and fabrique[0][3] == 1  # one marker, a Lieu de Convergence
    assert client.get("/carte.json?zoom=x&bbox=a,b,c,d").status_code == 200


def test_place_page_speaks_to_citizens(client):
    body = client.get("/lieu?iri=" + FABRIQUE).get_data(as_text=True)
    parsed = _Page()
    parsed.feed(body)
    text = parsed.visible
    itinerary = next(h for h, t in parsed.links if t.startswith("Itinéraire"))
    assert html.unescape(itinerary).startswith("https://www.openstreetmap.org/directions?route=")
    assert 'id="carte-lieu"' in body
    assert "Lieu de Convergence candidat" in text
    assert re.search(r"(Ouvert en ce moment|Fermé en ce moment|Horaires non publiés)", text)
    assert "(UTC)" not in text and "UTC" not in text
    assert re.search(r"moissonnée le \d{1,2}(er)? [a-zéû]+ \d{4} à \d{1,2} h \d{2}", text)
    phones = re.findall(r"\+33[\d ]+|0\d(?: \d\d){4}", text)
    assert phones and all(p.startswith("0") for p in phones)
    provenance = _between(text, "D’où viennent ces informations", "Sources")
    assert provenance.count("Thèmes") == 1
    reuse = text.split("Réutiliser ces données", 1)[1]
    for name in ("Turtle", "JSON-LD", "JSON (API du registre)"):
        assert name in reuse
    assert text.index("Réutiliser ces données") > text.index("D’où viennent ces informations")
    assert "Données du lieu en Turtle" not in text


def test_search_pages_can_be_shared(client):
    body = html.unescape(client.get("/?q=tours&radius=5&theme=energie").get_data(as_text=True))
    assert re.search(r'<link rel="canonical" href="http://localhost/\?[^"]*q=tours', body)
    description = re.search(r'<meta property="og:description" content="([^"]+)"', body).group(1)
    assert re.match(r"\d+ lieux? de la transition à moins de 5 km de Tours \(37000\)", description)
    title = re.search(r'<meta property="og:title" content="([^"]+)"', body).group(1)
    assert "autour de Tours (37000)" in title


def test_filters_wait_in_a_closed_panel(client):
    body = client.get("/?q=tours&radius=5&theme=energie&theme=alimentation").get_data(as_text=True)
    assert '<details class="filters">' in body  # closed once applied
    chips = _between(body, '<ul class="puces"', "</ul>")
    assert chips.count("<li>") == 2 and "retirer ce filtre" in chips
    parsed = _Page()
    parsed.feed(body)
    removal = next(h for h, t in parsed.links if t.startswith("Énergie"))
    assert "theme=alimentation" in html.unescape(removal)
    assert "theme=energie" not in html.unescape(removal)


def test_phone_numbers_read_in_one_french_format():
    from registry.public import telephone_link, telephone_text

    cases = {
        "+33247051234": "02 47 05 12 34",
        "02.47.05.12.34": "02 47 05 12 34",
        "0247051234": "02 47 05 12 34",
        "+33 6 12 34 56 78": "06 12 34 56 78",
        "+32 2 123 45 67": "+32 2 123 45 67",
        "n/a": "n/a",
    }
    assert {number: telephone_text(number) for number in cases} == cases
    assert telephone_link("02.47.05.12.34") == "tel:+33247051234"


def test_dates_read_in_french_local_time():
    from registry.public import harvest_date

    assert harvest_date("2026-11-29T04:00:00+00:00") == "29 novembre 2026 à 5 h 00"
    assert harvest_date("2026-07-01T04:05:00Z") == "1er juillet 2026 à 6 h 05"  # summer time
    assert harvest_date("2026-03-05") == "5 mars 2026"
    assert harvest_date("pas une date") == "pas une date"
