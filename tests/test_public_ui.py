"""The public lookup as a citizen meets it, in a real headless Chromium against a running
``ltc serve`` loaded with the example federation: results on the first screen of a phone,
the keyboard's way to them, no horizontal scrolling down to 320 px, the widget in its
documented 400 × 700 frame, markers in their theme's colour with a legend and linked to
the list, the home page's map of France (grouped by the server) and its weight, axe-core
on every page, and screenshots at 390 and 1280 px for people to look at
(``test-output/screenshots/ui-*.png``, not committed).

Needs Debian's ``chromium`` (``/usr/bin/chromium``), the ``playwright`` Python package and
the npm packages (``npm ci``); skipped, with the reason, when one is missing.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_public_pages import FABRIQUE, federation_settings

from core.config import Settings
from running_registry import start_registry, stop_registry

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 640}
HOME_BUDGET = 300_000  # bytes the home page may transfer, map data included (not tiles)
# a 1×1 light grey PNG: the map's tiles, served by the "member network"
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP48+fPfwAJ5APyXQ6O0AAAAABJRU5ErkJggg=="
)

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
if not (REPO / "node_modules" / "leaflet" / "dist" / "leaflet.js").is_file() or not AXE.is_file():
    pytest.skip("front-end packages missing: run `npm ci`", allow_module_level=True)

# a feed with mistakes, for the validator's report: long values that must wrap on a phone
BAD_FEED = """\
@prefix schema: <https://schema.org/> .
@prefix ltc: <https://w3id.org/ltc/ns#> .
<https://exemple.org/lieux/un-lieu-dont-l-identifiant-est-vraiment-tres-tres-long-pour-un-telephone>
    a schema:Place ;
    schema:address [ a schema:PostalAddress ; schema:postalCode "3700000000000000000000000000" ;
        schema:addressLocality "Tours" ] ;
    schema:geo [ a schema:GeoCoordinates ; schema:latitude 147.39 ; schema:longitude 0.68 ] .
<https://exemple.org/organisations/sans-nom> a schema:Organization ;
    schema:email "pas-une-adresse-electronique-mais-un-texte-sans-espace-tres-long" .
"""


class _Member(http.server.BaseHTTPRequestHandler):
    """A member network's page embedding the widget as documented (400 × 700), and tiles."""

    registry = ""

    def do_GET(self) -> None:
        if self.path.startswith("/tiles/"):
            body, kind = TILE, "image/png"
        elif self.path == "/widget.html":
            body = (
                "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
                "<title>Réseau membre</title></head><body><h1>Nos lieux</h1>"
                f"<iframe src='{self.registry}/widget?commune=Tours&radius=5' "
                "title='Lieux de la transition' width='400' height='700' "
                "allow='geolocation'></iframe></body></html>"
            ).encode()
            kind = "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Quiet(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass


@pytest.fixture(scope="module")
def member_site() -> Iterator[str]:
    server = _Quiet(("127.0.0.1", 0), _Member)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory, member_site) -> Settings:
    return federation_settings(
        tmp_path_factory.mktemp("ui"), tile_url=member_site + "/tiles/{z}/{x}/{y}.png"
    )


