"""A page of another website, in a real headless Chromium (Debian's ``/usr/bin/chromium``
driven by Playwright), reads every read route of a running registry with ``fetch()``:
a first GET, then a conditional one carrying ``If-None-Match`` (which the browser
preflights), and a SPARQL query sent by POST. Skipped, with the reason, when chromium
or Playwright is missing.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_clients import READ_ROUTES

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

PAGE = b"<!doctype html><html lang='en'><head><title>Reuser</title></head><body></body></html>"

READ_TWICE = """
async ([registry, routes]) => {
  const results = [];
  for (const route of routes) {
    const result = {route};
    try {
      const first = await fetch(registry + route);
      result.status = first.status;
      result.etag = first.headers.get('ETag');
      result.type = first.headers.get('Content-Type');
      result.size = (await first.arrayBuffer()).byteLength;
      const headers = {'Accept': first.headers.get('Content-Type') || '*/*'};
      if (result.etag) headers['If-None-Match'] = result.etag;
      const again = await fetch(registry + route, {headers});
      result.again = again.status;
      result.againEtag = again.headers.get('ETag');
      await again.arrayBuffer();
    } catch (error) {
      result.error = String(error);
    }
    results.push(result);
  }
  return results;
}
"""

SPARQL_POST = """
async (registry) => {
  const answer = await fetch(registry + '/sparql', {
    method: 'POST',
    headers: {'Content-Type': 'application/sparql-query',
              'Accept': 'application/sparql-results+json'},
    body: 'SELECT ?p WHERE { ?p a <https://schema.org/Place> } LIMIT 3',
  });
  return {status: answer.status, rows: (await answer.json()).results.bindings.length};
}
"""


class _Reuser(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Reuser)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(other_origin) -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        opened = browser.new_page()
        opened.goto(other_origin + "/")
        yield opened
        browser.close()


def test_fetch_from_another_origin_on_every_read_route(example_registry, page):
    results = page.evaluate(READ_TWICE, [example_registry.url, READ_ROUTES])
    for result in results:
        assert "error" not in result, result
        assert result["status"] == 200 and result["size"] > 0, result
        assert result["again"] in (200, 304), result
        if result["etag"] and result["again"] == 200:
            # a newer representation (answers by the minute, "open now"), never the same
            assert result["againEtag"] != result["etag"], result
    assert len(results) == len(READ_ROUTES)


def test_sparql_post_from_another_origin(example_registry, page):
    assert page.evaluate(SPARQL_POST, example_registry.url) == {"status": 200, "rows": 3}
