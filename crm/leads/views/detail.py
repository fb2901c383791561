"""The lead page and what it does: create, edit, delete, record outcome, log activity."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import services
from ..forms import OUTCOMES, ActivityForm, LeadForm, OutcomeForm
from ..models import SOURCES
from ..selectors import lead_get_for, lead_timeline
from ..services import DuplicateLead, InvalidStage, VersionConflict


def header_text(text: str) -> str:
    """HTTP headers carry ASCII: typographic quotes and dashes become plain ones (for X-Error-Message toasts)."""
    for fancy, plain in (("\u201c", '"'), ("\u201d", '"'), ("\u2018", "'"), ("\u2019", "'"), ("\u2013", "-"),
                         ("\u2014", "-"), ("\u2026", "...")):
        text = text.replace(fancy, plain)
    return text.encode("ascii", "replace").decode("ascii")


def _on_lead_page(request, lead) -> bool:
    """Is this htmx request made from the lead's own page (so its timeline and follow-ups are there to update)?"""
    current = request.htmx.current_url_abs_path if request.htmx else None
    return bool(current) and current.split("?")[0] == lead.get_absolute_url()


def _open_follow_ups(lead):
    return list(lead.follow_ups.filter(done_at__isnull=True).select_related("owner").order_by("due_at", "id"))


def lead_context(request, lead, **extra) -> dict:
    context = {
        "lead": lead,
        "outcome_form": OutcomeForm(lead=lead),
        "activity_form": ActivityForm(lead=lead),
        "timeline": lead_timeline(lead),
        "follow_ups": _open_follow_ups(lead),
        "outcomes": OUTCOMES,
        "can_delete": request.user.is_manager,
    }
    if request.user.is_manager:
        from crm.accounts.selectors import counsellors

        context["counsellors"] = list(counsellors())
    context.update(extra)
    return context


@require_GET
@login_required
def lead_detail(request, uuid):
    lead = lead_get_for(request.user, uuid)
    return render(request, "leads/lead_detail.html", lead_context(request, lead))


@require_http_methods(["GET", "POST"])
@login_required
def lead_create(request):
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_create(
                by=request.user, fields=form.lead_fields(), stage=form.cleaned_data["stage"],
                assigned_to=form.cleaned_data.get("counsellor"), company_name=form.cleaned_data["company_name"],
            )
        except DuplicateLead as exc:  # created by someone else since the form was checked
            form.add_error(None, f"{exc} Open it from the lead list instead.")
        except InvalidStage as exc:
            form.add_error("stage", str(exc))
        else:
            messages.success(request, f"Lead “{lead}” is added.")
            return redirect(lead)
    status = 422 if request.method == "POST" else 200
    return render(request, "leads/lead_form.html", {"form": form, "sources": SOURCES}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def lead_edit(request, uuid):
    lead = lead_get_for(request.user, uuid)
    form = LeadForm(request.POST or None, instance=lead, user=request.user)
    status, conflict = 200, False
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                lead = services.lead_update(
                    lead=lead, by=request.user, fields=form.lead_fields(),
                    company_name=form.cleaned_data["company_name"], version=form.cleaned_data.get("version"),
                )
            except VersionConflict as exc:
                status, conflict = 409, True
                form = LeadForm(instance=exc.lead, user=request.user)
            except DuplicateLead as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "The lead is saved.")
                return redirect(lead)
    context = {"form": form, "lead": lead, "sources": SOURCES, "conflict": conflict}
    return render(request, "leads/lead_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def lead_delete(request, uuid):
    lead = lead_get_for(request.user, uuid)  # 404 first: never reveal another counsellor's lead
    if not request.user.is_manager:
        raise PermissionDenied
    if request.method == "POST":
        name = str(lead)
        services.lead_delete(lead=lead, by=request.user)
        messages.success(request, f"Lead “{name}” is deleted.")
        return redirect("leads:list")
    return render(request, "leads/lead_confirm_delete.html", {"lead": lead})


@require_POST
@login_required
def record_outcome(request, uuid):
    """Stage + note + next follow-up in one submit. htmx gets the fresh form, and (from the lead page) the
    stage badge, timeline and follow-ups out of band. Bad stage: 400. Stale version: 409 + the fresh state."""
    lead = lead_get_for(request.user, uuid)
    form = OutcomeForm(lead=lead, data=request.POST)
    if not form.is_valid():
        if form.stage_is_invalid:
            return _outcome_answer(request, lead, form, status=400, error=form.errors["stage"][0])
        return _outcome_answer(request, lead, form, status=422)
    data = form.cleaned_data
    try:
        lead = services.lead_record_outcome(
            lead=lead, by=request.user, stage=data["stage"], note=data["note"],
            follow_up_at=data["follow_up_at"], version=data["version"],
        )
    except VersionConflict as exc:
        fresh = exc.lead
        retry = OutcomeForm(lead=fresh, initial={"stage": data["stage"].pk, "note": data["note"],
                                                 "follow_up_at": data["follow_up_at"]})
        return _outcome_answer(request, fresh, retry, status=409, conflict=True)
    except InvalidStage as exc:
        return _outcome_answer(request, lead, form, status=400, error=str(exc))
    if not request.htmx:
        messages.success(request, f"Recorded: {lead.stage.name}.")
        return redirect(lead)
    return _outcome_answer(request, lead, OutcomeForm(lead=lead), status=200, saved=True)


def _outcome_answer(request, lead, form, *, status, error="", conflict=False, saved=False):
    if not request.htmx:
        context = lead_context(request, lead, outcome_form=form, outcome_conflict=conflict)
        if error:
            messages.error(request, error)
        return render(request, "leads/lead_detail.html", context, status=status)
    context = {
        "lead": lead, "outcome_form": form, "outcome_conflict": conflict, "outcome_saved": saved,
        "oob": True, "on_lead_page": _on_lead_page(request, lead),
    }
    if context["on_lead_page"] and (saved or conflict):
        context.update(timeline=lead_timeline(lead), follow_ups=_open_follow_ups(lead))
    response = render(request, "leads/_outcome_response.html", context, status=status)
    if error:
        response["X-Error-Message"] = header_text(error)
    return response


@require_POST
@login_required
def log_activity(request, uuid):
    lead = lead_get_for(request.user, uuid)
    form = ActivityForm(request.POST, lead=lead)
    if not form.is_valid():
        if not request.htmx:
            return render(request, "leads/lead_detail.html", lead_context(request, lead, activity_form=form), status=422)
        return render(request, "leads/lead_detail.html#activity-form", {"lead": lead, "activity_form": form,
                                                                          "outcomes": OUTCOMES}, status=422)
    services.activity_log(lead=lead, by=request.user, **form.cleaned_data)
    if not request.htmx:
        messages.success(request, "The activity is logged.")
        return redirect(lead)
    lead = lead_get_for(request.user, uuid)
    context = {"lead": lead, "activity_form": ActivityForm(lead=lead), "outcomes": OUTCOMES, "activity_saved": True,
               "oob": True, "timeline": lead_timeline(lead)}
    return render(request, "leads/_activity_response.html", context)
