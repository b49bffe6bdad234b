"""Offline lookup of French communes and postcodes (no request leaves the server).

The table ``communes.tsv.gz`` is derived once by ``gazetteer/build.py`` from the official
commune list (INSEE / La Poste / Etalab, Licence Ouverte 2.0) and GeoNames points
(CC-BY 4.0). It is read once per process (``default_gazetteer()``); every lookup is then a
dictionary access or a bisection in precomputed sorted keys.

>>> g = default_gazetteer()
>>> g.resolve("Tours 37000").matches[0].label
'Tours (37000)'
"""

from __future__ import annotations

import functools
import gzip
import heapq
import math
import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Literal

APPROXIMATE_NOTE = "position approximative"

# IANA zones of the overseas departments and collectivities, by INSEE department code.
OVERSEAS_TIMEZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
    "986": "Pacific/Wallis",
    # French Polynesia spans three zones: see POLYNESIA_* below for the Marquesas and Gambier
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}
METROPOLITAN_TIMEZONE = "Europe/Paris"

# The Marquesas (UTC−9:30) and the Gambier (UTC−9) are not on Tahiti's time (UTC−10).
# INSEE and postcodes of Polynesia overlap ("98719" is Gambier's INSEE code and a Tahiti
# postcode), hence two tables.
POLYNESIA_BY_INSEE = {
    **dict.fromkeys(
        ("98718", "98723", "98731", "98746", "98756", "98757"), "Pacific/Marquesas"
    ),  # Fatu-Hiva, Hiva-Oa, Nuku-Hiva, Tahuata, Ua-Huka, Ua-Pou
    "98719": "Pacific/Gambier",
}
POLYNESIA_BY_POSTCODE = {
    **dict.fromkeys([f"9874{d}" for d in range(10)] + ["98796"], "Pacific/Marquesas"),
    **dict.fromkeys(("98755", "98792", "98793"), "Pacific/Gambier"),
}
POLYNESIA_BOXES = {
    "Pacific/Marquesas": (-11.0, -7.5, -141.0, -138.0),
    "Pacific/Gambier": (-23.5, -22.8, -135.3, -134.6),
}

# (south, north, west, east) boxes of the overseas territories, for a place known only by
# its coordinates. Metropolitan France and Corsica are everything else.
OVERSEAS_BOXES: dict[str, tuple[float, float, float, float]] = {
    "971": (15.8, 18.2, -63.2, -60.9),  # Guadeloupe (Saint-Martin/-Barthélemy tested first)
    "972": (14.3, 14.95, -61.3, -60.7),
    "973": (2.0, 6.0, -54.7, -51.5),
    "974": (-21.45, -20.8, 55.1, 55.9),
    "975": (46.7, 47.2, -56.5, -56.0),
    "976": (-13.1, -12.55, 44.9, 45.35),
    "977": (17.85, 17.98, -62.96, -62.78),
    "978": (18.0, 18.13, -63.16, -62.96),
    "986": (-14.5, -13.0, -178.3, -176.0),
    "987": (-28.0, -7.5, -155.0, -134.0),
    "988": (-23.0, -19.0, 163.0, 169.0),
}

# Bounding boxes of France (metropole with Corsica, then overseas), for sanity checks.
METROPOLE_BOX = (41.3, 51.2, -5.3, 9.7)

_QUALIFIER = re.compile(r"^(?P<name>.*?)[\s,]*\(?\s*(?P<qual>\d{5}|\d{2,3}|2[ab])\s*\)?$")
_ARTICLE = re.compile(r"^(le|la|les|l) ")
_POSTCODE = re.compile(r"^\d{5}$")
_INSEE = re.compile(r"^(\d{5}|2[ab]\d{3})$")


def normalise(text: str) -> str:
    """Accent-, case- and punctuation-insensitive key; "St"/"Ste" become "saint"/"sainte"."""
    s = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "OE"))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = re.sub(r"[^a-z0-9]+", " ", s)
    words = ["saint" if w == "st" else "sainte" if w == "ste" else w for w in s.split()]
    return " ".join(words)


