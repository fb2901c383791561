"""Rows out of a stored upload, streamed: CSV/TSV text through the csv module, workbooks through calamine.

Files are read only through default_storage.open(). Every reader yields (spreadsheet row number, cells);
cells are text for delimited files and Python values (str, float, int, date, datetime, ...) for workbooks.
"""

import csv
import io
import sys
from contextlib import contextmanager
from itertools import islice

from django.core.files.storage import default_storage
from python_calamine import CalamineError, CalamineWorkbook

from . import detect, limits
from .detect import WholeFileError
from .mapping import header_score

# Spreadsheets hold long remarks: raise the csv module's 131,072-character field limit (cells are cut to
# their field's maximum later, with a report).
csv.field_size_limit(min(sys.maxsize, 64 * 1024 * 1024))

SAMPLE_BYTES = 256 * 1024
HEADER_SCAN_ROWS = 30
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


def find_header_row(rows: list[list]) -> int:
    """Index of the header row among the first rows: the one naming the most known fields; title rows
    above it (one filled cell) are skipped."""
    best, best_score = None, 0
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = header_score(cells)
        if score > best_score:
            best, best_score = index, score
    if best is not None:
        return best
    widths = [sum(1 for cell in cells if not is_blank([cell])) for cells in rows[:HEADER_SCAN_ROWS]]
    widest = max(widths, default=0)
    for index, width in enumerate(widths):
        if width and width >= max(2, widest * 0.6):
            return index
    return next((i for i, width in enumerate(widths) if width), 0)


SAMPLE_ROWS = 200


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") and hasattr(value, "day") else value.isoformat()
    return str(value)


def sample_rows(job, limit: int = 60) -> list[tuple[int, list]]:
    """The first rows: from the stored sample when it holds enough of them, else from the file."""
    if job.sample and (len(job.sample) >= limit or len(job.sample) < SAMPLE_ROWS):
        return [(number, cells) for number, cells in job.sample[:limit]]
    with rows_of(job) as rows:
        return list(islice(rows, limit))


def take_sample(job, workbook=None) -> int | None:
    """Store the first rows; for a workbook, return the sheet's last row number (its rows are known)."""
    if job.file_type == "csv":
        with rows_of(job) as rows:
            job.sample = [[n, [_jsonable(cell) for cell in cells]] for n, cells in islice(rows, SAMPLE_ROWS)]
        return None
    if workbook is None:
        with open_stored(job.file) as handle:
            opened = workbook_open(handle)
            try:
                return take_sample(job, opened)
            finally:
                opened.close()
    sheet = get_sheet(workbook, job.sheet)  # calamine parses the sheet each time it is fetched: once here
    rows = sheet_rows(workbook, job.sheet, sheet)
    job.sample = [[n, [_jsonable(cell) for cell in cells]] for n, cells in islice(rows, SAMPLE_ROWS)]
    return (sheet.start or (0, 0))[0] + sheet.height


def analyse(job) -> None:
    """Fill the job's detected settings (type, encoding, delimiter, sheets, header row, columns).

    Raises WholeFileError for anything that is not a readable spreadsheet.
    """
    with open_stored(job.file) as handle:
        head = handle.read(SAMPLE_BYTES)
        kind = detect.sniff_type(head)
        if kind == "zip":
            handle.seek(0)
            kind, job.date1904 = detect.check_archive(handle)
    job.file_type = kind
    if kind == "csv":
        job.encoding = detect.detect_encoding(head, complete=len(head) < SAMPLE_BYTES)
        with open_stored(job.file) as handle:
            job.encoding = detect.verify_encoding(handle, job.encoding)
        text = head.decode(job.encoding, errors="replace")
        job.delimiter = detect.detect_delimiter(text)
        job.sheets = []
        job.sheet = ""
    else:
        with open_stored(job.file) as handle:
            workbook = workbook_open(handle)
            try:
                job.sheets = visible_sheets(workbook)
                if not job.sheets:
                    raise WholeFileError("The workbook has no sheets.")
                if job.sheet not in job.sheets:
                    job.sheet = job.sheets[0] if len(job.sheets) == 1 else _fullest_sheet(workbook, job.sheets)
                choose_header(job, workbook=workbook)
            finally:
                workbook.close()
        return
    choose_header(job)


def _fullest_sheet(workbook, names) -> str:
    """The first sheet that has data, preferring one whose first rows look like a header."""
    for name in names:
        rows = [cells for _, cells in islice(sheet_rows(workbook, name), HEADER_SCAN_ROWS)]
        if any(header_score(cells) for cells in rows):
            return name
    for name in names:
        if any(not is_blank(cells) for _, cells in islice(sheet_rows(workbook, name), HEADER_SCAN_ROWS)):
            return name
    return names[0]


def choose_header(job, header_row: int | None = None, workbook=None) -> None:
    """Set the header row (detected unless given) and the column headers; fail for an empty sheet.
    For a workbook the number of data rows is known here too, and checked against the limit."""
    last_row = take_sample(job, workbook)
    rows = [cells for _, cells in sample_rows(job, HEADER_SCAN_ROWS + 1)]
    if not rows or all(is_blank(cells) for cells in rows):
        where = f"The sheet “{job.sheet}”" if job.sheet else "The file"
        raise WholeFileError(f"{where} is empty: there is no header row and no data.")
    if header_row is None or header_row >= len(rows):
        header_row = find_header_row(rows)
    job.header_row = header_row
    if len(rows) <= HEADER_SCAN_ROWS and all(is_blank(cells) for cells in rows[header_row + 1 :]):
        raise WholeFileError("The file has a header row but no data rows.")
    header = rows[header_row]
    while header and is_blank([header[-1]]):
        header = header[:-1]
    width = max(len(header), max((len(cells) for cells in rows[header_row + 1 :]), default=0))
    job.columns = [_header_text(cell) for cell in header] + [""] * (width - len(header))
    if last_row is not None:
        first_number = job.sample[0][0] if job.sample else 1
        job.rows_total = max(last_row - (first_number - 1) - header_row - 1, 0)
        if job.rows_total > limits.max_rows():
            raise WholeFileError(
                f"The sheet has {job.rows_total:,} rows; an import takes at most {limits.max_rows():,}. "
                "Split it into smaller files."
            )


def _header_text(cell) -> str:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell if cell is not None else "").strip()
