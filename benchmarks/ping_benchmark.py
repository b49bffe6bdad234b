"""Ping benchmark: from a network's ping to its change being visible on ``/api/places``.

A national-scale federation (benchmarks/national_federation.py, ~100 000 places, 12
feeds) is served over HTTP on 127.0.0.1 and harvested cold; then a real ``ltc serve``
and a real ``ltc watch`` run on the data folder, 1% of one feed's places are renamed,
the network pings, and the benchmark polls ``/api/places`` until a
renamed place shows its new name. Prints each step beside the target (ping to visible
≤ 15 s) and where the time goes: ping → pickup by ``ltc watch`` (``ping_poll_seconds``),
the harvest of that source up to its publication, the change feed's recording, and the
web tier's switch to the new generation. Asserts nothing.

    python benchmarks/ping_benchmark.py [--places 100000] [--feeds 12] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harvest_benchmark import serve
from national_federation import generate

from core.config import child_environment, load_settings
from core.datafolder import DataFolder
from core.ping import create_token
from ltc.pipeline import harvest

LTC = str(Path(sys.executable).with_name("ltc"))
TARGET = 15.0
NAME = re.compile(rb'^(<[^>]*/lieu/\d+>) <https://schema.org/name> "([^"]*)" \.$', re.M)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Watch:
    """Polls the data folder every 10 ms: when the request is taken, when CURRENT
    changes (publication), when the change feed's index changes."""

    def __init__(self, folder: DataFolder, source: str) -> None:
        self.folder, self.source = folder, source
        self.times: dict[str, float] = {}
        self._stop = threading.Event()
        self._current = folder.read_current()
        index = folder.changes / "index.json"
        self._index = index.stat().st_mtime_ns if index.exists() else 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        taken = self.folder.pings / f"{self.source}.taken"
        index = self.folder.changes / "index.json"
        while not self._stop.is_set():
            now = time.perf_counter()
            if "pickup" not in self.times and taken.exists():
                self.times["pickup"] = now
            if "publish" not in self.times and self.folder.read_current() != self._current:
                self.times["publish"] = now
            if "publish" in self.times and "changes" not in self.times:
                with_index = index.stat().st_mtime_ns if index.exists() else 0
                if with_index != self._index:
                    self.times["changes"] = now
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def renamed_place(before: bytes, after: bytes) -> tuple[str, str]:
    """A place whose name the new version of the feed changed: (IRI, new name)."""
    old = dict(NAME.findall(before))
    for iri, name in NAME.findall(after):
        if old.get(iri) not in (None, name):
            return iri.decode()[1:-1], name.decode()
    raise RuntimeError("no renamed place in the new feed (N-Triples expected)")


def visible(url: str, iri: str, name: str) -> bool:
    words = name.replace("(", " ").replace(")", " ")
    page = requests.get(url + "/api/places", params={"q": words, "per_page": 100}, timeout=10)
    if page.status_code != 200:
        return False
    return any(p["iri"] == iri and p["name"] == name for p in page.json()["places"])


