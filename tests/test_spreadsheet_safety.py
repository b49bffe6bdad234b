"""XLSX and ODS files are zip archives of XML sent by anyone: bombs, entities and sheets
whose extent would make the reader allocate gigabytes are refused quickly, with a clear
reason, before python-calamine sees them (it aborts the whole process when an allocation
fails: one cell at XFD1048576 asks for 512 GB)."""

from __future__ import annotations

import io
import struct
import time
import zipfile

import pytest
from test_spreadsheets import write_ods, write_xlsx

from core.config import load_settings
from harvester.budget import MemoryBudget
from harvester.checking import check_feed
from harvester.errors import FeedError
from harvester.spreadsheet import TableLimits, read_table

SETTINGS = load_settings(environ={})
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def rewrite(data: bytes, change: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    """The same archive with some members replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, change.get(info.filename, source.read(info.filename)))
        for name, body in (add or {}).items():
            target.writestr(name, body)
    return out.getvalue()


def refused(data: bytes, words: str, name: str = "x.xlsx", **options: object) -> FeedError:
    started = time.monotonic()
    with pytest.raises(FeedError) as caught:
        read_table(data, filename=name, **options)
    assert time.monotonic() - started < 3, "refused slowly"
    error = caught.value
    assert words in error.fr, error.fr
    assert error.en and error.en != error.fr
    return error


def sheet_xml(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


def test_a_zip_bomb_is_refused_at_once():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (300 << 20) + b"</a>")
    assert len(out.getvalue()) < 1 << 20  # 300 MiB of spaces in well under 1 MiB
    refused(out.getvalue(), "bombe de décompression")


def test_a_bomb_lying_about_its_size_is_refused_too():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (80 << 20) + b"</a>")
    data = bytearray(out.getvalue())
    real = (80 << 20) + 7
    lie = struct.pack("<I", 1000)
    # the uncompressed size in the local header and in the central directory
    for at in range(len(data) - 4):
        if data[at : at + 4] == struct.pack("<I", real):
            data[at : at + 4] = lie
    refused(bytes(data), "classeur")


def test_too_many_members_are_refused():
    data = write_xlsx()
    crowded = rewrite(data, {}, {f"xl/media/image{i}.png": b"x" for i in range(60)})
    refused(crowded, "fichiers", limits=TableLimits(max_members=50))


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/styles.xml"])
def test_xml_entities_inside_an_xlsx_are_refused(member):
    data = write_xlsx()
    original = zipfile.ZipFile(io.BytesIO(data)).read(member)
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    hostile = rewrite(data, {member: laughs + original.split(b"?>", 1)[-1]})
    refused(hostile, "entités")


def test_xml_entities_inside_an_ods_are_refused():
    data = write_ods()
    content = zipfile.ZipFile(io.BytesIO(data)).read("content.xml")
    hostile = rewrite(
        data,
        {
            "content.xml": content.replace(
                b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1
            )
        },
    )
    refused(hostile, "entités", name="x.ods")


def test_utf16_xml_which_would_hide_a_doctype_is_refused():
    data = write_xlsx()
    content = sheet_xml(data).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    refused(rewrite(data, {"xl/worksheets/sheet1.xml": content.encode("utf-16")}), "UTF-16")


def test_one_cell_far_away_does_not_make_the_reader_allocate_the_rectangle():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["A1"] = "id"
    workbook.active["XFD1048576"] = "loin"
    out = io.BytesIO()
    workbook.save(out)
    refused(out.getvalue(), "colonnes")
    workbook = Workbook()
    workbook.active["A1"] = "id"
    workbook.active["J1048576"] = "loin"
    out = io.BytesIO()
    workbook.save(out)
    refused(out.getvalue(), "lignes")


def test_an_ods_with_repeated_filled_cells_is_measured_with_its_repeats():
    data = write_ods()
    content = zipfile.ZipFile(io.BytesIO(data)).read("content.xml").decode("utf-8")
    table_end = content.index("</table:table>")
    flood = (
        '<table:table-row table:number-rows-repeated="5000">'
        '<table:table-cell table:number-columns-repeated="400" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell></table:table-row>"
    )
    hostile = content[:table_end] + flood + content[table_end:]
    refused(rewrite(data, {"content.xml": hostile.encode()}), "trop grande", name="x.ods")
    # LibreOffice's own trailing empty repeats are not content: the file reads
    empty = (
        '<table:table-row table:number-rows-repeated="1048000">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    fine = content[:table_end] + empty + content[table_end:]
    table = read_table(rewrite(data, {"content.xml": fine.encode()}), filename="x.ods")
    assert len(table.rows) == 14


def test_the_memory_budget_bounds_a_sheet_before_it_is_loaded():
    data = write_xlsx()
    error = refused(data, "mémoire", budget=MemoryBudget(1024))
    assert "max_feed_memory" in error.fr


def test_old_excel_files_and_fake_workbooks_get_a_clear_message():
    refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "XLSX, ODS ou CSV", name="a.xls")
    refused(b"PK\x03\x04" + b"\x00" * 100, "ZIP")
    refused(b"hello", "pas une archive", name="lieux.xlsx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "bonjour")
    refused(out.getvalue(), "ni un classeur")


def test_a_hostile_workbook_through_the_checking_interface_is_a_feed_error():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["XFD1"] = "x"
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(FeedError):
        check_feed(out.getvalue(), feed="x.xlsx", settings=SETTINGS)
