"""The web tier reads what the harvester leaves only through the documented files
(``core.harvest_files``, ``docs/fichiers-de-moisson.md``): ``/sources/<id>`` keeps
showing every record with its findings when the harvester's own files change shape or
disappear, and a damaged documented file gives an empty report or a skipped history line,
never a 500."""

from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from core import takedown
from core.config import Settings, load_settings
from core.harvest_files import (
    FINDINGS_FORMAT,
    Finding,
    RecordFindings,
    SourceFiles,
    SourceState,
    findings_json,
    parse_findings,
)
from core.labels import display_value, field_label
from harvester import validate
from harvester.state import HarvestFiles
from ltc.pipeline import harvest
from registry.app import create_app

# Three syntaxes of the example federation: Turtle, JSON-LD, and a CSV with its mapping.
SOURCES = ["ltc-collectif", "amap-centre", "terres-paysannes"]
DOCUMENTED = {
    SourceFiles.STATE,
    SourceFiles.HISTORY,
    SourceFiles.ACCEPTED,
    SourceFiles.REPORT,
    SourceFiles.FINDINGS,
}


def _settings(data_dir: Path) -> Settings:
    return load_settings(overrides={"data_dir": data_dir, "harvest_workers": 1}, environ={})


@pytest.fixture(scope="module")
def harvested(tmp_path_factory):
    """The three sources harvested by the current harvester, and their outcomes."""
    settings = _settings(tmp_path_factory.mktemp("harvest-files"))
    outcomes = harvest(settings, only=SOURCES, derive=False)
    return settings, {outcome.source: outcome for outcome in outcomes}


@pytest.fixture
def copy(harvested, tmp_path) -> Settings:
    """A copy of the harvested data folder that a test may damage."""
    settings, _outcomes = harvested
    shutil.copytree(settings.data_dir, tmp_path / "data")
    return _settings(tmp_path / "data")


# -- what /sources/<id> shows -------------------------------------------------------------------

_RECORD = re.compile(
    r'<li class="valider-fiche (rejetee|a-corriger)" data-iri="([^"]+)">(.*?)</li>', re.S
)
_FINDING = re.compile(
    r'<tr class="severite-(\w+)"><td>[^<]*</td><td><code>(.*?)</code></td>'
    r"<td>(.*?)</td><td>(?:« (.*?) »)?</td></tr>",
    re.S,
)


def page_report(settings: Settings, source_id: str) -> dict[str, tuple[bool, list[tuple]]]:
    """Record IRI → (rejected, [(severity, field, message, value)…]) as the page shows it."""
    answer = create_app(settings).test_client().get(f"/sources/{source_id}")
    assert answer.status_code == 200
    return {
        html.unescape(iri): (
            state == "rejetee",
            [
                (
                    severity.capitalize(),
                    html.unescape(field),
                    html.unescape(message),
                    html.unescape(value) if value else None,
                )
                for severity, field, message, value in _FINDING.findall(body)
            ],
        )
        for state, iri, body in _RECORD.findall(answer.get_data(as_text=True))
    }


def documented_report(settings: Settings, source_id: str) -> dict[str, tuple[bool, list[tuple]]]:
    """The same from ``findings.json``: every record with an error or a warning."""
    order = {"Violation": 0, "Warning": 1}
    report = {}
    for record in SourceFiles(settings.data_dir, source_id).findings():
        shown = sorted(
            (f for f in record.findings if f.severity in order), key=lambda f: order[f.severity]
        )
        if shown:
            report[record.record] = (
                record.rejected,
                [
                    (f.severity, field_label(f.path), f.message("fr"), display_value(f.value))
                    for f in shown
                ],
            )
    return report


@pytest.mark.parametrize("source_id", SOURCES)
def test_a_source_page_shows_every_record_with_its_findings(harvested, source_id):
    settings, outcomes = harvested
    outcome = outcomes[source_id]
    assert outcome.status == "loaded"
    shown = page_report(settings, source_id)
    assert shown == documented_report(settings, source_id)
    rejected = {iri for iri, (is_rejected, _) in shown.items() if is_rejected}
    assert len(rejected) == outcome.rejected > 0
    assert len(shown) - len(rejected) == outcome.warned
    assert rejected == set(outcome.rejections)
    for record in SourceFiles(settings.data_dir, source_id).findings():
        if record.rejected:
            violated = {f.constraint for f in record.findings if f.severity == "Violation"}
            assert violated == set(outcome.rejections[record.record])


def test_pages_do_not_need_the_harvesters_private_files(harvested, copy):
    settings, _outcomes = harvested
    before = {source_id: page_report(settings, source_id) for source_id in SOURCES}
    for source_id in SOURCES:
        folder = SourceFiles(copy.data_dir, source_id).folder
        private = [path for path in folder.iterdir() if path.name not in DOCUMENTED]
        assert [path.name for path in private] == [HarvestFiles.CACHE]
        for path in private:
            path.unlink()
    assert {source_id: page_report(copy, source_id) for source_id in SOURCES} == before
    # not even readable: a folder where the validation cache was
    for source_id in SOURCES:
        (SourceFiles(copy.data_dir, source_id).folder / HarvestFiles.CACHE).mkdir()
    assert {source_id: page_report(copy, source_id) for source_id in SOURCES} == before


