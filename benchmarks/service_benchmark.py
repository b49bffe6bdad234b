"""Service benchmark: the registry served by its production server against its peers.

Builds the national-scale federation (``national_federation.py``; 100 000 places by
default) straight into an embedded store as ``spatial_benchmark.load_direct`` does (no
harvest), then starts, in the same run and on the same data:

- ``ltc serve`` (waitress, 8 threads, SPARQL in killable worker processes) on the
  published snapshot;
- Oxigraph server (Rust, PyPI ``oxigraph``) read-only on that very snapshot (the same
  RocksDB files), union default graph;
- rdflib-endpoint (FastAPI + rdflib, PyPI ``rdflib-endpoint``) on an N-Quads dump of it.

It measures the near-me API (sequential requests, radius 10 km around random communes)
against the equivalent SPARQL FILTER through ``/sparql``; the throughput of a SPARQL point
query and of a GROUP BY over all places on the three servers (wrk, N keep-alive
connections); the public search page ``/?q=<commune or postcode>``; what the home page
transfers with its map of France (the page, its styles, scripts, icons and the grouped
places of ``/carte.json``, map tiles aside: under 300 KB); and the memory of each
server's processes. It prints one table (ours, peer, ratio, target) and where the
time goes: client time, server time (from the access log), in-process time. The load
generator shares the machine with the servers: compare ratios, not absolute figures.

    python benchmarks/service_benchmark.py [--places 100000] [--duration 10]
        [--connections 8] [--skip-peers]

Needs ``wrk`` (``apt-get install wrk``; a slower Python load generator is used without
it) and, for the peers, ``pip install rdflib-endpoint uvicorn`` (``oxigraph`` is a
dependency of the test extra).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import gzip
import http.client
import json
import math
import os
import pstats
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import Sample, Throughput, have_wrk, percentile, sequential, slow_throughput, throughput
from national_federation import _communes
from spatial_benchmark import load_direct, near_query

from core.config import Settings, load_settings
from core.datafolder import DataFolder
from core.iris import Iris
from core.store import open_store
from ltc.pipeline import publish
from registry.directory import Directory, load_directory
from registry.places import Search, search
from registry.query_workers import QueryPool
from registry.snapshot import SnapshotHolder

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
JSON_RESULTS = {"Accept": "application/sparql-results+json"}
POINT_QUERY = (
    "PREFIX schema: <https://schema.org/> SELECT ?name WHERE {{ <{iri}> schema:name ?name }}"
)
GROUP_QUERY = (
    "PREFIX schema: <https://schema.org/> PREFIX ltc: <https://w3id.org/ltc/ns#> "
    "SELECT ?theme (COUNT(?place) AS ?places) WHERE { ?place a schema:Place ; ltc:theme ?theme } "
    "GROUP BY ?theme"
)
SLOW_ANSWER_S = 0.25  # above this per answer, rdflib-endpoint is measured one request at a time
ROUTES = {"health": "/health", "api": "/api/places"}


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A server process this benchmark started (in its own process group)."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.monotonic)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM the server's process group (it and its workers), SIGKILL if needed."""
        if self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


def start(name: str, command: list[str], folder: Path, env: dict[str, str], port: int) -> Server:
    """Start ``command`` in a new session (so stop() reaches its children too)."""
    log = folder / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return Server(name, port, process, log)


