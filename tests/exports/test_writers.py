"""The file writers on their own: formula injection, phones, typed numbers and dates, encodings."""

import io
import zoneinfo
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from crm.exports.fields import fields_for
from crm.exports.writers import write_csv, write_xlsx

from .conftest import read_csv, read_xlsx, xlsx_sheet

KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")
DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


def csv_bytes(keys, rows, tz=KOLKATA) -> bytes:
    out = io.BytesIO()
    write_csv(out, fields_for(keys), rows, tz=tz)
    return out.getvalue()


def xlsx_bytes(keys, rows, tz=KOLKATA) -> bytes:
    out = io.BytesIO()
    write_xlsx(out, fields_for(keys), rows, tz=tz)
    return out.getvalue()


@pytest.mark.parametrize("first", DANGEROUS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_csv_text_starting_with_a_formula_character_gets_a_leading_apostrophe(first):
    payload = first + 'HYPERLINK("http://evil.example","x")'
    rows = read_csv(csv_bytes(["name", "remark"], [(payload, "plain")]))
    assert rows[1] == ["'" + payload, "plain"]


@pytest.mark.parametrize("first", DANGEROUS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_xlsx_text_starting_with_a_formula_character_gets_a_leading_apostrophe_and_stays_text(first):
    payload = first + "cmd|' /C calc'!A0"
    sheet = xlsx_sheet(xlsx_bytes(["name", "remark"], [(payload, "plain")]))
    assert sheet["A2"].value == "'" + payload
    assert sheet["A2"].data_type == "s"  # a string, never a formula ("f")
    assert sheet["B2"].value == "plain"


def test_text_with_a_formula_character_later_on_is_left_alone():
    rows = [("Priya = top student", "a-b@c")]
    assert read_csv(csv_bytes(["name", "remark"], rows))[1] == ["Priya = top student", "a-b@c"]
    assert read_xlsx(xlsx_bytes(["name", "remark"], rows))[1] == ["Priya = top student", "a-b@c"]


def test_phone_stays_readable_text_in_both_formats():
    rows = [("Asha", "+919876543210")]
    # CSV: untyped, and Excel would evaluate +91... into 9.19877E+11: escaped, every digit kept.
    assert read_csv(csv_bytes(["name", "phone"], rows))[1] == ["Asha", "'+919876543210"]
    # XLSX: a typed text cell with the quote-prefix style shows exactly the number and is never evaluated.
    sheet = xlsx_sheet(xlsx_bytes(["name", "phone"], rows))
    assert sheet["B2"].value == "+919876543210"
    assert sheet["B2"].data_type == "s"
    assert sheet["B2"].quotePrefix is True


def test_a_phone_column_value_that_is_not_a_phone_number_is_escaped_in_xlsx():
    sheet = xlsx_sheet(xlsx_bytes(["phone"], [("+91 98765 =1+1",), ('=HYPERLINK("x")',)]))
    assert sheet["A2"].value == "'+91 98765 =1+1"
    assert sheet["A3"].value == '\'=HYPERLINK("x")'
    assert not sheet["A3"].quotePrefix


def test_numbers_stay_numbers_even_when_negative():
    rows = [(Decimal("-1500.50"), 250, Decimal("12000000.00"))]
    keys = ["value", "company_employees", "company_revenue"]
    assert read_csv(csv_bytes(keys, rows))[1] == ["-1500.50", "250", "12000000.00"]
    sheet = xlsx_sheet(xlsx_bytes(keys, rows))
    assert [sheet["A2"].value, sheet["B2"].value, sheet["C2"].value] == [-1500.5, 250, 12000000]
    assert {sheet["A2"].data_type, sheet["B2"].data_type, sheet["C2"].data_type} == {"n"}


def test_dates_are_typed_in_xlsx_and_datetimes_shown_in_the_users_time_zone():
    created = datetime(2026, 1, 31, 20, 0, tzinfo=UTC)  # 1 February 01:30 in Kolkata
    rows = [(date(2026, 3, 4), created)]
    assert read_csv(csv_bytes(["lead_date", "created_at"], rows))[1] == ["2026-03-04", "2026-02-01 01:30"]
    sheet = xlsx_sheet(xlsx_bytes(["lead_date", "created_at"], rows))
    assert sheet["A2"].is_date and sheet["A2"].value == datetime(2026, 3, 4)
    assert sheet["B2"].is_date and sheet["B2"].value == datetime(2026, 2, 1, 1, 30)
    new_york = xlsx_sheet(xlsx_bytes(["created_at"], [(created,)], tz=zoneinfo.ZoneInfo("America/New_York")))
    assert new_york["A2"].value == datetime(2026, 1, 31, 15, 0)


def test_empty_values_are_empty_cells():
    rows = [("Asha", None, None, None)]
    keys = ["name", "email", "value", "created_at"]
    assert read_csv(csv_bytes(keys, rows))[1] == ["Asha", "", "", ""]
    assert read_xlsx(xlsx_bytes(keys, rows))[1] == ["Asha", None, None, None]


def test_header_row_is_the_field_labels_in_the_chosen_order():
    keys = ["email", "name", "stage"]
    assert read_csv(csv_bytes(keys, []))[0] == ["E-mail", "Name", "Stage"]
    sheet = xlsx_sheet(xlsx_bytes(keys, []))
    assert [cell.value for cell in sheet[1]] == ["E-mail", "Name", "Stage"]
    assert sheet["A1"].font.b is True
    assert sheet.freeze_panes == "A2"


def test_unicode_markup_characters_and_line_breaks_survive_both_formats():
    text = 'François & Ünal <b>"quoted"</b>, ശ്രീ\r\nsecond line'
    assert read_csv(csv_bytes(["name"], [(text,)]))[1] == [text]
    assert read_xlsx(xlsx_bytes(["name"], [(text,)]))[1] == [text]


def test_control_characters_that_would_corrupt_a_file_are_removed():
    rows = [("Ab\x00c\x07d\x1b", "\x00=1+1")]
    assert read_csv(csv_bytes(["name", "remark"], rows))[1] == ["Abcd", "'=1+1"]
    assert read_xlsx(xlsx_bytes(["name", "remark"], rows))[1] == ["Abcd", "'=1+1"]


def test_a_cell_longer_than_excel_allows_is_cut_to_its_limit_in_xlsx():
    sheet = xlsx_sheet(xlsx_bytes(["notes"], [("n" * 40_000,)]))
    assert len(sheet["A2"].value) == 32_767


def test_xlsx_opens_in_a_second_reader_with_the_same_values():
    created = datetime(2026, 5, 1, 4, 30, tzinfo=UTC)
    data = xlsx_bytes(["name", "phone", "value", "created_at"], [("=x", "+919876543210", Decimal("10.5"), created)])
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["Name", "Phone", "Deal value", "Created"]
    assert rows[1] == ["'=x", "+919876543210", 10.5, datetime(2026, 5, 1, 10, 0)]


def test_many_rows_are_written_and_counted_with_progress_reports():
    seen = []
    out = io.BytesIO()
    count = write_xlsx(
        out, fields_for(["name"]), ((f"Lead {i}",) for i in range(4500)), tz=KOLKATA, progress=seen.append
    )
    assert count == 4500
    assert seen == [2000, 4000]
    rows = read_xlsx(out.getvalue())
    assert len(rows) == 4501 and rows[-1] == ["Lead 4499"]
