from django import template

from crm.accounts.selectors import counsellors as active_counsellors
from crm.leads.selectors import active_stages

register = template.Library()


@register.simple_tag
def bulk_options(counsellors=None):
    """Choices for the bulk actions bar: the counsellors (the list view may pass them) and the stages."""
    return {
        "counsellors": list(counsellors) if counsellors else list(active_counsellors()),
        "stages": list(active_stages()),
    }


@register.filter
def person(user):
    """A user's name for the assignment pages ("Unassigned" for nobody)."""
    if not user:
        return "Unassigned"
    return getattr(user, "full_name", "") or getattr(user, "email", "") or str(user)
