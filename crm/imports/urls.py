from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("new/", views.import_new, name="new"),
    path("uploads/", views.upload_start, name="upload_start"),
    path("uploads/<uuid:upload_id>/", views.upload_status, name="upload_status"),
    path("uploads/<uuid:upload_id>/chunk/", views.upload_chunk_view, name="upload_chunk"),
    path("uploads/<uuid:upload_id>/complete/", views.upload_finish, name="upload_complete"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("<int:pk>/cancel/", views.import_cancel_view, name="cancel"),
    path("<int:pk>/resume/", views.import_resume_view, name="resume"),
    path("<int:pk>/revert/", views.import_revert_view, name="revert"),
    path("<int:pk>/errors.csv", views.import_errors, name="errors"),
]
