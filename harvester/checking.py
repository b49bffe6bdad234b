"""The harvester's public checking interface: what ``ltc validate`` and ``/valider`` use.

A feed is checked exactly as a harvest would read it: fetched with the harvester's
protections (public addresses only, time, size and redirect limits), parsed in any
accepted syntax with the same limits, normalised, and validated record by record
against the registry's shapes. Nothing is stored. This module is the only part of the
harvester the web service may import.

A spreadsheet (CSV, XLSX or ODS) is checked the way the harvester reads it too: turned
into JSON-LD by the standard template (``harvester.adapters.standard``), or by a mapping
for other layouts, then validated; its report (``FeedCheck.table``) speaks of rows and
columns, and ``FeedCheck.converted`` is the JSON-LD it became. The template itself —
``schema.json`` and the ready-to-fill files — comes from here too (``template_file``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from core.config import Settings
from core.harvest_files import RecordFindings
from harvester import parse
from harvester.adapters import (
    STANDARD,
    Adapted,
    Mapping,
    adapt_with_notes,
    load_mapping,
    standard_mapping,
)
from harvester.adapters import standard as template
from harvester.adapters.template_files import TEMPLATE_FILES, template_file
from harvester.budget import MIB, MemoryBudget
from harvester.errors import FeedError
from harvester.feed import check_feed as _check_feed
from harvester.feed import source_id_for
from harvester.fetch import fetch, policy_from
from harvester.report import dumps_json, json_report, summary, text_report, turtle_report
from harvester.spreadsheet import CSV as CSV_TABLE
from harvester.spreadsheet import ODS, XLSX, table_format
from harvester.table_report import TableReport, table_report
from harvester.validate import DEFAULT_ENGINE, ENGINES, FeedValidation, record_findings

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "PLACEHOLDER_NAMESPACE",
    "TABLE_KINDS",
    "TEMPLATE_FILES",
    "FeedCheck",
    "FeedError",
    "TableReport",
    "check_feed",
    "dumps_json",
    "fetch_feed",
    "syntax_names",
    "template_file",
    "turtle",
]

ENGINE_NAMES = tuple(ENGINES)
TABLE_KINDS = (CSV_TABLE, XLSX, ODS)  # spreadsheet formats, beside the RDF syntaxes
PLACEHOLDER_NAMESPACE = template.PLACEHOLDER_NAMESPACE
CONVERTED_SHOWN = 4 * MIB  # the converted JSON-LD is offered for download up to this size


def syntax_names() -> list[str]:
    """What ``syntax`` may be: the RDF syntaxes, then the spreadsheet formats."""
    return [*parse.syntax_names(), *TABLE_KINDS]


@dataclass
class FeedCheck:
    """The outcome of checking one feed."""

    feed: str  # the file name or URL the feed came from
    validation: FeedValidation
    table: TableReport | None = None  # a spreadsheet's report, by row and column
    converted: str | None = None  # the JSON-LD a spreadsheet or export became
    adapted: Adapted | None = None

    @property
    def rejected(self) -> bool:
        """Some records (for a spreadsheet: some rows) would be rejected."""
        return bool(self.validation.rejected) or self.rows_rejected

    @property
    def counts(self) -> dict[str, int]:
        """records, accepted, rejected, warned, ignored_statements."""
        return summary(self.validation)

    @cached_property
    def records(self) -> list[RecordFindings]:
        """Every record with a finding, in record order."""
        return record_findings(self.validation)

    @property
    def rows_rejected(self) -> bool:
        """For a spreadsheet: some rows would not be published (a row without id, say)."""
        return bool(self.table and self.table.rejected_rows)

    def text(self, lang: str = "fr") -> str:
        if self.table is not None:
            return self.table.text(self.feed, lang)
        text = text_report(self.validation, self.feed, lang)
        if self.adapted is not None and self.adapted.notes:
            text += "\n" + "\n".join(f"  {note.message(lang)}" for note in self.adapted.notes)
        return text

    def json(self, lang: str = "fr") -> dict[str, Any]:
        report = json_report(self.validation, self.feed, lang)
        if self.table is not None:
            report["table"] = self.table.json(lang)
        elif self.adapted is not None:
            report["notes"] = [note.message(lang) for note in self.adapted.notes]
        return report


def fetch_feed(url: str, settings: Settings) -> tuple[bytes, str | None]:
    """A feed's bytes and Content-Type, fetched with the harvester's protections;
    FeedError says why it could not be."""
    result = fetch(url, policy_from(settings))
    return result.content, result.content_type


def check_feed(
    data: bytes,
    *,
    feed: str,
    settings: Settings,
    content_type: str | None = None,
    syntax: str | None = None,
    engine: str = DEFAULT_ENGINE,
    source: str | None = None,
    filename: str | None = None,
    mapping: bytes | str | None = None,
    namespace: str | None = None,
    network_name: str | None = None,
    sheet: str | None = None,
) -> FeedCheck:
    """Parse, normalise and validate one feed named ``feed``; FeedError when it cannot be
    read. ``source`` scopes the IRIs minted for blank nodes (default: from ``feed``);
    ``filename`` helps detect the syntax (default: ``feed``).

    A spreadsheet (``syntax`` ``csv``, ``xlsx`` or ``ods``, or detected from the name,
    the media type or the content) is read with the standard template, its IRIs minted
    under ``namespace`` (default: the placeholder ``PLACEHOLDER_NAMESPACE``), and
    ``sheet`` (default: the first); ``mapping`` (a TOML mapping, docs/adaptateurs.md)
    reads another layout, or a GoGoCarto export."""
    name = feed if filename is None else filename or None
    source = source or source_id_for(feed)
    if mapping is not None:
        return _check_adapted(
            data, feed, settings, load_mapping(mapping), engine, source, sheet, namespace
        )
    kind = syntax if syntax in TABLE_KINDS else None
    if syntax is None:
        kind = table_format(data, name, content_type)
    if kind is not None:
        options = standard_mapping(
            namespace or PLACEHOLDER_NAMESPACE,
            network_name=network_name or template.PLACEHOLDER_NETWORK_NAME,
            sheet=sheet,
        )
        return _check_adapted(data, feed, settings, options, engine, source, sheet, namespace)
    try:
        validation = _check_feed(
            data,
            source=source,
            settings=settings,
            filename=name,
            content_type=content_type,
            syntax=syntax,
            engine=engine,
        )
    except FeedError as error:
        raise _with_table_hint(error, data) from error
    return FeedCheck(feed, validation)


_DELIMITED = re.compile(rb"^[^\r\n]*[;,\t][^\r\n]*\r?\n", re.ASCII)


def _with_table_hint(error: FeedError, data: bytes) -> FeedError:
    """An unknown syntax that looks like a table: say how to have it read as one."""
    if not error.fr.startswith("syntaxe inconnue") or not _DELIMITED.match(data[:4096]):
        return error
    return FeedError(
        f"{error.fr} ; c'est peut-être un tableau : nommez le fichier en .csv (ou "
        "enregistrez-le en .xlsx, .ods), ou indiquez la syntaxe csv",
        f"{error.en}; it may be a table: name the file .csv (or save it as .xlsx, .ods), "
        "or give the syntax csv",
        line=error.line,
        column=error.column,
    )


def _check_adapted(
    data: bytes,
    feed: str,
    settings: Settings,
    mapping: Mapping,
    engine: str,
    source: str,
    sheet: str | None,
    namespace: str | None,
) -> FeedCheck:
    """A spreadsheet or an export: adapted into JSON-LD, then checked as a feed."""
    if sheet and mapping.adapter != "gogocarto":
        mapping = _with_sheet(mapping, sheet)
    if namespace and mapping.adapter == STANDARD:
        mapping = _with_sheet(mapping, mapping.sheet, namespace)
    if len(data) > settings.max_feed_bytes:
        raise FeedError(
            f"fichier trop gros ({len(data)} octets, {settings.max_feed_bytes} au plus)",
            f"file too large ({len(data)} bytes, at most {settings.max_feed_bytes})",
        )
    budget = MemoryBudget(settings.max_feed_memory * MIB)
    adapted = adapt_with_notes(data, mapping.adapter, mapping, budget=budget)
    converted = json.dumps(adapted.document, ensure_ascii=False, indent=2) + "\n"
    validation = _check_feed(
        converted.encode("utf-8"),
        source=source,
        settings=settings,
        syntax="json-ld",
        engine=engine,
    )
    table = None
    if adapted.table is not None:
        if mapping.adapter == STANDARD:
            columns = template.default_column
        else:
            fields = mapping.fields

            def columns(kind: str, key: str | None) -> str | None:
                return fields.get(key, (None,))[0] if key else None

        table = table_report(
            adapted,
            validation,
            columns,
            namespace=mapping.namespace,
            placeholder=mapping.adapter == STANDARD and mapping.namespace == PLACEHOLDER_NAMESPACE,
        )
    return FeedCheck(feed, validation, table=table, converted=converted, adapted=adapted)


def _with_sheet(mapping: Mapping, sheet: str | None, namespace: str | None = None) -> Mapping:
    from dataclasses import replace

    changed = replace(mapping, sheet=sheet)
    if namespace:
        if not namespace.endswith(("/", "#")):
            namespace += "/"
        network = dict(mapping.network)
        if mapping.network["id"].startswith(PLACEHOLDER_NAMESPACE):
            network["id"] = f"{namespace}reseau"
        changed = replace(changed, namespace=namespace, network=network)
    return changed


def turtle(checks: list[FeedCheck]) -> str:
    """The ``sh:ValidationReport`` of every feed checked, as one Turtle document."""
    return turtle_report([check.validation for check in checks])
