"""Store fixtures (embedded pyoxigraph and a real `oxigraph serve` process)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings, load_settings
from core.store import Store, open_store


@dataclass(frozen=True)
class OxigraphServer:
    base: str

    @property
    def urls(self) -> dict[str, str]:
        return {
            "store_query_url": f"{self.base}/query",
            "store_update_url": f"{self.base}/update",
            "store_graph_store_url": f"{self.base}/store",
        }


def _oxigraph_executable() -> str | None:
    beside_python = Path(sys.executable).with_name("oxigraph")
    return str(beside_python) if beside_python.exists() else shutil.which("oxigraph")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory) -> Iterator[OxigraphServer]:
    """A real Oxigraph SPARQL server on a free local port for the whole session."""
    executable = _oxigraph_executable()
    if executable is None:
        pytest.skip("the oxigraph server is not installed (pip install oxigraph)")
    folder = tmp_path_factory.mktemp("oxigraph")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        open(folder / "server.log", "wb") as log,
        subprocess.Popen(
            [
                executable,
                "serve",
                "--location",
                str(folder / "data"),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        ) as process,
    ):
        try:
            deadline = time.monotonic() + 20
            while True:
                if process.poll() is not None:
                    pytest.fail(
                        f"oxigraph serve exited with {process.returncode}: "
                        + (folder / "server.log").read_text(errors="replace")
                    )
                try:
                    with urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=1):
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        pytest.fail(f"oxigraph serve did not answer on {base} within 20 s")
                    time.sleep(0.05)
            yield OxigraphServer(base)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def store_settings(
    backend: str, data_dir: Path, server: OxigraphServer | None = None, **extra: Any
) -> Settings:
    """Settings for a test store, through the real configuration loader (no LTC_ leaks)."""
    overrides: dict[str, Any] = {"store_backend": backend, "data_dir": str(data_dir), **extra}
    if server is not None:
        overrides.update(server.urls)
    return load_settings(overrides=overrides, environ={})


@pytest.fixture(params=["embedded", "sparql"])
def store(request, tmp_path) -> Iterator[Store]:
    """A fresh writer store on each backend."""
    if request.param == "sparql":
        server = request.getfixturevalue("oxigraph_server")
        opened = open_store(store_settings("sparql", tmp_path / "data", server), writer=True)
        opened.update("DROP SILENT ALL")
    else:
        opened = open_store(store_settings("embedded", tmp_path / "data"), writer=True)
    yield opened
    opened.close()
