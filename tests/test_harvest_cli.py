"""The operator's commands: harvest, sources, takedown, convert."""

from __future__ import annotations

import json

from conftest import EXAMPLES


def test_harvest_prints_a_summary_and_exits_0_when_no_source_failed(cli):
    result = cli("harvest", "amap-centre", "ltc-collectif")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["source", "statut", "acceptées"]
    assert any(line.startswith("amap-centre") and "chargé" in line for line in lines)
    again = cli("harvest", "amap-centre")
    assert "inchangé" in again.output and again.exit_code == 0


def test_harvest_exits_1_when_a_source_fails(cli, tmp_path, monkeypatch):
    catalog = tmp_path / "sources.toml"
    catalog.write_text(
        '[[source]]\nid = "absent"\ntitle = "Absent"\nnetwork = "https://a.example.org/r"\n'
        'url = "absent.ttl"\nnamespaces = ["https://a.example.org/"]\n'
        'license = "https://creativecommons.org/licenses/by/4.0/"\n'
        'contact = "mailto:a@a.example.org"\nfrequency = "daily"\n'
    )
    monkeypatch.setenv("LTC_SOURCES_FILE", str(catalog))
    result = cli("harvest")
    assert result.exit_code == 1
    assert "ÉCHEC" in result.output and "impossible de lire absent.ttl" in result.output


def test_unknown_source_is_a_clear_error(cli):
    result = cli("harvest", "nope")
    assert result.exit_code == 1 and "unknown source(s): nope" in result.output


def test_sources_lists_status_and_publishes_dcat(cli):
    cli("harvest", "tiers-lieux")
    rows = {r["id"]: r for r in json.loads(cli("sources", "--format", "json").output)}
    assert rows["tiers-lieux"]["status"] == "loaded" and rows["tiers-lieux"]["accepted"] > 0
    assert rows["amap-centre"]["status"] is None
    turtle = cli("sources", "--format", "turtle").output
    assert "dcat:Dataset" in turtle and "tiers-lieux" in turtle


def test_sources_remove_drops_the_data_and_disables_the_source(cli):
    cli("harvest", "ltc-collectif")
    assert cli("sources", "remove", "ltc-collectif").exit_code == 0
    rows = {r["id"]: r for r in json.loads(cli("sources", "--format", "json").output)}
    assert rows["ltc-collectif"]["disabled"] and rows["ltc-collectif"]["status"] is None
    harvested = cli("harvest")
    assert "ltc-collectif" not in harvested.output
    cli("sources", "enable", "ltc-collectif")
    assert "ltc-collectif" in cli("harvest", "ltc-collectif").output


def test_takedown_commands(cli):
    cli("harvest", "amap-centre")
    iri = "https://amap-centre.example.org/lieux/ferme-du-pre"
    added = cli("takedown", "add", iri, "--reason", "demande du réseau")
    assert added.exit_code == 0
    assert iri in cli("takedown", "list").output
    assert cli("takedown", "remove", iri).exit_code == 0
    assert cli("takedown", "remove", iri).exit_code == 1
    assert cli("takedown", "add", "not an iri", "--reason", "x").exit_code == 1


def test_convert_writes_a_json_ld_feed_that_validates(cli, tmp_path):
    out = tmp_path / "terres.jsonld"
    result = cli(
        "convert",
        str(EXAMPLES / "feeds" / "terres-paysannes.csv"),
        "--mapping",
        str(EXAMPLES / "mappings" / "terres-paysannes.toml"),
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["@context"] == "https://w3id.org/ltc/context.jsonld"
    assert cli("validate", str(out)).exit_code == 1  # the two bad rows are rejected
    broken = cli(
        "convert", str(out), "--mapping", str(EXAMPLES / "mappings" / "terres-paysannes.toml")
    )
    assert broken.exit_code == 2
