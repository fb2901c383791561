from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("dashboard/", views.manager, name="manager"),
    path("my/", views.counsellor, name="counsellor"),
    path("reports/funnel/", views.funnel_report, name="funnel"),
    path("reports/companies/", views.companies_report, name="companies"),
]
