from django.urls import path

from . import views

app_name = "assignment"

urlpatterns = [
    path("leads/unassigned/", views.unassigned, name="unassigned"),
    path("leads/new-for-me/", views.new_for_me, name="new_for_me"),
    path("leads/bulk/preview/", views.bulk_preview, name="bulk_preview"),
    path("leads/bulk/", views.bulk_apply, name="bulk_apply"),
    path("leads/random-assign/", views.random_assign, name="random_assign"),  # seed 002's URL: balanced now
    path("leads/next/preview/", views.next_preview, name="next_preview"),
    path("leads/next/", views.next_apply, name="next_apply"),
    path("leads/<uuid:uuid>/assign/", views.lead_assign, name="lead_assign"),
    path("assignments/", views.batch_list, name="batch_list"),
    path("assignments/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("assignments/<int:pk>/undo/", views.batch_undo, name="batch_undo"),
]
