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


class ProcessSampler:
    """Peak memory of every process this one starts (the harvest's workers are
    grandchildren, under the forkserver), sampled from /proc every 0.1 s: each
    process's peak RSS, and the peak of their summed PSS."""

    def __init__(self, exclude: set[int]) -> None:
        self.exclude = exclude
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (name, kB)
        self.peak_sum = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProcessSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            total = 0
            for pid, name, rss in self._descendants():
                total += _pss(pid)
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


def _pss(pid: int) -> int:
    """Proportional set size (kB): shared pages divided among the processes sharing
    them, so that a sum over processes counts each page once."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)


def publications(settings, since: float) -> list[float]:
    """Seconds from ``since`` (``time.time()``) to each publication of the store made
    since then: when each snapshot was written."""
    from core.datafolder import DataFolder

    folder = DataFolder(settings.data_dir).snapshots
    times = sorted(path.stat().st_mtime for path in folder.iterdir() if path.is_dir())
    return [moment - since for moment in times if moment >= since]


def timed_harvest(settings, label: str) -> tuple[float, float, list[Outcome]]:
    """``ltc harvest``'s work (sources, then the derived graph): seconds up to its end
    (the publication of the derived graph, when it changed), and up to the publication
    of the sources' data."""
    since = time.time()
    started = time.perf_counter()
    outcomes = harvest(settings)
    seconds = time.perf_counter() - started
    published = (publications(settings, since) or [seconds])[0]
    statuses = {o.status for o in outcomes}
    accepted = sum(o.accepted for o in outcomes)
    revalidated = sum(o.revalidated for o in outcomes)
    print(
        f"  {label:<34} {seconds:7.1f} s   (sources published after {published:.1f} s)  "
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
    return seconds, published, outcomes


COLD_SCRIPT = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from core.config import load_settings
from ltc import pipeline
settings = load_settings(overrides=json.loads(sys.argv[2]), environ={})
since, started = time.time(), time.perf_counter()
outcomes = pipeline.harvest(settings)
total = time.perf_counter() - started
snapshots = Path(settings.data_dir) / "snapshots"
published = sorted(p.stat().st_mtime - since for p in snapshots.iterdir() if p.is_dir())
stages = {}
for outcome in outcomes:
    for stage, spent in outcome.timings.items():
        stages[stage] = stages.get(stage, 0.0) + spent
def cpu(pid):  # user and system seconds, with those of the children it waited for
    text = open(f"/proc/{pid}/stat").read()
    return sum(int(v) for v in text[text.rindex(")") + 2:].split()[11:15]) / TICKS
import multiprocessing.forkserver as forkserver, os
TICKS = os.sysconf("SC_CLK_TCK")
time.sleep(1)  # the last worker ends and the forkserver, which started it, waits for it
server = forkserver._forkserver._forkserver_pid
used = cpu(os.getpid()) + (cpu(server) if server else 0.0)
print(json.dumps({"sources": published[0] if published else total, "total": total,
                  "stages": stages, "code": pipeline.__file__, "cpu": used}))
"""

HERE = Path(__file__).resolve().parents[1]


def cold_harvest(code: Path, overrides: dict, label: str, exclude: set[int]) -> dict:
    """``ltc harvest`` on an empty data folder (sources, then the derived graph) by the
    code in ``code`` (this checkout, or another version such as main's), in a process
    of its own, every process it starts sampled. Its CPU time (its own and its
    workers', counted by the forkserver that waited for them) depends much less on what
    else the shared machine runs than its wall time."""
    command = [sys.executable, "-c", COLD_SCRIPT, str(code), json.dumps(overrides)]
    # from there, and first on the path: the forkserver's workers import it too
    environment = {**os.environ, "PYTHONPATH": str(code)}
    with ProcessSampler(exclude) as sampler:
        done = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=code)
    if done.returncode:
        raise RuntimeError(f"the cold harvest failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures.update(rss=sampler.largest_mb(), rss_sum=sampler.peak_sum)
    print(
        f"  {label:<34} {figures['total']:7.1f} s   (sources published after "
        f"{figures['sources']:.1f} s; {figures['cpu']:.0f} s of CPU; {figures['code']})",
        flush=True,
    )
    where = ", ".join(f"{stage} {spent:.1f}" for stage, spent in figures["stages"].items())
    print(f"  {'':<34} seconds per stage, summed over feeds: {where}", flush=True)
    print(f"  {'':<34} memory: {sampler.summary()}", flush=True)
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

            baselines, ours = [], []
            for run in range(args.runs):
                if args.baseline_code:
                    baselines.append(
                        cold_harvest(
                            args.baseline_code,
                            overrides(f"base-{run}"),
                            f"baseline: cold harvest (run {run + 1})",
                            {server_pid},
                        )
                    )
                ours.append(
                    cold_harvest(
                        HERE,
                        overrides(f"data-{run}"),
                        f"cold harvest (run {run + 1})",
                        {server_pid},
                    )
                )
            settings = load_settings(overrides=overrides(f"data-{args.runs - 1}"), environ={})
            floor = load_floor(settings, folder)
            unchanged, _, _ = timed_harvest(settings, "re-harvest, nothing changed")
            generate(feeds, args.places, args.feeds, url, changed_feed=0, changed_share=0.01)
            changed, changed_published, _ = timed_harvest(
                settings, "re-harvest, 1% of one feed changed"
            )
            naive_seconds, naive_statements = naive(folder, sources, args.naive_share)
            naive_full = naive_seconds * total / naive_statements

    def median(runs: list[dict], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    def beside(key: str) -> str:
        if not baselines:
            return ""
        theirs = median(baselines, key)
        return f"{theirs:>9.1f}  {theirs / median(ours, key):>6.2f}x"

    print()
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    print(f"{'measure (medians)':<46} {'ours':>10} {'target':>12} {'baseline':>10} {'gain':>7}")
    cold = median(ours, "total")
    print(
        f"{'cold harvest incl. derived graph (s)':<46} {cold:>10.1f} {'<= 60':>12} "
        + beside("total")
    )
    print(
        f"{'  of which: sources published after (s)':<46} {median(ours, 'sources'):>10.1f} "
        f"{'':>12} {beside('sources')}"
    )
    print(
        f"{'  CPU time of all its processes (s)':<46} {median(ours, 'cpu'):>10.1f} {'':>12} "
        f"{beside('cpu')}"
    )
    print(
        f"{'peak RSS of any one of its processes (MB)':<46} {median(ours, 'rss'):>10.0f} "
        f"{'<= 2048':>12} {beside('rss')}"
    )
    print(
        f"{'peak PSS of all its processes at once (MB)':<46} "
        f"{median(ours, 'rss_sum') / 1024:>10.0f} {'<= 2048':>12} "
        + (f"{median(baselines, 'rss_sum') / 1024:>9.0f}" if baselines else "")
    )
    print(f"{'floor: the statements bulk-loaded alone (s)':<46} {floor:>10.1f}")
    print(f"{'re-harvest, nothing changed (s)':<46} {unchanged:>10.1f} {'<= 3':>12}")
    print(f"{'re-harvest, 1% of one feed, incl. derived (s)':<46} {changed:>10.1f} {'<= 10':>12}")
    print(f"{'  of which: sources published after (s)':<46} {changed_published:>10.1f}")
    naive_label = f"naive way, extrapolated from {args.naive_share:.0%} (s)"
    print(f"{naive_label:<46} {naive_full:>10.1f}")
    print(f"{'naive / ours':<46} {naive_full / cold:>9.1f}x {'>= 2.5x':>12}")


if __name__ == "__main__":
    main()
