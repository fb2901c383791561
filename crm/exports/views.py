from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from crm.core.htmx import page_or_partial

from . import jobs, links, selectors, services
from .fields import DEFAULT_KEYS, ordered_for_picker
from .forms import ExportForm
from .models import ExportPreference, ExportStatus
from .writers import CONTENT_TYPES

# Query parameters of the lead list that do not change which leads match.
NOT_FILTERS = {"page", "cursor", "per_page", "csrfmiddlewaretoken"}


def _require_export_right(user):
    if not selectors.user_may_export(user):
        raise PermissionDenied("Ask an admin to allow you to export leads.")


def _lead_list_url(filter_query: str) -> str | None:
    try:
        url = reverse("leads:list")
    except NoReverseMatch:
        return None
    return f"{url}?{filter_query}" if filter_query else url


@require_GET
@login_required
def export_list(request):
    page = Paginator(selectors.exports_for(request.user), 25).get_page(request.GET.get("page"))
    for export in page:
        export.download_url = (
            links.download_url(export) if export.status == ExportStatus.READY and export.expires_at else None
        )
    context = {
        "page": page,
        "working": any(export.is_working for export in page),
        "allowance": selectors.allowance_for(request.user),
        "may_export": selectors.user_may_export(request.user),
    }
    return render(request, page_or_partial(request, "exports/export_list.html", "export-history"), context)


@require_http_methods(["GET", "POST"])
@login_required
def export_new(request):
    """The field picker. Reached from the lead list's form (POST: ticked lead_ids, filter_query,
    select_all) or by GET with the list's query string; its own form posts here with step=export."""
    user = request.user
    _require_export_right(user)
    if request.method == "POST" and request.POST.get("step") == "export":
        return _export_submit(request)
    if request.method == "POST":  # from the lead list
        source = request.POST
        filter_query = source.get("filter_query", "")
        lead_ids = [] if source.get("select_all") == "1" else [v for v in source.getlist("lead_ids") if v.isdigit()]
    else:
        filters = request.GET.copy()
        for key in NOT_FILTERS:
            filters.pop(key, None)
        filter_query, lead_ids = filters.urlencode(), []
    preference = ExportPreference.objects.filter(user=user).first()
    initial_fields = (preference.fields if preference else None) or DEFAULT_KEYS
    form = ExportForm(initial={"format": preference.format if preference else "csv", "filter_query": filter_query})
    return _picker(request, form, lead_ids=lead_ids, filter_query=filter_query, chosen=initial_fields)


def _export_submit(request):
    form = ExportForm(request.POST)
    lead_ids, filter_query = form.lead_id_list, request.POST.get("filter_query", "")
    if not form.is_valid():
        return _picker(request, form, lead_ids=lead_ids, filter_query=filter_query,
                       chosen=request.POST.getlist("fields"), status=422)  # fmt: skip
    try:
        export = services.export_create(
            user=request.user, fields=form.cleaned_data["fields"], format=form.cleaned_data["format"],
            lead_ids=lead_ids, filter_query=form.cleaned_data["filter_query"],
        )  # fmt: skip
    except (services.ExportRefused, services.ExportNotPossible) as refusal:
        form.add_error(None, str(refusal))
        return _picker(request, form, lead_ids=lead_ids, filter_query=filter_query,
                       chosen=form.cleaned_data["fields"], status=422)  # fmt: skip
    if services.runs_in_background(export.row_count):
        messages.info(request, f"Your export of {export.row_count:,} leads is being prepared.")
        return redirect("exports:detail", uuid=export.uuid)
    export = services.export_run(export_id=export.pk)
    jobs.schedule_cleanup(export.expires_at)
    return _file_response(export, request)


def _picker(request, form, *, lead_ids, filter_query, chosen, status=200):
    user = request.user
    leads = selectors.export_leads(user, lead_ids=lead_ids, filter_query=filter_query)
    count = leads.count()
    context = {
        "form": form,
        "fields": ordered_for_picker(chosen),
        "lead_ids": lead_ids,
        "filter_query": filter_query,
        "filters": [
            (key, value)
            for key, values in QueryDict(filter_query).lists()
            if key not in NOT_FILTERS and key != "sort"
            for value in values
            if value
        ],
        "count": count,
        "background": services.runs_in_background(count),
        "sync_max": settings.EXPORT_SYNC_MAX_ROWS,
        "allowance": selectors.allowance_for(user),
        "lead_list_url": _lead_list_url(filter_query),
    }
    return render(request, "exports/export_new.html", context, status=status)


@require_GET
@login_required
def export_detail(request, uuid):
    export = selectors.export_get_for(request.user, uuid)
    download_url = links.download_url(export) if export.status == ExportStatus.READY and export.expires_at else None
    context = {"export": export, "download_url": download_url}
    return render(request, page_or_partial(request, "exports/export_detail.html", "export-progress"), context)


@require_GET
@login_required
def export_download(request, token):
    try:
        export = links.export_for_token(request.user, token)
    except links.LinkExpired:
        return render(request, "exports/link_expired.html", status=410)
    return _file_response(export, request)


def _file_response(export, request=None):
    local = timezone.localtime(export.created_at, selectors.user_time_zone(export.user))
    try:
        handle = default_storage.open(export.file, "rb")
    except FileNotFoundError:  # deleted behind our back: as good as expired
        return render(request, "exports/link_expired.html", status=410)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"leads-{local:%Y-%m-%d-%H%M}.{export.extension}",
        content_type=CONTENT_TYPES[export.format],
    )
    response["Cache-Control"] = "private, no-store"
    return response
