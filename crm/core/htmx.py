"""Small helpers for answering htmx and plain requests from one view."""


def wants_partial(request) -> bool:
    """An htmx request that is not a history restore gets the fragment; everything else the full page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def page_or_partial(request, template_name: str, partial: str) -> str:
    return f"{template_name}#{partial}" if wants_partial(request) else template_name
