"""Reads with rules. Every lead query a view makes starts from leads_visible_to(user)."""

from django.db.models import QuerySet
from django.http import Http404

from .models import Lead, Stage


def leads_visible_to(user) -> QuerySet[Lead]:
    """Managers and admins see every lead; a sales user only the leads assigned to them."""
    if not user.is_authenticated or not user.is_active:
        return Lead.objects.none()
    if user.is_manager:
        return Lead.objects.all()
    return Lead.objects.filter(assigned_to=user)


def lead_get_for(user, uuid) -> Lead:
    """The lead if the user may see it; 404 otherwise (never 403: do not reveal that it exists)."""
    try:
        return leads_visible_to(user).select_related("stage", "assigned_to", "company").get(uuid=uuid)
    except (Lead.DoesNotExist, ValueError):
        raise Http404("No such lead.") from None


def active_stages() -> QuerySet[Stage]:
    return Stage.objects.filter(is_active=True).order_by("position", "id")


def first_stage() -> Stage:
    stage = active_stages().first()
    if stage is None:
        raise Stage.DoesNotExist("The pipeline has no active stage: load one with `manage.py load_pipeline`.")
    return stage
