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


ACTIVE_STATUSES = (ImportStatus.QUEUED, ImportStatus.RUNNING)
FINISHED_STATUSES = (ImportStatus.COMPLETED, ImportStatus.FAILED, ImportStatus.CANCELLED, ImportStatus.REVERTED)


class OnDuplicate(models.TextChoices):
    SKIP = "skip", "Skip the row"
    FILL = "fill", "Fill only empty fields"
    OVERWRITE = "overwrite", "Overwrite the mapped fields"


class ImportPhase(models.TextChoices):
    WAITING = "", "Waiting"
    COUNTING = "counting", "Counting rows"
    LOADING = "loading", "Importing rows"
    DISTRIBUTING = "distributing", "Distributing leads"
    REVERTING = "reverting", "Reverting"
    DONE = "done", "Done"


class ImportJob(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADING)
    phase = models.CharField(max_length=12, choices=ImportPhase.choices, default=ImportPhase.WAITING, blank=True)
    # Storage name chosen by us (never the uploaded name); read only through default_storage.
    file = models.CharField(max_length=255, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    file_type = models.CharField(max_length=8, blank=True)
    file_size = models.BigIntegerField(default=0)
    # What detection found (encoding, delimiter, sheets, columns, 1904 epoch); the user may override some.
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    sheet = models.CharField(max_length=120, blank=True)
    sheets = models.JSONField(default=list, blank=True)
    header_row = models.PositiveIntegerField(default=0, help_text="0-based index of the header row.")
    columns = models.JSONField(default=list, blank=True)
    # The first rows of the chosen sheet as [row number, cells], so the mapping step never re-reads a big file.
    sample = models.JSONField(default=list, blank=True)
    date1904 = models.BooleanField(default=False)
    day_first = models.BooleanField(default=True)
    source_label = models.CharField(max_length=10, blank=True, help_text="web or cli")
    mapping = models.JSONField(default=dict, blank=True)
    defaults = models.JSONField(default=dict, blank=True)
    on_duplicate = models.CharField(max_length=10, choices=OnDuplicate.choices, default=OnDuplicate.SKIP)
    distribute = models.BooleanField(default=False)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0, help_text="Rows matching a lead that already existed.")
    merged = models.PositiveIntegerField(default=0, help_text="Rows repeating an earlier row of the same file.")
    errors = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    checkpoint_row = models.PositiveIntegerField(default=0)
    # Rows per batch, fixed by the first run (a resumed run must cut the file the same way).
    batch_rows = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    rq_job_id = models.CharField(max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Where the current run began (for the rate and the ETA of a resumed import).
    run_started_at = models.DateTimeField(null=True, blank=True)
    run_start_row = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    message = models.TextField(blank=True)
    assignment_batch = models.ForeignKey(
        "assignment.AssignmentBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    distributed = models.PositiveIntegerField(default=0)
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revert_summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="importjob_status_beat")]

    def __str__(self):
        return f"Import {self.pk} ({self.original_name})"

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES

    @property
    def took(self) -> str:
        """How long the import ran (so far), for people: '45 s', '3 min 5 s', '1 h 2 min'."""
        if not self.started_at:
            return ""
        from django.utils import timezone

        seconds = int(((self.finished_at or timezone.now()) - self.started_at).total_seconds())
        if seconds < 1:
            return "under a second"
        if seconds < 60:
            return f"{seconds} s"
        if seconds < 3600:
            return f"{seconds // 60} min {seconds % 60} s"
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class ImportUploadChunk(models.Model):
    """One received piece of a chunked upload: a resumed upload sends only the pieces missing here."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    file = models.CharField(max_length=255)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="importchunk_job_index")]


class ImportBatch(models.Model):
    """A batch of rows committed together with its leads: a resumed run skips the batches recorded here
    (batches may commit out of order when two writers work in parallel)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    rows = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="importbatch_job_index")]


class RowProblemLevel(models.TextChoices):
    ERROR = "error", "Rejected"
    WARNING = "warning", "Imported with a change"


class ImportRowError(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=120, blank=True)
    reason = models.TextField()
    raw = models.JSONField(default=list, blank=True)
    level = models.CharField(max_length=8, choices=RowProblemLevel.choices, default=RowProblemLevel.ERROR)

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="importerror_job_row")]
