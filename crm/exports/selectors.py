"""Reads with rules: which leads an export holds, a user's allowance this month, their export history."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.http import Http404, QueryDict
from django.utils import timezone

from .fields import ExportField
from .models import ExportJob, ExportStatus


def user_may_export(user) -> bool:
    """Managers and admins may export; a sales user only when an admin ticked `can_export`."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_manager or bool(user.can_export)


def user_time_zone(user) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


# --- Which leads --------------------------------------------------------------------------------------


def selection_data(*, lead_ids=None, filter_query: str = "") -> QueryDict:
    """The bulk-form data `leads_from_selection` understands. No ticked lead means "every lead the
    filter matches" (select_all), so that the export button exports the list as it is filtered."""
    data = QueryDict(mutable=True)
    data["filter_query"] = filter_query or ""
    ids = [str(pk) for pk in (lead_ids or []) if str(pk).isdigit()]
    if ids:
        data.setlist("lead_ids", ids)
    else:
        data["select_all"] = "1"
    return data


def export_leads(user, *, lead_ids=None, filter_query: str = "") -> QuerySet:
    """The leads an export by `user` holds: the ticked ones or all matching the filter, and always only
    among the leads the user may see (a sales user: their own), in the list's order (its `sort`)."""
    from crm.leads.listing import clean_sort, ordering_for
    from crm.leads.selectors import leads_from_selection

    if not user_may_export(user):
        from crm.leads.models import Lead

        return Lead.objects.none()
    leads = leads_from_selection(user, selection_data(lead_ids=lead_ids, filter_query=filter_query))
    return leads.order_by(*ordering_for(clean_sort(QueryDict(filter_query or "").get("sort"))))


def export_job_leads(export: ExportJob) -> QuerySet:
    return export_leads(export.user, lead_ids=export.lead_ids, filter_query=export.query)


def export_rows(queryset: QuerySet, fields: list[ExportField], chunk_size: int = 2000):
    """Tuples of the fields' values, in order, streamed from one query (no query per row)."""
    annotations = {field.lookup: field.annotation() for field in fields if field.annotation}
    if annotations:
        queryset = queryset.annotate(**annotations)
    return queryset.values_list(*[field.lookup for field in fields]).iterator(chunk_size=chunk_size)


# --- Allowance ----------------------------------------------------------------------------------------


def month_bounds(user, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The start of this month and of the next one, as midnights in the user's time zone."""
    local = (now or timezone.now()).astimezone(user_time_zone(user))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, following


@dataclass(frozen=True)
class Allowance:
    exports_used: int
    exports_limit: int
    rows_used: int
    rows_limit: int | None
    resets_on: date

    @property
    def exports_left(self) -> int:
        return max(0, self.exports_limit - self.exports_used)

    @property
    def rows_left(self) -> int | None:
        return None if self.rows_limit is None else max(0, self.rows_limit - self.rows_used)

    def refusal(self, rows: int) -> str | None:
        """Why an export of `rows` rows is over the allowance, saying what remains; None if it fits."""
        resets = f"{self.resets_on.day} {self.resets_on:%B}"
        if self.exports_left < 1:
            return f"You have used all {self.exports_limit:,} exports of this month; your allowance renews on {resets}."
        if self.rows_left is not None and rows > self.rows_left:
            return (
                f"This export has {rows:,} rows but you have {self.rows_left:,} of your "
                f"{self.rows_limit:,} rows left this month (renews on {resets}). "
                "Narrow the filter or select fewer leads."
            )
        return None


def allowance_for(user, now: datetime | None = None) -> Allowance:
    """Exports and rows used this month (in the user's time zone). Failed exports are not counted."""
    start, following = month_bounds(user, now)
    used = (
        ExportJob.objects.filter(user=user, created_at__gte=start, created_at__lt=following)
        .exclude(status=ExportStatus.FAILED)
        .aggregate(exports=Count("id"), rows=Sum("row_count"))
    )
    return Allowance(
        exports_used=used["exports"] or 0,
        exports_limit=user.exports_per_month,
        rows_used=used["rows"] or 0,
        rows_limit=user.export_rows_per_month,
        resets_on=following.date(),
    )


# --- History ------------------------------------------------------------------------------------------


def exports_for(user) -> QuerySet[ExportJob]:
    return ExportJob.objects.filter(user=user).order_by("-created_at", "-id")


def export_get_for(user, uuid) -> ExportJob:
    """The user's own export; 404 for anyone else's (never 403: do not reveal that it exists)."""
    try:
        return ExportJob.objects.select_related("user").get(uuid=uuid, user=user)
    except (ExportJob.DoesNotExist, ValueError):
        raise Http404("No such export.") from None
