"""One federation, three stores: every page and API route answers the same on a SPARQL
server (a real `oxigraph serve`, a real Virtuoso) as on the embedded store, through a
first harvest, an unchanged one, an edited feed, a takedown, a source removal and a
restart of the store server (Virtuoso killed without a checkpoint, statements lost).

The federation is the bundled example (484 places, nine sources) on a Virtuoso whose row
limit (``ResultSetMaxRows``) is 400 instead of Debian's 10 000: the federation is then
over the server's limit as a national one (100 000 places) is over 10 000, so cut
answers, pages, graph slices and the registry's checks are all on the way, for a
fraction of the time a 12 000-place federation would take (``test_virtuoso.py``
harvests a generated federation over a row limit too). Answers are compared after
taking out what legitimately differs: ETags, generation ids, times, harvest durations.
"""

from __future__ import annotations

import difflib
import gzip
import json
import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import EXAMPLES, ROOT
from core import takedown
from core.config import Settings
from ltc.pipeline import check_store, harvest, remove_source, take_down
from store_fixtures import (
    OxigraphServer,
    VirtuosoServer,
    _free_port,
    _oxigraph_executable,
    missing_server,
    store_settings,
)

# The test server's row limit: Debian's default is 10 000; at 400, the example federation
# (484 places) is over it as a national one is over 10 000, for a fraction of the time.
ROW_LIMIT = 400
FABRIQUE = "https://tiers-lieux.example.org/lieux/la-fabrique-des-possibles-tours"
REMOVED_SOURCE = "boutiques-equitables"
MAX_ROWS = 100  # sparql_max_rows: below the test Virtuoso's limit, so both cut alike
XSD = "http://www.w3.org/2001/XMLSchema#"
# "ouvert maintenant" must not change between two sweeps
MOMENT = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)


class OxigraphProcess:
    """An `oxigraph serve` of this module's own, which the test restarts."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, _free_port()
        self.server = OxigraphServer(f"http://127.0.0.1:{self.port}")
        self.urls = self.server.urls
        self.process = None

    def start(self) -> None:
        import subprocess

        executable = _oxigraph_executable()
        if executable is None:
            missing_server("the oxigraph server (pip install oxigraph)")
        self.process = subprocess.Popen(
            [
                executable,
                "serve",
                "--location",
                str(self.folder),
                "--bind",
                f"127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.server.base}/query?query=ASK%7B%7D", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        pytest.fail("oxigraph serve did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@dataclass
class Backend:
    name: str
    settings: Settings
    server: object | None = None
    answers: dict[str, object] = field(default_factory=dict)


@pytest.fixture(scope="module")
def federation(tmp_path_factory) -> Path:
    """The example federation, in a folder the test edits."""
    folder = tmp_path_factory.mktemp("federation")
    shutil.copytree(EXAMPLES, folder, dirs_exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def backends(federation, tmp_path_factory) -> Iterator[list[Backend]]:
    folder = federation
    root = tmp_path_factory.mktemp("backends")
    common = {
        "sources_file": str(folder / "sources.toml"),
        "harvest_workers": 1,
        "sparql_max_rows": MAX_ROWS,
        "base_iri": "https://w3id.org/ltc/",
    }
    oxigraph = OxigraphProcess(root / "oxigraph")
    oxigraph.start()
    if shutil.which("virtuoso-t") is None or shutil.which("isql-vt") is None:
        oxigraph.stop()
        missing_server("Virtuoso (apt-get install virtuoso-opensource)")
    virtuoso = VirtuosoServer(root / "virtuoso", max_rows=ROW_LIMIT)
    virtuoso.start()
    every = [
        Backend("embedded", store_settings("embedded", root / "embedded", **common)),
        Backend(
            "oxigraph", store_settings("sparql", root / "ox", oxigraph.server, **common), oxigraph
        ),
        Backend("virtuoso", store_settings("sparql", root / "virt", virtuoso, **common), virtuoso),
    ]
    try:
        yield every
    finally:
        oxigraph.stop()
        virtuoso.stop()


# -- what each route answers, without what legitimately differs --------------------------------

_VOLATILE = [
    (re.compile(r"g\d{6}-\d{8}T\d{6}Z"), "GEN"),
    (re.compile(r"\d{8}T\d{6}(\d{6})?Z"), "STAMP"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"), "TIME"),
    (re.compile(r"\d{2}/\d{2}/\d{4} à \d{1,2}(:| h )\d{2}( UTC| \(UTC\))?"), "TIME"),
    (
        re.compile(
            r"\d{1,2}(er)? (janvier|février|mars|avril|mai|juin|juillet|août|septembre|"
            r"octobre|novembre|décembre) \d{4}( à \d{1,2}( h |:)\d{2})?( \(?UTC\)?)?"
        ),
        "TIME",
    ),
    (re.compile(r"\d+[.,]\d+\s?s\b"), "DURATION"),
    (re.compile(r"(il y a|depuis) [^<\"]{1,40}"), "AGO"),
]


def _plain(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def _rdf(data: bytes, syntax: ox.RdfFormat) -> list[str]:
    """Statements as sorted canonical lines (blank nodes renamed away)."""
    text = _plain("\n".join(str(quad) for quad in ox.parse(input=data, format=syntax)))
    return sorted(set(re.sub(r"_:[A-Za-z0-9]+", "_:b", text).splitlines()))


_COMPUTED = {XSD + "double", XSD + "decimal", XSD + "float"}


def _sparql_json(data: bytes) -> object:
    """A SPARQL JSON answer; GROUP_CONCAT's order and the last digits of numbers an
    example computes are the engine's own (IEEE double against decimal arithmetic)."""
    answer = json.loads(_plain(data.decode()))
    for row in answer.get("results", {}).get("bindings", []):
        for name, value in row.items():
            if value.get("type") == "literal" and ", " in value.get("value", ""):
                value["value"] = ", ".join(sorted(value["value"].split(", ")))  # GROUP_CONCAT
            if name == "km2" and value.get("datatype") in _COMPUTED:
                value["value"] = f"{float(value['value']):.9g}"
    return answer


