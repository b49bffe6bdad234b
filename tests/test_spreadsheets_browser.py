"""/valider and /publier on a 320 px wide phone, in Debian's Chromium: a volunteer uploads
an XLSX and reads its report, row by row, without scrolling sideways; the record report of
an RDF feed and the publishing page fit too. Screenshots go to test-output/screenshots/.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` package; skipped,
with the reason, when one is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_geocoding import CATALOG, RDF_FEED
from test_spreadsheets import write_xlsx

from conftest import EXAMPLES
from core.config import Settings, load_settings
from ltc.pipeline import harvest
from running_registry import start_registry, stop_registry

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "test-output" / "screenshots"
PHONE = {"width": 320, "height": 640}

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    folder = tmp_path_factory.mktemp("tableur-navigateur")
    (folder / "lieux.xlsx").write_bytes(write_xlsx())
    (folder / "lieux.ttl").write_text(RDF_FEED, encoding="utf-8")
    (folder / "sources.toml").write_text(CATALOG, encoding="utf-8")
    settings = load_settings(
        overrides={
            "data_dir": folder / "data",
            "sources_file": str(folder / "sources.toml"),
            "harvest_workers": 1,
            "assets_dir": REPO / "node_modules",
        },
        environ={},
    )
    harvest(settings)
    return settings


@pytest.fixture(scope="module")
def registry(settings, tmp_path_factory) -> Iterator[str]:
    server = start_registry(settings, tmp_path_factory.mktemp("log") / "serve.log")
    yield server.url
    stop_registry(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="fr-FR", device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def _no_sideways_scrolling(page) -> None:
    widths = page.evaluate(
        "() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,"
        " view: window.innerWidth})"
    )
    assert widths["view"] == PHONE["width"]
    assert widths["doc"] <= widths["view"] and widths["body"] <= widths["view"], widths
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
              .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
              .map(e => e.tagName + '.' + e.className).slice(0, 5)"""
    )
    assert wide == [], wide


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_an_xlsx_uploaded_on_a_phone_gives_a_report_by_row_that_fits(registry, phone, tmp_path):
    path = tmp_path / "lieux-du-reseau.xlsx"
    path.write_bytes(write_xlsx())
    phone.goto(registry + "/valider")
    _no_sideways_scrolling(phone)
    phone.set_input_files("#valider-fichier", str(path))
    phone.get_by_role("button", name="Valider").click()
    phone.wait_for_selector(".tableur-constats", timeout=30000)
    report = phone.locator(".valider-resultat").inner_text()
    assert "Lu comme XLSX, feuille « Lieux »" in report
    assert "ligne 15, colonne id (A)" in report
    assert "ligne 2, colonne code_postal (F)" in report
    rows = phone.locator(".tableur-constat .tableur-ou strong").all_inner_texts()
    firsts = [int(text.split()[1].split(",")[0].split("-")[0]) for text in rows]
    assert firsts == sorted(firsts)
    link = phone.get_by_role("link", name="Télécharger le flux JSON-LD produit")
    assert link.get_attribute("download") == "lieux-du-reseau.jsonld"
    assert link.get_attribute("href").startswith("data:application/ld+json")
    _no_sideways_scrolling(phone)
    _shot(phone, "valider-tableur-320.png")


def test_the_record_report_of_a_feed_fits_a_phone_too(registry, phone):
    phone.goto(registry + "/valider")
    phone.set_input_files("#valider-fichier", str(EXAMPLES / "feeds" / "energie-citoyenne.ttl"))
    phone.get_by_role("button", name="Valider").click()
    phone.wait_for_selector(".valider-rapport", timeout=30000)
    assert "REJETÉE" in phone.locator(".valider-rapport").inner_text()
    _no_sideways_scrolling(phone)
    _shot(phone, "valider-flux-320.png")


def test_the_publishing_page_offers_the_templates_and_fits_a_phone(registry, phone):
    phone.goto(registry + "/publier")
    assert phone.get_by_role("heading", name="J'ai un tableur").is_visible()
    links = phone.locator(".publier-fichiers a").evaluate_all("as => as.map(a => a.href)")
    assert {link.rsplit("/", 1)[-1] for link in links} == {
        "modele-lieux.xlsx",
        "modele-lieux.ods",
        "modele-lieux.csv",
        "schema.json",
    }
    phone.locator(".publier-colonnes summary").click()
    _no_sideways_scrolling(phone)
    _shot(phone, "publier-320.png")
