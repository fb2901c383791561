"""The lead list's table. `LeadTable(rows, user=request.user)`; the rows are one page that
crm.leads.listing has already sorted and cut (the table neither sorts nor pages: see listing.py)."""

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from .models import Lead


def _when(value):
    if not value:
        return "—"
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        formats.date_format(local, "DATETIME_FORMAT"),
        formats.date_format(local, "j M, H:i") if local.year == timezone.localdate().year else formats.date_format(local, "j M Y"),
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
    phone = tables.Column(verbose_name="Phone")
    stage = tables.Column(verbose_name="Stage", orderable=False)
    assigned_to = tables.Column(verbose_name="Counsellor", orderable=False, default="Unassigned")
    source = tables.Column(verbose_name="Source", orderable=False)
    place = tables.Column(verbose_name="Area / city", accessor="city", orderable=False, empty_values=())
    next_follow_up_at = tables.Column(verbose_name="Next follow-up", empty_values=())
    last_contacted_at = tables.Column(verbose_name="Last contacted", empty_values=())
    updated_at = tables.Column(verbose_name="Updated")

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

    def render_name(self, record):
        url = reverse("leads:detail", args=[record.uuid])
        return format_html('<a class="fw-semibold" href="{}">{}</a>', url, record.name or record.phone or record.email or "(no name)")

    def render_phone(self, record, value):
        return render_to_string("leads/_phone_links.html", {"phone": value, "compact": True})

    def render_stage(self, record):
        return render_to_string("leads/_stage_badge.html", {"stage": record.stage})

    def render_assigned_to(self, value):
        return value.full_name or value.email

    def render_place(self, record):
        parts = [part for part in (record.area, record.city) if part]
        return ", ".join(parts) if parts else "—"

    def render_next_follow_up_at(self, value):
        if not value:
            return "—"
        overdue = value < timezone.now()
        html = _when(value)
        return format_html('<span class="text-danger fw-semibold">{}</span>', html) if overdue else html

    def render_last_contacted_at(self, value):
        return _when(value)

    def render_updated_at(self, value):
        return _when(value)
