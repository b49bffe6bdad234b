"""Operations on real processes: the harvest on a schedule inside ``ltc serve``, several
serve processes on one store noticing a finished harvest, and access logs that keep no
position people search from."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import requests

from core.config import load_settings
from running_registry import free_port, start_registry, stop_registry

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
OLD_NAME = "Local de Soleil du Val de Loire"
NEW_NAME = "Maison du Soleil Levant"


def _wait_for(check, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def _names(server, text: str) -> list[str]:
    answer = requests.get(server.url + "/api/places", params={"q": text}, timeout=10)
    return [p["name"] for p in answer.json()["places"]] if answer.status_code == 200 else []


def _generation(server) -> str | None:
    return requests.get(server.url + "/health", timeout=10).json()["generation"]


def test_scheduled_harvest_reaches_every_serve_process(tmp_path):
    federation = tmp_path / "federation"
    shutil.copytree(EXAMPLES, federation)
    common = {
        "data_dir": tmp_path / "data",
        "sources_file": str(federation / "sources.toml"),
        "harvest_workers": 1,
    }
    harvesting = load_settings(overrides={**common, "harvest_every": 0.05}, environ={})
    serving = load_settings(overrides=common, environ={})
    first = start_registry(harvesting, tmp_path / "first.log")  # /health: harvested at start
    second = start_registry(serving, tmp_path / "second.log", free_port())
    try:
        assert _names(first, OLD_NAME) == _names(second, OLD_NAME) == [OLD_NAME]
        before = _generation(second)
        feed = federation / "feeds" / "energie-citoyenne.ttl"
        feed.write_text(feed.read_text(encoding="utf-8").replace(OLD_NAME, NEW_NAME), "utf-8")
        assert _wait_for(lambda: _names(second, NEW_NAME) == [NEW_NAME])
        assert _wait_for(lambda: _names(first, NEW_NAME) == [NEW_NAME])
        assert _generation(second) != before
        assert _names(second, OLD_NAME) == []
    finally:
        stop_registry(first)
        stop_registry(second)
    log = (tmp_path / "first.log").read_text()
    assert "Traceback" not in log


def test_access_log_keeps_no_search_position(tmp_path, example_registry):
    log_file = tmp_path / "serve.log"
    server = start_registry(example_registry.settings, log_file)
    try:
        answer = requests.get(
            server.url + "/api/places",
            params={"lat": "47.123456", "lon": "0.654321", "radius": "7", "q": "rue des Lilas"},
            timeout=10,
        )
        assert answer.status_code == 200
        # the line is written once the answer is sent: wait for it before stopping
        assert _wait_for(lambda: '"/api/places"' in log_file.read_text(), 10)
    finally:
        stop_registry(server)
    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line[:1] == "{"]
    search = next(line for line in lines if line["path"] == "/api/places")
    assert search["status"] == 200 and search["bytes"] > 0 and search["method"] == "GET"
    assert search["query"] == {"lat": "…", "lon": "…", "radius": "7", "q": "…"}
    assert search["client"] == "127.0.0.0/24"
    text = log_file.read_text()
    assert "47.123456" not in text and "0.654321" not in text and "Lilas" not in text


def test_demo_harvests_checks_and_serves_the_example_federation(tmp_path):
    """The README's first command: ``ltc demo --serve``."""
    import os
    import subprocess

    from running_registry import LTC

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTC_")}
    env["LTC_DATA_DIR"] = str(tmp_path / "data")
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [LTC, "demo", "--serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def serving() -> bool:
        try:
            return requests.get(url + "/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        assert _wait_for(serving, 120), log.read_text()
        places = requests.get(url + "/api/places", params={"q": "Fabrique"}, timeout=10).json()
        assert places["total"] >= 1
    finally:
        process.terminate()
        process.wait(10)
    assert "ÉCART" not in log.read_text()
