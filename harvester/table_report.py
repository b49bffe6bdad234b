"""A spreadsheet's validation report in the spreadsheet's own terms.

Every finding names the row as the spreadsheet shows it and the column header (with its
letter), and says the fix as one fixes a spreadsheet (« mettez la colonne au format
Texte », « remplissez la colonne commune »), not as one fixes JSON. It merges what the
adapter told (``harvester.adapters.Note``: a lost zero put back, hours not understood, a
row without ``id``…) with the shapes' findings on the records made from each row
(``Adapted.origins`` says which rows and cells they came from). The same finding on
several rows — an unknown theme, say — is given once, with its rows. Errors and warnings
come in row order; suggestions are grouped apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from core.labels import display_value, field_names
from core.vocab import CASCADE, LTC_SHAPES, compact
from harvester.adapters import Adapted, Note, standard
from harvester.adapters.vocabulary import short_names
from harvester.spreadsheet import column_letter
from harvester.validate import FeedValidation

SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}
SEVERITY_WORDS = {
    "fr": {"Violation": "erreur", "Warning": "avertissement", "Info": "suggestion"},
    "en": {"Violation": "error", "Warning": "warning", "Info": "suggestion"},
}
# Properties of owned nodes, as the key of the cell they come from.
_OWNED_KEYS = {"jours": "horaires", "ouverture": "horaires", "fermeture": "horaires",
               "valableDu": "horaires", "valableAu": "horaires"}  # fmt: skip
# A constraint without a property path: the key it is about.
_CONSTRAINT_KEYS = {
    "Place-location": "codePostal",
    "Place-geo-count": "latitude",
    "Presence-organisation": "organisation",
    "Presence-place": "lieu",
}

# constraint → (French, English) in spreadsheet terms; {column} is the header, {value}
# the value found, {choices} the short names of the vocabulary.
MESSAGES: dict[str, tuple[str, str]] = {
    "Place-name": (
        "le lieu n'a pas de nom : remplissez la colonne {column}",
        "the place has no name: fill in the {column} column",
    ),
    "Organization-name": (
        "l'organisation n'a pas de nom : remplissez la colonne {column}",
        "the organisation has no name: fill in the {column} column",
    ),
    "Place-location": (
        "le lieu ne peut pas être situé : remplissez code_postal (et commune), ou latitude "
        "et longitude",
        "the place cannot be located: fill in code_postal (and commune), or latitude and longitude",
    ),
    "Place-geo-count": (
        "le lieu a plusieurs coordonnées : une seule latitude et une seule longitude",
        "the place has several coordinates: one latitude and one longitude",
    ),
    "Place-theme": (
        "aucun thème : remplissez la colonne {column} (par exemple « alimentation »)",
        "no theme: fill in the {column} column (for example 'alimentation')",
    ),
    "Organization-theme": (
        "aucun thème : remplissez la colonne {column} (par exemple « alimentation »)",
        "no theme: fill in the {column} column (for example 'alimentation')",
    ),
    "Place-themeValue": (
        "thème inconnu « {value} » : écrivez l'un des thèmes ({choices}), son libellé ou "
        "un synonyme",
        "unknown theme '{value}': write one of the themes ({choices}), its label or a synonym",
    ),
    "Place-placeType": (
        "type de lieu inconnu « {value} » : écrivez l'un de {choices}",
        "unknown place type '{value}': write one of {choices}",
    ),
    "Place-openingHours": (
        "la colonne {column} est vide : vous pouvez y donner les horaires d'ouverture du "
        "lieu (ceux de la colonne horaires sont ceux de l'organisation)",
        "the {column} column is empty: you may give the place's opening hours there",
    ),
    "Place-sameAs": (
        "vous pouvez relier le lieu à OpenStreetMap (colonne osm) ou à Wikidata (colonne wikidata)",
        "you may link the place to OpenStreetMap (osm column) or Wikidata (wikidata column)",
    ),
    "Geo-latitude": (
        "latitude illisible « {value} » : un nombre entre -90 et 90, avec une virgule ou "
        "un point (47,39)",
        "unreadable latitude '{value}': a number between -90 and 90 (47.39)",
    ),
    "Geo-longitude": (
        "longitude illisible « {value} » : un nombre entre -180 et 180, avec une virgule "
        "ou un point (0,68)",
        "unreadable longitude '{value}': a number between -180 and 180 (0.68)",
    ),
    "Geo-france": (
        "les coordonnées sont hors de France : latitude et longitude sont-elles inversées ?",
        "the coordinates are outside France: are latitude and longitude swapped?",
    ),
    "Address-postalCode": (
        "code postal « {value} » invalide : 5 chiffres (mettez la colonne {column} au "
        "format Texte pour garder un zéro initial)",
        "invalid postcode '{value}': 5 digits (format the {column} column as Text to keep "
        "a leading zero)",
    ),
    "Address-locality": (
        "la commune manque : remplissez la colonne {column}",
        "the commune is missing: fill in the {column} column",
    ),
    "Address-inseeCode": (
        "code INSEE « {value} » invalide : 5 caractères (38185, 2A004), ce n'est pas le "
        "code postal ; laissez la cellule vide si vous ne le connaissez pas",
        "invalid INSEE code '{value}': 5 characters (38185, 2A004), not the postcode; "
        "leave the cell empty if unknown",
    ),
    "Hours-dayOfWeek": (
        "horaires sans jour valide dans la colonne {column}",
        "hours without a valid day in the {column} column",
    ),
    "Hours-opens": (
        "heure d'ouverture illisible dans la colonne {column}",
        "unreadable opening time in the {column} column",
    ),
    "Hours-closes": (
        "heure de fermeture illisible dans la colonne {column}",
        "unreadable closing time in the {column} column",
    ),
    "Hours-order": (
        "l'heure de fermeture n'est pas après l'ouverture dans la colonne {column}",
        "the closing time is not after the opening time in the {column} column",
    ),
    "Record-dateModified": (
        "la date de mise à jour manque : remplissez la colonne {column} (30/11/2026)",
        "the update date is missing: fill in the {column} column (30/11/2026)",
    ),
    "Record-dateModifiedType": (
        "date illisible « {value} » : écrivez une date, 30/11/2026 ou 2026-11-30",
        "unreadable date '{value}': write a date, 30/11/2026 or 2026-11-30",
    ),
    "Contact-telephone": (
        "téléphone « {value} » non reconnu : un numéro français (02 47 05 12 34) ou "
        "international (+32 2 123 45 67), un seul par cellule",
        "telephone '{value}' not recognised: a French (02 47 05 12 34) or international "
        "number, one per cell",
    ),
    "Contact-email": (
        "courriel « {value} » invalide (par exemple contact@exemple.fr)",
        "invalid email '{value}' (for example contact@example.org)",
    ),
    "Contact-url": (
        "site web « {value} » invalide : une adresse qui commence par https://",
        "invalid website '{value}': an address starting with https://",
    ),
    "Organization-siret": (
        "SIRET « {value} » invalide : 14 chiffres",
        "invalid SIRET '{value}': 14 digits",
    ),
    "Organization-rna": (
        "RNA « {value} » invalide : W suivi de 9 caractères (W691234567)",
        "invalid RNA '{value}': W then 9 characters (W691234567)",
    ),
    "Presence-role": (
        "le rôle manque : remplissez la colonne {column} ({choices})",
        "the role is missing: fill in the {column} column ({choices})",
    ),
    "Presence-roleValue": (
        "rôle inconnu « {value} » : écrivez l'un de {choices} (la ligne n'est pas publiée "
        "tant qu'il est inconnu)",
        "unknown role '{value}': write one of {choices} (the row is not published until it is)",
    ),
    "Cascade": (
        "la ligne n'est pas publiée : {what} qu'elle désigne est rejeté (voir {where})",
        "the row is not published: the {what_en} it names is rejected (see {where_en})",
    ),
}
_CHOICES = {"Place-themeValue": "themes", "Place-theme": "themes",
            "Organization-theme": "themes", "Place-placeType": "typeLieu",
            "Presence-role": "role", "Presence-roleValue": "role"}  # fmt: skip


@dataclass
class TableFinding:
    """One thing to fix (or worth knowing), on one or several rows."""

    severity: str  # Violation, Warning, Info
    rows: tuple[int, ...]
    column: str | None
    letter: str | None
    value: str | None
    fr: str
    en: str
    constraint: str | None = None  # ltcsh:… for a shape's finding; None for the adapter's

    def message(self, lang: str = "fr") -> str:
        return self.fr if lang == "fr" else self.en

    @property
    def severity_fr(self) -> str:
        return SEVERITY_WORDS["fr"][self.severity]

    def where(self, lang: str = "fr") -> str:
        rows = rows_text(self.rows, lang)
        if self.column:
            letter = (
                f" ({self.letter})"
                if self.letter
                else " (absente)"
                if lang == "fr"
                else (" (missing)")
            )
            column = f"{'colonne' if lang == 'fr' else 'column'} {self.column}{letter}"
            return f"{rows}, {column}" if rows else column
        return rows or ("tableau" if lang == "fr" else "table")


def rows_text(rows: tuple[int, ...], lang: str = "fr", shown: int = 20) -> str:
    """``ligne 3``, ``lignes 3, 5, 7-9``, … (at most ``shown`` numbers)."""
    if not rows:
        return ""
    spans: list[str] = []
    start = previous = rows[0]
    for number in [*rows[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        spans.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    more = len(spans) - shown
    text = ", ".join(spans[:shown]) + (f"… (+{more})" if more > 0 else "")
    if lang == "fr":
        return ("lignes " if len(rows) > 1 else "ligne ") + text
    return ("rows " if len(rows) > 1 else "row ") + text


@dataclass
class TableReport:
    """The report of a spreadsheet: findings by row, rows rejected and warned."""

    described: str  # how the file was read (« CSV en Windows-1252, séparateur ; »)
    rows: int  # data rows
    findings: list[TableFinding]  # errors and warnings, in row order
    suggestions: list[TableFinding]
    rejected_rows: list[int] = field(default_factory=list)
    warned_rows: list[int] = field(default_factory=list)
    namespace: str | None = None
    placeholder: bool = False  # IRIs minted under the placeholder namespace

    @property
    def published_rows(self) -> int:
        return self.rows - len(self.rejected_rows)

    def summary(self, lang: str = "fr") -> str:
        if lang == "fr":
            return (
                f"{self.rows} ligne{'s' if self.rows != 1 else ''} : "
                f"{self.published_rows} publiée{'s' if self.published_rows != 1 else ''}, "
                f"{len(self.rejected_rows)} rejetée{'s' if len(self.rejected_rows) != 1 else ''}"
                f", {len(self.warned_rows)} avec des avertissements"
            )
        return (
            f"{self.rows} rows: {self.published_rows} published, {len(self.rejected_rows)} "
            f"rejected, {len(self.warned_rows)} with warnings"
        )

    def text(self, title: str, lang: str = "fr") -> str:
        words = SEVERITY_WORDS[lang]
        read = "lu comme" if lang == "fr" else "read as"
        lines = [f"{title} — {read} {self.described} — {self.summary(lang)}"]
        if self.placeholder and self.namespace:
            lines.append(
                f"  identifiants fabriqués sous l'espace de noms provisoire {self.namespace}"
                if lang == "fr"
                else f"  identifiers minted under the placeholder namespace {self.namespace}"
            )
        for finding in self.findings:
            message = finding.message(lang)
            value = ""
            if finding.value and finding.value not in message:
                value = f" — « {finding.value} »" if lang == "fr" else f" — '{finding.value}'"
            lines.append(f"  {finding.where(lang)} [{words[finding.severity]}] {message}{value}")
        if self.suggestions:
            lines.append("  Suggestions :" if lang == "fr" else "  Suggestions:")
            lines += [f"    {s.where(lang)} : {s.message(lang)}" for s in self.suggestions]
        return "\n".join(lines)

    def json(self, lang: str = "fr") -> dict[str, Any]:
        def one(finding: TableFinding) -> dict[str, Any]:
            return {
                "severity": finding.severity,
                "rows": list(finding.rows),
                "column": finding.column,
                "letter": finding.letter,
                "value": finding.value,
                "message": finding.message(lang),
                "constraint": finding.constraint,
            }

        return {
            "read_as": self.described,
            "rows": self.rows,
            "published_rows": self.published_rows,
            "rejected_rows": self.rejected_rows,
            "warned_rows": self.warned_rows,
            "namespace": self.namespace,
            "placeholder_namespace": self.placeholder,
            "findings": [one(f) for f in self.findings],
            "suggestions": [one(f) for f in self.suggestions],
        }


def _key(path: str | None, constraint: str) -> str | None:
    if path is None:
        return _CONSTRAINT_KEYS.get(constraint)
    key = field_names().get(path)
    return _OWNED_KEYS.get(key or "", key)


def _shown(value: str | None) -> str | None:
    shown = display_value(value)
    return unquote(shown) if shown else shown


def table_report(
    adapted: Adapted,
    validation: FeedValidation,
    default_column: Callable[[str, str | None], str | None],
    *,
    namespace: str | None = None,
    placeholder: bool = False,
) -> TableReport:
    """The report of a table adapted into ``adapted`` and validated into ``validation``;
    ``default_column(kind, key)`` names the column of a record's key that no cell gave."""
    origins = adapted.origins
    assert origins is not None and adapted.table is not None
    table = adapted.table
    letters = {name: column_letter(index) for name, index in origins.columns.items()}
    raw: list[TableFinding] = [_from_note(note, letters) for note in adapted.notes]
    violations_by_row: dict[int, set[str]] = {}
    rejected_records = {r.record.iri for r in validation.rejected}
    for result in validation.results:
        iri = result.record.iri
        kind = origins.kinds.get(iri, "")
        rows = origins.rows.get(iri, [])
        for finding in result.findings:
            local = finding.constraint.removeprefix(LTC_SHAPES)
            key = _key(finding.path, local)
            found = origins.cells.get((iri, key)) if key else None
            column = found[1] if found else default_column(kind, key)
            at = (found[0],) if found else tuple(rows[:1])
            value = _shown(finding.value)
            if finding.constraint == CASCADE:
                continue  # after the others: only for rows without their own error
            fr, en = _message(local, column, value, finding.message("fr"), finding.message("en"))
            letter = letters.get(column or "")
            constraint = compact(finding.constraint)
            raw.append(
                TableFinding(finding.severity, at, column, letter, value, fr, en, constraint)
            )
            if finding.severity == "Violation":
                for number in at:
                    violations_by_row.setdefault(number, set()).add(iri)
    for result in validation.results:  # rows rejected only because what they name is
        iri = result.record.iri
        if CASCADE not in {f.constraint for f in result.findings}:
            continue
        for number in origins.rows.get(iri, []):
            if violations_by_row.get(number):
                continue
            raw.append(_cascade(iri, number, origins, rejected_records))
    rejected_rows = sorted(
        {n for iri in rejected_records for n in _record_rows(iri, origins)}
        | {n for f in raw if f.severity == "Violation" and f.constraint is None for n in f.rows}
    )
    grouped = _grouped(raw, origins.columns)
    findings = [f for f in grouped if f.severity != "Info"]
    warned = sorted({n for f in findings if f.severity == "Warning" for n in f.rows}
                    - set(rejected_rows))  # fmt: skip
    return TableReport(
        described=table.described,
        rows=len(table.rows),
        findings=findings,
        suggestions=[f for f in grouped if f.severity == "Info"],
        rejected_rows=rejected_rows,
        warned_rows=warned,
        namespace=namespace,
        placeholder=placeholder,
    )


