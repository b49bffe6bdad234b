"""What the harvester leaves in the data folder for each source, in a documented format.

``docs/fichiers-de-moisson.md`` specifies these files; the harvester writes them and
every other part of the registry (``ltc sources``, the ``/sources`` pages, the dataset
description, convergence, backups) reads them only through this module:

- ``state.json``: the source's last outcome and counts (``SourceState``);
- ``history.jsonl``: one JSON object per harvest, oldest first;
- ``accepted.nt``: the accepted statements, exactly what the source's graph holds;
- ``report.nt``: the whole ``sh:ValidationReport`` of the last loaded harvest;
- ``findings.json``: the same findings grouped by record, with each record's types and
  name and each finding's messages (``RecordFindings``), for reports people read.

Other files in a source's folder belong to the harvester alone (its validation cache,
files being written) and may change from one release to the next.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from core.datafolder import DataFolder, write_atomically

FINDINGS_FORMAT = "ltc-findings/1"
SEVERITIES = ("Violation", "Warning", "Info")
# The keys of a ``history.jsonl`` line, each with a value of its type (text or null, count).
HISTORY_KEYS: dict[str, str | int | None] = {
    "started": None,
    "ended": None,
    "status": None,
    "message": None,
    "accepted": 0,
    "rejected": 0,
    "warned": 0,
    "dropped": 0,
}


def _fits(default: object, value: object) -> bool:
    """``value`` has the type of a field whose default is ``default``: a count for an
    integer, text or null otherwise."""
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    return value is None or isinstance(value, str)


@dataclass
class SourceState:
    """``state.json``: what the last harvests of a source came to."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    inputs: str | None = None  # digest of what else shapes the result (shapes, mapping…)
    status: str | None = None  # loaded, unchanged, failed, held; None: never harvested
    message: str | None = None
    last_attempt: str | None = None
    last_success: str | None = None
    last_loaded: str | None = None
    accepted: int = 0
    rejected: int = 0
    warned: int = 0
    dropped: int = 0  # statements about subjects outside the source's namespaces
    failures: int = 0  # consecutive failed or held harvests


@dataclass(frozen=True)
class Finding:
    """One problem of a record, as ``findings.json`` keeps it."""

    severity: str  # Violation, Warning or Info
    constraint: str  # IRI of the shape that failed (ltcsh:…)
    # the node the problem is on: the record or a node it owns, or the value where a
    # node was expected (another record's IRI, a literal in its N-Triples form)
    focus: str
    path: str | None  # the property, when the constraint is on one
    value: str | None  # the value found (an IRI's text or a literal's lexical form)
    value_is_iri: bool
    messages: dict[str, str]  # language → message ("fr", "en")

    def message(self, lang: str = "fr") -> str:
        return self.messages.get(lang) or self.messages.get("fr") or self.constraint


@dataclass
class RecordFindings:
    """A record of a feed and its findings (records without any are not written)."""

    record: str
    types: list[str]  # its record classes (IRIs: schema:Place…)
    name: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(f.severity == "Violation" for f in self.findings)


