"""Spreadsheet CSV files (``;`` or ``,``, UTF-8 with or without BOM) read as rows.

Many networks keep their places in a spreadsheet; this module reads its CSV export,
one row per data line, each mapped column by its header name. Opening hours in a
cell are read in the common OpenStreetMap form (``Mo-Fr 09:00-12:00,14:00-18:00;
Sa 10:00-12:00``). The mapping itself is applied by ``harvester.adapters``.
"""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING, Any

from harvester.adapters.gogocarto import WEEK, day_name, hours_entries, parse_range
from harvester.errors import FeedError

if TYPE_CHECKING:
    from harvester.adapters import Mapping, Row

DELIMITERS = (";", ",", "\t", "|")

_DAY = r"[A-Za-zé]+"
_RULE = re.compile(
    rf"^\s*(?P<days>{_DAY}(?:\s*-\s*{_DAY})?(?:\s*,\s*{_DAY}(?:\s*-\s*{_DAY})?)*)"
    r"\s+(?P<times>.+?)\s*$"
)
_CLOSED = {"off", "closed", "fermé", "ferme"}


def sniff_delimiter(header: str) -> str:
    """The most frequent of ``; , tab |`` in the header line (``;`` on a tie)."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ";"


def hours_text(value: str) -> tuple[list[dict[str, Any]], list[str]]:
    """OpenStreetMap-style hours in one cell → LTC ``horaires`` entries and the pieces left out.

    Only the common subset is read: rules ``days times`` separated by ``;``, days as
    ``Mo``, ``Mo-Fr`` or ``Mo,We`` (or French names), times as ``09:00-12:00,14:00-18:00``
    or ``off``. Anything else (public holidays, months, ``24/7``) is left out.
    """
    ranges: list[tuple[str, str, str]] = []
    problems: list[str] = []
    for rule in (r.strip() for r in value.split(";")):
        if not rule:
            continue
        found = _RULE.match(rule)
        days = _days(found.group("days")) if found else None
        if not found or days is None:
            problems.append(rule[:60])
            continue
        times = found.group("times").strip()
        if times.lower() in _CLOSED:
            continue
        for piece in times.split(","):
            parsed = parse_range(piece)
            if parsed is None:
                problems.append(rule[:60])
                break
            ranges.extend((day, *parsed) for day in days)
    return hours_entries(ranges), problems


def _days(spec: str) -> list[str] | None:
    days: list[str] = []
    for part in spec.split(","):
        ends = [day_name(p) for p in part.split("-")]
        if not ends or None in ends or len(ends) > 2:
            return None
        first, last = WEEK.index(ends[0]), WEEK.index(ends[-1])  # type: ignore[arg-type]
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        days.extend(WEEK[i] for i in span)
    return days


def read(data: bytes, mapping: Mapping) -> list[Row]:
    """The data rows of a CSV file, or a FeedError saying why it cannot be read."""
    from harvester.adapters import Row, check_rows, decode

    text = decode(data, "CSV")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = mapping.delimiter or sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[Row] = []
    columns: dict[str, int] = {}
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank line, or a row of empty cells left by a spreadsheet
            if header is None:
                header = [c.strip().lstrip("\ufeff") for c in cells]
                columns = _columns(header, mapping, delimiter)
                continue
            check_rows(len(rows) + 1, mapping)
            values = {
                name: cells[index] if index < len(cells) else "" for name, index in columns.items()
            }
            number = len(rows) + 1
            line = reader.line_num
            rows.append(Row(number, f"ligne {line}", f"line {line}", values))
    except csv.Error as error:
        raise FeedError(
            f"CSV illisible : {error}",
            f"unreadable CSV: {error}",
            line=reader.line_num,
        ) from error
    if header is None:
        raise FeedError("fichier CSV vide", "empty CSV file")
    if not rows:
        raise FeedError(
            "fichier CSV sans ligne de données (seulement l'en-tête)",
            "CSV file without data rows (only the header)",
        )
    return rows


def _columns(header: list[str], mapping: Mapping, delimiter: str) -> dict[str, int]:
    """Column name → index for every column the mapping uses; a missing one is an error."""
    needed = mapping.source_fields()
    missing = [name for name in needed if name not in header]
    if missing:
        shown = "\\t" if delimiter == "\t" else delimiter
        found = " | ".join(h for h in header if h) or "—"
        hint_fr = hint_en = ""
        if len(header) == 1 and any(d in header[0] for d in DELIMITERS if d != delimiter):
            hint_fr = " ; le séparateur est-il le bon ? (clé delimiter de la table [csv])"
            hint_en = "; is the delimiter right? (key delimiter of the [csv] table)"
        raise FeedError(
            f"colonne(s) absente(s) du CSV : {', '.join(missing)} "
            f"(colonnes lues avec le séparateur « {shown} » : {found}){hint_fr}",
            f"column(s) missing from the CSV: {', '.join(missing)} "
            f"(columns read with the delimiter '{shown}': {found}){hint_en}",
        )
    doubled = sorted({name for name in needed if header.count(name) > 1})
    if doubled:
        raise FeedError(
            f"colonne(s) en double dans l'en-tête : {', '.join(doubled)}",
            f"duplicate column(s) in the header: {', '.join(doubled)}",
        )
    return {name: header.index(name) for name in needed}
