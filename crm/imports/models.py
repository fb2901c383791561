import uuid

from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    UPLOADING = "uploading", "Uploading"
    MAPPING = "mapping", "Waiting for mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    INTERRUPTED = "interrupted", "Interrupted"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    REVERTED = "reverted", "Reverted"


class OnDuplicate(models.TextChoices):
    SKIP = "skip", "Skip the row"
    FILL = "fill", "Fill only empty fields"
    OVERWRITE = "overwrite", "Overwrite the mapped fields"


class ImportJob(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADING)
    # Storage name chosen by us (never the uploaded name); read only through default_storage.
    file = models.CharField(max_length=255, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    file_type = models.CharField(max_length=8, blank=True)
    file_size = models.BigIntegerField(default=0)
    sheet = models.CharField(max_length=120, blank=True)
    header_row = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(default=dict, blank=True)
    defaults = models.JSONField(default=dict, blank=True)
    on_duplicate = models.CharField(max_length=10, choices=OnDuplicate.choices, default=OnDuplicate.SKIP)
    distribute = models.BooleanField(default=False)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    checkpoint_row = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    rq_job_id = models.CharField(max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Import {self.pk} ({self.original_name})"


class ImportRowError(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=120, blank=True)
    reason = models.TextField()
    raw = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="importerror_job_row")]
