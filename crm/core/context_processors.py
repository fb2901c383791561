from django.utils.functional import SimpleLazyObject


def navigation(request):
    """Counts the navigation shows (cheap, indexed queries; only for signed-in users). Lazy: computed only when
    a template shows the navigation, so htmx fragments and pages without it run none of the queries."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from crm.core import nav_counts

    return {"nav": SimpleLazyObject(lambda: nav_counts.for_user(user))}
