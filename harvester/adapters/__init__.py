"""Adapters: non-RDF exports (GoGoCarto JSON, spreadsheets) turned into LTC JSON-LD.

Networks that do not publish RDF yet still have their places in a map tool or a
spreadsheet. An adapter reads that export row by row and writes the JSON-LD a publisher
would have written by hand:

- the **standard spreadsheet** (adapter ``tableur``, ``harvester.adapters.standard``)
  needs no mapping: its columns are the template's (``docs/modele-tableur/``);
- any other layout, and GoGoCarto exports, follow a small TOML mapping written once per
  source (``docs/adaptateurs.md``); the ``csv`` adapter reads CSV, XLSX and ODS files.

That document then goes through the normal parse → normalise → validate path: the
adapter never validates, so a row without a name becomes a place without a name, which
the shapes reject like any other. Only an export that cannot be read at all (or a wrong
mapping) is a FeedError. What the adapter had to change or leave out is told in notes,
each with its row (and, for a table, its column); ``Adapted.origins`` says which rows and
cells every record and value came from, so that a report can speak of rows and columns.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any
from urllib.parse import quote

from core import resources
from core.vocab import LTC_CONTEXT
from harvester.adapters import csv_table, gogocarto, standard
from harvester.adapters import vocabulary as skos
from harvester.budget import MemoryBudget
from harvester.errors import FeedError
from harvester.french_hours import parse_hours

DEFAULT_MAX_ROWS = 100_000
DEFAULT_MAX_MEMORY = 1024 * 1024 * 1024  # bytes reading one export may take (max_feed_memory)
STANDARD = standard.STANDARD_ADAPTER  # the standard template: no [iri] nor [fields]

ADAPTERS: dict[str, Callable[[bytes, Mapping], list[Row]]] = {
    "gogocarto": gogocarto.read,
    "csv": csv_table.read,
}

# What each LTC key of [fields] holds, and which record of the row receives it.
_TEXT = {
    "nom",
    "nomAlternatif",
    "description",
    "rue",
    "codePostal",
    "commune",
    "codeInsee",
    "pays",
    "telephone",
    "email",
    "accessibilite",
    "siret",
    "rna",
}
_LISTS = {"memeQue", "identiqueA", "themes", "activites"}
FIELD_KEYS = (
    "nom",
    "nomAlternatif",
    "description",
    "rue",
    "codePostal",
    "commune",
    "codeInsee",
    "pays",
    "latitude",
    "longitude",
    "horaires",
    "memeQue",
    "identiqueA",
    "themes",
    "typeLieu",
    "accessiblePMR",
    "accessibilite",
    "telephone",
    "email",
    "siteWeb",
    "siret",
    "rna",
    "activites",
    "dateModification",
)
_ADDRESS = ("rue", "codePostal", "commune", "codeInsee", "pays")
_PLACE = ("nom", "nomAlternatif", "description")
_PLACE_AFTER = ("memeQue", "identiqueA", "themes", "typeLieu", "accessiblePMR", "accessibilite")
_ORGANISATION = (
    "nom",
    "nomAlternatif",
    "description",
    "themes",
    "telephone",
    "email",
    "siteWeb",
    "siret",
    "rna",
)
_CONSTANT_KEYS = tuple(k for k in FIELD_KEYS if k not in ("latitude", "longitude", "horaires"))
_NETWORK_KEYS = (
    "id",
    "nom",
    "nomAlternatif",
    "description",
    "siteWeb",
    "themes",
    "dateModification",
)
_IRI_KEYS = ("lieu", "organisation", "presence")
_TOP_KEYS = (
    "adapter",
    "max_rows",
    "list_separator",
    "network",
    "iri",
    "fields",
    "values",
    "presence",
    "constants",
    "csv",
    "tableur",
)
_VALUE_MAPS = ("themes", "typeLieu")
_CSV_KEYS = ("delimiter", "sheet", "encoding")
_STANDARD_KEYS = ("namespace", "sheet")
ENCODINGS = ("utf-8", "auto", "windows-1252", "latin-1")

# Characters an IRI may not contain: escaped so the value stays visible to the shapes
# (pyoxigraph silently drops a JSON-LD value that is not a valid IRI).
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_SPACED_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})(:\d{2})?(.*)$")
_TRUE = {"true", "vrai", "oui", "yes", "o", "y", "1", "x"}
_FALSE = {"false", "faux", "non", "no", "n", "0"}


@dataclass(frozen=True)
class Mapping:
    """One source's mapping file, checked: how its rows become LTC records."""

    adapter: str
    network: dict[str, Any]
    iri: dict[str, str]
    fields: dict[str, tuple[str, ...]]
    values: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    role: tuple[str, ...] = ()
    constants: dict[str, Any] = field(default_factory=dict)
    delimiter: str | None = None
    list_separator: str = ","
    max_rows: int = DEFAULT_MAX_ROWS
    sheet: str | None = None  # XLSX or ODS: the sheet to read (default: the first)
    encoding: str = "auto"  # CSV read with a mapping: auto (detected), or utf-8 (strict)…
    namespace: str | None = None  # the standard template: where its IRIs are minted

    def template_fields(self, kind: str) -> list[str]:
        """The source fields a record IRI template (``lieu``, ``organisation``…) uses."""
        return _PLACEHOLDER.findall(self.iri.get(kind, ""))

    def source_fields(self) -> list[str]:
        """Every source field or column the mapping reads, in a stable order."""
        names: list[str] = []
        for kind in _IRI_KEYS:
            names.extend(self.template_fields(kind))
        for sources in self.fields.values():
            names.extend(sources)
        return list(dict.fromkeys(names))


