from django.urls import path

from . import board_urls, views

app_name = "leads"

urlpatterns = [
    path("leads/", views.lead_list, name="list"),
    path("leads/new/", views.lead_create, name="create"),
    path("leads/<uuid:uuid>/", views.lead_detail, name="detail"),
    path("leads/<uuid:uuid>/edit/", views.lead_edit, name="edit"),
    path("leads/<uuid:uuid>/delete/", views.lead_delete, name="delete"),
    path("leads/<uuid:uuid>/outcome/", views.record_outcome, name="record_outcome"),
    path("leads/<uuid:uuid>/activities/", views.log_activity, name="log_activity"),
    path("follow-ups/", views.follow_up_list, name="follow_ups"),
    path("follow-ups/<int:pk>/complete/", views.follow_up_complete, name="follow_up_complete"),
    path("follow-ups/<int:pk>/reschedule/", views.follow_up_reschedule, name="follow_up_reschedule"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/options/", views.company_options, name="company_options"),
    path("companies/<int:pk>/", views.company_detail, name="company_detail"),
    path("stages/", views.stage_list, name="stage_list"),
    path("stages/new/", views.stage_create, name="stage_create"),
    path("stages/<int:pk>/edit/", views.stage_edit, name="stage_edit"),
    path("stages/<int:pk>/move/", views.stage_move, name="stage_move"),
    path("stages/<int:pk>/toggle/", views.stage_toggle, name="stage_toggle"),
    path("stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
] + board_urls.urlpatterns
