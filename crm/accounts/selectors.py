from django.db.models import QuerySet

from .models import Role, User


def counsellors(*, available_only: bool = False) -> QuerySet[User]:
    """Active sales users, the people leads can be assigned to."""
    users = User.objects.filter(role=Role.SALES, is_active=True)
    if available_only:
        users = users.filter(is_available=True)
    return users.order_by("full_name", "id")
