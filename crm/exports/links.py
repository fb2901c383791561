"""Signed, expiring download links.

A link is /exports/download/<token>/ where the token is django.core.signing data holding the export id,
the user id and the moment the file expires. It works only for the signed-in user it names (anyone
else gets 404, as if it did not exist) and only until the export expires (then 410 Gone); a token
altered in any way fails its signature (404).
"""

from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from .models import ExportJob, ExportStatus

SALT = "crm.exports.download"


class LinkExpired(Exception):
    pass


def download_token(export: ExportJob) -> str:
    payload = {"e": export.pk, "u": export.user_id, "x": int(export.expires_at.timestamp())}
    return signing.dumps(payload, salt=SALT)


def download_url(export: ExportJob) -> str:
    return reverse("exports:download", args=[download_token(export)])


def export_for_token(user, token: str, now: datetime | None = None) -> ExportJob:
    """The export a link names, for the user who made it. Http404 for a bad signature or another
    user; LinkExpired once the file's time is up."""
    now = now or timezone.now()
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.EXPORT_LINK_HOURS * 3600 + 60)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise Http404("No such download.") from None
    if not isinstance(payload, dict) or not user.is_authenticated or payload.get("u") != user.pk:
        raise Http404("No such download.")
    try:
        export = ExportJob.objects.select_related("user").get(pk=payload.get("e"), user=user)
    except (ExportJob.DoesNotExist, TypeError, ValueError):
        raise Http404("No such download.") from None
    expires = datetime.fromtimestamp(int(payload.get("x", 0)), tz=UTC)
    if export.status == ExportStatus.EXPIRED or expires <= now or (export.expires_at and export.expires_at <= now):
        raise LinkExpired
    if export.status != ExportStatus.READY or not export.file:
        raise Http404("No such download.")
    return export