def test_pages_ignore_a_validation_cache_rewritten_in_another_order(harvested, copy):
    settings, _outcomes = harvested
    before = {source_id: page_report(settings, source_id) for source_id in SOURCES}
    for source_id in SOURCES:
        path = SourceFiles(copy.data_dir, source_id).path(HarvestFiles.CACHE)
        cache = json.loads(path.read_text(encoding="utf-8"))
        assert any(findings for _digest, findings in cache["records"].values())
        cache["records"] = {
            iri: [[list(reversed(f)) for f in reversed(findings)], digest]
            for iri, (digest, findings) in reversed(cache["records"].items())
        }
        path.write_text(json.dumps(cache), encoding="utf-8")
    assert {source_id: page_report(copy, source_id) for source_id in SOURCES} == before


def test_another_private_representation_shows_the_same_pages(harvested, tmp_path, monkeypatch):
    """The harvester's validation cache written in another shape: the pages, built from
    the documented files only, show the same records and findings."""
    settings, outcomes = harvested

    def to_json(self) -> dict:
        return {
            "representation": 2,
            "shapes": self.shapes,
            "entries": [
                {"iri": iri, "digest": digest, "findings": [asdict(f) for f in findings]}
                for iri, (digest, findings) in self.records.items()
            ],
        }

    def from_json(cls, data: dict):
        if data.get("representation") != 2 or data.get("shapes") != validate.shapes_version():
            return cls(validate.shapes_version())
        records = {
            entry["iri"]: (entry["digest"], [validate.Finding(**f) for f in entry["findings"]])
            for entry in data["entries"]
        }
        return cls(data["shapes"], records)

    monkeypatch.setattr(validate.ValidationCache, "to_json", to_json)
    monkeypatch.setattr(validate.ValidationCache, "from_json", classmethod(from_json))
    other = _settings(tmp_path / "data")
    first = {o.source: o for o in harvest(other, only=SOURCES, derive=False)}
    # a takedown of a record no feed has changes every source's inputs: the second
    # harvest validates again, with the findings it reads back from the new representation
    takedown.add(other.data_dir, "https://nulle-part.example.org/fiche", "essai")
    again = {o.source: o for o in harvest(other, only=SOURCES, derive=False)}
    for source_id in SOURCES:
        files = SourceFiles(other.data_dir, source_id)
        cache = json.loads(files.path(HarvestFiles.CACHE).read_text(encoding="utf-8"))
        assert cache["representation"] == 2 and "records" not in cache
        assert first[source_id].status == again[source_id].status == "loaded"
        assert first[source_id].revalidated > 0 and again[source_id].revalidated == 0
        assert files.findings() == SourceFiles(settings.data_dir, source_id).findings()
        assert page_report(other, source_id) == page_report(settings, source_id)
        state = files.load_state()
        assert (state.accepted, state.rejected, state.warned) == (
            outcomes[source_id].accepted,
            outcomes[source_id].rejected,
            outcomes[source_id].warned,
        )


# -- findings.json ---------------------------------------------------------------------------------

RECORDS = [
    RecordFindings(
        "https://reseau.example.org/lieux/l'atelier",
        ["https://schema.org/Place"],
        "L’Atelier « partagé »",
        [
            Finding(
                "Violation",
                "https://w3id.org/ltc/shapes#PostalCode",
                "https://reseau.example.org/lieux/l'atelier#adresse",
                "https://schema.org/postalCode",
                "3700",
                False,
                {"fr": "Le code postal a cinq chiffres.", "en": "A postal code has five digits."},
            ),
            Finding(
                "Info",
                "https://w3id.org/ltc/shapes#SameAs",
                "https://reseau.example.org/lieux/l'atelier",
                None,
                None,
                False,
                {"fr": "Vous pouvez ajouter « memeQue »."},
            ),
        ],
    ),
    RecordFindings(
        "https://reseau.example.org/labels/1",
        [],
        None,
        [
            Finding(
                "Warning",
                "https://w3id.org/ltc/shapes#Status",
                "https://reseau.example.org/labels/1",
                "https://w3id.org/ltc/status",
                "https://w3id.org/ltc/convergence-status/en-attente",
                True,
                {},
            )
        ],
    ),
]


def test_findings_json_round_trip():
    clean = RecordFindings("https://reseau.example.org/lieux/sans-probleme", [], "Rien", [])
    data = findings_json([RECORDS[0], clean, RECORDS[1]])
    assert parse_findings(data) == RECORDS  # a record without findings is not written
    document = json.loads(data)
    assert set(document) == {"format", "records"} and document["format"] == FINDINGS_FORMAT
    assert [set(record) for record in document["records"]] == [
        {"record", "types", "name", "findings"}
    ] * 2
    assert set(document["records"][0]["findings"][0]) == {
        "severity",
        "constraint",
        "focus",
        "path",
        "value",
        "value_is_iri",
        "messages",
    }
    assert "L’Atelier « partagé »" in data.decode("utf-8")  # UTF-8, not \\u escapes
    assert parse_findings(findings_json([])) == []
    assert RECORDS[0].rejected and not RECORDS[1].rejected
    assert RECORDS[1].findings[0].message("en") == "https://w3id.org/ltc/shapes#Status"
    assert RECORDS[0].findings[1].message("en") == "Vous pouvez ajouter « memeQue »."


