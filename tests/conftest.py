"""Shared fixtures: the repository root, the example federation, the CLI runner."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest_plugins = ["store_fixtures", "running_registry"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def expected() -> dict:
    return json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def cli(monkeypatch, tmp_path):
    """Invoke ``ltc`` in-process with a clean environment and a temporary data dir."""
    from ltc.cli import main

    for name in list(__import__("os").environ):
        if name.startswith("LTC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LTC_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str, input: bytes | None = None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return run


class FeedServer:
    """A real HTTP server on 127.0.0.1 serving whatever a test puts in ``routes``."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        # path → (status, headers, body), or a callable(handler) that answers itself
        routes: dict = {}
        self.routes = routes
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        requests, seen_headers = self.requests, self.headers

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                seen_headers.append(dict(self.headers))
                route = routes.get(self.path.split("?")[0], (404, {}, b"not found"))
                if callable(route):
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        route(self)
                    return
                status, headers, body = route
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server():
    server = FeedServer()
    yield server
    server.close()
