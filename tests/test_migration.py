"""A data folder made by release 0.1.0 is migrated by the current code and shows what the
release showed.

``tests/fixtures/release-0.1`` holds a data folder and a backup that release 0.1.0 (commit
5fad46b) made itself, harvesting two sources of the example federation, and what that
release's web tier showed of them (``expected.json``; its README says how). The current
code migrates the folder in place (any ``ltc`` command, or ``core.migration.upgrade``) or
through ``ltc restore`` of the backup; the registry then serves the same sources, the same
records with the same findings, the same generation and the same places.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.config import Settings, load_settings
from core.datafolder import LAYOUT_VERSION, DataFolder
from core.harvest_files import SourceFiles, parse_findings
from core.migration import layout_version, upgrade
from ltc.cli import main
from ltc.pipeline import harvest
from registry.app import create_app
from registry.readable_report import ReadableReport, readable_report

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "release-0.1"
CATALOG = FIXTURE / "sources.toml"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
SOURCES = [source["id"] for source in EXPECTED["sources"]["sources"]]
GENERATION = EXPECTED["health"]["generation"]

# What release 0.1.0 wrote and layout 2 no longer has (convergence's old caches).
DROPPED = {
    "convergence-scores.pickle",
    *(f"sources/{source_id}/convergence-rows.pickle" for source_id in SOURCES),
}
ADDED = {"ltc-data.json", *(f"sources/{source_id}/findings.json" for source_id in SOURCES)}


# -- the fixture, the settings and the command line ----------------------------------------


@pytest.fixture
def release(tmp_path) -> Path:
    """The fixture unpacked: ``data/`` (the data folder) and ``backup/`` (``ltc backup``)."""
    with tarfile.open(FIXTURE / "data.tar.gz") as archive:
        archive.extractall(tmp_path / "release", filter="data")
    return tmp_path / "release"


def _settings(data_dir: Path, catalog: Path = CATALOG) -> Settings:
    return load_settings(
        overrides={"data_dir": data_dir, "sources_file": str(catalog), "harvest_workers": 1},
        environ={},
    )


@pytest.fixture
def ltc(monkeypatch):
    """``ltc …`` in-process on a data folder, with the fixture's catalog."""
    for name in list(os.environ):
        if name.startswith("LTC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LTC_SOURCES_FILE", str(CATALOG))
    monkeypatch.setenv("LTC_HARVEST_WORKERS", "1")

    def run(data_dir: Path, *args: str) -> Result:
        monkeypatch.setenv("LTC_DATA_DIR", str(data_dir))
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    logger = logging.getLogger("ltc")
    handlers, level = list(logger.handlers), logger.level
    yield run
    for handler in set(logger.handlers) - set(handlers):  # ``ltc harvest`` logs to a file
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(level)


