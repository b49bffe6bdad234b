"""Start and stop a real ``ltc serve`` process (waitress) for tests, and the shared
session fixture ``example_registry``: the example federation harvested with the
server's own address as base IRI, so the IRIs it mints really dereference."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from core.config import Settings, child_environment, load_settings

LTC = str(Path(sys.executable).with_name("ltc"))


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    settings: Settings

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_registry(settings: Settings, log: Path, port: int | None = None) -> Server:
    """``ltc serve`` with these settings (through LTC_* variables); waits for /health."""
    env = child_environment(settings)
    port = port or free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [LTC, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", process, settings)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ltc serve exited: {log.read_text()}")
        try:
            if requests.get(server.url + "/health", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    stop_registry(server)
    raise RuntimeError(f"ltc serve did not answer /health: {log.read_text()}")


def stop_registry(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def example_registry(tmp_path_factory) -> Iterator[Server]:
    """The example federation, harvested once, served by a real ``ltc serve``."""
    from ltc.pipeline import harvest

    port = free_port()
    settings = load_settings(
        overrides={
            "data_dir": tmp_path_factory.mktemp("example-registry"),
            "harvest_workers": 1,
            "base_iri": f"http://127.0.0.1:{port}/",
        },
        environ={},
    )
    harvest(settings)
    server = start_registry(settings, tmp_path_factory.mktemp("log") / "serve.log", port)
    yield server
    stop_registry(server)
