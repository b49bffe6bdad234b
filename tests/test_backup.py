"""``ltc backup`` and ``ltc restore``: a backup restored into a new data folder is a
registry that ``ltc serve`` serves with the same answers, and that harvests on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from core.config import Settings, load_settings
from core.harvest_files import SourceFiles
from core.store import open_store
from ltc.backup import BackupError, backup, restore
from ltc.backup_cli import backup_command, restore_command
from ltc.pipeline import harvest
from running_registry import start_registry, stop_registry

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def _settings(data_dir: Path) -> Settings:
    return load_settings(overrides={"data_dir": data_dir, "harvest_workers": 1}, environ={})


def _count(settings: Settings) -> tuple[int, set[str]]:
    with open_store(settings, writer=False) as store:
        return int(store.select(COUNT)[0]["n"].value), store.named_graphs()


def _per_graph(settings: Settings) -> dict[str, int]:
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    with open_store(settings, writer=False) as store:
        return {row["g"].value: int(row["n"].value) for row in store.select(query)}


def _served_count(settings: Settings, log: Path) -> int:
    """COUNT asked of a real ``ltc serve`` over ``settings``' data folder."""
    server = start_registry(settings, log)
    try:
        answer = requests.get(server.sparql, params={"query": COUNT}, timeout=10)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["results"]["bindings"][0]["n"]["value"])
    finally:
        stop_registry(server)


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Settings:
    settings = _settings(tmp_path_factory.mktemp("registry"))
    harvest(settings)
    return settings


def test_backup_then_restore_serves_the_same_registry(original, tmp_path):
    manifest = backup(original, tmp_path / "sauvegarde")
    assert manifest["kind"] == "snapshot"
    assert manifest["generation"] == (Path(original.data_dir) / "CURRENT").read_text().strip()
    restored = _settings(tmp_path / "restauré")
    generation = restore(restored, tmp_path / "sauvegarde")
    assert generation == manifest["generation"]
    assert _count(restored) == _count(original)
    assert _served_count(restored, tmp_path / "serve.log") == _count(original)[0]
    for source in manifest["sources"]:
        assert (
            SourceFiles(restored.data_dir, source).load_state()
            == SourceFiles(original.data_dir, source).load_state()
        )
        assert (
            SourceFiles(restored.data_dir, source).history()
            == SourceFiles(original.data_dir, source).history()
        )


def test_a_restored_registry_harvests_on(original, tmp_path):
    backup(original, tmp_path / "sauvegarde")
    restored = _settings(tmp_path / "restauré")
    restore(restored, tmp_path / "sauvegarde")
    outcomes = harvest(restored)
    assert {o.status for o in outcomes} == {"unchanged"}
    # the same data; only the metadata graph grew by the new harvests' provenance
    before, after = _per_graph(original), _per_graph(restored)
    meta = original.base_iri + "graph/meta"
    assert after[meta] > before.pop(meta)
    assert {g: n for g, n in after.items() if g != meta} == before


def test_an_nquads_backup_restores_through_the_store_interface(original, tmp_path):
    manifest = backup(original, tmp_path / "sauvegarde", nquads=True)
    assert manifest["kind"] == "nquads"
    assert (tmp_path / "sauvegarde" / "registre.nq.gz").stat().st_size > 0
    restored = _settings(tmp_path / "restauré")
    restore(restored, tmp_path / "sauvegarde")
    assert _count(restored) == _count(original)


def test_backup_refuses_a_non_empty_destination_and_a_running_harvest(original, tmp_path):
    (tmp_path / "plein").mkdir()
    (tmp_path / "plein" / "x").write_text("x")
    with pytest.raises(BackupError, match="n'est pas vide"):
        backup(original, tmp_path / "plein")
    assert (tmp_path / "plein" / "x").exists()
    with open_store(original, writer=True), pytest.raises(BackupError, match="impossible"):
        backup(original, tmp_path / "pendant")
    assert not (tmp_path / "pendant").exists()


def test_restore_refuses_a_non_empty_data_folder(original, tmp_path):
    backup(original, tmp_path / "sauvegarde")
    with pytest.raises(BackupError, match="n'est pas vide"):
        restore(original, tmp_path / "sauvegarde")
    with pytest.raises(BackupError, match="pas une sauvegarde"):
        restore(_settings(tmp_path / "vide"), tmp_path)


def test_commands_speak_french_and_fail_cleanly(original, tmp_path):
    runner = CliRunner()
    env = {"LTC_DATA_DIR": str(original.data_dir), "LTC_HARVEST_WORKERS": "1"}
    done = runner.invoke(backup_command, [str(tmp_path / "sauvegarde")], env=env)
    assert done.exit_code == 0, done.output
    assert "Sauvegarde terminée" in done.output
    assert json.loads((tmp_path / "sauvegarde" / "sauvegarde.json").read_text())["sources"]
    again = runner.invoke(backup_command, [str(tmp_path / "sauvegarde")], env=env)
    assert again.exit_code == 1 and "n'est pas vide" in again.output
    target = {"LTC_DATA_DIR": str(tmp_path / "nouveau")}
    restored = runner.invoke(restore_command, [str(tmp_path / "sauvegarde")], env=target)
    assert restored.exit_code == 0, restored.output
    assert "Restauration terminée" in restored.output
