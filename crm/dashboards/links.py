"""Links from a number to the lead list showing exactly the leads it counts.

The lead list's query parameters belong to crm.leads.filters.LeadFilter (stage, counsellor, created_after/
created_before, source, follow_up, contacted, industry, import_job, reached); this module is the one place that knows their names. A number whose leads the list cannot select exactly gets no link (None), never an
approximate one.
"""

from datetime import date

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode


def _list_url() -> str | None:
    try:
        return reverse("leads:list")
    except NoReverseMatch:
        return None


def lead_list_url(
    *,
    stages=None,
    assigned_to=None,
    created_from: date | None = None,
    created_to: date | None = None,
    source: str | None = None,
    follow_up: str | None = None,
    contacted: bool | None = None,
    industry: str | None = None,
    import_job: int | None = None,
    reached: int | None = None,
    linkedin: bool = False,
) -> str | None:
    """The lead list filtered to these criteria.

    `assigned_to`: a user id, "none" (unassigned) or "any" (assigned to someone); `follow_up`: "overdue" (due
    before today) or "today"; `contacted`: True for leads contacted at least once. Dates are the user's local
    dates, inclusive. None when the list cannot show exactly these leads.
    """
    base = _list_url()
    if base is None:
        return None
    if source == "" or industry == "":
        return None  # nor a "no source" / "no industry" choice
    params: list[tuple[str, str]] = [("stage", str(stage_id)) for stage_id in stages or ()]
    if assigned_to is not None:
        params.append(("counsellor", str(assigned_to)))  # a user id, "none" (unassigned) or "any" (assigned)
    if contacted is not None:
        params.append(("contacted", "yes" if contacted else "no"))
    if created_from is not None:
        params.append(("created_after", created_from.isoformat()))
    if created_to is not None:
        params.append(("created_before", created_to.isoformat()))
    if source is not None:
        params.append(("source", source))  # case-insensitive on the list
    if follow_up is not None:
        params.append(("follow_up", follow_up))
    if industry is not None:
        params.append(("industry", industry))  # the company's industry, case-insensitive
    if import_job is not None:
        params.append(("import_job", str(import_job)))
    if linkedin:
        params.append(("linkedin", "yes"))  # the lead's company has a LinkedIn page
    if reached is not None:
        params.append(("reached", str(reached)))  # leads that reached this funnel step
    return f"{base}?{urlencode(params)}" if params else base


def page_url(name: str, *args) -> str | None:
    """reverse() for pages other parts of the CRM may or may not provide yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None
