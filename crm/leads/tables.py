"""The lead list's table. `LeadTable(rows, user=request.user)`; the rows are one page that
crm.leads.listing has already sorted and cut (the table neither sorts nor pages: see listing.py).

The columns and their cells are defined once, here. `table.html_rows` renders the body straight from the
cell functions below (django-tables2's generic per-cell machinery, signature inspection included, cost more
than the database on a page of 25); `table.rows` (django-tables2's own) gives the same cells.
"""

import re
from functools import lru_cache

import django_tables2 as tables
import phonenumbers
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import Lead

_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"
DASH = mark_safe('<span class="text-body-secondary">—</span>')
UNASSIGNED = mark_safe('<span class="text-body-secondary">Unassigned</span>')


@lru_cache(maxsize=8192)
def _pretty_phone(value: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(value, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return value


@lru_cache(maxsize=256)
def _contrast(colour: str) -> str:
    from .templatetags.leads_tags import contrast_text

    return contrast_text(colour)


def phone_cell(phone):
    if not phone:
        return DASH
    e = escape(phone)
    return mark_safe(  # noqa: S308 - every value is escaped
        f'<span class="text-nowrap"><a href="tel:{e}" title="Call {e}">{escape(_pretty_phone(phone))}</a> '
        f'<a class="ms-1 text-success" href="https://wa.me/{re.sub(r"[^0-9]", "", phone)}" target="_blank" '
        f'rel="noopener noreferrer" title="WhatsApp" aria-label="Message {e} on WhatsApp">'
        '<i class="bi bi-whatsapp"></i></a></span>'
    )


def stage_cell(stage, lead_uuid=None):
    extra = f' data-lead-stage="{lead_uuid}"' if lead_uuid else ""
    return mark_safe(  # noqa: S308 - every value is escaped
        f'<span class="badge rounded-pill stage-badge" style="background-color: {escape(stage.colour)}; '
        f'color: {_contrast(stage.colour)}"{extra}>{escape(stage.name)}</span>'
    )


def when_cell(value, *, overdue_class=False):
    if not value:
        return DASH
    local = timezone.localtime(value)
    text = local.strftime("%-d %b, %H:%M") if local.year == timezone.localdate().year else local.strftime("%-d %b %Y")
    css = ' style="color: var(--bs-danger); font-weight: 600"' if overdue_class and value < timezone.now() else ""
    return mark_safe(  # noqa: S308 - no user text
        f'<time class="text-nowrap" datetime="{value.isoformat()}" title="{local.strftime("%-d %b %Y, %H:%M")}"{css}>'
        f"{text}</time>"
    )


class LeadTable(tables.Table):
    # Column name -> the sort key crm.leads.listing understands (other columns are not sortable: no index).
    SORT_KEYS = {
        "name": "name",
        "phone": "phone",
        "next_follow_up_at": "next_follow_up",
        "last_contacted_at": "last_contacted",
        "updated_at": "updated",
    }

    lead_ids = tables.CheckBoxColumn(
        accessor="pk",
        orderable=False,
        attrs={
            "th__input": {"class": "form-check-input", "data-check-all": "lead_ids", "aria-label": "Select every lead on this page"},
            "td__input": {"class": "form-check-input", "aria-label": "Select this lead"},
        },
    )
    name = tables.Column(verbose_name="Name", empty_values=())
    phone = tables.Column(verbose_name="Phone", empty_values=())
    stage = tables.Column(verbose_name="Stage", orderable=False)
    assigned_to = tables.Column(verbose_name="Counsellor", orderable=False, empty_values=())
    source = tables.Column(verbose_name="Source", orderable=False, empty_values=())
    place = tables.Column(verbose_name="Area / city", accessor="city", orderable=False, empty_values=())
    next_follow_up_at = tables.Column(verbose_name="Next follow-up", empty_values=())
    last_contacted_at = tables.Column(verbose_name="Last contacted", empty_values=())
    updated_at = tables.Column(verbose_name="Updated", empty_values=())

    class Meta:
        model = Lead
        fields = ()
        sequence = (
            "lead_ids", "name", "phone", "stage", "assigned_to", "source", "place",
            "next_follow_up_at", "last_contacted_at", "updated_at",
        )
        orderable = False
        attrs = {"class": "table table-hover table-sm align-middle mb-0 lead-table"}
        row_attrs = {"data-lead": lambda record: str(record.uuid)}

    def __init__(self, data, *, user=None, **kwargs):
        exclude = list(kwargs.pop("exclude", ()) or ())
        if user is None or not getattr(user, "is_manager", False):
            exclude.append("lead_ids")  # the selection feeds managers' bulk actions only
        super().__init__(data, exclude=exclude, **kwargs)
        self.records = data
        self._detail_url = reverse("leads:detail", args=[_PLACEHOLDER])

    # --- cells (one function per column; record -> safe HTML) ------------------------------------------

    def cell_lead_ids(self, record):
        return mark_safe(  # noqa: S308 - escaped
            f'<input type="checkbox" name="lead_ids" value="{record.pk}" class="form-check-input" '
            f'aria-label="Select {escape(str(record))}">'
        )

    def cell_name(self, record):
        url = self._detail_url.replace(_PLACEHOLDER, str(record.uuid))
        label = escape(record.name or record.phone or record.email or "(no name)")
        return mark_safe(f'<a class="fw-semibold" href="{url}">{label}</a>')  # noqa: S308 - escaped

    def cell_phone(self, record):
        return phone_cell(record.phone)

    def cell_stage(self, record):
        return stage_cell(record.stage, record.uuid)

    def cell_assigned_to(self, record):
        user = record.assigned_to
        return escape(user.full_name or user.email) if user else UNASSIGNED

    def cell_source(self, record):
        return escape(record.source) if record.source else DASH

    def cell_place(self, record):
        parts = [part for part in (record.area, record.city) if part]
        return escape(", ".join(parts)) if parts else DASH

    def cell_next_follow_up_at(self, record):
        return when_cell(record.next_follow_up_at, overdue_class=True)

    def cell_last_contacted_at(self, record):
        return when_cell(record.last_contacted_at)

    def cell_updated_at(self, record):
        return when_cell(record.updated_at)

    @property
    def html_rows(self):
        """The body rows, each one safe <tr>...</tr> string, straight from the cell functions."""
        cells = [getattr(self, f"cell_{column.name}") for column in self.columns]
        rows = []
        for record in self.records:
            tds = "".join(f"<td>{cell(record)}</td>" for cell in cells)
            rows.append(mark_safe(f'<tr data-lead="{record.uuid}">{tds}</tr>'))  # noqa: S308 - cells are safe
        return rows

    # django-tables2's own rendering (table.rows, {% render_table %}) uses the same cells.
    def render_name(self, record):
        return self.cell_name(record)

    def render_phone(self, record):
        return self.cell_phone(record)

    def render_stage(self, record):
        return self.cell_stage(record)

    def render_assigned_to(self, record):
        return self.cell_assigned_to(record)

    def render_source(self, record):
        return self.cell_source(record)

    def render_place(self, record):
        return self.cell_place(record)

    def render_next_follow_up_at(self, record):
        return self.cell_next_follow_up_at(record)

    def render_last_contacted_at(self, record):
        return self.cell_last_contacted_at(record)

    def render_updated_at(self, record):
        return self.cell_updated_at(record)
