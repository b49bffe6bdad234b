"""Compare the compiled SHACL engine (harvester.shacl_sparql) with pyshacl at scale.

The data set replicates the seven example feeds, parsed and normalised as the
harvester does, N times with renamed IRIs (every subject IRI and blank node gets a
``--{i}`` suffix, so records and their nodes never merge across copies; shared
vocabulary and external IRIs stay as they are). By default N is chosen for about
3 million triples.

The compiled engine runs on the whole set (every literal as written: see
harvester/shacl_sparql.py, "Literals as the feed wrote them"); pyshacl runs on a
slice (by default one copy) and its time at full scale is *extrapolated* from its
time per record on the slice: the full run would take many minutes. Nothing is
asserted; figures are printed.

    python benchmarks/shacl_engines.py                  # ~3 M triples
    python benchmarks/shacl_engines.py --scale 20       # 20 copies
    python benchmarks/shacl_engines.py --runs 1 --pyshacl-runs 1
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harvester.normalise import normalise  # noqa: E402
from harvester.parse import parse_feed  # noqa: E402
from harvester.shacl_sparql import CompiledShapes, keep_written_forms  # noqa: E402
from harvester.validate import rdflib_graph, shapes_graph  # noqa: E402

FEEDS = [
    "amap-centre.jsonld",
    "energie-citoyenne.ttl",
    "boutiques-equitables.rdf",
    "repair-cafes.nt",
    "tiers-lieux.jsonld",
    "monnaies-locales.ttl",
    "ltc-collectif.ttl",
]
RECORD_CLASSES = {
    "https://schema.org/Place",
    "https://schema.org/Organization",
    "https://w3id.org/ltc/ns#Network",
    "https://w3id.org/ltc/ns#Presence",
    "https://schema.org/Event",
    "https://w3id.org/ltc/ns#ConvergenceLabel",
}
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
COPY = "\x00"  # placeholder for the copy number in the N-Triples template


def example_triples() -> list[ox.Triple]:
    triples: list[ox.Triple] = []
    for name in FEEDS:
        source = Path(name).stem
        data = (ROOT / "examples" / "feeds" / name).read_bytes()
        base = f"tag:w3id.org,2026:ltc/relative/{source}/"
        triples += normalise(parse_feed(data, filename=name, base_iri=base), source)
    return triples


def template(triples: list[ox.Triple]) -> str:
    """The triples as N-Triples, with a placeholder where each copy renames a node."""
    subjects = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}

    def term(node: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
        if isinstance(node, ox.NamedNode) and node.value in subjects:
            return f"<{node.value}--{COPY}>"
        if isinstance(node, ox.BlankNode):
            return f"_:{node.value}x{COPY}"
        return str(node)

    return "".join(f"{term(t.subject)} {term(t.predicate)} {term(t.object)} .\n" for t in triples)


def copies(text: str, first: int, count: int) -> bytes:
    return "".join(text.replace(COPY, str(i)) for i in range(first, first + count)).encode()


def records(triples: list[ox.Triple]) -> int:
    return len(
        {
            t.subject
            for t in triples
            if t.predicate.value == RDF_TYPE and getattr(t.object, "value", None) in RECORD_CLASSES
        }
    )


def timed(run: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median wall time of ``runs`` calls, and the last result."""
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def pyshacl_results(triples: list[ox.Triple]) -> int:
    import pyshacl
    from rdflib.namespace import RDF, SH

    _conforms, report, _text = pyshacl.validate(
        rdflib_graph(triples),
        shacl_graph=shapes_graph(),
        inference="none",
        allow_infos=True,
        allow_warnings=True,
    )
    return len(
        {
            (
                report.value(r, SH.focusNode),
                report.value(r, SH.sourceShape),
                report.value(r, SH.resultPath),
                report.value(r, SH.value),
                report.value(r, SH.sourceConstraintComponent),
            )
            for r in report.subjects(RDF.type, SH.ValidationResult)
        }
    )


def full_store(compiled: CompiledShapes, data: bytes, runs: int) -> tuple[float, int, float, list]:
    """The full set loaded once into an in-memory store (literals as written, as the
    harvester loads them), then validated."""
    store = ox.Store()
    start = time.perf_counter()
    store.bulk_load(keep_written_forms(data), format=ox.RdfFormat.N_TRIPLES)
    load_time = time.perf_counter() - start
    median, results = timed(lambda: compiled.validate(store), runs)
    return load_time, len(store), median, results


def full_triples_list(compiled: CompiledShapes, data: bytes) -> tuple[float, list]:
    """A list of triples in, results out (loading included)."""
    triples = [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]
    return timed(lambda: compiled.validate_triples(triples), 1)


def full_ntriples(compiled: CompiledShapes, data: bytes, runs: int) -> tuple[float, list]:
    """Close to what the harvester calls (``sparql_engine``): N-Triples text in, results
    out (keeping the literals as written, and loading, included)."""
    return timed(lambda: compiled.validate_ntriples(data), runs)


