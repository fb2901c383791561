import zoneinfo

from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils import timezone


class UserTimeZoneMiddleware:
    """Shows times in the signed-in user's time zone; signs out users deactivated since they logged in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if not user.is_active:
                logout(request)
                return redirect("accounts:login")
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
