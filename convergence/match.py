"""Finding places that are the same: links networks declare, and links the registry infers.

Inference compares only pairs that share a *block* — comparing all pairs of 100 000
places (5·10⁹ pairs) is out of reach, while true duplicates are always near each other
or share an address or a rare name word in the same postcode:

- the grid cell of ~100 m holding the place and its eight neighbours (every pair less
  than 100 m apart, most pairs up to ~280 m);
- the same house number, street and postcode (pins moved further than that);
- the same postcode and name word, for blocks of a few places only (a common word
  such as « jardin » makes a big block that says nothing).

Each pair is scored by adding log-odds weights for name similarity, distance, address
and postcode agreement (the Fellegi–Sunter idea) and turning the sum into a score
between 0 and 1.
"""

from __future__ import annotations

import gc
import hashlib
import math
import multiprocessing
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from convergence.model import Link, PlaceFacts
from convergence.normalise import name_tokens, postcode_key, street_key, street_name_words

# A pair at or above ACCEPT_SCORE is linked without asking anyone: on the quality
# benchmark (benchmarks/convergence_quality.py) it keeps precision above 0.95.
ACCEPT_SCORE = 0.9
# Between REVIEW_SCORE and ACCEPT_SCORE a pair is plausible but unsure: it is not
# linked, and `ltc convergence review` asks the collective about it.
REVIEW_SCORE = 0.5
# Grid cell side: the distance under which two pins of one place usually fall
# (geocoders and hand-placed pins disagree by tens of metres).
CELL_METRES = 100.0
# A postcode + name-word block bigger than this is a common word, not evidence.
MAX_WORD_BLOCK = 25
# Prior log-odds that two places sharing a block are the same: most are not.
PRIOR = -3.0
# Name similarity → log-odds weight (piecewise linear between the points).
NAME_WEIGHTS = ((0.0, -6.0), (0.4, -4.0), (0.6, -1.0), (0.75, 1.5), (0.9, 3.0), (1.0, 4.0))
# Distance in metres → weight: same pin within ~25 m, shops of one street 80–200 m.
DISTANCE_WEIGHTS = (
    (0.0, 3.0),
    (25.0, 3.0),
    (60.0, 1.0),
    (100.0, -1.0),
    (200.0, -3.0),
    (300.0, -5.0),
)
FAR_WEIGHT = -6.0
SAME_ADDRESS = 5.0  # same number and street: strong even when pins are 250 m apart
SAME_STREET_NO_NUMBER = 1.5  # a lieu-dit, a street without numbers
OTHER_NUMBER = -5.0  # same street, other number: two shops of one street
OTHER_STREET = -1.5  # weak: networks write streets very differently
SAME_POSTCODE = 0.5
OTHER_POSTCODE = -3.0

# An external id (OSM node, Wikidata item, web page) that more records than this point
# at is not one place's id — typically a commune's Wikidata item or a network's site.
MAX_SHARED_ID = 6

EARTH_METRES_PER_DEGREE = 111_320.0

_OSM = re.compile(r"^https?://(?:www\.)?openstreetmap\.org/(node|way|relation)/(\d+)/?$")
_WIKIDATA = re.compile(r"^https?://(?:www\.)?wikidata\.org/(?:entity|wiki)/(Q\d+)/?$")


def external_key(iri: str) -> str:
    """A comparable form of a sameAs target: ``osm:node/123``, ``wikidata:Q42`` or the IRI
    itself (http and https, trailing slash alike)."""
    match = _OSM.match(iri)
    if match:
        return f"osm:{match.group(1)}/{match.group(2)}"
    match = _WIKIDATA.match(iri)
    if match:
        return f"wikidata:{match.group(1)}"
    return re.sub(r"^http://", "https://", iri).rstrip("/")


def declared_links(places: Iterable[PlaceFacts]) -> list[Link]:
    """Links networks state: sameAs from one place to another known place, and places
    sharing an OpenStreetMap, Wikidata or other sameAs target."""
    by_iri = {p.iri: p for p in places}
    links: dict[tuple[str, str], Link] = {}
    sharing: dict[str, list[str]] = defaultdict(list)
    for place in by_iri.values():
        for target in sorted(place.same_as):
            if target in by_iri and target != place.iri:
                networks = " ".join(sorted(place.networks)) or place.graph
                _add(
                    links,
                    Link(place.iri, target, 1.0, (f"sameAs déclaré par {networks}",), "declared"),
                )
            else:
                sharing[external_key(target)].append(place.iri)
    for key, iris in sorted(sharing.items()):
        members = sorted(set(iris))
        if len(members) > MAX_SHARED_ID:
            continue
        for other in members[1:]:
            _add(links, Link(members[0], other, 1.0, (f"identifiant commun {key}",), "declared"))
    return sorted(links.values(), key=lambda link: link.pair)


