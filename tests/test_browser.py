"""The public pages in a real headless Chromium against a running ``ltc serve`` loaded with
the example federation and a hostile feed: search by commune, postcode and position,
filters, the map against the list, the place page, the widget inside another origin's
iframe, hostile text, JavaScript disabled, axe-core, and screenshots for people to look at
(``test-output/screenshots/``, not committed).

Needs Debian's ``chromium`` (``/usr/bin/chromium``), the ``playwright`` Python package and
the npm packages (``npm ci``); skipped, with the reason, when one is missing.
"""

from __future__ import annotations

import base64
import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from test_public_pages import FABRIQUE, HOSTILE_PLACE, SOLEIL, federation_settings

from core.config import Settings
from running_registry import start_registry, stop_registry

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TOURS = {"latitude": 47.3941, "longitude": 0.6848}
CROWD = 2000  # places around Lyon: the list and the map must stay fluid
# a 1×1 light grey PNG: the map's tiles, served by the "other website"
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP48+fPfwAJ5APyXQ6O0AAAAABJRU5ErkJggg=="
)

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
if not (REPO / "node_modules" / "leaflet" / "dist" / "leaflet.js").is_file() or not AXE.is_file():
    pytest.skip("front-end packages missing: run `npm ci`", allow_module_level=True)


