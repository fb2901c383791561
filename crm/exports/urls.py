from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("", views.export_list, name="list"),
    path("new/", views.export_new, name="new"),
    path("<uuid:uuid>/", views.export_detail, name="detail"),
    path("download/<str:token>/", views.export_download, name="download"),
]
