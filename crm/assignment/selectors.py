"""Reads with rules for assignment pages: the unassigned queue, previews, the history of bulk actions,
and what is new for a counsellor."""

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from crm.accounts.models import User
from crm.leads.models import Lead
from crm.leads.owners import owned_by, owned_since

from .models import Assignment, AssignmentBatch, StageMove

# Largest selection one bulk action takes (a form can name "all N matching"; the preview refuses more).
MAX_BULK = getattr(settings, "ASSIGNMENT_MAX_BULK", 100_000)
NEW_BADGE_CAP = 10_000


def selection_rows(leads: QuerySet[Lead], *, limit: int = MAX_BULK) -> list[tuple]:
    """(pk, owner id, stage id) of the selected leads in pk order, at most limit + 1 (to tell "too many")."""
    return list(leads.order_by("pk").values_list("pk", "assigned_to_id", "stage_id")[: limit + 1])


def unassigned_count() -> int:
    return Lead.objects.filter(assigned_to__isnull=True).order_by()[: MAX_BULK + 1].count()


def recent_batches() -> QuerySet[AssignmentBatch]:
    return AssignmentBatch.objects.select_related("by", "undone_by", "undo_of").order_by("-at", "-id")


def batch_get(pk) -> AssignmentBatch:
    from django.http import Http404

    try:
        return recent_batches().get(pk=pk)
    except (AssignmentBatch.DoesNotExist, ValueError):
        raise Http404("No such bulk action.") from None


def failed_undo(batch: AssignmentBatch) -> AssignmentBatch | None:
    """The latest queued undo of `batch` that failed (its error is shown next to the Undo button)."""
    return (
        AssignmentBatch.objects.filter(method="undo", state="failed", params__undo_of=batch.pk).order_by("-pk").first()
    )


def undo_preview(batch: AssignmentBatch) -> dict:
    """How many of the batch's leads an undo would put back now, and how many were touched since."""
    if batch.method == "stage":
        moves = StageMove.objects.filter(batch=batch).aggregate(
            total=Count("pk"), untouched=Count("pk", filter=Q(lead__version=F("version")))
        )
        return {"total": moves["total"], "restorable": moves["untouched"], "touched": moves["total"] - moves["untouched"]}
    same_owner = Q(lead__assigned_to=F("to_user")) | Q(lead__assigned_to__isnull=True, to_user__isnull=True)
    rows = Assignment.objects.filter(batch=batch).aggregate(
        total=Count("pk"),
        untouched=Count("pk", filter=same_owner & Q(lead__version=F("version"))),
    )
    return {"total": rows["total"], "restorable": rows["untouched"], "touched": rows["total"] - rows["untouched"]}


SEEN = object()


def new_assigned_leads(user, *, since=SEEN, until=None) -> QuerySet[Lead]:
    """Leads assigned to `user` after `since` (default: when they last looked; None: ever), newest first."""
    if since is SEEN:
        since = user.assignments_seen_at
    if since is None:
        leads = owned_by(Lead.objects.filter(assigned_at__isnull=False), user)
    else:
        leads = owned_since(Lead.objects.all(), user, since)
    if until is not None:
        leads = leads.filter(assigned_at__lte=until)
    return leads.order_by("-assigned_at", "-id")


def new_assigned_count(user) -> int:
    """The navigation badge: leads assigned to a sales user since they last looked (index range count)."""
    if not user.is_authenticated or not user.is_sales:
        return 0
    return new_assigned_leads(user).order_by()[:NEW_BADGE_CAP].count()


def user_name_map(ids) -> dict[int, User]:
    return {user.pk: user for user in User.objects.filter(pk__in=[pk for pk in ids if pk])}