@pytest.fixture(scope="module")
def registry(settings, tmp_path_factory, member_site) -> Iterator[str]:
    server = start_registry(settings, tmp_path_factory.mktemp("log") / "serve.log")
    _Member.registry = server.url
    yield server.url
    stop_registry(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def bad_feed(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("feed") / "lieux-avec-erreurs.ttl"
    path.write_text(BAD_FEED, encoding="utf-8")
    return path


def _page(browser, size: dict, **options):
    context = browser.new_context(viewport=size, locale="fr-FR", device_scale_factor=1, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: (
            m.type == "error" and "Content Security Policy" in m.text and errors.append(m.text)
        ),
    )
    return context, page, errors


def _validator_report(page, registry: str, feed: Path) -> None:
    page.goto(registry + "/valider")
    page.set_input_files("#valider-fichier", str(feed))
    with page.expect_navigation():
        page.get_by_role("button", name="Valider").click()
    page.locator("#resultat-titre").wait_for()


def _first_hit_top(page) -> float:
    return page.locator("li.hit").first.bounding_box()["y"]


# -- phone first ----------------------------------------------------------------------------


def test_phone_results_start_on_the_first_screen(registry, browser):
    context, page, errors = _page(browser, PHONE)
    try:
        page.goto(registry + "/")
        page.get_by_label("Commune, code postal").fill("Tours")
        with page.expect_navigation():
            page.get_by_label("Commune, code postal").press("Enter")
        assert "de Tours (37000)" in page.locator("#resultats-titre").inner_text()
        top = _first_hit_top(page)
        assert top < PHONE["height"] - 60, f"first result at y = {top}"
        # a theme filter, from the panel: it closes once applied, the results stay on top
        page.locator("details.filters > summary").click()
        page.get_by_label("Alimentation", exact=True).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Appliquer les filtres").click()
        assert "theme=alimentation" in page.url
        assert page.locator("details.filters").get_attribute("open") is None
        assert page.locator("li.hit").count() > 0
        top = _first_hit_top(page)
        assert top < PHONE["height"] - 60, f"first filtered result at y = {top}"
        # the map is the other view of the same results
        page.get_by_role("button", name="Carte").click()
        page.wait_for_selector("#carte[data-places]", timeout=15000)
        assert page.locator("#carte").is_visible() and not page.locator("li.hit").first.is_visible()
        page.get_by_role("button", name="Liste").click()
        assert page.locator("li.hit").first.is_visible()
        assert errors == []
    finally:
        context.close()


def test_desktop_shows_list_and_map_side_by_side(registry, browser):
    context, page, errors = _page(browser, DESKTOP)
    try:
        page.goto(registry + "/?q=Tours")
        page.wait_for_selector("#carte[data-places]", timeout=15000)
        first = page.locator("li.hit").first.bounding_box()
        carte = page.locator("#carte").bounding_box()
        assert first["y"] < DESKTOP["height"] - 100
        assert carte["x"] > first["x"] + first["width"] - 1  # the map beside the list
        assert carte["y"] < DESKTOP["height"] / 2
        assert errors == []
    finally:
        context.close()


def test_keyboard_reaches_the_first_result_from_the_search_field(registry, browser):
    context, page, _ = _page(browser, PHONE)
    try:
        page.goto(registry + "/?q=Tours")
        page.locator("#q").focus()
        for _press in range(3):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "(() => { const a = document.activeElement;"
                " return {href: a.getAttribute('href') || '', hit: !!a.closest('li.hit'),"
                " text: a.textContent.trim()}; })()"
            )
            if focused["hit"] or focused["href"] == "#resultats":
                break
        else:
            pytest.fail("neither the first result nor a link to it within 3 Tab presses")
        if not focused["hit"]:
            assert focused["text"].startswith("Aller aux résultats")
            assert page.locator("a.aller-resultats").is_visible()  # shown when focused
            page.keyboard.press("Enter")
            page.keyboard.press("Tab")
            first = page.locator("li.hit h3 a").first
            assert first.evaluate("a => a === document.activeElement")
    finally:
        context.close()


# -- every page fits a 320 px screen ----------------------------------------------------------

PAGES = {
    "home": "/",
    "results": "/?q=Tours&radius=5",
    "place": "/lieu?iri=" + FABRIQUE,
    "widget": "/widget?commune=Tours&radius=5&theme=energie",
    "convergences": "/convergences",
    "sources": "/sources",
    "source": "/sources/amap-centre",
}


@pytest.mark.parametrize("path", list(PAGES.values()), ids=list(PAGES))
def test_no_horizontal_scrolling_at_320_px(registry, browser, path):
    context, page, _ = _page(browser, NARROW)
    try:
        page.goto(registry + path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], f"{path}: {width} px wide"
    finally:
        context.close()


def test_validator_report_fits_320_px(registry, browser, bad_feed):
    context, page, _ = _page(browser, NARROW)
    try:
        _validator_report(page, registry, bad_feed)
        assert page.locator(".valider-fiche, .tableur-constat").count() > 0
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], f"/valider report: {width} px wide"
    finally:
        context.close()


