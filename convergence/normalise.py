"""Names and addresses reduced to what tells places apart.

Networks write the same place as « Tiers-lieu La Filature », « La Filature (Roubaix) »
or « LA FILATURE » and the same street as « 23, r. du Marché-aux-Herbes ». Matching
compares the words that remain once accents, case, punctuation, articles, generic words
and the commune's own name are gone, and abbreviations are spelt out.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def _word_set(text: str) -> frozenset[str]:
    """Words of a space-separated list (a list literal would take a line per word)."""
    return frozenset(text.split())


# Articles and linking words: they never distinguish two places.
ARTICLES = _word_set("le la les l de du des d un une et a au aux en sur sous pour par chez")

# Words describing the kind of organisation or place rather than naming it. Only words
# that many unrelated places share are here: « moulin », « ferme », « atelier », « salle »
# stay, because « Salle des fêtes » and « Salle Condorcet » must not look alike.
GENERIC_WORDS = _word_set(
    "tierslieu amap association associations asso boutique epicerie cooperative "
    "coop scic scop sarl sas gaec earl ei collectif reseau local espace"
)

# Spelt-out forms of the abbreviations found in names and streets (after lower-casing
# and accent removal; dots are gone by then).
ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "sts": "saints",
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "boul": "boulevard",
    "r": "rue",
    "pl": "place",
    "pce": "place",
    "ch": "chemin",
    "che": "chemin",
    "chem": "chemin",
    "imp": "impasse",
    "all": "allee",
    "rte": "route",
    "fg": "faubourg",
    "fbg": "faubourg",
    "qu": "quai",
    "sq": "square",
    "crs": "cours",
    "mal": "marechal",
    "gal": "general",
    "gen": "general",
    "pdt": "president",
    "dr": "docteur",
    "pr": "professeur",
    "mpt": "maison pour tous",
    "mjc": "maison des jeunes et de la culture",
}

# « bis », « ter » after a house number belong to the number.
_NUMBER = re.compile(r"^(\d+)\s*(bis|ter|quater|[a-d])?\b\s*,?\s*")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_STREET_TYPES = _word_set(
    "rue avenue boulevard place chemin impasse allee route faubourg quai square "
    "cours passage lieu dit lieudit"
)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Latin letters with accents (U+00C0–U+017F) → plain letters, in one C-level translate;
# the character-by-character path is only for rarer letters.
_LATIN = {
    code: _strip_marks(chr(code)).casefold()
    for code in range(0xC0, 0x180)
    if _strip_marks(chr(code)).isascii()
}
_LATIN.update({ord("œ"): "oe", ord("Œ"): "oe", ord("æ"): "ae", ord("Æ"): "ae"})


def fold(text: str) -> str:
    """Lower case, without accents, ligatures spelt out (œ → oe)."""
    if text.isascii():
        return text.lower()
    folded = text.translate(_LATIN).casefold()
    if folded.isascii():
        return folded
    return _strip_marks(folded)


def words(text: str) -> list[str]:
    """The folded words of ``text``, abbreviations spelt out; hyphens split words."""
    out: list[str] = []
    for word in _NON_WORD.split(fold(text)):
        if word:
            out.extend(ABBREVIATIONS.get(word, word).split())
    return out


@lru_cache(maxsize=4096)
def _locality_words(locality: str) -> frozenset[str]:
    return frozenset(words(locality)) - ARTICLES


def name_tokens(name: str, locality: str = "") -> tuple[str, ...]:
    """The words of a place name that identify it, in order, without repeats.

    Articles, generic words and the words of the commune's name are dropped — unless
    nothing would remain (« Salle des fêtes de Bléré » keeps « salle fetes »; a place
    called just « Association » keeps « association »)."""
    raw = words(_joined_generic(name))
    drop = ARTICLES | GENERIC_WORDS | _locality_words(locality)
    kept = [w for w in raw if w not in drop]
    if not kept:
        kept = [w for w in raw if w not in ARTICLES] or raw
    return tuple(dict.fromkeys(kept))


_TIERS_LIEU = re.compile(r"(?i)tiers[\s-]+lieux?")


def _joined_generic(name: str) -> str:
    # "Tiers-lieu" is one generic word, but the hyphen would split it in two.
    return _TIERS_LIEU.sub("tierslieu", name)


def street_key(street: str) -> tuple[str, str]:
    """(house number, street words) of a street address: « 23, r. du Marché-aux-Herbes »
    → ("23", "rue marche herbes"). Either part may be empty."""
    folded = fold(street).strip()
    number = ""
    match = _NUMBER.match(folded)
    if match:
        number = match.group(1) + (match.group(2) or "")
        folded = folded[match.end() :]
    kept = [w for w in words(folded) if w not in ARTICLES]
    return number, " ".join(kept)


def street_name_words(street_words: str) -> frozenset[str]:
    """The words naming the street, its type (rue, avenue…) left out."""
    return frozenset(w for w in street_words.split() if w not in _STREET_TYPES)


def postcode_key(postcode: str) -> str:
    """Digits of a postcode (« 37 000 » → "37000")."""
    return re.sub(r"\D", "", postcode)