class _OtherSite(http.server.BaseHTTPRequestHandler):
    """Another origin: a member network's page embedding the widget, and map tiles."""

    registry = ""

    def do_GET(self) -> None:
        if self.path.startswith("/tiles/"):
            body, kind = TILE, "image/png"
        elif self.path.startswith("/embed"):
            target = "/widget?commune=Tours&radius=5&theme=energie"
            if self.path == "/embed-home.html":
                target = "/?q=Tours"
            body = (
                "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
                "<title>Réseau membre</title></head><body><h1>Notre carte</h1>"
                f"<iframe src='{self.registry}{target}' title='Lieux de la transition' "
                "width='380' height='700'></iframe></body></html>"
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


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a page leaving before its tiles arrived: nothing to report


@pytest.fixture(scope="module")
def other_site() -> Iterator[str]:
    server = _QuietServer(("127.0.0.1", 0), _OtherSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def settings(tmp_path_factory, other_site) -> Settings:
    return federation_settings(
        tmp_path_factory.mktemp("browser"),
        crowd=CROWD,
        tile_url=other_site + "/tiles/{z}/{x}/{y}.png",
    )


@pytest.fixture(scope="module")
def registry(settings, tmp_path_factory) -> Iterator[str]:
    """``ltc serve`` in a subprocess, as in production."""
    server = start_registry(settings, tmp_path_factory.mktemp("log") / "serve.log")
    _OtherSite.registry = server.url
    yield server.url
    stop_registry(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


class Watched:
    """A page, with what went wrong in it: dialogs, CSP violations, script errors."""

    def __init__(self, page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def assert_clean(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.page_errors == [], self.page_errors
        assert not [e for e in self.console_errors if "Content Security Policy" in e], (
            self.console_errors
        )
        assert self.page.evaluate("typeof window.__pwned") == "undefined"


@pytest.fixture
def context(browser):
    made = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    yield made
    made.close()


@pytest.fixture
def watched(context) -> Watched:
    return Watched(context.new_page())


def _hits(page) -> list[str]:
    return page.locator("li.hit").evaluate_all("items => items.map(i => i.dataset.iri)")


def _total(page) -> int:
    return int(re.match(r"(\d+)", page.locator("#resultats-titre").inner_text()).group(1))


def _wait_for_map(page) -> int:
    page.wait_for_selector("#carte[data-places]", timeout=15000)
    return int(page.get_attribute("#carte", "data-places"))


def _axe(browser, url: str) -> list[dict]:
    """Serious and critical violations axe-core finds in the page (after its scripts ran)."""
    # axe is injected as an inline script, which the registry's CSP rightly forbids
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
    finally:
        context.close()
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


# -- search -----------------------------------------------------------------------------------


def test_search_by_commune_with_suggestions(registry, watched):
    page = watched.page
    page.goto(registry + "/")
    page.get_by_label("Commune, code postal").fill("tours")
    option = page.get_by_role("option", name=re.compile(r"^Tours \(37000\)"))
    option.wait_for()
    assert (
        page.get_by_role("combobox", name=re.compile("^Commune")).get_attribute("aria-expanded")
        == "true"
    )
    page.keyboard.press("ArrowDown")
    assert page.get_by_role("option").first.get_attribute("aria-selected") == "true"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Tours (37000)" in page.locator("#resultats-titre").inner_text()
    assert FABRIQUE in _hits(page)
    assert _wait_for_map(page) == _total(page)
    watched.assert_clean()


def test_search_by_postcode(registry, watched):
    page = watched.page
    page.goto(registry + "/")
    page.get_by_label("Commune, code postal").fill("37000")
    page.locator("details.filters > summary").click()
    page.get_by_label("Rayon").select_option("5")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_selector("#resultats-titre")
    assert "à moins de 5 km de Tours (37000)" in page.locator("#resultats-titre").inner_text()
    assert FABRIQUE in _hits(page)
    watched.assert_clean()


def test_search_around_me(registry, browser):
    context = browser.new_context(
        viewport=PHONE, geolocation=TOURS, permissions=["geolocation"], locale="fr-FR"
    )
    try:
        watched = Watched(context.new_page())
        page = watched.page
        page.goto(registry + "/")
        button = page.get_by_role("button", name="Autour de moi")
        assert button.is_visible()
        with page.expect_navigation():
            button.click()
        assert "lat=47.39410" in page.url and "lon=0.68480" in page.url
        title = page.locator("#resultats-titre").inner_text()
        assert "autour de vous, près de Tours (37000)" in title
        hits = _hits(page)
        assert hits[0] == HOSTILE_PLACE or FABRIQUE in hits[:3]
        watched.assert_clean()
    finally:
        context.close()


def test_filters_change_the_results(registry, watched):
    page = watched.page
    page.goto(registry + "/?q=Tours&radius=3")
    everything = _total(page)
    page.locator("details.filters > summary").click()
    page.get_by_label("Énergie", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()
    energy = _total(page)
    assert 0 < energy < everything
    assert SOLEIL in _hits(page)
    for item in page.locator("li.hit").all():
        assert "Énergie" in item.inner_text()
    assert page.get_by_label("Énergie", exact=True).is_checked()
    assert page.locator("details.filters").get_attribute("open") is None  # closed once applied
    page.locator("details.filters > summary").click()
    page.get_by_label("Énergie", exact=True).uncheck()
    page.get_by_label("Énergies Citoyennes en Réseau").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()
    for item in page.locator("li.hit").all():
        assert "Énergies Citoyennes en Réseau" in item.inner_text()
    watched.assert_clean()


def test_map_shows_the_same_places_as_the_list(registry, watched):
    page = watched.page
    page.goto(registry + "/?q=Tours&radius=3&theme=energie")
    listed = set(page.locator("li.hit h3").all_inner_texts())
    assert len(listed) == _total(page), "the test expects one page of results"
    assert _wait_for_map(page) == len(listed)
    page.wait_for_selector(".leaflet-marker-icon")
    page.wait_for_timeout(500)  # markercluster adds markers in chunks
    markers = set(
        page.locator(".leaflet-marker-icon:not(.marker-cluster)").evaluate_all(
            "icons => icons.map(i => i.title)"
        )
    )
    clustered = sum(
        int(text) for text in page.locator(".marker-cluster span").all_inner_texts() if text.strip()
    )
    assert markers <= listed
    assert len(markers) + clustered == len(listed)
    # a marker opens a popup linking to the place page
    first = page.locator(".leaflet-marker-icon:not(.marker-cluster)").first
    name = first.get_attribute("title")
    first.click()
    page.locator(".leaflet-popup").wait_for()
    link = page.locator(".leaflet-popup-content a")
    assert link.inner_text() == name
    with page.expect_navigation():
        link.click()
    assert page.locator("h1").inner_text() == name
    watched.assert_clean()


def test_two_thousand_results_stay_fluid(registry, watched):
    page = watched.page
    started = time.monotonic()
    answer = page.goto(registry + "/?q=Lyon&radius=50")
    assert len(answer.body()) < 200_000  # one page of the list, not every result
    assert _total(page) >= CROWD
    assert page.locator("li.hit").count() == 20
    assert _wait_for_map(page) == _total(page)
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"{elapsed:.1f} s to show {CROWD} places"
    # clustered: a few hundred icons at most on screen, not thousands of markers
    assert page.locator(".marker-cluster").count() > 0
    assert page.locator(".leaflet-marker-icon").count() < CROWD / 4
    page.get_by_role("button", name="Zoom in").click()  # the map still answers
    page.locator(".leaflet-marker-icon").first.wait_for()
    watched.assert_clean()


# -- place page -----------------------------------------------------------------------------------


def test_place_page_shows_every_organisation_across_networks(registry, watched):
    detail = requests.get(registry + "/api/place", params={"iri": FABRIQUE}, timeout=10).json()
    page = watched.page
    page.goto(registry + "/?q=fabrique+des+possibles")
    with page.expect_navigation():
        page.get_by_role("link", name=detail["name"]).first.click()
    assert page.locator("h1").inner_text() == detail["name"]
    organisations = page.locator("li.organisation")
    assert organisations.count() == len(detail["organisations"])
    shown = organisations.all_inner_texts()
    networks = set()
    for organisation in detail["organisations"]:
        block = next(text for text in shown if organisation["name"] in text)
        for network in organisation["networks"]:
            assert network["name"] in block
            networks.add(network["name"])
        assert "source :" in block
    assert len(networks) >= 3
    assert page.get_by_role("link", name="Turtle (RDF)").is_visible()
    assert page.get_by_role("link", name=re.compile("^Itinéraire")).is_visible()
    watched.assert_clean()


# -- widget ---------------------------------------------------------------------------------------


def test_widget_works_inside_another_origins_iframe(registry, other_site, watched):
    page = watched.page
    page.goto(other_site + "/embed.html")
    frame = page.frame_locator("iframe")
    frame.locator("#resultats-titre").wait_for()
    assert "à moins de 5 km de Tours (37000)" in frame.locator("#resultats-titre").inner_text()
    assert frame.locator(f'li.hit[data-iri="{SOLEIL}"]').count() == 1
    # a narrow frame shows the list first; the map is the other view
    frame.get_by_role("button", name="Carte").click()
    frame.locator("#carte[data-places]").wait_for(timeout=15000)
    frame.get_by_role("button", name="Liste").click()
    # searching again from inside the iframe
    frame.locator("details.filters > summary").click()
    frame.get_by_label("Rayon").select_option("20")
    frame.get_by_role("button", name="Rechercher").click()
    frame.locator("#resultats-titre", has_text="20 km").wait_for()
    watched.assert_clean()


def test_other_pages_refuse_to_be_framed(registry, other_site, context):
    page = context.new_page()
    page.goto(other_site + "/embed-home.html")
    page.wait_for_timeout(1000)
    inner = next(f for f in page.frames if f != page.main_frame)
    assert inner.locator("#q").count() == 0  # blocked by frame-ancestors 'self'


# -- hostile text -----------------------------------------------------------------------------------


def test_hostile_text_stays_inert(registry, watched):
    page = watched.page
    page.goto(registry + "/?lat=47.3941&lon=0.6848&radius=1")
    assert page.locator(f'li.hit[data-iri="{HOSTILE_PLACE}"]').count() == 1
    name = "Lieu <script>window.__pwned = 1</script> piégé"
    assert page.get_by_role("link", name=name).is_visible()
    _wait_for_map(page)
    page.get_by_label("Commune, code postal").fill("Lieu <script")  # suggestions, as text
    page.get_by_role("option", name=re.compile("Lieu <script>")).first.wait_for()
    watched.assert_clean()
    with page.expect_navigation():
        page.get_by_role("link", name=name).click()
    main = page.inner_text("main")
    assert name in page.locator("h1").inner_text()
    assert 'Bienvenue <img src=x onerror="window.__pwned = 2">' in main
    assert "javascript:alert(1)" in main
    assert "Atelier <script>window.__pwned = 'org'</script>" in main
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    assert not [h for h in hrefs if h.lower().startswith("javascript:")]
    # the registry's own icons and map tiles only: no image, SVG or script from the feed
    assert (
        page.locator("main img:not(.leaflet-tile), main svg:not(.icone), main script").count() == 0
    )
    watched.assert_clean()


# -- without JavaScript --------------------------------------------------------------------------------


def test_everything_works_without_javascript(registry, browser):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(registry + "/")
        assert not page.get_by_role("button", name="Autour de moi").is_visible()
        page.get_by_label("Commune, code postal").fill("Joué-lès-Tours")
        with page.expect_navigation():
            page.get_by_label("Commune, code postal").press("Enter")
        assert "Joué-lès-Tours" in page.locator("#resultats-titre").inner_text()
        assert len(_hits(page)) > 0
        assert not page.locator("#carte").is_visible()  # the list stands alone
        page.locator("details.filters > summary").click()
        page.get_by_text("Chercher autour de coordonnées").click()
        page.get_by_label("Commune, code postal").fill("")
        page.get_by_label("Latitude").fill("47.3941")
        page.get_by_label("Longitude").fill("0.6848")
        with page.expect_navigation():
            page.get_by_role("button", name="Rechercher").click()
        assert FABRIQUE in _hits(page)
        with page.expect_navigation():
            page.locator(f'li.hit[data-iri="{FABRIQUE}"] a').click()
        assert page.locator("li.organisation").count() >= 3
        page.goto(registry + "/?q=toulouze")
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile(r"^Toulouse \(")).click()
        assert "Toulouse" in page.locator("#resultats-titre").inner_text()
    finally:
        context.close()


# -- accessibility and screenshots ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/?q=Tours&radius=5", "/lieu?iri=" + FABRIQUE, "/widget?commune=Tours&theme=energie"],
    ids=["search", "results", "place", "widget"],
)
def test_no_serious_accessibility_violation(registry, browser, path):
    assert _axe(browser, registry + path) == []


def test_keyboard_reaches_the_search_and_focus_is_visible(registry, watched):
    page = watched.page
    page.goto(registry + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    else:
        pytest.fail("the search field cannot be reached with the keyboard")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots(registry, browser, size):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=size, locale="fr-FR", device_scale_factor=1)
    name = "phone" if size is PHONE else "desktop"
    try:
        page = context.new_page()
        page.goto(registry + "/")
        page.screenshot(path=SCREENSHOTS / f"search-{name}.png", full_page=True)
        page.goto(registry + "/?q=Tours&radius=5")
        if size is DESKTOP:  # a phone shows the list first, the map on demand
            _wait_for_map(page)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / f"results-{name}.png", full_page=True)
        page.goto(registry + "/lieu?iri=" + FABRIQUE)
        page.screenshot(path=SCREENSHOTS / f"place-{name}.png", full_page=True)
    finally:
        context.close()
    for kind in ("search", "results", "place"):
        assert (SCREENSHOTS / f"{kind}-{name}.png").stat().st_size > 5000
