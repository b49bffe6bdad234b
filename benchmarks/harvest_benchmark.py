"""Harvest benchmark: a national-scale federation served over HTTP on 127.0.0.1.

Measures, in one run, on this machine: the cold harvest of every feed (wall time and
peak memory), what loading alone costs (the floor), the derived graph after it, a
re-harvest with nothing changed, a re-harvest with 1% of one feed's records changed and
the derived graph after it, and the naive way (rdflib parse, whole-graph pyshacl, load)
on the same feeds. Prints each figure beside its target; asserts nothing.

    python benchmarks/harvest_benchmark.py [--places 100000] [--feeds 12]
        [--naive-share 0.05]   # share of the federation the naive way is timed on
                               # (then extrapolated per statement, and labelled so)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from national_federation import generate

from convergence.derived_graph import update_derived_graph
from core.config import load_settings
from core.store import open_store
from harvester.harvest import Outcome
from ltc.pipeline import harvest


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve the feeds over HTTP on 127.0.0.1 from a process of their own, as a network's
    server would be (inside the harvesting process, it would compete with the writer)."""
    folder.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = subprocess.Popen(
        [*command, "--directory", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the feed server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait()


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def timed_derive(settings, label: str) -> float:
    """The derived graph (convergence) recomputed and published after a harvest."""
    started = time.perf_counter()
    with open_store(settings, writer=True) as store:
        if update_derived_graph(store, settings, force=True):
            store.publish()
    seconds = time.perf_counter() - started
    print(f"  {label:<34} {seconds:7.1f} s", flush=True)
    return seconds


def timed_harvest(settings, label: str) -> tuple[float, list[Outcome]]:
    """A harvest up to the publication of the sources' data (the derived graph, which
    follows it, is timed apart by ``timed_derive``)."""
    started = time.perf_counter()
    outcomes = harvest(settings, derive=False)
    seconds = time.perf_counter() - started
    statuses = {o.status for o in outcomes}
    accepted = sum(o.accepted for o in outcomes)
    revalidated = sum(o.revalidated for o in outcomes)
    print(
        f"  {label:<34} {seconds:7.1f} s   statuses {sorted(statuses)}  "
        f"accepted {accepted}  revalidated {revalidated}",
        flush=True,
    )
    stages: dict[str, float] = {}
    for outcome in outcomes:
        for stage, spent in outcome.timings.items():
            stages[stage] = stages.get(stage, 0.0) + spent
    if stages:
        where = ", ".join(f"{stage} {spent:.1f}" for stage, spent in stages.items())
        print(f"  {'':<34} seconds per stage, summed over feeds: {where}", flush=True)
    return seconds, outcomes


def load_floor(settings, folder: Path) -> float:
    """What loading alone costs: every source's accepted statements bulk-loaded into an
    empty on-disk store, one graph after another, with nothing else running. No harvest
    into this store can be faster than this on this machine."""
    import pyoxigraph as ox

    from core.harvest_files import SourceFiles, known_sources

    store = ox.Store(str(folder / "floor-store"))
    statements = 0
    started = time.perf_counter()
    for source_id in known_sources(settings.data_dir):
        data = SourceFiles(settings.data_dir, source_id).accepted()
        statements += data.count(b"\n")
        graph = ox.NamedNode(f"https://floor.example/{source_id}")
        store.bulk_load(data, ox.RdfFormat.N_TRIPLES, to_graph=graph)
    store.flush()
    seconds = time.perf_counter() - started
    print(f"  {'floor: bulk load alone':<34} {seconds:7.1f} s   {statements} statements")
    return seconds


def naive(folder: Path, sources: list[dict], share: float) -> tuple[float, int]:
    """rdflib parse + whole-graph pyshacl + load, timed on a share of every feed."""
    import pyoxigraph as ox
    import pyshacl
    from national_federation import network_triples, place_records
    from rdflib import Graph

    from harvester.validate import shapes_graph

    statements = 0
    started = time.perf_counter()
    graph = Graph()
    import random

    from national_federation import _communes

    communes = _communes()
    for f, source in enumerate(sources):
        rng = random.Random(f)
        ns = f"https://{source['id']}.example.org/"
        triples = network_triples(ns, f"<{ns}reseau>", source["id"])
        count = int(source["places"] * share)
        for i in range(count):
            triples += place_records(rng, ns, f"<{ns}reseau>", i, communes, rng.random() < 0.02)
        text = "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
        graph.parse(data=text, format="nt")
        statements += len(triples)
    parsed = time.perf_counter()
    pyshacl.validate(graph, shacl_graph=shapes_graph(), inference="none", allow_warnings=True)
    validated = time.perf_counter()
    store = ox.Store(str(folder / "naive-store"))
    store.bulk_load(graph.serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES)
    loaded = time.perf_counter()
    print(
        f"  naive on {statements} statements: parse {parsed - started:.1f} s, "
        f"pyshacl {validated - parsed:.1f} s, load {loaded - validated:.1f} s",
        flush=True,
    )
    return loaded - started, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=12)
    parser.add_argument("--naive-share", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=1, help="cold harvests to take the median of")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.places} places in {args.feeds} feeds")
    with tempfile.TemporaryDirectory(prefix="ltc-bench-") as tmp:
        folder = Path(tmp)
        feeds = folder / "feeds"
        with serve(feeds) as url:
            sources = generate(feeds, args.places, args.feeds, url)
            for s in sources:
                s["places"] = args.places // args.feeds
            total = sum(s["triples"] for s in sources)
            print(f"federation: {total} statements, served at {url}")

            cold_runs = []
            for run in range(args.runs):
                settings = load_settings(
                    overrides={
                        "data_dir": str(folder / f"data-{run}"),
                        "sources_file": str(feeds / "sources.toml"),
                        "fetch_allow_networks": "127.0.0.1/32",
                        "max_feed_bytes": 512 * 1024 * 1024,
                    },
                    environ={},
                )
                seconds, _ = timed_harvest(settings, f"cold harvest (run {run + 1})")
                cold_runs.append(seconds)
            cold = statistics.median(cold_runs)
            rss = peak_rss_mb()
            floor = load_floor(settings, folder)
            derived = timed_derive(settings, "then the derived graph")
            unchanged, _ = timed_harvest(settings, "re-harvest, nothing changed")
            generate(feeds, args.places, args.feeds, url, changed_feed=0, changed_share=0.01)
            changed, _ = timed_harvest(settings, "re-harvest, 1% of one feed changed")
            derived_changed = timed_derive(settings, "then the derived graph")
            naive_seconds, naive_statements = naive(folder, sources, args.naive_share)
            naive_full = naive_seconds * total / naive_statements

    print()
    print(f"{'measure':<44} {'ours':>10} {'target':>14}")
    print(f"{'cold harvest, all feeds (median)':<44} {cold:>9.1f}s {'<= 60 s':>14}")
    print(f"{'floor: the same statements bulk-loaded alone':<44} {floor:>9.1f}s {'':>14}")
    print(f"{'peak RSS during the harvest':<44} {rss:>8.0f}MB {'<= 2048 MB':>14}")
    print(f"{'then the derived graph (convergence)':<44} {derived:>9.1f}s {'':>14}")
    print(f"{'re-harvest, nothing changed':<44} {unchanged:>9.1f}s {'<= 3 s':>14}")
    print(f"{'re-harvest, 1% of one feed changed':<44} {changed:>9.1f}s {'<= 10 s':>14}")
    print(f"{'then the derived graph (convergence)':<44} {derived_changed:>9.1f}s {'':>14}")
    print(
        f"{'naive way (extrapolated from ' + format(args.naive_share, '.0%') + ')':<44} "
        f"{naive_full:>9.1f}s {'':>14}"
    )
    print(f"{'naive / ours':<44} {naive_full / cold:>9.1f}x {'>= 2.5x':>14}")


if __name__ == "__main__":
    main()
