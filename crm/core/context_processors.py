def navigation(request):
    """Counts the navigation shows on every page (cheap, indexed queries; only for signed-in users)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from crm.core import nav_counts

    return {"nav": nav_counts.for_user(user)}
