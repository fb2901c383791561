"""Import pages: list, upload (plain or chunked), mapping with preview, progress, cancel/resume/revert,
error file. Admins and managers only; every manager sees every import (shared work)."""

import csv
import io
import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.core.htmx import page_or_partial, wants_partial
from crm.core.roles import manager_required

from . import limits, selectors
from .forms import MappingForm, UploadForm
from .mapping import FIELD_CHOICES, mapping_problems
from .models import ImportJob, ImportStatus, OnDuplicate
from .recovery import ensure_sweeper, imports_recover, mark_stale
from .revert import RevertRefused, revert_request, revert_summary
from .services import (
    ImportRefused,
    import_cancel,
    import_create_from_file,
    import_resume,
    import_set_options,
    import_start,
    too_big_message,
)
from .uploads import expected_chunks, received_chunks, upload_chunk, upload_complete, upload_init


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _after_upload(request, job: ImportJob):
    if job.status == ImportStatus.FAILED:
        url = reverse("imports:detail", args=[job.pk])
        if _wants_json(request):
            return JsonResponse({"error": job.message, "redirect": url}, status=422)
        return None
    url = reverse("imports:mapping", args=[job.pk])
    if _wants_json(request):
        return JsonResponse({"redirect": url})
    return redirect(url)


def _recover():
    imports_recover()
    ensure_sweeper()


