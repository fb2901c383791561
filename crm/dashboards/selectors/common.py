"""What every dashboard number shares: who is asking, which leads they may count, and the day boundaries
in the user's time zone (activated by the middleware)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from crm.leads import tally
from crm.leads.models import Lead, Stage, StageKind
from crm.leads.owners import owned_by
from crm.leads.selectors import leads_visible_to

from .. import links


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the current (user's) time zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def today() -> date:
    return timezone.localdate()


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Scope:
    """The leads a page counts: those the user may see, narrowed by the page's filters.

    `date_from`/`date_to` (local dates, inclusive) narrow to leads created in that range; `counsellor_id`
    to leads assigned to that user. Counsellors never get more than their own leads, whatever they ask.
    """

    user: object
    counsellor_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def is_manager(self) -> bool:
        return self.user.is_manager

    @property
    def filtered(self) -> bool:
        """True when the scope is not simply every lead."""
        return not self.is_manager or bool(self.counsellor_id or self.date_from or self.date_to)

    def leads(self, *, dated: bool = True) -> QuerySet[Lead]:
        leads = leads_visible_to(self.user).order_by()
        if self.counsellor_id and self.is_manager:
            leads = owned_by(leads, self.counsellor_id)
        if dated:
            if self.date_from:
                leads = leads.filter(created_at__gte=day_start(self.date_from))
            if self.date_to:
                leads = leads.filter(created_at__lt=day_start(self.date_to + timedelta(days=1)))
        return leads

    def owner_link(self):
        """The `assigned_to` a link must carry so that it counts the same leads as the scope."""
        if not self.is_manager:
            return None  # the list shows a counsellor only their own leads already
        return self.counsellor_id

    def link(self, **criteria) -> str | None:
        """A lead-list link for a subset of the scope: the scope's own filters plus `criteria`."""
        if self.is_manager:
            criteria.setdefault("assigned_to", self.owner_link())
        elif criteria.get("assigned_to") not in (None, "any", "none"):
            criteria.pop("assigned_to")  # a counsellor's list holds only their own leads already
        created_from, created_to = self.date_from, self.date_to
        if "created_from" in criteria:
            created_from = max(filter(None, [created_from, criteria.pop("created_from")]), default=None)
        if "created_to" in criteria:
            created_to = min(filter(None, [created_to, criteria.pop("created_to")]), default=None)
        return links.lead_list_url(created_from=created_from, created_to=created_to, **criteria)

    def cache_key(self, name: str) -> str:
        who = "all" if self.is_manager else f"user{self.user.pk}"
        tz = timezone.get_current_timezone_name()
        return f"dash:{name}:{who}:{self.counsellor_id or ''}:{self.date_from or ''}:{self.date_to or ''}:{tz}"


def stage_list() -> list[dict]:
    """Every active stage in pipeline order, then any inactive stage (shown only while it holds leads)."""
    return [
        {"id": s.pk, "name": s.name, "colour": s.colour, "kind": s.kind, "active": s.is_active}
        for s in Stage.objects.order_by("-is_active", "position", "id")
    ]


def _tally_owner(scope: Scope):
    """The stage tally's owner holding exactly the scope's leads; None when the scope has a date range (the
    tally does not know when leads were created) or the tally cannot say."""
    if scope.date_from or scope.date_to:
        return None
    return tally.owner_for(scope.user, str(scope.counsellor_id) if scope.counsellor_id else None)


def rollup(scope: Scope) -> list[dict]:
    """The scope's leads counted per (counsellor, stage), from which totals, the stage distribution and the
    per-counsellor table are summed (a few hundred summary rows at most, never one row per lead). Without a
    date range the stage tally answers (crm.leads.tally: no lead is read); with one, a GROUP BY over the
    scope's leads."""
    owner = _tally_owner(scope)
    if owner is None:
        return list(scope.leads().values("assigned_to_id", "stage_id").annotate(n=Count("*")).order_by())
    return [
        {"assigned_to_id": owner_key or None, "stage_id": stage_id, "n": n}
        for (owner_key, stage_id), (n, _value) in tally.owner_stage_totals(owner).items()
    ]


def per_owner(leads: QuerySet[Lead]) -> dict[int | None, int]:
    """{counsellor id: leads}."""
    return dict(leads.values("assigned_to_id").annotate(n=Count("*")).values_list("assigned_to_id", "n").order_by())


def contacted(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Leads contacted at least once."""
    return leads.filter(last_contacted_at__isnull=False)


def contacted_per_owner(scope: Scope) -> dict[int | None, int]:
    """{counsellor id (None: unassigned): the scope's leads contacted at least once}, from the stage tally
    when it holds the scope (see rollup), else counted over the leads."""
    owner = _tally_owner(scope)
    if owner is None:
        return per_owner(contacted(scope.leads()))
    return {owner_key or None: n for owner_key, n in tally.owner_contacted(owner).items()}


def overdue(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Leads whose next follow-up was due before today: the lead list's "overdue" filter."""
    return leads.filter(next_follow_up_at__lt=day_start(today()))


def new_counts(leads: QuerySet[Lead]) -> dict:
    """Leads created today and this week (since Monday), from the created_at index."""
    day = today()
    monday = day - timedelta(days=day.weekday())
    return leads.filter(created_at__gte=day_start(monday)).aggregate(
        today=Count("created_at", filter=Q(created_at__gte=day_start(day))), week=Count("created_at")
    )


def distribution(rows: list[dict], stages: list[dict], scope: Scope) -> list[dict]:
    """Every active stage with its count (zero-filled), plus inactive stages that still hold leads."""
    counts: dict[int, int] = {}
    for row in rows:
        counts[row["stage_id"]] = counts.get(row["stage_id"], 0) + row["n"]
    total = sum(counts.values())
    result = []
    for stage in stages:
        n = counts.get(stage["id"], 0)
        if not stage["active"] and not n:
            continue
        result.append({**stage, "count": n, "percent": percent(n, total), "url": scope.link(stages=[stage["id"]])})
    return result


def kind_ids(stages: list[dict], kind: str) -> list[int]:
    return [s["id"] for s in stages if s["kind"] == kind]


def outcome_counts(rows: list[dict], stages: list[dict], scope: Scope) -> dict:
    """Won and lost leads, with won/total and won/closed (closed = won + lost)."""
    won_ids, lost_ids = set(kind_ids(stages, StageKind.WON)), set(kind_ids(stages, StageKind.LOST))
    total = sum(r["n"] for r in rows)
    won = sum(r["n"] for r in rows if r["stage_id"] in won_ids)
    lost = sum(r["n"] for r in rows if r["stage_id"] in lost_ids)
    return {
        "total": total,
        "won": won,
        "lost": lost,
        "closed": won + lost,
        "won_of_total": percent(won, total),
        "won_of_closed": percent(won, won + lost),
        "won_url": scope.link(stages=sorted(won_ids)) if won_ids else None,
        "lost_url": scope.link(stages=sorted(lost_ids)) if lost_ids else None,
        "closed_url": scope.link(stages=sorted(won_ids | lost_ids)) if won_ids | lost_ids else None,
        "total_url": scope.link(),
    }


def chart(kind: str, labels: list, datasets: list[dict], links_: list | None = None, **options) -> dict:
    """The JSON a <canvas data-chart> reads (static/crm/js/charts.js)."""
    return {"type": kind, "labels": labels, "datasets": datasets, "links": links_ or [], "options": options}
