"""One small fixture per bad input of anchors-reliability.md, each with its golden outcome."""

import datetime
from decimal import Decimal

import openpyxl
import pytest

from crm.leads.models import Lead

pytestmark = pytest.mark.django_db


def leads(job):
    return {lead.phone or lead.email: lead for lead in Lead.objects.filter(import_job=job)}


def problems(job, level="error"):
    return [(p.row_number, p.column, p.reason) for p in job.row_errors.filter(level=level).order_by("row_number", "id")]


@pytest.mark.parametrize("name", ["utf8_bom.csv", "tab.tsv", "pipe.csv", "leads.xlsx", "leads.ods", "wrong_dimensions.xlsx"])
def test_plain_files_of_every_kind_import_all_rows(import_file, name):
    job = import_file(name)
    assert job.status == "completed", job.message
    assert (job.created, job.errors) == (3, 0)
    imported = leads(job)
    assert imported["+919876500001"].name == "Asha Menon"
    assert imported["+919876500003"].city == "Pune"
    assert imported["+919876500002"].email == "ravi@example.com"


def test_utf8_bom_does_not_leak_into_the_first_header(import_file):
    job = import_file("utf8_bom.csv")
    assert job.encoding == "utf-8-sig"
    assert job.columns[0] == "Name"
    assert job.mapping["0"] == "name"


def test_cp1252_file_keeps_its_accents(import_file):
    job = import_file("cp1252.csv")
    assert job.encoding == "cp1252"
    assert job.created == 2
    assert leads(job)["+919876500011"].name == "François Dupont"
    assert leads(job)["+919876500012"].city == "Malmö"


def test_utf16_unicode_text_from_excel(import_file):
    job = import_file("utf16_tab.txt")
    assert (job.encoding, job.delimiter) == ("utf-16", "\t")
    assert job.created == 2
    assert leads(job)["+919876500022"].name == "Jürgen Weiß"


def test_semicolon_delimiter_and_wordy_headers(import_file):
    job = import_file("semicolon.csv")
    assert job.delimiter == ";"
    assert sorted(job.mapping.values()) == ["email", "name", "phone"]
    assert leads(job)["+919876500031"].email == "ana@example.com"


def test_duplicate_headers_map_the_leftmost_and_blank_headers_are_ignored(import_file):
    job = import_file("duplicate_headers.csv")
    assert job.mapping == {"0": "name", "1": "phone", "4": "email"}
    assert job.created == 2
    assert set(leads(job)) == {"+919876500041", "+919876500042"}


def test_title_rows_above_the_header_are_skipped(import_file):
    job = import_file("title_rows.csv")
    assert job.header_row == 3
    assert job.mapping == {"0": "name", "1": "phone", "2": "area", "3": "interest"}
    kiran = leads(job)["+919876500051"]
    assert (kiran.name, kiran.area, kiran.interest) == ("Kiran", "Kakkanad", "MBA")


def test_merged_cells_give_every_row_the_merged_value(import_file):
    job = import_file("merged.xlsx")
    assert job.created == 3
    assert {lead.city for lead in leads(job).values()} == {"Kochi"}


def test_formulas_use_the_cached_value_and_never_the_formula_or_error_text(import_file):
    job = import_file("formulas.xlsx")
    cities = {phone: lead.city for phone, lead in leads(job).items()}
    assert cities == {"+919876500111": "KOCHI", "+919876500112": "", "+919876500113": ""}


def test_excel_dates_numbers_and_amounts(import_file):
    job = import_file("excel_dates.xlsx")
    assert job.errors == 0, problems(job)
    got = leads(job)
    assert got["+919876500121"].lead_date == datetime.date(2026, 3, 31)
    assert got["+919876500121"].value == Decimal("125000.00")
    assert got["+919876500122"].lead_date == datetime.date(2026, 3, 1)  # serial 46082, 1900 epoch
    assert got["+919876500122"].value == Decimal("120000.00")
    assert got["+919876500123"].lead_date == datetime.date(2026, 4, 1)


def test_1904_epoch_workbook_serials(import_file):
    job = import_file("excel_dates_1904.xlsx")
    assert job.date1904 is True
    assert leads(job)["+919876500131"].lead_date == datetime.date(2026, 3, 1)


def test_text_dates_iso_day_first_named_and_serial(import_file):
    job = import_file("dates.csv")
    got = {phone: lead.lead_date for phone, lead in leads(job).items()}
    assert got == {
        "+919876500071": datetime.date(2026, 3, 31),
        "+919876500072": datetime.date(2026, 3, 4),
        "+919876500073": datetime.date(2026, 3, 5),
        "+919876500074": datetime.date(2026, 3, 1),
    }
    assert [(row, column) for row, column, _ in problems(job)] == [(6, "Enquiry Date")]
    assert "“31/31/2026” is not a date" in problems(job)[0][2]


def test_month_first_option(import_file):
    job = import_file("dates.csv", day_first=False)
    assert leads(job)["+919876500072"].lead_date == datetime.date(2026, 4, 3)


