#!/usr/bin/env python3
"""Generate the LTC example federation (``examples/feeds/*`` and ``examples/expected.json``).

Deterministic: every source has its own seeded ``random.Random``, serialisers are
hand-written (standard library only) so blank-node labels and ordering never
change between runs. Reads ``examples/communes.csv`` (see ``make_communes.py``).

    python examples/build_examples.py

All organisation, place, street and person names are fictional; communes,
postcodes, INSEE codes and commune points are real (see README.md).
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
FEEDS = HERE / "feeds"

SCHEMA = "https://schema.org/"
LTC = "https://w3id.org/ltc/ns#"
LTCT = "https://w3id.org/ltc/theme/"
LTCR = "https://w3id.org/ltc/role/"
LTCP = "https://w3id.org/ltc/place-type/"
LTCS = "https://w3id.org/ltc/convergence-status/"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
CONTEXT_IRI = "https://w3id.org/ltc/context.jsonld"

S = SCHEMA
CLASS = {
    "place": S + "Place",
    "org": S + "Organization",
    "network": LTC + "Network",
    "presence": LTC + "Presence",
    "event": S + "Event",
    "label": LTC + "ConvergenceLabel",
}
KIND_KEY = {  # expected.json "records" keys
    "place": "places",
    "org": "organisations",
    "presence": "presences",
    "event": "events",
    "network": "networks",
    "label": "labels",
}
DAYS = {
    "lundi": "Monday",
    "mardi": "Tuesday",
    "mercredi": "Wednesday",
    "jeudi": "Thursday",
    "vendredi": "Friday",
    "samedi": "Saturday",
    "dimanche": "Sunday",
}
THEMES = [
    "alimentation",
    "energie",
    "finance-solidaire",
    "mobilite",
    "habitat",
    "reemploi-reparation",
    "education",
    "culture",
    "citoyennete",
    "commerce-equitable",
    "sante",
    "nature",
    "numerique",
    "tiers-lieux",
    "agriculture",
    "monnaie-locale",
]
ROLES = [
    "siege",
    "boutique",
    "point-de-distribution",
    "permanence",
    "atelier",
    "bureau",
    "marche",
    "lieu-d-activite",
]
PLACE_TYPES = [
    "tiers-lieu",
    "boutique",
    "ferme",
    "local-associatif",
    "marche",
    "jardin",
    "atelier",
    "salle",
    "bureau",
    "autre",
]
STATUSES = ["candidat", "pilote", "labellise"]


# --------------------------------------------------------------------------- model


class IRI(str):
    """An IRI value (as opposed to a literal)."""


@dataclass
class Lit:
    value: str
    dt: str | None = None
    lang: str | None = None


@dataclass
class Node:
    """A blank node owned by a record (address, coordinates, opening hours)."""

    type: str | None
    props: list


@dataclass
class Rec:
    iri: str
    kind: str
    props: list
    commune: dict | None = None
    protected: bool = False  # used by sharing / events / labels / neighbours: keep valid

    def get(self, pred):
        return [v for p, v in self.props if p == pred]

    def first(self, pred):
        vals = self.get(pred)
        return vals[0] if vals else None

    def remove(self, pred):
        self.props = [(p, v) for p, v in self.props if p != pred]

    def set(self, pred, value):
        """Replace all values of pred by value (keeping the position of the first one)."""
        out, done = [], False
        for p, v in self.props:
            if p == pred:
                if not done:
                    out.append((p, value))
                    done = True
            else:
                out.append((p, v))
        if not done:
            out.append((pred, value))
        self.props = out


def s(text, lang=None):
    return Lit(text, None, lang)


def dec(x, nd=6):
    return Lit(f"{x:.{nd}f}", XSD + "decimal")


def date(d):
    return Lit(d, XSD + "date")


def dtime(d):
    return Lit(d, XSD + "dateTime")


def tm(hhmm):
    return Lit(hhmm + ":00", XSD + "time")


def node_get(node, pred):
    return [v for p, v in node.props if p == pred]


def node_set(node, pred, value):
    out, done = [], False
    for p, v in node.props:
        if p == pred:
            if not done and value is not None:
                out.append((p, value))
            done = True
        else:
            out.append((p, v))
    if not done and value is not None:
        out.append((pred, value))
    node.props = out


# --------------------------------------------------------------------------- helpers


def slug(text):
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    t = re.sub(r"[^a-z0-9]+", "-", t).strip("-")
    return t


def short_slug(text, n=30):
    out = ""
    for w in slug(text).split("-"):
        if out and len(out) + len(w) + 1 > n:
            break
        out = f"{out}-{w}" if out else w
    return out


def norm_name(text):
    return slug(text).replace("-", " ")


def load_communes():
    with open(HERE / "communes.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["lat"] = float(r["latitude"])
        r["lon"] = float(r["longitude"])
    return {r["insee"]: r for r in rows}, rows


COMMUNES, COMMUNE_LIST = load_communes()


def commune(name, dep=None):
    for c in COMMUNE_LIST:
        if c["nom"] == name and (dep is None or c["departement"] == dep):
            return c
    raise KeyError(name)


COASTAL = {
    "Saint-Malo",
    "Brest",
    "Douarnenez",
    "Lorient",
    "La Rochelle",
    "Marseille",
    "Nice",
    "Ajaccio",
    "Bastia",
    "Saint-Denis",
    "Saint-Paul",
    "Saint-Pierre",
    "Pointe-à-Pitre",
    "Fort-de-France",
    "Cayenne",
    "Guérande",
    "Bayonne",
    "Vannes",
    "Lannion",
}


def offset(lat, lon, dist_m, bearing_deg):
    b = math.radians(bearing_deg)
    dlat = dist_m * math.cos(b) / 111_320.0
    dlon = dist_m * math.sin(b) / (111_320.0 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def haversine(a, b):
    r = 6_371_000.0
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(h))


STREET_TYPES = [
    "rue",
    "rue",
    "rue",
    "rue",
    "avenue",
    "place",
    "boulevard",
    "impasse",
    "allée",
    "chemin",
    "quai",
    "passage",
    "cours",
]
STREET_NAMES = [
    "des Tanneurs",
    "du Four-Banal",
    "des Trois-Ormeaux",
    "Victor-Hugo",
    "Louise-Michel",
    "Jean-Moulin",
    "de la République",
    "du Commerce",
    "des Écoles",
    "des Lilas",
    "du Moulin",
    "de la Gare",
    "Pasteur",
    "des Jardins",
    "du Lavoir",
    "de la Fontaine",
    "des Coquelicots",
    "du Vieux-Pont",
    "des Vignerons",
    "de l'Abbaye",
    "des Charpentiers",
    "Olympe-de-Gouges",
    "Georges-Brassens",
    "des Hirondelles",
    "du Marché-aux-Herbes",
    "des Potiers",
    "de la Tuilerie",
    "Émile-Zola",
    "du Clos-Fleuri",
    "des Maraîchers",
    "de la Forge",
    "Simone-Veil",
    "Marie-Curie",
    "des Cordiers",
    "du Puits-Salé",
    "des Remparts",
    "de la Croix-Blanche",
    "des Tisserands",
    "du Prieuré",
    "Jean-Macé",
    "des Glycines",
    "de la Poterne",
    "Gambetta",
    "des Sablons",
    "du Pressoir",
    "des Capucines",
    "Condorcet",
    "de la Roseraie",
    "des Mariniers",
    "du Petit-Bois",
    "Rosa-Parks",
    "des Ateliers",
]
LIEUX_DITS = [
    "La Gaudinière",
    "Le Grand Bois",
    "Les Quatre Vents",
    "La Noue",
    "Le Moulin Neuf",
    "Les Bruyères",
    "La Rabaterie",
    "Le Petit Pré",
    "Les Genêts",
    "Bel-Air",
    "La Chênaie",
    "Le Coudray",
    "La Touche",
    "Les Aubuis",
    "La Perrière",
    "Le Plessis",
    "La Varenne",
    "Les Ormeaux",
    "La Bergerie",
    "Le Val Fleuri",
]
QUALIFIERS = [
    "des Tilleuls",
    "du Parc",
    "des Fontaines",
    "Saint-Éloi",
    "de la Gare",
    "des Rives",
    "du Centre",
    "des Acacias",
    "Jules-Ferry",
    "Paul-Bert",
    "des Coteaux",
    "du Lac",
    "des Vergers",
    "Sainte-Anne",
    "des Minimes",
    "du Château",
    "des Halles",
    "Pierre-Sémard",
    "des Peupliers",
    "du Bourg",
    "de la Source",
    "des Cèdres",
    "Camille-Claudel",
    "du Mail",
    "des Noyers",
    "de la Colline",
    "du Canal",
    "Lucie-Aubrac",
    "des Platanes",
    "du Vieux-Marché",
]

PHONE_ZONE = {}
for _d in ["75", "77", "78", "91", "92", "93", "94", "95"]:
    PHONE_ZONE[_d] = "1"
for _d in [
    "22",
    "29",
    "35",
    "56",
    "44",
    "49",
    "53",
    "72",
    "85",
    "18",
    "28",
    "36",
    "37",
    "41",
    "45",
    "14",
    "27",
    "50",
    "61",
    "76",
]:
    PHONE_ZONE[_d] = "2"
for _d in ["59", "62", "80", "02", "60", "67", "68", "54", "57", "88", "21", "25", "71", "89"]:
    PHONE_ZONE[_d] = "3"
for _d in [
    "01",
    "26",
    "38",
    "42",
    "63",
    "69",
    "73",
    "74",
    "04",
    "05",
    "06",
    "13",
    "83",
    "84",
    "2A",
    "2B",
    "30",
    "34",
    "11",
    "66",
    "07",
]:
    PHONE_ZONE[_d] = "4"
for _d in [
    "31",
    "46",
    "12",
    "81",
    "87",
    "23",
    "17",
    "64",
    "33",
    "86",
    "24",
    "19",
    "16",
    "40",
    "47",
    "65",
    "32",
    "82",
    "09",
    "79",
]:
    PHONE_ZONE[_d] = "5"
OVERSEAS_PHONE = {
    "974": ("262", "262"),
    "971": ("590", "590"),
    "972": ("596", "596"),
    "973": ("594", "594"),
    "976": ("262", "269"),
}


# --------------------------------------------------------------------------- feeds


@dataclass
class Feed:
    id: str
    file: str
    syntax: str
    ns: str
    network_name: str
    adapter: str | None = None
    records: list = field(default_factory=list)
    rng: random.Random = None
    counters: dict = field(default_factory=dict)
    used_iris: set = field(default_factory=set)
    schema_ns: str = SCHEMA

    def __post_init__(self):
        self.rng = random.Random(f"ltc-examples-{self.id}")

    @property
    def network(self):
        return self.ns + "reseau"

    def mint(self, kind, name=None):
        if name is None:
            n = self.counters.get(kind, 0) + 1
            self.counters[kind] = n
            iri = f"{self.ns}{kind}/{n:04d}"
        else:
            base = f"{self.ns}{kind}/{slug(name)}"
            iri, i = base, 2
            while iri in self.used_iris:
                iri = f"{base}-{i}"
                i += 1
        self.used_iris.add(iri)
        return iri

    def add(self, rec):
        self.records.append(rec)
        return rec

    def by_iri(self, iri):
        for r in self.records:
            if r.iri == iri:
                return r
        raise KeyError(iri)


NAMES_USED: dict[tuple[str, str], str] = {}  # (insee, normalised name) -> place IRI


def name_free(c, name):
    return (c["insee"], norm_name(name)) not in NAMES_USED


def phone(rng, c, e164=True):
    dep = c["departement"]
    if dep in OVERSEAS_PHONE:
        cc, pre = OVERSEAS_PHONE[dep]
        rest = "".join(str(rng.randint(0, 9)) for _ in range(6))
        if e164:
            return f"+{cc}{pre}{rest}"
        return f"0{pre} {rest[0:2]} {rest[2:4]} {rest[4:6]}"
    z = PHONE_ZONE.get(dep, "2")
    if rng.random() < 0.15:
        z = rng.choice("67")
    rest = "".join(str(rng.randint(0, 9)) for _ in range(8))
    if e164:
        return f"+33{z}{rest}"
    return f"0{z} {rest[0:2]} {rest[2:4]} {rest[4:6]} {rest[6:8]}"


def rand_date(rng, start="2025-01-06", days=470):
    y, m, d = map(int, start.split("-"))
    import datetime as _dt

    day = _dt.date(y, m, d) + _dt.timedelta(days=rng.randint(0, days))
    return day.isoformat()


def date_modified(rng, feed):
    d = rand_date(rng)
    if feed.syntax == "json-ld" and rng.random() < 0.5:
        return dtime(d)  # the context coerces dateModification to xsd:dateTime
    if rng.random() < 0.35:
        h, mi = rng.randint(7, 21), rng.randint(0, 59)
        return dtime(f"{d}T{h:02d}:{mi:02d}:00+01:00")
    return date(d)


def hours_node(days, opens, closes, valid_from=None, valid_through=None):
    props = [(S + "dayOfWeek", IRI(S + DAYS[d])) for d in days]
    props += [(S + "opens", tm(opens)), (S + "closes", tm(closes))]
    if valid_from:
        props.append((S + "validFrom", date(valid_from)))
    if valid_through:
        props.append((S + "validThrough", date(valid_through)))
    return Node(S + "OpeningHoursSpecification", props)


HOURS_PATTERNS = {
    "distribution": lambda r: [
        hours_node(
            [r.choice(["mardi", "mercredi", "jeudi", "vendredi"])],
            r.choice(["17:30", "18:00", "18:15"]),
            r.choice(["19:30", "19:45", "20:00"]),
        )
    ],
    "ferme": lambda r: (
        [hours_node(["samedi"], "09:00", "12:30")]
        + ([hours_node(["mercredi"], "16:00", "19:00")] if r.random() < 0.5 else [])
    ),
    "boutique": lambda r: [
        hours_node(["mardi", "mercredi", "jeudi", "vendredi", "samedi"], "10:00", "12:30"),
        hours_node(
            ["mardi", "mercredi", "jeudi", "vendredi", "samedi"],
            "14:00",
            r.choice(["18:30", "19:00"]),
        ),
    ],
    "boutique-continu": lambda r: [
        hours_node(["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"], "09:30", "19:00")
    ],
    "repair": lambda r: [
        hours_node(
            [r.choice(["samedi", "samedi", "mercredi", "dimanche"])],
            *r.choice([("09:30", "12:30"), ("14:00", "17:30")]),
        )
    ],
    "tiers-lieu": lambda r: [
        hours_node(
            ["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
            r.choice(["08:30", "09:00"]),
            r.choice(["18:00", "19:00"]),
        ),
        hours_node(["samedi"], "10:00", "17:00"),
    ],
    "bureau": lambda r: [hours_node([r.choice(["mardi", "jeudi"])], "14:00", "17:00")],
    "saison": lambda r: [hours_node(["samedi"], "10:00", "13:00", "2026-04-01", "2026-10-31")],
}


class Builder:
    def __init__(self):
        self.feeds: dict[str, Feed] = {}
        self.same_places = []
        self.neighbours = []
        self.rejected = []
        self.adapter_rejected = []
        self.osm_counter = random.Random("ltc-examples-osm")

    # -- record factories ---------------------------------------------------------
    def place(
        self,
        feed,
        c,
        name,
        ptype,
        themes,
        hours="auto",
        street=None,
        coords=None,
        dist=None,
        insee=None,
        phone_e164=True,
        email=None,
        url=None,
        same_as=(),
        pmr=None,
        desc=None,
        locality=None,
        postcode=None,
        with_phone=None,
        shared=False,
    ):
        rng = feed.rng
        if coords is None:
            maxd = 1200 if c["nom"] in COASTAL else 2800
            d = dist if dist is not None else rng.uniform(60, maxd)
            coords = offset(c["lat"], c["lon"], d, rng.uniform(0, 360))
        if street is None:
            street = f"{rng.randint(1, 120)} {rng.choice(STREET_TYPES)} {rng.choice(STREET_NAMES)}"
        iri = feed.mint("lieux", f"{name} {c['nom']}" if not name_has(name, c) else name)
        addr = [
            (S + "streetAddress", s(street)),
            (S + "postalCode", s(postcode or c["code_postal"])),
            (S + "addressLocality", s(locality or c["nom"])),
        ]
        if insee is None:
            insee = rng.random() < 0.85
        if insee:
            addr.append((LTC + "inseeCode", s(c["insee"])))
        addr.append((S + "addressCountry", s("FR")))
        lang = "fr" if feed.syntax == "rdf-xml" else None
        props = [(S + "name", s(name, lang))]
        if desc:
            props.append((S + "description", s(desc, lang)))
        props.append((S + "address", Node(S + "PostalAddress", addr)))
        props.append(
            (
                S + "geo",
                Node(
                    S + "GeoCoordinates",
                    [(S + "latitude", dec(coords[0])), (S + "longitude", dec(coords[1]))],
                ),
            )
        )
        for t in themes:
            props.append((LTC + "theme", IRI(LTCT + t)))
        if ptype:
            props.append((LTC + "placeType", IRI(LTCP + ptype)))
        if hours == "auto":
            hours = None
        if hours:
            for h in HOURS_PATTERNS[hours](rng):
                props.append((S + "openingHoursSpecification", h))
        if with_phone is None:
            with_phone = rng.random() < 0.6
        if with_phone:
            props.append((S + "telephone", s(phone(rng, c, phone_e164))))
        if email:
            props.append((S + "email", s(email)))
        if url:
            props.append((S + "url", IRI(url)))
        if not same_as and rng.random() < 0.05:
            same_as = [(S + "sameAs", self.osm())]
        elif not same_as and ptype == "tiers-lieu" and rng.random() < 0.15:
            qid = rng.randint(10**6, 13 * 10**7)
            same_as = [(S + "sameAs", IRI(f"http://www.wikidata.org/entity/Q{qid}"))]
        for sa in same_as:
            props.append(sa)
        if pmr is not None:
            props.append(
                (LTC + "wheelchairAccessible", Lit("true" if pmr else "false", XSD + "boolean"))
            )
        props.append((S + "dateModified", date_modified(rng, feed)))
        rec = feed.add(Rec(iri, "place", props, commune=c))
        key = (c["insee"], norm_name(name))
        assert shared or key not in NAMES_USED, key
        NAMES_USED.setdefault(key, iri)
        return rec

    def org(
        self,
        feed,
        name,
        themes,
        c=None,
        siret=None,
        rna=None,
        url=None,
        email=None,
        alt=None,
        desc=None,
        with_phone=True,
    ):
        rng = feed.rng
        iri = feed.mint("organisations", name)
        lang = "fr" if feed.syntax == "rdf-xml" else None
        props = [(S + "name", s(name, lang))]
        if alt:
            props.append((S + "alternateName", s(alt)))
        if desc:
            props.append((S + "description", s(desc, lang)))
        props.append((S + "memberOf", IRI(feed.network)))
        for t in themes:
            props.append((LTC + "theme", IRI(LTCT + t)))
        if url:
            props.append((S + "url", IRI(url)))
        if with_phone and c is not None and rng.random() < 0.7:
            props.append((S + "telephone", s(phone(rng, c, rng.random() < 0.9))))
        if email:
            props.append((S + "email", s(email)))
        if siret:
            props.append((LTC + "siret", s(siret)))
        if rna:
            props.append((LTC + "rna", s(rna)))
        props.append((S + "dateModified", date_modified(rng, feed)))
        return feed.add(Rec(iri, "org", props, commune=c))

    def presence(self, feed, org, place_iri, roles, activities=(), hours=None, themes=()):
        iri = feed.mint("presences")
        props = [(LTC + "organisation", IRI(org.iri)), (LTC + "place", IRI(place_iri))]
        for r in roles:
            props.append((LTC + "role", IRI(LTCR + r)))
        for a in activities:
            props.append((LTC + "activity", s(a)))
        for t in themes:
            props.append((LTC + "theme", IRI(LTCT + t)))
        for h in hours or ():
            props.append((S + "openingHoursSpecification", h))
        if feed.rng.random() < 0.85:
            props.append((S + "dateModified", date_modified(feed.rng, feed)))
        return feed.add(Rec(iri, "presence", props))

    def event(
        self, feed, name, place_iri, start, end=None, organizer=None, themes=(), desc=None, url=None
    ):
        iri = feed.mint("evenements", name + " " + start[:10])
        lang = "fr" if feed.syntax == "rdf-xml" else None
        props = [(S + "name", s(name, lang))]
        if desc:
            props.append((S + "description", s(desc, lang)))
        props.append((S + "startDate", dtime(start) if "T" in start else date(start)))
        if end:
            props.append((S + "endDate", dtime(end) if "T" in end else date(end)))
        props.append((S + "location", IRI(place_iri)))
        if organizer:
            props.append((S + "organizer", IRI(organizer)))
        for t in themes:
            props.append((LTC + "theme", IRI(LTCT + t)))
        if url:
            props.append((S + "url", IRI(url)))
        props.append((S + "dateModified", date_modified(feed.rng, feed)))
        return feed.add(Rec(iri, "event", props))

    def network(self, feed, themes, desc, url=None):
        lang = "fr" if feed.syntax == "rdf-xml" else None
        props = [
            (S + "name", s(feed.network_name, lang)),
            (S + "description", s(desc, lang)),
            (S + "url", IRI(url or feed.ns)),
        ]
        for t in themes:
            props.append((LTC + "theme", IRI(LTCT + t)))
        props.append((S + "dateModified", date(rand_date(feed.rng, "2025-09-01", 200))))
        return feed.add(Rec(feed.network, "network", props))

    def osm(self):
        node = self.osm_counter.randint(10**9, 13 * 10**9)
        return IRI(f"https://www.openstreetmap.org/node/{node}")


def name_has(name, c):
    return norm_name(c["nom"]) in norm_name(name)


def de(name):
    """'Le Coudray' -> 'du Coudray', 'La Noue' -> 'de la Noue', 'Bel-Air' -> 'de Bel-Air'."""
    for art, rep_ in (("Le ", "du "), ("Les ", "des "), ("La ", "de la "), ("L'", "de l'")):
        if name.startswith(art):
            return rep_ + name[len(art) :]
    return "de " + name


def acronym(name):
    words = re.findall(r"[A-ZÉ][\w'’]*", name)
    return "".join(unicodedata.normalize("NFKD", w)[0] for w in words).upper()


def email_for(name, domain):
    return f"contact@{short_slug(name)}.{domain}"


# --------------------------------------------------------------------------- networks

AMAP_NAMES = [
    "Les Paniers du Cher",
    "La Carotte Joyeuse",
    "Les Jardins de Rabelais",
    "du Bord de Loire",
    "Les Pieds dans la Terre",
    "La Fourche et le Panier",
    "Le Panier Tourangeau",
    "Les Radis Rebelles",
    "La Courge Solidaire",
    "Les Deux Rives",
    "Le Potager Partagé",
    "La Binette",
    "Les Poireaux Heureux",
    "Terre et Partage",
    "La Gerbe d'Or",
    "Le Petit Épeautre",
    "Les Paniers de la Varenne",
    "La Grelinette",
    "Croq'Saisons",
    "Les Sillons Libres",
    "Le Chou Frisé",
    "La Pomme de Reinette",
    "Les Semeurs du Val",
    "Le Cageot Militant",
    "Les Mains Vertes",
    "La Butte aux Légumes",
    "Les Coteaux Gourmands",
    "La Belle Aubergine",
    "Les Glaneurs Associés",
    "Le Fenouil Enchanté",
    "La Ruche Maraîchère",
    "Les Cerises d'Ici",
]
AMAP_COMMUNES = (
    ["Tours"] * 6
    + ["Joué-lès-Tours"] * 2
    + [
        "Saint-Pierre-des-Corps",
        "Amboise",
        "Chinon",
        "Loches",
        "Montlouis-sur-Loire",
        "Azay-le-Rideau",
        "Bléré",
    ]
    + ["Orléans"] * 5
    + ["Blois"] * 3
    + [
        "Sancerre",
        "Chartres",
        "Chartres",
        "Châteauroux",
        "Châteauroux",
        "Tours",
        "Orléans",
        "Blois",
    ]
)
DISTRIB_KINDS = [
    "Salle des fêtes",
    "Maison des associations",
    "Préau de l'école",
    "Centre social",
    "Maison de quartier",
    "Salle paroissiale",
    "Local de l'Amicale laïque",
    "Halle",
    "Foyer rural",
    "Salle polyvalente",
]
PRODUCER_KINDS = [
    "Ferme",
    "Chèvrerie",
    "Le Fournil",
    "Les Vergers",
    "Domaine maraîcher",
    "Ferme maraîchère",
    "Rucher",
    "Moulin",
]


def build_amap(b: Builder, f: Feed):
    b.network(
        f,
        ["alimentation", "agriculture"],
        "Réseau régional des AMAP (associations pour le maintien d'une agriculture "
        "paysanne) du Centre-Val de Loire.",
    )
    rng = f.rng
    for i, flav in enumerate(AMAP_NAMES[:30]):
        c = commune(AMAP_COMMUNES[i % len(AMAP_COMMUNES)])
        name = f"AMAP {flav}"
        org = b.org(
            f,
            name,
            ["alimentation", "agriculture"],
            c,
            rna=f"W{c['departement'][:2]}{rng.randint(10**6, 10**7 - 1):07d}",
            email=email_for(name, "example.org"),
            url=f"{f.ns}amap/{slug(flav)}",
        )
        # distribution point
        for _ in range(50):
            dk = rng.choice(DISTRIB_KINDS)
            pname = f"{dk} {rng.choice(QUALIFIERS)}"
            if name_free(c, pname):
                break
        ptype = (
            "marche"
            if dk == "Halle"
            else "salle"
            if "Salle" in dk or "Foyer" in dk
            else "local-associatif"
        )
        pl = b.place(
            f,
            c,
            pname,
            ptype,
            ["alimentation"],
            hours="distribution" if rng.random() < 0.85 else None,
            pmr=rng.random() < 0.6 if rng.random() < 0.5 else None,
        )
        b.presence(
            f,
            org,
            pl.iri,
            ["point-de-distribution"],
            ["distribution des paniers"]
            + (["vente de produits fermiers"] if rng.random() < 0.3 else []),
        )
        # one or two partner farms
        for _ in range(rng.choice([0, 1, 1, 2])):
            fc = commune(
                rng.choice(
                    [
                        "Tours",
                        "Amboise",
                        "Chinon",
                        "Loches",
                        "Bléré",
                        "Azay-le-Rideau",
                        "Montlouis-sur-Loire",
                        "Sancerre",
                        "Orléans",
                        "Blois",
                        "Châteauroux",
                        "Chartres",
                    ]
                )
            )
            for _ in range(50):
                pk = rng.choice(PRODUCER_KINDS)
                ld = rng.choice(LIEUX_DITS)
                fname = f"{pk} {de(ld)}"
                if name_free(fc, fname):
                    break
            farm = b.place(
                f,
                fc,
                fname,
                "ferme",
                ["agriculture", "alimentation"],
                hours="ferme" if rng.random() < 0.7 else None,
                street=f"lieu-dit {ld}",
                dist=rng.uniform(1500, 3000),
                with_phone=True,
            )
            b.presence(
                f,
                org,
                farm.iri,
                ["lieu-d-activite"],
                [
                    rng.choice(
                        [
                            "maraîchage",
                            "élevage de chèvres",
                            "arboriculture",
                            "boulangerie paysanne",
                            "apiculture",
                        ]
                    ),
                    "visites de ferme",
                ],
            )


ENERGY_COOPS = [
    ("Soleil du Val de Loire", "Tours"),
    ("Orléans Énergies Partagées", "Orléans"),
    ("Rennes Watts Citoyens", "Rennes"),
    ("Brest Énergies Citoyennes", "Brest"),
    ("Lorient Soleil Commun", "Lorient"),
    ("Les Toits du Mans", "Le Mans"),
    ("Angers Énergie Coop", "Angers"),
    ("Lyon Soleil Partagé", "Lyon"),
    ("Grenoble Énergie Citoyenne", "Grenoble"),
    ("Centrales Villageoises de la Drôme", "Crest"),
    ("Die Énergies Locales", "Die"),
    ("Toulouse Watts en Commun", "Toulouse"),
    ("Montpellier Soleil Citoyen", "Montpellier"),
    ("Bordeaux Énergies Citoyennes", "Bordeaux"),
    ("Limousin Énergies Partagées", "Limoges"),
    ("Lille Énergie Solidaire", "Lille"),
    ("Strasbourg Énergie Coop", "Strasbourg"),
    ("Alsace Soleil Citoyen", "Ungersheim"),
    ("Loos Énergies Partagées", "Loos-en-Gohelle"),
    ("Dijon Énergies Citoyennes", "Dijon"),
    ("Provence Soleil Partagé", "Forcalquier"),
    ("Nice Watts Solidaires", "Nice"),
    ("Kréol Soleil Citoyen", "Saint-Pierre"),
    ("Péi Énergies Partagées", "Saint-Paul"),
    ("Gwadloup Soléy Kolèktif", "Les Abymes"),
    ("Quimper Énergies Citoyennes", "Quimper"),
]
ENERGY_SITES = [
    "Toiture solaire du gymnase",
    "Centrale solaire de l'école",
    "Ombrières solaires du parking",
    "Toiture photovoltaïque de la salle",
    "Centrale solaire de la médiathèque",
    "Toit solaire de la halle",
    "Chaufferie bois collective",
    "Toiture solaire des ateliers municipaux",
    "Centrale solaire de la cave coopérative",
    "Micro-centrale hydraulique du moulin",
]


def build_energy(b: Builder, f: Feed):
    b.network(
        f,
        ["energie", "finance-solidaire"],
        "Réseau national des coopératives citoyennes de production d'énergie renouvelable.",
    )
    rng = f.rng
    for name, cname in ENERGY_COOPS:
        c = commune(cname)
        org = b.org(
            f,
            name,
            ["energie"] + (["finance-solidaire"] if rng.random() < 0.5 else []),
            c,
            siret=f"{rng.randint(10**13, 10**14 - 1)}",
            email=email_for(name, "example.org"),
            url=f"{f.ns}cooperatives/{slug(name)}",
            alt=acronym(name) if rng.random() < 0.4 else None,
        )
        # office
        for _ in range(50):
            oname = rng.choice(["Local de", "Bureau de", "Siège de"]) + " " + name
            if name_free(c, oname):
                break
        off = b.place(
            f,
            c,
            oname,
            "bureau",
            ["energie"],
            hours="bureau" if rng.random() < 0.8 else None,
            with_phone=True,
        )
        b.presence(
            f,
            org,
            off.iri,
            ["siege"] + (["permanence"] if rng.random() < 0.5 else []),
            ["accueil des sociétaires"]
            + (["permanence info-énergie"] if rng.random() < 0.4 else []),
        )
        for _ in range(rng.choice([0, 1, 1, 2])):
            for _ in range(50):
                site = f"{rng.choice(ENERGY_SITES)} {rng.choice(QUALIFIERS)}"
                if name_free(c, site):
                    break
            pl = b.place(f, c, site, "autre", ["energie"], hours=None, with_phone=False)
            b.presence(
                f,
                org,
                pl.iri,
                ["lieu-d-activite"],
                [
                    "production photovoltaïque"
                    if "hydraulique" not in site and "bois" not in site
                    else "production de chaleur renouvelable"
                ],
            )


FAIR_SHOPS = [
    ("Comptoir Équitable", "Tours"),
    ("Terres d'Ailleurs", "Orléans"),
    ("La Case Solidaire", "Blois"),
    ("Le Monde en Partage", "Rennes"),
    ("Équi'Libre", "Brest"),
    ("Le Fil Solidaire", "Quimper"),
    ("Tissages du Monde", "Vannes"),
    ("Les Artisans Solidaires", "Angers"),
    ("Le Grenier Équitable", "Le Mans"),
    ("Cafés et Cacaos Solidaires", "Paris"),
    ("La Boutique des Deux Mondes", "Paris"),
    ("Équité Montreuil", "Montreuil"),
    ("Saint-Denis Équitable", "Saint-Denis"),
    ("Le Comptoir des Peuples", "Lyon"),
    ("Échanges Justes", "Villeurbanne"),
    ("L'Arbre à Palabres", "Saint-Étienne"),
    ("Annecy Solidaire", "Annecy"),
    ("Le Baobab Équitable", "Clermont-Ferrand"),
    ("Terre Commune", "Toulouse"),
    ("Le Colibri Équitable", "Montpellier"),
    ("Les Mains du Monde", "Nîmes"),
    ("Le Marché Juste", "Bordeaux"),
    ("Équité Poitou", "Poitiers"),
    ("L'Atelier des Deux Rives", "La Rochelle"),
    ("Le Comptoir Basque Solidaire", "Bayonne"),
    ("Lille Équitable", "Lille"),
    ("La Boussole Solidaire", "Roubaix"),
    ("Le Chemin Équitable", "Nancy"),
    ("Rouen Commerce Juste", "Rouen"),
    ("Normandie Équitable", "Caen"),
    ("Dijon Solidaire", "Dijon"),
    ("Le Comptoir Provençal Solidaire", "Avignon"),
    ("Méditerranée Équitable", "Marseille"),
    ("Corsica Ghjusta", "Ajaccio"),
    ("Bastia Commerce Équitable", "Bastia"),
    ("Péyi Solidè", "Fort-de-France"),
    ("Kaz Équitable", "Pointe-à-Pitre"),
    ("Amazonie Solidaire", "Cayenne"),
    ("Le Sentier Solidaire", "Perpignan"),
    ("Équitable en Albigeois", "Albi"),
]


def build_fair(b: Builder, f: Feed):
    b.network(
        f,
        ["commerce-equitable"],
        "Réseau de boutiques associatives de commerce équitable et d'artisanat solidaire.",
    )
    rng = f.rng
    for name, cname in FAIR_SHOPS:
        c = commune(cname)
        org = b.org(
            f,
            f"Association {name}",
            ["commerce-equitable"],
            c,
            rna=f"W{rng.randint(10**8, 10**9 - 1)}",
            email=email_for(name, "example.org"),
        )
        pname = f"Boutique {name}" if not name.startswith("Le ") else name
        pname = pname if name_free(c, pname) else f"Boutique {name} (centre)"
        pl = b.place(
            f,
            c,
            pname,
            "boutique",
            ["commerce-equitable"],
            hours=rng.choice(["boutique", "boutique", "boutique-continu"])
            if rng.random() < 0.9
            else None,
            url=f"{f.ns}boutiques/{slug(name)}",
            pmr=rng.random() < 0.7,
        )
        b.presence(
            f,
            org,
            pl.iri,
            ["boutique"],
            ["vente de produits équitables"]
            + (["animations scolaires"] if rng.random() < 0.3 else []),
        )
        if rng.random() < 0.3:
            mname = (
                f"Marché {rng.choice(['du samedi', 'couvert', 'des producteurs', 'bio'])} "
                f"{rng.choice(QUALIFIERS)}"
            )
            if name_free(c, mname):
                mk = b.place(
                    f, c, mname, "marche", ["alimentation"], hours="saison", with_phone=False
                )
                b.presence(
                    f,
                    org,
                    mk.iri,
                    ["marche"],
                    ["stand de produits équitables"],
                    hours=[hours_node(["samedi"], "08:00", "12:30")],
                )


REPAIR_CAFES = [
    ("Tours", 3),
    ("Joué-lès-Tours", 1),
    ("Orléans", 2),
    ("Chartres", 1),
    ("Rennes", 2),
    ("Saint-Malo", 1),
    ("Redon", 1),
    ("Brest", 1),
    ("Quimper", 1),
    ("Douarnenez", 1),
    ("Lannion", 1),
    ("Nantes", 2),
    ("Angers", 1),
    ("Saumur", 1),
    ("Paris", 3),
    ("Montreuil", 1),
    ("Ivry-sur-Seine", 1),
    ("Lyon", 2),
    ("Villeurbanne", 1),
    ("Grenoble", 1),
    ("Valence", 1),
    ("Toulouse", 2),
    ("Figeac", 1),
    ("Millau", 1),
    ("Bordeaux", 1),
    ("Limoges", 1),
    ("Lille", 1),
    ("Strasbourg", 1),
    ("Rouen", 1),
    ("Marseille", 1),
    ("Nice", 1),
    ("Saint-Denis", 1),
]
REPAIR_PLACES = [
    "Maison de quartier",
    "Salle",
    "Espace associatif",
    "Centre socioculturel",
    "Médiathèque",
    "Maison pour tous",
    "Salle municipale",
    "Atelier partagé",
    "Foyer des jeunes travailleurs",
    "Local associatif",
]


def build_repair(b: Builder, f: Feed):
    b.network(
        f,
        ["reemploi-reparation"],
        "Réseau des cafés de réparation bénévoles : on répare ensemble plutôt que jeter.",
    )
    rng = f.rng
    for cname, n in REPAIR_CAFES:
        c = commune(cname, "974" if cname == "Saint-Denis" else None)
        for k in range(n):
            q = rng.choice(QUALIFIERS)
            name = f"Repair Café {c['nom']}" + (f" {q}" if n > 1 or rng.random() < 0.4 else "")
            if any(r.kind == "org" and r.first(S + "name").value == name for r in f.records):
                name += f" {k + 2}"
            org = b.org(
                f,
                name,
                ["reemploi-reparation"],
                c,
                email=email_for(name, "example.org") if rng.random() < 0.7 else None,
            )
            for j in range(rng.choice([1, 1, 2, 2, 3])):
                for _ in range(50):
                    pname = f"{rng.choice(REPAIR_PLACES)} {rng.choice(QUALIFIERS)}"
                    if name_free(c, pname):
                        break
                ptype = (
                    "atelier"
                    if "Atelier" in pname
                    else "salle"
                    if "Salle" in pname
                    else "local-associatif"
                )
                pl = b.place(
                    f,
                    c,
                    pname,
                    ptype,
                    ["reemploi-reparation"],
                    hours="repair" if rng.random() < 0.6 else None,
                )
                acts = [
                    "réparation de petit électroménager",
                    "couture",
                    "réparation de vélos",
                    "informatique",
                    "petite menuiserie",
                ]
                rng.shuffle(acts)
                b.presence(
                    f,
                    org,
                    pl.iri,
                    ["atelier"],
                    acts[: rng.randint(1, 3)],
                    hours=[hours_node(["samedi"], "14:00", "18:00")]
                    if j > 0 and rng.random() < 0.5
                    else None,
                )


TIERS_LIEUX = [
    ("Le Hangar des Communs", "Tours"),
    ("La Ruche Numérique", "Orléans"),
    ("L'Usine à Idées", "Blois"),
    ("Le Quai des Savoirs", "Saint-Pierre-des-Corps"),
    ("La Cantine Partagée", "Rennes"),
    ("Le Phare Coopératif", "Saint-Malo"),
    ("La Conserverie", "Douarnenez"),
    ("Le Garage Solidaire", "Lorient"),
    ("La Manufacture Coopérative", "Angers"),
    ("Le Nid", "Clisson"),
    ("La Station", "Le Mans"),
    ("La Base", "Paris"),
    ("Le Cargo", "Paris"),
    ("Les Grands Voisins du Canal", "Paris"),
    ("La Fabrique du Bas-Montreuil", "Montreuil"),
    ("Le Wagon", "Saint-Denis"),
    ("La Friche Coopérative", "Lyon"),
    ("Le Bocal à Idées", "Lyon"),
    ("Les Ateliers du Drac", "Grenoble"),
    ("La Cordée Rurale", "Crest"),
    ("La Maison Commune", "Saillans"),
    ("La Grande Halle", "Valence"),
    ("L'Ancienne Poste", "Bourg-en-Bresse"),
    ("Le Fil Rouge", "Figeac"),
    ("La Filature du Midi", "Millau"),
    ("La Grange aux Abbés", "Lagrasse"),
    ("Le Préau", "Albi"),
    ("Les Halles Coopératives", "Toulouse"),
    ("La Tuilerie", "Eymoutiers"),
    ("La Cité Tisserande", "Felletin"),
    ("La Forge", "Limoges"),
    ("Le Chai Coopératif", "Bordeaux"),
    ("L'Atelier Paysan", "Poitiers"),
    ("La Gare Numérique", "La Rochelle"),
    ("La Serre", "Loos-en-Gohelle"),
    ("La Maison du Vivre Ensemble", "Ungersheim"),
    ("La Brasserie Coopérative", "Strasbourg"),
    ("Le Shakirail", "Nancy"),
    ("La Halle aux Grains", "Forcalquier"),
    ("Le Mas des Possibles", "Correns"),
    ("Le Plateau", "Mouans-Sartoux"),
    ("Le Refuge Alpin", "Briançon"),
    ("La Case à Partage", "Le Tampon"),
    ("Le Lakaz Koz", "Saint-Denis"),
    ("La Ruche de Cayenne", "Cayenne"),
]


def build_tiers(b: Builder, f: Feed):
    b.network(
        f,
        ["tiers-lieux", "citoyennete", "numerique"],
        "Réseau national des tiers-lieux coopératifs : espaces partagés de travail, "
        "de fabrication, de culture et de convivialité.",
    )
    rng = f.rng
    for name, cname in TIERS_LIEUX:
        c = commune(cname, "974" if name == "Le Lakaz Koz" else None)
        assoc = rng.choice(["Association", "SCIC", "Collectif", "Coopérative"])
        org = b.org(
            f,
            f"{assoc} {name}",
            [
                "tiers-lieux",
                *rng.sample(
                    ["numerique", "culture", "education", "citoyennete", "alimentation"], 2
                ),
            ],
            c,
            siret=f"{rng.randint(10**13, 10**14 - 1)}"
            if assoc in ("SCIC", "Coopérative")
            else None,
            rna=f"W{rng.randint(10**8, 10**9 - 1)}" if assoc == "Association" else None,
            email=email_for(name, "example.org"),
        )
        themes = [
            "tiers-lieux",
            *rng.sample(
                ["numerique", "culture", "education", "citoyennete", "alimentation", "habitat"], 2
            ),
        ]
        pl = b.place(
            f,
            c,
            name,
            "tiers-lieu",
            themes,
            hours="tiers-lieu" if rng.random() < 0.85 else None,
            url=f"https://{slug(name)}.example.org/",
            pmr=rng.random() < 0.8,
            desc=rng.choice(
                [
                    "Espace de coworking, atelier de fabrication et café associatif.",
                    "Lieu hybride : ateliers, épicerie vrac, salle de spectacle.",
                    "Ancienne friche réhabilitée en lieu de vie partagé.",
                    None,
                ]
            ),
        )
        b.presence(
            f,
            org,
            pl.iri,
            ["siege", "lieu-d-activite"],
            rng.sample(
                [
                    "coworking",
                    "fablab",
                    "café associatif",
                    "résidences d'artistes",
                    "épicerie vrac",
                    "formations numériques",
                ],
                2,
            ),
        )
        if rng.random() < 0.3:
            gname = f"Jardin partagé {rng.choice(QUALIFIERS)}"
            if name_free(c, gname):
                g = b.place(
                    f,
                    c,
                    gname,
                    "jardin",
                    ["nature", "alimentation"],
                    hours="saison",
                    with_phone=False,
                )
                b.presence(f, org, g.iri, ["lieu-d-activite"], ["jardinage collectif"])


CURRENCIES = [
    (
        "La Luciole",
        "luciole",
        ["Tours", "Joué-lès-Tours", "Saint-Pierre-des-Corps", "Montlouis-sur-Loire", "Amboise"],
        12,
    ),
    ("Le Grain de Sel", "grain", ["Nantes", "Clisson", "Guérande"], 9),
    ("La Bruyère", "bruyère", ["Limoges", "Eymoutiers", "Felletin"], 8),
    ("Le Caillou", "caillou", ["Valence", "Crest", "Die", "Saillans"], 10),
    ("La Cigale", "cigale", ["Marseille", "Avignon", "Forcalquier", "Correns"], 10),
    ("Le Piment", "piment", ["Saint-Denis", "Saint-Paul", "Saint-Pierre", "Le Tampon"], 9),
    ("La Gerbe", "gerbe", ["Lyon", "Villeurbanne"], 8),
    ("Le Flot", "flot", ["Rennes", "Saint-Malo", "Redon"], 9),
]
COMPTOIRS = [
    "Épicerie",
    "Librairie",
    "Café",
    "Boulangerie",
    "Bar associatif",
    "Fromagerie",
    "Quincaillerie",
    "Salon de thé",
    "Primeur",
    "Disquaire",
    "Cave",
    "Biocoop du",
]
COMPTOIR_NAMES = [
    "Le Panier Local",
    "La Bonne Graine",
    "Le Comptoir",
    "Au Fil des Saisons",
    "La Mésange",
    "Le Colibri",
    "La Petite Fabrique",
    "Le Bouquet",
    "L'Arrosoir",
    "Le Grain de Café",
    "La Cabane",
    "Le Tournesol",
    "La Grange à Pain",
    "Le Bon Vivant",
    "La Marmite",
    "Le Zinc",
    "La Bobine",
    "Le Moulin à Paroles",
    "La Chouette",
    "Le Vieux Comptoir",
    "L'Escale",
    "Les Quatre Saisons",
    "La Pie Bavarde",
    "Le Petit Marché",
    "Le Chat Perché",
]


def build_currency(b: Builder, f: Feed):
    b.network(
        f,
        ["monnaie-locale", "finance-solidaire"],
        "Fédération des monnaies locales citoyennes : comptoirs de change et prestataires agréés.",
    )
    rng = f.rng
    for cname_, unit, communes_, n in CURRENCIES:
        dep = "974" if unit == "piment" else None
        c0 = commune(communes_[0], dep)
        org = b.org(
            f,
            f"Association {cname_}",
            ["monnaie-locale", "finance-solidaire"],
            c0,
            rna=f"W{rng.randint(10**8, 10**9 - 1)}",
            email=email_for(cname_, "example.org"),
            url=f"{f.ns}monnaies/{slug(cname_)}",
            desc=f"Association qui émet et fait circuler {cname_.lower()}, monnaie "
            f"locale complémentaire.",
        )
        org.unit = unit
        # bureau
        bname = f"Bureau {cname_.replace('La ', 'de la ').replace('Le ', 'du ')}"
        off = b.place(f, c0, bname, "bureau", ["monnaie-locale"], hours="bureau", with_phone=True)
        b.presence(f, org, off.iri, ["siege", "bureau"], ["accueil des adhérents"])
        for _ in range(n):
            c = commune(rng.choice(communes_), dep)
            for _ in range(60):
                pname = f"{rng.choice(COMPTOIRS)} {rng.choice(COMPTOIR_NAMES)}"
                pname = (
                    pname.replace("Biocoop du Le ", "Biocoop du ")
                    .replace("Biocoop du La ", "Biocoop de la ")
                    .replace("Biocoop du L'", "Biocoop de l'")
                )
                pname = pname.replace("Biocoop du", "Coop bio du").replace(
                    "Biocoop de", "Coop bio de"
                )
                if name_free(c, pname):
                    break
            pl = b.place(
                f,
                c,
                pname,
                "boutique",
                [
                    "monnaie-locale",
                    *rng.sample(["alimentation", "culture", "commerce-equitable"], 1),
                ],
                hours=rng.choice(["boutique", "boutique-continu"]) if rng.random() < 0.9 else None,
            )
            shop = b.org(
                f,
                pname,
                ["monnaie-locale"],
                c,
                siret=f"{rng.randint(10**13, 10**14 - 1)}" if rng.random() < 0.6 else None,
                with_phone=False,
            )
            b.presence(f, shop, pl.iri, ["boutique"], [f"paiement en {unit}s accepté"])
            if rng.random() < 0.4:
                b.presence(f, org, pl.iri, ["point-de-distribution"], ["comptoir de change"])


# --------------------------------------------------------------------------- sharing


def variant_street(street, rng, how):
    if how == 0:
        return street.replace(" rue ", ", rue ", 1) if " rue " in street else street + ""
    if how == 1:
        return street.replace(" rue ", " r. ", 1).replace(" avenue ", " av. ", 1)
    if how == 2:
        return street.upper()
    return street.replace("Saint-", "St-")


def build_sharing(b: Builder):
    F = b.feeds
    tl, rp, am, en, bo, mo = (
        F["tiers-lieux"],
        F["repair-cafes"],
        F["amap-centre"],
        F["energie-citoyenne"],
        F["boutiques-equitables"],
        F["monnaies-locales"],
    )

    def org_of(feed, name):
        for r in feed.records:
            if r.kind == "org" and r.first(S + "name").value == name:
                return r
        raise KeyError(name)

    def new_org(feed, name, themes, c):
        return b.org(feed, name, themes, c, email=email_for(name, "example.org"))

    # (a) a presence of network B refers to network A's place IRI ------------------
    refs = [
        (
            tl,
            "La Fabrique des Possibles",
            "Tours",
            "tiers-lieu",
            ["tiers-lieux", "reemploi-reparation"],
            "tiers-lieu",
            ("Association La Fabrique des Possibles", ["siege", "lieu-d-activite"]),
            [
                (
                    rp,
                    "Repair Café de la Fabrique",
                    ["reemploi-reparation"],
                    ["atelier"],
                    ["réparation de petit électroménager", "réparation de vélos"],
                    [hours_node(["samedi"], "14:00", "18:00")],
                ),
                (
                    am,
                    "AMAP La Fabrique",
                    ["alimentation"],
                    ["point-de-distribution"],
                    ["distribution des paniers"],
                    [hours_node(["jeudi"], "18:00", "19:30")],
                ),
            ],
        ),
        (
            tl,
            "Le Hangar à Projets",
            "Nantes",
            "tiers-lieu",
            ["tiers-lieux", "culture"],
            "tiers-lieu",
            ("SCIC Le Hangar à Projets", ["siege", "lieu-d-activite"]),
            [
                (
                    en,
                    "Nantes Énergies Citoyennes",
                    ["energie"],
                    ["permanence"],
                    ["permanence info-énergie"],
                    [hours_node(["mercredi"], "17:00", "19:00")],
                )
            ],
        ),
        (
            bo,
            "Boutique Le Comptoir Solidaire",
            "Rennes",
            "boutique",
            ["commerce-equitable"],
            "boutique",
            ("Association Le Comptoir Solidaire", ["boutique"]),
            [
                (
                    mo,
                    "@Association Le Flot",
                    None,
                    ["point-de-distribution"],
                    ["comptoir de change"],
                    None,
                )
            ],
        ),
        (
            am,
            "Ferme de la Guérinière",
            "Montlouis-sur-Loire",
            "ferme",
            ["agriculture", "alimentation"],
            "ferme",
            ("@AMAP Les Paniers du Cher", ["lieu-d-activite"]),
            [
                (
                    mo,
                    "@Association La Luciole",
                    None,
                    ["lieu-d-activite"],
                    ["paiement en lucioles accepté"],
                    None,
                )
            ],
        ),
        (
            rp,
            "Salle des Tanneurs",
            "Grenoble",
            "salle",
            ["reemploi-reparation"],
            "repair",
            ("@Repair Café Grenoble", ["atelier"]),
            [
                (
                    bo,
                    "Grenoble Équitable",
                    ["commerce-equitable"],
                    ["permanence"],
                    ["stand de produits équitables"],
                    None,
                )
            ],
        ),
        (
            tl,
            "La Grange",
            "Saillans",
            "tiers-lieu",
            ["tiers-lieux", "citoyennete"],
            "tiers-lieu",
            ("Association La Grange", ["siege"]),
            [
                (
                    mo,
                    "@Association Le Caillou",
                    None,
                    ["point-de-distribution"],
                    ["comptoir de change"],
                    None,
                )
            ],
        ),
        (
            en,
            "Maison de l'Énergie Citoyenne",
            "Lorient",
            "local-associatif",
            ["energie"],
            "bureau",
            ("@Lorient Soleil Commun", ["permanence"]),
            [
                (
                    rp,
                    "Repair Café du Port",
                    ["reemploi-reparation"],
                    ["atelier"],
                    ["réparation de petit électroménager"],
                    [hours_node(["mercredi"], "18:00", "21:00")],
                )
            ],
        ),
    ]
    for host, pname, cname, ptype, themes, hours, (hname, hroles), guests in refs:
        c = commune(cname)
        hp = b.place(host, c, pname, ptype, themes, hours=hours, with_phone=True)
        hp.protected = True
        if hname.startswith("@"):
            host_org = org_of(host, hname[1:])
        else:
            host_org = b.org(host, hname, themes[:1], c, email=email_for(hname, "example.org"))
        host_org.protected = True
        b.presence(host, host_org, hp.iri, hroles, ["accueil du public"])
        nets = [host.network]
        for gfeed, gname, gthemes, roles, acts, ghours in guests:
            if gname.startswith("@"):
                g = org_of(gfeed, gname[1:])
            else:
                g = new_org(gfeed, gname, gthemes, c)
            g.protected = True
            b.presence(gfeed, g, hp.iri, roles, acts, hours=ghours)
            nets.append(gfeed.network)
        b.same_places.append(
            {"places": [hp.iri], "networks": nets, "how": "reference", "names": [pname]}
        )

    # (b) both describe it, one links with owl:sameAs or schema:sameAs -------------
    same = [
        (
            tl,
            "Le Grand Atelier",
            am,
            "Le Grand Atelier (cour intérieure)",
            "Tours",
            "owl",
            "tiers-lieu",
            ["tiers-lieux"],
            "tiers-lieu",
            ["alimentation"],
            "salle",
        ),
        (
            rp,
            "Maison pour tous de la Croix-Verte",
            tl,
            "MPT Croix-Verte",
            "Lyon",
            "schema",
            "local-associatif",
            ["reemploi-reparation"],
            "repair",
            ["tiers-lieux"],
            "local-associatif",
        ),
        (
            mo,
            "Épicerie Le Bocal",
            en,
            "Épicerie coopérative Le Bocal",
            "Valence",
            "owl",
            "boutique",
            ["monnaie-locale", "alimentation"],
            "boutique",
            ["energie"],
            "boutique",
        ),
        (
            mo,
            "Librairie Les Mots Passants",
            bo,
            "Les Mots Passants",
            "Nantes",
            "schema",
            "boutique",
            ["monnaie-locale", "culture"],
            "boutique",
            ["commerce-equitable"],
            "boutique",
        ),
        (
            bo,
            "La Boutique du Monde Solidaire",
            rp,
            "Boutique du Monde Solidaire (arrière-salle)",
            "Strasbourg",
            "owl",
            "boutique",
            ["commerce-equitable"],
            "boutique",
            ["reemploi-reparation"],
            "atelier",
        ),
        (
            am,
            "Halle de la Poste",
            mo,
            "Halle de la Poste",
            "Amboise",
            "schema",
            "marche",
            ["alimentation"],
            "distribution",
            ["monnaie-locale"],
            "marche",
        ),
        (
            en,
            "Espace associatif de la Gare",
            tl,
            "L'Espace Gare",
            "Die",
            "owl",
            "local-associatif",
            ["energie"],
            "bureau",
            ["tiers-lieux"],
            "tiers-lieu",
        ),
    ]
    for fa, na, fb, nb, cname, how, pta, tha, hra, thb, ptb in same:
        c = commune(cname)
        pa = b.place(
            fa, c, na, pta, tha, hours=hra, same_as=[(S + "sameAs", b.osm())] if fa is am else ()
        )
        d = fb.rng.uniform(0, 12)
        coords_b = offset(
            float(pa.first(S + "geo").props[0][1].value),
            float(pa.first(S + "geo").props[1][1].value),
            d,
            fb.rng.uniform(0, 360),
        )
        street = node_get(pa.first(S + "address"), S + "streetAddress")[0].value
        link = (OWL + "sameAs", IRI(pa.iri)) if how == "owl" else (S + "sameAs", IRI(pa.iri))
        pb = b.place(
            fb,
            c,
            nb,
            ptb,
            thb,
            hours=None,
            coords=coords_b,
            street=street,
            same_as=[link],
            shared=True,
        )
        pa.protected = pb.protected = True
        for feed, p, th in ((fa, pa, tha), (fb, pb, thb)):
            o = _owner_org(b, feed, p, c, th)
            o.protected = True
        b.same_places.append(
            {
                "places": [pa.iri, pb.iri],
                "networks": [fa.network, fb.network],
                "how": "sameAs",
                "names": [na, nb],
            }
        )

    # (c) both describe it, no link, similar name, < 30 m -------------------------
    similar = [
        (
            tl,
            "Tiers-lieu La Filature",
            en,
            "La Filature",
            "Roubaix",
            0,
            "tiers-lieu",
            ["tiers-lieux"],
            "autre",
            ["energie"],
        ),
        (
            bo,
            "Boutique Équi'Table",
            mo,
            "Équi'Table",
            "Nantes",
            1,
            "boutique",
            ["commerce-equitable"],
            "boutique",
            ["monnaie-locale"],
        ),
        (
            am,
            "Salle des fêtes de Bléré",
            rp,
            "Salle des Fêtes - Bléré",
            "Bléré",
            0,
            "salle",
            ["alimentation"],
            "salle",
            ["reemploi-reparation"],
        ),
        (
            rp,
            "Maison des Associations de Quimper",
            en,
            "Maison des associations",
            "Quimper",
            2,
            "local-associatif",
            ["reemploi-reparation"],
            "local-associatif",
            ["energie"],
        ),
        (
            mo,
            "Café-librairie L'Écume",
            bo,
            "L'Ecume café librairie",
            "Limoges",
            1,
            "boutique",
            ["monnaie-locale", "culture"],
            "boutique",
            ["commerce-equitable"],
        ),
        (
            tl,
            "Le Moulin des Possibles",
            am,
            "Moulin des Possibles",
            "Chinon",
            3,
            "tiers-lieu",
            ["tiers-lieux"],
            "tiers-lieu",
            ["alimentation"],
        ),
        (
            rp,
            "Atelier vélo La Roue Libre",
            mo,
            "La Roue Libre - atelier vélo",
            "Marseille",
            0,
            "atelier",
            ["reemploi-reparation", "mobilite"],
            "atelier",
            ["monnaie-locale"],
        ),
    ]
    for fa, na, fb, nb, cname, var, pta, tha, ptb, thb in similar:
        c = commune(cname)
        street = f"{fa.rng.randint(2, 80)} rue {fa.rng.choice(STREET_NAMES)}"
        if var == 3:
            saint = fa.rng.choice(["Jacques", "Martin", "Maurice"])
            street = f"{fa.rng.randint(2, 40)} rue Saint-{saint}"
        pa = b.place(
            fa,
            c,
            na,
            pta,
            tha,
            hours="tiers-lieu" if pta == "tiers-lieu" else "boutique",
            street=street,
        )
        lat = float(pa.first(S + "geo").props[0][1].value)
        lon = float(pa.first(S + "geo").props[1][1].value)
        coords_b = offset(lat, lon, fb.rng.uniform(4, 25), fb.rng.uniform(0, 360))
        pb = b.place(
            fb,
            c,
            nb,
            ptb,
            thb,
            hours=None if var % 2 else "boutique",
            coords=coords_b,
            street=variant_street(street, fb.rng, var),
            shared=True,
        )
        assert haversine((lat, lon), coords_b) < 30
        pa.protected = pb.protected = True
        for feed, p, th in ((fa, pa, tha), (fb, pb, thb)):
            o = _owner_org(b, feed, p, c, th)
            o.protected = True
        b.same_places.append(
            {
                "places": [pa.iri, pb.iri],
                "networks": [fa.network, fb.network],
                "how": "similar",
                "names": [na, nb],
            }
        )

    # near neighbours that are different places (80-200 m, same street) ------------
    neigh = [
        (bo, "Boutique Terres du Sud", mo, "Épicerie Le Vieux Moulin", "Tours", "du Commerce"),
        (rp, "Repair Café Saint-Hélier", tl, "La Coop des Savoirs", "Rennes", "des Tisserands"),
        (tl, "Le Bocal à Projets", bo, "Le Bocal Équitable", "Villeurbanne", "Condorcet"),
        (
            en,
            "Local de Bordeaux Énergies",
            rp,
            "Repair Café des Chartreux",
            "Bordeaux",
            "des Mariniers",
        ),
        (
            mo,
            "Boutik Lontan",
            bo,
            "Boutique Solidaire Océan Indien",
            "Saint-Denis@974",
            "du Four-Banal",
        ),
        (bo, "La Boutique Paysanne", bo, "Le Comptoir Éthique", "Lille", "Gambetta"),
    ]
    for fa, na, fb, nb, cname, street_name in neigh:
        cn, _, dep = cname.partition("@")
        c = commune(cn, dep or None)
        n1 = fa.rng.randint(3, 20)
        pa = b.place(
            fa,
            c,
            na,
            "boutique" if fa in (bo, mo) else "local-associatif",
            _main_theme(b, fa),
            hours="boutique",
            street=f"{n1} rue {street_name}",
        )
        lat = float(pa.first(S + "geo").props[0][1].value)
        lon = float(pa.first(S + "geo").props[1][1].value)
        d = fb.rng.uniform(85, 190)
        coords_b = offset(lat, lon, d, fb.rng.uniform(0, 360))
        n2 = n1 + 2 * int(d / 8)
        pb = b.place(
            fb,
            c,
            nb,
            "boutique" if fb in (bo, mo) else "local-associatif",
            _main_theme(b, fb),
            hours="boutique",
            coords=coords_b,
            street=f"{n2} rue {street_name}",
        )
        dist = haversine((lat, lon), coords_b)
        assert 80 <= dist <= 200, dist
        pa.protected = pb.protected = True
        for feed, p in ((fa, pa), (fb, pb)):
            _owner_org(b, feed, p, c, _main_theme(b, feed)).protected = True
        b.neighbours.append((pa.iri, pb.iri))


def _main_theme(b, feed):
    return {
        "amap-centre": ["alimentation"],
        "energie-citoyenne": ["energie"],
        "boutiques-equitables": ["commerce-equitable"],
        "repair-cafes": ["reemploi-reparation"],
        "tiers-lieux": ["tiers-lieux"],
        "monnaies-locales": ["monnaie-locale"],
    }[feed.id]


def _owner_org(b, feed, place, c, themes):
    """Create the organisation running a scripted place, with its presence."""
    name = place.first(S + "name").value
    if feed.id == "monnaies-locales":
        # the local currency association of that area has a presence there
        unit_org = None
        for cname_, _unit, communes_, _n in CURRENCIES:
            if c["nom"] in communes_:
                unit_org = next(
                    r
                    for r in feed.records
                    if r.kind == "org" and r.first(S + "name").value == f"Association {cname_}"
                )
                break
        assert unit_org is not None, c["nom"]
        b.presence(
            feed,
            unit_org,
            place.iri,
            ["point-de-distribution"],
            ["comptoir de change", f"paiement en {unit_org.unit}s accepté"],
        )
        return unit_org
    prefix = {
        "amap-centre": "AMAP",
        "energie-citoyenne": "Coopérative",
        "boutiques-equitables": "Association",
        "repair-cafes": "Repair Café",
        "tiers-lieux": "Collectif",
    }[feed.id]
    oname = f"{prefix} {name}" if not name.startswith(prefix) else name
    o = b.org(feed, oname, themes, c, email=email_for(oname, "example.org"))
    role = {
        "amap-centre": "point-de-distribution",
        "energie-citoyenne": "permanence",
        "boutiques-equitables": "boutique",
        "repair-cafes": "atelier",
        "tiers-lieux": "siege",
    }[feed.id]
    b.presence(feed, o, place.iri, [role], [])
    return o


# --------------------------------------------------------------------------- events


def build_events(b: Builder):
    F = b.feeds
    plan = {
        "amap-centre": [
            ("Fête des Possibles : pique-nique paysan", "2026-09-19", None),
            ("Portes ouvertes à la ferme", "2026-06-06", None),
            ("Assemblée générale du réseau", "2026-03-21T14:00:00", "2026-03-21T18:00:00"),
            ("Fête des Possibles : marché des AMAP", "2026-09-26", None),
            ("Atelier conserves de saison", "2026-08-29T09:30:00", None),
        ],
        "energie-citoyenne": [
            (
                "Fête des Possibles : visite de centrale solaire",
                "2026-09-20T10:00:00+02:00",
                "2026-09-20T12:00:00+02:00",
            ),
            ("Réunion publique : nouvelle centrale villageoise", "2026-05-12T19:00:00+02:00", None),
            ("Inauguration des ombrières solaires", "2026-07-04", None),
            ("Assemblée générale des sociétaires", "2026-04-18", None),
        ],
        "boutiques-equitables": [
            ("Quinzaine du commerce équitable", "2026-05-09", "2026-05-24"),
            ("Fête des Possibles : dégustation de cafés", "2026-09-19T15:00:00+02:00", None),
            ("Soirée ciné-débat : le prix juste", "2026-11-13T20:00:00+01:00", None),
            ("Marché de Noël solidaire", "2026-12-12", "2026-12-13"),
        ],
        "repair-cafes": [
            ("Repair Café spécial vélos", "2026-04-11T14:00:00+02:00", "2026-04-11T18:00:00+02:00"),
            (
                "Fête des Possibles : grand atelier de réparation",
                "2026-09-26T10:00:00+02:00",
                "2026-09-26T17:00:00+02:00",
            ),
            ("Journée internationale de la réparation", "2026-10-17", None),
            ("Repair Café de rentrée", "2026-09-05T14:00:00+02:00", None),
            ("Formation des bénévoles réparateurs", "2026-02-07", None),
        ],
        "tiers-lieux": [
            ("Fête des Possibles : portes ouvertes des tiers-lieux", "2026-09-19", "2026-09-20"),
            ("Apéro-projets", "2026-06-18T18:30:00", None),
            ("Rencontres régionales des tiers-lieux", "2026-10-08", "2026-10-09"),
            ("Festival des communs", "2026-07-10", "2026-07-12"),
        ],
        "monnaies-locales": [
            ("Lancement des nouveaux billets", "2026-03-14T11:00:00+01:00", None),
            ("Fête des Possibles : marché en monnaie locale", "2026-09-27", None),
            ("Assemblée générale", "2026-06-13T14:00:00+02:00", None),
            ("Apéro des prestataires", "2026-11-20T19:00:00+01:00", None),
        ],
    }
    for fid, evs in plan.items():
        f = F[fid]
        rng = f.rng
        presences = [r for r in f.records if r.kind == "presence"]
        places = {r.iri: r for r in f.records if r.kind == "place"}
        for name, start, end in evs:
            pr = rng.choice([p for p in presences if p.first(LTC + "place") in places])
            place = places[pr.first(LTC + "place")]
            org = f.by_iri(pr.first(LTC + "organisation"))
            place.protected = org.protected = True
            for p2 in presences:
                if p2.first(LTC + "place") == place.iri:
                    p2.protected = True
            b.event(
                f,
                name,
                place.iri,
                start,
                end,
                organizer=org.iri,
                themes=_main_theme(b, f) if rng.random() < 0.8 else (),
                desc="Ouvert à toutes et à tous, entrée libre." if rng.random() < 0.6 else None,
                url=f"{f.ns}agenda/{slug(name)}" if rng.random() < 0.4 else None,
            )


# --------------------------------------------------------------------------- collective


def build_collective(b: Builder, f: Feed):
    b.network(
        f,
        ["citoyennete"],
        "Collectif inter-réseaux qui reconnaît les Lieux de Convergence de la "
        "Transition, où plusieurs réseaux se retrouvent.",
        url="https://collectif-ltc.example.org/",
    )
    rng = f.rng
    all_recs = {r.iri: (fd, r) for fd in b.feeds.values() if fd is not f for r in fd.records}
    pres_by_place = {}
    for fd in b.feeds.values():
        for r in fd.records:
            if r.kind == "presence":
                pres_by_place.setdefault(r.first(LTC + "place"), []).append(
                    r.first(LTC + "organisation")
                )
    targets = []
    for sp in b.same_places:
        targets.append([p for p in sp["places"] if p in all_recs])
    singles = [
        r
        for fd in b.feeds.values()
        if fd is not f and fd.adapter is None
        for r in fd.records
        if r.kind == "place"
        and r.protected
        and r.first(LTC + "placeType") == IRI(LTCP + "tiers-lieu")
    ]
    seen = {p for t in targets for p in t}
    for r in singles:
        if r.iri not in seen:
            targets.append([r.iri])
    for i, iris in enumerate(targets[:27]):
        status = STATUSES[i % 3] if i < 21 else "candidat"
        orgs = []
        for p in iris:
            orgs += pres_by_place.get(p, [])
        props = [(LTC + "place", IRI(iris[0])), (LTC + "status", IRI(LTCS + status))]
        if status != "candidat":
            props.append((LTC + "charterDate", date(rand_date(rng, "2025-03-01", 380))))
        for o in dict.fromkeys(orgs):
            props.append((LTC + "bringsTogether", IRI(o)))
            all_recs[o][1].protected = True
        for p in iris:
            all_recs[p][1].protected = True
        nm = all_recs[iris[0]][1].first(S + "name").value
        props.append((S + "description", s(f"Lieu de Convergence : {nm}.")))
        props.append((S + "dateModified", date(rand_date(rng, "2025-09-01", 200))))
        f.add(
            Rec(
                f.mint("labels", f"label {nm} {all_recs[iris[0]][1].commune['nom']}"),
                "label",
                props,
            )
        )
    # the collective's own Fête des Possibles, at a labelled place of another network
    first_label = next(r for r in f.records if r.kind == "label")
    b.event(
        f,
        "Fête des Possibles : rencontre des Lieux de Convergence",
        first_label.first(LTC + "place"),
        "2026-09-12T10:00:00+02:00",
        "2026-09-12T18:00:00+02:00",
        organizer=f.network,
        themes=["citoyennete"],
    )


# --------------------------------------------------------------------------- warnings


def sprinkle_warnings(b: Builder):
    """Realistic problems that load with a Warning (never a Violation)."""
    F = b.feeds
    for fid, f in F.items():
        if f.adapter or fid == "ltc-collectif":
            continue
        rng = random.Random(f"ltc-examples-warn-{fid}")
        places = [r for r in f.records if r.kind == "place"]
        orgs = [r for r in f.records if r.kind == "org"]
        # national phone format (ltcsh:Contact-telephone)
        for r in rng.sample([p for p in places if p.get(S + "telephone")], 5):
            r.set(S + "telephone", s(phone(rng, r.commune, e164=False)))
        # missing theme on a few places (ltcsh:Place-theme)
        for r in rng.sample(places, 3):
            r.remove(LTC + "theme")
        # missing dateModified (ltcsh:Record-dateModified)
        for r in rng.sample(orgs, 2):
            r.remove(S + "dateModified")
        # hours in the wrong order (ltcsh:Hours-order)
        hp = [p for p in places if p.get(S + "openingHoursSpecification")]
        h = rng.choice(hp).get(S + "openingHoursSpecification")[0]
        o, cl = node_get(h, S + "opens")[0], node_get(h, S + "closes")[0]
        node_set(h, S + "opens", cl)
        node_set(h, S + "closes", o)
        if f.syntax != "json-ld":
            # url given as text without scheme (ltcsh:Contact-url)
            r = rng.choice([o for o in orgs if o.get(S + "url")] or orgs)
            r.set(S + "url", s(f"www.{short_slug(r.first(S + 'name').value, 20)}.example.org"))
            # theme outside the scheme (ltcsh:Place-themeValue)
            rng.choice(places).props.append((LTC + "theme", IRI(LTCT + "zero-dechet")))
            # place type outside the scheme (ltcsh:Place-placeType)
            r = rng.choice(places)
            r.set(LTC + "placeType", IRI(LTCP + "friche"))
        # malformed e-mail (ltcsh:Contact-email)
        r = rng.choice([o for o in orgs if o.get(S + "email")])
        r.set(S + "email", s(r.first(S + "email").value.replace("@", " at ")))
        # siret with 13 digits (ltcsh:Organization-siret)
        so = [o for o in orgs if o.get(LTC + "siret")]
        if so:
            r = rng.choice(so)
            r.set(LTC + "siret", s(r.first(LTC + "siret").value[:13]))
        # presence without role (ltcsh:Presence-role)
        rng.choice([p for p in f.records if p.kind == "presence"]).remove(LTC + "role")
        # address without locality (ltcsh:Address-locality)
        a = rng.choice(places).first(S + "address")
        node_set(a, S + "addressLocality", None)
    # latitude and longitude swapped: still in range, outside France (ltcsh:Geo-france)
    r = next(
        p
        for p in F["energie-citoyenne"].records
        if p.kind == "place" and not p.protected and p.commune["nom"] == "Lyon"
    )
    r.protected = True
    g = r.first(S + "geo")
    la, lo = node_get(g, S + "latitude")[0], node_get(g, S + "longitude")[0]
    node_set(g, S + "latitude", lo)
    node_set(g, S + "longitude", la)
    # a charter date as free text (ltcsh:Label-charterDate)
    lab = [
        r for r in F["ltc-collectif"].records if r.kind == "label" and r.get(LTC + "charterDate")
    ][1]
    lab.set(LTC + "charterDate", s("printemps 2025"))


# --------------------------------------------------------------------------- invalid records


def _hours(r):
    return r.get(S + "openingHoursSpecification")


def mutate(kind, r, feed):
    """Break record r so that it triggers one Violation; return its constraint id (or the
    ids, for a literal or another record where a node is required)."""
    json_ld = feed.syntax == "json-ld"
    addr = r.first(S + "address")
    geo = r.first(S + "geo")
    if kind == "noname":
        r.remove(S + "name")
        return "ltcsh:Place-name"
    if kind == "emptyname":
        r.set(S + "name", s(""))
        return "ltcsh:Place-name"
    if kind == "noloc":
        r.remove(S + "geo")
        node_set(addr, S + "postalCode", None)
        return "ltcsh:Place-location"
    if kind == "cp4":  # "7500": a digit lost
        node_set(addr, S + "postalCode", s(r.commune["code_postal"][:4]))
        return "ltcsh:Address-postalCode"
    if kind == "cpspace":  # "75 001"
        cp = r.commune["code_postal"]
        node_set(addr, S + "postalCode", s(cp[:2] + " " + cp[2:]))
        return "ltcsh:Address-postalCode"
    if kind == "cpint":  # JSON number: the leading zero is lost (06370 -> 6370)
        assert r.commune["code_postal"].startswith("0")
        node_set(addr, S + "postalCode", Lit(str(int(r.commune["code_postal"])), XSD + "integer"))
        return "ltcsh:Address-postalCode"
    if kind == "latrange":  # decimal point lost
        la = float(node_get(geo, S + "latitude")[0].value)
        node_set(geo, S + "latitude", dec(la * 10 if abs(la * 10) > 90 else la * 100, 5))
        return "ltcsh:Geo-latitude"
    if kind == "latstring":
        node_set(geo, S + "latitude", s(node_get(geo, S + "latitude")[0].value))
        return "ltcsh:Geo-latitude"
    if kind == "latcomma":
        node_set(geo, S + "latitude", s(node_get(geo, S + "latitude")[0].value.replace(".", ",")))
        return "ltcsh:Geo-latitude"
    if kind == "lonmissing":
        node_set(geo, S + "longitude", None)
        return "ltcsh:Geo-longitude"
    if kind == "twogeo":
        la = float(node_get(geo, S + "latitude")[0].value)
        lo = float(node_get(geo, S + "longitude")[0].value)
        la2, lo2 = offset(la, lo, 420, 75)
        r.props.insert(
            r.props.index((S + "geo", geo)) + 1,
            (
                S + "geo",
                Node(
                    S + "GeoCoordinates", [(S + "latitude", dec(la2)), (S + "longitude", dec(lo2))]
                ),
            ),
        )
        return "ltcsh:Place-geo-count"
    if kind == "insee":
        code = r.commune["insee"]
        node_set(addr, LTC + "inseeCode", s(code[:2] + " " + code[2:]))
        return "ltcsh:Address-inseeCode"
    if kind == "hoursday":
        h = _hours(r)[0]
        h.props = [(p, v) for p, v in h.props if p != S + "dayOfWeek"]
        h.props.insert(0, (S + "dayOfWeek", IRI(S + "Lundi") if not json_ld else IRI("#Lundi")))
        return "ltcsh:Hours-dayOfWeek"
    if kind == "hoursdaytext":
        h = _hours(r)[0]
        h.props = [(p, v) for p, v in h.props if p != S + "dayOfWeek"]
        h.props.insert(0, (S + "dayOfWeek", s("Lundi")))
        return "ltcsh:Hours-dayOfWeek"
    if kind == "hours9h":
        h = _hours(r)[0]
        node_set(h, S + "opens", s("9h") if not json_ld else Lit("9h", XSD + "time"))
        return "ltcsh:Hours-opens"
    if kind == "hoursnoclose":
        h = _hours(r)[-1]
        node_set(h, S + "closes", None)
        return "ltcsh:Hours-closes"
    if kind in ("datemod", "prdatemod"):
        r.set(S + "dateModified", s("12/03/2025") if not json_ld else Lit("hier", XSD + "dateTime"))
        return "ltcsh:Record-dateModifiedType"
    if kind in ("datemod2", "evdatemod2"):
        r.set(
            S + "dateModified",
            Lit("15/06/2025", XSD + "dateTime") if json_ld else Lit("2025-06-31", XSD + "date"),
        )
        return "ltcsh:Record-dateModifiedType"
    if kind == "orgnonet":
        r.remove(S + "memberOf")
        return "ltcsh:Organization-network"
    if kind == "orgnetlit":
        r.set(S + "memberOf", s(feed.network_name))
        return "ltcsh:Organization-network"
    if kind == "orgnoname":
        r.remove(S + "name")
        return "ltcsh:Organization-name"
    if kind == "prnoplace":
        r.remove(LTC + "place")
        return "ltcsh:Presence-place"
    if kind == "prnoorg":
        r.remove(LTC + "organisation")
        return "ltcsh:Presence-organisation"
    if kind == "prtwoplace":
        # a second place, in the same commune if possible, that stays valid
        here = feed.by_iri(r.first(LTC + "place"))
        others = [
            x
            for x in feed.records
            if x.kind == "place" and not x.protected and x.iri != here.iri and x.iri not in BROKEN
        ]
        other = next((x for x in others if x.commune["insee"] == here.commune["insee"]), others[0])
        other.protected = True
        r.props.insert(2, (LTC + "place", IRI(other.iri)))
        return "ltcsh:Presence-place"
    if kind == "prbadrole":
        r.remove(LTC + "role")
        r.props.insert(2, (LTC + "role", IRI(LTCR + "benevole")))
        return "ltcsh:Presence-roleValue"
    if kind == "prhours9h":
        r.props.append(
            (
                S + "openingHoursSpecification",
                Node(
                    S + "OpeningHoursSpecification",
                    [
                        (S + "dayOfWeek", IRI(S + "Saturday")),
                        (S + "opens", s("9h")),
                        (S + "closes", tm("12:00")),
                    ],
                ),
            )
        )
        return "ltcsh:Hours-opens"
    if kind == "evnostart":
        r.remove(S + "startDate")
        r.remove(S + "endDate")
        return "ltcsh:Event-startDate"
    if kind == "evbadstart":
        r.set(S + "startDate", s("samedi 19 septembre 2026"))
        r.remove(S + "endDate")
        return "ltcsh:Event-startDate"
    if kind == "evnoname":
        r.remove(S + "name")
        return "ltcsh:Event-name"
    if kind == "evlocliteral":
        pl = feed.by_iri(r.first(S + "location"))
        r.set(S + "location", s(f"{pl.first(S + 'name').value}, {pl.commune['nom']}"))
        return "ltcsh:Event-location"
    if kind == "geotext":  # coordinates written as a text: "47.3941, 0.6848"
        la, lo = (node_get(geo, S + k)[0].value for k in ("latitude", "longitude"))
        r.props = [(p, s(f"{la}, {lo}") if p == S + "geo" else v) for p, v in r.props]
        # the results on the literal, which no record owns, charged to the place that wrote it
        return ["ltcsh:Geo-latitude", "ltcsh:Geo-longitude"]
    if kind == "geoother":  # the coordinates are another place of the feed (left valid)
        others = [
            x
            for x in feed.records
            if x.kind == "place" and not x.protected and x.iri != r.iri and x.iri not in BROKEN
        ]
        other = others[0]
        other.protected = True
        r.props = [(p, IRI(other.iri) if p == S + "geo" else v) for p, v in r.props]
        # charged to this place, whose statement leads to the other one: never to the other
        return ["ltcsh:Geo-latitude", "ltcsh:Geo-longitude"]
    if kind == "lbbadstatus":
        r.set(LTC + "status", IRI(LTCS + "en-attente"))
        return "ltcsh:Label-status"
    if kind == "lbnoplace":
        r.remove(LTC + "place")
        return "ltcsh:Label-place"
    if kind == "lbtwostatus":
        r.props.insert(2, (LTC + "status", IRI(LTCS + "labellise")))
        return "ltcsh:Label-status"
    raise ValueError(kind)


BROKEN: set[str] = set()  # records already made invalid

PLACE_KINDS = {
    "noname",
    "emptyname",
    "noloc",
    "cp4",
    "cpspace",
    "cpint",
    "latrange",
    "latstring",
    "latcomma",
    "lonmissing",
    "twogeo",
    "insee",
    "hoursday",
    "hoursdaytext",
    "hours9h",
    "hoursnoclose",
    "datemod",
    "datemod2",
    "geotext",
    "geoother",
}
ORG_KINDS = {"orgnonet", "orgnetlit", "orgnoname", "orgdatemod"}
PRESENCE_KINDS = {"prnoplace", "prnoorg", "prtwoplace", "prbadrole", "prhours9h", "prdatemod"}
EVENT_KINDS = {"evnostart", "evbadstart", "evnoname", "evlocliteral", "evdatemod2"}
LABEL_KINDS = {"lbbadstatus", "lbnoplace", "lbtwostatus"}

INVALID_PLAN = {
    "amap-centre": [
        "noname",
        "cp4",
        "latstring",
        "hoursday",
        "datemod",
        "orgnonet",
        "prnoplace",
        "evnostart",
        "geotext",
    ],
    "tiers-lieux": [
        "cpint",
        "latcomma",
        "emptyname",
        "hoursnoclose",
        "prnoorg",
        "evnoname",
        "evdatemod2",
    ],
    "energie-citoyenne": [
        "noloc",
        "latrange",
        "orgnetlit",
        "prbadrole",
        "evbadstart",
        "prhours9h",
        "twogeo",
        "geoother",
    ],
    "boutiques-equitables": [
        "cp4",
        "hoursdaytext",
        "orgnonet",
        "prtwoplace",
        "datemod",
        "evlocliteral",
    ],
    "repair-cafes": [
        "noloc",
        "lonmissing",
        "hours9h",
        "prnoplace",
        "orgnoname",
        "insee",
        "evnostart",
    ],
    "monnaies-locales": ["cpspace", "noname", "orgnetlit", "prdatemod"],
    "ltc-collectif": ["lbbadstatus", "lbnoplace", "lbtwostatus"],
}


def make_invalid(b: Builder):
    for fid, kinds in INVALID_PLAN.items():
        f = b.feeds[fid]
        rng = random.Random(f"ltc-examples-invalid-{fid}")
        pres = [r for r in f.records if r.kind == "presence"]
        refs: dict[str, int] = {}
        for p in pres:
            for pred in (LTC + "place", LTC + "organisation"):
                for v in p.get(pred):
                    refs[v] = refs.get(v, 0) + 1
        used = set()
        for kind in kinds:
            if kind in PLACE_KINDS:
                cands = [
                    r
                    for r in f.records
                    if r.kind == "place" and not r.protected and refs.get(r.iri) == 1
                ]
                if kind.startswith("hours"):
                    cands = [r for r in cands if _hours(r)]
                if kind == "cpint":
                    cands = [r for r in cands if r.commune["code_postal"].startswith("0")]
            elif kind in ORG_KINDS:
                cands = [
                    r
                    for r in f.records
                    if r.kind == "org" and not r.protected and refs.get(r.iri) == 1
                ]
            elif kind in PRESENCE_KINDS:
                cands = [r for r in pres if not r.protected]
            elif kind in EVENT_KINDS:
                cands = [r for r in f.records if r.kind == "event"]
            else:  # not the first label: the collective's own event is at its place
                cands = [
                    r
                    for r in f.records
                    if r.kind == "label" and r.first(LTC + "status") == IRI(LTCS + "candidat")
                ][1:]
            # do not break the record a cascade or another mutation already touches
            touched = {x for u in used for x in _links(f.by_iri(u))} | used
            cands = [r for r in cands if r.iri not in touched and not (set(_links(r)) & used)]
            assert cands, (fid, kind)
            r = rng.choice(cands)
            cid = mutate(kind, r, f)
            used.add(r.iri)
            BROKEN.add(r.iri)
            constraints = cid if isinstance(cid, list) else [cid]
            b.rejected.append(
                {"source": fid, "record": r.iri, "constraints": constraints, "kind": kind}
            )
        # cascades: presences / events / labels referring to a rejected place or org
        rejected = {x["record"] for x in b.rejected if x["source"] == fid}
        for r in f.records:
            if r.kind in ("presence", "event", "label") and r.iri not in rejected:
                targets = r.get(LTC + "place") + r.get(LTC + "organisation") + r.get(S + "location")
                if any(t in rejected for t in targets):
                    b.rejected.append(
                        {
                            "source": fid,
                            "record": r.iri,
                            "constraints": ["ltcsh:Cascade"],
                            "kind": "cascade",
                        }
                    )
                # organizer / bringsTogether never point at a rejected record
                assert not any(
                    t in rejected for t in r.get(S + "organizer") + r.get(LTC + "bringsTogether")
                ), r.iri


def _links(r):
    return [
        v
        for p, v in r.props
        if isinstance(v, IRI)
        and p in (LTC + "place", LTC + "organisation", S + "location", S + "organizer")
    ]


# --------------------------------------------------------------------------- serialisers


def esc(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


PREFIXES = [
    ("schema", SCHEMA),
    ("ltc", LTC),
    ("ltct", LTCT),
    ("ltcr", LTCR),
    ("ltcp", LTCP),
    ("ltcs", LTCS),
    ("owl", OWL),
    ("xsd", XSD),
]
PN_LOCAL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")


class Turtle:
    def __init__(self, feed, schema_ns=SCHEMA, base=None):
        self.schema_ns = schema_ns
        self.prefixes = [(p, schema_ns if p == "schema" else ns) for p, ns in PREFIXES]
        self.base = base

    def iri(self, v):
        v = str(v)
        if v.startswith(SCHEMA):
            v = self.schema_ns + v[len(SCHEMA) :]
        for p, ns in self.prefixes:
            if v.startswith(ns) and PN_LOCAL.match(v[len(ns) :]):
                return f"{p}:{v[len(ns) :]}"
        if self.base and v.startswith(self.base) and v != self.base:
            return f"<{v[len(self.base) :]}>"
        return f"<{v}>"

    def lit(self, v: Lit):
        if v.lang:
            return f'"{esc(v.value)}"@{v.lang}'
        if v.dt == XSD + "decimal" and re.match(r"^-?[0-9]+\.[0-9]+$", v.value):
            return v.value
        if v.dt == XSD + "integer" and re.match(r"^-?[0-9]+$", v.value):
            return v.value
        if v.dt == XSD + "boolean" and v.value in ("true", "false"):
            return v.value
        if v.dt:
            return f'"{esc(v.value)}"^^{self.iri(v.dt)}'
        return f'"{esc(v.value)}"'

    def obj(self, v, ind):
        if isinstance(v, IRI):
            return self.iri(v)
        if isinstance(v, Lit):
            return self.lit(v)
        pad = "    " * (ind + 1)
        parts = []
        if v.type:
            parts.append(f"{pad}a {self.iri(v.type)}")
        parts += self.po_lines(v.props, ind + 1)
        return "[\n" + " ;\n".join(parts) + "\n" + "    " * ind + "]"

    def po_lines(self, props, ind):
        pad = "    " * ind
        out, order = [], []
        grouped: dict[str, list] = {}
        for p, v in props:
            if p not in grouped:
                order.append(p)
                grouped[p] = []
            grouped[p].append(v)
        for p in order:
            objs = [self.obj(v, ind) for v in grouped[p]]
            sep = ",\n" + pad + "    " if any("\n" in o for o in objs) or len(objs) > 3 else ", "
            out.append(f"{pad}{self.iri(p)} {sep.join(objs)}")
        return out

    def write(self, records, header):
        lines = [f"# {line}" for line in header] + [""]
        if self.base:
            lines.append(f"@base <{self.base}> .")
        for p, ns in self.prefixes:
            lines.append(f"@prefix {p}: <{ns}> .")
        lines.append("")
        for r in records:
            body = [f"    a {self.iri(CLASS[r.kind])}", *self.po_lines(r.props, 1)]
            lines.append(f"{self.iri(r.iri)}\n" + " ;\n".join(body) + " .\n")
        return "\n".join(lines)


def ntriples(records, header):
    out = [f"# {line}" for line in header]
    counter = [0]

    def term(v):
        if isinstance(v, IRI):
            return f"<{v}>"
        if v.lang:
            return f'"{esc(v.value)}"@{v.lang}'
        if v.dt:
            return f'"{esc(v.value)}"^^<{v.dt}>'
        return f'"{esc(v.value)}"'

    def emit(subj, props):
        for p, v in props:
            if isinstance(v, Node):
                counter[0] += 1
                bn = f"_:b{counter[0]}"
                out.append(f"{subj} <{p}> {bn} .")
                if v.type:
                    out.append(f"{bn} <{RDF}type> <{v.type}> .")
                emit(bn, v.props)
            else:
                out.append(f"{subj} <{p}> {term(v)} .")

    for r in records:
        out.append(f"<{r.iri}> <{RDF}type> <{CLASS[r.kind]}> .")
        emit(f"<{r.iri}>", r.props)
    return "\n".join(out) + "\n"


def xml_esc(text):
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def rdfxml(records, header, base):
    ns = [("rdf", RDF), ("schema", SCHEMA), ("ltc", LTC), ("owl", OWL)]

    def qn(iri):
        for p, n in ns:
            if iri.startswith(n):
                return f"{p}:{iri[len(n) :]}"
        raise ValueError(iri)

    def about(iri):
        return iri[len(base) :] if iri.startswith(base) else iri

    lines = ['<?xml version="1.0" encoding="utf-8"?>'] + [
        f"<!-- {xml_esc(line)} -->" for line in header
    ]
    decl = " ".join(f'xmlns:{p}="{n}"' for p, n in ns)
    lines.append(f'<rdf:RDF {decl}\n         xml:base="{base}">')

    def props(plist, ind):
        pad = "  " * ind
        for p, v in plist:
            if isinstance(v, IRI):
                lines.append(f'{pad}<{qn(p)} rdf:resource="{xml_esc(about(v))}"/>')
            elif isinstance(v, Lit):
                attr = ""
                if v.lang:
                    attr = f' xml:lang="{v.lang}"'
                elif v.dt:
                    attr = f' rdf:datatype="{v.dt}"'
                lines.append(f"{pad}<{qn(p)}{attr}>{xml_esc(v.value)}</{qn(p)}>")
            else:
                if v.type == S + "GeoCoordinates":  # striped and parseType="Resource" styles
                    lines.append(f'{pad}<{qn(p)} rdf:parseType="Resource">')
                    lines.append(f'{pad}  <rdf:type rdf:resource="{v.type}"/>')
                    props(v.props, ind + 1)
                    lines.append(f"{pad}</{qn(p)}>")
                else:
                    lines.append(f"{pad}<{qn(p)}>")
                    lines.append(f"{pad}  <{qn(v.type)}>")
                    props(v.props, ind + 2)
                    lines.append(f"{pad}  </{qn(v.type)}>")
                    lines.append(f"{pad}</{qn(p)}>")

    for r in records:
        lines.append(f'  <{qn(CLASS[r.kind])} rdf:about="{xml_esc(about(r.iri))}">')
        props(r.props, 2)
        lines.append(f"  </{qn(CLASS[r.kind])}>")
    lines.append("</rdf:RDF>")
    return "\n".join(lines) + "\n"


JSON_KEYS = {
    S + "name": "nom",
    S + "description": "description",
    S + "alternateName": "nomAlternatif",
    S + "address": "adresse",
    S + "streetAddress": "rue",
    S + "postalCode": "codePostal",
    S + "addressLocality": "commune",
    LTC + "inseeCode": "codeInsee",
    S + "addressCountry": "pays",
    S + "geo": "geo",
    S + "latitude": "latitude",
    S + "longitude": "longitude",
    S + "openingHoursSpecification": "horaires",
    S + "dayOfWeek": "jours",
    S + "opens": "ouverture",
    S + "closes": "fermeture",
    S + "validFrom": "valableDu",
    S + "validThrough": "valableAu",
    S + "telephone": "telephone",
    S + "email": "email",
    S + "url": "siteWeb",
    S + "sameAs": "memeQue",
    OWL + "sameAs": "identiqueA",
    LTC + "theme": "themes",
    LTC + "placeType": "typeLieu",
    LTC + "wheelchairAccessible": "accessiblePMR",
    LTC + "accessibilityNote": "accessibilite",
    S + "memberOf": "reseau",
    LTC + "siret": "siret",
    LTC + "rna": "rna",
    S + "location": "localisation",
    LTC + "organisation": "organisation",
    LTC + "place": "lieu",
    LTC + "role": "role",
    LTC + "activity": "activites",
    S + "startDate": "debut",
    S + "endDate": "fin",
    S + "organizer": "organisateur",
    LTC + "status": "statut",
    LTC + "charterDate": "dateCharte",
    LTC + "bringsTogether": "rassemble",
    S + "dateModified": "dateModification",
}
JSON_TYPES = {
    S + "Place": "Lieu",
    S + "Organization": "Organisation",
    LTC + "Network": "Reseau",
    LTC + "Presence": "Presence",
    S + "Event": "Evenement",
    LTC + "ConvergenceLabel": "LabelConvergence",
    S + "PostalAddress": "Adresse",
    S + "GeoCoordinates": "Coordonnees",
    S + "OpeningHoursSpecification": "Horaires",
}
JSON_VOCAB = {"themes": LTCT, "role": LTCR, "typeLieu": LTCP, "statut": LTCS, "jours": S}
JSON_SETS = {
    "horaires",
    "jours",
    "memeQue",
    "identiqueA",
    "themes",
    "role",
    "activites",
    "rassemble",
}
DAY_FR = {v: k for k, v in DAYS.items()}


def json_value(key, v):
    if isinstance(v, Node):
        return json_node(v)
    if isinstance(v, IRI):
        if key in JSON_VOCAB:
            local = v[len(JSON_VOCAB[key]) :] if v.startswith(JSON_VOCAB[key]) else v.lstrip("#")
            return DAY_FR.get(local, local) if key == "jours" else local
        return str(v)
    if v.lang:
        return {"@value": v.value, "@language": v.lang}
    if v.dt in (XSD + "decimal", XSD + "double"):
        return float(v.value)
    if v.dt == XSD + "integer":
        return int(v.value)
    if v.dt == XSD + "boolean":
        return v.value == "true"
    return v.value


def json_props(props, out):
    for p, v in props:
        key = JSON_KEYS[p]
        val = json_value(key, v)
        if key in JSON_SETS:
            out.setdefault(key, []).append(val)
        elif key in out:
            if not isinstance(out[key], list):
                out[key] = [out[key]]
            out[key].append(val)
        else:
            out[key] = val
    return out


def json_node(n):
    out = {}
    if n.type:
        out["type"] = JSON_TYPES[n.type]
    return json_props(n.props, out)


def jsonld(records, header):
    graph = []
    for r in records:
        graph.append(json_props(r.props, {"id": r.iri, "type": JSON_TYPES[CLASS[r.kind]]}))
    doc = {"@context": CONTEXT_IRI, "@graph": graph}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- adapters


def build_gogocarto(b: Builder):
    rng = random.Random("ltc-examples-gogocarto")
    ns = "https://mouvement-citoyen.example.org/"
    cats = [
        "Alimentation",
        "Énergie",
        "Réemploi",
        "Mobilité douce",
        "Éducation populaire",
        "Jardins partagés",
        "Habitat participatif",
        "Culture",
        "Démocratie locale",
    ]
    kinds = [
        "Groupe local",
        "Jardin partagé",
        "Café citoyen",
        "Atelier",
        "Ressourcerie",
        "Vélo-école",
        "Grainothèque",
        "Boîte à dons",
        "Cuisine partagée",
        "Université populaire",
    ]
    communes_ = [c for c in COMMUNE_LIST]
    data = []
    entries = []

    def ident(i):
        alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        r = random.Random(f"gogo-id-{i}")
        return "".join(r.choice(alphabet) for _ in range(3))

    def ohours():
        d = rng.choice(
            [
                {"Tu": "17:00-19:00"},
                {"We": "14:00-18:00", "Sa": "10:00-12:00"},
                {"Mo": "09:00-12:00", "Th": "14:00-18:00"},
                {"Sa": "09:30-12:30"},
            ]
        )
        return d

    def entry(i, name, c, street, lat, lon, categories, osm=None, cp=None):
        e = {
            "id": ident(i),
            "name": name,
            "geo": {"latitude": round(lat, 6), "longitude": round(lon, 6)},
            "address": {
                "streetAddress": street,
                "addressLocality": c["nom"],
                "postalCode": cp or c["code_postal"],
                "addressCountry": "FR",
            },
            "categories": categories,
            "telephone": phone(rng, c, rng.random() < 0.6) if rng.random() < 0.7 else "",
            "email": email_for(name, "example.org") if rng.random() < 0.6 else "",
            "website": f"https://{short_slug(name)}.example.org" if rng.random() < 0.4 else "",
            "openHours": ohours() if rng.random() < 0.6 else {},
            "description": rng.choice(
                [
                    "Groupe local du mouvement.",
                    "Rencontres mensuelles ouvertes à tous.",
                    "Lieu d'échanges et de savoir-faire.",
                    "",
                ]
            ),
            "createdAt": f"{rand_date(rng, '2021-01-04', 1200)}T{rng.randint(8, 20):02d}:"
            f"{rng.randint(0, 59):02d}:00+01:00",
            "updatedAt": f"{rand_date(rng, '2025-01-06', 450)}T{rng.randint(8, 20):02d}:"
            f"{rng.randint(0, 59):02d}:00+01:00",
            "status": 1,
        }
        if osm:
            e["osm"] = osm
        data.append(e)
        entries.append(e)
        return e

    i = 0
    # shared with RDF feeds: similar (c)
    sims = [
        ("tiers-lieux", "Le Hangar des Communs", "Hangar des Communs"),
        ("repair-cafes", None, None),
        ("energie-citoyenne", None, None),
    ]
    for fid, pname, gname in sims:
        f = b.feeds[fid]
        if pname is None:
            cands = [
                r
                for r in f.records
                if r.kind == "place"
                and not r.protected
                and r.commune["nom"] in ("Paris", "Grenoble", "Lyon", "Toulouse")
                and r.first(LTC + "placeType") != IRI(LTCP + "autre")
            ]
            src = random.Random(f"gogo-pick-{fid}").choice(cands)
            pname = src.first(S + "name").value
            gname = f"{pname} ({src.commune['nom']})"
        src = next(r for r in f.records if r.kind == "place" and r.first(S + "name").value == pname)
        src.protected = True
        g = src.first(S + "geo")
        lat, lon = (
            float(node_get(g, S + "latitude")[0].value),
            float(node_get(g, S + "longitude")[0].value),
        )
        lat2, lon2 = offset(lat, lon, rng.uniform(3, 20), rng.uniform(0, 360))
        street = node_get(src.first(S + "address"), S + "streetAddress")[0].value
        i += 1
        e = entry(
            i,
            gname,
            src.commune,
            street.replace(" rue ", ", rue "),
            lat2,
            lon2,
            ["Culture", "Réemploi"],
        )
        b.same_places.append(
            {
                "places": [src.iri, ns + "annuaire/" + e["id"]],
                "networks": [f.network, ns + "reseau"],
                "how": "similar",
                "names": [pname, gname],
            }
        )
    # shared via the same OpenStreetMap node (b)
    amap = b.feeds["amap-centre"]
    osm_place = next(
        r
        for r in amap.records
        if r.kind == "place" and r.first(S + "name").value == "Halle de la Poste"
    )
    g = osm_place.first(S + "geo")
    i += 1
    e = entry(
        i,
        "Halle de la Poste - Amboise",
        osm_place.commune,
        node_get(osm_place.first(S + "address"), S + "streetAddress")[0].value,
        float(node_get(g, S + "latitude")[0].value),
        float(node_get(g, S + "longitude")[0].value),
        ["Alimentation"],
        osm=str(osm_place.first(S + "sameAs")),
    )
    for sp in b.same_places:
        if osm_place.iri in sp["places"]:
            sp["places"].append(ns + "annuaire/" + e["id"])
            sp["networks"].append(ns + "reseau")
            sp["how_adapter"] = "sameAs (same OpenStreetMap node)"
    # ordinary entries
    while i < 38:
        i += 1
        c = rng.choice(communes_)
        for _ in range(50):
            name = f"{rng.choice(kinds)} {rng.choice(QUALIFIERS)}"
            if name_free(c, name):
                break
        NAMES_USED[(c["insee"], norm_name(name))] = "gogocarto"
        lat, lon = offset(c["lat"], c["lon"], rng.uniform(80, 2500), rng.uniform(0, 360))
        street = f"{rng.randint(1, 90)} {rng.choice(STREET_TYPES)} {rng.choice(STREET_NAMES)}"
        entry(i, name, c, street, lat, lon, rng.sample(cats, rng.choice([1, 2])))
    # invalid rows
    bad1 = entries[10]
    bad1["name"] = ""
    b.adapter_rejected.append(
        {
            "source": "mouvement-citoyen",
            "row": 11,
            "id": bad1["id"],
            "reason": "no name",
            "constraints": ["ltcsh:Place-name"],
        }
    )
    bad2 = entries[21]
    cp = bad2["address"]["postalCode"]
    i0 = cp.rfind("0")
    bad2["address"]["postalCode"] = cp[:i0] + "O" + cp[i0 + 1 :]
    b.adapter_rejected.append(
        {
            "source": "mouvement-citoyen",
            "row": 22,
            "id": bad2["id"],
            "reason": f"malformed postcode {bad2['address']['postalCode']!r} (letter O for zero)",
            "constraints": ["ltcsh:Address-postalCode"],
        }
    )
    doc = {
        "licence": "https://opendatacommons.org/licenses/odbl/1-0/",
        "ontology": "gogofull",
        "data": data,
    }
    return doc, len(data)


def build_csv(b: Builder):
    rng = random.Random("ltc-examples-terres")
    ns = "https://terres-paysannes.example.org/"
    cols = [
        "identifiant",
        "nom",
        "adresse",
        "code_postal",
        "commune",
        "latitude",
        "longitude",
        "theme",
        "telephone",
        "site_web",
        "osm",
        "mise_a_jour",
    ]
    rows = []
    kinds = [
        "Ferme",
        "Ferme collective",
        "Terres de",
        "Domaine",
        "Ferme-école",
        "Bergerie",
        "Jardin de Cocagne",
        "Ferme maraîchère",
    ]
    themes = [
        "agriculture",
        "alimentation",
        "nature",
        "agriculture, alimentation",
        "agriculture, education",
    ]

    def row(name, c, street, lat, lon, theme, osm=""):
        n = len(rows) + 1
        r = {
            "identifiant": f"TP-{n:03d}",
            "nom": name,
            "adresse": street,
            "code_postal": c["code_postal"],
            "commune": c["nom"],
            "latitude": f"{lat:.6f}" if lat is not None else "",
            "longitude": f"{lon:.6f}" if lon is not None else "",
            "theme": theme,
            "telephone": phone(rng, c, rng.random() < 0.5) if rng.random() < 0.75 else "",
            "site_web": f"https://{short_slug(name)}.example.org" if rng.random() < 0.3 else "",
            "osm": osm,
            "mise_a_jour": rand_date(rng, "2025-02-03", 420),
        }
        rows.append(r)
        return r

    amap = b.feeds["amap-centre"]
    farms = [
        r
        for r in amap.records
        if r.kind == "place"
        and not r.protected
        and r.first(LTC + "placeType") == IRI(LTCP + "ferme")
    ]
    pick = random.Random("ltc-examples-terres-pick").sample(farms, 3)
    # similar (c): two farms of the AMAP network, one tiers-lieu
    tl = b.feeds["tiers-lieux"]
    tplace = next(
        r
        for r in tl.records
        if r.kind == "place" and r.first(S + "name").value == "La Cordée Rurale"
    )
    for src, alt in ((pick[0], None), (pick[1], None), (tplace, "Ferme de la Cordée Rurale")):
        src.protected = True
        nm = src.first(S + "name").value
        alt = alt or nm.replace("Ferme de ", "Ferme ").replace("Ferme du ", "Ferme du ")
        if alt == nm:
            alt = "GAEC " + nm
        g = src.first(S + "geo")
        lat, lon = (
            float(node_get(g, S + "latitude")[0].value),
            float(node_get(g, S + "longitude")[0].value),
        )
        lat2, lon2 = offset(lat, lon, rng.uniform(3, 22), rng.uniform(0, 360))
        street = node_get(src.first(S + "address"), S + "streetAddress")[0].value
        r = row(
            alt,
            src.commune,
            street.replace("lieu-dit ", "Lieu-dit "),
            lat2,
            lon2,
            "agriculture, alimentation",
        )
        b.same_places.append(
            {
                "places": [src.iri, ns + "lieux/" + r["identifiant"]],
                "networks": [src_feed(b, src).network, ns + "reseau"],
                "how": "similar",
                "names": [nm, alt],
            }
        )
    # sameAs via OpenStreetMap node
    src = pick[2]
    src.protected = True
    osm = b.osm()
    src.props.insert(len(src.props) - 1, (S + "sameAs", osm))
    g = src.first(S + "geo")
    r = row(
        src.first(S + "name").value,
        src.commune,
        node_get(src.first(S + "address"), S + "streetAddress")[0].value,
        float(node_get(g, S + "latitude")[0].value),
        float(node_get(g, S + "longitude")[0].value),
        "agriculture",
        osm=str(osm),
    )
    b.same_places.append(
        {
            "places": [src.iri, ns + "lieux/" + r["identifiant"]],
            "networks": [amap.network, ns + "reseau"],
            "how": "sameAs",
            "names": [src.first(S + "name").value] * 2,
            "note": "both have schema:sameAs the same OpenStreetMap node",
        }
    )
    rural = [
        c
        for c in COMMUNE_LIST
        if c["nom"]
        in (
            "Chinon",
            "Loches",
            "Sancerre",
            "Bléré",
            "Azay-le-Rideau",
            "Redon",
            "Clisson",
            "Guérande",
            "Saumur",
            "Die",
            "Crest",
            "Saillans",
            "Figeac",
            "Millau",
            "Lagrasse",
            "Eymoutiers",
            "Felletin",
            "Ungersheim",
            "Forcalquier",
            "Correns",
            "Briançon",
            "Le Tampon",
            "Bourg-en-Bresse",
            "Mouans-Sartoux",
            "Saint-Paul",
        )
    ]
    while len(rows) < 36:
        c = rng.choice(rural)
        for _ in range(50):
            ld = rng.choice(LIEUX_DITS)
            k = rng.choice(kinds)
            name = f"Terres {de(ld)}" if k == "Terres de" else f"{k} {de(ld)}"
            if name_free(c, name):
                break
        NAMES_USED[(c["insee"], norm_name(name))] = "csv"
        if rng.random() < 0.12:  # address only, no coordinates (valid: postcode present)
            row(name, c, f"lieu-dit {ld}", None, None, rng.choice(themes))
        else:
            lat, lon = offset(c["lat"], c["lon"], rng.uniform(1000, 3000), rng.uniform(0, 360))
            row(name, c, f"lieu-dit {ld}", lat, lon, rng.choice(themes))
    rows[13]["nom"] = ""
    b.adapter_rejected.append(
        {
            "source": "terres-paysannes",
            "row": 14,
            "id": "TP-014",
            "reason": "no name",
            "constraints": ["ltcsh:Place-name"],
        }
    )
    rows[26]["code_postal"] = rows[26]["code_postal"] + "0"
    b.adapter_rejected.append(
        {
            "source": "terres-paysannes",
            "row": 27,
            "id": "TP-027",
            "reason": f"malformed postcode {rows[26]['code_postal']!r} (6 digits)",
            "constraints": ["ltcsh:Address-postalCode"],
        }
    )
    return cols, rows


def src_feed(b, rec):
    for f in b.feeds.values():
        if rec in f.records:
            return f
    raise KeyError(rec.iri)


# --------------------------------------------------------------------------- main

SOURCES = [
    # id, file, syntax, namespace, name
    (
        "amap-centre",
        "feeds/amap-centre.jsonld",
        "json-ld",
        "https://amap-centre.example.org/",
        "Réseau des AMAP du Centre-Val de Loire",
    ),
    (
        "energie-citoyenne",
        "feeds/energie-citoyenne.ttl",
        "turtle",
        "https://energie-citoyenne.example.org/",
        "Énergies Citoyennes en Réseau",
    ),
    (
        "boutiques-equitables",
        "feeds/boutiques-equitables.rdf",
        "rdf-xml",
        "https://boutiques-equitables.example.org/",
        "Boutiques Équitables Solidaires",
    ),
    (
        "repair-cafes",
        "feeds/repair-cafes.nt",
        "n-triples",
        "https://repair-cafes.example.org/",
        "Réseau des Repair Cafés Solidaires",
    ),
    (
        "tiers-lieux",
        "feeds/tiers-lieux.jsonld",
        "json-ld",
        "https://tiers-lieux.example.org/",
        "Tiers-Lieux en Réseau",
    ),
    (
        "monnaies-locales",
        "feeds/monnaies-locales.ttl",
        "turtle",
        "https://monnaies-locales.example.org/",
        "Fédération des Monnaies Locales Citoyennes",
    ),
    (
        "ltc-collectif",
        "feeds/ltc-collectif.ttl",
        "turtle",
        "https://collectif-ltc.example.org/",
        "Collectif des Lieux de Convergence de la Transition",
    ),
]
ADAPTERS = [
    (
        "mouvement-citoyen",
        "feeds/mouvement-citoyen.gogocarto.json",
        "json",
        "gogocarto",
        "https://mouvement-citoyen.example.org/",
        "Mouvement Citoyen Ensemble en Transition",
        "https://mouvement-citoyen.example.org/annuaire/{id}",
    ),
    (
        "terres-paysannes",
        "feeds/terres-paysannes.csv",
        "csv",
        "csv",
        "https://terres-paysannes.example.org/",
        "Terres Paysannes Solidaires",
        "https://terres-paysannes.example.org/lieux/{identifiant}",
    ),
]


def main():
    NAMES_USED.clear()
    BROKEN.clear()
    b = Builder()
    for sid, file, syntax, ns, name in SOURCES:
        b.feeds[sid] = Feed(sid, file, syntax, ns, name)
    build_amap(b, b.feeds["amap-centre"])
    build_energy(b, b.feeds["energie-citoyenne"])
    build_fair(b, b.feeds["boutiques-equitables"])
    build_repair(b, b.feeds["repair-cafes"])
    build_tiers(b, b.feeds["tiers-lieux"])
    build_currency(b, b.feeds["monnaies-locales"])
    build_sharing(b)
    build_events(b)
    gogo_doc, n_gogo = build_gogocarto(b)
    csv_cols, csv_rows = build_csv(b)
    build_collective(b, b.feeds["ltc-collectif"])
    sprinkle_warnings(b)
    make_invalid(b)

    FEEDS.mkdir(exist_ok=True)
    order = {"network": 0, "org": 1, "place": 2, "presence": 3, "event": 4, "label": 5}
    sources_out = []
    for sid, file, syntax, ns, name in SOURCES:
        f = b.feeds[sid]
        recs = sorted(f.records, key=lambda r: order[r.kind])  # stable: keeps creation order
        header = [
            f"{name} — flux d'exemple de la fédération LTC (données fictives).",
            "Généré par examples/build_examples.py : ne pas modifier à la main.",
        ]
        if syntax == "turtle":
            http = sid == "monnaies-locales"
            text = Turtle(
                f, schema_ns="http://schema.org/" if http else SCHEMA, base=None if http else ns
            ).write(recs, header)
        elif syntax == "n-triples":
            text = ntriples(recs, header)
        elif syntax == "rdf-xml":
            text = rdfxml(recs, header, ns)
        else:
            text = jsonld(recs, header)
        (HERE / file).write_text(text, encoding="utf-8")
        counts = {k: 0 for k in KIND_KEY.values()}
        for r in recs:
            counts[KIND_KEY[r.kind]] += 1
        sources_out.append(
            {
                "id": sid,
                "file": file,
                "syntax": syntax,
                "network": f.network,
                "network_name": name,
                "namespaces": [ns],
                "adapter": None,
                "schema_namespace": "http://schema.org/" if sid == "monnaies-locales" else SCHEMA,
                "records": counts,
            }
        )
    (HERE / ADAPTERS[0][1]).write_text(
        json.dumps(gogo_doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    with open(HERE / ADAPTERS[1][1], "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=csv_cols, delimiter=";", lineterminator="\n")
        w.writeheader()
        w.writerows(csv_rows)
    for (sid, file, syntax, adapter, ns, name, tmpl), n in zip(
        ADAPTERS, (n_gogo, len(csv_rows)), strict=True
    ):
        sources_out.append(
            {
                "id": sid,
                "file": file,
                "syntax": syntax,
                "network": ns + "reseau",
                "network_name": name,
                "namespaces": [ns],
                "adapter": adapter,
                "record_iri_template": tmpl,
                "rows": n,
                "records": {
                    "places": n,
                    "organisations": 0,
                    "presences": 0,
                    "events": 0,
                    "networks": 0,
                    "labels": 0,
                },
            }
        )

    expected = {
        "context": CONTEXT_IRI,
        "sources": sources_out,
        "rejected": [{k: v for k, v in x.items() if k != "kind"} for x in b.rejected],
        "rejected_adapter_rows": b.adapter_rejected,
        "same_places": [
            {k: v for k, v in sp.items() if k in ("places", "networks", "how")}
            for sp in b.same_places
        ],
        "different_neighbours": [list(p) for p in b.neighbours],
    }
    (HERE / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    total = sum(sum(so["records"].values()) for so in sources_out if so["adapter"] is None)
    places = sum(so["records"]["places"] for so in sources_out if so["adapter"] is None)
    print(
        f"{places} places, {total} records, {len(b.rejected)} rejected "
        f"({100 * len(b.rejected) / total:.1f} %), "
        f"{sum(1 for x in b.rejected if x['constraints'] == ['ltcsh:Cascade'])} cascades"
    )
    for so in sources_out:
        print(f"  {so['id']:22} {so['records']}")
    from collections import Counter

    print(
        "  same places:",
        dict(Counter(sp["how"] for sp in b.same_places)),
        "neighbours:",
        len(b.neighbours),
    )


if __name__ == "__main__":
    main()
