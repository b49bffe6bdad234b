"""Cells of a spreadsheet as French volunteers fill them, turned into LTC values.

Each function returns the value to write and, when it had to change or could not read
what was written, a short explanation for the report. Nothing is guessed beyond what is
documented here; a value that cannot be read is kept as written, so that validation
names it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core.text import fold
from harvester.adapters.vocabulary import key as folded

_SPACES = re.compile(r"[\s\u00a0\u202f.]+")
_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11,
    "nov": 11, "decembre": 12, "dec": 12,
}  # fmt: skip
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})"
    r"(?:\s+(?:à\s+)?(\d{1,2})\s*[:h]\s*(\d{2})?)?$"
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(.*))?$")
_WORDS_DATE = re.compile(r"^(?:\w+\s+)?(\d{1,2})(?:er)?\s+([^\W\d_]+)\.?\s+(\d{4})$")
_TRUE = {"oui", "o", "yes", "y", "vrai", "true", "1", "x", "accessible"}
_FALSE = {"non", "n", "no", "faux", "false", "0", "inaccessible"}
_OSM = re.compile(
    r"^(?:https?://(?:www\.)?openstreetmap\.org/)?(node|way|relation|[nwr])\s*[/ ]?\s*(\d+)\s*$",
    re.IGNORECASE,
)
_OSM_KINDS = {"n": "node", "w": "way", "r": "relation"}
_WIKIDATA = re.compile(
    r"^(?:https?://(?:www\.)?wikidata\.org/(?:wiki|entity)/)?(Q\d+)\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class Fixed:
    """What a cell became, and what to tell about it (None: nothing to tell)."""

    value: object
    fr: str | None = None
    en: str | None = None
    severity: str = "Warning"


def postcode(text: str) -> Fixed:
    """« 37 000 » → ``37000``; ``1000`` (a number in the spreadsheet: its leading zero is
    lost) → ``01000``, with a warning."""
    bare = _SPACES.sub("", text)
    if re.fullmatch(r"\d{4}", bare):
        fixed = "0" + bare
        return Fixed(
            fixed,
            f"le tableur a perdu le zéro initial : {bare} lu comme {fixed} ; mettez la "
            "colonne au format Texte pour le garder",
            f"the spreadsheet lost the leading zero: {bare} read as {fixed}; format the "
            "column as Text to keep it",
        )
    return Fixed(bare if re.fullmatch(r"\d{5}", bare) else text)


def insee_code(text: str) -> Fixed:
    """An INSEE code: spaces dropped, a lost leading zero put back, Corsica's 2A/2B."""
    bare = _SPACES.sub("", text).upper()
    if re.fullmatch(r"\d{4}", bare):
        fixed = "0" + bare
        return Fixed(
            fixed,
            f"le tableur a perdu le zéro initial : {bare} lu comme {fixed}",
            f"the spreadsheet lost the leading zero: {bare} read as {fixed}",
        )
    return Fixed(bare)


def telephone(text: str) -> Fixed:
    """A French or international number → ``+33…`` (phonenumbers); several numbers: the
    first, with a note; unreadable: kept as written."""
    import phonenumbers

    found = [m.number for m in phonenumbers.PhoneNumberMatcher(text, "FR")]
    if not found:
        try:
            number = phonenumbers.parse(text, "FR")
        except phonenumbers.NumberParseException:
            return Fixed(text)
        if not phonenumbers.is_possible_number(number):
            return Fixed(text)
        found = [number]
    first = phonenumbers.format_number(found[0], phonenumbers.PhoneNumberFormat.E164)
    if len(found) > 1:
        return Fixed(
            first,
            f"plusieurs numéros : seul le premier ({first}) est gardé",
            f"several numbers: only the first ({first}) is kept",
            "Info",
        )
    return Fixed(first)


def email(text: str) -> Fixed:
    bare = text.strip()
    if bare.lower().startswith("mailto:"):
        bare = bare[7:]
    return Fixed(bare.strip())


def web_address(text: str) -> Fixed:
    """``www.exemple.org`` → ``https://www.exemple.org`` (a web address without its
    beginning); anything else as written."""
    bare = text.strip()
    if re.match(r"^www\.[^\s/]+\.[a-z]{2,}", bare, re.IGNORECASE):
        return Fixed("https://" + bare)
    return Fixed(bare)


def boolean(text: str) -> Fixed:
    word = folded(text)
    if word in _TRUE:
        return Fixed(True)
    if word in _FALSE:
        return Fixed(False)
    return Fixed(
        None,
        f"« {text} » n'est ni oui ni non : laissé vide",
        f"'{text}' is neither yes nor no: left empty",
    )


def date(text: str) -> Fixed:
    """A date as French people write it (``28/12/2025``, ``28/12/25``, ``28.12.2025``,
    « 28 décembre 2025 », ``2025-12-28``, with a time or not) → ``2025-12-28`` or
    ``2025-12-28T10:30:00``; anything else as written (validation then says so)."""
    bare = text.strip()
    if found := _ISO_DATE.match(bare):
        year, month, day, hour, minute, second, rest = found.groups()
        if hour is None:
            return Fixed(f"{year}-{month}-{day}")
        return Fixed(f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}{rest.strip()}")
    if found := _NUMERIC_DATE.match(bare):
        day, month, year, hour, minute = found.groups()
        year = int(year) + (2000 if len(year) == 2 else 0)
        if not _real(year, int(month), int(day)):
            return Fixed(bare)
        value = f"{year:04d}-{int(month):02d}-{int(day):02d}"
        if hour is not None:
            value += f"T{int(hour):02d}:{int(minute or 0):02d}:00"
        return Fixed(value)
    if found := _WORDS_DATE.match(bare):
        day, month_name, year = found.groups()
        month = _MONTHS.get(fold(month_name))
        if month and _real(int(year), month, int(day)):
            return Fixed(f"{int(year):04d}-{month:02d}-{int(day):02d}")
    return Fixed(bare)


def _real(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def openstreetmap(text: str) -> Fixed:
    """An OpenStreetMap object: its web address, or ``node/123``, ``n123``, ``way 42``."""
    found = _OSM.match(text.strip())
    if found:
        kind = found.group(1).lower()
        kind = _OSM_KINDS.get(kind, kind)
        return Fixed(f"https://www.openstreetmap.org/{kind}/{found.group(2)}")
    if text.strip().startswith(("http://", "https://")):
        return Fixed(text.strip())
    return Fixed(
        None,
        f"« {text} » n'est pas un objet OpenStreetMap (écrivez node/123456 ou son adresse "
        "web) : laissé vide",
        f"'{text}' is not an OpenStreetMap object (write node/123456 or its web address): "
        "left empty",
    )


def wikidata(text: str) -> Fixed:
    """A Wikidata item: ``Q42`` or its web address."""
    found = _WIKIDATA.match(text.strip())
    if found:
        return Fixed(f"https://www.wikidata.org/wiki/{found.group(1).upper()}")
    if text.strip().startswith(("http://", "https://")):
        return Fixed(text.strip())
    return Fixed(
        None,
        f"« {text} » n'est pas un élément Wikidata (écrivez Q123456) : laissé vide",
        f"'{text}' is not a Wikidata item (write Q123456): left empty",
    )


def digits(text: str) -> Fixed:
    """A SIRET: spaces and dots dropped."""
    return Fixed(_SPACES.sub("", text))


def split_list(text: str, separators: str = r"[,;/\n]") -> list[str]:
    """The values of a cell holding several (« alimentation, agriculture »)."""
    return [part.strip() for part in re.split(separators, text) if part.strip()]
