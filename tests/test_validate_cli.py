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


# --- literals as written, nodes where nodes are required, engine errors ------------

ENGINES = ("sparql", "pyshacl")
AS_WRITTEN = """@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ltc: <https://w3id.org/ltc/ns#> .
@prefix ltct: <https://w3id.org/ltc/theme/> .
<https://ex.org/lieu/stamp> a schema:Place ; schema:name "Horodaté" ; ltc:theme ltct:culture ;
    schema:dateModified "2026-03-15T10:00:00Z"^^xsd:dateTimeStamp ;
    schema:geo [ schema:latitude 45.764 ; schema:longitude 4.835 ] .
<https://ex.org/lieu/zeros> a schema:Place ; schema:name "Deux fois" ; ltc:theme ltct:culture ;
    schema:dateModified "2026-03-15"^^xsd:date ;
    schema:geo [ schema:latitude 45.5, 45.50 ; schema:longitude 4.835 ] .
<https://ex.org/lieu/space> a schema:Place ; schema:name "Espace" ; ltc:theme ltct:culture ;
    schema:dateModified "2026-03-15"^^xsd:date ;
    schema:geo [ schema:latitude 45, "45"^^xsd:integer, "+45"^^xsd:integer ; schema:longitude 4.835 ] .
<https://ex.org/lieu/code> a schema:Place ; schema:name "Code" ; ltc:theme ltct:culture ;
    schema:dateModified "2026-03-15"^^xsd:date ;
    schema:address [ schema:postalCode 75001.0 ; schema:addressLocality "Paris" ] .
<https://ex.org/lieu/ok> a schema:Place ; schema:name "Juste" ; ltc:theme ltct:culture ;
    schema:dateModified "2026-03-15"^^xsd:date ;
    schema:address [ schema:postalCode 75001 ; schema:addressLocality "Paris" ] .
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_literals_are_validated_as_written(cli, tmp_path, engine):
    """xsd:dateTimeStamp is not xsd:dateTime for sh:datatype, 45.5 and 45.50 are two
    latitudes, "+45" and "45" too, and the postcode 75001.0 is not five digits; the
    integer 75001 is. Both engines agree."""
    path = tmp_path / "flux.ttl"
    path.write_text(AS_WRITTEN)
    result = cli("validate", "--format", "json", "--engine", engine, str(path))
    (feed,) = json.loads(result.output)["feeds"]
    rejected = {
        r["iri"].rsplit("/", 1)[1]: sorted(
            {p["constraint"] for p in r["problems"] if p["severity"] == "Violation"}
        )
        for r in feed["records"]
        if r["status"] == "rejected"
    }
    assert rejected == {
        "stamp": ["ltcsh:Record-dateModifiedType"],
        "zeros": ["ltcsh:Geo-latitude"],
        "space": ["ltcsh:Geo-latitude"],
        "code": ["ltcsh:Address-postalCode"],
    }
    assert result.exit_code == 1


NODES = """@prefix schema: <https://schema.org/> .
<https://ex.org/lieu/texte> a schema:Place ; schema:name "Coordonnées en texte" ;
    schema:geo "45.2,4.8" .
<https://ex.org/lieu/adresse> a schema:Place ; schema:name "Adresse en texte" ;
    schema:geo [ schema:latitude 45.764 ; schema:longitude 4.835 ] ;
    schema:address "1 rue de la Paix, 69001 Lyon" .
<https://ex.org/lieu/horaires> a schema:Place ; schema:name "Horaires en texte" ;
    schema:geo [ schema:latitude 45.764 ; schema:longitude 4.835 ] ;
    schema:openingHoursSpecification "lun-ven 9h-18h" .
<https://ex.org/lieu/pointe> a schema:Place ; schema:name "Pointe ailleurs" ;
    schema:geo <https://ex.org/lieu/cible> .
