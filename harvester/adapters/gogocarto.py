"""GoGoCarto exports (``{"data": [...]}``) read as rows, and their ``openHours`` as LTC hours.

GoGoCarto is the map software many French transition networks use; its JSON export
is not RDF, so this module only reads it: one row per entry, each mapped field
looked up by a dotted path (``address.postalCode``). The mapping itself is applied
by ``harvester.adapters``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from harvester.errors import FeedError
from harvester.jsonld import load_json

if TYPE_CHECKING:
    from harvester.adapters import Mapping, Row

MAX_JSON_DEPTH = 64

# GoGoCarto day codes, plus French and English names for hand-written exports.
DAYS: dict[str, str] = {
    "mo": "lundi",
    "tu": "mardi",
    "we": "mercredi",
    "th": "jeudi",
    "fr": "vendredi",
    "sa": "samedi",
    "su": "dimanche",
}
_DAY_NAMES: dict[str, str] = {
    **DAYS,
    **{name: name for name in DAYS.values()},
    "monday": "lundi",
    "tuesday": "mardi",
    "wednesday": "mercredi",
    "thursday": "jeudi",
    "friday": "vendredi",
    "saturday": "samedi",
    "sunday": "dimanche",
}
WEEK = list(DAYS.values())

_TIME = r"(\d{1,2})(?:\s*[:hH]\s*(\d{2})?(?::(\d{2}))?)?"
_RANGE = re.compile(rf"^\s*{_TIME}\s*(?:-|–|—|à)\s*{_TIME}\s*$")


def _time(hours: str, minutes: str | None, seconds: str | None) -> str | None:
    h, m, s = int(hours), int(minutes or 0), int(seconds or 0)
    if h > 23 or m > 59 or s > 59:
        return None
    return f"{h:02d}:{m:02d}:{s:02d}"


def parse_range(text: str) -> tuple[str, str] | None:
    """``"09:00-12:00"`` (or ``9h-12h30``) → ``("09:00:00", "12:30:00")``; None if malformed."""
    found = _RANGE.match(text)
    if not found:
        return None
    opens = _time(*found.group(1, 2, 3))
    closes = _time(*found.group(4, 5, 6))
    if opens is None or closes is None:
        return None
    return opens, closes


def day_name(key: str) -> str | None:
    """A day key (``Mo``, ``lundi``, ``Monday``…) → the LTC day short name, or None."""
    return _DAY_NAMES.get(key.strip().lower())


def hours_entries(ranges: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """(day, opens, closes) triples → ``horaires`` entries, days sharing a range grouped."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for day, opens, closes in ranges:
        days = grouped.setdefault((opens, closes), [])
        if day not in days:
            days.append(day)
    entries = []
    for (opens, closes), days in grouped.items():
        days.sort(key=WEEK.index)
        entries.append({"type": "Horaires", "jours": days, "ouverture": opens, "fermeture": closes})
    entries.sort(key=lambda e: (WEEK.index(e["jours"][0]), e["ouverture"], e["fermeture"]))
    return entries


def open_hours(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """GoGoCarto ``openHours`` (``{"Mo": "09:00-12:00,14:00-18:00"}``) → LTC ``horaires``.

    Returns the entries and the pieces left out because they could not be read
    (unknown day, malformed range): a messy value never stops the conversion.
    """
    if value is None or value == "" or value == {} or value == []:
        return [], []
    if not isinstance(value, dict):
        return [], [json.dumps(value, ensure_ascii=False)[:80]]
    ranges: list[tuple[str, str, str]] = []
    problems: list[str] = []
    for key, spec in value.items():
        day = day_name(str(key))
        if day is None:
            problems.append(f"{key}: {json.dumps(spec, ensure_ascii=False)[:60]}")
            continue
        if spec is None:
            continue
        if isinstance(spec, str):
            pieces = [p for p in re.split(r"[,;/]", spec) if p.strip()]
        elif isinstance(spec, list) and all(isinstance(p, str) for p in spec):
            pieces = [p for p in spec if p.strip()]
        else:
            problems.append(f"{key}: {json.dumps(spec, ensure_ascii=False)[:60]}")
            continue
        for piece in pieces:
            found = parse_range(piece)
            if found is None:
                problems.append(f"{key}: {piece.strip()[:60]}")
            else:
                ranges.append((day, *found))
    return hours_entries(ranges), problems


def _at(entry: dict[str, Any], path: str) -> Any:
    value: Any = entry
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def read(data: bytes, mapping: Mapping) -> list[Row]:
    """The entries of a GoGoCarto export, or a FeedError saying why it is not one."""
    from harvester.adapters import Row, check_rows, decode

    document = load_json(decode(data, "JSON").encode("utf-8"), MAX_JSON_DEPTH)
    if isinstance(document, dict) and ("@context" in document or "@graph" in document):
        raise FeedError(
            "c'est déjà du JSON-LD, pas un export GoGoCarto : validez-le directement",
            "this is already JSON-LD, not a GoGoCarto export: validate it directly",
        )
    entries = document.get("data") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise FeedError(
            "JSON lisible mais pas un export GoGoCarto : on attend un objet avec une liste "
            "« data » d'entrées",
            "readable JSON but not a GoGoCarto export: expected an object with a 'data' list "
            "of entries",
        )
    if not entries:
        raise FeedError("export GoGoCarto sans aucune entrée", "GoGoCarto export without entries")
    check_rows(len(entries), mapping)
    id_fields = mapping.template_fields("lieu")
    if not any(
        isinstance(e, dict) and all(_at(e, f) not in (None, "") for f in id_fields) for e in entries
    ):
        names = ", ".join(f"« {f} »" for f in id_fields)
        names_en = ", ".join(f"'{f}'" for f in id_fields)
        raise FeedError(
            f"pas un export GoGoCarto attendu : aucune entrée n'a le champ {names} "
            "des identifiants de lieu",
            f"not the expected GoGoCarto export: no entry has the field {names_en} "
            "used by place identifiers",
        )
    rows = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            rows.append(Row(number, f"entrée {number}", f"entry {number}", None))
            continue
        values = {name: _at(entry, name) for name in mapping.source_fields()}
        rows.append(Row(number, f"entrée {number}", f"entry {number}", values))
    return rows
