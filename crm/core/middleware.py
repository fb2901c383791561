import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, resolve_url
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect


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


class HtmxLoginRedirectMiddleware:
    """An htmx request from someone no longer signed in (session ended, account deactivated) would follow the
    redirect to the login page and swap that page into a fragment. Send the whole window there instead, and
    back to the page the user was on after signing in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code not in (301, 302, 303, 307, 308):
            return response
        login_path = urlsplit(resolve_url(settings.LOGIN_URL)).path
        if urlsplit(response.get("Location", "")).path != login_path:
            return response
        current = getattr(getattr(request, "htmx", None), "current_url_abs_path", None) or request.get_full_path()
        return HttpResponseClientRedirect(redirect_to_login(current)["Location"])