def _add(links: dict[tuple[str, str], Link], link: Link) -> None:
    known = links.get(link.pair)
    if known is None:
        links[link.pair] = link
    else:
        evidence = tuple(sorted(set(known.evidence) | set(link.evidence)))
        links[link.pair] = Link(link.a, link.b, 1.0, evidence, "declared")


@dataclass(frozen=True)
class Prepared:
    """A place reduced to what scoring compares, computed once per place."""

    iri: str
    tokens: tuple[str, ...]
    trigrams: frozenset[str]
    number: str
    street: str
    street_words: frozenset[str]
    postcode: str
    x: float | None
    y: float | None
    lat: float | None
    lon: float | None


def prepare(place: PlaceFacts) -> Prepared:
    """Normalise a place's name and address and project its coordinates to metres."""
    tokens = name_tokens(place.name, place.locality)
    number, street = street_key(place.street)
    x = y = None
    if place.has_coordinates:
        y = place.lat * EARTH_METRES_PER_DEGREE
        x = place.lon * EARTH_METRES_PER_DEGREE * math.cos(math.radians(place.lat))
    return Prepared(
        iri=place.iri,
        tokens=tokens,
        trigrams=trigrams(" ".join(sorted(tokens))),
        number=number,
        street=street,
        street_words=street_name_words(street),
        postcode=postcode_key(place.postcode),
        x=x,
        y=y,
        lat=place.lat,
        lon=place.lon,
    )


PreparedKey = tuple[str, str, str, str, str, float | None, float | None]


def prepared_key(place: PlaceFacts) -> PreparedKey:
    """What ``prepare`` reads of a place: equal keys, equal ``Prepared``."""
    return (place.iri, place.name, place.locality, place.street, place.postcode,
            place.lat, place.lon)  # fmt: skip


def trigrams(text: str) -> frozenset[str]:
    padded = f"  {text} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def distance_metres(a: Prepared, b: Prepared) -> float | None:
    """Equirectangular distance: exact to a few centimetres at these ranges."""
    if a.lat is None or b.lat is None or a.lon is None or b.lon is None:
        return None
    mean = math.radians((a.lat + b.lat) / 2)
    dx = (a.lon - b.lon) * math.cos(mean)
    dy = a.lat - b.lat
    return math.hypot(dx, dy) * EARTH_METRES_PER_DEGREE


@lru_cache(maxsize=200_000)
def _close_words(u: str, v: str) -> bool:
    """Equal, or one typo apart (two for long words). Cached: name words repeat a lot."""
    if u == v:
        return True
    shorter = min(len(u), len(v))
    if shorter < 4 or abs(len(u) - len(v)) > 2:
        return False
    if _one_edit(u, v):
        return True
    return shorter >= 8 and _bounded_edits(u, v, 2)