def department_of(insee: str) -> str:
    """Department code of an INSEE commune code ("37261" → "37", "97411" → "974")."""
    return insee[:3] if insee[:2] in ("97", "98") else insee[:2]


def timezone_for(
    postcode_or_insee: str | None = None, lat: float | None = None, lon: float | None = None
) -> str:
    """IANA time zone of a place: by its postcode or INSEE code first, else by coordinates.

    Overseas postcodes and INSEE codes both start with the department code (97x/98x), so
    the first three characters tell. Without a usable code, coordinates inside an overseas
    box pick that territory's zone; anything else is Europe/Paris.
    """
    code = (postcode_or_insee or "").strip()
    if code[:3] == "987":
        # coordinates first: the code may be a postcode or an INSEE code (they overlap)
        if lat is not None and lon is not None:
            for zone, (south, north, west, east) in POLYNESIA_BOXES.items():
                if south <= lat <= north and west <= lon <= east:
                    return zone
        return POLYNESIA_BY_POSTCODE.get(code, OVERSEAS_TIMEZONES["987"])
    if len(code) >= 3 and code[:3] in OVERSEAS_TIMEZONES:
        return OVERSEAS_TIMEZONES[code[:3]]
    if len(code) >= 2 and code[:2] in ("97", "98"):
        # an unknown overseas code (e.g. 984, TAAF): no reliable zone from the code alone
        pass
    elif re.fullmatch(r"\d{5}|2[abAB]\d{3}", code):
        return METROPOLITAN_TIMEZONE
    if lat is not None and lon is not None:
        # the two small islands first: their boxes lie next to Guadeloupe's
        for dep in ("977", "978", *OVERSEAS_BOXES):
            south, north, west, east = OVERSEAS_BOXES[dep]
            if south <= lat <= north and west <= lon <= east:
                return timezone_for("987", lat, lon) if dep == "987" else OVERSEAS_TIMEZONES[dep]
    return METROPOLITAN_TIMEZONE


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune (or municipal arrondissement) of the official list, with its point."""

    insee: str
    name: str
    postcodes: tuple[str, ...]
    department: str
    lat: float
    lon: float
    exact: bool
    population: int
    aliases: tuple[str, ...] = ()

    @property
    def timezone(self) -> str:
        """IANA time zone for "open now" (Europe/Paris in the metropole and Corsica)."""
        if self.insee in POLYNESIA_BY_INSEE:
            return POLYNESIA_BY_INSEE[self.insee]
        return OVERSEAS_TIMEZONES.get(self.department, METROPOLITAN_TIMEZONE)

    @property
    def postcode(self) -> str:
        """The main postcode (the smallest), or the department for a commune without one."""
        return self.postcodes[0] if self.postcodes else self.department

    @property
    def label(self) -> str:
        """French label for the page: "Tours (37000)"."""
        return f"{self.name} ({self.postcode})"

    @property
    def precision_note(self) -> str:
        """What the page shows next to the point: "" or "position approximative"."""
        return "" if self.exact else APPROXIMATE_NOTE


@dataclass(frozen=True, slots=True)
class Resolution:
    """Answer to ``Gazetteer.resolve``.

    * ``found``: ``matches[0]`` is the commune (for a postcode: all its communes, by
      population, and ``lat``/``lon`` is the postcode's point);
    * ``ambiguous``: ``matches`` holds every homonym, most populous first;
    * ``unknown``: ``suggestions`` holds up to 5 close names ("vouliez-vous dire…").
    """

    query: str
    status: Literal["found", "ambiguous", "unknown"]
    matches: list[Commune] = field(default_factory=list)
    suggestions: list[Commune] = field(default_factory=list)
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    exact: bool = False

    @property
    def commune(self) -> Commune | None:
        """The commune found (the most populous one for a postcode), else None."""
        return self.matches[0] if self.status == "found" and self.matches else None

    @property
    def label(self) -> str:
        """French label: "Tours (37000)", or for a shared postcode "37110 (Château-Renault…)"."""
        if self.status != "found" or not self.matches:
            return self.query
        if self.postcode and len(self.matches) > 1:
            names = ", ".join(c.name for c in self.matches[:3])
            more = len(self.matches) - 3
            tail = f" et {more} autre{'s' if more > 1 else ''} commune{'s' if more > 1 else ''}"
            return f"{self.postcode} ({names}{tail if more > 0 else ''})"
        c = self.matches[0]
        return f"{c.name} ({self.postcode or c.postcode})"

    @property
    def precision_note(self) -> str:
        """ "position approximative" when the point found is not the place's own, else ""."""
        return APPROXIMATE_NOTE if self.status == "found" and not self.exact else ""

    @property
    def timezone(self) -> str:
        """IANA zone of the answer (Europe/Paris when nothing was found)."""
        if self.matches:
            return self.matches[0].timezone
        return METROPOLITAN_TIMEZONE


_POPULAR_COUNT = 3000


class _PrefixIndex:
    """Entries ``(key, rank, -population, insee)`` searchable by key prefix."""

    def __init__(self, entries: Iterable[tuple[str, int, int, str]]) -> None:
        ordered = sorted(entries)
        self.keys = [e[0] for e in ordered]
        self.values = [e[1:] for e in ordered]

    def top(self, prefix: str, limit: int) -> list[tuple[int, str]]:
        """Up to ``limit`` distinct communes ``(rank, insee)`` best first."""
        lo = bisect_left(self.keys, prefix)
        hi = bisect_left(self.keys, prefix + "\uffff")
        want = limit * 4  # a commune can come several times (several postcodes, words)
        while True:
            ranked = heapq.nsmallest(want, self.values[lo:hi])
            out: dict[str, int] = {}
            for rank, _, insee in ranked:
                out.setdefault(insee, rank)
            if len(out) >= limit or len(ranked) < want:
                return [(rank, insee) for insee, rank in list(out.items())[:limit]]
            want *= 4


def _trigrams(key: str) -> set[str]:
    padded = f"  {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _edit_distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment): a letter
    added, dropped, changed or two letters swapped ("tuors") each count one typo."""
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, previous = previous, current
    return previous[-1]


class Gazetteer:
    """All communes of the official list, indexed by name, alias, postcode and INSEE code."""

    def __init__(self, communes: list[Commune]) -> None:
        self.communes = communes
        self.by_insee: dict[str, Commune] = {c.insee: c for c in communes}
        self.by_name: dict[str, list[Commune]] = defaultdict(list)
        self.by_alias: dict[str, list[Commune]] = defaultdict(list)
        self.by_postcode: dict[str, list[Commune]] = defaultdict(list)
        # "lhay les roses", "saintdenis": the same name with spaces dropped
        self.by_compact: dict[str, list[Commune]] = defaultdict(list)
        # "Mans" for Le Mans: offered as a suggestion, never taken for the commune
        self.by_bare: dict[str, list[Commune]] = defaultdict(list)
        # a municipal arrondissement shares its postcode with its city (Paris 75056 lists
        # 75001…75020): the postcode belongs to the arrondissement, not the whole city
        arrondissement_postcodes = {
            pc for c in communes if c.name.endswith("Arrondissement") for pc in c.postcodes
        }
        for c in communes:
            key = normalise(c.name)
            self.by_name[key].append(c)
            self.by_compact[key.replace(" ", "")].append(c)
            bare = _ARTICLE.sub("", key)
            if bare != key:
                self.by_bare[bare].append(c)
            for alias in c.aliases:
                self.by_alias[normalise(alias)].append(c)
            is_parent = c.insee in ("75056", "69123", "13055")
            for pc in c.postcodes:
                if not (is_parent and pc in arrondissement_postcodes):
                    self.by_postcode[pc].append(c)
        for table in (self.by_name, self.by_alias, self.by_postcode, self.by_compact, self.by_bare):
            for lst in table.values():
                lst.sort(key=lambda c: (-c.population, c.insee))
        self.postcode_points = {pc: self._postcode_point(cs) for pc, cs in self.by_postcode.items()}

        # Autocomplete: (key, rank, -population, insee) sorted by key, over whole names
        # (rank 0), the word starts inside names (rank 1: "denis" finds Saint-Denis after
        # the "Denis…" names) and postcodes. A second index over the most populous communes
        # answers short prefixes ("s", "3") without scanning thousands of entries.
        names: set[tuple[str, int, int, str]] = set()
        for key, cs in self.by_name.items():
            words = key.split()
            for c in cs:
                names.add((key, 0, -c.population, c.insee))
                for i in range(1, len(words)):
                    names.add((" ".join(words[i:]), 1, -c.population, c.insee))
        postcodes = {
            (pc, 0, -c.population, c.insee) for pc, cs in self.by_postcode.items() for c in cs
        }
        popular = {c.insee for c in sorted(communes, key=lambda c: -c.population)[:_POPULAR_COUNT]}
        self._prefix_index = {
            kind: (_PrefixIndex(entries), _PrefixIndex(e for e in entries if e[3] in popular))
            for kind, entries in (("name", names), ("postcode", postcodes))
        }

        # "Did you mean": trigram postings over the distinct name keys.
        self._name_keys = sorted(self.by_name)
        self._trigram_postings: dict[str, list[int]] = defaultdict(list)
        self._trigram_sizes: list[int] = []
        for i, key in enumerate(self._name_keys):
            grams = _trigrams(key)
            self._trigram_sizes.append(len(grams))
            for t in grams:
                self._trigram_postings[t].append(i)

    @staticmethod
    def _postcode_point(communes: list[Commune]) -> tuple[float, float, bool]:
        exact = [c for c in communes if c.exact] or communes
        lat = sum(c.lat for c in exact) / len(exact)
        lon = sum(c.lon for c in exact) / len(exact)
        return lat, lon, len(communes) == 1 and communes[0].exact

    @classmethod
    def from_package(cls) -> Gazetteer:
        """Load the table shipped in the ``gazetteer`` package."""
        raw = (files("gazetteer") / "communes.tsv.gz").read_bytes()
        lines = gzip.decompress(raw).decode("utf-8").splitlines()
        header = lines[0].split("\t")
        communes = []
        for line in lines[1:]:
            row = dict(zip(header, line.split("\t"), strict=True))
            communes.append(
                Commune(
                    insee=row["insee"],
                    name=row["name"],
                    postcodes=tuple(p for p in row["postcodes"].split(",") if p),
                    department=department_of(row["insee"]),
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    exact=row["exact"] == "1",
                    population=int(row["population"]),
                    aliases=tuple(a for a in row["aliases"].split("|") if a),
                )
            )
        return cls(communes)

    # -- resolve -----------------------------------------------------------------------

    def resolve(self, text: str) -> Resolution:
        """Resolve a commune name, a postcode or an INSEE code typed by a visitor.

        Names may carry a trailing department or postcode ("Saint-Denis (974)",
        "Tours 37000"); accents, case, hyphens and "St"/"Ste" do not matter.
        """
        query = text.strip()[:200]  # no commune name is longer; bounds the work
        compact = query.replace(" ", "")
        if _POSTCODE.match(compact) and compact in self.by_postcode:
            return self._postcode_resolution(query, compact)
        if _INSEE.match(compact.lower()) and compact.upper() in self.by_insee:
            return self._found(query, [self.by_insee[compact.upper()]])
        key = normalise(query)
        if not key:
            return Resolution(query, "unknown")

        found = self._by_key(key)
        if found:
            return self._found(query, found)

        m = _QUALIFIER.match(key)
        if m and m.group("name"):
            name, qual = normalise(m.group("name")), m.group("qual").upper()
            pool = self._by_key(name)
            kept = [c for c in pool if c.department == qual or qual in c.postcodes]
            if kept:
                res = self._found(query, kept)
                if len(kept) == 1 and qual in kept[0].postcodes:
                    return Resolution(
                        query, "found", kept, postcode=qual, lat=kept[0].lat,
                        lon=kept[0].lon, exact=kept[0].exact,
                    )  # fmt: skip
                return res
            if pool:
                # the name exists, not in that department: show where it is
                return Resolution(query, "ambiguous", list(pool))
            key = name
        else:
            qual = ""

        near = self.by_bare.get(key, []) + self._did_you_mean(key, limit=10)
        # a typo with its department ("Toulous 31"): that department's names first
        near.sort(key=lambda c: qual not in (c.department, *c.postcodes))  # stable
        suggestions = list({c.insee: c for c in near}.values())[:5]
        return Resolution(query, "unknown", suggestions=suggestions)

    def _by_key(self, key: str) -> list[Commune]:
        """Communes of that name, else of that former name or routing label."""
        return (
            self.by_name.get(key)
            or self.by_alias.get(key)
            or self.by_compact.get(key.replace(" ", ""))
            or []
        )

    def _found(self, query: str, communes: list[Commune]) -> Resolution:
        if len(communes) > 1:
            return Resolution(query, "ambiguous", list(communes))
        c = communes[0]
        return Resolution(query, "found", [c], lat=c.lat, lon=c.lon, exact=c.exact)

    def _postcode_resolution(self, query: str, postcode: str) -> Resolution:
        lat, lon, exact = self.postcode_points[postcode]
        return Resolution(
            query, "found", list(self.by_postcode[postcode]), postcode=postcode,
            lat=lat, lon=lon, exact=exact,
        )  # fmt: skip

    def _did_you_mean(self, key: str, limit: int = 5) -> list[Commune]:
        """Close names, ranked by closeness (the fewest typos), then by population: a
        visitor typing "Toures" means Tours before Tourves. Candidates are the names
        sharing the most trigrams with what was typed."""
        grams = _trigrams(key)
        counts: Counter[int] = Counter()
        for t in grams:
            counts.update(self._trigram_postings.get(t, ()))  # counted in C: fast
        if not counts:
            return []
        sizes = self._trigram_sizes
        # Jaccard on trigrams (shared / (own + query − shared)) over the names sharing the
        # most trigrams, so that long names containing the query do not crowd out the
        # short name itself
        pool = [i for i, _ in counts.most_common(400)]
        shortlist = heapq.nlargest(
            25, pool, key=lambda i: counts[i] / (sizes[i] + len(grams) - counts[i])
        )
        most = max(2, len(key) // 3)  # typos allowed: more in longer names
        scored = []
        for i in shortlist:
            name = self._name_keys[i]
            if name.startswith(key):
                # a typed prefix of a longer name ("toulous") is as good as one typo
                distance = 1
            elif abs(len(name) - len(key)) > most:
                continue  # the length difference alone is more typos than allowed
            else:
                distance = _edit_distance(key, name)
            if distance <= most:
                scored.extend((distance, -c.population, c.insee) for c in self.by_name[name])
        scored.sort()
        return [self.by_insee[insee] for _, _, insee in scored[:limit]]

    # -- suggest -----------------------------------------------------------------------

    def suggest(self, prefix: str, limit: int = 8) -> list[Commune]:
        """Autocomplete: communes whose name (or a word of it) or postcode starts with
        ``prefix``; whole-name matches first, each group by population."""
        key = normalise(prefix)
        if not key or limit <= 0:
            return []
        return list(self._suggest(key, limit))

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one long-lived instance per process
    def _suggest(self, key: str, limit: int) -> tuple[Commune, ...]:
        full, popular = self._prefix_index["postcode" if key.isdigit() else "name"]
        best = popular.top(key, limit)
        # Exact shortcut: with `limit` whole-name hits among the most populous communes, no
        # other commune can rank before them (rank first, then population).
        if len(best) < limit or best[-1][0] != 0:
            best = full.top(key, limit)
        return tuple(self.by_insee[insee] for _, insee in best)

    # -- the commune at a point ----------------------------------------------------------

    @functools.cached_property
    def _grid(self) -> dict[tuple[int, int], list[Commune]]:
        """Communes by cell of ``_GRID_DEGREES`` (the city of Paris, Lyon and Marseille
        left out: their arrondissements are more precise)."""
        grid: dict[tuple[int, int], list[Commune]] = defaultdict(list)
        for c in self.communes:
            if c.insee not in ("75056", "69123", "13055"):
                grid[_cell(c.lat, c.lon)].append(c)
        return dict(grid)

    def nearest(self, lat: float, lon: float, within_km: float = 20.0) -> Commune | None:
        """The commune a position most likely lies in (what "autour de moi" names), or
        None when no commune's point is within ``within_km``.

        The table has a point per commune, not its outline: the distance to each point
        is divided by the commune's likely radius (larger for a more populous commune),
        so that a position 1.5 km from the centre of Tours is in Tours, not in the
        small neighbour whose town hall is 1 km away."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        row, column = _cell(lat, lon)
        best: tuple[float, Commune] | None = None
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for c in self._grid.get((row + dr, column + dc), ()):
                    km = _km(lat, lon, c.lat, c.lon)
                    if km > within_km:
                        continue
                    score = km / (0.5 + 0.6 * math.sqrt(max(c.population, 0) / 10_000))
                    if best is None or score < best[0]:
                        best = (score, c)
        return best[1] if best is not None else None


_GRID_DEGREES = 0.2  # ~22 km of latitude: the 3 × 3 cells around a point cover 20 km


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _GRID_DEGREES), math.floor(lon / _GRID_DEGREES)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2
    a += math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


