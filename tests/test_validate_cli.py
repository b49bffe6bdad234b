"""`ltc validate`: the report a volunteer reads, and the exit statuses programs rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import RDF, SH

from conftest import EXAMPLES, ROOT
from core.vocab import expand

RDF_SOURCES = [
    s for s in json.loads((EXAMPLES / "expected.json").read_text())["sources"] if not s["adapter"]
]


@pytest.mark.parametrize("source", RDF_SOURCES, ids=lambda s: s["id"])
def test_example_feed_rejects_exactly_the_expected_records(cli, expected, source):
    result = cli(
        "validate", "--format", "json", "--source", source["id"], str(EXAMPLES / source["file"])
    )
    report = json.loads(result.output)
    (feed,) = report["feeds"]
    rejected = {
        r["iri"]: {expand(p["constraint"]) for p in r["problems"] if p["severity"] == "Violation"}
        for r in feed["records"]
        if r["status"] == "rejected"
    }
    wanted = {
        r["record"]: {expand(c) for c in r["constraints"]}
        for r in expected["rejected"]
        if r["source"] == source["id"]
    }
    assert rejected == wanted
    assert result.exit_code == (1 if wanted else 0)


def test_example_feeds_cover_at_least_four_syntaxes():
    assert len({s["syntax"] for s in RDF_SOURCES}) >= 4


def test_demo_harvests_every_example_feed_with_the_expected_outcome(cli, expected):
    result = cli("demo")
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == len(expected["sources"])


def test_minimal_example_of_the_publishing_guide_is_accepted_without_warning(cli):
    result = cli("validate", "--format", "json", str(ROOT / "docs" / "exemple-minimal.jsonld"))
    assert result.exit_code == 0, result.output
    (feed,) = json.loads(result.output)["feeds"]
    assert feed["summary"]["rejected"] == 0
    assert feed["summary"]["warned"] == 0
    assert feed["summary"]["records"] >= 4


BAD_PLACE = """@prefix schema: <https://schema.org/> .
<https://ex.org/lieu/1> a schema:Place ;
    schema:geo [ schema:latitude 147.2 ; schema:longitude 2.3 ] .
"""


def test_text_report_names_record_field_message_and_value(cli, tmp_path):
    feed = tmp_path / "flux.ttl"
    feed.write_text(BAD_PLACE)
    result = cli("validate", str(feed))
    assert result.exit_code == 1
    assert "REJETÉ" in result.output
    assert "<https://ex.org/lieu/1>" in result.output
    assert "latitude (schema:latitude)" in result.output
    assert "« 147.2 »" in result.output
    english = cli("validate", "--lang", "en", str(feed))
    assert "REJECTED" in english.output and "REJETÉ" not in english.output


def test_turtle_format_is_a_shacl_validation_report(cli, tmp_path):
    feed = tmp_path / "flux.ttl"
    feed.write_text(BAD_PLACE)
    result = cli("validate", "--format", "turtle", str(feed))
    graph = Graph().parse(data=result.output, format="turtle")
    (report,) = graph.subjects(RDF.type, SH.ValidationReport)
    assert (report, SH.conforms, None) in graph
    focus = set(graph.objects(None, SH.focusNode))
    assert any("genid" in str(f) for f in focus), "the coordinates node is the focus"


def test_several_feeds_exit_with_the_highest_status(cli, tmp_path):
    good = ROOT / "docs" / "exemple-minimal.jsonld"
    bad = tmp_path / "bad.ttl"
    bad.write_text(BAD_PLACE)
    broken = tmp_path / "broken.ttl"
    broken.write_text("<https://ex.org/a> <https://schema.org/name> .")
    assert cli("validate", str(good)).exit_code == 0
    assert cli("validate", str(good), str(bad)).exit_code == 1
    assert cli("validate", str(bad), str(broken), str(good)).exit_code == 2


HOSTILE = {
    "empty.ttl": b"",
    "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "page.ttl": b"<!DOCTYPE html><html><body>Erreur 404</body></html>",
    "unknown.txt": b"nom;adresse\nLa Fabrique;1 rue X\n",
    "remote.jsonld": b'{"@context": "https://evil.example/c.jsonld", "@id": "https://ex.org/a"}',
    "deep.json": b"[" * 200_000 + b"]" * 200_000,
    "bomb.rdf": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&b;</rdf:RDF>',
    "no-record.ttl": b'<https://ex.org/a> <https://schema.org/name> "A" .',
    "deep.ttl": b"<https://ex.org/a> <https://ex.org/p> "
    + b"[ <https://ex.org/p> " * 5000
    + b"1"
    + b" ]" * 5000
    + b" .",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_bad_files_get_one_line_and_status_2_quickly(cli, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(HOSTILE[name])
    started = time.monotonic()
    result = cli("validate", str(path))
    assert time.monotonic() - started < 10
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(path)), result.output
    assert "Traceback" not in result.output


def test_missing_file_is_status_2(cli, tmp_path):
    result = cli("validate", str(tmp_path / "absent.ttl"))
    assert result.exit_code == 2
    assert "impossible de lire" in result.output


def test_url_is_fetched_with_the_harvester_protections(cli, feed_server, monkeypatch):
    feed_server.routes["/flux.ttl"] = (200, {"Content-Type": "text/turtle"}, BAD_PLACE.encode())
    url = feed_server.url("/flux.ttl")
    refused = cli("validate", url)
    assert refused.exit_code == 2 and "adresse interdite" in refused.output
    assert feed_server.requests == [], "the refused address must receive no request"
    monkeypatch.setenv("LTC_FETCH_ALLOW_NETWORKS", "127.0.0.1/32")
    allowed = cli("validate", url)
    assert allowed.exit_code == 1 and "REJETÉ" in allowed.output


def test_installed_command_works_outside_the_repository(tmp_path):
    """The wheel carries the shapes and contexts: run the real `ltc` from another folder."""
    ltc = Path(sys.executable).with_name("ltc")
    feed = tmp_path / "flux.jsonld"
    feed.write_bytes((ROOT / "docs" / "exemple-minimal.jsonld").read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTC_")}
    done = subprocess.run(
        [str(ltc), "validate", feed.name], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 rejetées" in done.stdout


@pytest.mark.parametrize("source", RDF_SOURCES[:2], ids=lambda s: s["id"])
def test_reference_engine_gives_the_same_report(cli, source):
    path = str(EXAMPLES / source["file"])
    fast = json.loads(cli("validate", "--format", "json", path).output)
    reference = json.loads(cli("validate", "--format", "json", "--engine", "pyshacl", path).output)

    def problems(report):
        return sorted(
            (
                r["iri"],
                p["constraint"],
                p["severity"],
                p["focus"],
                p["path"] or "",
                p["value"] or "",
            )
            for feed in report["feeds"]
            for r in feed["records"]
            for p in r["problems"]
        )

    assert problems(fast) == problems(reference)
