from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "crm.dashboards"
    label = "dashboards"