# -- the widget in its documented frame ----------------------------------------------------------


def test_widget_shows_three_results_inside_its_400_by_700_frame(registry, member_site, browser):
    context, page, errors = _page(browser, DESKTOP)
    try:
        page.goto(member_site + "/widget.html")
        frame = page.frame_locator("iframe")
        frame.locator("li.hit").first.wait_for()
        inside = frame.locator("body").evaluate(
            "() => Array.from(document.querySelectorAll('li.hit'))"
            ".filter(li => li.getBoundingClientRect().bottom <= window.innerHeight).length"
        )
        assert inside >= 3, f"{inside} results inside the frame"
        assert "autour de Tours" in frame.locator("body").evaluate("() => document.title")
        assert errors == []
    finally:
        context.close()


# -- themes as colours and icons -------------------------------------------------------------------


def test_markers_carry_theme_colours_a_legend_shows_them_and_cards_light_markers(registry, browser):
    context, page, errors = _page(browser, DESKTOP)
    try:
        page.goto(registry + "/?q=Tours&radius=2")
        page.wait_for_selector("#carte[data-places]", timeout=15000)
        page.wait_for_timeout(500)  # markercluster adds markers in chunks
        legend = page.locator("nav.facets")
        assert legend.is_visible()
        colours = {
            item.get_attribute("data-theme"): item.locator(".pastille").evaluate(
                "p => getComputedStyle(p).backgroundColor"
            )
            for item in legend.locator("li[data-theme]").all()
        }
        assert len(colours) >= 3 and len(set(colours.values())) == len(colours)
        markers = page.locator(".leaflet-marker-icon.marqueur[data-theme]")
        assert markers.count() > 0
        for marker in markers.all()[:10]:
            theme = marker.get_attribute("data-theme")
            body = marker.locator(".marqueur-corps")
            colour = body.evaluate("b => getComputedStyle(b).backgroundColor")
            if theme in colours:
                assert colour == colours[theme], theme
            assert body.locator("svg.icone use").count() == 1  # the theme's icon
        groups = page.locator(".marker-cluster.grappe .grappe-corps")
        if groups.count():
            assert "gradient" in groups.first.evaluate("g => g.style.background") or (
                groups.first.evaluate("g => g.style.background").startswith("rgb")
            )
        # focusing a card lights its marker (or the group holding it), and back
        iri = markers.first.get_attribute("data-iri")
        card = page.locator(f'li.hit[data-iri="{iri}"]')
        if card.count() == 0:  # that marker's place is on another page of the list
            iri = page.locator("li.hit").first.get_attribute("data-iri")
            card = page.locator(f'li.hit[data-iri="{iri}"]')
        card.locator("h3 a").focus()
        lit = page.locator(f'.leaflet-marker-icon.actif[data-iri="{iri}"], .marker-cluster.actif')
        assert lit.count() == 1
        card.locator("h3 a").blur()
        assert page.locator(".leaflet-marker-icon.actif").count() == 0
        marker = page.locator(f'.leaflet-marker-icon[data-iri="{iri}"]')
        if marker.count():
            marker.hover()
            assert "actif" in (card.get_attribute("class") or "")
        assert errors == []
    finally:
        context.close()


def test_place_page_has_a_small_map_and_an_itinerary(registry, browser):
    context, page, errors = _page(browser, PHONE)
    try:
        page.goto(registry + "/lieu?iri=" + FABRIQUE)
        page.locator("#carte-lieu .marqueur").wait_for()
        assert page.get_by_role("link", name=re.compile("^Itinéraire")).is_visible()
        assert page.locator(".badge-convergence").inner_text().strip() == (
            "Lieu de Convergence candidat"
        )
        assert page.locator(".lieu-tete .pastille").count() >= 1
        assert errors == []
    finally:
        context.close()


