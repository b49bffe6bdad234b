"""Harvest benchmark: a national-scale federation served over HTTP on 127.0.0.1.

Measures, in one run, on this machine: the cold harvest of every feed as ``ltc harvest``
runs it, up to the publication of the sources and up to that of the derived graph (wall
time; peak memory of every process it starts, sampled), what loading alone costs (the
floor), a re-harvest with nothing changed, a re-harvest with 1% of one feed's records
changed (both with the derived graph), and the naive way (rdflib parse, whole-graph
pyshacl, load) on the same feeds. With ``--baseline-code``, the cold harvest is also
run by another version of the code (e.g. main's) on the same feeds, in the same run.
Prints each figure beside its target; asserts nothing.

    python benchmarks/harvest_benchmark.py [--places 100000] [--feeds 12]
        [--naive-share 0.05]   # share of the federation the naive way is timed on
                               # (then extrapolated per statement, and labelled so)
        [--runs 1]             # cold harvests to take the median of
        [--baseline-code DIR]  # a checkout to compare with, e.g. made by
                               # git archive main | tar -x -C DIR
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from national_federation import generate

from core.config import load_settings
from harvester.harvest import Outcome
from ltc.pipeline import harvest


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[tuple[str, int]]:
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
        yield f"http://127.0.0.1:{port}/", server.pid
    finally:
        server.terminate()
        server.wait()


class MemorySampler:
    """Peak resident memory of this process and of every process it starts (the
    harvest's workers are grandchildren, under the forkserver), sampled from /proc
    every 0.1 s: each process's peak, and the peak of their sum at one moment."""

    def __init__(self, exclude: set[int]) -> None:
        self.exclude = exclude
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (name, kB)
        self.peak_sum = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            total = 0
            for pid, name, rss in self._descendants():
                total += rss
                if rss > self.peaks.get(pid, ("", 0))[1]:
                    self.peaks[pid] = (name, rss)
            self.peak_sum = max(self.peak_sum, total)

    def _descendants(self) -> list[tuple[int, str, int]]:
        parents: dict[int, int] = {}
        status: dict[int, tuple[str, int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                text = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
            parents[int(entry)] = int(fields.get("PPid", "0"))
            rss = int(fields.get("VmRSS", "0 kB").split()[0])
            status[int(entry)] = (fields.get("Name", "").strip(), rss)
        me, found = os.getpid(), []
        for pid in status:
            walk = pid
            while walk and walk != me and walk not in self.exclude:
                walk = parents.get(walk, 0)
            if walk == me:
                found.append((pid, *status[pid]))
        return found

    def largest_mb(self) -> float:
        return max((rss for _name, rss in self.peaks.values()), default=0) / 1024

    def summary(self) -> str:
        biggest = sorted(self.peaks.values(), key=lambda p: -p[1])[:4]
        listed = ", ".join(f"{name} {rss / 1024:.0f}" for name, rss in biggest)
        return f"{len(self.peaks)} processes; largest peaks (MB): {listed}"


class DerivedTimer(logging.Handler):
    """The derived graph's seconds, from the line ``convergence.derived_graph`` logs."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds = 0.0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("derived graph:"):
            self.seconds = float(record.args[-1])


def timed_harvest(settings, label: str) -> tuple[float, float, list[Outcome]]:
    """``ltc harvest``'s work (sources, then the derived graph): seconds up to the
    publication of the derived graph, and of those the derived graph's own."""
    timer = DerivedTimer()
    logger = logging.getLogger("ltc.convergence")
    logger.addHandler(timer)
    logger.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        outcomes = harvest(settings)
    finally:
        logger.removeHandler(timer)
    seconds = time.perf_counter() - started
    statuses = {o.status for o in outcomes}
    accepted = sum(o.accepted for o in outcomes)
    revalidated = sum(o.revalidated for o in outcomes)
    print(
        f"  {label:<34} {seconds:7.1f} s   (derived graph {timer.seconds:.1f} s of it)  "
        f"statuses {sorted(statuses)}  accepted {accepted}  revalidated {revalidated}",
        flush=True,
    )
    stages: dict[str, float] = {}
    for outcome in outcomes:
        for stage, spent in outcome.timings.items():
            stages[stage] = stages.get(stage, 0.0) + spent
    if stages:
        where = ", ".join(f"{stage} {spent:.1f}" for stage, spent in stages.items())
        print(f"  {'':<34} seconds per stage, summed over feeds: {where}", flush=True)
    return seconds, timer.seconds, outcomes


BASELINE_SCRIPT = """
import json, logging, sys, time
sys.path.insert(0, sys.argv[1])
from core.config import load_settings
from ltc import pipeline
settings = load_settings(overrides=json.loads(sys.argv[2]), environ={})
started = time.perf_counter()
pipeline.harvest(settings, derive=False)
sources = time.perf_counter() - started
with pipeline.open_store(settings, writer=True) as store:
    if pipeline.update_derived_graph(store, settings, force=True):
        store.publish()
print(json.dumps({"sources": sources, "total": time.perf_counter() - started,
                  "code": pipeline.__file__}))
"""


def baseline_harvest(code: Path, overrides: dict) -> dict:
    """The cold harvest, then the derived graph, by the code in ``code`` (another
    version, e.g. main's) in a process of its own, on the same feeds."""
    command = [sys.executable, "-c", BASELINE_SCRIPT, str(code), json.dumps(overrides)]
    environment = {**os.environ, "PYTHONPATH": str(code)}  # the forkserver's workers too
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"  {'baseline: cold harvest':<34} {figures['total']:7.1f} s   (sources published "
        f"after {figures['sources']:.1f} s; code {figures['code']})",
        flush=True,
    )
    return figures


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
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=12)
    parser.add_argument("--naive-share", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=1, help="cold harvests to take the median of")
    parser.add_argument(
        "--baseline-code",
        type=Path,
        help="a checkout of another version of the code (e.g. `git archive main | tar -x "
        "-C DIR`): its cold harvest is measured on the same feeds, in the same run",
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.places} places in {args.feeds} feeds")
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    with tempfile.TemporaryDirectory(prefix="ltc-bench-") as tmp:
        folder = Path(tmp)
        feeds = folder / "feeds"
        with serve(feeds) as (url, server_pid):
            sources = generate(feeds, args.places, args.feeds, url)
            for s in sources:
                s["places"] = args.places // args.feeds
            total = sum(s["triples"] for s in sources)
            print(f"federation: {total} statements, served at {url}")

            def overrides(name: str) -> dict:
                return {
                    "data_dir": str(folder / name),
                    "sources_file": str(feeds / "sources.toml"),
                    "fetch_allow_networks": "127.0.0.1/32",
                    "max_feed_bytes": 512 * 1024 * 1024,
                }

            baselines = []
            cold_runs, published_runs = [], []
            for run in range(args.runs):
                if args.baseline_code:
                    baselines.append(baseline_harvest(args.baseline_code, overrides(f"base-{run}")))
                settings = load_settings(overrides=overrides(f"data-{run}"), environ={})
                with MemorySampler(exclude={server_pid}) as memory:
                    seconds, derived, _ = timed_harvest(settings, f"cold harvest (run {run + 1})")
                cold_runs.append(seconds)
                published_runs.append(seconds - derived)
                print(f"  {'':<34} memory: {memory.summary()}", flush=True)
            cold = statistics.median(cold_runs)
            published = statistics.median(published_runs)
            floor = load_floor(settings, folder)
            unchanged, _, _ = timed_harvest(settings, "re-harvest, nothing changed")
            generate(feeds, args.places, args.feeds, url, changed_feed=0, changed_share=0.01)
            changed, changed_derived, _ = timed_harvest(
                settings, "re-harvest, 1% of one feed changed"
            )
            naive_seconds, naive_statements = naive(folder, sources, args.naive_share)
            naive_full = naive_seconds * total / naive_statements

    def beside(ours: float, key: str) -> str:
        if not baselines:
            return ""
        theirs = statistics.median(b[key] for b in baselines)
        return f"{theirs:>9.1f}s {theirs / ours:>6.2f}x"

    print()
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    print(f"{'measure':<46} {'ours':>10} {'target':>12} {'baseline':>10} {'gain':>7}")
    print(
        f"{'cold harvest incl. derived graph (median)':<46} {cold:>9.1f}s {'<= 60 s':>12} "
        f"{beside(cold, 'total')}"
    )
    print(
        f"{'  of which: sources published after':<46} {published:>9.1f}s {'':>12} "
        f"{beside(published, 'sources')}"
    )
    print(f"{'floor: the same statements bulk-loaded alone':<46} {floor:>9.1f}s")
    print(
        f"{'peak RSS of any one process (cold harvest)':<46} "
        f"{memory.largest_mb():>8.0f}MB {'<= 2048 MB':>12}"
    )
    print(f"{'peak RSS of all its processes at once':<46} {memory.peak_sum / 1024:>8.0f}MB")
    print(f"{'re-harvest, nothing changed':<46} {unchanged:>9.1f}s {'<= 3 s':>12}")
    print(
        f"{'re-harvest, 1% of one feed changed, incl. derived':<46} {changed:>9.1f}s "
        f"{'<= 10 s':>12}"
    )
    print(f"{'  of which the derived graph':<46} {changed_derived:>9.1f}s")
    print(
        f"{'naive way (extrapolated from ' + format(args.naive_share, '.0%') + ')':<46} "
        f"{naive_full:>9.1f}s"
    )
    print(f"{'naive / ours':<46} {naive_full / cold:>9.1f}x {'>= 2.5x':>12}")


if __name__ == "__main__":
    main()
