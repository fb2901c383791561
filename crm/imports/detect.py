"""What an uploaded file is, decided by its content (never its name), and the checks before parsing it.

- `sniff_type(head)`: csv (any delimited text), xlsx, ods or xls from the first bytes; WholeFileError otherwise.
- `check_archive(fileobj)`: entry count, declared and actual uncompressed size, compression ratio, and no
  DTD/entity declarations in any XML part (billion laughs); returns the workbook's 1904-epoch flag.
- `detect_encoding(sample)` and `detect_delimiter(text)` for delimited text.
"""

import codecs
import csv
import io
import re
import zipfile

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from . import limits


class WholeFileError(Exception):
    """A problem with the whole file: the import fails with this message and writes no lead."""


NOT_A_SPREADSHEET = (
    "This file is not a spreadsheet we can read. Upload a CSV or TSV text file, or an Excel (XLSX, XLS) "
    "or OpenDocument (ODS) workbook."
)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04",)
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"\x7fELF": "a program",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def sniff_type(head: bytes) -> str:
    """The file type from its first bytes: 'csv', 'xlsx', 'ods' ('zip' until the archive is opened), 'xls'."""
    if not head:
        raise WholeFileError("The file is empty.")
    if head.startswith(_OLE2):
        return "xls"
    if head.startswith(_ZIP):
        return "zip"
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise WholeFileError(f"This file is {what}, not a spreadsheet. {NOT_A_SPREADSHEET}")
    for bom, _ in _BOMS:
        if head.startswith(bom):
            return "csv"
    if b"\x00" in head[:4096]:
        raise WholeFileError(NOT_A_SPREADSHEET)
    text = head[:2048].lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        raise WholeFileError(
            "This file is a web page (HTML) saved with a spreadsheet name. Open it in Excel and save it "
            "as XLSX or CSV, then upload that."
        )
    if text.startswith(b"<?xml"):
        raise WholeFileError(
            "This file is an XML document (perhaps an Excel 2003 XML sheet). Open it in Excel and save it "
            "as XLSX or CSV, then upload that."
        )
    # Delimited text: mostly printable characters.
    control = sum(1 for byte in head[:4096] if byte < 32 and byte not in (9, 10, 13))
    if control > len(head[:4096]) * 0.01:
        raise WholeFileError(NOT_A_SPREADSHEET)
    return "csv"


def zip_kind(names: list[str], read) -> str:
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "mimetype" in names and read("mimetype").strip().startswith(_ODS_MIMETYPE):
        return "ods"
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        return "ods"
    raise WholeFileError(
        "This file is a ZIP archive but not a spreadsheet (a Word document or another archive?). "
        + NOT_A_SPREADSHEET
    )


_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def check_archive(fileobj) -> tuple[str, bool]:
    """Check an XLSX/ODS archive before any parser sees it. Returns (kind, date1904).

    Rejects: too many entries, a declared uncompressed total above the limit, an entry compressed more
    than the ratio allows, an entry that decompresses to more than it declared, and any XML part with a
    DTD or entity declaration (entity-expansion bombs). The workbook part is parsed with defusedxml.
    """
    bomb = (
        "This workbook looks like a compression bomb ({why}), so it was not opened. If it is a real "
        "spreadsheet, save it again from Excel or split it into smaller files."
    )
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise WholeFileError("This workbook is damaged (its ZIP structure cannot be read). " + NOT_A_SPREADSHEET) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.zip_max_entries():
            raise WholeFileError(bomb.format(why=f"{len(infos):,} parts inside"))
        declared = sum(info.file_size for info in infos)
        if declared > limits.zip_max_uncompressed():
            raise WholeFileError(bomb.format(why=f"{declared / 1024**3:.1f} GB once unpacked"))
        for info in infos:
            if info.file_size > 1024 * 1024 and info.file_size > limits.zip_max_ratio() * max(info.compress_size, 1):
                raise WholeFileError(bomb.format(why=f"a part compressed {info.file_size // max(info.compress_size, 1):,} times"))
        names = [info.filename for info in infos]
        kind = zip_kind(names, archive.read)
        for info in infos:
            _scan_part(archive, info, bomb)
        date1904 = False
        if kind == "xlsx":
            date1904 = _workbook_date1904(archive.read("xl/workbook.xml"))
    return kind, date1904


def _scan_part(archive, info, bomb) -> None:
    """Read a part to its end: actual size capped at the declared one, no DTD in XML, CRC checked."""
    is_xml = info.filename.endswith((".xml", ".rels")) or info.filename == "content.xml"
    total = 0
    head = b""
    try:
        with archive.open(info) as part:
            while True:
                block = part.read(1024 * 1024)
                if not block:
                    break
                total += len(block)
                if total > info.file_size:
                    raise WholeFileError(bomb.format(why="a part larger than it declares"))
                if is_xml and len(head) < 65536:
                    head += block[:65536]
                    if _DTD.search(head):
                        raise WholeFileError(
                            "This workbook contains an XML document type declaration (a way to hide an "
                            "'XML bomb'), so it was not opened. Save it again from Excel and upload that."
                        )
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as error:
        if isinstance(error, RuntimeError) and "encrypted" in str(error):
            raise WholeFileError("This workbook is password-protected. Remove the password and upload it again.") from None
        raise WholeFileError("This workbook is damaged (a part of it cannot be read). " + NOT_A_SPREADSHEET) from None


def _workbook_date1904(xml: bytes) -> bool:
    try:
        root = SafeET.fromstring(xml)
    except (DefusedXmlException, SafeET.ParseError):
        raise WholeFileError("This workbook's structure is not valid XML, so it was not opened.") from None
    for element in root.iter():
        if element.tag.endswith("workbookPr"):
            return element.get("date1904", "").lower() in {"1", "true"}
    return False


def detect_encoding(sample: bytes, complete: bool = False) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with BOM), else cp1252, else latin-1."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def verify_encoding(stream, encoding: str) -> str:
    """Decode the whole binary stream; UTF-8 that fails somewhere past the sample falls back to cp1252."""
    if encoding not in {"utf-8", "utf-8-sig"}:
        return encoding
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while True:
            block = stream.read(4 * 1024 * 1024)
            if not block:
                decoder.decode(b"", final=True)
                return encoding
            decoder.decode(block)
    except UnicodeDecodeError:
        return "cp1252"


DELIMITERS = [",", ";", "\t", "|"]
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent number (>1) of columns."""
    lines = text.splitlines()[:60]
    if len(lines) > 1 and len(text) >= 60_000:
        lines = lines[:-1]  # the sample may end in the middle of a line
    sample = "\n".join(lines)
    best, best_score = ",", 0.0
    for delimiter in DELIMITERS:
        if delimiter not in sample:
            continue
        try:
            widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(row)]
        except csv.Error:
            continue
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        if common < 2:
            continue
        consistency = widths.count(common) / len(widths)
        score = consistency * 100 + min(common, 50)
        if score > best_score:
            best, best_score = delimiter, score
    return best
