"""Generate a national-scale federation for the benchmarks: N feeds, ~100 000 places.

Each place comes with its organisation and a presence (about 30 statements in all),
spread over the communes of examples/communes.csv; the feeds use several syntaxes
(N-Triples, Turtle, JSON-LD) like real members. About 2% of the records are invalid.
Deterministic for a given seed. ``python benchmarks/national_federation.py OUT``
writes the feeds and a sources catalog (``sources.toml``) whose URLs point at
``--url-base`` (the benchmark serves OUT over HTTP there).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

S = "https://schema.org/"
LTC = "https://w3id.org/ltc/ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
THEMES = [
    "alimentation",
    "energie",
    "reemploi-reparation",
    "culture",
    "mobilite",
    "habitat",
    "education",
    "commerce-equitable",
    "tiers-lieux",
    "numerique",
    "nature",
    "sante",
]
ROLES = ["siege", "boutique", "point-de-distribution", "permanence", "atelier"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
SYNTAXES = ["n-triples", "turtle", "json-ld"]
COMMUNES = Path(__file__).resolve().parents[1] / "examples" / "communes.csv"


def _communes() -> list[dict]:
    with open(COMMUNES, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _lit(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _typed(value, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def place_records(
    rng: random.Random,
    ns: str,
    network: str,
    i: int,
    communes: list[dict],
    invalid: bool,
    version: int = 0,
) -> list[tuple[str, str, str]]:
    """(subject, predicate, object-in-N-Triples) for one place, its organisation and presence."""
    c = communes[i % len(communes)]
    place, org, presence = f"<{ns}lieu/{i}>", f"<{ns}org/{i}>", f"<{ns}presence/{i}>"
    address, geo, hours = f"<{ns}lieu/{i}#adresse>", f"<{ns}lieu/{i}#geo>", f"<{ns}lieu/{i}#h>"
    lat = float(c["latitude"]) + rng.uniform(-0.03, 0.03)
    lon = float(c["longitude"]) + rng.uniform(-0.04, 0.04)
    name = f"Lieu {rng.choice(['du Partage', 'des Possibles', 'Commun', 'Solidaire'])} {i}"
    if version:
        name += f" (v{version})"
    theme = rng.choice(THEMES)
    postcode = "7500" if invalid else c["code_postal"]
    t = [
        (place, f"<{RDF_TYPE}>", f"<{S}Place>"),
        (place, f"<{S}name>", _lit(name)),
        (place, f"<{S}address>", address),
        (address, f"<{RDF_TYPE}>", f"<{S}PostalAddress>"),
        (address, f"<{S}streetAddress>", _lit(f"{rng.randint(1, 120)} rue de la Transition")),
        (address, f"<{S}postalCode>", _lit(postcode)),
        (address, f"<{S}addressLocality>", _lit(c["nom"])),
        (address, f"<{LTC}inseeCode>", _lit(c["insee"])),
        (place, f"<{S}geo>", geo),
        (geo, f"<{RDF_TYPE}>", f"<{S}GeoCoordinates>"),
        (geo, f"<{S}latitude>", _typed(round(lat, 6), "decimal")),
        (geo, f"<{S}longitude>", _typed(round(lon, 6), "decimal")),
        (place, f"<{S}openingHoursSpecification>", hours),
        (hours, f"<{RDF_TYPE}>", f"<{S}OpeningHoursSpecification>"),
        (hours, f"<{S}dayOfWeek>", f"<{S}{rng.choice(DAYS)}>"),
        (hours, f"<{S}opens>", _typed("09:00:00", "time")),
        (hours, f"<{S}closes>", _typed("18:00:00", "time")),
        (place, f"<{LTC}theme>", f"<https://w3id.org/ltc/theme/{theme}>"),
        (place, f"<{S}dateModified>", _typed("2026-10-01", "date")),
        (org, f"<{RDF_TYPE}>", f"<{S}Organization>"),
        (org, f"<{S}name>", _lit(f"Association {name}")),
        (org, f"<{S}memberOf>", network),
        (org, f"<{LTC}theme>", f"<https://w3id.org/ltc/theme/{theme}>"),
        (org, f"<{S}telephone>", _lit(f"+3324{rng.randint(1000000, 9999999)}")),
        (org, f"<{S}dateModified>", _typed("2026-10-01", "date")),
        (presence, f"<{RDF_TYPE}>", f"<{LTC}Presence>"),
        (presence, f"<{LTC}organisation>", org),
        (presence, f"<{LTC}place>", place),
        (presence, f"<{LTC}role>", f"<https://w3id.org/ltc/role/{rng.choice(ROLES)}>"),
        (presence, f"<{S}dateModified>", _typed("2026-10-01", "date")),
    ]
    return t


def network_triples(ns: str, network: str, title: str) -> list[tuple[str, str, str]]:
    return [
        (network, f"<{RDF_TYPE}>", f"<{LTC}Network>"),
        (network, f"<{S}name>", _lit(title)),
        (network, f"<{S}dateModified>", _typed("2026-10-01", "date")),
    ]


def write_feed(path: Path, syntax: str, triples: list[tuple[str, str, str]]) -> None:
    if syntax == "n-triples":
        path.write_text("".join(f"{s} {p} {o} .\n" for s, p, o in triples), encoding="utf-8")
    elif syntax == "turtle":
        lines = [f"@prefix schema: <{S}> .", f"@prefix ltc: <{LTC}> .", ""]
        for s, p, o in triples:
            p = p.replace(f"<{S}", "schema:").replace(f"<{LTC}", "ltc:")
            p = p[:-1] if p.startswith(("schema:", "ltc:")) else p
            lines.append(f"{s} {p} {o} .")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:  # JSON-LD in expanded form: what any JSON-LD tool produces
        nodes: dict[str, dict] = {}
        for s, p, o in triples:
            node = nodes.setdefault(s, {"@id": s[1:-1]})
            key = "@type" if p == f"<{RDF_TYPE}>" else p[1:-1]
            if key == "@type":
                node.setdefault("@type", []).append(o[1:-1])
            elif o.startswith("<"):
                node.setdefault(key, []).append({"@id": o[1:-1]})
            elif "^^" in o:
                value, datatype = o.rsplit("^^", 1)
                node.setdefault(key, []).append({"@value": value[1:-1], "@type": datatype[1:-1]})
            else:
                node.setdefault(key, []).append({"@value": json.loads(o)})
        path.write_text(json.dumps(list(nodes.values()), ensure_ascii=False), encoding="utf-8")


EXTENSIONS = {"n-triples": "nt", "turtle": "ttl", "json-ld": "jsonld"}


def generate(
    out: Path,
    places: int,
    feeds: int,
    url_base: str,
    seed: int = 7,
    changed_feed: int | None = None,
    changed_share: float = 0.0,
) -> list[dict]:
    """Write the federation; with ``changed_feed``, that feed has ``changed_share`` of its
    places renamed (a new version of the same federation)."""
    out.mkdir(parents=True, exist_ok=True)
    communes = _communes()
    sources, catalog = [], []
    per_feed = places // feeds
    for f in range(feeds):
        rng = random.Random(seed * 1000 + f)
        changes = random.Random(seed * 1000 + f + 500)  # apart, so unchanged records stay so
        sid = f"reseau-{f:02d}"
        ns = f"https://{sid}.example.org/"
        network = f"<{ns}reseau>"
        syntax = SYNTAXES[f % len(SYNTAXES)]
        triples = network_triples(ns, network, f"Réseau national {f}")
        for k in range(per_feed):
            i = f * per_feed + k
            invalid = rng.random() < 0.02
            version = 1 if f == changed_feed and changes.random() < changed_share else 0
            triples += place_records(rng, ns, network, i, communes, invalid, version)
        name = f"{sid}.{EXTENSIONS[syntax]}"
        write_feed(out / name, syntax, triples)
        sources.append({"id": sid, "file": name, "syntax": syntax, "triples": len(triples)})
        catalog.append(
            "\n".join(
                [
                    "[[source]]",
                    f'id = "{sid}"',
                    f'title = "Réseau national {f}"',
                    f'network = "{network[1:-1]}"',
                    f'url = "{url_base}{name}"',
                    f'syntax = "{syntax}"',
                    f'namespaces = ["{ns}"]',
                    'license = "https://creativecommons.org/licenses/by/4.0/"',
                    f'contact = "mailto:donnees@{sid}.example.org"',
                    'frequency = "daily"',
                    "",
                ]
            )
        )
    (out / "sources.toml").write_text("\n".join(catalog), encoding="utf-8")
    return sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=12)
    parser.add_argument("--url-base", default="http://127.0.0.1:8765/")
    args = parser.parse_args()
    for source in generate(args.out, args.places, args.feeds, args.url_base):
        print(f"{source['file']:<24} {source['syntax']:<10} {source['triples']:>9} triples")


if __name__ == "__main__":
    main()
