from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crm.core.htmx import page_or_partial

from ..filters import CONTACTED_CHOICES, FOLLOW_UP_CHOICES, LeadFilter, counsellor_choices, suggestions
from ..listing import PER_PAGE_CHOICES, SEARCH_COUNT_CAP, clean_page, clean_per_page, clean_sort, lead_page
from ..models import Stage
from ..selectors import leads_visible_to
from ..tables import LeadTable
from ..tally import list_total


@require_GET
@login_required
def lead_list(request):
    """The lead list: filters applied live (htmx swaps #lead-table and pushes the URL), sortable, paged."""
    lead_filter = LeadFilter(request.GET or None, queryset=leads_visible_to(request.user), request=request)
    sort = clean_sort(request.GET.get("sort"))
    sales_users = _sales_users(request.user)
    context = lead_list_context(
        request, request.GET, lead_filter, sort=sort,
        counsellors=[user for user in sales_users if user.is_active],  # for the bulk actions bar
        unfiltered=not lead_filter.is_filtered,
        count_cap=SEARCH_COUNT_CAP if request.GET.get("q", "").strip() else None,
        known_total=list_total(request.user, lead_filter),
    )
    template = page_or_partial(request, "leads/lead_list.html", "lead-table")
    if template == "leads/lead_list.html":
        context.update(_filter_form_context(request, lead_filter, sales_users))
    return render(request, template, context)


def lead_list_context(request, data, lead_filter, *, sort, counsellors, **page_options) -> dict:
    """The page of leads and the table context shared by the lead list and the unassigned queue."""
    per_page = clean_per_page(data.get("per_page"))
    page = lead_page(lead_filter.qs, sort=sort, page=clean_page(data.get("page")), per_page=per_page, **page_options)
    filter_query = data.copy()
    filter_query.pop("page", None)
    return {
        "filter": lead_filter,
        "table": LeadTable(page.leads, user=request.user),
        "page": page,
        "sort": sort,
        "per_page": per_page,
        "per_page_choices": PER_PAGE_CHOICES,
        "total": page.total,
        "total_exact": page.total_exact,
        "filter_query": filter_query.urlencode(),
        "counsellors": counsellors,
    }


MORE_FILTERS = ("source", "interest", "city", "state", "country", "lead_date_after", "lead_date_before",
                "created_after", "created_before", "industry", "linkedin", "employees_min", "employees_max", "revenue_min",
                "revenue_max", "technologies")


def _filter_form_context(request, lead_filter, sales_users) -> dict:
    """What the (hand-written) filter form needs; the values themselves come from request.GET."""
    selected = set(request.GET.getlist("stage"))
    stages = list(Stage.objects.order_by("-is_active", "position", "id"))
    for stage in stages:
        stage.selected = str(stage.pk) in selected
    return {
        "suggestions": suggestions(),
        "filter_stages": stages,
        "counsellor_choices": counsellor_choices(sales_users) if "counsellor" in lead_filter.filters else [],
        "follow_up_choices": FOLLOW_UP_CHOICES,
        "contacted_choices": CONTACTED_CHOICES,
        "reached_stage": next((s for s in stages if str(s.pk) == request.GET.get("reached") and s.is_active), None),
        "more_filters_open": any(request.GET.get(name, "").strip() for name in MORE_FILTERS),
        "filters_open": any(value.strip() for key, values in request.GET.lists() if key not in {"q", "page", "sort", "per_page"}
                            for value in values),
    }


def _sales_users(user) -> list:
    """Every sales user, read once: the counsellor filter lists them all, the bulk actions bar the active ones."""
    if not user.is_manager:
        return []
    from crm.accounts.models import Role, User

    return list(User.objects.filter(role=Role.SALES).order_by("-is_active", "full_name", "id"))