def row(label: str, *cells: str) -> None:
    print(f"{label:<42}" + "".join(f"{c:>26}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=int, help="copies of the example feeds (default: ~3 M triples)"
    )
    parser.add_argument("--target-triples", type=int, default=3_000_000)
    parser.add_argument("--pyshacl-scale", type=int, default=1, help="copies validated by pyshacl")
    parser.add_argument("--runs", type=int, default=3, help="runs of the compiled engine (median)")
    parser.add_argument("--pyshacl-runs", type=int, default=3, help="runs of pyshacl (median)")
    args = parser.parse_args()

    base = example_triples()
    scale = args.scale or math.ceil(args.target_triples / len(base))
    text = template(base)
    base_records = records(base)
    print(
        f"SHACL engines — {os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}, pyoxigraph {version('pyoxigraph')}, pyshacl "
        f"{version('pyshacl')}, rdflib {version('rdflib')}"
    )
    print(f"one copy of the 7 example feeds: {len(base)} triples, {base_records} records\n")

    start = time.perf_counter()
    compiled = CompiledShapes.compile(shapes_graph())
    compile_time = time.perf_counter() - start

    # The slice: both engines on the same triples.
    slice_data = copies(text, 0, args.pyshacl_scale)
    slice_triples = [q.triple for q in ox.parse(slice_data, format=ox.RdfFormat.N_TRIPLES)]
    slice_records = records(slice_triples)
    c_slice, c_slice_results = timed(lambda: compiled.validate_triples(slice_triples), args.runs)
    n_slice, _n_slice_results = full_ntriples(compiled, slice_data, args.runs)
    _load, _n, s_slice, _results = full_store(compiled, slice_data, args.runs)
    p_slice, p_slice_results = timed(lambda: pyshacl_results(slice_triples), args.pyshacl_runs)
    rss_after_slice = peak_rss_mb()

    # The full set, validated in a store loaded once, then as a list of triples.
    data = copies(text, 0, scale)
    full_records = base_records * scale
    load_time, full_triples, s_full, s_full_results = full_store(compiled, data, args.runs)
    rss_after_store = peak_rss_mb()
    t_full, t_full_results = full_triples_list(compiled, data)
    rss_after_triples = peak_rss_mb()
    n_full, n_full_results = full_ntriples(compiled, data, 1)

    p_full = p_slice / slice_records * full_records
    runs, p_runs = f"median of {args.runs}", f"median of {args.pyshacl_runs}"
    row("", f"slice (x{args.pyshacl_scale})", f"full (x{scale})")
    row("triples", f"{len(slice_triples):,}", f"{full_triples:,}")
    row("records", f"{slice_records:,}", f"{full_records:,}")
    row("compile the shapes (once)", f"{compile_time:.2f} s", "")
    print()
    row(f"pyshacl ({p_runs})", f"{p_slice:.2f} s", f"{p_full:,.0f} s EXTRAPOLATED")
    row("  per record", f"{p_slice / slice_records * 1000:.2f} ms", "(from the slice)")
    row("compiled, validate_triples", f"{c_slice:.3f} s ({runs})", f"{t_full:.1f} s (1 run)")
    row(
        "  per record",
        f"{c_slice / slice_records * 1000:.3f} ms",
        f"{t_full / full_records * 1000:.3f} ms",
    )
    row("compiled, validate_ntriples", f"{n_slice:.3f} s ({runs})", f"{n_full:.1f} s (1 run)")
    row(
        "  per record",
        f"{n_slice / slice_records * 1000:.3f} ms",
        f"{n_full / full_records * 1000:.3f} ms",
    )
    row("compiled, load a store (bulk_load)", "", f"{load_time:.1f} s")
    row(f"compiled, validate(store) ({runs})", f"{s_slice:.3f} s", f"{s_full:.2f} s")
    row(
        "  per record",
        f"{s_slice / slice_records * 1000:.3f} ms",
        f"{s_full / full_records * 1000:.3f} ms",
    )
    print()
    row(
        "pyshacl / validate_triples",
        f"{p_slice / c_slice:.0f}x",
        f"{p_full / t_full:.0f}x (extrapolated)",
    )
    row(
        "pyshacl / validate(store)",
        f"{p_slice / s_slice:.0f}x",
        f"{p_full / s_full:.0f}x (extrapolated)",
    )
    print()
    row("results, pyshacl (distinct)", f"{p_slice_results:,}", "not run")
    row("results, validate_triples", f"{len(c_slice_results):,}", f"{len(t_full_results):,}")
    row("results, validate_ntriples", "", f"{len(n_full_results):,}")
    row("results, validate(store)", "", f"{len(s_full_results):,}")
    row("peak RSS after the slice", f"{rss_after_slice:,.0f} MB", "")
    row("peak RSS after validate(store)", "", f"{rss_after_store:,.0f} MB")
    row("peak RSS after validate_triples", "", f"{rss_after_triples:,.0f} MB")
    print(
        "\nWall-clock times, one process; pyoxigraph runs each query on one core. "
        "validate_triples includes loading the store (only the triples whose predicate the "
        "shapes read), as pyshacl's time includes building its rdflib graph. "
        "validate(store) excludes loading. pyshacl at full scale is extrapolated per record "
        "from the slice, not measured."
    )


if __name__ == "__main__":
    main()