<https://ex.org/lieu/cible> a schema:Place ; schema:name "Cible" ;
    schema:geo [ schema:latitude 45.764 ; schema:longitude 4.835 ] .
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_a_literal_or_another_record_where_a_node_is_required_is_the_records_fault(
    cli, tmp_path, engine
):
    """The results on coordinates, an address or hours written as a text are charged to
    the place that wrote them, not dropped: coordinates, an address or hours without
    their fields reject it. A place whose coordinates are another place is rejected,
    and the other place is not."""
    path = tmp_path / "flux.ttl"
    path.write_text(NODES)
    result = cli("validate", "--format", "json", "--engine", engine, str(path))
    assert result.exit_code == 1
    (feed,) = json.loads(result.output)["feeds"]
    records = {r["iri"].rsplit("/", 1)[1]: r for r in feed["records"]}
    violated = {
        name: sorted({p["constraint"] for p in r["problems"] if p["severity"] == "Violation"})
        for name, r in records.items()
    }
    assert violated == {
        "texte": ["ltcsh:Geo-latitude", "ltcsh:Geo-longitude"],
        "adresse": ["ltcsh:Place-address-node"],
        "horaires": ["ltcsh:Hours-closes", "ltcsh:Hours-dayOfWeek", "ltcsh:Hours-opens"],
        "pointe": ["ltcsh:Geo-latitude", "ltcsh:Geo-longitude"],
        "cible": [],
    }
    on_literal = [p for p in records["texte"]["problems"] if p["focus"].startswith('"')]
    assert {p["focus"] for p in on_literal} == {'"45.2,4.8"'}
    assert [
        (p["constraint"], p["severity"], p["focus"])
        for p in records["adresse"]["problems"]
        if p["focus"].startswith('"')
    ] == [("ltcsh:Address-locality", "Warning", '"1 rue de la Paix, 69001 Lyon"')]
    assert records["adresse"]["status"] == "rejected" and records["cible"]["status"] != "rejected"
    turtle = cli("validate", "--format", "turtle", "--engine", engine, str(path)).output
    graph = Graph().parse(data=turtle, format="turtle")
    assert any(str(f) == "45.2,4.8" for f in graph.objects(None, SH.focusNode))


NAN = """@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://ex.org/lieu/1> a schema:Place ; schema:name "NaN" ;
    schema:geo [ schema:latitude "NaN"^^xsd:double ; schema:longitude 4.835 ] .
"""


def test_an_engine_error_is_validation_impossible_status_2(cli, tmp_path):
    """pyshacl fails on a NaN latitude (decimal.InvalidOperation): status 2, « validation
    impossible », never status 1 (records rejected). The compiled engine decides."""
    path = tmp_path / "flux.ttl"
    path.write_text(NAN)
    failed = cli("validate", "--engine", "pyshacl", str(path))
    assert failed.exit_code == 2
    assert "validation impossible" in failed.output and "Traceback" not in failed.output
    report = json.loads(
        cli("validate", "--format", "json", "--engine", "pyshacl", str(path)).output
    )
    assert report["status"] == 2 and "validation impossible" in report["errors"][0]["error"]
    decided = cli("validate", "--format", "json", str(path))
    assert decided.exit_code == 1
    (feed,) = json.loads(decided.output)["feeds"]
    assert feed["summary"]["rejected"] == 1


