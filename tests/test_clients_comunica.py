"""Comunica (``@comunica/query-sparql``, from ``npm ci``) federating the registry's SPARQL
endpoint with two of its linked-data documents (the ontology and the themes), on a
registry with its default settings: the join sends hundreds of small sub-queries within
seconds, many of them repeated, and must get no 429 (answers served again from memory
cost nothing, the allowance takes bursts, a client's extra sub-queries wait a moment for
its own to end). Also SELECT, ASK and CONSTRUCT against the endpoint alone, by GET and
POST, with endpoint auto-detection.

Skipped, with the reason, when Node or the npm packages are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from running_registry import start_registry, stop_registry

COMUNICA = ROOT / "node_modules" / "@comunica" / "query-sparql"
if shutil.which("node") is None:
    pytest.skip("node is not installed", allow_module_level=True)
if not COMUNICA.is_dir():
    pytest.skip("npm packages missing: run `npm ci`", allow_module_level=True)

PREFIXES = (
    "PREFIX schema: <https://schema.org/> PREFIX ltc: <https://w3id.org/ltc/ns#> "
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
)
# places (endpoint) × their class's label (the ontology) × their themes' labels (themes)
JOIN = PREFIXES + (
    "SELECT * WHERE { ?p a ?class . ?class rdfs:label ?classLabel . ?p schema:name ?name . "
    "OPTIONAL { ?p ltc:theme ?theme . ?theme skos:prefLabel ?themeLabel } }"
)

SCRIPT = """
import { createRequire } from 'module';
const require = createRequire(process.argv[2]);
const { QueryEngine } = require('@comunica/query-sparql');
const [, , , base, mode, query] = process.argv;
const statuses = {};
let requests = 0;
const counted = async (input, init) => {
  requests++;
  const answer = await fetch(input, init);
  statuses[answer.status] = (statuses[answer.status] || 0) + 1;
  return answer;
};
const engine = new QueryEngine();
const sparql = base + '/sparql';
const sources = mode === 'join'
  ? [{ type: 'sparql', value: sparql }, base + '/ns', base + '/theme/']
  : [mode === 'detect' ? sparql : { type: 'sparql', value: sparql }];
const context = { sources, fetch: counted, httpMethod: mode === 'post' ? 'POST' : undefined };
const out = { requests: 0, statuses };
try {
  const result = await engine.query(query, context);
  if (result.resultType === 'bindings') {
    out.rows = (await (await result.execute()).toArray()).length;
  } else if (result.resultType === 'quads') {
    out.quads = (await (await result.execute()).toArray()).length;
  } else {
    out.boolean = await result.execute();
  }
} catch (error) {
  out.error = String(error.message).slice(0, 400);
}
out.requests = requests;
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def server(example_registry, tmp_path_factory):
    """A fresh ``ltc serve`` on the example registry's data with the default limits (a
    client's allowance untouched by the other tests)."""
    running = start_registry(example_registry.settings, tmp_path_factory.mktemp("log") / "s.log")
    yield running
    stop_registry(running)


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("comunica") / "run.mjs"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def comunica(script: Path, server, mode: str, query: str) -> dict:
    done = subprocess.run(
        ["node", str(script), str(ROOT / "package.json"), server.url, mode, query],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_federated_join_gets_no_429_at_default_settings(script, server):
    for _ in range(2):  # twice: the second run finds most answers in memory
        out = comunica(script, server, "join", JOIN)
        assert "error" not in out, out
        assert set(out["statuses"]) == {"200"}, out
        assert out["rows"] > 0
        assert out["requests"] >= 100, out  # a real federation burst


@pytest.mark.parametrize("mode", ["sparql", "post", "detect"])
def test_select_ask_construct(script, server, mode):
    select = comunica(
        script, server, mode, PREFIXES + "SELECT ?p WHERE { ?p a schema:Place } LIMIT 5"
    )
    assert select.get("rows") == 5, select
    ask = comunica(script, server, mode, PREFIXES + "ASK { ?p a schema:Place }")
    assert ask.get("boolean") is True, ask
    construct = comunica(
        script,
        server,
        mode,
        PREFIXES + "CONSTRUCT { ?p schema:name ?n } WHERE { ?p a schema:Place ; schema:name ?n } "
        "LIMIT 7",
    )
    assert construct.get("quads") == 7, construct
