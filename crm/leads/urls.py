from django.urls import path  # noqa: F401

from . import board_urls

app_name = "leads"

urlpatterns = [] + board_urls.urlpatterns
