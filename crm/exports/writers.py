"""Writing rows to CSV and XLSX, safe to open in a spreadsheet.

Formula injection (CWE-1236). A text cell whose first character is = + - @ tab or CR gets a leading
apostrophe, in both formats, so that no spreadsheet evaluates it as a formula (or a DDE command).
Values of kind "number", "date" and "datetime" are never touched: a negative deal value stays the
number -1500, not the text "'-1500".

Phone numbers. A phone is stored in E.164 ("+919876543210"), and "+" is a dangerous first character:
- In CSV every cell is untyped, and Excel evaluates "+919876543210" on opening (it becomes the number
  9.19877E+11, the "+" lost). So a CSV phone is escaped like any other text: '+919876543210 stays
  readable, every digit visible, and is never evaluated.
- In XLSX a phone is a typed *text* cell with Excel's "quote prefix" style (the style Excel itself gives
  to a value typed with a leading apostrophe): it shows exactly +919876543210, is never evaluated,
  and stays text when the cell is edited. Only a value that is strictly E.164 (+ and 7 to 15 digits)
  takes this path; anything else in a phone column is escaped like other text.

CSV is UTF-8 with a byte-order mark so that Excel reads it as UTF-8. XLSX is written by a small
streaming writer (xlsx.py): typed number and date cells, inline strings, flat memory, several times
faster than openpyxl's write-only mode (benchmarks/export.py measures both).
"""

import codecs
import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .fields import ExportField
from .formulas import E164, neutralise
from .xlsx import XlsxSheetWriter

PROGRESS_EVERY = 2000


def _text(value) -> str:
    if value is None:
        return ""
    return neutralise(value if type(value) is str else str(value))


def _csv_number(value):
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return value
    return _text(value)


def _csv_date(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else _text(value)


def _csv_datetime_for(tz: ZoneInfo) -> Callable:
    def convert(value) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(tz)
            return value.isoformat(" ", "minutes")[:16]
        return _text(value)

    return convert


def csv_converters(fields: list[ExportField], tz: ZoneInfo) -> list[Callable]:
    by_kind = {"number": _csv_number, "date": _csv_date, "datetime": _csv_datetime_for(tz)}
    # "text" and "phone" alike: in CSV a phone is escaped like any text (see the module docstring).
    return [by_kind.get(field.kind, _text) for field in fields]


def write_csv(
    fileobj, fields: list[ExportField], rows: Iterable[tuple], *, tz: ZoneInfo, progress=None, expected_rows=None
) -> int:
    """Write a header and the rows to the binary file `fileobj`; return the number of rows written."""
    fileobj.write(codecs.BOM_UTF8)  # then plain UTF-8: its encoder is C code, utf-8-sig's is Python
    text = io.TextIOWrapper(fileobj, encoding="utf-8", newline="", write_through=False)
    writer = csv.writer(text)
    writer.writerow([field.label for field in fields])
    converters = csv_converters(fields, tz)
    pairs = list(enumerate(converters))
    count = 0
    batch = []
    for row in rows:
        batch.append([convert(row[i]) for i, convert in pairs])
        if len(batch) == PROGRESS_EVERY:
            writer.writerows(batch)
            count += len(batch)
            batch = []
            if progress:
                progress(count)
    writer.writerows(batch)
    count += len(batch)
    text.flush()
    text.detach()  # leave fileobj open for the caller
    return count


def write_xlsx(
    fileobj, fields: list[ExportField], rows: Iterable[tuple], *, tz: ZoneInfo, progress=None, expected_rows=None
) -> int:
    """Write one sheet "Leads": a bold, frozen header row and one typed row per lead."""
    sheet = XlsxSheetWriter(fileobj, fields, tz=tz, phone_pattern=E164)
    count = sheet.write(rows, progress=progress, progress_every=PROGRESS_EVERY, expected_rows=expected_rows)
    sheet.close()
    return count


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
