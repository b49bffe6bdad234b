"""Store fixtures: embedded pyoxigraph, a real `oxigraph serve` process and a real
Virtuoso open source server (Debian's `virtuoso-opensource`). The README's test command
installs both: a missing server is a failure (the set-up did not run), never a skip."""

from __future__ import annotations

import shutil
import signal
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


def missing_server(what: str) -> None:
    """Fail: the README's test command installs every server the tests run against."""
    pytest.fail(
        f"{what} is not installed: run the README's test command, which installs it "
        "(the remote-store tests run on it)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory) -> Iterator[OxigraphServer]:
    """A real Oxigraph SPARQL server on a free local port for the whole session."""
    executable = _oxigraph_executable()
    if executable is None:
        missing_server("the oxigraph server (pip install oxigraph)")
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


# -- Virtuoso ---------------------------------------------------------------------------------

VIRTUOSO_INI = """\
[Database]
DatabaseFile       = {folder}/virtuoso.db
ErrorLogFile       = {folder}/virtuoso.log
LockFile           = {folder}/virtuoso.lck
TransactionFile    = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {folder}/virtuoso-temp.db
TransactionFile    = {folder}/virtuoso-temp.trx
Striping           = 0

[Parameters]
ServerPort         = 127.0.0.1:{sql_port}
DisableUnixSocket  = 1
CheckpointInterval = 60
NumberOfBuffers    = 10000
MaxDirtyBuffers    = 6000
MaxSortedTopRows   = {sorted_rows}
DirsAllowed        = .

[HTTPServer]
ServerPort         = 127.0.0.1:{http_port}
ServerRoot         = {folder}
ServerThreads      = 10
MaxKeepAlives      = 10
Charset            = UTF-8

[SPARQL]
ResultSetMaxRows      = {max_rows}
MaxQueryExecutionTime = 60
"""
# The row limit of the test server: Debian's default is 10 000; 1 000 lets a federation
# of ~2 000 places (a few seconds to harvest) go over it, as a national one goes over
# 10 000, and exercises the same paths: the cut answers and the pages. The sorted-TOP
# limit (MaxSortedTopRows) keeps Debian's default, which docs/virtuoso.md asks for.
VIRTUOSO_MAX_ROWS = 1000
VIRTUOSO_SORTED_ROWS = 10_000


class VirtuosoServer:
    """A Virtuoso server of its own, on free local ports, its database in ``folder``."""

    def __init__(
        self,
        folder: Path,
        max_rows: int = VIRTUOSO_MAX_ROWS,
        sorted_rows: int = VIRTUOSO_SORTED_ROWS,
    ) -> None:
        self.folder = folder
        self.http_port, self.sql_port = _free_port(), _free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.max_rows = max_rows
        self.process: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "virtuoso.ini").write_text(
            VIRTUOSO_INI.format(
                folder=folder,
                sql_port=self.sql_port,
                http_port=self.http_port,
                max_rows=max_rows,
                sorted_rows=sorted_rows,
            )
        )

    @property
    def urls(self) -> dict[str, str]:
        return {
            "store_query_url": f"{self.base}/sparql",
            "store_update_url": f"{self.base}/sparql",
            "store_graph_store_url": f"{self.base}/sparql-graph-crud",
        }

    @property
    def digest_urls(self) -> dict[str, str]:
        """The authenticated endpoints (HTTP Digest, user dba)."""
        return {
            "store_query_url": f"{self.base}/sparql-auth",
            "store_update_url": f"{self.base}/sparql-auth",
            "store_graph_store_url": f"{self.base}/sparql-graph-crud-auth",
        }

    def start(self) -> None:
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 (the process keeps it)
        self.process = subprocess.Popen(
            [
                "virtuoso-t",
                "+foreground",
                "+configfile",
                str(self.folder / "virtuoso.ini"),
            ],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                pytest.fail(
                    f"virtuoso-t exited with {self.process.returncode}: "
                    + (self.folder / "server.log").read_text(errors="replace")[-3000:]
                )
            try:
                with urllib.request.urlopen(f"{self.base}/sparql?query=ASK%7B%7D", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"Virtuoso did not answer on {self.base} within 60 s")
                time.sleep(0.1)
        # what docs/virtuoso.md tells operators: the SPARQL user may update
        self.isql('GRANT SPARQL_UPDATE TO "SPARQL";')

    def isql(self, sql: str) -> str:
        tool = shutil.which("isql-vt") or "isql-vt"
        done = subprocess.run(
            [tool, f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={sql}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 and "shutdown" not in sql.lower():
            pytest.fail(f"isql-vt {sql!r} failed: {done.stdout} {done.stderr}")
        return done.stdout

    def stop(self) -> None:
        """A clean shutdown: a checkpoint, then the server exits."""
        if self.process is None:
            return
        self.isql("checkpoint; shutdown;")
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        """An unclean stop: SIGKILL, no checkpoint."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory) -> Iterator[VirtuosoServer]:
    """A real Virtuoso server (Debian's virtuoso-opensource) for the whole session, with
    a row limit of VIRTUOSO_MAX_ROWS."""
    if shutil.which("virtuoso-t") is None or shutil.which("isql-vt") is None:
        missing_server("Virtuoso (apt-get install virtuoso-opensource)")
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso"))
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            server.kill()


def clear_registry_graphs(urls: dict[str, str], prefix: str = "https://w3id.org/ltc/") -> None:
    """Drop what earlier tests left under ``prefix`` on a shared server (Virtuoso ignores
    ``DROP ALL``), through the protocols, graph by graph."""
    import requests

    query = (
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
    )
    answer = requests.post(
        urls["store_query_url"],
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    answer.raise_for_status()
    graphs = [row["g"]["value"] for row in answer.json()["results"]["bindings"] if "g" in row]
    if graphs:
        drop = " ;\n".join(f"DROP SILENT GRAPH <{graph}>" for graph in graphs)
        requests.post(
            urls["store_update_url"],
            data=drop.encode(),
            headers={"Content-Type": "application/sparql-update"},
            timeout=60,
        ).raise_for_status()


def store_settings(
    backend: str,
    data_dir: Path,
    server: OxigraphServer | VirtuosoServer | None = None,
    **extra: Any,
) -> Settings:
    """Settings for a test store, through the real configuration loader (no LTC_ leaks)."""
    overrides: dict[str, Any] = {"store_backend": backend, "data_dir": str(data_dir), **extra}
    if server is not None:
        overrides.update(server.urls)
    return load_settings(overrides=overrides, environ={})


@pytest.fixture(params=["embedded", "sparql", "virtuoso"])
def store(request, tmp_path) -> Iterator[Store]:
    """A fresh writer store on each backend: embedded, `oxigraph serve`, Virtuoso."""
    if request.param in ("sparql", "virtuoso"):
        name = "oxigraph_server" if request.param == "sparql" else "virtuoso_server"
        server = request.getfixturevalue(name)
        clear_registry_graphs(server.urls)
        opened = open_store(store_settings("sparql", tmp_path / "data", server), writer=True)
    else:
        opened = open_store(store_settings("embedded", tmp_path / "data"), writer=True)
    yield opened
    opened.close()