def test_a_harvest_whose_engine_fails_keeps_the_sources_data(tmp_path, monkeypatch):
    """The source fails with the engine's reason and keeps what it had loaded."""
    from core.iris import Iris
    from core.store import open_store
    from harvester import validate as validation
    from ltc.pipeline import harvest
    from store_fixtures import store_settings

    feed = tmp_path / "flux.ttl"
    good = BAD_PLACE.replace("a schema:Place ;", 'a schema:Place ; schema:name "Lieu" ;')
    feed.write_text(good.replace("147.2", "45.2"))
    (tmp_path / "sources.toml").write_text(
        """[[source]]
id = "net"
title = "Réseau test"
network = "https://ex.org/reseau"
url = "flux.ttl"
namespaces = ["https://ex.org/"]
license = "https://creativecommons.org/licenses/by/4.0/"
contact = "mailto:test@ex.org"
frequency = "daily"
""",
        encoding="utf-8",
    )
    settings = store_settings(
        "embedded",
        tmp_path / "data",
        sources_file=str(tmp_path / "sources.toml"),
        harvest_workers=1,
    )
    (first,) = harvest(settings)
    assert first.status == "loaded" and first.accepted == 1

    def broken(records):
        raise RuntimeError("moteur en panne")
        yield  # a generator, as the engines are

    monkeypatch.setitem(validation.ENGINES, "sparql", broken)
    feed.write_text(good.replace("147.2", "45.3"))
    (second,) = harvest(settings)
    assert second.status == "failed"
    assert "validation impossible" in second.message and "moteur en panne" in second.message
    with open_store(settings, writer=True) as store:
        kept = store.graph_ntriples(Iris(settings.base_iri).source_graph("net"))
    assert b'"45.2"' in kept and b'"45.3"' not in kept


SHARED = """@prefix schema: <https://schema.org/> .
<https://ex.org/lieu/1> a schema:Place ; schema:name "{name}" ; schema:geo <https://ex.org/lieu/1#geo> .
<https://ex.org/lieu/1#geo> schema:latitude 45.764 ; schema:longitude {longitude} .
<https://ex.org/lieu/2> a schema:Place ; schema:name "{other}" ; schema:geo <https://ex.org/lieu/1#geo> .
"""


def _findings(validation) -> dict[str, set]:
    return {
        r.record.iri: {(f.constraint, f.severity, f.focus) for f in r.findings}
        for r in validation.results
    }


@pytest.mark.parametrize("longitude", ["4.835", "400"])
def test_a_record_is_judged_alike_alone_and_with_its_feed(longitude):
    """Coordinates that two places share: one owns them, both lead to them. Revalidated
    alone (the other place unchanged, from the cache), a place sees the same node and
    gets the same findings as with its whole feed."""
    import pyoxigraph as ox

    from harvester.normalise import normalise
    from harvester.records import split_records
    from harvester.validate import ValidationCache, shapes_version, validate_split

    def split(other: str):
        text = SHARED.format(name="Un", longitude=longitude, other=other)
        triples = [q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)]
        return split_records(normalise(triples, "x"), "x")

    cache = ValidationCache(shapes_version())
    validate_split(split("Deux"), "x", cache=cache)
    alone = validate_split(split("Deux bis"), "x", cache=cache)
    assert alone.revalidated == 1
    whole = validate_split(split("Deux bis"), "x")
    assert _findings(alone) == _findings(whole)
    violations = {
        iri for iri, found in _findings(whole).items() if any(f[1] == "Violation" for f in found)
    }
    assert violations == (
        set() if longitude == "4.835" else {"https://ex.org/lieu/1", "https://ex.org/lieu/2"}
    )


def test_reports_name_a_literal_focus_as_a_literal():
    """The report the store keeps (N-Triples) and its full version stay valid RDF when a
    result's focus is a literal; the store's copy drops only the suggestions."""
    import pyoxigraph as ox

    from harvester.normalise import normalise
    from harvester.validate import report_ntriples, validate_triples

    triples = [q.triple for q in ox.parse(NODES.encode(), format=ox.RdfFormat.TURTLE)]
    validation = validate_triples(normalise(triples, "x"), "x")
    reports = report_ntriples(validation, "https://registre.example.org/rapport/x")
    for text in (reports.full, reports.stored):
        parsed = list(ox.parse(text, format=ox.RdfFormat.N_TRIPLES))
        focus = {q.object for q in parsed if q.predicate.value.endswith("#focusNode")}
        assert ox.Literal("45.2,4.8") in focus and ox.Literal("lun-ven 9h-18h") in focus
