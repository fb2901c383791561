"""What the mapping step starts from: the sheet, the header row (title rows above it skipped), the
columns, a stored sample of the first rows, and for workbooks the number of data rows."""

from itertools import islice

from . import detect, limits
from .detect import WholeFileError
from .mapping import header_score
from .readers import (
    SAMPLE_BYTES,
    get_sheet,
    is_blank,
    open_stored,
    rows_of,
    sheet_rows,
    visible_sheets,
    workbook_open,
)

HEADER_SCAN_ROWS = 30


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


def sample_rows(job, limit: int) -> list:
    """The first `limit` rows, (row number, cells) each: from the stored sample when it holds them (or the
    whole file, shorter than SAMPLE_ROWS), else from the file."""
    if job.sample and (len(job.sample) >= limit or len(job.sample) < SAMPLE_ROWS):
        return job.sample[:limit]
    with rows_of(job) as rows:
        return list(islice(rows, limit))


def data_sample(job):
    """(row number, cells) of the sample's data rows: those after the header row, blank rows skipped."""
    for position, (number, cells) in enumerate(sample_rows(job, SAMPLE_ROWS)):
        if position > job.header_row and not is_blank(cells):
            yield number, cells


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
    """The first sheet that has data, preferring one whose first rows look like a header (each sheet is read
    once: calamine parses a sheet every time it is fetched)."""
    with_data = None
    for name in names:
        rows = [cells for _, cells in islice(sheet_rows(workbook, name), HEADER_SCAN_ROWS)]
        if any(header_score(cells) for cells in rows):
            return name
        if with_data is None and any(not is_blank(cells) for cells in rows):
            with_data = name
    return with_data or names[0]


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