def test_phones_as_excel_leaves_them(import_file):
    job = import_file("phones.csv")
    assert set(leads(job)) == {"+919876500061", "+919876500062", "+919876500063"}
    rows = problems(job)
    assert [row for row, _, _ in rows] == [3, 4, 7, 8]
    assert "scientific notation" in rows[0][2] and "Format the phone column as text" in rows[0][2]
    assert "scientific notation" in rows[1][2]
    assert all(column == "Phone" for _, column, _ in rows)


def test_mixed_types_in_one_column(import_file):
    job = import_file("mixed_types.xlsx")
    got = leads(job)
    assert got["+919876500141"].name == "12345"
    assert got["+919876500141"].value == Decimal("12500.00")
    assert got["+919876500142"].value == Decimal("99.50")
    assert [row for row, _, _ in problems(job)] == [4]  # "n/a" is not an amount
    assert "+919876500143" not in got


def test_emails_are_lower_cased_and_validated(import_file):
    job = import_file("emails.csv")
    assert [lead.email for lead in Lead.objects.filter(import_job=job)] == ["mixed.case@example.com"]
    rows = problems(job)
    assert [row for row, _, _ in rows] == [3, 4]
    assert "not a valid e-mail" in rows[0][2]
    assert "no phone number and no e-mail" in rows[1][2]


def test_duplicates_inside_the_file_are_merged_first_wins(import_file):
    job = import_file("in_file_duplicates.csv")
    assert (job.created, job.merged) == (2, 2)
    got = leads(job)
    assert got["+919876500081"].name == "First"
    assert got["solo@example.com"].name == "Email only"


def test_huge_cells_are_cut_and_reported_and_the_lead_kept(import_file):
    job = import_file("huge_cell.csv")
    assert (job.created, job.errors, job.warnings) == (2, 0, 1)
    lead = leads(job)["+919876500091"]
    assert len(lead.name) == 200 and len(lead.remark) == 5000
    reports = problems(job, "warning")
    assert [(row, column) for row, column, _ in reports] == [(2, "Name"), (2, "Remarks")]
    assert "200,000 characters long and was cut to 5,000" in reports[1][2]


def test_a_workbook_with_several_sheets_picks_the_one_with_leads(import_file):
    job = import_file("multi_sheet.xlsx")
    assert job.sheets == ["Summary", "Leads", "Other"]
    assert (job.sheet, job.header_row) == ("Leads", 1)
    assert job.created == 3


def test_choosing_another_sheet(import_file):
    job = import_file("multi_sheet.xlsx", sheet="Other")
    assert set(leads(job)) == {"+919876500151"}


def test_legacy_xls_workbook(import_file):
    job = import_file("legacy.xls")
    assert job.file_type == "xls"
    assert set(leads(job)) == {"+919876500161", "+919876500162"}


def test_file_type_comes_from_content_not_name(import_file):
    job = import_file("tab.tsv")
    assert job.file_type == "csv"
    renamed = import_file("leads.xlsx")
    assert renamed.file_type == "xlsx"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The file is empty."),
        ("blank_lines.csv", "is empty: there is no header row and no data"),
        ("header_only.csv", "has a header row but no data rows"),
        ("no_identity.csv", "No column is mapped to Phone or E-mail"),
        ("image.csv", "This file is a PNG image, not a spreadsheet"),
        ("report.xlsx", "This file is a PDF document, not a spreadsheet"),
        ("page.xls", "a web page (HTML) saved with a spreadsheet name"),
        ("letter.xlsx", "a ZIP archive but not a spreadsheet"),
        ("zip_bomb_ratio.xlsx", "compression bomb (a part compressed"),
        ("zip_bomb_declared.xlsx", "compression bomb (3.0 GB once unpacked)"),
        ("zip_bomb_entries.xlsx", "compression bomb (10,059 parts inside)"),
        ("xml_bomb.xlsx", "XML document type declaration"),
    ],
)
def test_whole_file_problems_fail_with_one_message_and_write_no_lead(import_file, name, message):
    job = import_file(name)
    assert job.status == "failed"
    assert message in job.message
    assert Lead.objects.count() == 0
    assert job.row_errors.count() == 0


def test_too_many_rows(import_file, settings):
    settings.IMPORT_MAX_ROWS = 2
    job = import_file("utf8_bom.csv")
    assert job.status == "failed"
    assert "The file has 3 rows; an import takes at most 2" in job.message
    assert Lead.objects.count() == 0


def test_too_many_rows_in_a_workbook_is_known_at_upload(admin_user, settings):
    from .conftest import upload

    settings.IMPORT_MAX_ROWS = 2
    job = upload("leads.xlsx", admin_user)
    assert job.status == "failed"
    assert "The sheet has 3 rows; an import takes at most 2" in job.message


def test_too_big(import_file, settings):
    settings.IMPORT_MAX_BYTES = 100
    job = import_file("huge_cell.csv")
    assert job.status == "failed"
    assert "an import takes at most" in job.message
    assert not job.file  # not even stored
    assert Lead.objects.count() == 0


def test_xml_is_parsed_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True
