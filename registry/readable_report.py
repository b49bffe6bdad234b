"""A validation report as a volunteer reads it on ``/sources/<id>`` and ``/valider``:
records with errors first, then those with warnings, each finding with its field, its
message and the value found; suggestions counted apart."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.harvest_files import RecordFindings
from core.labels import display_value, field_label, record_kind

REPORT_SHOWN = 500  # records with problems on one page: a national feed could have thousands
SEVERITY_FR = {"Violation": "erreur", "Warning": "avertissement", "Info": "suggestion"}


@dataclass
class Problem:
    severity: str  # Violation, Warning, Info
    field: str
    message: str
    value: str | None = None

    @property
    def severity_fr(self) -> str:
        return SEVERITY_FR.get(self.severity, self.severity)


@dataclass
class RecordReport:
    iri: str
    kind: str = ""
    name: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(p.severity == "Violation" for p in self.problems)

    @property
    def shown(self) -> list[Problem]:
        """Errors first, then warnings; suggestions are counted apart."""
        order = {"Violation": 0, "Warning": 1}
        return sorted(
            (p for p in self.problems if p.severity in order), key=lambda p: order[p.severity]
        )


@dataclass
class ReadableReport:
    records: list[RecordReport]  # shown: rejected records first, then warned ones
    suggestions: list[tuple[str, int]]  # (message, how many records) for Info findings
    rejected: int = 0  # all rejected records, shown or not
    warned: int = 0  # all accepted records with warnings, shown or not

    @property
    def hidden(self) -> int:
        """Records with problems left off the page (the Turtle report has them all)."""
        return self.rejected + self.warned - len(self.records)


def readable_report(records: list[RecordFindings], lang: str = "fr") -> ReadableReport:
    """The report of these records (``findings.json``, or a feed just checked)."""
    reports = [
        RecordReport(
            r.record,
            record_kind(r.types, lang),
            r.name,
            [
                Problem(f.severity, field_label(f.path), f.message(lang), display_value(f.value))
                for f in r.findings
            ],
        )
        for r in records
    ]
    counts: dict[str, int] = {}
    for report in reports:
        for problem in report.problems:
            if problem.severity == "Info":
                counts[problem.message] = counts.get(problem.message, 0) + 1
    suggestions = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rejected = [r for r in reports if r.rejected]
    warned = [r for r in reports if not r.rejected and r.shown]
    shown = (rejected + warned)[:REPORT_SHOWN]
    return ReadableReport(shown, suggestions, len(rejected), len(warned))
