"""Spatial index benchmark: "autour de moi" through the in-memory index vs a SPARQL FILTER.

Builds the national-scale federation of ``national_federation.py`` (100 000 places by
default) and, to save the ~minute of a cold harvest, loads its records straight into an
embedded store as N-Triples, one graph per feed (the ~2% invalid records the harvester
would reject are left out; ``--harvest`` harvests the feeds over HTTP instead). Then
builds the spatial index (time and memory) and runs the same random near-me queries
(radius 10 km around real communes of examples/communes.csv) through the index and
through the equivalent SPARQL query on the same store (bounding-box FILTER and
equirectangular distance: SPARQL has no trigonometry). Prints figures; asserts nothing.

    python benchmarks/spatial_benchmark.py [--places 100000] [--feeds 12] [--queries 200]
        [--radius 10] [--harvest]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from national_federation import _communes, generate, network_triples, place_records

from core.config import load_settings
from core.iris import Iris
from core.store import open_store
from registry.directory import Directory

SPARQL_NEAR = """PREFIX schema: <https://schema.org/>
SELECT ?place ?km2 WHERE {{
  ?place schema:geo ?geo .
  ?geo schema:latitude ?lat ; schema:longitude ?lon .
  FILTER(?lat > {south} && ?lat < {north} && ?lon > {west} && ?lon < {east})
  BIND((?lat - {lat}) * 111.195 AS ?dy)
  BIND((?lon - {lon}) * {kx} AS ?dx)
  BIND(?dx * ?dx + ?dy * ?dy AS ?km2)
  FILTER(?km2 <= {r2})
}}
ORDER BY ?km2"""


def rss_mb() -> float:
    """Current resident memory of this process (Linux), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_direct(settings, places: int, feeds: int, seed: int = 7) -> int:
    """The records national_federation.generate() writes, minus its invalid ones, loaded
    straight into the store (same seeds, so the same places)."""
    communes = _communes()
    per_feed = places // feeds
    loaded = 0
    with open_store(settings, writer=True) as store:
        for f in range(feeds):
            rng = random.Random(seed * 1000 + f)
            sid = f"reseau-{f:02d}"
            ns = f"https://{sid}.example.org/"
            network = f"<{ns}reseau>"
            triples = network_triples(ns, network, f"Réseau national {f}")
            for k in range(per_feed):
                invalid = rng.random() < 0.02
                records = place_records(rng, ns, network, f * per_feed + k, communes, invalid)
                if not invalid:
                    triples += records
                    loaded += 1
            data = "".join(f"{s} {p} {o} .\n" for s, p, o in triples).encode()
            store.replace_graph(f"https://w3id.org/ltc/graph/source/{sid}", data)
        store.publish()
    return loaded


def harvest_over_http(settings_overrides: dict, folder: Path, places: int, feeds: int):
    from harvest_benchmark import serve

    from ltc.pipeline import harvest

    server = serve(folder / "feeds")
    url = f"http://127.0.0.1:{server.server_port}/"
    generate(folder / "feeds", places, feeds, url)
    settings = load_settings(
        overrides={
            **settings_overrides,
            "sources_file": str(folder / "feeds" / "sources.toml"),
            "fetch_allow_networks": "127.0.0.1/32",
            "max_feed_bytes": 512 * 1024 * 1024,
        },
        environ={},
    )
    outcomes = harvest(settings)
    server.shutdown()
    return settings, sum(o.accepted for o in outcomes)


def near_query(lat: float, lon: float, radius: float) -> str:
    """The SPARQL near-me query: a bounding box, then the equirectangular km²."""
    dlat = radius / 111.195
    kx = 111.195 * math.cos(math.radians(lat))
    dlon = radius / kx
    return SPARQL_NEAR.format(
        lat=f"{lat:.6e}",  # doubles: pyoxigraph's fixed-point decimals overflow
        lon=f"{lon:.6e}",
        south=f"{lat - dlat:.6f}",
        north=f"{lat + dlat:.6f}",
        west=f"{lon - dlon:.6f}",
        east=f"{lon + dlon:.6f}",
        kx=f"{kx:.6e}",
        r2=f"{radius**2:.6e}",
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=12)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--radius", type=float, default=10.0)
    parser.add_argument("--harvest", action="store_true", help="harvest over HTTP instead")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.places} places in {args.feeds} feeds")
    with tempfile.TemporaryDirectory(prefix="ltc-spatial-") as tmp:
        folder = Path(tmp)
        overrides = {"data_dir": str(folder / "data")}
        started = time.perf_counter()
        if args.harvest:
            settings, count = harvest_over_http(overrides, folder, args.places, args.feeds)
            how = "harvested over HTTP"
        else:
            settings = load_settings(overrides=overrides, environ={})
            count = load_direct(settings, args.places, args.feeds)
            how = "loaded straight into the store (no harvest)"
        print(f"store: {count} valid places {how} in {time.perf_counter() - started:.1f} s")

        store = open_store(settings, writer=False)
        before = rss_mb()
        started = time.perf_counter()
        index = Directory.from_store(store, Iris(settings.base_iri)).index
        build = time.perf_counter() - started
        grown = rss_mb() - before
        print(f"index: {len(index)} places, built in {build:.2f} s, RSS +{grown:.0f} MB")

        rng = random.Random(2026)
        communes = _communes()
        centres = []
        for _ in range(args.queries):
            c = rng.choice(communes)
            centres.append(
                (
                    float(c["latitude"]) + rng.uniform(-0.05, 0.05),
                    float(c["longitude"]) + rng.uniform(-0.05, 0.05),
                )
            )

        index_ms, index_rows = [], []
        for lat, lon in centres:
            started = time.perf_counter()
            found = index.near(lat, lon, args.radius)
            index_ms.append((time.perf_counter() - started) * 1000)
            index_rows.append(len(found))

        sparql_ms, sparql_rows = [], []
        for lat, lon in centres:
            query = near_query(lat, lon, args.radius)
            started = time.perf_counter()
            rows = store.select(query)
            sparql_ms.append((time.perf_counter() - started) * 1000)
            sparql_rows.append(len(rows))
        store.close()

    i_med, i_p99 = statistics.median(index_ms), percentile(index_ms, 0.99)
    s_med, s_p99 = statistics.median(sparql_ms), percentile(sparql_ms, 0.99)
    print(
        f"{args.queries} near-me queries, radius {args.radius:g} km: "
        f"{statistics.mean(index_rows):.0f} places per answer (index), "
        f"{statistics.mean(sparql_rows):.0f} (SPARQL, equirectangular)"
    )
    print()
    print(f"{'measure':<34} {'index':>10} {'SPARQL':>10} {'target (index)':>16}")
    print(f"{'median':<34} {i_med:>8.2f}ms {s_med:>8.1f}ms {'<= 5 ms':>16}")
    print(f"{'p99':<34} {i_p99:>8.2f}ms {s_p99:>8.1f}ms {'<= 50 ms':>16}")
    print(f"{'SPARQL / index (median)':<34} {s_med / i_med:>9.0f}x {'':>10} {'>= 10x':>16}")
    print(f"{'SPARQL / index (p99)':<34} {s_p99 / i_p99:>9.0f}x")
    print(f"{'index build':<34} {build:>9.2f}s")
    print(f"{'index memory (RSS growth)':<34} {grown:>8.0f}MB")


if __name__ == "__main__":
    main()
