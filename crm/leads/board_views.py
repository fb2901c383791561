"""The pipeline board's pages: the board (columns load themselves), a column's cards (first page with its
totals, then keyset pages), and a move (drag and drop or the "Move to…" dialog)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import OperationalError
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from crm.core.htmx import wants_partial

from . import board, tally
from .filters import LeadFilter
from .models import SOURCES, Stage
from .selectors import leads_visible_to
from .services import InvalidStage, VersionConflict

FILTER_KEYS = ("q", "source", "counsellor", "follow_up")


class BoardFilter(LeadFilter):
    """The lead list's filters that the board offers (same meaning, same queries), without building the
    other dozen fields' widgets on every column request."""


BoardFilter.base_filters = {name: f for name, f in LeadFilter.base_filters.items() if name in FILTER_KEYS}


def board_filter(request, data=None):
    """The board's filters (search, source, counsellor for managers, follow-up due) over the leads the
    user may see: (LeadFilter, queryset, the filters as a query string, the stage tally's owner that counts
    exactly those leads or None)."""
    data = request.GET if data is None else data
    kept = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        value = data.get(key, "").strip()
        if value:
            kept[key] = value
    lead_filter = BoardFilter(kept, queryset=leads_visible_to(request.user), request=request)
    leads = lead_filter.qs
    applied = {key: value for key, value in kept.items() if key in lead_filter.form.fields}
    owner = tally.owner_for_filters(request.user, applied) if lead_filter.is_valid() else None
    return lead_filter, leads, urlencode(sorted(applied.items())), owner


@require_GET
@login_required
def pipeline(request):
    lead_filter, _, query, _ = board_filter(request)
    context = {
        "filter": lead_filter,
        "form": lead_filter.form,
        "stages": board.board_stages(),
        "query": query,
        "sources": SOURCES,
    }
    template = "leads/board.html#board" if wants_partial(request) else "leads/board.html"
    return render(request, template, context)


@require_GET
@login_required
def pipeline_column(request, stage_id):
    stage = Stage.objects.filter(pk=stage_id, is_active=True).first()
    if stage is None:
        raise Http404("No such stage on the pipeline.")
    _, leads, query, owner = board_filter(request)
    after = board.parse_cursor(request.GET.get("after"))
    cards, cursor = board.column_page(leads, stage, after=after)
    context = {"stage": stage, "cards": cards, "cursor": cursor, "query": query, "first_page": after is None}
    if after is None:
        context["totals"] = board.column_totals(leads, stage, owner)
    if wants_partial(request):
        # The fragment needs nothing from the request: rendering it without one skips the context
        # processors (navigation badges) that only the full page shows.
        return HttpResponse(render_to_string("leads/_board_cards.html", context))
    # Without JavaScript: the column on a page of its own, "more" as a plain link.
    context.update(single=stage, form=None, stages=board.board_stages())
    return render(request, "leads/board.html", context)


class MoveForm(forms.Form):
    lead = forms.UUIDField()
    stage = forms.IntegerField(min_value=1)
    version = forms.IntegerField(min_value=1)
    before = forms.UUIDField(required=False)
    after = forms.UUIDField(required=False)
    position = forms.ChoiceField(choices=[(board.TOP, "Top"), (board.BOTTOM, "Bottom")], required=False)
    note = forms.CharField(required=False, max_length=2000)
    value = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    filters = forms.CharField(required=False, max_length=2000)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _move(user, data, attempts=2):
    """board.lead_move, tried once more if the database broke a deadlock (two moves that each made room
    in their column, where each needed a card the other had locked): the loser was rolled back whole."""
    for attempt in range(attempts):
        try:
            return board.lead_move(
                by=user, lead_uuid=data["lead"], stage_id=data["stage"], version=data["version"],
                before=data["before"], after=data["after"], position=data["position"] or board.TOP,
                note=data["note"], value=data["value"],
            )
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != "40P01" or attempt == attempts - 1:
                raise


def _not_found(request):
    if _wants_json(request):
        return JsonResponse({"error": "That lead was not found. It may have been assigned to someone else."},
                            status=404)
    raise Http404("No such lead.")


def _columns(leads, stages, owner):
    """Each column's count, and its header when its value is exact (big columns keep their estimate)."""
    columns, counted = {}, board.column_counts(leads, stages, owner)
    for stage in stages:
        totals = counted[stage.pk]
        head = None
        if totals.value is not None:
            head = render_to_string("leads/_board_column_head.html", {"stage": stage, "totals": totals})
        columns[str(stage.pk)] = {"count": totals.count, "count_display": f"{totals.count:,}", "head": head}
    return columns


@require_POST
@login_required
def pipeline_move(request):
    form = MoveForm(request.POST)
    board_url = reverse("leads:pipeline")
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        message = f"The move was not saved ({problems})."
        if _wants_json(request):
            return JsonResponse({"error": message}, status=422)
        messages.error(request, message)
        return HttpResponseRedirect(board_url)
    data = form.cleaned_data
    _, leads, query, owner = board_filter(request, QueryDict(data["filters"]))
    status, message = 200, ""
    try:
        lead = _move(request.user, data)
    except VersionConflict as conflict:
        lead, status = conflict.lead, 409
        message = "Someone else changed this lead: the board now shows where it really is. Try again if needed."
        if not leads_visible_to(request.user).filter(pk=lead.pk).exists():  # reassigned meanwhile
            return _not_found(request)
    except InvalidStage as error:
        if _wants_json(request):
            return JsonResponse({"error": str(error)}, status=422)
        messages.error(request, str(error))
        return HttpResponseRedirect(board_url)
    except Http404:
        return _not_found(request)
    if not _wants_json(request):
        if status == 409:
            messages.error(request, message)
        else:
            messages.success(request, f"Moved {lead} to {lead.stage}.")
        return HttpResponseRedirect(f"{board_url}?{query}" if query else board_url)
    stages = {stage.pk: stage for stage in (getattr(lead, "previous_stage", None), lead.stage) if stage}
    if data["stage"] not in stages:  # a conflict: the column the card was dropped in needs its count too
        stages.update({stage.pk: stage for stage in Stage.objects.filter(pk=data["stage"])})
    board.decorate([lead])
    card = render_to_string("leads/_board_card.html", {"card": lead})
    body = {"lead": str(lead.uuid), "stage": lead.stage_id, "version": lead.version, "card": card,
            "columns": _columns(leads, list(stages.values()), owner)}
    if message:
        body["error"] = message
    return JsonResponse(body, status=status)

