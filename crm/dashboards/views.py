from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from crm.core.htmx import wants_partial
from crm.core.roles import manager_required
from crm.leads.forms import OutcomeForm

from . import selectors
from .caching import cached
from .forms import PRESETS, DashboardFilterForm, preset_range
from .selectors.manager import SORT_KEYS
from .warming import ensure_warmer

# One URL answers the whole page or, for htmx, the fragment it targets: caches must tell them apart.
FRAGMENT_HEADERS = ("HX-Request", "HX-Target")


@require_GET
@login_required
def home(request):
    """Each role's own home page."""
    if request.user.is_manager:
        return redirect("dashboards:manager")
    return redirect("dashboards:counsellor")


def _keep_warm(user) -> None:
    """A manager's page starts the warm-up chain if it is not running (warming.py): the next visitor of the
    default pages then finds the numbers computed."""
    if user.is_manager:
        ensure_warmer()


def _partial(request, template: str, allowed: set[str], default: str) -> str:
    """The full page, or for htmx the fragment it targets (one of `allowed`, else `default`)."""
    if not wants_partial(request):
        return template
    target = request.htmx.target if request.htmx.target in allowed else default
    return f"{template}#{target}"


def _sort_links(request, current: str) -> dict:
    """For each sortable column: the URL that sorts by it (again: the other way) and its current state."""
    result = {}
    for key in SORT_KEYS:
        params = request.GET.copy()
        if current == key:
            params["sort"], state = f"-{key}", "asc"
        elif current == f"-{key}":
            params["sort"], state = key, "desc"
        else:
            params["sort"], state = (key if key == "name" else f"-{key}"), None
        result[key] = {"url": f"{request.path}?{params.urlencode()}", "state": state}
    return result


@require_GET
@vary_on_headers(*FRAGMENT_HEADERS)
@manager_required
def manager(request):
    form = DashboardFilterForm(request.GET or None)
    values = form.values()
    scope = selectors.Scope(user=request.user, **values)
    _keep_warm(request.user)
    data, as_of = cached(scope.cache_key("manager"), lambda: selectors.manager_dashboard(scope))
    sort = request.GET.get("sort", "name")
    if sort.lstrip("-") not in SORT_KEYS:
        sort = "name"
    presets = [
        {"days": days, "label": label, "range": preset_range(int(days))} for days, label in PRESETS
    ]
    context = {
        "form": form,
        "scope": scope,
        "data": data,
        "as_of": as_of,
        "sort": sort,
        "counsellor_rows": selectors.sort_counsellors(data["counsellors"], sort),
        "stage_chart": selectors.stage_chart(data["stages"]),
        "funnel_chart": selectors.funnel_chart(data["funnel"]),
        "presets": presets,
        "sort_links": _sort_links(request, sort),
    }
    template = _partial(request, "dashboards/manager.html", {"dashboard-body", "counsellor-table"}, "dashboard-body")
    return render(request, template, context)


@require_GET
@vary_on_headers(*FRAGMENT_HEADERS)
@login_required
def counsellor(request):
    user = request.user
    scope = selectors.my_scope(user)
    work = selectors.work_list(user)
    current = work["leads"][0]["lead"] if work["leads"] else None
    # The first follow-up is worked in place with the leads' one-step outcome form.
    context = {"work": work, "current": current, "outcome_form": OutcomeForm(lead=current) if current else None}
    if wants_partial(request) and request.htmx.target == "work-list":
        return render(request, "dashboards/counsellor.html#work-list", context)
    data, as_of = cached(scope.cache_key("counsellor"), lambda: selectors.counsellor_numbers(scope))
    context.update(
        scope=scope,
        data=data,
        as_of=as_of,
        stage_chart=selectors.stage_chart(data["stages"]),
        new=selectors.newly_assigned(user),
        changes=selectors.recent_status_changes(user),
        updated=selectors.recently_updated(user),
    )
    return render(request, "dashboards/counsellor.html", context)


@require_GET
@vary_on_headers(*FRAGMENT_HEADERS)
@login_required
def funnel_report(request):
    scope = selectors.Scope(user=request.user)
    _keep_warm(request.user)
    data, as_of = cached(scope.cache_key("funnel"), lambda: selectors.funnel_report(scope))
    view = "chart" if request.GET.get("view") == "chart" else "list"
    context = {
        "scope": scope,
        "data": data,
        "as_of": as_of,
        "view": view,
        "stage_chart": selectors.stage_chart(data["stages"]),
        "funnel_chart": selectors.funnel_chart(data["funnel"]),
    }
    return render(request, _partial(request, "dashboards/funnel.html", {"report-body"}, "report-body"), context)


@require_GET
@login_required
def companies_report(request):
    scope = selectors.Scope(user=request.user)
    _keep_warm(request.user)
    data, as_of = cached(scope.cache_key("companies"), lambda: selectors.companies_report(request.user))
    return render(request, "dashboards/companies.html", {"data": data, "as_of": as_of, "scope": scope})