@dataclass
class Row:
    """One entry or data line of an export: its 1-based number and its mapped values."""

    number: int
    label_fr: str
    label_en: str
    values: dict[str, Any] | None  # None: the entry is not an object and cannot be read


@dataclass(frozen=True)
class Note:
    """Something the adapter changed in or left out of a row, to tell the publisher.

    ``fr`` and ``en`` say where and what; ``what_fr``/``what_en`` say only what, for a
    report that shows the row and column apart. ``severity`` is the one of a validation
    finding: Violation (the row is not published), Warning or Info."""

    row: int | None
    fr: str
    en: str
    column: str | None = None
    value: str | None = None
    severity: str = "Warning"
    what_fr: str | None = None
    what_en: str | None = None
    rows: tuple[int, ...] = ()  # every row the note is about (a value on several rows)

    def message(self, lang: str = "fr") -> str:
        return self.fr if lang == "fr" else self.en

    def what(self, lang: str = "fr") -> str:
        if lang == "fr":
            return self.what_fr or self.fr
        return self.what_en or self.en


@dataclass
class Origins:
    """Where each record and value of an adapted document came from."""

    rows: dict[str, list[int]] = field(default_factory=dict)  # record → its rows
    cells: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # record → lieu, organisation…
    columns: dict[str, int] = field(default_factory=dict)  # column header → index


@dataclass
class Adapted:
    """The JSON-LD document an adapter wrote, what it had to change or leave out, and
    (for a table) where every record came from."""

    document: dict[str, Any]
    notes: list[Note]
    origins: Origins | None = None
    table: Any = None  # harvester.spreadsheet.Table, for a spreadsheet


# ---------------------------------------------------------------- the mapping file


def _mapping_error(fr: str, en: str) -> FeedError:
    return FeedError(f"correspondance : {fr}", f"mapping: {en}")


def _where(section: str | None) -> tuple[str, str]:
    """Where a key sits, as a French and an English phrase."""
    if section is None:
        return "au premier niveau du fichier", "at the top level"
    return f"dans la table [{section}]", f"in [{section}]"


def _check_keys(
    table: dict[str, Any], section: str | None, known: tuple[str, ...], required: tuple[str, ...]
) -> None:
    fr, en = _where(section)
    for key in table:
        if key not in known:
            raise _mapping_error(
                f"clé inconnue « {key} » {fr} (clés possibles : {', '.join(known)})",
                f"unknown key '{key}' {en} (possible keys: {', '.join(known)})",
            )
    for key in required:
        if key not in table:
            raise _mapping_error(
                f"clé obligatoire « {key} » absente {fr}",
                f"required key '{key}' missing {en}",
            )


def _table(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise _mapping_error(
            f"« {key} » doit être une table [{key}]", f"'{key}' must be a table [{key}]"
        )
    return value


def _type_error(section: str | None, key: str, fr: str, en: str) -> FeedError:
    where_fr, where_en = _where(section)
    return _mapping_error(
        f"la valeur de « {key} » {where_fr} doit être {fr}",
        f"the value of '{key}' {where_en} must be {en}",
    )


def _strings(value: Any, section: str | None, key: str) -> tuple[str, ...]:
    """A string or a non-empty list of strings, as a tuple."""
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    raise _type_error(
        section, key, "un texte ou une liste de textes", "a string or a list of strings"
    )


@cache
def vocabulary(key: str) -> frozenset[str]:
    """The short names the LTC context defines for a vocabulary key (themes, role…)."""
    context = json.loads(resources.read_text("ontology", "context.jsonld"))["@context"]
    return frozenset(context[key]["@context"])


def _short_names(value: Any, section: str | None, key: str, vocab_key: str) -> tuple[str, ...]:
    if value == [] or value == "":
        return ()
    names = _strings(value, section, key)
    known = vocabulary(vocab_key)
    for name in names:
        if name not in known:
            where_fr, where_en = _where(section)
            raise _mapping_error(
                f"« {name} » (clé « {key} » {where_fr}) n'est pas un nom court de "
                f"{vocab_key} (possibles : {', '.join(sorted(known))})",
                f"'{name}' (key '{key}' {where_en}) is not a {vocab_key} short name "
                f"(possible: {', '.join(sorted(known))})",
            )
    return names


def _absolute_iri(value: Any, section: str, key: str) -> str:
    if (
        not isinstance(value, str)
        or not re.match(r"^https?://[^/\s]+", value)
        or _NOT_IN_IRI.search(value)
    ):
        raise _type_error(
            section, key, "une adresse web complète (https://…)", "a full web address (https://…)"
        )
    return value


def _template(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _type_error("iri", key, "un texte", "a string")
    names = _PLACEHOLDER.findall(value)
    bare = _PLACEHOLDER.sub("x", value)
    _absolute_iri(bare.replace("{", "").replace("}", ""), "iri", key)
    if not names or any(not n.strip() for n in names) or "{" in bare or "}" in bare:
        raise _mapping_error(
            f"le modèle « {key} » de [iri] doit contenir au moins un champ entre accolades, "
            "par exemple https://mon-reseau.example.org/lieux/{id}",
            f"the [iri] template '{key}' must contain at least one field in braces, "
            "for example https://mon-reseau.example.org/lieux/{id}",
        )
    return value


def _constant(key: str, value: Any) -> Any:
    if key == "accessiblePMR":
        if not isinstance(value, bool):
            raise _type_error("constants", key, "true ou false", "true or false")
        return value
    if key == "themes":
        return list(_short_names(value, "constants", key, key))
    if key == "typeLieu":
        if not isinstance(value, str):
            raise _type_error("constants", key, "un nom court de type de lieu", "a place type")
        return _short_names(value, "constants", key, key)[0]
    if key in _LISTS:
        return list(_strings(value, "constants", key))
    if not isinstance(value, str):
        raise _type_error("constants", key, "un texte", "a string")
    return value


def load_mapping(data: bytes | str) -> Mapping:
    """Read and check a TOML mapping file; any mistake is a FeedError naming the key."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise _mapping_error(
                f"le fichier n'est pas en UTF-8 (octet {error.start})",
                f"the file is not UTF-8 (byte {error.start})",
            ) from error
    try:
        document = tomllib.loads(data)
    except tomllib.TOMLDecodeError as error:
        raise _mapping_error(f"TOML invalide : {error}", f"invalid TOML: {error}") from error

    _check_keys(document, None, _TOP_KEYS, ("adapter", "network"))
    adapter = document["adapter"]
    if adapter not in (*ADAPTERS, STANDARD):
        names = ", ".join((*ADAPTERS, STANDARD))
        raise _mapping_error(
            f"adaptateur inconnu « {adapter} » (possibles : {names})",
            f"unknown adapter '{adapter}' (possible: {names})",
        )
    if adapter == STANDARD:
        return _standard_mapping(document)
    _check_keys(document, None, _TOP_KEYS, ("adapter", "network", "iri", "fields"))
    if "tableur" in document:
        raise _mapping_error(
            'la table [tableur] ne sert qu\'avec adapter = "tableur"',
            'the [tableur] table only applies with adapter = "tableur"',
        )

    checked_network = _network(document)

    iri_table = _table(document, "iri")
    _check_keys(iri_table, "iri", _IRI_KEYS, _IRI_KEYS)
    templates = {key: _template(iri_table[key], key) for key in _IRI_KEYS}
    if len(set(templates.values())) != len(templates):
        raise _mapping_error(
            "les modèles de [iri] (lieu, organisation, presence) doivent être différents",
            "the [iri] templates (lieu, organisation, presence) must differ",
        )

    fields_table = _table(document, "fields")
    _check_keys(fields_table, "fields", FIELD_KEYS, ("nom",))
    fields = {key: _strings(value, "fields", key) for key, value in fields_table.items()}
    for key, sources in fields.items():
        if len(sources) > 1 and key not in _LISTS:
            raise _type_error(
                "fields",
                key,
                "un seul champ (plusieurs champs seulement pour une liste)",
                "one field (several fields only for a list)",
            )
    if ("latitude" in fields) != ("longitude" in fields):
        raise _mapping_error(
            "[fields] doit donner latitude et longitude ensemble",
            "[fields] must give latitude and longitude together",
        )

    values_table = _table(document, "values")
    _check_keys(values_table, "values", _VALUE_MAPS, ())
    values: dict[str, dict[str, tuple[str, ...]]] = {}
    for key, table in values_table.items():
        if not isinstance(table, dict):
            raise _type_error("values", key, f"une table [values.{key}]", f"a table [values.{key}]")
        values[key] = {
            str(source): _short_names(target, f"values.{key}", str(source), key)
            for source, target in table.items()
        }

    presence = _table(document, "presence")
    _check_keys(presence, "presence", ("role",), ())
    role = _short_names(presence["role"], "presence", "role", "role") if presence else ()

    constants_table = _table(document, "constants")
    _check_keys(constants_table, "constants", _CONSTANT_KEYS, ())
    constants = {key: _constant(key, value) for key, value in constants_table.items()}

    csv_options = _table(document, "csv")
    if csv_options and adapter != "csv":
        raise _mapping_error(
            'la table [csv] ne sert qu\'avec adapter = "csv"',
            'the [csv] table only applies with adapter = "csv"',
        )
    _check_keys(csv_options, "csv", _CSV_KEYS, ())
    delimiter = csv_options.get("delimiter")
    if delimiter is not None and delimiter not in csv_table.DELIMITERS:
        raise _type_error(
            "csv", "delimiter", "l'un de « ; », « , », tabulation, « | »", "one of ; , tab |"
        )
    encoding = csv_options.get("encoding", "auto")
    if encoding not in ENCODINGS:
        raise _type_error("csv", "encoding", " ou ".join(ENCODINGS), " or ".join(ENCODINGS))
    sheet = csv_options.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
        raise _type_error("csv", "sheet", "le nom d'une feuille", "a sheet's name")

    separator = document.get("list_separator", ",")
    if not isinstance(separator, str) or not separator:
        raise _type_error(None, "list_separator", "un texte non vide", "a non-empty string")
    max_rows = document.get("max_rows", DEFAULT_MAX_ROWS)
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise _type_error(None, "max_rows", "un entier positif", "a positive integer")

    return Mapping(
        adapter=adapter,
        network=checked_network,
        iri=templates,
        fields=fields,
        values=values,
        role=role,
        constants=constants,
        delimiter=delimiter,
        list_separator=separator,
        max_rows=max_rows,
        sheet=sheet,
        encoding=encoding,
    )


def _network(document: dict[str, Any]) -> dict[str, Any]:
    network = _table(document, "network")
    _check_keys(network, "network", _NETWORK_KEYS, ("id", "nom"))
    checked: dict[str, Any] = {"id": _absolute_iri(network["id"], "network", "id")}
    for key in _NETWORK_KEYS[1:]:
        if key not in network:
            continue
        if key == "themes":
            checked[key] = list(_short_names(network[key], "network", key, "themes"))
        elif key == "siteWeb":
            checked[key] = _absolute_iri(network[key], "network", key)
        elif isinstance(network[key], str) and network[key].strip():
            checked[key] = network[key].strip()
        else:
            raise _type_error("network", key, "un texte non vide", "a non-empty string")
    return checked


def _standard_mapping(document: dict[str, Any]) -> Mapping:
    """A mapping for the standard template: the network, and where to mint IRIs."""
    _check_keys(document, None, ("adapter", "max_rows", "network", "tableur"), ("network",))
    network = _network(document)
    options = _table(document, "tableur")
    _check_keys(options, "tableur", _STANDARD_KEYS, ())
    namespace = options.get("namespace") or network["id"].rsplit("/", 1)[0] + "/"
    namespace = _absolute_iri(namespace, "tableur", "namespace")
    if not namespace.endswith(("/", "#")):
        namespace += "/"
    sheet = options.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
        raise _type_error("tableur", "sheet", "le nom d'une feuille", "a sheet's name")
    max_rows = document.get("max_rows", DEFAULT_MAX_ROWS)
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise _type_error(None, "max_rows", "un entier positif", "a positive integer")
    return Mapping(
        adapter=STANDARD,
        network=network,
        iri={},
        fields={},
        max_rows=max_rows,
        sheet=sheet,
        encoding="auto",
        namespace=namespace,
    )


def standard_mapping(
    namespace: str = standard.PLACEHOLDER_NAMESPACE,
    network: str | None = None,
    network_name: str = standard.PLACEHOLDER_NETWORK_NAME,
    sheet: str | None = None,
) -> Mapping:
    """The mapping of a standard-template table (no file needed)."""
    if not namespace.endswith(("/", "#")):
        namespace += "/"
    return Mapping(
        adapter=STANDARD,
        network={"id": network or f"{namespace}reseau", "nom": network_name},
        iri={},
        fields={},
        sheet=sheet,
        encoding="auto",
        namespace=namespace,
    )


# ---------------------------------------------------------------- shared by the readers


def decode(data: bytes, what: str) -> str:
    """The export as text: UTF-8 with or without BOM; anything else is a clear FeedError."""
    if not data.strip():
        raise FeedError(f"fichier {what} vide", f"empty {what} file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FeedError(
            f"fichier {what} en UTF-16 : enregistrez-le en UTF-8",
            f"{what} file in UTF-16: save it as UTF-8",
        )
    if b"\x00" in data[:65536]:
        raise FeedError(
            f"fichier binaire : ce n'est pas un fichier {what}",
            f"binary file: this is not a {what} file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FeedError(
            f"le fichier n'est pas en UTF-8 (octet {error.start}) : enregistrez-le en UTF-8",
            f"the file is not UTF-8 (byte {error.start}): save it as UTF-8",
            line=line,
        ) from error


def check_rows(count: int, mapping: Mapping) -> None:
    """Refuse an export with more rows than the mapping allows (100 000 by default)."""
    if count > mapping.max_rows:
        raise FeedError(
            f"trop de lignes (plus de {mapping.max_rows}) ; augmentez max_rows si c'est normal",
            f"too many rows (more than {mapping.max_rows}); raise max_rows if this is expected",
        )


# ---------------------------------------------------------------- values


def _text(raw: Any) -> str | None:
    if raw is None or isinstance(raw, (dict, list)):
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and not math.isfinite(raw):
        return str(raw)
    text = str(raw).strip()
    return text or None


def _texts(raw: Any, separator: str) -> list[str]:
    if isinstance(raw, list):
        return [t for item in raw if (t := _text(item))]
    text = _text(raw)
    if text is None:
        return []
    return [part.strip() for part in text.split(separator) if part.strip()]


def number(raw: Any) -> float | int | str | None:
    """A coordinate as a JSON number (``"47,39"`` → 47.39), or left as text if unreadable."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw if math.isfinite(raw) else str(raw)
    text = _text(raw)
    if text is None:
        return json.dumps(raw, ensure_ascii=False) if isinstance(raw, (dict, list)) else None
    if _NUMBER.match(text):
        value = float(text.replace(",", "."))
        if math.isfinite(value):
            return value
    return text


def _date(raw: Any) -> str | None:
    text = _text(raw)
    if text is None:
        return None
    if found := _FRENCH_DATE.match(text):
        day, month, year = found.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if found := _SPACED_DATETIME.match(text):
        day, time, seconds, zone = found.groups()
        return f"{day}T{time}{seconds or ':00'}{zone.strip()}"
    return text


def _boolean(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = _text(raw)
    if text is None:
        return None
    lowered = text.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else None


def iri(text: str) -> str:
    """A value meant as an IRI, with the characters IRIs forbid percent-encoded."""
    return _NOT_IN_IRI.sub(lambda m: quote(m.group(0), safe=""), text)


# ---------------------------------------------------------------- rows → records


class _RowReader:
    """The values of one row, read through the mapping, with the notes they cause."""

    def __init__(
        self,
        row: Row,
        mapping: Mapping,
        notes: list[Note],
        unmapped: dict[str, dict[str, list[int]]],
        origins: Origins | None = None,
    ):
        self.row = row
        self.mapping = mapping
        self.notes = notes
        self.unmapped = unmapped
        self.origins = origins
        self.values = row.values or {}

    def note(self, fr: str, en: str, *, key: str | None = None, value: str | None = None) -> None:
        column = self.mapping.fields.get(key, (None,))[0] if key else None
        self.notes.append(
            Note(
                self.row.number,
                f"{self.row.label_fr} : {fr}",
                f"{self.row.label_en}: {en}",
                column=column,
                value=value,
                what_fr=fr,
                what_en=en,
                rows=(self.row.number,),
            )
        )

    def raw(self, key: str) -> Any:
        for source in self.mapping.fields.get(key, ()):
            value = self.values.get(source)
            if value not in (None, "", [], {}):
                return value
        return None

    def text(self, key: str) -> str | None:
        found = _text(self.raw(key))
        if found is None:
            constant = self.mapping.constants.get(key)
            return constant if isinstance(constant, str) else None
        return found

    def texts(self, key: str) -> list[str]:
        found: list[str] = []
        for source in self.mapping.fields.get(key, ()):
            found.extend(_texts(self.values.get(source), self.mapping.list_separator))
        if not found:
            found = list(self.mapping.constants.get(key, []))
        return list(dict.fromkeys(found))

    def short_names(self, key: str) -> list[str]:
        """Source categories → LTC short names through [values.<key>], then the short
        names, labels and synonyms of the SKOS scheme whatever the case and accents
        (``harvester.adapters.vocabulary``); never guessed beyond."""
        raw = self.texts(key) if key in _LISTS else [t for t in [self.text(key)] if t]
        table = self.mapping.values.get(key, {})
        known = vocabulary(key)
        names: list[str] = []
        for value in raw:
            if value in table:
                names.extend(table[value])
            elif value in known:
                names.append(value)
            elif matched := skos.match(key, value):
                names.append(matched)
            else:
                rows = self.unmapped.setdefault(key, {}).setdefault(value, [])
                rows.append(self.row.number)
                # kept, made IRI-safe: it expands to an unknown term the shapes report
                names.append(iri(value).replace(":", "%3A").replace("@", "%40"))
        return list(dict.fromkeys(names))

    def hours(self) -> tuple[list[dict[str, Any]], str | None]:
        """The hours understood, and the cell's text when part of it was not (kept on
        the record as ``schema:openingHours``: nothing is dropped)."""
        raw = self.raw("horaires")
        if raw is None:
            return [], None
        if isinstance(raw, str):
            parsed = parse_hours(raw)
            entries = parsed.entries
            problems = [f"{p.text} ({p.fr})" for p in parsed.problems]
            problems_en = [f"{p.text} ({p.en})" for p in parsed.problems]
            kept = raw.strip() if parsed.problems else None
        else:
            entries, problems = gogocarto.open_hours(raw)
            problems_en = problems
            kept = json.dumps(raw, ensure_ascii=False) if problems else None
        if problems:
            self.note(
                f"horaires non compris, gardés en texte : {' ; '.join(problems)}",
                f"opening hours not understood, kept as text: {' ; '.join(problems_en)}",
                key="horaires",
                value=" ; ".join(problems)[:200],
            )
        return entries, kept

    def boolean(self, key: str) -> bool | None:
        raw = self.raw(key)
        if raw is None:
            constant = self.mapping.constants.get(key)
            return constant if isinstance(constant, bool) else None
        found = _boolean(raw)
        if found is None:
            shown = _text(raw) or json.dumps(raw, ensure_ascii=False)
            self.note(
                f"{key} « {shown} » n'est ni oui ni non : laissé de côté",
                f"{key} '{shown}' is neither yes nor no: left out",
                key=key,
                value=shown,
            )
        return found

    def date(self, key: str) -> str | None:
        return _date(self.raw(key)) or self.mapping.constants.get(key)


def _put(record: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        record[key] = value


def _network_record(mapping: Mapping) -> dict[str, Any]:
    record: dict[str, Any] = {"id": mapping.network["id"], "type": "Reseau"}
    for key in _NETWORK_KEYS[1:]:
        _put(record, key, mapping.network.get(key))
    return record


def _fill(template: str, values: dict[str, Any]) -> str | None:
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        text = _text(values.get(match.group(1)))
        if text is None:
            missing = True
            return ""
        return quote(text, safe="-._~")

    filled = _PLACEHOLDER.sub(one, template)
    return None if missing else filled


def _records(reader: _RowReader, iris: dict[str, str]) -> list[dict[str, Any]]:
    mapping = reader.mapping
    place: dict[str, Any] = {"id": iris["lieu"], "type": "Lieu"}
    for key in _PLACE:
        _put(place, key, reader.text(key))
    address = {"type": "Adresse"}
    for key in _ADDRESS:
        _put(address, key, reader.text(key))
    if len(address) > 1:
        place["adresse"] = address
    if "latitude" in mapping.fields:
        geo = {"type": "Coordonnees"}
        _put(geo, "latitude", number(reader.raw("latitude")))
        _put(geo, "longitude", number(reader.raw("longitude")))
        if len(geo) > 1:
            place["geo"] = geo
    hours, hours_text = reader.hours()
    _put(place, "horaires", hours)
    _put(place, standard.HOURS_TEXT, hours_text)
    for key in ("memeQue", "identiqueA"):
        _put(place, key, [iri(t) for t in reader.texts(key)])
    _put(place, "themes", reader.short_names("themes"))
    place_types = reader.short_names("typeLieu")
    _put(place, "typeLieu", place_types[0] if len(place_types) == 1 else place_types)
    _put(place, "accessiblePMR", reader.boolean("accessiblePMR"))
    _put(place, "accessibilite", reader.text("accessibilite"))
    modified = reader.date("dateModification")
    _put(place, "dateModification", modified)

    organisation: dict[str, Any] = {"id": iris["organisation"], "type": "Organisation"}
    for key in _ORGANISATION:
        if key == "themes":
            _put(organisation, key, place.get("themes"))
        elif key == "siteWeb":
            url = reader.text(key)
            _put(organisation, key, iri(url) if url else None)
        else:
            _put(organisation, key, reader.text(key))
    organisation["reseau"] = mapping.network["id"]
    _put(organisation, "dateModification", modified)

    presence: dict[str, Any] = {
        "id": iris["presence"],
        "type": "Presence",
        "organisation": iris["organisation"],
        "lieu": iris["lieu"],
    }
    _put(presence, "role", list(mapping.role))
    _put(presence, "activites", reader.texts("activites"))
    _put(presence, "dateModification", modified)
    if reader.origins is not None:
        _remember(reader.origins, reader.row.number, mapping, place, "lieu")
        _remember(reader.origins, reader.row.number, mapping, organisation, "organisation")
        _remember(reader.origins, reader.row.number, mapping, presence, "presence")
    return [place, organisation, presence]


_NESTED = ("adresse", "geo")


def _remember(origins: Origins, row: int, mapping: Mapping, record: dict, kind: str) -> None:
    """Where a record of one row came from: the row, and each key's column."""
    iri_value = record["id"]
    origins.rows[iri_value] = [row]
    origins.kinds[iri_value] = kind
    keys = [k for k in record if k not in _NESTED]
    keys += [k for nested in _NESTED for k in record.get(nested, {})]
    for key in keys:
        if key == standard.HOURS_TEXT:
            key = "horaires"
        if key in mapping.fields:
            origins.cells[(iri_value, key)] = (row, mapping.fields[key][0])


def adapt_with_notes(
    data: bytes, adapter: str, mapping: Mapping, *, budget: MemoryBudget | None = None
) -> Adapted:
    """The JSON-LD document of an export, with notes on what had to be changed or left
    out. ``budget`` bounds the memory reading a spreadsheet may take (default: 1 GiB)."""
    if adapter not in (*ADAPTERS, STANDARD):
        names = ", ".join((*ADAPTERS, STANDARD))
        raise FeedError(
            f"adaptateur inconnu « {adapter} » (possibles : {names})",
            f"unknown adapter '{adapter}' (possible: {names})",
        )
    if adapter != mapping.adapter:
        raise FeedError(
            f"la correspondance est écrite pour l'adaptateur « {mapping.adapter} », "
            f"pas « {adapter} »",
            f"the mapping is written for the '{mapping.adapter}' adapter, not '{adapter}'",
        )
    budget = budget or MemoryBudget(DEFAULT_MAX_MEMORY)
    if adapter == STANDARD:
        return adapt_standard(csv_table.read_any(data, mapping, budget), mapping)
    table = None
    if adapter == "csv":
        table = csv_table.read_any(data, mapping, budget)
        rows = csv_table.rows_of(table, mapping)
    else:
        rows = ADAPTERS[adapter](data, mapping)
    graph: list[dict[str, Any]] = [_network_record(mapping)]
    notes: list[Note] = []
    unmapped: dict[str, dict[str, list[int]]] = {}
    origins = Origins(kinds={mapping.network["id"]: "reseau"})
    if table is not None:
        origins.columns = dict(table.columns)
    minted: set[str] = {mapping.network["id"]}
    for row in rows:
        reader = _RowReader(row, mapping, notes, unmapped, origins)
        if row.values is None:
            reader.note("ce n'est pas un objet JSON : ignorée", "not a JSON object: skipped")
            continue
        iris = {kind: _fill(mapping.iri[kind], row.values) for kind in _IRI_KEYS}
        if any(v is None for v in iris.values()):
            empty = {
                name
                for kind in _IRI_KEYS
                for name in mapping.template_fields(kind)
                if _text(row.values.get(name)) is None
            }
            names = ", ".join(sorted(empty))
            reader.notes.append(
                replace(
                    _skipped(reader, f"pas d'identifiant (champ {names} vide) : ignorée",
                             f"no identifier (field {names} empty): skipped"),
                    column=sorted(empty)[0] if empty else None,
                )
            )  # fmt: skip
            continue
        if minted & set(iris.values()):
            reader.notes.append(
                _skipped(reader, f"identifiant en double ({iris['lieu']}) : ignorée",
                         f"duplicate identifier ({iris['lieu']}): skipped")
            )  # fmt: skip
            continue
        minted.update(iris.values())  # type: ignore[arg-type]
        graph.extend(_records(reader, iris))  # type: ignore[arg-type]
    for key, values in unmapped.items():
        listed = sorted(values.items())[:20]
        more = len(values) - len(listed)
        shown = ", ".join(f"« {v} » ({len(n)})" for v, n in listed) + (
            f"… (+{more})" if more else ""
        )
        shown_en = ", ".join(f"'{v}' ({len(n)})" for v, n in listed) + (
            f"… (+{more})" if more else ""
        )
        notes.append(
            Note(
                None,
                f"valeurs de {key} sans correspondance (à ajouter dans [values.{key}]) : {shown}",
                f"{key} values without a match (add them to [values.{key}]): {shown_en}",
                column=mapping.fields.get(key, (None,))[0],
                what_fr=f"valeurs sans correspondance : {shown} ; ajoutez-les dans "
                f"[values.{key}] de la correspondance",
                what_en=f"values without a match: {shown_en}; add them to [values.{key}] of "
                "the mapping",
                rows=tuple(sorted({r for rows in values.values() for r in rows})),
            )
        )
    document = {"@context": LTC_CONTEXT, "@graph": graph}
    return Adapted(document, notes, origins=origins, table=table)


def _skipped(reader: _RowReader, fr: str, en: str) -> Note:
    row = reader.row
    return Note(
        row.number,
        f"{row.label_fr} : {fr}",
        f"{row.label_en}: {en}",
        severity="Violation",
        what_fr=fr,
        what_en=en,
        rows=(row.number,),
    )


def adapt_standard(table: Any, mapping: Mapping) -> Adapted:
    """The JSON-LD document of a table following the standard template."""
    options = standard.StandardOptions(
        namespace=mapping.namespace or standard.PLACEHOLDER_NAMESPACE,
        network=mapping.network["id"],
        network_name=mapping.network.get("nom", standard.PLACEHOLDER_NETWORK_NAME),
    )
    return standard.adapt_table(table, options)


def adapt(
    data: bytes, adapter: str, mapping: Mapping, *, budget: MemoryBudget | None = None
) -> dict[str, Any]:
    """The JSON-LD document (a dict) of a GoGoCarto export or a spreadsheet, or a
    FeedError."""
    return adapt_with_notes(data, adapter, mapping, budget=budget).document


def convert(data: bytes, mapping: Mapping) -> str:
    """The export as pretty-printed JSON-LD text, for ``ltc convert``; adapter from the mapping."""
    document = adapt(data, mapping.adapter, mapping)
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
