from django.conf import settings
from django.db import models

from crm.core.models import BrinIndex


class Method(models.TextChoices):
    MANUAL = "manual", "Lead page"
    BULK = "bulk", "Bulk assign"
    DISTRIBUTE = "distribute", "Balanced distribution"
    NEXT_N = "next_n", "Next N unassigned"
    UNASSIGN = "unassign", "Bulk unassign"
    STAGE = "stage", "Bulk stage change"
    IMPORT = "import", "Import"
    UNDO = "undo", "Undo"
    OTHER = "other", "Other change"  # an owner change made outside the services (leads migration 0009)


class BatchState(models.TextChoices):
    DONE = "done", "Done"
    QUEUED = "queued", "Queued"
    FAILED = "failed", "Failed"


class AssignmentBatch(models.Model):
    """One bulk action by a manager: what it did, and whether it was undone.

    Large actions are queued (state "queued", `params` say what to do) and run by a worker, which turns
    the row into the finished batch ("done") or records why it could not ("failed", `error`).
    """

    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=12, choices=Method.choices)
    count = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An undo is a batch of its own that points at the batch it undid.
    undo_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="undo_batch")
    state = models.CharField(max_length=6, choices=BatchState.choices, default=BatchState.DONE)
    params = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "assignment batches"

    def __str__(self):
        return f"{self.get_method_display()} #{self.pk} ({self.count} leads)"

    @property
    def can_undo(self) -> bool:
        return (
            self.state == BatchState.DONE
            and self.undone_at is None
            and self.method not in (Method.UNDO, Method.MANUAL)
            and self.count > 0
        )


class Assignment(models.Model):
    """One change of a lead's owner, from any path.

    Only the composite indexes below are kept (lead, to_user and batch lead them); the single-column
    foreign-key indexes Django would add are left out, because every bulk action inserts tens of
    thousands of these rows. from_user and by are not indexed: users are deactivated, never deleted.
    For the same reason the foreign keys have no database constraint: checking five of them cost ~1 s per
    50,000 rows at commit. The rows are written only by the services and by the lead table's triggers
    (leads migration 0009), from leads, users and batches that exist; Django still cascades a lead's
    deletion to them and sets deleted users and batches to NULL.
    """

    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="assignments", db_index=False, db_constraint=False
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    at = models.DateTimeField()
    method = models.CharField(max_length=12, choices=Method.choices)
    batch = models.ForeignKey(
        AssignmentBatch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
        db_index=False,
        db_constraint=False,
    )
    # The lead's version right after this change, and its assigned_at right before it: an undo restores
    # the previous owner (and assigned_at) only while the lead still has exactly this version.
    version = models.PositiveIntegerField(null=True, blank=True)
    previous_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-at"], name="assignment_lead"),
            # Every lead ever given to a user, and when: owner-scoped lead queries go through it
            # (crm.leads.owners), "newly assigned" reads `at` from the index alone.
            models.Index(fields=["to_user", "lead"], include=["at"], name="assignment_owner_at"),
            # A bulk action's rows are written by one statement, side by side: a BRIN index finds them
            # (undo, the recent actions' counts) for a fraction of what a btree entry per row costs to write.
            BrinIndex(fields=["batch"], name="assignment_batch_brin"),
        ]


class StageMove(models.Model):
    """One lead moved by a bulk stage change: the stage it left and its version right after, for undo."""

    batch = models.ForeignKey(AssignmentBatch, on_delete=models.CASCADE, related_name="stage_moves")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    from_stage = models.ForeignKey("leads.Stage", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["batch", "lead"], name="stagemove_batch")]
