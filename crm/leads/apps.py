from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "crm.leads"
    label = "leads"

    def ready(self):
        from crm.core import nav_counts

        nav_counts.register(follow_ups_nav_count)


def follow_ups_nav_count(user) -> dict:
    """The navigation badge: the user's leads with a follow-up overdue or due today."""
    from .selectors import follow_ups_due_counts

    counts = follow_ups_due_counts(user)
    return {"follow_ups_due": counts["due"], "follow_ups_overdue": counts["overdue"]}
