"""URLs of the pipeline board (owned by the board work; included by crm/leads/urls.py)."""

from django.urls import path

from . import board_views

urlpatterns = [
    path("pipeline/", board_views.pipeline, name="pipeline"),
    path("pipeline/stages/<int:stage_id>/cards/", board_views.pipeline_column, name="pipeline_column"),
    path("pipeline/move/", board_views.pipeline_move, name="pipeline_move"),
]
