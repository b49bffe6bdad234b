#!/usr/bin/env python3
"""Self-check of the example federation against ``examples/expected.json``.

    python examples/check_examples.py [--shapes shapes/ltc-shapes.ttl]

* parses every RDF feed with rdflib (JSON-LD: the context IRI is replaced by the
  inline context of ``ontology/context.jsonld``) and cross-checks the triple count
  with pyoxigraph;
* applies the contract's normalisation steps 1 (http://schema.org/ -> https) and 5
  (an ``xsd:dateTime`` whose text is a valid ``xsd:date`` is retyped ``xsd:date``);
* counts records per class against ``expected.json``;
* if the shapes file exists, runs pyshacl (inference none) on each feed and compares
  the records with a Violation (blank-node focus nodes mapped to their owning record;
  the focus of a coordinates, address or hours shape — a node, a literal or another
  record where a node is required — to the records whose statement leads to it, as
  the harvester charges it) and their ``sourceShape`` ids with ``rejected``; for
  ``ltcsh:Cascade`` entries it checks that a referenced record of the same feed is
  rejected, and that no other record refers to a rejected one;
* checks the geometry of ``same_places`` (``similar``: < 30 m) and of
  ``different_neighbours`` (80-200 m), and the adapter files' rows.

Not a test: a script to run after ``build_examples.py``; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SH, XSD

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCHEMA = Namespace("https://schema.org/")
LTC = Namespace("https://w3id.org/ltc/ns#")
LTCSH = "https://w3id.org/ltc/shapes#"
CLASSES = {
    SCHEMA.Place: "places",
    SCHEMA.Organization: "organisations",
    LTC.Presence: "presences",
    SCHEMA.Event: "events",
    LTC.Network: "networks",
    LTC.ConvergenceLabel: "labels",
}
FORMATS = {"turtle": "turtle", "n-triples": "nt", "rdf-xml": "xml", "json-ld": "json-ld"}
OX_FORMATS = {
    "turtle": pyoxigraph.RdfFormat.TURTLE,
    "n-triples": pyoxigraph.RdfFormat.N_TRIPLES,
    "rdf-xml": pyoxigraph.RdfFormat.RDF_XML,
    "json-ld": pyoxigraph.RdfFormat.JSON_LD,
}
DATE_RE = re.compile(r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?$")


def load_feed(src, context):
    path = HERE / src["file"]
    text = path.read_text(encoding="utf-8")
    base = src["namespaces"][0]
    if src["syntax"] == "json-ld":
        doc = json.loads(text)
        assert doc["@context"] == "https://w3id.org/ltc/context.jsonld", doc["@context"]
        doc["@context"] = context
        text = json.dumps(doc, ensure_ascii=False)
    g = Graph()
    g.parse(data=text, format=FORMATS[src["syntax"]], publicID=base)
    try:
        n_ox = len(
            list(
                pyoxigraph.parse(
                    text.encode("utf-8"), format=OX_FORMATS[src["syntax"]], base_iri=base
                )
            )
        )
    except Exception as e:  # pragma: no cover - informative only
        n_ox = f"error: {e}"
    return normalise(g), n_ox


def normalise(g):
    out = Graph()

    def fix(t):
        if isinstance(t, URIRef) and str(t).startswith("http://schema.org/"):
            return URIRef("https://schema.org/" + str(t)[len("http://schema.org/") :])
        if isinstance(t, Literal) and t.datatype == XSD.dateTime and DATE_RE.match(str(t)):
            return Literal(str(t), datatype=XSD.date)
        return t

    for s, p, o in g:
        out.add((fix(s), fix(p), fix(o)))
    return out


def owners(g):
    """blank node -> the record (IRI subject) that owns it, through nested nodes."""
    parent = {}
    for s, _p, o in g:
        if isinstance(o, BNode):
            parent[o] = s

    def up(n):
        seen = set()
        while isinstance(n, BNode) and n in parent and n not in seen:
            seen.add(n)
            n = parent[n]
        return n

    return up


# Shapes whose focus nodes are the objects of these properties (sh:targetObjectsOf).
LEADING = {
    "ltcsh:Geo-": SCHEMA.geo,
    "ltcsh:Address-": SCHEMA.address,
    "ltcsh:Hours-": SCHEMA.openingHoursSpecification,
}


def charged(g, up, focus, shape):
    """The records a result is charged to: for a coordinates, address or hours shape,
    those whose statement leads to the focus (a literal or another record included)."""
    for prefix, predicate in LEADING.items():
        if shape.startswith(prefix):
            leading = {up(s) for s in g.subjects(predicate, focus)}
            if leading:
                return leading
    return {up(focus)}


def shape_id(g, shape):
    if isinstance(shape, URIRef) and str(shape).startswith(LTCSH):
        return "ltcsh:" + str(shape)[len(LTCSH) :]
    return f"<anonymous shape {shape}>" if isinstance(shape, BNode) else str(shape)


def coords(g, place):
    for geo in g.objects(URIRef(place), SCHEMA.geo):
        la = g.value(geo, SCHEMA.latitude)
        lo = g.value(geo, SCHEMA.longitude)
        try:
            return float(la), float(lo)
        except (TypeError, ValueError):
            return None
    return None


def dist(a, b):
    r = 6_371_000.0
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(h))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default=str(ROOT / "shapes" / "ltc-shapes.ttl"))
    args = ap.parse_args()
    logging.getLogger("rdflib").setLevel(logging.CRITICAL)  # ill-typed literals are on purpose
    expected = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    context = json.loads((ROOT / "ontology" / "context.jsonld").read_text())["@context"]
    problems = []
    shapes = None
    if Path(args.shapes).exists():
        shapes = Graph().parse(args.shapes, format="turtle")
        print(f"shapes: {args.shapes} ({len(shapes)} triples)")
    else:
        print(f"shapes: {args.shapes} not found — SHACL comparison skipped")

    rejected_by_src = defaultdict(dict)
    for x in expected["rejected"]:
        rejected_by_src[x["source"]][x["record"]] = set(x["constraints"])
    graphs = {}
    totals = Counter()
    for src in expected["sources"]:
        if src["adapter"]:
            continue
        g, n_ox = load_feed(src, context)
        graphs[src["id"]] = g
        counts = Counter()
        records = set()
        for cls, key in CLASSES.items():
            subs = set(g.subjects(RDF.type, cls))
            counts[key] = len(subs)
            records |= subs
        totals.update(counts)
        status = "ok" if dict(counts) == src["records"] else "MISMATCH"
        print(
            f"{src['id']:22} {src['syntax']:9} {len(g):6} triples (oxigraph {n_ox}) "
            f"records {dict(counts)} {status}"
        )
        if status != "ok":
            problems.append(f"{src['id']}: counts {dict(counts)} != {src['records']}")
        exp = rejected_by_src.get(src["id"], {})
        for rec in exp:
            if URIRef(rec) not in records:
                problems.append(f"{src['id']}: rejected record {rec} is not a record of the feed")

        # cascades: a referenced record of the same feed is rejected; nothing else refers to one
        direct = {r for r, c in exp.items() if c != {"ltcsh:Cascade"}}
        for r in records:
            refs = {
                str(o)
                for p in (LTC.place, LTC.organisation, SCHEMA.location)
                for o in g.objects(r, p)
            }
            hits = refs & direct
            if exp.get(str(r)) == {"ltcsh:Cascade"} and not hits:
                problems.append(f"{src['id']}: cascade {r} refers to no rejected record")
            if hits and str(r) not in exp:
                problems.append(f"{src['id']}: {r} refers to rejected {hits} but is not rejected")

        if shapes is None:
            continue
        from pyshacl import validate

        _conforms, report, _text = validate(
            g, shacl_graph=shapes, inference="none", allow_warnings=True, advanced=True
        )
        up = owners(g)
        got = defaultdict(set)
        sev = Counter()
        for res in report.subjects(RDF.type, SH.ValidationResult):
            severity = report.value(res, SH.resultSeverity)
            shape = shape_id(report, report.value(res, SH.sourceShape))
            sev[(str(severity).rsplit("#", 1)[-1], shape)] += 1
            if severity != SH.Violation:
                continue
            for focus in charged(g, up, report.value(res, SH.focusNode), shape):
                got[str(focus)].add(shape)
        want = {r: c for r, c in exp.items() if c != {"ltcsh:Cascade"}}
        for r in sorted(set(got) | set(want)):
            if got.get(r) != want.get(r):
                problems.append(
                    f"{src['id']}: {r}: SHACL {sorted(got.get(r, []))} "
                    f"!= expected {sorted(want.get(r, []))}"
                )
        warn = {k[1]: n for k, n in sev.items() if k[0] == "Warning"}
        print(
            f"{'':22} violations on {len(got)} records (expected {len(want)} + "
            f"{len(exp) - len(want)} cascades); warnings {dict(sorted(warn.items()))}"
        )

    # geometry of shared places and neighbours (RDF side only)
    def find(iri):
        for g in graphs.values():
            if (URIRef(iri), RDF.type, SCHEMA.Place) in g:
                return g
        return None

    by_how = Counter()
    for sp in expected["same_places"]:
        by_how[sp["how"]] += 1
        rdf = [p for p in sp["places"] if find(p) is not None]
        if sp["how"] == "similar" and len(rdf) == 2:
            d = dist(coords(find(rdf[0]), rdf[0]), coords(find(rdf[1]), rdf[1]))
            if d >= 30:
                problems.append(f"similar places {rdf} are {d:.0f} m apart")
        if sp["how"] == "reference":
            hosts = [p for p in sp["places"] if find(p) is not None]
            if len(hosts) != 1:
                problems.append(f"reference entry {sp['places']}: host place not found")
    for a, b in expected["different_neighbours"]:
        d = dist(coords(find(a), a), coords(find(b), b))
        if not 80 <= d <= 200:
            problems.append(f"neighbours {a} {b} are {d:.0f} m apart")

    # adapter files
    bad_rows = defaultdict(set)
    for x in expected["rejected_adapter_rows"]:
        bad_rows[x["source"]].add(x["row"])
    for src in expected["sources"]:
        if not src["adapter"]:
            continue
        text = (HERE / src["file"]).read_text(encoding="utf-8")
        if src["adapter"] == "gogocarto":
            rows = [(e["name"], e["address"]["postalCode"]) for e in json.loads(text)["data"]]
        else:
            rows = [
                (r["nom"], r["code_postal"])
                for r in csv.DictReader(io.StringIO(text), delimiter=";")
            ]
        bad = {
            i
            for i, (name, cp) in enumerate(rows, 1)
            if not name or not re.fullmatch(r"[0-9]{5}", cp)
        }
        ok = len(rows) == src["rows"] and bad == bad_rows[src["id"]]
        print(
            f"{src['id']:22} {src['adapter']:9} {len(rows)} rows, invalid rows {sorted(bad)} "
            f"{'ok' if ok else 'MISMATCH'}"
        )
        if not ok:
            problems.append(
                f"{src['id']}: rows {len(rows)} / invalid {sorted(bad)} vs expected "
                f"{src['rows']} / {sorted(bad_rows[src['id']])}"
            )

    n_rec = sum(totals.values())
    n_rej = len(expected["rejected"])
    n_casc = sum(1 for x in expected["rejected"] if x["constraints"] == ["ltcsh:Cascade"])
    print(
        f"total: {totals['places']} places, {n_rec} records, {n_rej} rejected "
        f"({100 * n_rej / n_rec:.1f} %, of which {n_casc} cascades); same places "
        f"{dict(by_how)}; {len(expected['different_neighbours'])} neighbour pairs"
    )
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  -", p)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
