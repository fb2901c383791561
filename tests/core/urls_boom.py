"""The real URLs plus one view that fails, to see the 500 page."""

from django.urls import path

from crm.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", boom), *urlpatterns]
