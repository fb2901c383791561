"""Login throttling (django-axes): who the client is, and which accounts are locked right now.

Settings (crm/settings.py): 5 failures for the same e-mail from the same address lock that pair for an
hour (AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME, AXES_LOCKOUT_PARAMETERS); a success clears the count; attempts
during a lock do not extend it. Admins unlock from the Users page (`unlock`).
"""

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def client_ip(request) -> str | None:
    """The client's address. Behind PROXY_COUNT trusted proxies that append to X-Forwarded-For, the entry
    the outermost of them saw (entries further left are whatever the client sent, so not trusted)."""
    proxies = settings.PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def _recent():
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - get_cool_off(None))


def locked_out_emails() -> set[str]:
    """E-mail addresses locked out from at least one address right now."""
    rows = (
        _recent()
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .filter(failures__gte=get_failure_limit(None, None))
    )
    return {row["username"] for row in rows}


def emails_with_failures() -> set[str]:
    """E-mail addresses with recent failed sign-ins (whether locked or not)."""
    return set(_recent().values_list("username", flat=True))


def unlock(email: str) -> int:
    """Forget the failed sign-ins of this e-mail address from every address; returns how many were cleared."""
    return axes_reset(username=email)
