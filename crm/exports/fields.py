"""The lead fields a user may export: key (stored in ExportJob.fields and ExportPreference.fields),
column heading, where the value comes from (a `values_list` lookup or an annotation) and its kind.

Kinds decide how a value is written: "text" is escaped against formula injection, "phone" is text
that may stay unescaped where a spreadsheet will not evaluate it (see writers.py), "number", "date"
and "datetime" are typed cells in XLSX and plain values in CSV. Every value comes out of one SQL
query (joins and one correlated subquery), never a query per row.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Subquery


@dataclass(frozen=True)
class ExportField:
    key: str
    label: str
    lookup: str
    kind: str = "text"
    group: str = "Lead"
    annotation: Any = None  # a callable returning the expression to annotate as `lookup`
    width: int = 18  # XLSX column width in characters


def _last_note():
    from crm.leads.models import Activity

    latest = Activity.objects.filter(lead=OuterRef("pk")).exclude(body="").order_by("-at", "-id")
    return Subquery(latest.values("body")[:1])


FIELDS: list[ExportField] = [
    ExportField("name", "Name", "name", width=26),
    ExportField("phone", "Phone", "phone", "phone", width=16),
    ExportField("alternate_phones", "Alternate phones", "alternate_phones", width=20),
    ExportField("email", "E-mail", "email", width=28),
    ExportField("stage", "Stage", "stage__name", width=16),
    ExportField("counsellor", "Counsellor", "assigned_to__full_name", width=22),
    ExportField("counsellor_email", "Counsellor e-mail", "assigned_to__email", width=26),
    ExportField("source", "Source", "source", width=14),
    ExportField("interest", "Interest", "interest", width=20),
    ExportField("value", "Deal value", "value", "number", width=12),
    ExportField("area", "Area", "area", width=16),
    ExportField("city", "City", "city", width=14),
    ExportField("state", "State", "state", width=14),
    ExportField("country", "Country", "country", width=12),
    ExportField("lead_date", "Lead date", "lead_date", "date", width=12),
    ExportField("remark", "Remark", "remark", width=30),
    ExportField("notes", "Notes", "notes", width=40),
    ExportField("last_note", "Last note", "x_last_note", annotation=_last_note, width=40),
    ExportField("next_follow_up_at", "Next follow-up", "next_follow_up_at", "datetime", "Dates", width=17),
    ExportField("last_contacted_at", "Last contacted", "last_contacted_at", "datetime", "Dates", width=17),
    ExportField("assigned_at", "Assigned", "assigned_at", "datetime", "Dates", width=17),
    ExportField("stage_changed_at", "Stage changed", "stage_changed_at", "datetime", "Dates", width=17),
    ExportField("created_at", "Created", "created_at", "datetime", "Dates", width=17),
    ExportField("updated_at", "Updated", "updated_at", "datetime", "Dates", width=17),
    ExportField("created_by", "Created by", "created_by__full_name", group="Dates", width=22),
    ExportField("company", "Company", "company__name", group="Company", width=26),
    ExportField("company_domain", "Company domain", "company__domain", group="Company", width=20),
    ExportField("company_industry", "Industry", "company__industry", group="Company", width=18),
    ExportField("company_employees", "Employees", "company__employees", "number", "Company", width=11),
    ExportField("company_revenue", "Annual revenue", "company__annual_revenue", "number", "Company", width=14),
    ExportField("company_city", "Company city", "company__city", group="Company", width=14),
    ExportField("company_state", "Company state", "company__state", group="Company", width=14),
    ExportField("company_country", "Company country", "company__country", group="Company", width=14),
    ExportField("company_website", "Website", "company__website", group="Company", width=24),
    ExportField("company_linkedin", "LinkedIn", "company__linkedin", group="Company", width=24),
    ExportField("company_keywords", "Keywords", "company__keywords", group="Company", width=24),
    ExportField("uuid", "Lead ID", "uuid", group="Other", width=36),
]

BY_KEY: dict[str, ExportField] = {field.key: field for field in FIELDS}
CHOICES: list[tuple[str, str]] = [(field.key, field.label) for field in FIELDS]
DEFAULT_KEYS: list[str] = [
    "name", "phone", "email", "stage", "counsellor", "source", "interest", "city",
    "next_follow_up_at", "last_contacted_at", "created_at",
]  # fmt: skip


def fields_for(keys) -> list[ExportField]:
    """The fields named by `keys`, in that order; unknown keys and repeats are dropped."""
    seen, chosen = set(), []
    for key in keys:
        if key in BY_KEY and key not in seen:
            seen.add(key)
            chosen.append(BY_KEY[key])
    return chosen


def ordered_for_picker(keys) -> list[tuple[ExportField, bool]]:
    """Every field as (field, chosen): the chosen ones first in the user's order, then the rest."""
    chosen = fields_for(keys)
    chosen_keys = {field.key for field in chosen}
    return [(field, True) for field in chosen] + [(field, False) for field in FIELDS if field.key not in chosen_keys]
