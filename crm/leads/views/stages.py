"""/stages/: the admins' pipeline editor (each action answers the refreshed table to htmx)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm.core.roles import admin_required

from .. import stages as stage_services
from ..forms import StageForm
from ..models import Stage
from .detail import header_text


def _table(request, *, form=None, edit_form=None, status=200, error=""):
    stages = list(Stage.objects.order_by("-is_active", "position", "id"))
    for stage in stages:
        stage.in_use = stage_services.stage_in_use(stage)  # a few EXISTS on indexes, never a count of leads
        stage.edit_form = edit_form if edit_form is not None and edit_form.instance.pk == stage.pk else StageForm(
            instance=stage, prefix=f"stage-{stage.pk}")
    context = {"stages": stages, "form": form or StageForm(initial={"colour": "#6c757d", "kind": "open"}),
               "edit_form": edit_form, "error": error}
    template = "leads/stage_list.html#stage-table" if request.htmx else "leads/stage_list.html"
    response = render(request, template, context, status=status)
    if error and request.htmx:
        response["X-Error-Message"] = header_text(error)
    return response


def _done(request, text, level=messages.SUCCESS):
    if request.htmx:
        return _table(request)
    messages.add_message(request, level, text)
    return redirect("leads:stage_list")


@require_GET
@admin_required
def stage_list(request):
    return _table(request)


@require_POST
@admin_required
def stage_create(request):
    form = StageForm(request.POST)
    if not form.is_valid():
        return _table(request, form=form, status=422)
    stage = stage_services.stage_create(**form.cleaned_data)
    return _done(request, f"Stage “{stage.name}” is added at the end of the pipeline.")


@require_POST
@admin_required
def stage_edit(request, pk):
    stage = get_object_or_404(Stage, pk=pk)
    form = StageForm(request.POST, instance=Stage.objects.get(pk=pk), prefix=f"stage-{pk}")
    if not form.is_valid():
        return _table(request, edit_form=form, status=422)
    stage_services.stage_update(stage=stage, **form.cleaned_data)
    return _done(request, "Stage saved.")


@require_POST
@admin_required
def stage_move(request, pk):
    stage = get_object_or_404(Stage, pk=pk)
    stage_services.stage_move(stage=stage, up=request.POST.get("direction") == "up")
    return _done(request, "Order saved.")


@require_POST
@admin_required
def stage_toggle(request, pk):
    stage = get_object_or_404(Stage, pk=pk)
    try:
        stage = stage_services.stage_set_active(stage=stage, active=not stage.is_active)
    except stage_services.LastActiveStage as exc:
        return _refuse(request, str(exc))
    return _done(request, f"“{stage.name}” is {'active' if stage.is_active else 'deactivated'}.")


@require_POST
@admin_required
def stage_delete(request, pk):
    stage = get_object_or_404(Stage, pk=pk)
    try:
        stage_services.stage_delete(stage=stage)
    except (stage_services.StageInUse, stage_services.LastActiveStage) as exc:
        return _refuse(request, str(exc))
    return _done(request, f"“{stage.name}” is deleted.")


def _refuse(request, text):
    if request.htmx:
        return _table(request, status=409, error=text)
    messages.error(request, text)
    return redirect("leads:stage_list")