def findings_json(records: Iterable[RecordFindings]) -> bytes:
    """``findings.json`` for these records (the harvester and migrations write it)."""
    document = {
        "format": FINDINGS_FORMAT,
        "records": [
            {
                "record": r.record,
                "types": r.types,
                "name": r.name,
                "findings": [asdict(f) for f in r.findings],
            }
            for r in records
            if r.findings
        ],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_findings(data: bytes) -> list[RecordFindings]:
    """The records of a ``findings.json`` document; ValueError when it is not one (or
    when a value has another type than the format says: pages format them)."""
    document = json.loads(data)
    if not isinstance(document, dict) or document.get("format") != FINDINGS_FORMAT:
        raise ValueError(f"not a {FINDINGS_FORMAT} document")
    records = [
        RecordFindings(
            entry["record"],
            entry.get("types", []),
            entry.get("name"),
            [Finding(**finding) for finding in entry.get("findings", [])],
        )
        for entry in document["records"]
    ]
    if not all(_well_typed(record) for record in records):
        raise ValueError(f"a value of another type than {FINDINGS_FORMAT} says")
    return records


def _text(value: object, optional: bool = False) -> bool:
    return isinstance(value, str) or (optional and value is None)


def _well_typed(record: RecordFindings) -> bool:
    """Every value has the type ``findings.json`` specifies (pages format them)."""
    return (
        _text(record.record)
        and isinstance(record.types, list)
        and all(_text(t) for t in record.types)
        and _text(record.name, optional=True)
        and all(
            _text(f.severity)
            and _text(f.constraint)
            and _text(f.focus)
            and _text(f.path, optional=True)
            and _text(f.value, optional=True)
            and isinstance(f.value_is_iri, bool)
            and isinstance(f.messages, dict)
            and all(_text(k) and _text(v) for k, v in f.messages.items())
            for f in record.findings
        )
    )


class SourceFiles:
    """The documented files of one source (see the module's docstring)."""

    STATE = "state.json"
    HISTORY = "history.jsonl"
    ACCEPTED = "accepted.nt"
    REPORT = "report.nt"
    FINDINGS = "findings.json"

    def __init__(self, data: DataFolder | Path | str, source: str) -> None:
        folder = data if isinstance(data, DataFolder) else DataFolder(data)
        self.source = source
        self.folder = folder.source(source)

    def path(self, name: str) -> Path:
        return self.folder / name

    def _read(self, name: str) -> bytes:
        try:
            return self.path(name).read_bytes()
        except OSError:
            return b""

    # -- reading ---------------------------------------------------------------------------

    def load_state(self) -> SourceState:
        try:
            data = json.loads(self.path(self.STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return SourceState()
        if not isinstance(data, dict):
            return SourceState()
        # A key of another type than its field's (a damaged file) keeps the default.
        defaults = {f.name: f.default for f in fields(SourceState)}
        return SourceState(
            **{k: v for k, v in data.items() if k in defaults and _fits(defaults[k], v)}
        )

    def history(self, last: int = 20) -> list[dict[str, Any]]:
        """The last ``last`` harvests, oldest first (a damaged line is skipped)."""
        try:
            lines = self.path(self.HISTORY).read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        entries = []
        for line in lines[-last:]:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and all(
                _fits(default, entry[key]) for key, default in HISTORY_KEYS.items() if key in entry
            ):
                entries.append(entry)
        return entries

    def accepted(self) -> bytes:
        """The accepted statements (N-Triples), b"" when none were ever loaded."""
        return self._read(self.ACCEPTED)

    def report(self) -> bytes:
        """The whole validation report (N-Triples), b"" when none was ever loaded."""
        return self._read(self.REPORT)

    def findings(self) -> list[RecordFindings]:
        """The records with findings of the last loaded harvest, in record order."""
        data = self._read(self.FINDINGS)
        if not data:
            return []
        try:
            return parse_findings(data)
        except (ValueError, TypeError, KeyError):
            return []

    def fingerprint(self) -> tuple[int, ...]:
        """Modification times of the documented files: they change with every harvest of
        the source (caches key on them)."""
        stamps = []
        for name in (self.STATE, self.HISTORY, self.REPORT, self.FINDINGS):
            try:
                stamps.append(self.path(name).stat().st_mtime_ns)
            except OSError:
                stamps.append(0)
        return tuple(stamps)

    # -- writing (the harvester) --------------------------------------------------------------

    def save_state(self, state: SourceState) -> None:
        write_atomically(self.path(self.STATE), json.dumps(asdict(state), indent=1).encode())

    def save_accepted(self, ntriples: bytes) -> None:
        write_atomically(self.path(self.ACCEPTED), ntriples)

    def append_history(self, entry: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.path(self.HISTORY), "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def known_sources(data: DataFolder | Path | str) -> list[str]:
    """Sources the harvester has files for (including ones since removed from the catalog)."""
    folder = data if isinstance(data, DataFolder) else DataFolder(data)
    return folder.known_sources()
