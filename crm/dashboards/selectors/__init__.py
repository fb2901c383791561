"""Every number the dashboards and reports show, computed with SQL aggregates (see each module)."""

from .common import Scope
from .counsellor import (
    counsellor_numbers,
    my_scope,
    newly_assigned,
    recent_status_changes,
    recently_updated,
    work_list,
)
from .manager import funnel_chart, manager_dashboard, sort_counsellors, stage_chart
from .reports import companies_report, funnel_report

__all__ = [
    "Scope",
    "companies_report",
    "counsellor_numbers",
    "funnel_chart",
    "funnel_report",
    "manager_dashboard",
    "my_scope",
    "newly_assigned",
    "recent_status_changes",
    "recently_updated",
    "sort_counsellors",
    "stage_chart",
    "work_list",
]
