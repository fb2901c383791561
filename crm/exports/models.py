import uuid

from django.conf import settings
from django.db import models


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ExportJob(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    format = models.CharField(max_length=4, choices=ExportFormat.choices, default=ExportFormat.CSV)
    fields = models.JSONField(default=list)
    query = models.TextField(blank=True, help_text="The lead list's filter query string.")
    lead_ids = models.JSONField(null=True, blank=True, help_text="A selection of lead ids, when not a filter.")
    row_count = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="export_user_month")]


class ExportPreference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_preference")
    fields = models.JSONField(default=list)
    format = models.CharField(max_length=4, choices=ExportFormat.choices, default=ExportFormat.CSV)