def _files(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder``: its digest and modification time."""
    return {
        path.relative_to(folder).as_posix(): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# -- what the registry shows -------------------------------------------------------------------

_RECORD = re.compile(r'<li class="valider-fiche [^"]*" data-iri="([^"]+)">(.*?)</li>', re.S)
_FINDING = re.compile(
    r'<tr class="severite-(\w+)"><td>[^<]*</td><td><code>(.*?)</code></td><td>(.*?)</td>', re.S
)


def shown_on_page(page: str) -> list[list[str]]:
    """(record IRI, severity, field, message) of every finding a source page shows."""
    return [
        [html.unescape(iri), severity.capitalize(), html.unescape(field), html.unescape(message)]
        for iri, body in _RECORD.findall(page)
        for severity, field, message in _FINDING.findall(body)
    ]


def _records(report: ReadableReport) -> list[dict]:
    """A readable report as ``expected.json`` keeps the release's."""
    return [
        {
            "iri": record.iri,
            "kind": record.kind,
            "name": record.name,
            "rejected": record.rejected,
            "problems": [
                {"severity": p.severity, "field": p.field, "message": p.message, "value": p.value}
                for p in record.problems
            ],
        }
        for record in report.records
    ]


def _places(client) -> list[dict]:
    places, page = [], 1
    while True:
        answer = client.get(f"/api/places?per_page=100&page={page}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        # places without coordinates are now found at their commune's point, marked
        # approximate (0.1.0 could not show them): the comparison is on the others
        places += [
            {"iri": p["iri"], "name": p["name"], "sources": sorted(s["id"] for s in p["sources"])}
            for p in body["places"]
            if not p.get("approximate")
        ]
        if page >= body["pages"]:
            return sorted(places, key=lambda place: place["iri"])
        page += 1


def _listed(listing: dict, ignored: tuple[str, ...]) -> list[dict]:
    """``/sources?format=json`` without the ``ignored`` keys."""
    return [{k: v for k, v in source.items() if k not in ignored} for source in listing["sources"]]


STALE = ("stale",)  # depends on today's date
AFTER_A_HARVEST = (*STALE, "last_harvest", "last_success", "last_loaded", "status")


def assert_migrated(data_dir: Path) -> None:
    folder = DataFolder(data_dir)
    assert json.loads(folder.layout_file.read_text(encoding="utf-8")) == {"layout": LAYOUT_VERSION}
    assert layout_version(folder) == LAYOUT_VERSION
    assert not any((folder.root / dropped).exists() for dropped in DROPPED)
    for source_id in SOURCES:
        files = SourceFiles(folder, source_id)
        assert parse_findings(files.path(SourceFiles.FINDINGS).read_bytes())


def assert_shows_the_release(
    settings: Settings, generation: str | None = GENERATION, ignored: tuple[str, ...] = STALE
) -> None:
    """The registry over ``settings`` shows what release 0.1.0 showed (``expected.json``),
    but for the ``ignored`` keys of ``/sources?format=json`` (and the generation when
    ``None``)."""
    client = create_app(settings).test_client()
    health = client.get("/health")
    assert health.status_code == 200
    if generation is not None:
        assert health.get_json() == {"status": "ok", "generation": generation}
    listing = client.get("/sources?format=json")
    assert listing.status_code == 200
    assert _listed(listing.get_json(), ignored) == _listed(EXPECTED["sources"], ignored)
    for source_id, expected in EXPECTED["reports"].items():
        page = client.get(f"/sources/{source_id}")
        assert page.status_code == 200
        assert shown_on_page(page.get_data(as_text=True)) == expected["shown"], source_id
        report = readable_report(SourceFiles(settings.data_dir, source_id).findings())
        if ignored == AFTER_A_HARVEST:
            # validated again by the current harvester, which also names and types the
            # rejected records (0.1.0 only knew the accepted ones): same findings
            assert [(r["iri"], r["rejected"], r["problems"]) for r in _records(report)] == [
                (r["iri"], r["rejected"], r["problems"]) for r in expected["records"]
            ], source_id
        else:
            assert _records(report) == expected["records"], source_id
        assert (report.rejected, report.warned) == (expected["rejected"], expected["warned"])
        assert [list(s) for s in report.suggestions] == expected["suggestions"]
    assert _places(client) == EXPECTED["places"]


def test_the_fixture_is_what_the_release_showed():
    """The expected answers are not empty: rejected records, warnings and places."""
    assert EXPECTED["release"] == "0.1.0" and EXPECTED["commit"].startswith("5fad46b")
    assert SOURCES == ["ltc-collectif", "terres-paysannes"]
    for expected in EXPECTED["reports"].values():
        assert expected["rejected"] and expected["warned"] and expected["shown"]
    assert EXPECTED["places"]


# -- migration in place --------------------------------------------------------------------------


def test_an_ltc_command_migrates_the_old_folder_on_start(release, ltc):
    data_dir = release / "data"
    assert layout_version(DataFolder(data_dir)) == 1
    result = ltc(data_dir, "sources")
    assert result.exit_code == 0, result.output
    for source_id in SOURCES:
        assert f"dossier de données mis à jour : {source_id}: findings.json" in result.output
        assert source_id in result.stdout
    assert_migrated(data_dir)
    assert_shows_the_release(_settings(data_dir))


def test_upgrade_adds_findings_and_the_layout_and_changes_nothing_else(release):
    data_dir = release / "data"
    before = _files(data_dir)
    assert set(before) >= DROPPED and not ADDED & set(before)
    done = upgrade(data_dir, progress=lambda _line: None)
    assert done == [f"{source_id}: findings.json" for source_id in SOURCES]
    after = _files(data_dir)
    assert set(after) == set(before) - DROPPED | ADDED
    assert {name: after[name] for name in before if name not in DROPPED} == {
        name: stamp for name, stamp in before.items() if name not in DROPPED
    }
    assert_migrated(data_dir)
    assert_shows_the_release(_settings(data_dir))


def test_upgrade_is_idempotent(release, ltc):
    data_dir = release / "data"
    assert upgrade(data_dir)
    migrated = _files(data_dir)
    assert upgrade(data_dir) == []
    result = ltc(data_dir, "sources")
    assert result.exit_code == 0 and "mis à jour" not in result.output
    assert _files(data_dir) == migrated


def test_a_damaged_layout_marker_is_rewritten_without_touching_the_findings(release):
    data_dir = release / "data"
    upgrade(data_dir)
    findings = {
        s: SourceFiles(data_dir, s).path(SourceFiles.FINDINGS).read_bytes() for s in SOURCES
    }
    DataFolder(data_dir).layout_file.write_text("{not json", encoding="utf-8")
    assert layout_version(DataFolder(data_dir)) == 1
    assert upgrade(data_dir) == []  # every findings.json is there already
    assert layout_version(DataFolder(data_dir)) == LAYOUT_VERSION
    for source_id, data in findings.items():
        assert SourceFiles(data_dir, source_id).path(SourceFiles.FINDINGS).read_bytes() == data


def test_damaged_layout_1_files_do_not_stop_the_migration(release, ltc):
    """A damaged validation cache or report must not make every ``ltc`` command fail."""
    data_dir = release / "data"
    collectif = SourceFiles(data_dir, "ltc-collectif")
    cache = json.loads(collectif.path("validation-cache.json").read_text(encoding="utf-8"))
    records = list(cache["records"])
    cache["records"][records[0]] = 5
    cache["records"][records[1]] = ["digest", [[1, 2]]]
    cache["records"][records[2]] = ["digest", [["a", "b", ["unhashable"]]]]
    collectif.path("validation-cache.json").write_text(json.dumps(cache), encoding="utf-8")
    paysannes = SourceFiles(data_dir, "terres-paysannes")
    paysannes.path(SourceFiles.REPORT).write_bytes(paysannes.report()[:-500])  # cut mid-line
    result = ltc(data_dir, "sources")
    assert result.exit_code == 0, result.output
    assert collectif.findings() and paysannes.findings() == []
    assert layout_version(DataFolder(data_dir)) == LAYOUT_VERSION
    client = create_app(_settings(data_dir)).test_client()
    for source_id in SOURCES:
        assert client.get(f"/sources/{source_id}").status_code == 200


# -- migration through a restore ---------------------------------------------------------------


@pytest.mark.parametrize("target", ["absent", "empty"])
def test_ltc_restore_of_the_old_backup(release, ltc, tmp_path, target):
    data_dir = tmp_path / "restored"
    if target == "empty":
        data_dir.mkdir()
    backup_before = _files(release / "backup")
    # any command migrates first: an empty or absent folder must stay so for the restore
    assert ltc(data_dir, "sources").exit_code == 0
    assert not data_dir.exists() or not any(data_dir.iterdir())
    result = ltc(data_dir, "restore", str(release / "backup"))
    assert result.exit_code == 0, result.output
    assert f"génération {GENERATION} publiée" in result.output
    assert_migrated(data_dir)
    assert_shows_the_release(_settings(data_dir))
    assert _files(release / "backup") == backup_before  # the backup itself is left as it was


# -- harvesting on ---------------------------------------------------------------------------------


def _catalog_elsewhere(tmp_path: Path) -> Path:
    """The fixture's catalog with the feeds copied beside it: the same feeds under another
    path, so the harvester sees new inputs and validates and loads every source again."""
    folder = tmp_path / "catalog"
    (folder / "feeds").mkdir(parents=True)
    (folder / "mappings").mkdir()
    for name in ("feeds/ltc-collectif.ttl", "feeds/terres-paysannes.csv"):
        shutil.copy(ROOT / "examples" / name, folder / name)
    shutil.copy(ROOT / "examples/mappings/terres-paysannes.toml", folder / "mappings")
    text = CATALOG.read_text(encoding="utf-8").replace('"../../../examples/', '"')
    (folder / "sources.toml").write_text(text, encoding="utf-8")
    return folder / "sources.toml"


def test_a_harvest_on_the_migrated_folder_keeps_the_reports(release, ltc, tmp_path):
    data_dir = release / "data"
    findings = {}
    result = ltc(data_dir, "harvest")  # migrates, then harvests: the feeds have not changed
    assert result.exit_code == 0, result.output
    assert_migrated(data_dir)
    listed = {source["id"]: source for source in EXPECTED["sources"]["sources"]}
    for source_id in SOURCES:
        files = SourceFiles(data_dir, source_id)
        findings[source_id] = files.path(SourceFiles.FINDINGS).read_bytes()
        state = files.load_state()
        # the shapes changed since 0.1.0: the feeds are validated again, same outcome
        assert state.status == "loaded"
        before = listed[source_id]
        assert (state.accepted, state.rejected, state.warned) == (
            before["accepted"],
            before["rejected"],
            before["warnings"],
        )
        assert len(files.history()) == 2
    assert_shows_the_release(_settings(data_dir), generation=None, ignored=AFTER_A_HARVEST)

    # the same feeds under another path: validated and loaded again by the current code
    settings = _settings(data_dir, _catalog_elsewhere(tmp_path))
    outcomes = harvest(settings)
    for outcome in outcomes:
        assert outcome.status == "loaded", outcome.message
        before = listed[outcome.source]
        assert (outcome.accepted, outcome.rejected, outcome.warned) == (
            before["accepted"],
            before["rejected"],
            before["warnings"],
        )
    client = create_app(settings).test_client()
    assert client.get("/health").status_code == 200
    for source_id, expected in EXPECTED["reports"].items():
        page = client.get(f"/sources/{source_id}").get_data(as_text=True)
        assert shown_on_page(page) == expected["shown"], source_id
        report = readable_report(SourceFiles(data_dir, source_id).findings())
        # the current harvester also names the rejected records (0.1.0 only knew the
        # accepted ones): the findings themselves are the same
        assert [(r["iri"], r["rejected"], r["problems"]) for r in _records(report)] == [
            (r["iri"], r["rejected"], r["problems"]) for r in expected["records"]
        ]
        assert [list(s) for s in report.suggestions] == expected["suggestions"]
    assert _places(client) == EXPECTED["places"]


# -- nothing to migrate ------------------------------------------------------------------------


def test_upgrade_does_nothing_on_an_absent_or_empty_folder(tmp_path):
    absent, empty = tmp_path / "absent", tmp_path / "empty"
    empty.mkdir()
    assert upgrade(absent) == [] and not absent.exists()
    assert upgrade(empty) == [] and list(empty.iterdir()) == []
    assert layout_version(DataFolder(absent)) == layout_version(DataFolder(empty)) == 0