@dataclass(frozen=True, slots=True)
class Located:
    """Where a place known only by its address is put: its commune's point (or its
    postcode's), always an approximation of the place's own position."""

    lat: float
    lon: float
    label: str  # "Loches (37600)"
    basis: Literal["insee", "commune", "postcode"]  # what the point was found from

    @property
    def approximate(self) -> bool:
        return True


def locate_address(
    gazetteer: Gazetteer,
    postcode: str | None = None,
    locality: str | None = None,
    insee: str | None = None,
) -> Located | None:
    """The point of a place that has an address but no coordinates: the commune of its
    INSEE code, else the commune of that name among its postcode's, else the postcode's
    point, else the only commune of that name. None when nothing fits (an unknown
    postcode, a commune name shared by several communes and no postcode to choose)."""
    code = (insee or "").strip().upper()
    if len(code) == 4 and code.isdigit():
        code = "0" + code
    if code in gazetteer.by_insee:
        c = gazetteer.by_insee[code]
        return Located(c.lat, c.lon, c.label, "insee")
    pc = re.sub(r"\s+", "", postcode or "")
    if len(pc) == 4 and pc.isdigit():
        pc = "0" + pc  # a spreadsheet dropped the leading zero
    key = normalise(locality or "")
    communes = gazetteer.by_postcode.get(pc, []) if _POSTCODE.match(pc) else []
    if communes:
        if key:
            named = [c for c in communes if normalise(c.name) == key
                     or key in (normalise(a) for a in c.aliases)]  # fmt: skip
            if len(named) == 1:
                c = named[0]
                return Located(c.lat, c.lon, f"{c.name} ({pc})", "commune")
        lat, lon, _ = gazetteer.postcode_points[pc]
        label = f"{communes[0].name} ({pc})" if len(communes) == 1 else pc
        return Located(lat, lon, label, "postcode")
    if key:
        found = gazetteer._by_key(key)
        if len(found) == 1:
            c = found[0]
            return Located(c.lat, c.lon, c.label, "commune")
    return None


@functools.cache
def default_gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded once per process (about a second)."""
    return Gazetteer.from_package()