def wait_for_health(url: str, process: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("ltc serve exited")
        try:
            if requests.get(url + "/api/places?q=Lieu", timeout=60).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("ltc serve did not answer")


def one_round(url: str, settings, feeds: Path, args, secret: str, version: int) -> dict[str, float]:
    folder = DataFolder(settings.data_dir)
    feed = feeds / "reseau-00.nt"
    before = feed.read_bytes()
    generate(feeds, args.places, args.feeds, args.url, changed_feed=0, changed_share=0.01 * version)
    iri, name = renamed_place(before, feed.read_bytes())
    watch = Watch(folder, "reseau-00")
    started = time.perf_counter()
    answer = requests.post(
        url + "/sources/reseau-00/ping",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    # /health (cheap) says when the web tier serves a newer generation; only then is
    # /api/places searched, so the probe does not slow the directory build it waits for
    deadline, served = started + args.timeout, requests.get(url + "/health", timeout=30)
    before, switched = served.json()["generation"], None
    while time.perf_counter() < deadline:
        generation = requests.get(url + "/health", timeout=30).json()["generation"]
        if generation != before:
            switched = switched or time.perf_counter()
            if visible(url, iri, name):
                break
            before = generation
        time.sleep(0.05)
    shown = time.perf_counter()
    watch.stop()
    times = {k: v - started for k, v in watch.times.items()}
    if switched is not None:
        times["switched"] = switched - started
    if shown < deadline:
        times["visible"] = shown - started
    else:
        print(f"round {version}: not visible after {args.timeout:g} s (timed out)")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds a round may wait for visibility"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ltc-ping-") as tmp:
        root = Path(tmp)
        feeds = root / "feeds"
        with serve(feeds) as base:
            args.url = base
            generate(feeds, args.places, args.feeds, base)
            settings = load_settings(
                overrides={
                    "data_dir": str(root / "data"),
                    "sources_file": str(feeds / "sources.toml"),
                    "fetch_allow_networks": "127.0.0.1/32",
                },
                environ={},
            )
            started = time.perf_counter()
            harvest(settings)
            print(f"cold harvest and derived graph: {time.perf_counter() - started:.1f} s")
            secret = create_token(settings.data_dir, "reseau-00")
            env = child_environment(settings)
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = (root / "serve.log").open("wb")
            server = subprocess.Popen(
                [LTC, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            watcher = subprocess.Popen(
                [LTC, "watch"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                started = time.perf_counter()
                wait_for_health(url, server)
                print(f"ltc serve ready (directory built): {time.perf_counter() - started:.1f} s")
                rounds = [
                    one_round(url, settings, feeds, args, secret, version)
                    for version in range(1, args.rounds + 1)
                ]
                # the derived graph's recomputation follows the publication: let it end
                time.sleep(5)
            finally:
                for process in (watcher, server):
                    process.send_signal(signal.SIGTERM)
                    process.wait(60)
                log.close()
            recorded = re.findall(
                r"change feed: (\d+) changes recorded in ([\d.]+) s",
                DataFolder(settings.data_dir).harvest_log.read_text(encoding="utf-8"),
            )
    report(rounds, recorded, settings.ping_poll_seconds, args)


def report(rounds: list[dict[str, float]], recorded, poll: float, args) -> None:
    def median(key: str) -> float:
        values = [r[key] for r in rounds if key in r]
        return statistics.median(values) if values else float("nan")

    print()
    print(f"ping benchmark: {args.places} places, {args.feeds} feeds, 1% of one feed renamed")
    print(f"{'step (median of ' + str(len(rounds)) + ' rounds)':<48} {'time':>8} {'target':>10}")
    steps = ("pickup", "publish", "changes", "switched", "visible")
    pickup, publish, changes, switched, shown = (median(step) for step in steps)
    print(f"{'ping → taken by ltc watch':<48} {pickup:>7.2f}s {'≤ ' + f'{poll:g} s':>10}")
    print(f"{'taken → published (harvest of that source)':<48} {publish - pickup:>7.2f}s {'':>10}")
    print(f"{'published → change feed recorded':<48} {changes - publish:>7.2f}s {'':>10}")
    switch = "published → web tier serves it (/health)"
    print(f"{switch:<48} {switched - publish:>7.2f}s {'≤ 10 s':>10}")
    print(f"{'… then visible on /api/places':<48} {shown - switched:>7.2f}s {'':>10}")
    print(f"{'ping → visible on /api/places':<48} {shown:>7.2f}s {'≤ ' + f'{TARGET:g} s':>10}")
    for number, times in enumerate(rounds, 1):
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in times.items())
        print(f"  round {number}: {steps}")
    for count, seconds in recorded:
        print(f"  change feed recording: {count} changes in {seconds} s")
    print(f"(machine: {os.cpu_count()} cores, shared and noisy: compare ratios)")


if __name__ == "__main__":
    main()
