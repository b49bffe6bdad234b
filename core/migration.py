"""Bring a data folder made by an earlier release to the current layout, in place.

``ltc`` runs ``upgrade`` before any command that uses the data folder; it does nothing
when the folder is current (one small file read) or does not exist yet.

Layout 1 (releases up to 0.1.0, no ``ltc-data.json``) differs from layout 2 in:

- findings: there was no ``findings.json``; the reports people read were rebuilt from
  ``report.nt`` (results named ``<…#r1>``, ``<…#r2>``… in record order) grouped by record
  with the harvester's validation cache (``validation-cache.json``: for each record,
  ``[digest, [[constraint, severity, focus, path, value, value_is_iri], …]]``). This
  module keeps that one reading, frozen, to write each source's ``findings.json`` once;
- convergence's caches lived in ``sources/<id>/convergence-rows.pickle`` and
  ``convergence-scores.pickle``: they are removed (caches only save time).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from core.datafolder import LAYOUT_VERSION, DataFolder, write_atomically
from core.harvest_files import Finding, RecordFindings, SourceFiles, findings_json
from core.vocab import RDF_TYPE, RECORD_CLASSES, SCHEMA, SH

log = logging.getLogger("ltc.migration")

_RESULT = re.compile(r"#r(\d+)$")


def layout_version(folder: DataFolder) -> int:
    """The folder's layout: 0 when it holds nothing yet, 1 for the first releases."""
    try:
        return int(json.loads(folder.layout_file.read_text(encoding="utf-8"))["layout"])
    except FileNotFoundError:
        if not folder.root.is_dir() or not any(folder.root.iterdir()):
            return 0
        return 1
    except (OSError, ValueError, KeyError, TypeError):
        return 1


def upgrade(
    data_dir: DataFolder | str | Path, progress: Callable[[str], None] = log.info
) -> list[str]:
    """Migrate the data folder to the current layout; returns what was done."""
    folder = data_dir if isinstance(data_dir, DataFolder) else DataFolder(data_dir)
    version = layout_version(folder)
    if version == 0 or version >= LAYOUT_VERSION:
        return []  # nothing there yet (a restore needs it empty), or already current
    done: list[str] = []
    if version == 1:
        for source_id in folder.known_sources():
            if _write_findings(folder, source_id):
                done.append(f"{source_id}: findings.json")
            (folder.source(source_id) / "convergence-rows.pickle").unlink(missing_ok=True)
        (folder.root / "convergence-scores.pickle").unlink(missing_ok=True)
        for line in done:
            progress(f"dossier de données mis à jour : {line}")
    mark_current(folder)
    return done


def mark_current(folder: DataFolder) -> None:
    """Record that the folder has the current layout (a new folder, or once migrated)."""
    write_atomically(folder.layout_file, json.dumps({"layout": LAYOUT_VERSION}).encode())


def _write_findings(folder: DataFolder, source_id: str) -> bool:
    files = SourceFiles(folder, source_id)
    if files.path(SourceFiles.FINDINGS).exists():
        return False
    if not files.report():
        return False
    try:
        records = legacy_findings(files)
    except SyntaxError as error:
        # A damaged file must not stop every command: the source's next harvest writes it.
        log.warning("source=%s findings.json not written: %s", source_id, error)
        return False
    write_atomically(files.path(SourceFiles.FINDINGS), findings_json(records))
    return True


def legacy_findings(files: SourceFiles) -> list[RecordFindings]:
    """The findings of a layout-1 source folder, grouped by record in record order."""
    owners = _focus_owners(files)
    results: dict[str, dict] = {}
    order: list[tuple[int, str]] = []
    for quad in ox.parse(files.report(), format=ox.RdfFormat.N_TRIPLES):
        subject = quad.subject.value
        number = _RESULT.search(subject)
        if number is None:
            continue  # the report node itself
        if subject not in results:
            results[subject] = {"messages": {}}
            order.append((int(number.group(1)), subject))
        entry, predicate = results[subject], quad.predicate.value
        if predicate == SH + "resultMessage":
            entry["messages"][quad.object.language or "fr"] = quad.object.value
        elif predicate.startswith(SH):
            entry[predicate[len(SH) :]] = quad.object
    records: dict[str, RecordFindings] = {}
    for _number, subject in sorted(order):
        entry = results[subject]
        focus = entry.get("focusNode")
        if focus is None:
            continue
        owner = owners.get(focus.value, focus.value.split("#", 1)[0])
        severity, path = entry.get("resultSeverity"), entry.get("resultPath")
        shape, value = entry.get("sourceShape"), entry.get("value")
        finding = Finding(
            severity.value[len(SH) :] if severity is not None else "Violation",
            shape.value if shape is not None else "",
            focus.value,
            path.value if path is not None else None,
            value.value if value is not None else None,
            isinstance(value, ox.NamedNode),
            entry["messages"],
        )
        records.setdefault(owner, RecordFindings(owner, [], None)).findings.append(finding)
    _describe(records, files)
    return list(records.values())


def _focus_owners(files: SourceFiles) -> dict[str, str]:
    """Focus node → the record that owns it, from the layout-1 validation cache."""
    try:
        cache = json.loads(files.path("validation-cache.json").read_text(encoding="utf-8"))
        entries = cache.get("records", {}).items()
    except (OSError, ValueError, AttributeError):
        return {}
    owners: dict[str, str] = {}
    for record, entry in entries:
        try:
            _digest, findings = entry
            for finding in findings:
                owners.setdefault(finding[2], record)
        except (TypeError, ValueError, LookupError):
            continue  # a damaged entry: its focus nodes fall back to their own record
    return owners


def _describe(records: dict[str, RecordFindings], files: SourceFiles) -> None:
    """Names and types of the records still held (accepted ones), from ``accepted.nt``."""
    wanted = (f"<{SCHEMA}name>".encode(), f"<{RDF_TYPE}>".encode())
    lines = b"\n".join(
        line for line in files.accepted().splitlines() if any(w in line for w in wanted)
    )
    for quad in ox.parse(lines, format=ox.RdfFormat.N_TRIPLES):
        record = records.get(quad.subject.value)
        if record is None:
            continue
        if quad.predicate.value == RDF_TYPE and quad.object.value in RECORD_CLASSES:
            record.types = sorted({*record.types, quad.object.value})
        elif quad.predicate.value == SCHEMA + "name" and (
            record.name is None or quad.object.value < record.name
        ):
            record.name = quad.object.value
