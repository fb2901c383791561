"""Assignment pages (managers and admins only, except "new for me"). Thin: forms in, services out."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from crm.accounts.selectors import counsellors
from crm.core.htmx import page_or_partial, wants_partial
from crm.core.roles import manager_required
from crm.leads.selectors import lead_get_for, leads_from_selection, leads_visible_to

from . import services
from .forms import BulkActionForm, LeadAssignForm, NextLeadsForm, snapshot_dumps, snapshot_payload
from .models import Method
from .previews import bulk_preview_data, next_preview_data
from .selectors import (
    MAX_BULK,
    batch_get,
    failed_undo,
    new_assigned_leads,
    recent_batches,
    selection_rows,
    undo_preview,
)

NEW_WINDOW_KEY = "assignment_new_window"


def _next_url(request, default="assignment:unassigned") -> str:
    """Where to go back to: the list the action started from (a local URL only)."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return reverse(default)


def _form_errors(form) -> list[str]:
    return [error for errors in form.errors.values() for error in errors]


# --- the unassigned queue -------------------------------------------------------------------------------


@require_GET
@manager_required
def unassigned(request):
    """Unassigned leads, newest first, with the lead list's filters, table and bulk actions."""
    from crm.leads.filters import UNASSIGNED, LeadFilter, suggestions
    from crm.leads.listing import clean_sort
    from crm.leads.tally import list_total
    from crm.leads.views.lists import lead_list_context

    data = request.GET.copy()
    data["counsellor"] = UNASSIGNED  # also in filter_query, so "all N matching" means unassigned ones only
    data.setdefault("sort", "-created")
    lead_filter = LeadFilter(data, queryset=leads_visible_to(request.user), request=request)
    context = lead_list_context(
        request, data, lead_filter, sort=clean_sort(data.get("sort")), counsellors=list(counsellors()),
        known_total=list_total(request.user, lead_filter),
    )
    context["queue"] = True
    if wants_partial(request):
        return render(request, "leads/lead_list.html#lead-table", context)
    context["suggestions"] = suggestions()
    context["next_form"] = NextLeadsForm(initial={"n": 100, "order": "oldest"})
    return render(request, "assignment/unassigned.html", context)


# --- bulk actions: preview, then apply ------------------------------------------------------------------


def _preview_error(request, errors, next_url):
    return render(request, "assignment/bulk_preview.html", {"errors": errors, "next": next_url}, status=422)


@require_POST
@manager_required
def bulk_preview(request, action=None):
    """What a bulk action on the selected leads will do (how many, to whom), with a button to do it."""
    post = request.POST.copy()
    if action:
        post["action"] = action
    next_url = _next_url(request, default="leads:list")
    form = BulkActionForm(post)
    rows = selection_rows(leads_from_selection(request.user, post))
    errors = []
    if not rows:
        errors.append("No leads are selected: tick some leads, or tick “all leads matching these filters”.")
    elif len(rows) > MAX_BULK:
        errors.append(f"That is more than {MAX_BULK:,} leads; one bulk action takes up to {MAX_BULK:,}. "
                      "Narrow the filters and try again.")
    if not form.is_valid():
        errors += _form_errors(form)
    if errors:
        return _preview_error(request, errors, next_url)
    context = {
        "form": form,
        "action": form.cleaned_data["action"],
        "preview": bulk_preview_data(form.cleaned_data, rows),
        "token": snapshot_dumps(rows, user=request.user),
        "next": next_url,
    }
    return render(request, "assignment/bulk_preview.html", context)


@require_POST
@manager_required
def random_assign(request):
    """Seed 002's "random assign": here a balanced distribution of the selected leads (previewed first)."""
    return bulk_preview(request, action="distribute")


@require_POST
@manager_required
def bulk_apply(request):
    """Do the previewed action on exactly the previewed leads; leads changed since are skipped and listed."""
    next_url = _next_url(request, default="leads:list")
    form = BulkActionForm(request.POST)
    try:
        packed = snapshot_payload(request.POST.get("token", ""), user=request.user)
        expected = services.unpack_owners(packed)
    except signing.SignatureExpired:
        return _preview_error(request, ["This preview is more than an hour old. Go back and preview again."], next_url)
    except (signing.BadSignature, ValueError, KeyError, TypeError):
        return _preview_error(request, ["This preview could not be read. Go back and preview again."], next_url)
    if not form.is_valid():
        return _preview_error(request, _form_errors(form), next_url)
    data, ids, by = form.cleaned_data, list(expected), request.user
    try:
        if services.runs_in_background(len(ids)):
            batch = services.batch_queue(by=by, method=services.ACTION_METHODS[data["action"]], count=len(ids), params={
                "op": "bulk", "action": data["action"], "to_user": getattr(data["to_user"], "pk", None),
                "counsellors": [user.pk for user in data["counsellors"]], "stage": getattr(data["stage"], "pk", None),
                "note": data["note"], "expected": packed,
            })
        else:
            batch = services.bulk_action_run(action=data["action"], expected=expected, by=by, to_user=data["to_user"],
                                             counsellors=data["counsellors"], stage=data["stage"], note=data["note"])
    except (services.AssignmentError, ValueError) as exc:
        return _preview_error(request, [str(exc)], next_url)
    return _to_batch(batch, next_url)


def _to_batch(batch, next_url):
    """The batch's page (its summary, progress or Undo), with the way back."""
    return redirect(f"{reverse('assignment:batch_detail', args=[batch.pk])}?{urlencode({'next': next_url})}")


# --- next N unassigned ------------------------------------------------------------------------------------


