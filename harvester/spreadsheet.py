"""Any spreadsheet file, read safely as a table: CSV, XLSX or ODS.

- **CSV**: UTF-8 with or without BOM, UTF-16 with its BOM, or else the encoding
  charset-normalizer detects among those spreadsheets write (Windows-1252 — what French
  Excel saves —, Mac Roman, DOS 850; Latin-1 reads as Windows-1252); ``;``, ``,``, tab or
  ``|``, the most frequent in the header line.
- **XLSX and ODS** (first sheet, or one named) are read by python-calamine. They are zip
  archives of XML sent by anyone, so before calamine sees one the archive is checked
  here: members counted, every member decompressed as a stream and the total capped at
  ``max_bytes`` (a zip bomb stops there, in a fraction of a second, whatever its headers
  claim), XML with a DOCTYPE or entity declarations refused, XML in UTF-16 refused (it
  would hide them), and the extent of the sheet measured from its cell positions and
  repeats (calamine allocates a dense rectangle: one cell at ``XFD1048576`` would ask for
  512 GB and abort the process). Rows, columns and cells are capped, and the memory the
  sheet will take is estimated and checked against the feed's budget before it is
  loaded.

Rows are numbered as the spreadsheet program shows them (the header is usually row 1),
so that every finding can name the row to fix.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from harvester.budget import MemoryBudget
from harvester.errors import FeedError

CSV, XLSX, ODS = "csv", "xlsx", "ods"
DELIMITERS = (";", ",", "\t", "|")
ODS_MEDIA_TYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_CSV_MEDIA_TYPES = {
    "text/csv",
    "text/comma-separated-values",
    "text/tab-separated-values",
    "application/csv",
    "application/vnd.ms-excel",  # what Windows browsers send for a .csv upload
}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003)
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_CHUNK = 1 << 16
CELL_BYTES = 160  # memory of one cell once read (calamine's dense range, then Python text)
_DETECTED = ("cp1252", "mac_roman", "cp850")
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (avec BOM)",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "mac_roman": "Mac Roman",
    "cp850": "DOS 850",
    "latin_1": "Latin-1",
}


@dataclass(frozen=True)
class TableLimits:
    """What one table may hold; beyond, it is refused with a clear reason."""

    max_bytes: int = 64 * 1024 * 1024  # the file, and the archive once decompressed
    max_rows: int = 100_000
    max_columns: int = 500
    max_cells: int = 2_000_000  # rows × columns of the sheet's extent
    max_members: int = 2_000  # files inside an XLSX or ODS archive


@dataclass
class TableRow:
    """One row: its number as the spreadsheet shows it, its cells as text."""

    number: int
    cells: list[str]
    numeric: frozenset[int] = frozenset()  # columns whose cell held a number, not text

    def get(self, index: int | None) -> str:
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index]


@dataclass
class Table:
    """The header and the data rows of one sheet (or CSV file)."""

    kind: str  # csv, xlsx, ods
    header: list[str]
    header_row: int
    rows: list[TableRow]
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.columns:
            for index, name in enumerate(self.header):
                if name:
                    self.columns.setdefault(name, index)

    def index(self, name: str) -> int | None:
        return self.columns.get(name)

    @property
    def described(self) -> str:
        """How the file was read, in French (« CSV en Windows-1252, séparateur ; »)."""
        if self.kind == CSV:
            shown = "tabulation" if self.delimiter == "\t" else f"« {self.delimiter} »"
            name = ENCODING_NAMES.get(self.encoding or "", self.encoding or "?")
            return f"CSV en {name}, séparateur {shown}"
        return f"{self.kind.upper()}, feuille « {self.sheet} »"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as a spreadsheet names it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _letters_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + (ord(char) - 64)
    return number


# ---------------------------------------------------------------- what a file is


def table_format(
    data: bytes, filename: str | None = None, content_type: str | None = None
) -> str | None:
    """``csv``, ``xlsx`` or ``ods`` when ``data`` is a spreadsheet, None otherwise (an RDF
    feed, say); a FeedError for an old ``.xls`` or a zip that is neither XLSX nor ODS."""
    name = (filename or "").lower().split("?")[0]
    media = (content_type or "").split(";")[0].strip().lower()
    if data.startswith(_OLE_MAGIC):
        raise FeedError(
            "ancien format Excel (.xls) : enregistrez le fichier en XLSX, ODS ou CSV",
            "old Excel format (.xls): save the file as XLSX, ODS or CSV",
        )
    if data.startswith(_ZIP_MAGIC):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError) as error:
            raise FeedError(
                f"archive ZIP illisible (XLSX ou ODS abîmé ?) : {error}",
                f"unreadable ZIP archive (damaged XLSX or ODS?): {error}",
            ) from error
        if "xl/workbook.xml" in names:
            return XLSX
        if "content.xml" in names and ("mimetype" in names or name.endswith(".ods")):
            return ODS
        raise FeedError(
            "archive ZIP qui n'est ni un classeur XLSX ni un classeur ODS",
            "ZIP archive that is neither an XLSX nor an ODS workbook",
        )
    if name.endswith((".csv", ".tsv", ".tab")) or media in _CSV_MEDIA_TYPES:
        return CSV
    if name.endswith((".xlsx", ".ods")):
        raise FeedError(
            "le fichier porte l'extension d'un classeur mais n'en est pas un (pas une "
            "archive ZIP) : enregistrez-le à nouveau depuis le tableur",
            "the file has a workbook's extension but is not one (not a ZIP archive): save "
            "it again from the spreadsheet program",
        )
    return None


def read_table(
    data: bytes,
    *,
    kind: str | None = None,
    filename: str | None = None,
    content_type: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
    encoding: str = "auto",
    limits: TableLimits | None = None,
    budget: MemoryBudget | None = None,
) -> Table:
    """The table of a spreadsheet file (``kind`` detected when not given); a FeedError
    says why it cannot be read. ``encoding`` (CSV): ``auto`` or a codec name."""
    limits = limits or TableLimits()
    budget = budget or MemoryBudget(0)
    if len(data) > limits.max_bytes:
        raise FeedError(
            f"fichier trop gros ({len(data)} octets, {limits.max_bytes} au plus)",
            f"file too large ({len(data)} bytes, at most {limits.max_bytes})",
        )
    if not data.strip():
        raise FeedError("fichier vide", "empty file")
    kind = kind or table_format(data, filename, content_type) or CSV
    if kind == CSV:
        return _read_csv(data, delimiter, encoding, limits, budget)
    if kind in (XLSX, ODS):
        return _read_workbook(data, kind, sheet, limits, budget)
    raise FeedError(f"format de tableur inconnu : {kind}", f"unknown spreadsheet format: {kind}")


def _refuse_rows(limits: TableLimits) -> FeedError:
    return FeedError(
        f"trop de lignes (plus de {limits.max_rows}) : découpez le tableau",
        f"too many rows (more than {limits.max_rows}): split the table",
    )


def _refuse_columns(count: int, limits: TableLimits) -> FeedError:
    return FeedError(
        f"trop de colonnes ({count}, {limits.max_columns} au plus)",
        f"too many columns ({count}, at most {limits.max_columns})",
    )


# ---------------------------------------------------------------- CSV


def decode_text(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read in."""
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as error:
            line = data.count(b"\n", 0, getattr(error, "start", 0)) + 1
            raise FeedError(
                f"le fichier n'est pas en {encoding} (octet {getattr(error, 'start', '?')})",
                f"the file is not {encoding} (byte {getattr(error, 'start', '?')})",
                line=line,
            ) from error
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise FeedError(
                "fichier UTF-16 abîmé : enregistrez-le en CSV UTF-8",
                "damaged UTF-16 file: save it as CSV UTF-8",
            ) from error
    if b"\x00" in data[:65536]:
        raise FeedError(
            "fichier binaire : ce n'est ni un CSV, ni un XLSX, ni un ODS",
            "binary file: neither a CSV, an XLSX nor an ODS file",
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(data[: 1 << 20], cp_isolation=list(_DETECTED)).best()
    chosen = best.encoding if best is not None and best.encoding in _DETECTED else "cp1252"
    try:
        return data.decode(chosen), chosen
    except UnicodeDecodeError:
        return data.decode("latin_1"), "latin_1"


def sniff_delimiter(header: str) -> str:
    """The most frequent of ``; , tab |`` in the header line, outside quotes (``;`` on a
    tie: French spreadsheets write it)."""
    bare = re.sub(r'"[^"]*"', "", header)
    counts = {d: bare.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _read_csv(
    data: bytes, delimiter: str | None, encoding: str, limits: TableLimits, budget: MemoryBudget
) -> Table:
    text, used = decode_text(data, encoding)
    return read_csv_text(text, used, delimiter, limits, budget)


def read_csv_text(
    text: str,
    encoding: str,
    delimiter: str | None = None,
    limits: TableLimits | None = None,
    budget: MemoryBudget | None = None,
) -> Table:
    """The table of a CSV file's text (``encoding``: what it was read in)."""
    limits = limits or TableLimits()
    # parsed cells take about 60 bytes each on top of their text
    separators = text.count("\n") + text.count(";") + text.count(",") + text.count("\t")
    estimate = len(text) * 3 + separators * 60
    (budget or MemoryBudget(0)).check(
        1.0, 0, "lecture du tableur", "reading the spreadsheet", ahead=estimate
    )
    first = next((line for line in text.splitlines() if line.strip()), "")
    if re.match(r"\s*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", first, re.IGNORECASE):
        raise FeedError(
            "une page web (HTML) a été reçue au lieu d'un tableur : le tableur est-il publié, "
            "ou partagé en lecture à tous ? (donnez l'adresse de son export CSV)",
            "a web page (HTML) was received instead of a spreadsheet: is the spreadsheet "
            "published, or shared for anyone to read? (give the address of its CSV export)",
        )
    delimiter = delimiter or sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_row = 0
    rows: list[TableRow] = []
    number = 0
    try:
        for cells in reader:
            number += 1
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip().lstrip("\ufeff").strip() for c in cells]
                header_row = number
                if len(header) > limits.max_columns:
                    raise _refuse_columns(len(header), limits)
                continue
            if len(rows) >= limits.max_rows:
                raise _refuse_rows(limits)
            rows.append(TableRow(number, [c.strip() for c in cells[: len(header)]]))
    except csv.Error as error:
        raise FeedError(
            f"CSV illisible : {error}", f"unreadable CSV: {error}", line=reader.line_num
        ) from error
    if header is None:
        raise FeedError("fichier CSV vide", "empty CSV file")
    return Table(CSV, header, header_row, rows, encoding=encoding, delimiter=delimiter)


# ---------------------------------------------------------------- XLSX and ODS: the archive


def _members(data: bytes, limits: TableLimits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise FeedError(
            f"archive illisible (classeur abîmé ?) : {error}",
            f"unreadable archive (damaged workbook?): {error}",
        ) from error
    if len(infos) > limits.max_members:
        raise FeedError(
            f"classeur refusé : l'archive contient {len(infos)} fichiers "
            f"({limits.max_members} au plus)",
            f"workbook refused: the archive holds {len(infos)} files "
            f"(at most {limits.max_members})",
        )
    if any(info.flag_bits & 0x1 for info in infos):
        raise FeedError(
            "classeur protégé par un mot de passe : enregistrez-le sans mot de passe",
            "password-protected workbook: save it without a password",
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_bytes:
        raise _bomb(limits)
    return archive


def _bomb(limits: TableLimits) -> FeedError:
    return FeedError(
        f"classeur refusé : une fois décompressé il dépasserait {limits.max_bytes} octets "
        "(bombe de décompression ?)",
        f"workbook refused: decompressed it would exceed {limits.max_bytes} bytes "
        "(decompression bomb?)",
    )


def _stream(
    archive: zipfile.ZipFile, name: str, spent: list[int], limits: TableLimits
) -> Iterator[bytes]:
    """A member's bytes, chunk by chunk, counted against the archive's total."""
    try:
        with archive.open(name) as member:
            while chunk := member.read(_CHUNK):
                spent[0] += len(chunk)
                if spent[0] > limits.max_bytes:
                    raise _bomb(limits)
                yield chunk
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        raise FeedError(
            f"classeur abîmé ({name}) : {error}", f"damaged workbook ({name}): {error}"
        ) from error
    except RuntimeError as error:  # encrypted member
        raise FeedError(
            f"classeur illisible ({name}) : {error}", f"unreadable workbook ({name}): {error}"
        ) from error


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def _xml_chunks(
    archive: zipfile.ZipFile, name: str, spent: list[int], limits: TableLimits
) -> Iterator[bytes]:
    """An XML member's bytes, refusing UTF-16 and any DOCTYPE or entity declaration."""
    tail = b""
    first = True
    for chunk in _stream(archive, name, spent, limits):
        if first:
            first = False
            if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
                b"\x00" in chunk[:64]
            ):
                raise FeedError(
                    f"classeur refusé : {name} est en UTF-16",
                    f"workbook refused: {name} is UTF-16 encoded",
                )
        if _DTD.search(tail + chunk):
            raise FeedError(
                f"classeur refusé : {name} déclare un DOCTYPE ou des entités XML, qu'un "
                "tableur n'écrit jamais (attaque par entités ?)",
                f"workbook refused: {name} declares a DOCTYPE or XML entities, which no "
                "spreadsheet program writes (entity attack?)",
            )
        tail = chunk[-16:]
        yield chunk


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass
class _Extent:
    """The rectangle a sheet's cells span, as calamine will allocate it."""

    rows: int = 0
    columns: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def _pull(chunks: Iterator[bytes]) -> Iterator[tuple[str, ET.Element, int]]:
    """Start and end events of an XML stream; an end event comes with the number of
    child elements the element had. Each element is dropped from its parent once ended,
    so memory stays flat whatever the size."""
    parser = ET.XMLPullParser(events=("start", "end"))
    stack: list[ET.Element] = []
    children: list[int] = []
    try:
        for chunk in chunks:
            parser.feed(chunk)
            for event, element in parser.read_events():
                if event == "start":
                    if children:
                        children[-1] += 1
                    stack.append(element)
                    children.append(0)
                    yield event, element, 0
                else:
                    stack.pop()
                    yield event, element, children.pop()
                    if stack:
                        stack[-1].remove(element)
        parser.close()
    except ET.ParseError as error:
        raise FeedError(
            f"XML du classeur illisible : {error}", f"unreadable workbook XML: {error}"
        ) from error


def _xlsx_extent(chunks: Iterator[bytes]) -> _Extent:
    extent = _Extent()
    row = column = 0
    for event, element, count in _pull(chunks):
        tag = _local(element.tag)
        if event == "start" and tag == "row":
            ref = element.get("r")
            row = int(ref) if ref and ref.isdigit() and len(ref) < 10 else row + 1
            column = 0
        elif event == "start" and tag == "c":
            ref = element.get("r") or ""
            found = re.fullmatch(r"([A-Za-z]{1,4})(\d{1,9})", ref)
            if found:
                column = _letters_number(found.group(1))
                row = int(found.group(2))
            else:
                column += 1
        elif event == "end" and tag == "c" and count:
            extent.rows = max(extent.rows, row)
            extent.columns = max(extent.columns, column)
    return extent


_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def _repeat(element: ET.Element, attribute: str) -> int:
    raw = element.get(f"{{{_TABLE_NS}}}{attribute}") or "1"
    return int(raw) if raw.isdigit() and len(raw) < 10 else 1


def _ods_extents(chunks: Iterator[bytes]) -> dict[str, _Extent]:
    """Each table's extent, repeats counted (a repeated row or cell with content is that
    many rows or cells to calamine; empty trailing repeats are not)."""
    extents: dict[str, _Extent] = {}
    current: _Extent | None = None
    row = column = 0
    row_content = 0  # the column where the row's last content ends
    for event, element, count in _pull(chunks):
        tag = _local(element.tag)
        if tag == "table" and element.tag.startswith(f"{{{_TABLE_NS}}}"):
            if event == "start":
                name = element.get(f"{{{_TABLE_NS}}}name") or f"Feuille{len(extents) + 1}"
                current = extents.setdefault(name, _Extent())
                row = 0
            continue
        if current is None:
            continue
        if tag == "table-row":
            if event == "start":
                column = row_content = 0
            else:
                repeat = _repeat(element, "number-rows-repeated")
                if row_content:
                    current.rows = row + repeat
                    current.columns = max(current.columns, row_content)
                row += repeat
        elif tag in ("table-cell", "covered-table-cell") and event == "end":
            repeat = _repeat(element, "number-columns-repeated")
            filled = count or element.get(f"{{{_OFFICE_NS}}}value-type")
            column += repeat
            if filled:
                row_content = column
    return extents


def _xlsx_sheet_paths(archive: zipfile.ZipFile, spent: list[int], limits: TableLimits) -> dict:
    """Sheet name → its member path, from the workbook and its relationships."""

    def root(name: str) -> ET.Element | None:
        if name not in archive.namelist():
            return None
        data = b"".join(_xml_chunks(archive, name, spent, limits))
        try:
            return ET.fromstring(data)
        except ET.ParseError as error:
            raise FeedError(
                f"XML du classeur illisible ({name}) : {error}",
                f"unreadable workbook XML ({name}): {error}",
            ) from error

    workbook, relations = root("xl/workbook.xml"), root("xl/_rels/workbook.xml.rels")
    if workbook is None or relations is None:
        return {}
    targets = {
        rel.get("Id"): rel.get("Target", "")
        for rel in relations
        if _local(rel.tag) == "Relationship"
    }
    paths = {}
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        target = targets.get(rid, "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        paths[element.get("name", "")] = re.sub(r"[^/]+/\.\./", "", path)
    return paths


def _check_archive(
    data: bytes, kind: str, limits: TableLimits
) -> tuple[dict[str, _Extent], _Extent, int]:
    """Check every member of the archive (see the module); the extent of each sheet (by
    name, or by member path for XLSX), the largest, and the bytes of XML decompressed."""
    archive = _members(data, limits)
    spent = [0]
    extents: dict[str, _Extent] = {}
    for info in archive.infolist():
        name = info.filename
        if info.is_dir():
            continue
        if kind == XLSX and re.fullmatch(r"xl/worksheets/[^/]+\.xml", name):
            extents[name] = _xlsx_extent(_xml_chunks(archive, name, spent, limits))
        elif kind == ODS and name == "content.xml":
            extents.update(_ods_extents(_xml_chunks(archive, name, spent, limits)))
        elif _is_xml(name):
            for _ in _xml_chunks(archive, name, spent, limits):
                pass
        else:
            for _ in _stream(archive, name, spent, limits):
                pass
    if kind == XLSX:
        paths = _xlsx_sheet_paths(archive, spent, limits)
        extents.update({sheet: extents[path] for sheet, path in paths.items() if path in extents})
    largest = max(extents.values(), key=lambda e: e.cells, default=_Extent())
    return extents, largest, spent[0]


def _check_extent(extent: _Extent, sheet: str, limits: TableLimits) -> None:
    if extent.columns > limits.max_columns:
        raise _refuse_columns(extent.columns, limits)
    if extent.rows > limits.max_rows + 1:
        raise _refuse_rows(limits)
    if extent.cells > limits.max_cells:
        raise FeedError(
            f"feuille « {sheet} » trop grande : {extent.rows} lignes × {extent.columns} "
            f"colonnes ({limits.max_cells} cellules au plus) ; effacez les cellules remplies "
            "loin du tableau",
            f"sheet '{sheet}' too large: {extent.rows} rows × {extent.columns} columns "
            f"(at most {limits.max_cells} cells); clear the cells filled far from the table",
        )


# ---------------------------------------------------------------- XLSX and ODS: the sheet


def cell_text(value: object) -> tuple[str, bool]:
    """A cell as text, and whether it held a number. Whole numbers lose their ``.0``;
    dates become ``AAAA-MM-JJ``, times ``HH:MM``."""
    if value is None or value == "":
        return "", False
    if isinstance(value, bool):
        return ("oui" if value else "non"), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value), True
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), True
        return repr(value), True
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat(), False
        return value.isoformat(timespec="minutes" if not value.second else "seconds"), False
    if isinstance(value, dt.date):
        return value.isoformat(), False
    if isinstance(value, dt.time):
        return value.strftime("%H:%M" if not value.second else "%H:%M:%S"), False
    if isinstance(value, dt.timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}", False
    return str(value).strip(), False


def _read_workbook(
    data: bytes, kind: str, sheet: str | None, limits: TableLimits, budget: MemoryBudget
) -> Table:
    extents, largest, xml_bytes = _check_archive(data, kind, limits)
    import python_calamine as calamine

    try:
        workbook = calamine.load_workbook(io.BytesIO(data))
        names = list(workbook.sheet_names)
    except calamine.PasswordError as error:
        raise FeedError(
            "classeur protégé par un mot de passe : enregistrez-le sans mot de passe",
            "password-protected workbook: save it without a password",
        ) from error
    except Exception as error:  # calamine's errors: CalamineError, XmlError, ZipError…
        raise FeedError(
            f"classeur {kind.upper()} illisible : {error}",
            f"unreadable {kind.upper()} workbook: {error}",
        ) from error
    if not names:
        raise FeedError("classeur sans feuille", "workbook without any sheet")
    if sheet:
        chosen = next((n for n in names if n == sheet), None) or next(
            (n for n in names if n.casefold().strip() == sheet.casefold().strip()), None
        )
        if chosen is None:
            raise FeedError(
                f"pas de feuille « {sheet} » dans le classeur (feuilles : {', '.join(names)})",
                f"no sheet '{sheet}' in the workbook (sheets: {', '.join(names)})",
            )
    else:
        chosen = names[0]
    extent = extents.get(chosen, largest)  # unknown: the largest bounds it
    _check_extent(extent, chosen, limits)
    budget.check(
        1.0,
        0,
        "lecture du tableur",
        "reading the spreadsheet",
        ahead=extent.cells * CELL_BYTES + xml_bytes,
    )
    try:
        # the whole grid from A1, so that rows and columns are numbered as the
        # spreadsheet shows them (its size was checked above)
        values = workbook.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
        return _sheet_table(kind, chosen, tuple(names), iter(values), limits)
    except FeedError:
        raise
    except Exception as error:
        raise FeedError(
            f"feuille « {chosen} » illisible : {error}", f"unreadable sheet '{chosen}': {error}"
        ) from error


def _sheet_table(
    kind: str,
    sheet: str,
    names: tuple[str, ...],
    values: Iterator[list[object]],
    limits: TableLimits,
) -> Table:
    header: list[str] | None = None
    header_row = 0
    rows: list[TableRow] = []
    for offset, raw in enumerate(values):
        number = offset + 1
        texts = [cell_text(value) for value in raw]
        if not any(text for text, _ in texts):
            continue
        if header is None:
            header = [text for text, _ in texts]
            while header and not header[-1]:
                header.pop()
            header_row = number
            if len(header) > limits.max_columns:
                raise _refuse_columns(len(header), limits)
            continue
        if len(rows) >= limits.max_rows:
            raise _refuse_rows(limits)
        kept = texts[: len(header)]
        rows.append(
            TableRow(
                number,
                [text for text, _ in kept],
                frozenset(i for i, (_, numeric) in enumerate(kept) if numeric),
            )
        )
    if header is None:
        raise FeedError(f"la feuille « {sheet} » est vide", f"the sheet '{sheet}' is empty")
    return Table(kind, header, header_row, rows, sheet=sheet, sheets=names)