def _damaged_findings() -> dict[str, bytes]:
    good = json.loads(findings_json(RECORDS))
    finding = good["records"][0]["findings"][0]

    def with_finding(**change) -> bytes:
        record = {**good["records"][0], "findings": [{**finding, **change}]}
        return json.dumps({"format": FINDINGS_FORMAT, "records": [record]}).encode()

    def with_record(**change) -> bytes:
        return json.dumps(
            {"format": FINDINGS_FORMAT, "records": [{**good["records"][0], **change}]}
        ).encode()

    return {
        "cut": findings_json(RECORDS)[:-40],
        "not json": b"\xff\xfe not json",
        "another format": json.dumps({**good, "format": "ltc-findings/99"}).encode(),
        "a list": b"[]",
        "records not a list": json.dumps({**good, "records": 5}).encode(),
        "a record not an object": json.dumps({**good, "records": ["x"]}).encode(),
        "a record without its IRI": json.dumps(
            {**good, "records": [{"types": [], "findings": []}]}
        ).encode(),
        "an unknown finding key": with_finding(extra=1),
        "a finding without its severity": with_record(
            findings=[{k: v for k, v in finding.items() if k != "severity"}]
        ),
        "messages not an object": with_finding(messages="Le code postal…"),
        "a number for a path": with_finding(path=3),
        "a number for a value": with_finding(value=3700),
        "a number for a severity": with_finding(severity=1),
        "text for value_is_iri": with_finding(value_is_iri="non"),
        "types not a list": with_record(types="https://schema.org/Place"),
        "a number for a name": with_record(name=1),
        "findings null": with_record(findings=None),
    }


@pytest.mark.parametrize("damage", sorted(_damaged_findings()))
def test_a_damaged_findings_json_gives_an_empty_report(copy, damage):
    data = _damaged_findings()[damage]
    with pytest.raises((ValueError, TypeError, KeyError)):
        parse_findings(data)
    files = SourceFiles(copy.data_dir, "amap-centre")
    files.path(SourceFiles.FINDINGS).write_bytes(data)
    assert files.findings() == []
    answer = create_app(copy).test_client().get("/sources/amap-centre")
    assert answer.status_code == 200
    assert "Aucune erreur ni aucun avertissement." in answer.get_data(as_text=True)


# -- history.jsonl and state.json ------------------------------------------------------------------


def test_a_damaged_history_line_is_skipped(copy):
    files = SourceFiles(copy.data_dir, "amap-centre")
    good = files.history()
    assert len(good) == 1 and good[0]["status"] == "loaded"
    later = {**good[0], "started": "2030-01-01T00:00:00Z", "ended": "2030-01-01T00:00:01Z"}
    with open(files.path(SourceFiles.HISTORY), "a", encoding="utf-8") as history:
        history.write('{"started": "2029-01-01T00:0\n')  # cut by a crash
        history.write("[1, 2]\n")  # not an object
        history.write('{"started": 5, "status": "loaded"}\n')  # a number for a time
        history.write('{"status": ["loaded"], "accepted": 3}\n')  # a list for a status
        history.write('{"status": "loaded", "accepted": "3"}\n')  # text for a count
        history.write(json.dumps(later) + "\n")
        history.write("\n")
    assert files.history() == [*good, later]
    client = create_app(copy).test_client()
    for path in ("/sources", "/sources/amap-centre", "/sources/amap-centre/atom"):
        assert client.get(path).status_code == 200, path
    answer = client.get("/sources/amap-centre/historique.json")
    assert answer.status_code == 200
    assert answer.get_json()["harvests"] == [later, *good]


@pytest.mark.parametrize(
    "state",
    [
        b"[]",
        b'{"status": "loaded", "accep',
        b'{"status": ["loaded"], "accepted": "26", "last_attempt": 5, "rejected": true}',
    ],
)
def test_a_damaged_state_file_reads_as_defaults(copy, state):
    files = SourceFiles(copy.data_dir, "amap-centre")
    files.path(SourceFiles.STATE).write_bytes(state)
    assert files.load_state() == SourceState()
    client = create_app(copy).test_client()
    for path in ("/sources", "/sources?format=json", "/sources/amap-centre"):
        assert client.get(path).status_code == 200, path


def test_a_state_file_keeps_its_well_typed_keys(copy):
    files = SourceFiles(copy.data_dir, "amap-centre")
    state = files.load_state()
    data = {**asdict(state), "accepted": "many", "message": 3, "unknown": "ignored"}
    files.path(SourceFiles.STATE).write_text(json.dumps(data), encoding="utf-8")
    read = files.load_state()
    assert (read.accepted, read.message) == (0, None)
    assert (read.status, read.rejected, read.last_loaded) == (
        state.status,
        state.rejected,
        state.last_loaded,
    )
