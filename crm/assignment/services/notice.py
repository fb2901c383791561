"""The counsellor's notice of newly assigned leads."""

from crm.accounts.models import User
from crm.core import nav_counts


def assignments_mark_seen(*, user, at) -> None:
    """The user has looked at the leads assigned to them up to `at` (the badge counts only later ones)."""
    User.objects.filter(pk=user.pk).update(assignments_seen_at=at)
    user.assignments_seen_at = at
    nav_counts.forget(user)
