"""/follow-ups/: overdue, due today and upcoming; complete or reschedule in place."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from crm.accounts.models import User

from .. import services
from ..filters import day_bounds
from ..forms import RescheduleForm
from ..listing import capped_count
from ..selectors import follow_up_get_for, follow_ups_visible_to

SECTION_SIZE = 50


@require_GET
@login_required
def follow_up_list(request):
    owner = None
    owners = []
    if request.user.is_manager:
        owners = list(User.objects.filter(role="sales").order_by("-is_active", "full_name", "id"))
        owner_id = request.GET.get("owner", "")
        owner = next((user for user in owners if str(user.pk) == owner_id), None)
        if owner is None and owner_id == "me":
            owner = request.user
    start, end = day_bounds()
    open_follow_ups = follow_ups_visible_to(request.user, owner=owner)
    sections = []
    for key, title, rows in (
        ("overdue", "Overdue", open_follow_ups.filter(due_at__lt=start)),
        ("today", "Due today", open_follow_ups.filter(due_at__gte=start, due_at__lt=end)),
        ("upcoming", "Upcoming", open_follow_ups.filter(due_at__gte=end)),
    ):
        count, exact = capped_count(rows, cap=1000)
        sections.append({
            "key": key, "title": title, "count": count, "exact": exact,
            "rows": list(rows.order_by("due_at", "id")[:SECTION_SIZE]),
        })
    context = {"sections": sections, "owners": owners, "owner": owner, "section_size": SECTION_SIZE}
    return render(request, "leads/follow_up_list.html", context)


def _answer(request, follow_up, form=None, status=200):
    if request.htmx:
        context = {"follow_up": follow_up, "reschedule_form": form, "show_lead": request.POST.get("show_lead") == "1"}
        return render(request, "leads/_follow_up_row.html", context, status=status)
    if form is not None and form.errors:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "leads:follow_ups"
    return redirect(target)


@require_POST
@login_required
def follow_up_complete(request, pk):
    follow_up = follow_up_get_for(request.user, pk)
    follow_up = services.follow_up_complete(follow_up=follow_up, by=request.user)
    if not request.htmx:
        messages.success(request, "Follow-up done.")
    return _answer(request, follow_up)


@require_POST
@login_required
def follow_up_reschedule(request, pk):
    follow_up = follow_up_get_for(request.user, pk)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return _answer(request, follow_up, form, status=422)
    try:
        follow_up = services.follow_up_reschedule(follow_up=follow_up, by=request.user, due_at=form.cleaned_data["due_at"])
    except ValueError as exc:
        form.add_error("due_at", str(exc))
        return _answer(request, follow_up, form, status=422)
    if not request.htmx:
        messages.success(request, "Follow-up rescheduled.")
    return _answer(request, follow_up)
