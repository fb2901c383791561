"""Rows out of a stored upload, streamed: CSV/TSV text through the csv module, workbooks through calamine.

Files are read only through default_storage.open(). Every reader yields (spreadsheet row number, cells);
cells are text for delimited files and Python values (str, float, int, date, datetime, ...) for workbooks.
"""

import csv
import io
import sys
from contextlib import contextmanager

from django.core.files.storage import default_storage
from python_calamine import CalamineError, CalamineWorkbook

from . import detect, limits
from .detect import WholeFileError

# Spreadsheets hold long remarks: raise the csv module's 131,072-character field limit (cells are cut to
# their field's maximum later, with a report).
csv.field_size_limit(min(sys.maxsize, 64 * 1024 * 1024))

SAMPLE_BYTES = 256 * 1024
_EXCEL_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA"}


def is_blank(cells) -> bool:
    for cell in cells:
        if cell is not None and cell != "" and not (isinstance(cell, str) and not cell.strip()):
            return False
    return True


@contextmanager
def open_stored(name):
    with default_storage.open(name, "rb") as handle:
        yield handle


# --- Delimited text --------------------------------------------------------------------------------


def csv_rows(handle, encoding: str, delimiter: str):
    errors = "strict" if encoding.startswith(("utf-8", "utf-16")) else "replace"
    text = io.TextIOWrapper(handle, encoding=encoding, errors=errors, newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    number = 0
    try:
        for cells in reader:
            number += 1
            yield number, cells
    except UnicodeDecodeError:
        raise WholeFileError(
            f"Row {number + 1} has characters that are not valid {encoding.upper()} text. Save the file again "
            "as “CSV UTF-8” and upload it."
        ) from None
    except csv.Error as error:
        raise WholeFileError(f"Row {number + 1} cannot be read as CSV ({error}).") from None
    finally:
        try:
            text.detach()  # leave the storage file to its owner
        except ValueError:
            pass


def count_csv_records(handle, encoding: str, delimiter: str) -> int:
    """Exact record count (quoted cells may hold line breaks): used when a quick line count is not enough."""
    return sum(1 for _ in csv_rows(handle, encoding, delimiter))


def count_lines(handle, encoding: str) -> int:
    """Line breaks in the file (an upper bound of its records), fast."""
    newline = b"\n\x00" if encoding == "utf-16" else b"\n"
    count, last = 0, b""
    while True:
        block = handle.read(8 * 1024 * 1024)
        if not block:
            break
        count += block.count(newline)
        last = block
    if last and not last.rstrip(b"\x00").endswith(b"\n"):
        count += 1
    return count


# --- Workbooks ---------------------------------------------------------------------------------------


def _cell(value):
    if isinstance(value, str) and value in _EXCEL_ERRORS:
        return ""  # a formula's cached error: the cell is empty, never the error text
    return value


def workbook_open(handle) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(handle)
    except CalamineError as error:
        if "password" in str(error).lower() or type(error).__name__ == "PasswordError":
            raise WholeFileError("This workbook is password-protected. Remove the password and upload it again.") from None
        raise WholeFileError(f"This workbook cannot be read ({error}). " + detect.NOT_A_SPREADSHEET) from None
    except Exception as error:  # calamine raises plain errors for damaged files
        raise WholeFileError(f"This workbook cannot be read ({error}). " + detect.NOT_A_SPREADSHEET) from None


def visible_sheets(workbook) -> list[str]:
    names = []
    for meta in workbook.sheets_metadata:
        kind = str(getattr(meta, "typ", "")).lower()
        if "chart" in kind or "macro" in kind:
            continue
        names.append(meta.name)
    return names or list(workbook.sheet_names)


def get_sheet(workbook, sheet_name: str):
    try:
        return workbook.get_sheet_by_name(sheet_name)
    except Exception:
        raise WholeFileError(f"The workbook has no sheet named “{sheet_name}”.") from None


def sheet_rows(workbook, sheet_name: str, sheet=None):
    """Rows of a sheet with merged ranges filled (every cell of a merged range shows the range's value)."""
    if sheet is None:
        sheet = get_sheet(workbook, sheet_name)
    try:
        start_row, start_col = sheet.start or (0, 0)
        merged = sheet.merged_cell_ranges or []
    except Exception:
        start_row, start_col, merged = 0, 0, []
    by_row = {}
    for (r1, c1), (r2, c2) in merged:
        for r in range(r1, r2 + 1):
            by_row.setdefault(r, []).append((r1, c1, c2))
    top_left = {}
    try:
        for offset, cells in enumerate(sheet.iter_rows()):
            absolute = start_row + offset
            cells = [_cell(value) for value in cells]
            for r1, c1, c2 in by_row.get(absolute, ()):
                i1 = c1 - start_col
                if absolute == r1:
                    if 0 <= i1 < len(cells):
                        top_left[(r1, c1)] = cells[i1]
                value = top_left.get((r1, c1), "")
                if len(cells) <= c2 - start_col:
                    cells.extend([""] * (c2 - start_col + 1 - len(cells)))
                for i in range(max(i1, 0), c2 - start_col + 1):
                    cells[i] = value
            yield absolute + 1, cells
    except CalamineError as error:
        raise WholeFileError(f"The sheet “{sheet_name}” cannot be read ({error}).") from None


# --- One interface -----------------------------------------------------------------------------------


@contextmanager
def rows_of(job):
    """(row number, cells) for every row of the job's file (title rows and header included)."""
    with open_stored(job.file) as handle:
        if job.file_type == "csv":
            yield csv_rows(handle, job.encoding, job.delimiter)
        else:
            workbook = workbook_open(handle)
            try:
                yield sheet_rows(workbook, job.sheet)
            finally:
                workbook.close()


def data_row_count(job) -> int:
    """Rows below the header row (blank ones included): exact for workbooks; for text, the line count
    when it is within the limit, the exact record count otherwise."""
    if job.file_type == "csv":
        with open_stored(job.file) as handle:
            lines = count_lines(handle, job.encoding)
        if lines - job.header_row - 1 > limits.max_rows():
            with open_stored(job.file) as handle:
                lines = count_csv_records(handle, job.encoding, job.delimiter)
        return max(lines - job.header_row - 1, 0)
    with open_stored(job.file) as handle:
        workbook = workbook_open(handle)
        try:
            return max(get_sheet(workbook, job.sheet).height - job.header_row - 1, 0)
        finally:
            workbook.close()