@require_POST
@manager_required
def next_preview(request):
    next_url = _next_url(request)
    form = NextLeadsForm(request.POST)
    if not form.is_valid():
        return _preview_error(request, _form_errors(form), next_url)
    context = {"form": form, "preview": next_preview_data(form.cleaned_data), "next": next_url, "action": "next"}
    return render(request, "assignment/next_preview.html", context)


@require_POST
@manager_required
def next_apply(request):
    next_url = _next_url(request)
    form = NextLeadsForm(request.POST)
    if not form.is_valid():
        return _preview_error(request, _form_errors(form), next_url)
    data = form.cleaned_data
    try:
        if services.runs_in_background(data["n"]):
            batch = services.batch_queue(by=request.user, method=Method.NEXT_N, count=data["n"], params={
                "op": "next", "to_user": data["to_user"].pk, "n": data["n"], "newest_first": data["order"] == "newest",
            })
        else:
            batch = services.leads_assign_next(to_user=data["to_user"], n=data["n"], by=request.user,
                                               newest_first=data["order"] == "newest")
    except services.AssignmentError as exc:
        return _preview_error(request, [str(exc)], next_url)
    return _to_batch(batch, next_url)


# --- one lead -----------------------------------------------------------------------------------------------


@require_POST
@manager_required
def lead_assign(request, uuid):
    """The lead page's owner box. htmx gets the box back (409 with the fresh owner when it changed meanwhile)."""
    lead = lead_get_for(request.user, uuid)
    form = LeadAssignForm(request.POST)
    status, level = 200, "success"
    if form.is_valid():
        try:
            # The owner the page showed; a client that sends none (seed 002's API) claims nothing.
            expected = {"expected_owner": form.cleaned_data["owner"]} if "owner" in request.POST else {}
            lead = services.lead_assign(lead=lead, to_user=form.cleaned_data["to_user"], by=request.user, **expected)
            text = f"Assigned to {lead.assigned_to}." if lead.assigned_to else "The lead is now unassigned."
        except services.OwnerChanged as exc:
            lead, status, level, text = exc.lead, 409, "danger", str(exc)
        except services.AssignmentError as exc:
            status, level, text = 422, "danger", str(exc)
    else:
        status, level, text = 422, "danger", " ".join(_form_errors(form))
    if not wants_partial(request):
        messages.add_message(request, messages.SUCCESS if status == 200 else messages.ERROR, text)
        return redirect(lead.get_absolute_url())
    context = {"lead": lead, "counsellors": counsellors(), "assign_message": text, "assign_level": level}
    response = render(request, "assignment/_lead_assign.html", context, status=status)
    if status == 200:
        response["HX-Trigger"] = "lead-assigned"
    return response


# --- history of bulk actions ----------------------------------------------------------------------------------


@require_GET
@manager_required
def batch_list(request):
    page = Paginator(recent_batches(), 50).get_page(request.GET.get("page"))
    return render(request, "assignment/batch_list.html", {"page_obj": page})


@require_GET
@manager_required
def batch_detail(request, pk):
    """A bulk action's result with its Undo; while it is queued the page polls itself (htmx, every 2 s)."""
    batch = batch_get(pk)
    undo_batch = getattr(batch, "undo_batch", None)
    context = {
        "batch": batch,
        "summary": batch.summary,
        "undo": undo_preview(batch) if batch.can_undo and undo_batch is None else None,
        "undo_batch": undo_batch,
        "failed_undo": failed_undo(batch) if undo_batch is None and batch.can_undo else None,
        "next": _next_url(request, default="assignment:batch_list"),
    }
    return render(request, page_or_partial(request, "assignment/batch_detail.html", "batch-page"), context)


@require_POST
@manager_required
def batch_undo(request, pk):
    batch = batch_get(pk)
    next_url = _next_url(request, default="assignment:batch_list")
    try:
        if services.runs_in_background(batch.count):
            services.batch_queue(by=request.user, method="undo", params={"op": "undo", "undo_of": batch.pk},
                                 count=batch.count, undo_of=batch)
            messages.info(request, "The undo is queued; this page shows the result when it is done.")
            return _to_batch(batch, next_url)
        summary = services.batch_undo(batch=batch, by=request.user)
    except services.AssignmentError as exc:
        messages.error(request, str(exc))
    else:
        text = f"Undone: {summary['changed']:,} lead{'s' if summary['changed'] != 1 else ''} put back."
        if summary["not_undone"]:
            text += f" {summary['not_undone']:,} left as they are (changed since)."
        messages.success(request, text)
    return _to_batch(batch, next_url)


# --- what is new for a counsellor ----------------------------------------------------------------------------


@require_GET
@login_required
def new_for_me(request):
    """Leads assigned to me since I last looked, flagged; looking marks them seen (the badge clears). The
    same set stays on this page (reloads, pages) until something newer arrives."""
    user, now = request.user, timezone.now()
    window = None
    if new_assigned_leads(user).filter(assigned_at__lte=now).exists():
        since = user.assignments_seen_at
        window = [since.isoformat() if since else None, now.isoformat()]
        request.session[NEW_WINDOW_KEY] = window
        services.assignments_mark_seen(user=user, at=now)
    else:
        window = request.session.get(NEW_WINDOW_KEY)
    leads = new_assigned_leads(user, since=_parse(window[0]), until=_parse(window[1])) if window else None
    page = Paginator(leads.select_related("stage"), 25).get_page(request.GET.get("page")) if leads is not None else None
    since = _parse(window[0]) if window else None
    return render(request, "assignment/new_for_me.html", {"page_obj": page, "since": since, "window": window})


def _parse(value):
    from datetime import datetime

    return datetime.fromisoformat(value) if value else None

