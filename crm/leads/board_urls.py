"""URLs of the pipeline board (owned by the board work; included by crm/leads/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns = []
