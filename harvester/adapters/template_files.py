"""The standard spreadsheet as files to download: its Table Schema and ready-to-fill
templates (CSV, XLSX, ODS) with example rows.

Everything comes from ``harvester.adapters.standard.COLUMNS`` and ``EXAMPLE_ROWS``, so the
files always say what the adapter reads. The registry serves them (``/publier``) and
``docs/modele-tableur/build.py`` writes the same bytes into the repository (a test checks
they are the same). The XLSX and ODS files are written here with the standard library:
a few XML parts in a zip, with fixed dates so that the bytes never change; the columns
whose values must stay text (postcodes, INSEE codes, phone numbers, dates) are formatted
as text, so that a spreadsheet program keeps a postcode's leading zero.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from functools import cache
from xml.sax.saxutils import escape, quoteattr

from harvester.adapters.standard import COLUMNS, EXAMPLE_ROWS, Column
from harvester.adapters.vocabulary import label, short_names
from harvester.spreadsheet import column_letter

BASE_NAME = "modele-lieux"
SHEET = "Lieux"
HELP_SHEET = "Aide"
TEMPLATE_FILES = {
    "schema.json": "application/schema+json",
    f"{BASE_NAME}.csv": "text/csv; charset=utf-8",
    f"{BASE_NAME}.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    f"{BASE_NAME}.ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_DATE = (2026, 11, 30, 0, 0, 0)  # fixed: the same bytes at every build
SCHEMA_VERSION = "0.1.0"


def template_file(name: str) -> tuple[bytes, str]:
    """A template file's bytes and media type; KeyError for an unknown name."""
    media_type = TEMPLATE_FILES[name]
    builders = {
        "schema.json": schema_json,
        f"{BASE_NAME}.csv": template_csv,
        f"{BASE_NAME}.xlsx": template_xlsx,
        f"{BASE_NAME}.ods": template_ods,
    }
    return builders[name](), media_type


def _vocabulary_note(column: Column) -> str:
    vocab = {"themes": "themes", "role": "role", "type_lieu": "typeLieu"}.get(column.name)
    if vocab is None:
        return ""
    names = ", ".join(f"{n} ({label(vocab, n)})" for n in short_names(vocab))
    return f" Valeurs : {names}."


# ---------------------------------------------------------------- schema.json


@cache
def schema_json() -> bytes:
    """The template as a Table Schema (frictionlessdata.io), in French."""
    fields = []
    for column in COLUMNS:
        entry: dict = {
            "name": column.name,
            "title": column.title,
            "description": column.description + _vocabulary_note(column),
            "example": column.example or _example(column),
            "type": column.type,
        }
        if column.format:
            entry["format"] = column.format
        constraints: dict = {}
        if column.required:
            constraints["required"] = True
        if column.pattern:
            constraints["pattern"] = column.pattern
        if column.type == "boolean":
            entry["trueValues"] = ["oui", "Oui", "OUI", "vrai", "true", "1"]
            entry["falseValues"] = ["non", "Non", "NON", "faux", "false", "0"]
        if column.type == "number":
            entry["decimalChar"] = ","
        if column.type == "date":
            entry["type"] = "string"
            constraints["pattern"] = r"^(\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}.*)$"
        if constraints:
            entry["constraints"] = constraints
        fields.append(entry)
    schema = {
        "$schema": "https://frictionlessdata.io/schemas/table-schema.json",
        "name": "ltc-lieux",
        "title": "Lieux de Convergence de la Transition : modèle de tableur",
        "description": (
            "Les lieux d'un réseau membre du collectif des Lieux de Convergence de la "
            "Transition, une ligne par présence d'une organisation dans un lieu. Les "
            "lignes de même id_lieu décrivent un même lieu ; les horaires sont ceux de "
            "l'organisation dans ce lieu, horaires_lieu ceux du lieu. Le registre LTC lit "
            "ce tableau en CSV (UTF-8 ou Windows-1252, séparateur ; ou ,), XLSX ou ODS, "
            "sans correspondance à écrire."
        ),
        "countryCode": "FR",
        "homepage": "https://w3id.org/ltc/publier",
        "example": f"{BASE_NAME}.csv",
        "version": SCHEMA_VERSION,
        "created": "2026-11-30",
        "lastModified": "2026-11-30",
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "title": "Creative Commons Attribution 4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
            }
        ],
        "missingValues": [""],
        "fields": fields,
    }
    return (json.dumps(schema, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _example(column: Column) -> str:
    for row in EXAMPLE_ROWS:
        if row.get(column.name):
            return row[column.name]
    return ""


def rows() -> list[list[str]]:
    """The header, then the example rows."""
    header = [c.name for c in COLUMNS]
    return [header] + [[row.get(name, "") for name in header] for row in EXAMPLE_ROWS]


def help_rows() -> list[list[str]]:
    """The « Aide » sheet: one line per column."""
    table = [["colonne", "titre", "obligatoire", "description", "exemple"]]
    for column in COLUMNS:
        table.append(
            [
                column.name,
                column.title,
                "oui" if column.required else "",
                column.description + _vocabulary_note(column),
                column.example or _example(column),
            ]
        )
    return table


# ---------------------------------------------------------------- CSV


@cache
def template_csv() -> bytes:
    """UTF-8 with a BOM and ``;``: what French Excel opens as it is."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _zip(parts: list[tuple[str, bytes]], stored: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def _numeric(column: str, value: str) -> float | None:
    if column not in ("latitude", "longitude") or not value:
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError:
        return None


# ---------------------------------------------------------------- XLSX

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_BOLD, _TEXT, _WRAP = 1, 2, 3  # cell formats of styles.xml


def _xlsx_sheet(table: list[list[str]], widths: list[int], text_columns: set[int]) -> bytes:
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"'
        + (f' style="{_TEXT}"' if i in text_columns else "")
        + "/>"
        for i, w in enumerate(widths)
    )
    lines = []
    header = table[0]
    for r, values in enumerate(table, 1):
        cells = []
        for i, value in enumerate(values):
            if value == "":
                continue
            ref = f"{column_letter(i)}{r}"
            style = _BOLD if r == 1 else _TEXT if i in text_columns else 0
            style_attr = f' s="{style}"' if style else ""
            number = _numeric(header[i], value) if r > 1 else None
            if number is not None:
                cells.append(f'<c r="{ref}"{style_attr}><v>{number!r}</v></c>')
            else:
                cells.append(
                    f'<c r="{ref}"{style_attr} t="inlineStr"><is><t xml:space="preserve">'
                    f"{escape(value)}</t></is></c>"
                )
        lines.append(f'<row r="{r}">{"".join(cells)}</row>')
    return (
        f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        "</sheetView></sheetViews>"
        f"<cols>{cols}</cols><sheetData>{''.join(lines)}</sheetData></worksheet>"
    ).encode()


def _widths(table: list[list[str]]) -> list[int]:
    return [min(60, max(10, max(len(row[i]) for row in table) + 2)) for i in range(len(table[0]))]


@cache
def template_xlsx() -> bytes:
    """The template as an Excel workbook: the « Lieux » sheet, then « Aide »."""
    text_columns = {i for i, c in enumerate(COLUMNS) if c.text_format}
    data, helping = rows(), help_rows()
    content_types = (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/></Types>'
    )
    root_rels = (
        f'{_XML}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        f'<sheet name="{SHEET}" sheetId="1" r:id="rId1"/>'
        f'<sheet name="{HELP_SHEET}" sheetId="2" r:id="rId2"/></sheets></workbook>'
    )
    workbook_rels = (
        f'{_XML}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/worksheet" Target="worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
    )
    styles = (
        f'{_XML}<styleSheet xmlns="{_MAIN}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
        'borderId="0"/></cellStyleXfs><cellXfs count="4">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" '
        'applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
        '<alignment wrapText="1" vertical="top"/></xf></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    )
    help_widths = [16, 28, 12, 90, 40]
    return _zip(
        [
            ("[Content_Types].xml", content_types.encode()),
            ("_rels/.rels", root_rels.encode()),
            ("xl/workbook.xml", workbook.encode()),
            ("xl/_rels/workbook.xml.rels", workbook_rels.encode()),
            ("xl/styles.xml", styles.encode()),
            ("xl/worksheets/sheet1.xml", _xlsx_sheet(data, _widths(data), text_columns)),
            ("xl/worksheets/sheet2.xml", _xlsx_sheet(helping, help_widths, set())),
        ]
    )


# ---------------------------------------------------------------- ODS

_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"'
)


def _ods_columns(prefix: str, widths: list[int]) -> str:
    return "".join(
        f'<style:style style:name="{prefix}{i}" style:family="table-column">'
        f'<style:table-column-properties style:column-width="{w * 0.21:.2f}cm"/>'
        "</style:style>"
        for i, w in enumerate(widths)
    )


def _ods_table(
    name: str, prefix: str, table: list[list[str]], widths: list[int], text: set[int]
) -> str:
    columns = "".join(
        f'<table:table-column table:style-name="{prefix}{i}" table:default-cell-style-name='
        f'"{"ceText" if i in text else "Default"}"/>'
        for i in range(len(widths))
    )
    header = table[0]
    lines = []
    for r, values in enumerate(table):
        cells = []
        for i, value in enumerate(values):
            style = (
                ' table:style-name="ceBold"'
                if r == 0
                else (' table:style-name="ceText"' if i in text else "")
            )
            number = _numeric(header[i], value) if r else None
            if value == "":
                cells.append(f"<table:table-cell{style}/>")
            elif number is not None:
                cells.append(
                    f'<table:table-cell{style} office:value-type="float" office:value='
                    f'"{number!r}"><text:p>{escape(value)}</text:p></table:table-cell>'
                )
            else:
                cells.append(
                    f'<table:table-cell{style} office:value-type="string"><text:p>'
                    f"{escape(value)}</text:p></table:table-cell>"
                )
        lines.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    return f"<table:table table:name={quoteattr(name)}>{columns}{''.join(lines)}</table:table>"


@cache
def template_ods() -> bytes:
    """The template as an OpenDocument spreadsheet: « Lieux », then « Aide »."""
    text_columns = {i for i, c in enumerate(COLUMNS) if c.text_format}
    data, helping = rows(), help_rows()
    widths = _widths(data)
    help_widths = [16, 28, 12, 90, 40]
    column_styles = _ods_columns("coL", widths) + _ods_columns("coA", help_widths)
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_ODS_NS} '
        'office:version="1.2"><office:automatic-styles>'
        '<number:text-style style:name="NText"><number:text-content/></number:text-style>'
        f"{column_styles}"
        '<style:style style:name="ceBold" style:family="table-cell">'
        '<style:text-properties fo:font-weight="bold"/></style:style>'
        '<style:style style:name="ceText" style:family="table-cell" '
        'style:data-style-name="NText"/>'
        "</office:automatic-styles><office:body><office:spreadsheet>"
        f"{_ods_table(SHEET, 'coL', data, widths, text_columns)}"
        f"{_ods_table(HELP_SHEET, 'coA', helping, help_widths, set())}"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type='
        '"text/xml"/></manifest:manifest>'
    )
    return _zip(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            ("META-INF/manifest.xml", manifest.encode()),
            ("content.xml", content.encode()),
        ],
        stored=("mimetype",),
    )
