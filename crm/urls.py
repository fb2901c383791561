from django.contrib import admin
from django.urls import include, path

from crm.core import views as core_views
from crm.dashboards import views as dashboard_views

admin.site.site_header = "CRM administration"
# The admin and the job queue sign in through our login page; non-admins are refused there (403).
admin.site.login = core_views.admin_login

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("crm.accounts.urls")),
    path("", include("crm.leads.urls")),
    path("", include("crm.assignment.urls")),
    path("imports/", include("crm.imports.urls")),
    path("", include("crm.dashboards.urls")),
    path("exports/", include("crm.exports.urls")),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "crm.core.views.error_400"
handler403 = "crm.core.views.error_403"
handler404 = "crm.core.views.error_404"
handler500 = "crm.core.views.error_500"
