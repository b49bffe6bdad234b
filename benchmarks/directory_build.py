"""Directory file build: the flat SPARQL queries joined in Python (the reading the
remote backend keeps) vs the predicate scans (``registry.directory_scans``, the embedded
store's), on the same published store, medians of a few runs each, and whether both
give the same directory. Reads the data folder's published generation; writes nothing.

    python benchmarks/directory_build.py DATA_DIR [--runs 3]

Target: the scan build ≤ 15 s at 100 000 places (it runs before every publication).
"""

from __future__ import annotations

import argparse
import statistics
import time

from core.config import load_settings
from core.iris import Iris
from core.store import open_store
from registry.directory import parts_from_store
from registry.directory_file import encode

TARGET_S = 15.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", help="a harvested data folder (read only)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each reading (median)")
    args = parser.parse_args()
    settings = load_settings(overrides={"data_dir": args.data_dir}, environ={})
    iris = Iris(settings.base_iri)
    timings: dict[str, list[float]] = {"sparql": [], "scans": []}
    parts = {}
    with open_store(settings, writer=False) as store:
        for _ in range(args.runs):
            for reading in timings:
                started = time.perf_counter()
                parts[reading] = parts_from_store(store, iris, scans=reading == "scans")
                encode(*parts[reading])
                timings[reading].append(time.perf_counter() - started)
    old, new = (statistics.median(timings[k]) for k in ("sparql", "scans"))
    cards = len(parts["scans"][1])
    same = (
        parts["sparql"][1] == parts["scans"][1]
        and sorted(parts["sparql"][2].labels) == sorted(parts["scans"][2].labels)
        and parts["sparql"][3:] == parts["scans"][3:]
    )
    print(f"directory file build, {cards} places, medians of {args.runs} (noisy shared machine)")
    print(f"  SPARQL queries joined in Python : {old:7.1f} s")
    print(
        f"  predicate scans joined in Python: {new:7.1f} s   target <= {TARGET_S:.0f} s  "
        f"{'met' if new <= TARGET_S else 'NOT met'}"
    )
    print(f"  ratio SPARQL / scans            : {old / new:7.2f}")
    print(f"  same cards, names, networks, sources, clusters: {same}")


if __name__ == "__main__":
    main()
