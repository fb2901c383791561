from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "crm.assignment"
    label = "assignment"
    verbose_name = "Assignment"

    def ready(self):
        from crm.core import nav_counts

        from .selectors import new_assigned_count

        @nav_counts.register
        def new_assigned(user):
            """Leads assigned to a counsellor since they last looked (the badge on "Leads")."""
            count = new_assigned_count(user)
            return {"new_assigned": count} if count else {}