def _one_edit(u: str, v: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours turns u into v."""
    if len(u) > len(v):
        u, v = v, u
    start = 0
    while start < len(u) and u[start] == v[start]:
        start += 1
    if len(u) == len(v):
        if u[start + 1 :] == v[start + 1 :]:
            return True
        return (
            u[start : start + 2] == v[start : start + 2][::-1] and u[start + 2 :] == v[start + 2 :]
        )
    return len(v) - len(u) == 1 and u[start:] == v[start + 1 :]


def _bounded_edits(u: str, v: str, limit: int) -> bool:
    """Levenshtein distance of u and v is at most ``limit`` (early exit)."""
    previous = list(range(len(v) + 1))
    for i, cu in enumerate(u, 1):
        current = [i] + [0] * len(v)
        for j, cv in enumerate(v, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (cu != cv))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


def name_similarity(a: Prepared, b: Prepared) -> float:
    """0–1: the better of word overlap (typos forgiven; containment counts twice as much
    as Jaccard, since one network often adds a word such as « Cantine » or « Maison »
    that the other leaves out) and character trigram overlap (word order and spacing
    forgiven)."""
    if not a.tokens or not b.tokens:
        return 0.0
    if a.tokens == b.tokens:
        return 1.0
    exact = set(a.tokens) & set(b.tokens)
    matched = len(exact)
    remaining = [w for w in b.tokens if w not in exact]
    for word in a.tokens:
        if word in exact:
            continue
        for k, other in enumerate(remaining):
            if _close_words(word, other):
                matched += 1
                del remaining[k]
                break
    jaccard = matched / (len(a.tokens) + len(b.tokens) - matched)
    containment = matched / min(len(a.tokens), len(b.tokens))
    common = len(a.trigrams & b.trigrams)
    dice = 2 * common / (len(a.trigrams) + len(b.trigrams))
    return max(dice, (jaccard + 2 * containment) / 3)


def _interpolate(points: tuple[tuple[float, float], ...], value: float) -> float:
    if value <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in pairwise(points):
        if value <= x1:
            return y0 + (y1 - y0) * (value - x0) / (x1 - x0)
    return points[-1][1]


def _place_weight(a: Prepared, b: Prepared) -> tuple[float, float | None, str, str]:
    """Log-odds from where the two places are, with the distance and what the address
    and postcode comparisons found (short codes, see ``_EVIDENCE``). No text is built
    here: most pairs stop at this step."""
    total = 0.0
    distance = distance_metres(a, b)
    if distance is not None:
        total += (
            FAR_WEIGHT
            if distance > DISTANCE_WEIGHTS[-1][0]
            else _interpolate(DISTANCE_WEIGHTS, distance)
        )
    address = ""
    if a.street and b.street:
        same_street = a.street == b.street or (
            bool(a.street_words)
            and len(a.street_words & b.street_words) / len(a.street_words | b.street_words) >= 0.75
        )
        if same_street and a.number and b.number:
            if a.number == b.number:
                total += SAME_ADDRESS
                address = "same"
            else:
                total += OTHER_NUMBER
                address = "number"
        elif same_street and not a.number and not b.number:
            total += SAME_STREET_NO_NUMBER
            address = "street"
        elif not same_street:
            total += OTHER_STREET
            address = "other"
    postcode = ""
    if a.postcode and b.postcode:
        if a.postcode == b.postcode:
            total += SAME_POSTCODE
            postcode = "same"
        else:
            total += OTHER_POSTCODE
            postcode = "other"
    return total, distance, address, postcode


_EVIDENCE = {
    "same": "adresse identique",
    "street": "même voie (sans numéro)",
    "other": "adresse différente",
}


def _evidence(
    a: Prepared, b: Prepared, similarity: float, distance: float | None, address: str, postcode: str
) -> tuple[str, ...]:
    out = [f"nom {similarity:.2f}"]
    if distance is not None:
        out.append(f"distance {distance:.0f} m")
    if address == "number":
        out.append(f"même rue, autre numéro ({a.number} / {b.number})")
    elif address:
        out.append(_EVIDENCE[address])
    if postcode:
        out.append("même code postal" if postcode == "same" else "code postal différent")
    return tuple(out)


def _logistic(total: float) -> float:
    return 1.0 / (1.0 + math.exp(-total))


# Log-odds under which a pair cannot reach the review threshold even with identical
# names: such pairs (most of a block) skip the name comparison.
_BEST_NAME = NAME_WEIGHTS[-1][1]


def score_pair(
    a: Prepared, b: Prepared, minimum: float = 0.0
) -> tuple[float, tuple[str, ...]] | None:
    """The probability-like score that a and b are one place and the evidence for it
    (French, for the people who review links); None when it is below ``minimum``
    (decided without comparing names when even identical names could not reach it)."""
    place, distance, address, postcode = _place_weight(a, b)
    if minimum > 0 and PRIOR + _BEST_NAME + place < _logit(minimum):
        return None
    similarity = name_similarity(a, b)
    score = _logistic(PRIOR + _interpolate(NAME_WEIGHTS, similarity) + place)
    if score < minimum:
        return None
    return score, _evidence(a, b, similarity, distance, address, postcode)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def candidate_pairs(prepared: list[Prepared]) -> Iterator[tuple[int, int]]:
    """Index pairs (i < j) sharing a block, each once."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    cell_of: list[tuple[int, int] | None] = []
    addresses: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    words: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, p in enumerate(prepared):
        cell = None
        if p.x is not None and p.y is not None:
            cell = (int(p.x // CELL_METRES), int(p.y // CELL_METRES))
            cells[cell].append(i)
        cell_of.append(cell)
        if p.number and p.street and p.postcode:
            addresses[(p.postcode, p.number, p.street)].append(i)
        if p.postcode:
            for token in p.tokens:
                words[(p.postcode, token)].append(i)
    # Grid pairs come out once by construction: a cell with itself, then with the four
    # neighbours "after" it.
    for (cx, cy), members in cells.items():
        for k, i in enumerate(members):
            for j in members[k + 1 :]:
                yield (i, j) if i < j else (j, i)
        for dx, dy in ((1, -1), (1, 0), (1, 1), (0, 1)):
            other = cells.get((cx + dx, cy + dy))
            if other:
                for i in members:
                    for j in other:
                        yield (i, j) if i < j else (j, i)
    # Other blocks skip the pairs of adjacent cells (already given) and repeats.
    seen: set[tuple[int, int]] = set()
    blocks = [m for m in addresses.values() if len(m) > 1]
    blocks += [m for m in words.values() if 1 < len(m) <= MAX_WORD_BLOCK]
    for members in blocks:
        for k, i in enumerate(members):
            for j in members[k + 1 :]:
                a, b = cell_of[i], cell_of[j]
                if a is not None and b is not None and abs(a[0] - b[0]) <= 1 >= abs(a[1] - b[1]):
                    continue
                pair = (i, j) if i < j else (j, i)
                if pair not in seen:
                    seen.add(pair)
                    yield pair


# Bump when scoring changes: the scores kept by ``ScoreCache`` are then void.
SCORING_VERSION = "1"


class ScoreCache:
    """Scores of pairs already compared, by the content of both places: a harvest that
    changed a few places rescores only the pairs involving them. ``scores`` maps a
    pair's key to its score and evidence, or None (below the minimum)."""

    def __init__(self, scores: dict[bytes, tuple[float, tuple[str, ...]] | None] | None = None):
        self.scores = scores or {}
        self.used: dict[bytes, tuple[float, tuple[str, ...]] | None] = {}
        self.hits = 0

    @staticmethod
    def place_key(place: PlaceFacts, minimum: float) -> bytes:
        """What a place's scores depend on (the fields ``prepare`` reads), hashed."""
        text = "\x1f".join(
            map(
                str,
                (SCORING_VERSION, minimum, place.iri, place.name, place.locality,
                 place.street, place.postcode, place.lat, place.lon),
            )
        )  # fmt: skip
        return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


# Below this many pairs to score, a second process costs more than it saves.
PARALLEL_MIN_PAIRS = 50_000

Scored = tuple[float, tuple[str, ...]] | None

# What a forked scoring process reads: set just before forking, so that it inherits
# the prepared places instead of receiving them through a pipe.
_forked: tuple[list[Prepared], list[tuple[int, int]], float] | None = None


def _score_share(bounds: tuple[int, int]) -> list[Scored]:
    assert _forked is not None
    prepared, pairs, minimum = _forked
    return [score_pair(prepared[i], prepared[j], minimum) for i, j in pairs[bounds[0] : bounds[1]]]


def _score_all(
    prepared: list[Prepared], pairs: list[tuple[int, int]], minimum: float, processes: int
) -> list[Scored]:
    """``score_pair`` of every pair, in this process and ``processes - 1`` forked ones
    (each scores an equal share; fork: they read the places this process prepared)."""
    global _forked
    processes = max(1, min(processes, len(pairs) // PARALLEL_MIN_PAIRS))
    if processes == 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [score_pair(prepared[i], prepared[j], minimum) for i, j in pairs]
    share = -(-len(pairs) // processes)
    bounds = [(k * share, min(len(pairs), (k + 1) * share)) for k in range(processes)]
    _forked = (prepared, pairs, minimum)
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(processes - 1) as pool:
            others = pool.map_async(_score_share, bounds[1:])
            mine = _score_share(bounds[0])
            return mine + [scored for part in others.get() for scored in part]
    finally:
        _forked = None


def inferred_links(
    places: Iterable[PlaceFacts],
    minimum: float = REVIEW_SCORE,
    cache: ScoreCache | None = None,
    processes: int = 1,
    known_places: Mapping[PreparedKey, Prepared] | None = None,
) -> list[Link]:
    """Scored links for every blocked pair scoring at least ``minimum``, sorted by pair.
    With a ``cache``, known pairs are not scored again and ``cache.used`` ends up
    holding this run's pairs (what to keep for the next run). ``processes``: how many
    processes may score the pairs not in the cache (when there are many);
    ``known_places``: places prepared ahead (by ``prepared_key``)."""
    ordered = sorted(places, key=lambda p: p.iri)
    # Hundreds of thousands of small objects and no reference cycles: the cyclic garbage
    # collector would rescan them all again and again (measured: prepare 3x slower).
    collecting = gc.isenabled()
    gc.disable()
    try:
        ahead = known_places or {}
        prepared = [ahead.get(prepared_key(p)) or prepare(p) for p in ordered]
        keys = [ScoreCache.place_key(p, minimum) for p in ordered] if cache else []
        pairs = list(candidate_pairs(prepared))
        known = cache.scores if cache is not None else {}
        unknown = [(i, j) for i, j in pairs if keys[i] + keys[j] not in known] if cache else pairs
        fresh = dict(zip(unknown, _score_all(prepared, unknown, minimum, processes), strict=True))
        links = []
        for i, j in pairs:
            if cache is None:
                scored = fresh[(i, j)]
            else:
                key = keys[i] + keys[j]
                if key in known:
                    cache.hits += 1
                    scored = known[key]
                else:
                    scored = fresh[(i, j)]
                cache.used[key] = scored
            if scored is not None:
                score, evidence = scored
                links.append(
                    Link(ordered[i].iri, ordered[j].iri, round(score, 4), evidence, "inferred")
                )
    finally:
        if collecting:
            gc.enable()
    return sorted(links, key=lambda link: link.pair)