def _sample(places: list[str]) -> list[str]:
    ordered = sorted(places)
    picked = ordered[:: max(1, len(ordered) // 4)]
    return sorted({*picked, *([FABRIQUE] if FABRIQUE in places else [])})


def sweep(every: list[Settings], places: list[str]) -> list[dict[str, object]]:
    """Every page and API route this test compares, as (status, normalised answer), for
    each store. Route by route, the stores one after the other: the tree's templates may
    change while the test runs (others work in it), never between two stores' answers."""
    from registry.app import create_app

    clients = [create_app(settings).test_client() for settings in every]
    outs: list[dict[str, object]] = [{} for _ in every]
    pool = ThreadPoolExecutor(len(clients))

    def fetch(client, path: str, decode, kwargs) -> tuple[int, object]:
        answer = client.get(path, **kwargs)
        body = answer.get_data()
        answer.close()
        return answer.status_code, decode(body) if answer.status_code == 200 else ""

    def get(key: str, path: str, decode=lambda body: _plain(body.decode()), **kwargs) -> None:
        # the stores answer side by side: most of the time is the servers' own
        answers = pool.map(lambda client: fetch(client, path, decode, kwargs), clients)
        for out, answer in zip(outs, answers, strict=True):
            out[key] = answer

    as_json = lambda body: json.loads(_plain(body.decode()))  # noqa: E731
    get("health", "/health", decode=lambda body: "")
    get("geojson", "/api/places.geojson", decode=as_json)
    get("csv", "/api/places.csv")
    for key, query in {
        "near": {"lat": 47.3948, "lon": 0.704, "radius": 20},
        "near-page-2": {"lat": 47.3948, "lon": 0.704, "radius": 50, "page": 2},
        "words": {"q": "repair"},
        "theme": {"theme": "alimentation", "lat": 47.39, "lon": 0.69, "radius": 50},
        "box": {"bbox": "45,-1,49,3"},
    }.items():
        get(f"api-{key}", "/api/places", decode=as_json, query_string=query)
    get("networks", "/api/networks", decode=as_json)
    get("themes", "/api/themes", decode=as_json)
    get("home", "/", query_string={"q": "Tours"})
    get("convergences", "/convergences")
    get("sources", "/sources")
    get("source", f"/sources/{REMOVED_SOURCE}")
    get("void", "/void", decode=lambda body: _rdf(body, ox.RdfFormat.TURTLE))
    get(
        "dump",
        "/dump.nq.gz",
        decode=lambda body: _rdf(gzip.decompress(body), ox.RdfFormat.N_QUADS),
    )
    for place in _sample(places):
        get(f"place {place}", "/api/place", decode=as_json, query_string={"iri": place})
        get(f"page {place}", "/lieu", query_string={"iri": place})
        get(
            f"turtle {place}",
            "/resource",
            decode=lambda body: _rdf(body, ox.RdfFormat.TURTLE),
            query_string={"iri": place, "format": "turtle"},
        )
        get(f"resource {place}", "/resource", query_string={"iri": place, "format": "html"})
    for path in sorted((ROOT / "sparql" / "examples").glob("*.rq")):
        get(
            f"example {path.stem}",
            "/sparql",
            decode=_sparql_json,
            query_string={"query": path.read_text(encoding="utf-8")},
            headers={"Accept": "application/sparql-results+json"},
        )
    construct = (
        "PREFIX schema: <https://schema.org/> CONSTRUCT { ?p schema:name ?n ; schema:geo ?g . "
        "?g ?k ?v } WHERE { ?p a schema:Place ; schema:name ?n ; schema:geo ?g . ?g ?k ?v "
        "FILTER(?p IN (<https://tiers-lieux.example.org/lieux/le-hangar-a-projets-nantes>, "
        "<https://tiers-lieux.example.org/lieux/le-grand-atelier-tours>)) }"
    )
    get(
        "construct",
        "/sparql",
        decode=lambda body: _rdf(body, ox.RdfFormat.TURTLE),
        query_string={"query": construct},
        headers={"Accept": "text/turtle"},
    )
    get(
        "ask",
        "/sparql",
        decode=_sparql_json,
        query_string={"query": f"ASK {{ <{FABRIQUE}> ?p ?o }}"},
    )
    for client, out in zip(clients, outs, strict=True):
        cut = client.get(
            "/sparql",
            query_string={
                "query": "SELECT ?p ?n WHERE { ?p a <https://schema.org/Place> ; "
                "<https://schema.org/name> ?n } ORDER BY ?p ?n"
            },
            headers={"Accept": "text/csv"},
        )
        out["sparql-cut"] = (cut.status_code, cut.headers.get("X-LTC-Truncated"), _plain(cut.text))
    pool.shutdown()
    return outs


def _places(settings: Settings) -> list[str]:
    from registry.app import create_app

    answer = create_app(settings).test_client().get("/api/places.geojson")
    answer.close()
    return [feature["id"] for feature in answer.json["features"]]


def _compare(step: str, every: list[Backend], places: list[str]) -> None:
    started = time.monotonic()
    reference, *others = sweep([backend.settings for backend in every], places)
    assert reference["geojson"][0] == 200
    for backend, answers in zip(every[1:], others, strict=True):
        differing = [key for key in reference if answers.get(key) != reference[key]]
        if differing:
            report = Path(str(backend.settings.data_dir) + "-differences.txt")
            with report.open("w", encoding="utf-8") as out:
                for key in differing:
                    theirs = json.dumps(answers.get(key), default=str, indent=1).splitlines()
                    ours = json.dumps(reference[key], default=str, indent=1).splitlines()
                    out.write(f"== {key}\n")
                    out.writelines(
                        line + "\n"
                        for line in difflib.unified_diff(ours, theirs, "embedded", backend.name)
                    )
            pytest.fail(
                f"{step}: {backend.name} differs from the embedded store on "
                f"{len(differing)} routes ({', '.join(differing[:6])}…): see {report}"
            )
    print(f"{step}: same answers on every store ({time.monotonic() - started:.1f} s)")


def _lose_statements(backend: Backend) -> list[str]:
    """Remove statements behind the registry's back, as a server restarted without a
    checkpoint loses its latest writes: a few of a source graph and of the meta graph."""
    urls = backend.server.urls
    graphs = ["https://w3id.org/ltc/graph/source/tiers-lieux", "https://w3id.org/ltc/graph/meta"]
    for graph in graphs:
        answer = requests.post(
            urls["store_query_url"],
            data={
                "query": f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o "
                "FILTER(isIRI(?s) && isIRI(?o)) } } LIMIT 9"
            },
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
        rows = answer.json()["results"]["bindings"]
        triples = [" ".join(f"<{row[n]['value']}>" for n in "spo") + " ." for row in rows]
        assert len(triples) == 9
        delete = f"DELETE DATA {{ GRAPH <{graph}> {{ {' '.join(triples)} }} }}"
        requests.post(
            urls["store_update_url"],
            data=delete.encode(),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
            timeout=30,
        ).raise_for_status()
    return graphs


def test_every_route_answers_the_same_on_every_store(backends, federation, monkeypatch):
    folder = federation
    for module in ("registry.runtime", "registry.api", "registry.public"):
        monkeypatch.setattr(f"{module}.now", lambda: MOMENT)
    timings: dict[str, list[float]] = {b.name: [] for b in backends}

    def harvest_all() -> None:
        for backend in backends:
            started = time.monotonic()
            outcomes = harvest(backend.settings)
            timings[backend.name].append(time.monotonic() - started)
            assert not [o for o in outcomes if o.failed], backend.name

    # 1. a first harvest
    harvest_all()
    places = _places(backends[0].settings)
    assert len(places) > ROW_LIMIT  # the index is read over the server's row limit
    _compare("first harvest", backends, places)
    # 2. an unchanged harvest
    harvest_all()
    _compare("unchanged harvest", backends, places)
    # 3. edited feeds: places renamed, a place gone, a coordinate moved
    for name, old, new in (
        ("repair-cafes.nt", "Repair Caf", "Atelier Repair Caf"),
        ("energie-citoyenne.ttl", "schema:latitude 45.", "schema:latitude 45.0"),
    ):
        feed = folder / "feeds" / name
        text = feed.read_text(encoding="utf-8")
        assert old in text, (name, old)
        feed.write_text(text.replace(old, new, 3), encoding="utf-8")
    harvest_all()
    _compare("edited feed", backends, places)
    # 4. a takedown
    for backend in backends:
        takedown.add(backend.settings.data_dir, FABRIQUE, "demande du lieu")
        assert take_down(backend.settings, FABRIQUE)
    places = _places(backends[0].settings)
    assert FABRIQUE not in places
    _compare("takedown", backends, places)
    # 5. a source removed
    for backend in backends:
        remove_source(backend.settings, REMOVED_SOURCE)
    places = _places(backends[0].settings)
    _compare("source removed", backends, places)
    # 6. the store servers restarted: Oxigraph cleanly, Virtuoso killed (no checkpoint),
    #    then statements lost behind the registry's back; `ltc serve` checks at start
    oxigraph, virtuoso = backends[1].server, backends[2].server
    oxigraph.stop()
    oxigraph.start()
    virtuoso.kill()
    virtuoso.start()
    for backend in backends[1:]:
        lost = _lose_statements(backend)
        reloaded = check_store(backend.settings)
        assert set(lost) <= set(reloaded), (backend.name, reloaded)
        assert check_store(backend.settings) == []  # whole again
    _compare("store restarted", backends, places)
    print("harvest seconds:", {name: [round(t, 1) for t in ts] for name, ts in timings.items()})
