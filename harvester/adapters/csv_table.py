"""Spreadsheets read with a mapping: CSV (``;`` or ``,``…), XLSX or ODS, as rows.

Many networks keep their places in a spreadsheet; this module reads it
(``harvester.spreadsheet``: any of the three formats, the archive limits, the memory
budget), one row per data line, each mapped column by its header name. Opening hours in
a cell are read in French or in the OpenStreetMap form (``Mo-Fr 09:00-12:00,14:00-18:00;
Sa 10:00-12:00``; ``harvester.french_hours``). The mapping itself is applied by
``harvester.adapters``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harvester.budget import MemoryBudget
from harvester.errors import FeedError
from harvester.french_hours import parse_hours
from harvester.spreadsheet import (
    CSV,
    DELIMITERS,
    Table,
    TableLimits,
    decode_text,
    read_csv_text,
    read_table,
    sniff_delimiter,
    table_format,
)

if TYPE_CHECKING:
    from harvester.adapters import Mapping, Row

__all__ = ["DELIMITERS", "hours_text", "read", "read_any", "rows_of", "sniff_delimiter"]


def hours_text(value: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Hours in one cell → LTC ``horaires`` entries and the rules left out (their text).

    French (« du lundi au vendredi 9h-12h ») or OpenStreetMap (``Mo-Fr 09:00-12:00;
    Sa 10:00-12:00; Su off``); a rule not understood (public holidays ``PH``, months,
    ``24/7``) is left out and named."""
    parsed = parse_hours(value)
    return parsed.entries, [p.text[:60] for p in parsed.problems]


def read_any(data: bytes, mapping: Mapping, budget: MemoryBudget | None = None) -> Table:
    """The table of a CSV, XLSX or ODS export, within the mapping's row limit."""
    from harvester.adapters import decode

    limits = TableLimits(max_rows=mapping.max_rows)
    kind = table_format(data) or CSV
    if kind != CSV:
        return read_table(data, kind=kind, sheet=mapping.sheet, limits=limits, budget=budget)
    if mapping.encoding == "utf-8":
        text, used = decode(data, "CSV"), "utf-8"
    elif mapping.encoding == "auto":
        if not data.strip():
            raise FeedError("fichier CSV vide", "empty CSV file")
        text, used = decode_text(data)
    else:
        text, used = decode_text(data, mapping.encoding.replace("windows-", "cp"))
    return read_csv_text(text, used, mapping.delimiter, limits, budget)


def read(data: bytes, mapping: Mapping) -> list[Row]:
    """The data rows of a spreadsheet export, or a FeedError saying why it cannot be read."""
    return rows_of(read_any(data, mapping), mapping)


def rows_of(table: Table, mapping: Mapping) -> list[Row]:
    """The mapped columns of each data row of ``table``; a missing column is an error."""
    from harvester.adapters import Row

    columns = _columns(table, mapping)
    if not table.rows:
        raise FeedError(
            "fichier sans ligne de données (seulement l'en-tête)"
            if table.kind != CSV
            else "fichier CSV sans ligne de données (seulement l'en-tête)",
            "file without data rows (only the header)"
            if table.kind != CSV
            else "CSV file without data rows (only the header)",
        )
    return [
        Row(
            row.number,
            f"ligne {row.number}",
            f"line {row.number}",
            {name: row.get(index) for name, index in columns.items()},
        )
        for row in table.rows
    ]


def _columns(table: Table, mapping: Mapping) -> dict[str, int]:
    """Column name → index for every column the mapping uses; a missing one is an error."""
    header = table.header
    needed = mapping.source_fields()
    missing = [name for name in needed if name not in header]
    if missing:
        delimiter = table.delimiter or ""
        shown = "\\t" if delimiter == "\t" else delimiter
        found = " | ".join(h for h in header if h) or "—"
        hint_fr = hint_en = ""
        if (
            table.kind == CSV
            and len(header) == 1
            and any(d in header[0] for d in DELIMITERS if d != delimiter)
        ):
            hint_fr = " ; le séparateur est-il le bon ? (clé delimiter de la table [csv])"
            hint_en = "; is the delimiter right? (key delimiter of the [csv] table)"
        read_with_fr = f" avec le séparateur « {shown} »" if table.kind == CSV else ""
        read_with_en = f" with the delimiter '{shown}'" if table.kind == CSV else ""
        what = "du CSV" if table.kind == CSV else "de la feuille"
        raise FeedError(
            f"colonne(s) absente(s) {what} : {', '.join(missing)} "
            f"(colonnes lues{read_with_fr} : {found}){hint_fr}",
            f"column(s) missing from the {'CSV' if table.kind == CSV else 'sheet'}: "
            f"{', '.join(missing)} (columns read{read_with_en}: {found}){hint_en}",
        )
    doubled = sorted({name for name in needed if header.count(name) > 1})
    if doubled:
        raise FeedError(
            f"colonne(s) en double dans l'en-tête : {', '.join(doubled)}",
            f"duplicate column(s) in the header: {', '.join(doubled)}",
        )
    return {name: header.index(name) for name in needed}