# -- the home page: the map of France ------------------------------------------------------------


def test_home_page_map_of_france_is_light(registry, browser):
    context, page, errors = _page(browser, DESKTOP)
    sizes: dict[str, int] = {}

    def count(response) -> None:
        if response.url.startswith(registry):
            with contextlib.suppress(Exception):  # a redirect or an aborted request: no body
                sizes[response.url] = len(response.body())

    page.on("response", count)
    try:
        page.goto(registry + "/")
        page.wait_for_selector("#carte-france[data-groups]", timeout=15000)
        page.wait_for_load_state("networkidle")
        assert page.locator(".grappe").count() > 0  # places grouped by the server
        assert page.locator(".grappe-etoile").count() > 0  # the Lieux de Convergence
        assert page.locator(".legende-accueil").is_visible()
        assert page.locator(".convergence-phrase").is_visible()
        assert any("/carte.json?" in url for url in sizes)
        assert not any("markercluster" in url for url in sizes)
        total = sum(sizes.values())
        assert total < HOME_BUDGET, f"{total} bytes: {sorted(sizes.items(), key=lambda i: -i[1])}"
        # a group zooms in on a click (and the server groups the closer view)
        zoom = int(page.get_attribute("#carte-france", "data-zoom"))
        page.locator(".grappe").first.click()
        for _ in range(50):
            page.wait_for_timeout(200)
            if int(page.get_attribute("#carte-france", "data-zoom")) > zoom:
                break
        else:
            pytest.fail("clicking a group did not zoom in")
        assert errors == []
    finally:
        context.close()


# -- accessibility and screenshots ------------------------------------------------------------------


def _axe_violations(page) -> list[dict]:
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("path", list(PAGES.values()), ids=list(PAGES))
def test_no_serious_accessibility_violation(registry, browser, path, size):
    # axe is injected as an inline script, which the registry's CSP rightly forbids
    context, page, _ = _page(browser, size, bypass_csp=True)
    try:
        page.goto(registry + path)
        assert _axe_violations(page) == []
    finally:
        context.close()


def test_validator_report_has_no_serious_accessibility_violation(registry, browser, bad_feed):
    context, page, _ = _page(browser, PHONE, bypass_csp=True)
    try:
        _validator_report(page, registry, bad_feed)
        assert _axe_violations(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["390", "1280"])
def test_screenshots(registry, member_site, browser, bad_feed, size):
    """Pictures of every public page for people to review (not an assertion on looks)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = size["width"]
    context, page, _ = _page(browser, size)
    try:
        for name, path in {**PAGES, "filtered": "/?q=Tours&theme=alimentation"}.items():
            page.goto(registry + path)
            if name in ("home", "results", "filtered", "place"):
                selector = {"home": "#carte-france[data-groups]", "place": "#carte-lieu .marqueur"}
                if name in selector:
                    page.wait_for_selector(selector[name], timeout=15000)
                elif width > 1000:
                    page.wait_for_selector("#carte[data-places]", timeout=15000)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=SCREENSHOTS / f"ui-{name}-{width}.png")
            page.screenshot(path=SCREENSHOTS / f"ui-{name}-{width}-full.png", full_page=True)
        if width < 1000:
            page.goto(registry + "/?q=Tours")
            page.get_by_role("button", name="Carte").click()
            page.wait_for_selector("#carte[data-places]", timeout=15000)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=SCREENSHOTS / f"ui-results-map-{width}.png")
        _validator_report(page, registry, bad_feed)
        page.screenshot(path=SCREENSHOTS / f"ui-valider-{width}-full.png", full_page=True)
        page.goto(member_site + "/widget.html")
        page.frame_locator("iframe").locator("li.hit").first.wait_for()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / f"ui-widget-frame-{width}.png")
    finally:
        context.close()
    assert (SCREENSHOTS / f"ui-home-{width}.png").stat().st_size > 5000