def wait_ready(server: Server, path: str, headers: dict[str, str], limit_s: float) -> float:
    """Poll ``path`` until it answers 200; returns the seconds waited."""
    import http.client

    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        if not server.alive():
            tail = server.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{server.name} exited ({server.process.returncode}):\n{tail}")
        try:
            connection = http.client.HTTPConnection(HOST, server.port, timeout=limit_s)
            connection.request("GET", path, headers=headers)
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{server.name} not ready after {limit_s:.0f} s")


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _kb(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_mb(root: int) -> tuple[float, float, int]:
    """(sum of RSS, sum of PSS, process count) over ``root``'s process tree, in MB. RSS
    counts pages shared between processes once per process; PSS splits them."""
    pids = process_tree(root)
    rss = sum(_kb(Path(f"/proc/{pid}/status"), "VmRSS:") for pid in pids)
    pss = sum(_kb(Path(f"/proc/{pid}/smaps_rollup"), "Pss:") for pid in pids)
    return rss / 1024, pss / 1024, len(pids)


@dataclass
class CpuUse:
    """CPU seconds used by a server's main process and by its descendants (workers), and
    by the whole machine (every process, the load generator included)."""

    main: float
    children: float
    machine: float
    wall: float

    @classmethod
    def now(cls, root: int) -> CpuUse:
        tick = os.sysconf("SC_CLK_TCK")
        main = children = 0.0
        for pid in process_tree(root):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            if pid == root:
                main = used
            else:
                children += used
        with open("/proc/stat", encoding="ascii") as stat:
            numbers = [int(n) for n in stat.readline().split()[1:]]
        busy = sum(numbers) - numbers[3] - (numbers[4] if len(numbers) > 4 else 0)
        return cls(main, children, busy / tick, time.monotonic())

    def minus(self, before: CpuUse) -> CpuUse:
        return CpuUse(
            self.main - before.main,
            self.children - before.children,
            self.machine - before.machine,
            self.wall - before.wall,
        )

    def per_request(self, requests: int) -> str:
        """What one request cost, in CPU milliseconds."""
        n = max(1, requests)
        return (
            f"server main process {1000 * self.main / n:.2f} ms + workers "
            f"{1000 * self.children / n:.2f} ms of CPU per request; machine busy "
            f"{self.machine / self.wall:.2f} of {os.cpu_count()} cores"
        )


class AccessLog:
    """Reads the JSON access-log lines ``ltc serve`` writes to its standard output."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        """Later calls of ``since()`` only see lines written from now on."""
        self.offset = self.path.stat().st_size

    def since(self, route: str) -> list[float]:
        """Server-side milliseconds of the requests to ``route`` since ``mark()``."""
        time.sleep(0.5)  # a line is written just after its answer is sent
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode("utf-8", errors="replace")
        found = []
        for line in text.splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if entry.get("path") == route and entry.get("status") == 200:
                        found.append(float(entry["ms"]))
        return found


# -- measurements ---------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the final table."""

    measure: str
    ours: str
    peer: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None


@dataclass
class Report:
    """The table, the notes and the breakdown, printed at the end."""

    rows: list[Row] = field(default_factory=list)
    breakdown: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.rows.append(Row(*args, **kwargs))

    def print(self) -> None:
        widths = [60, 15, 15, 9, 14, 4]
        heads = ["measurement", "ours", "peer", "ratio", "target", "met?"]
        print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)))
        print("  ".join("-" * w for w in widths))
        for r in self.rows:
            met = "" if r.met is None else ("yes" if r.met else "NO")
            cells = [r.measure, r.ours, r.peer, r.ratio, r.target, met]
            print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
        if self.breakdown:
            print("\nWhere the time goes:")
            for line in self.breakdown:
                print(f"  {line}")
        if self.notes:
            print("\nNotes:")
            for line in self.notes:
                print(f"  - {line}")


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else (f"{value:.2f} ms" if value < 10 else f"{value:.0f} ms")


def rate(t: Throughput | None) -> str:
    if t is None:
        return "skipped"
    flag = "" if t.clean else "*"
    return (
        f"{t.requests_per_s:,.1f}/s{flag}"
        if t.requests_per_s < 100
        else f"{t.requests_per_s:,.0f}/s{flag}"
    )


