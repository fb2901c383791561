"""The counsellor's notice of newly assigned leads."""

from crm.accounts.models import User


def assignments_mark_seen(*, user, at) -> None:
    """The user has looked at the leads assigned to them up to `at` (the badge counts only later ones)."""
    User.objects.filter(pk=user.pk).update(assignments_seen_at=at)
    user.assignments_seen_at = at
