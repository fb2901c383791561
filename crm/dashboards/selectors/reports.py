"""The reports: the funnel/status report (`/reports/funnel/`) and the companies report (`/reports/companies/`).
A counsellor's numbers come only from their own leads (and the companies of their own leads)."""

from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Avg, Count, Exists, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from crm.accounts.models import User
from crm.leads.models import Activity, Company, Lead
from crm.leads.owners import owned_by
from crm.leads.selectors import leads_visible_to

from .. import links
from .common import Scope, day_start, distribution, outcome_counts, percent, rollup, stage_list, today
from .funnel import funnel

RECENT_DAYS = 30
TOP = 5


def funnel_report(scope: Scope) -> dict:
    stages = stage_list()
    rows = rollup(scope)
    day = today()
    since = day - timedelta(days=RECENT_DAYS - 1)
    activities = Activity.objects.all() if scope.is_manager else Activity.objects.filter(lead__assigned_to=scope.user)
    activities = activities.order_by()
    return {
        "stages": distribution(rows, stages, scope),
        "outcomes": outcome_counts(rows, stages, scope),
        "funnel": funnel(scope, stages, rows),
        "created_recent": scope.leads().filter(created_at__gte=day_start(since)).count(),
        "created_recent_url": scope.link(created_from=since, created_to=day),
        "recent_since": since,
        "activities_total": activities.count(),  # two index-only counts rather than one scan of the table
        "activities_recent": activities.filter(at__gte=day_start(since)).count(),
        "by_counsellor": _by_counsellor(rows, scope),
    }


def _by_counsellor(rows: list[dict], scope: Scope) -> list[dict]:
    counts: dict[int | None, int] = {}
    for r in rows:
        counts[r["assigned_to_id"]] = counts.get(r["assigned_to_id"], 0) + r["n"]
    total = sum(counts.values())
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[pk for pk in counts if pk])}
    result = [
        {"name": names.get(pk, "?"), "count": n, "percent": percent(n, total), "url": scope.link(assigned_to=pk)}
        for pk, n in counts.items()
        if pk is not None
    ]
    result.sort(key=lambda r: (-r["count"], r["name"].lower()))
    if scope.is_manager:
        n = counts.get(None, 0)
        result.append({"name": "Unassigned", "count": n, "percent": percent(n, total), "unassigned": True,
                       "url": scope.link(assigned_to="none")})
    return result


def companies_for(user) -> QuerySet[Company]:
    """Every company for managers; for a counsellor, the companies of their own leads."""
    if user.is_manager:
        return Company.objects.all()
    return Company.objects.filter(Exists(owned_by(Lead.objects.filter(company_id=OuterRef("pk")), user)))


def companies_report(user) -> dict:
    companies = companies_for(user).order_by()
    week_ago = timezone.now() - timedelta(days=7)
    numbers = companies.aggregate(
        total=Count("*"),
        with_linkedin=Count("pk", filter=~Q(linkedin="")),
        recent=Count("pk", filter=Q(created_at__gte=week_ago)),
        avg_employees=Avg("employees"),
        avg_revenue=Avg("annual_revenue"),
    )
    leads = leads_visible_to(user).order_by()
    # Industries are grouped case-insensitively, as the lead list's industry filter matches them.
    industries = list(
        companies.exclude(industry="")
        .annotate(key=Lower("industry"))
        .values("key")
        .annotate(n=Count("*"), industry=Min("industry"))
        .order_by("-n", "key")[:TOP]
    )
    lead_counts = dict(
        leads.annotate(key=Lower("company__industry"))
        .filter(key__in=[r["key"] for r in industries])
        .values("key")
        .annotate(n=Count("*"))
        .values_list("key", "n")
        .order_by()
    )
    scope = Scope(user=user)
    company_list = links.page_url("leads:company_list") if user.is_manager else None  # it lists every company
    for row in industries:
        row["leads"] = lead_counts.get(row["key"], 0)
        row["leads_url"] = scope.link(industry=row["industry"])
        row["url"] = f"{company_list}?{urlencode({'industry': row['industry']})}" if company_list else None
    countries = list(
        companies.exclude(country="").values("country").annotate(n=Count("*")).order_by("-n", "country")[:TOP]
    )
    return {
        **numbers,
        "total_url": company_list,
        "industries": industries,
        "countries": countries,
        "leads_with_company": leads.filter(company__isnull=False).count(),
        "leads_with_linkedin": leads.filter(company__linkedin__gt="").count(),
        "leads_with_linkedin_url": scope.link(linkedin=True),
    }