def quantiles(values: list[float]) -> tuple[float, float, float]:
    """(median, p90, p99)."""
    if not values:
        return math.nan, math.nan, math.nan
    return statistics.median(values), percentile(values, 0.9), percentile(values, 0.99)


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` calls of ``function``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def sparql_path(endpoint: str, query: str) -> str:
    return f"{endpoint}?{urllib.parse.urlencode({'query': query})}"


def ok(samples: list[Sample]) -> list[float]:
    bad = [s.status for s in samples if s.status != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} answers were not 200 (first: {bad[0]})")
    return [s.ms for s in samples]


@contextlib.contextmanager
def terminated_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt, so the finally blocks stop the servers."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- the run --------------------------------------------------------------------------------


def flask_alone(
    settings: Settings, directory: Directory, paths_by_kind: dict[str, list[str]]
) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    """The Flask app itself (no HTTP server, no socket), through Flask's test client in
    this process, on the directory already built here: for each kind of request, the
    median milliseconds, where its own time goes (a cProfile of 100 requests, by package)
    and the garbage collector's pauses while it ran."""
    from registry.app import create_app

    app = create_app(settings)
    app.extensions["ltc_snapshots"] = SnapshotHolder(
        lambda: open_store(settings, writer=False), build=lambda _store: directory
    )
    client = app.test_client()
    found: dict[str, float] = {}
    profiles: dict[str, str] = {}
    collections: dict[str, str] = {}
    pauses: list[tuple[int, float]] = []
    began = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - began[0]) * 1000))

    try:
        for kind, paths in paths_by_kind.items():
            headers = JSON_RESULTS if kind == "point" else {}
            client.get(paths[0], headers=headers)  # warm: workers, gazetteer
            times = []
            pauses.clear()
            gc.callbacks.append(on_gc)
            try:
                for path in paths:
                    started = time.perf_counter()
                    response = client.get(path, headers=headers)
                    times.append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise RuntimeError(f"test client: {path[:80]} answered {response.status}")
            finally:
                gc.callbacks.remove(on_gc)
            found[kind] = statistics.median(times)
            full = [pause for generation, pause in pauses if generation == 2]
            collections[kind] = (
                f"{len(pauses)} collections during {len(paths)} requests, "
                f"{sum(p for _, p in pauses):.0f} ms in all ({sum(times):.0f} ms of requests); "
                f"{len(full)} full ones, longest {max(full, default=0):.0f} ms"
            )
            profiler = cProfile.Profile()
            profiler.enable()
            for path in paths[:100]:
                client.get(path, headers=headers)
            profiler.disable()
            profiles[kind] = own_time_by_package(profiler)
    finally:
        pool = app.extensions.get("ltc_pool")
        if pool is not None:
            pool.close()
    return found, profiles, collections


def own_time_by_package(profiler: cProfile.Profile, top: int = 8) -> str:
    """The profile's own (not cumulative) time summed by package or module, largest first."""
    stats = pstats.Stats(profiler)
    by_package: dict[str, float] = {}
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        if filename == "~":
            name = function.strip("<>{}").replace("built-in method ", "")
            name = "builtin " + name.split(" of ")[0]
        elif "site-packages/" in filename:
            name = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif str(ROOT) in filename:
            name = str(Path(filename).relative_to(ROOT))
        else:
            name = "stdlib " + Path(filename).stem
        by_package[name] = by_package.get(name, 0.0) + own
    total = sum(by_package.values()) or 1.0
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    return ", ".join(f"{name} {share / total:.0%}" for name, share in ranked)


_HOME_BODIES: dict[str, bytes] = {}
# what the home page's map asks first on a 1280 × 800 screen: France, padded, at zoom 6
HOME_MAP_VIEW = "/carte.json?zoom=6&bbox=40.5,-7.5,52.5,11.5"


def home_page_weight(port: int) -> dict[str, int]:
    """Bytes of what a browser loads for the home page: the HTML, its stylesheets and
    scripts, the icon sprite and the first /carte.json of the map (tiles aside, they come
    from the tile server); path → bytes, the bodies kept in ``_HOME_BODIES``."""

    def get(path: str) -> bytes:
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        connection.request("GET", path, headers={"Accept": "*/*"})
        answer = connection.getresponse()
        body = answer.read()
        connection.close()
        if answer.status != 200:
            raise RuntimeError(f"{path}: {answer.status}")
        return body

    page = get("/")
    found = {"/": page}
    text = page.decode("utf-8")
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)
    links += re.findall(r'<script src="([^"]+)"', text)
    links += sorted({m.split("#")[0] for m in re.findall(r'<use href="([^"]+)"', text)})
    for link in links:
        path = link.replace("&amp;", "&")
        if path.startswith("/") and path not in found:
            found[path] = get(path)
    found[HOME_MAP_VIEW] = get(HOME_MAP_VIEW)
    _HOME_BODIES.clear()
    _HOME_BODIES.update(found)
    return {path: len(body) for path, body in found.items()}


def serve_env(data_dir: Path) -> dict[str, str]:
    """The environment of ``ltc serve``: no inherited LTC_* setting, huge rate limits (a
    load generator is one client address; each web process has its own allowance)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTC_")}
    env.update(
        LTC_DATA_DIR=str(data_dir),
        LTC_SPARQL_RATE_LIMIT="100000000",
        LTC_SEARCH_RATE_LIMIT="100000000",
        LTC_EXPORT_RATE_LIMIT="100000000",
        PYTHONUNBUFFERED="1",
    )
    return env


def serve_command(port: int, workers: int) -> list[str]:
    return [
        str(BIN / "ltc"),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def new_generation_served(settings: Settings, server: Server) -> tuple[float, float]:
    """Publish a generation (one place renamed) as the harvest does, directory file
    included: the seconds the publish step took (the file is built before the
    publication), and the seconds from its end until ``server`` answers from it."""
    with open_store(settings, writer=True) as writer:
        (row,) = writer.select(
            "SELECT ?g ?p WHERE { GRAPH ?g { ?p a <https://schema.org/Place> } } LIMIT 1"
        )
        graph, place = row["g"].value, row["p"].value
        writer.update(
            f"INSERT DATA {{ GRAPH <{graph}> {{ <{place}> <https://schema.org/alternateName> "
            '"Nouveau nom" } }'
        )
        begun = time.monotonic()
        publish(writer, settings)
        started = time.monotonic()
        generation = writer.generation()
    while time.monotonic() - started < 600:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=30)
        connection.request("GET", "/health")
        answer = json.loads(connection.getresponse().read() or b"{}")
        connection.close()
        if answer.get("generation") == generation:
            return started - begun, time.monotonic() - started
        time.sleep(0.05)
    return started - begun, math.inf


def run(args: argparse.Namespace, folder: Path, servers: list[Server], report: Report) -> None:
    rng = random.Random(2026)
    cores = os.cpu_count()
    print(f"machine: {cores} cores, shared by the servers and the load generator", flush=True)
    load_tool = "wrk" if have_wrk() else "Python processes (wrk not found)"
    print(f"load generator: {load_tool}, {args.connections} keep-alive connections", flush=True)

    # 1. the data, the servers ------------------------------------------------------------
    data_dir = folder / "data"
    settings: Settings = load_settings(
        overrides={"data_dir": str(data_dir), "sparql_rate_limit": 100_000_000}, environ={}
    )
    started = time.perf_counter()
    count = load_direct(settings, args.places, args.feeds)
    print(
        f"store: {count} valid places loaded in {time.perf_counter() - started:.1f} s", flush=True
    )
    store = open_store(settings, writer=False)
    snapshot = data_dir / "snapshots" / store.generation()
    folder_paths = DataFolder(data_dir)
    iris = Iris(settings.base_iri)

    # The directory file, as the harvest writes it when it publishes.
    started = time.perf_counter()
    directory = load_directory(store, iris, folder_paths)
    build_s = time.perf_counter() - started
    file_path = folder_paths.directory_file(store.generation())
    report.add(
        f"directory file build ({file_path.stat().st_size / 1e6:.0f} MB, as the harvest does)",
        f"{build_s:.1f} s",
        target="<= 15 s",
        met=build_s <= 15,
    )

    # Ready without the file: the first web process builds it (under the folder's lock).
    aside = file_path.with_suffix(".aside")
    file_path.rename(aside)
    cold = start(
        "ltc-serve-cold", serve_command(port := free_port(), 1), folder, serve_env(data_dir), port
    )
    servers.append(cold)
    cold_s = wait_ready(cold, "/api/places?lat=48.85&lon=2.35&radius=10", {}, 1800)
    cold.stop()
    servers.remove(cold)
    aside.replace(file_path)
    report.add(
        "near-me API ready after `ltc serve` starts, no directory file (it builds it)",
        f"{cold_s:.1f} s",
    )

    ours = start(
        "ltc-serve",
        serve_command(port := free_port(), 1),
        folder,
        serve_env(data_dir),
        port,
    )
    servers.append(ours)
    wait_ready(ours, "/api/places?lat=48.85&lon=2.35&radius=10", {}, 1800)
    ready_s = time.monotonic() - ours.started
    report.add(
        "near-me API ready after `ltc serve` starts, directory file there",
        f"{ready_s:.1f} s",
        target="<= 5 s",
        met=ready_s <= 5,
    )
    print(f"ltc serve: near-me API ready {ready_s:.1f} s after start", flush=True)
    oxigraph = rdflib_server = None
    if not args.skip_peers:
        nquads = folder / "federation.nq"
        started = time.perf_counter()
        with open(nquads, "wb") as out:
            store.dump_nquads(out)
        size = nquads.stat().st_size / 1e6
        print(
            f"N-Quads dump for rdflib-endpoint: {size:.0f} MB "
            f"in {time.perf_counter() - started:.1f} s"
        )
        command = [str(BIN / "oxigraph"), "serve-read-only", "--location", str(snapshot)]
        command += ["--bind", f"{HOST}:{(port := free_port())}", "--union-default-graph"]
        oxigraph = start("oxigraph", command, folder, os.environ.copy(), port)
        servers.append(oxigraph)
        command = [str(BIN / "rdflib-endpoint"), "serve", str(nquads), "--host", HOST]
        command += ["--port", str(port := free_port())]
        rdflib_server = start("rdflib-endpoint", command, folder, os.environ.copy(), port)
        servers.append(rdflib_server)
    ask = "ASK { ?s ?p ?o }"
    wait_ready(ours, sparql_path("/sparql", ask), JSON_RESULTS, 120)
    if oxigraph is not None:
        wait_ready(oxigraph, sparql_path("/query", "ASK { ?s ?p ?o }"), JSON_RESULTS, 120)
    if rdflib_server is not None:
        waited = wait_ready(rdflib_server, sparql_path("/", ask), JSON_RESULTS, 1800)
        print(f"rdflib-endpoint: loaded and up after {waited:.0f} s more", flush=True)
    access = AccessLog(ours.log)

    # 2. near-me API vs the SPARQL FILTER ------------------------------------------------------
    communes = _communes()
    centres = []
    for _ in range(args.queries):
        c = rng.choice(communes)
        lat = float(c["latitude"]) + rng.uniform(-0.05, 0.05)
        lon = float(c["longitude"]) + rng.uniform(-0.05, 0.05)
        centres.append((lat, lon))
    api_paths = [f"/api/places?lat={lat:.5f}&lon={lon:.5f}&radius=10" for lat, lon in centres]
    access.mark()
    api_client = ok(sequential(HOST, ours.port, api_paths, {}))
    api_server = access.since("/api/places")
    moment = datetime.now(UTC)
    api_inproc = []
    totals = []
    for lat, lon in centres:
        begun = time.perf_counter()
        results = search(directory, Search(lat=lat, lon=lon, radius_km=10.0), moment)
        api_inproc.append((time.perf_counter() - begun) * 1000)
        totals.append(results.total)

    sparql_near = [sparql_path("/sparql", near_query(lat, lon, 10.0)) for lat, lon in centres]
    access.mark()
    near_samples = sequential(
        HOST, ours.port, sparql_near, JSON_RESULTS, max_seconds=args.duration * 3, min_requests=5
    )
    near_client = ok(near_samples)
    near_server = access.since("/sparql")
    near_inproc = timed(lambda: store.select(near_query(*centres[0], 10.0)), 3)

    c_med, c_p90, c_p99 = quantiles(api_client)
    s_med, _, s_p99 = quantiles(api_server)
    i_med, _, i_p99 = quantiles(api_inproc)
    q_med, _, q_p99 = quantiles(near_client)
    report.add(
        f"near-me API 10 km, median (client; n={len(api_client)})",
        ms(c_med),
        target="<= 3 ms",
        met=c_med <= 3,
    )
    report.add("near-me API 10 km, p90 (client)", ms(c_p90))
    report.add("near-me API 10 km, p99 (client)", ms(c_p99), target="<= 30 ms", met=c_p99 <= 30)
    report.add(
        f"near-me: API (ours) vs SPARQL FILTER via /sparql (peer; n={len(near_client)})",
        ms(c_med),
        ms(q_med),
        f"{q_med / c_med:.0f}x",
        ">= 10x faster",
        q_med / c_med >= 10,
    )
    report.breakdown.append(
        f"near-me API ({statistics.mean(totals):.0f} places within 10 km on average, 20 per "
        f"page): client median {ms(c_med)} / p99 {ms(c_p99)}; server (access log) "
        f"{ms(s_med)} / {ms(s_p99)}; in-process places.search {ms(i_med)} / {ms(i_p99)}. "
        f"HTTP and JSON around the search: {ms(s_med - i_med)} at the server, "
        f"{ms(c_med - s_med)} between server and client (median)."
    )
    report.breakdown.append(
        f"SPARQL FILTER near-me: client median {ms(q_med)} / p99 {ms(q_p99)}; server "
        f"{ms(statistics.median(near_server) if near_server else math.nan)}; the same query "
        f"in-process {ms(statistics.median(near_inproc))} (a scan of every coordinate)."
    )

    # 3. public search page ---------------------------------------------------------------------
    picked = rng.sample(communes, min(args.queries, len(communes)))
    page_paths = [f"/?{urllib.parse.urlencode({'q': c['nom']})}" for c in picked]
    page_paths += [f"/?{urllib.parse.urlencode({'q': c['code_postal']})}" for c in picked[:50]]
    access.mark()
    page_samples = sequential(HOST, ours.port, page_paths, {"Accept": "text/html"})
    statuses = {s.status for s in page_samples}
    page_server = access.since("/")
    page_client = [s.ms for s in page_samples if s.status == 200]
    p_med, _, p_p99 = quantiles(page_server)
    if not page_server:
        report.notes.append(f"public search page '/': no 200 answer (statuses {statuses}); skipped")
    else:
        report.add(
            f"public search /?q=commune|postcode, server median (n={len(page_server)})",
            ms(p_med),
            target="< 100 ms",
            met=p_med < 100,
        )
        report.add(
            "public search /?q=..., server p99", ms(p_p99), target="< 100 ms", met=p_p99 < 100
        )
        slowest = ""
        if len(page_server) == len(page_paths):
            ranked = sorted(zip(page_server, page_paths, strict=True), reverse=True)[:3]
            slowest = "; slowest: " + ", ".join(
                f"{urllib.parse.unquote_plus(path[4:])} {ms(t)}" for t, path in ranked
            )
        report.breakdown.append(
            f"public search page: server median {ms(p_med)} / p99 {ms(p_p99)}, client median "
            f"{ms(statistics.median(page_client))}; statuses {sorted(statuses)}{slowest}."
        )

    # 3b. the home page and its map of France ---------------------------------------------------
    weight = home_page_weight(ours.port)
    raw, packed = sum(weight.values()), sum(len(gzip.compress(b)) for b in _HOME_BODIES.values())
    report.add(
        f"home page + map of France, {len(weight)} files (gzip {packed / 1000:.0f} KB)",
        f"{raw / 1000:.0f} KB",
        target="< 300 KB",
        met=raw < 300_000,
    )
    report.breakdown.append(
        "home page (no tiles): "
        + ", ".join(f"{path.split('?')[0]} {size / 1000:.1f} KB" for path, size in weight.items())
        + f"; {raw / 1000:.0f} KB as served, {packed / 1000:.0f} KB gzipped (nginx)."
    )

    # 4. throughput -------------------------------------------------------------------------------
    place_iris = rng.sample(sorted(directory.cards), min(2000, len(directory.cards)))
    point_queries = [POINT_QUERY.format(iri=iri) for iri in place_iris]
    endpoints: list[tuple[str, Server | None, str]] = [
        ("ours", ours, "/sparql"),
        ("oxigraph", oxigraph, "/query"),
        ("rdflib-endpoint", rdflib_server, "/"),
    ]
    results: dict[tuple[str, str], Throughput | None] = {}
    server_ms: dict[str, list[float]] = {}
    cpu: dict[tuple[str, str], CpuUse] = {}

    def measure(kind: str, name: str, server: Server, paths: list[str], headers: dict) -> None:
        probe = ok(sequential(HOST, server.port, paths[:3], headers))
        probe_s = statistics.median(probe) / 1000
        access.mark()
        before = CpuUse.now(server.process.pid)
        if name == "rdflib-endpoint" and probe_s > SLOW_ANSWER_S:
            # one asyncio process running each query to its end: one request at a time
            # measures the same throughput as N connections, without N-1 timing out
            cap = min(args.peer_cap, max(args.duration, 2 * probe_s))
            result = slow_throughput(HOST, server.port, paths, headers, cap)
            report.notes.append(
                f"{name} {kind}: {probe_s:.2f} s per answer; its server runs one query at a "
                f"time, so it was measured one request at a time for ~{cap:.0f} s "
                f"({result.requests} answers)"
            )
        else:
            # long enough for every connection to finish several answers: wrk counts only
            # the answers that end within the run
            seconds = args.duration
            if probe_s * args.connections / (cores or 1) > args.duration / 6:
                seconds = min(args.peer_cap, probe_s * args.connections * 6 / (cores or 1))
                seconds = max(seconds, args.duration)
                report.notes.append(
                    f"{name} {kind}: {probe_s:.2f} s per answer alone, so measured for "
                    f"{seconds:.0f} s"
                )
            timeout = max(30.0, 10 * probe_s)
            result = throughput(
                HOST, server.port, paths, headers, seconds, args.connections, timeout=timeout
            )
        cpu[kind, name] = CpuUse.now(server.process.pid).minus(before)
        if name == "ours":
            server_ms[kind] = access.since(ROUTES.get(kind, "/sparql"))
        if not result.clean:
            report.notes.append(
                f"{name} {kind}: {result.bad_status} non-2xx answers, "
                f"{result.socket_errors} socket errors of "
                f"{result.requests} requests (marked *; req/s counts only 2xx/3xx answers; "
                "ours answers 503 when a query waited or ran over sparql_timeout, "
                f"{settings.sparql_timeout:g} s)"
            )
        results[kind, name] = result
        print(f"  {kind:<6} {name:<16} {rate(result)}", flush=True)

    for kind, queries in (("point", point_queries), ("group", [GROUP_QUERY])):
        for name, server, endpoint in endpoints:
            if server is None:
                results[kind, name] = None
                continue
            measure(kind, name, server, [sparql_path(endpoint, q) for q in queries], JSON_RESULTS)
    measure("health", "ours", ours, ["/health"], {})
    measure("api", "ours", ours, api_paths, {})

    def ratio_row(kind: str, peer: str, measure: str, target: float | None) -> None:
        mine, theirs = results[kind, "ours"], results[kind, peer]
        if theirs is None or mine is None:
            report.add(measure, rate(mine), "skipped")
            return
        value = mine.requests_per_s / theirs.requests_per_s if theirs.requests_per_s else math.inf
        shown = f"{value:.2f}x" if value < 10 else f"{value:.0f}x"
        if target is None:
            report.add(measure, rate(mine), rate(theirs), shown)
            return
        sign = f">= {target:g}x" if target >= 1 else f">= {target:.0%}"
        report.add(measure, rate(mine), rate(theirs), shown, sign, value >= target)

    ratio_row("point", "rdflib-endpoint", "SPARQL point query req/s vs rdflib-endpoint", 3)
    ratio_row("point", "oxigraph", "SPARQL point query req/s vs Oxigraph server", 0.15)
    ratio_row("group", "oxigraph", "GROUP BY all places req/s vs Oxigraph server", 0.8)
    ratio_row("group", "rdflib-endpoint", "GROUP BY all places req/s vs rdflib-endpoint", None)
    report.add("near-me API req/s (for scale)", rate(results["api", "ours"]))
    report.add("/health req/s (HTTP stack alone)", rate(results["health", "ours"]))

    # where SPARQL time goes: in-process, through a worker pipe, in the Flask app, at the
    # server, at the client
    with QueryPool(settings, workers=1, timeout=60, max_rows=settings.sparql_max_rows) as pool:
        pool.run(point_queries[0])
        point_inproc = [timed(lambda q=q: store.select(q), 1)[0] for q in point_queries[:500]]
        point_pool = [timed(lambda q=q: pool.run(q), 1)[0] for q in point_queries[:500]]
        group_inproc = timed(lambda: store.select(GROUP_QUERY), 5)
        group_pool = timed(lambda: pool.run(GROUP_QUERY), 5)
    flask_ms, profiles, collections = flask_alone(
        settings,
        directory,
        {
            "health": ["/health"] * 300,
            "point": [sparql_path("/sparql", q) for q in point_queries[:300]],
            "api": api_paths[:100],
            "page": page_paths[:100],
        },
    )
    for kind, inproc, piped in (
        ("point", point_inproc, point_pool),
        ("group", group_inproc, group_pool),
    ):
        mine = results[kind, "ours"]
        assert mine is not None
        at_server = server_ms.get(kind, [])
        line = (
            f"SPARQL {kind}: in-process query median {ms(statistics.median(inproc))}; through "
            f"one worker process and its pipe {ms(statistics.median(piped))}; "
        )
        if kind == "point":
            line += f"the whole Flask app, in-process test client {ms(flask_ms['point'])}; "
        line += (
            f"at the server under load (access log) "
            f"{ms(statistics.median(at_server) if at_server else math.nan)}; client latency "
            f"under load p50 {ms(mine.latency_ms.get('50%', math.nan))} / p99 "
            f"{ms(mine.latency_ms.get('99%', math.nan))}; "
            f"{cpu[kind, 'ours'].per_request(mine.requests)}"
        )
        for peer in ("oxigraph", "rdflib-endpoint"):
            theirs = results[kind, peer]
            if theirs is not None:
                use = cpu[kind, peer]
                line += (
                    f". {peer}: p50 {ms(theirs.latency_ms.get('50%', math.nan))}, "
                    f"{1000 * (use.main + use.children) / max(1, theirs.requests):.2f} ms "
                    "of server CPU per request"
                )
        report.breakdown.append(line + ".")
    for kind, what in (("health", "/health"), ("api", "near-me API")):
        mine = results[kind, "ours"]
        assert mine is not None
        report.breakdown.append(
            f"{what} under load: {rate(mine)}; at the server (access log) "
            f"{ms(statistics.median(server_ms[kind]) if server_ms[kind] else math.nan)}; "
            f"{cpu[kind, 'ours'].per_request(mine.requests)}."
        )
    for kind, what in (
        ("api", "near-me API"),
        ("page", "public search page"),
        ("point", "SPARQL point query"),
        ("health", "/health"),
    ):
        report.breakdown.append(
            f"{what}, Flask app alone (test client) median {ms(flask_ms[kind])}; own time by "
            f"package (cProfile of 100 requests; a SPARQL worker's time is not in it): "
            f"{profiles[kind]}; garbage collector: {collections[kind]}."
        )
    report.breakdown.append(
        "waitress runs the Flask app in 8 threads of one Python process (one GIL): the "
        "main process's CPU per request bounds its throughput at about 1000 / that many "
        f"requests per second; SPARQL queries run in {settings.sparql_workers} worker processes."
    )

    # 5. memory ----------------------------------------------------------------------------------
    for server in servers:
        rss, pss, n = memory_mb(server.process.pid)
        report.add(
            f"memory: {server.name} ({n} processes), RSS / PSS",
            f"{rss:.0f} / {pss:.0f} MB" if server is ours else "",
            "" if server is ours else f"{rss:.0f} / {pss:.0f} MB",
        )
    store.close()

    # 6. a new generation; one web process against two ------------------------------------------
    step_s, switch_s = new_generation_served(settings, ours)
    report.add(
        "publish step of the harvest, the directory file built first",
        f"{step_s:.1f} s",
    )
    report.add(
        "new generation served after its publication (the publish step's end)",
        f"{switch_s:.1f} s",
        target="<= 10 s",
        met=switch_s <= 10,
    )
    for server in list(servers):  # alone on the machine: memory and throughput comparable
        server.stop()
        servers.remove(server)
    by_workers: dict[int, tuple[Throughput, float, float, int]] = {}
    for workers in (1, 2):
        server = start(
            f"ltc-serve-{workers}w",
            serve_command(port := free_port(), workers),
            folder,
            serve_env(data_dir),
            port,
        )
        servers.append(server)
        wait_ready(server, api_paths[0], {}, 600)
        for query in point_queries[:10]:  # new connections: every web process gets some
            connection = http.client.HTTPConnection(HOST, server.port, timeout=60)
            connection.request("GET", sparql_path("/sparql", query), headers=JSON_RESULTS)
            connection.getresponse().read()
            connection.close()
        result = throughput(HOST, server.port, api_paths, {}, args.duration, args.connections)
        rss, pss, n = memory_mb(server.process.pid)
        by_workers[workers] = (result, rss, pss, n)
        print(
            f"  --workers {workers}: {rate(result)}, PSS {pss:.0f} MB ({n} processes)", flush=True
        )
        server.stop()
        servers.remove(server)
    one, two = by_workers[1], by_workers[2]
    for workers, (_, rss, pss, n) in by_workers.items():
        report.add(
            f"memory: ltc serve --workers {workers} ({n} processes, after load), RSS / PSS",
            f"{rss:.0f} / {pss:.0f} MB",
            target="<= 400 MB PSS" if workers == 2 else "",
            met=pss <= 400 if workers == 2 else None,
        )
    added = two[2] - one[2]
    report.add(
        "memory: one more web process (PSS --workers 2 minus --workers 1)",
        f"{added:.0f} MB",
        target="<= 60 MB",
        met=added <= 60,
    )
    gain = two[0].requests_per_s / one[0].requests_per_s if one[0].requests_per_s else math.nan
    report.add(
        "near-me API req/s: --workers 2 vs --workers 1",
        rate(two[0]),
        rate(one[0]),
        f"{gain:.2f}x",
        ">= 1.8x",
        gain >= 1.8,
    )
    report.notes.append(
        "--workers 1 and 2 are measured one after the other, alone (peers stopped), after "
        "the same load: 10 SPARQL queries on new connections (the query workers start) "
        f"and {args.duration:g} s of near-me requests; PSS counts every process (parent, "
        "web processes, query workers and their forkserver) and splits the mapped "
        "directory file among them."
    )
    report.notes.append(
        f"{count} places, {cores} cores; the load generator ({load_tool}) and the servers "
        "share the cores, so figures are noisy: compare ratios. Latencies are measured "
        "one request at a time; throughput with "
        f"{args.connections} keep-alive connections for {args.duration:g} s each."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=12)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--queries", type=int, default=200, help="near-me requests")
    parser.add_argument(
        "--peer-cap", type=float, default=60.0, help="most seconds for a run of a slow query"
    )
    parser.add_argument("--skip-peers", action="store_true", help="only ltc serve")
    parser.add_argument("--keep", type=Path, help="keep the data and logs in this folder")
    args = parser.parse_args()
    if not args.skip_peers:
        missing = [b for b in ("oxigraph", "rdflib-endpoint") if not (BIN / b).exists()]
        if missing:
            parser.error(f"not installed next to {sys.executable}: {', '.join(missing)}")
    report = Report()
    servers: list[Server] = []
    folder = Path(tempfile.mkdtemp(prefix="ltc-service-"))
    try:
        with terminated_on_sigterm():
            run(args, folder, servers, report)
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            shutil.copytree(folder, args.keep, dirs_exist_ok=True, ignore=_big_files)
        shutil.rmtree(folder, ignore_errors=True)
        print()
        report.print()


def _big_files(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n.endswith(".nq") or n in ("data",)]


if __name__ == "__main__":
    main()
