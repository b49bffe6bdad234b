"""JSON-LD processors other than the registry's — pyld (Python) and jsonld.js (npm, from
``npm ci``) — turn the example feeds, the guide's minimal example and the guide's
context-extension example into the same RDF as the registry's parser; and all refuse a
context that clears the protected LTC context (``[ltc, null, {…}]``).

Both libraries get the registry's pinned copies of the LTC and schema.org contexts
through a document loader (nothing is fetched from the web), and the base the harvester
parses with (relative IRIs, such as a misspelt day, stay recognisable).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from conftest import ROOT
from core.vocab import RELATIVE_BASE
from harvester.errors import FeedError
from harvester.parse import parse_feed

LTC_CONTEXT = "https://w3id.org/ltc/context.jsonld"
CONTEXTS = {
    LTC_CONTEXT: ROOT / "ontology" / "context.jsonld",
    "https://schema.org": ROOT / "ontology" / "contexts" / "schemaorg.jsonld",
    "https://schema.org/": ROOT / "ontology" / "contexts" / "schemaorg.jsonld",
}
FEEDS = {
    "amap-centre": ROOT / "examples" / "feeds" / "amap-centre.jsonld",
    "tiers-lieux": ROOT / "examples" / "feeds" / "tiers-lieux.jsonld",
    "exemple-minimal": ROOT / "docs" / "exemple-minimal.jsonld",
}
JSONLD_JS = ROOT / "node_modules" / "jsonld"
BASE = RELATIVE_BASE + "example/"  # what the harvester parses a source's feed with


def guide_extension(guide: str, marker: str) -> str:
    """The context-extension example of a publishing guide (the JSON block after its
    marker comment)."""
    text = (ROOT / "docs" / guide).read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\s*```json\n(.*?)```", text, re.S)
    assert found, f"no context-extension example in {guide}"
    return found.group(1)


def documents() -> dict[str, str]:
    found = {name: path.read_text(encoding="utf-8") for name, path in FEEDS.items()}
    found["publier.md"] = guide_extension("publier.md", "exemple-extension-contexte")
    found["publishing.md"] = guide_extension("publishing.md", "context-extension-example")
    return found


def registry_graph(text: str) -> rdflib.Graph:
    triples = parse_feed(text.encode("utf-8"), syntax="json-ld", base_iri=BASE)
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return rdflib.Graph().parse(data=data, format="nt")


def _loader(url: str, options: dict | None = None) -> dict:
    path = CONTEXTS.get(url)
    if path is None:
        raise ValueError(f"unexpected remote document {url}")
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(path.read_text(encoding="utf-8")),
    }


def pyld_graph(text: str) -> rdflib.Graph:
    from pyld import jsonld

    nquads = jsonld.to_rdf(
        json.loads(text),
        {"format": "application/n-quads", "documentLoader": _loader, "base": BASE},
    )
    return rdflib.Graph().parse(data=nquads, format="nt")


NODE_SCRIPT = """
const { createRequire } = require('module');
const fs = require('fs');
const [, , packageJson, contextsJson, documentPath, base] = process.argv;
const jsonld = createRequire(packageJson)('jsonld');
const contexts = JSON.parse(contextsJson);
const documentLoader = async (url) => {
  if (!(url in contexts)) throw new Error('unexpected remote document ' + url);
  return {contextUrl: null, documentUrl: url,
          document: JSON.parse(fs.readFileSync(contexts[url], 'utf8'))};
};
(async () => {
  try {
    const doc = JSON.parse(fs.readFileSync(documentPath, 'utf8'));
    process.stdout.write(await jsonld.toRDF(doc, {format: 'application/n-quads', documentLoader, base}));
  } catch (error) {
    const code = (error.details && error.details.code) || error.name;
    process.stdout.write('ERROR ' + code + ': ' + error.message);
    process.exitCode = 3;
  }
})();
"""


@pytest.fixture(scope="module")
def jsonld_js(tmp_path_factory):
    if shutil.which("node") is None or not JSONLD_JS.is_dir():
        pytest.skip("node or the npm package jsonld is missing: run `npm ci`")
    folder = tmp_path_factory.mktemp("jsonld-js")
    script = folder / "to-rdf.js"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    contexts = json.dumps({url: str(path) for url, path in CONTEXTS.items()})

    def run(text: str) -> subprocess.CompletedProcess:
        document = folder / "document.jsonld"
        document.write_text(text, encoding="utf-8")
        return subprocess.run(
            ["node", str(script), str(ROOT / "package.json"), contexts, str(document), BASE],
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.mark.parametrize("name", list(documents()))
def test_pyld_gives_the_registry_rdf(name):
    text = documents()[name]
    ours = registry_graph(text)
    assert len(ours) > 3
    assert isomorphic(pyld_graph(text), ours), name


@pytest.mark.parametrize("name", list(documents()))
def test_jsonld_js_gives_the_registry_rdf(jsonld_js, name):
    text = documents()[name]
    done = jsonld_js(text)
    assert done.returncode == 0, done.stdout + done.stderr
    theirs = rdflib.Graph().parse(data=done.stdout, format="nt")
    assert isomorphic(theirs, registry_graph(text)), name


def test_the_guide_extension_adds_the_network_own_property():
    graph = registry_graph(documents()["publier.md"])
    counts = [o for p, o in graph.predicate_objects() if str(p).endswith("#nombreAdherents")]
    assert [int(c) for c in counts] == [120]


NULLIFYING = {
    "after the LTC context": {
        "@context": [LTC_CONTEXT, None, {"nom": "https://autre.example/nom"}],
        "id": "https://mon-reseau.example.org/lieux/1",
        "type": "Lieu",
        "nom": "Un lieu",
    },
    "in a node below": {
        "@context": LTC_CONTEXT,
        "@graph": [
            {
                "@context": None,
                "@id": "https://mon-reseau.example.org/lieux/1",
                "https://schema.org/name": "Un lieu",
            }
        ],
    },
}


@pytest.mark.parametrize("name", list(NULLIFYING))
def test_clearing_the_protected_context_is_refused_everywhere(jsonld_js, name):
    text = json.dumps(NULLIFYING[name])
    with pytest.raises(FeedError, match=r"protected|protégé"):
        parse_feed(text.encode(), syntax="json-ld")
    done = jsonld_js(text)
    assert done.returncode == 3 and "invalid context nullification" in done.stdout, done.stdout


def test_a_null_before_the_ltc_context_is_accepted():
    """``[null, ltc]`` starts from an empty context, which JSON-LD allows."""
    text = json.dumps(
        {
            "@context": [None, LTC_CONTEXT],
            "id": "https://mon-reseau.example.org/lieux/1",
            "type": "Lieu",
            "nom": "Un lieu",
        }
    )
    assert len(parse_feed(text.encode(), syntax="json-ld")) == 2


def test_the_guides_show_no_import():
    for guide in ("publier.md", "publishing.md"):
        text = (ROOT / "docs" / guide).read_text(encoding="utf-8")
        assert '"@import"' not in text.replace('`"@import"`', "")
        assert Path(ROOT / "docs" / guide).exists()