def _record_rows(iri: str, origins: Any) -> list[int]:
    """The rows a rejected record takes out: a presence its row, a place or organisation
    every row that names it (their presences cascade)."""
    return origins.rows.get(iri, [])


def _from_note(note: Note, letters: dict[str, str]) -> TableFinding:
    rows = note.rows or ((note.row,) if note.row else ())
    return TableFinding(
        note.severity,
        tuple(sorted(set(rows))),
        note.column,
        letters.get(note.column or ""),
        note.value,
        note.what("fr"),
        note.what("en"),
    )


def _message(
    constraint: str, column: str | None, value: str | None, fr: str, en: str
) -> tuple[str, str]:
    template = MESSAGES.get(constraint)
    if template is None or (column is None and "{column}" in template[0]):
        return fr, en
    choices = ", ".join(short_names(_CHOICES[constraint])) if constraint in _CHOICES else ""
    values = {"column": column or "", "value": value or "", "choices": choices}
    return template[0].format(**values), template[1].format(**values)


def _cascade(iri: str, row: int, origins: Any, rejected: set[str]) -> TableFinding:
    """A presence rejected because its place or organisation is: say which, and where."""
    blamed = [r for r in rejected if origins.kinds.get(r) in ("lieu", "organisation")
              and row in origins.rows.get(r, [])]  # fmt: skip
    kind = origins.kinds.get(blamed[0], "lieu") if blamed else "lieu"
    what = "le lieu" if kind == "lieu" else "l'organisation"
    others = sorted({n for r in blamed for n in origins.rows.get(r, []) if n != row})
    where = rows_text(tuple(others)) if others else "les autres erreurs de la ligne"
    where_en = rows_text(tuple(others), "en") if others else "the row's other errors"
    fr, en = MESSAGES["Cascade"]
    return TableFinding(
        "Violation",
        (row,),
        None,
        None,
        None,
        fr.format(what=what, where=where),
        en.format(what_en="place" if kind == "lieu" else "organisation", where_en=where_en),
        "ltcsh:Cascade",
    )


def _grouped(findings: list[TableFinding], columns: dict[str, int]) -> list[TableFinding]:
    """The same finding (severity, column, message, value) on several rows, once."""
    merged: dict[tuple, TableFinding] = {}
    for finding in findings:
        key = (finding.severity, finding.column, finding.fr, finding.value)
        if key in merged:
            known = merged[key]
            known.rows = tuple(sorted(set(known.rows) | set(finding.rows)))
        else:
            rows = tuple(sorted(set(finding.rows)))
            merged[key] = TableFinding(**{**finding.__dict__, "rows": rows})
    return sorted(
        merged.values(),
        key=lambda f: (
            f.rows[0] if f.rows else 0,
            SEVERITY_ORDER[f.severity],
            columns.get(f.column or "", -1),
            f.fr,
        ),
    )


def standard_columns(kind: str, key: str | None) -> str | None:
    """Default columns of the standard template."""
    return standard.default_column(kind, key)