@require_GET
@manager_required
def import_list(request):
    _recover()
    page = Paginator(selectors.imports_visible_to(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "imports/list.html", {"page": page, "jobs": page.object_list})


@csrf_exempt  # checked below, once the size is known to be acceptable
@require_http_methods(["GET", "POST"])
@manager_required
def import_new(request):
    """A file above the limit is refused from its Content-Length, before its body is read or stored."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if request.method == "POST" and length > limits.max_bytes() + 64 * 1024:
        message = too_big_message(length)
        if _wants_json(request):
            return JsonResponse({"error": message}, status=413)
        context = {"form": UploadForm(), "error": message, "threshold": limits.chunk_threshold(),
                   "max_bytes": limits.max_bytes(), "chunk_size": limits.chunk_size()}
        response = render(request, "imports/new.html", context, status=413)
        response["Connection"] = "close"
        return response
    return _import_new(request)


@csrf_protect
def _import_new(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    error = None
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            job = import_create_from_file(by=request.user, file=upload, original_name=upload.name)
            response = _after_upload(request, job)
            if response is not None:
                return response
            error = job.message
        elif _wants_json(request):
            return JsonResponse({"error": " ".join(form.errors.get("file", ["Choose a file."]))}, status=422)
    context = {"form": form, "error": error, "threshold": limits.chunk_threshold(), "max_bytes": limits.max_bytes(),
               "chunk_size": limits.chunk_size()}
    return render(request, "imports/new.html", context, status=422 if request.method == "POST" else 200)


def _upload_job(request, upload_id) -> ImportJob:
    job = selectors.imports_visible_to(request.user).filter(uuid=upload_id, created_by=request.user).first()
    if job is None:
        raise Http404("No such upload.")
    return job


def _upload_state(job):
    return {"upload_id": str(job.uuid), "chunk_size": limits.chunk_size(), "chunks": expected_chunks(job),
            "received": received_chunks(job), "status": job.status}


@require_POST
@manager_required
def upload_start(request):
    try:
        size = int(request.POST.get("size", ""))
    except ValueError:
        return JsonResponse({"error": "The file size is missing."}, status=400)
    try:
        job = upload_init(by=request.user, original_name=request.POST.get("name", ""), size=size)
    except ImportRefused as problem:
        return JsonResponse({"error": str(problem)}, status=422)
    return JsonResponse(_upload_state(job))


@require_GET
@manager_required
def upload_status(request, upload_id):
    return JsonResponse(_upload_state(_upload_job(request, upload_id)))


@require_POST
@manager_required
def upload_chunk_view(request, upload_id):
    job = _upload_job(request, upload_id)
    data = request.FILES.get("chunk")
    try:
        index = int(request.POST.get("index", ""))
        if data is None:
            raise ImportRefused("The chunk is missing.")
        received = upload_chunk(job=job, index=index, data=data)
    except ValueError as problem:
        return JsonResponse({"error": str(problem) if isinstance(problem, ImportRefused) else "Bad chunk index."}, status=422)
    return JsonResponse({"received": received, "chunks": expected_chunks(job)})


@require_POST
@manager_required
def upload_finish(request, upload_id):
    job = _upload_job(request, upload_id)
    try:
        job = upload_complete(job=job)
    except ImportRefused as problem:
        return JsonResponse({"error": str(problem), **_upload_state(job)}, status=422)
    return _after_upload(request, job)


@require_http_methods(["GET", "POST"])
@manager_required
def import_mapping(request, pk):
    job = selectors.import_get_for(request.user, pk)
    if job.status != ImportStatus.MAPPING:
        return redirect("imports:detail", pk=job.pk)
    error = None
    if request.method == "POST":
        form = MappingForm(request.POST, job=job)
        if form.is_valid():
            try:
                job = import_set_options(job=job, **form.options())
                if request.POST.get("action") == "start":
                    import_start(job=job, by=request.user)
                    messages.success(request, "The import has started. You can leave this page and come back.")
                    return redirect("imports:detail", pk=job.pk)
            except ImportRefused as problem:
                error = str(problem)
        else:
            error = "Check the highlighted fields."
    form = MappingForm(job=job)
    context = {"job": job, "form": form, "error": error, "columns": selectors.mapping_rows(job),
               "problems": mapping_problems(job.mapping),
               "preview": selectors.import_preview(job), "field_choices": FIELD_CHOICES,
               "on_duplicate_choices": OnDuplicate.choices}
    status = 422 if error and request.method == "POST" else 200
    return render(request, page_or_partial(request, "imports/mapping.html", "mapping-form"), context, status=status)


def _lead_list_url(job):
    try:
        return f"{reverse('leads:list')}?import_job={job.pk}"
    except NoReverseMatch:
        return None


@require_GET
@manager_required
def import_detail(request, pk):
    mark_stale()
    if not wants_partial(request):
        _recover()
    job = selectors.import_get_for(request.user, pk)
    if job.status == ImportStatus.MAPPING and not wants_partial(request):
        return redirect("imports:mapping", pk=job.pk)
    context = {
        "job": job, "progress": selectors.import_progress(job),
        "errors": selectors.row_problems(job), "warnings": selectors.row_problems(job, level="warning", limit=20),
        "leads_url": _lead_list_url(job),
        "revert": revert_summary(job) if job.status in (ImportStatus.COMPLETED, ImportStatus.CANCELLED,
                                                      ImportStatus.FAILED, ImportStatus.INTERRUPTED) and job.created else None,
    }
    return render(request, page_or_partial(request, "imports/detail.html", "import-progress"), context)


def _action(request, pk, action, done_message):
    job = selectors.import_get_for(request.user, pk)
    try:
        action(job=job, by=request.user)
        messages.success(request, done_message)
    except (ImportRefused, RevertRefused) as problem:
        if wants_partial(request):
            response = HttpResponse(status=409)
            response["X-Error-Message"] = str(problem)
            return response
        messages.error(request, str(problem))
    if wants_partial(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("imports:detail", args=[job.pk])
        return response
    return redirect("imports:detail", pk=job.pk)


@require_POST
@manager_required
def import_cancel_view(request, pk):
    return _action(request, pk, import_cancel, "Cancelling: the import stops after the rows it is saving now.")


@require_POST
@manager_required
def import_resume_view(request, pk):
    return _action(request, pk, import_resume, "Resumed: the import continues from its last saved row.")


@require_POST
@manager_required
def import_revert_view(request, pk):
    return _action(request, pk, revert_request, "Revert started.")


_RISKY = re.compile(r"^[=@\t\r\0]|^[+\-](?![\d\s().\-]*$)")


def _safe(cell: str) -> str:
    """Spreadsheet apps run cells starting with = + - @ as formulas: quote them (phone numbers stay)."""
    return "'" + cell if cell and _RISKY.match(cell) else cell


@require_GET
@manager_required
def import_errors(request, pk):
    """The rejected rows as they were, plus an "error" column: fix them and upload this file again."""
    job = selectors.import_get_for(request.user, pk)
    header = list(job.columns)

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([_safe(str(h)) for h in header] + ["error"])
        for _, raw, reasons in selectors.error_file_rows(job):
            cells = [str(cell) for cell in raw] + [""] * max(0, len(header) - len(raw))
            writer.writerow([_safe(cell) for cell in cells] + [_safe(" | ".join(reasons))])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
