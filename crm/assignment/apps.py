from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "crm.assignment"
    label = "assignment"
