import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from crm.core.models import TimeStampedModel

SOURCES = [
    "Website",
    "Referral",
    "Social Media",
    "Cold Call",
    "Email Campaign",
    "Trade Show",
    "Walk-in",
    "Import",
    "Other",
]


class StageKind(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Stage(models.Model):
    """One column of the pipeline. Admins configure them; presets ship as data (crm.leads.pipelines)."""

    name = models.CharField(max_length=60, unique=True)
    position = models.PositiveIntegerField(default=0, db_index=True)
    kind = models.CharField(max_length=4, choices=StageKind.choices, default=StageKind.OPEN)
    colour = models.CharField(max_length=7, default="#6c757d", help_text="A CSS colour such as #0d6efd.")
    is_active = models.BooleanField(default=True)
    asks_follow_up = models.BooleanField(
        default=False, help_text="Recording this stage asks for the next follow-up date."
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class Technology(models.Model):
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "technologies"

    def __str__(self):
        return self.name


class Company(TimeStampedModel):
    name = models.CharField(max_length=200, db_index=True)
    domain = models.CharField(max_length=200, blank=True, db_index=True)
    industry = models.CharField(max_length=100, blank=True, db_index=True)
    employees = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, db_index=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True, db_index=True)
    website = models.URLField(blank=True)
    linkedin = models.URLField("LinkedIn", blank=True)
    technologies = models.ManyToManyField(Technology, blank=True, related_name="companies")
    keywords = models.TextField(blank=True, help_text="Comma-separated.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"

    def __str__(self):
        return self.name


class Lead(TimeStampedModel):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, blank=True)
    # E.164 (crm.leads.phones.normalise_phone); the lead's identity when present.
    phone = models.CharField(max_length=20, null=True, blank=True, unique=True)
    alternate_phones = models.CharField(max_length=200, blank=True)
    # Stored lower-case; looked up through the lead_email_lower index.
    email = models.EmailField(max_length=254, null=True, blank=True)
    area = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=60, blank=True)
    interest = models.CharField(max_length=120, blank=True, help_text="Course or product.")
    value = models.DecimalField("deal value", max_digits=14, decimal_places=2, null=True, blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    lead_date = models.DateField(null=True, blank=True, db_index=True)
    remark = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    # Foreign keys without their own index where a composite index below starts with them: every index is
    # written on every change of a lead's owner or stage, so each one costs bulk assignment and import time.
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="leads", db_index=False)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    # Order on the board within the stage: gapped integers, smaller first.
    rank = models.BigIntegerField(default=0)
    # The owner is in no index of this table, so that changing it is a HOT update (no index written; the
    # table keeps free room on every page for it: migration 0008). Owner-scoped reads find a counsellor's
    # leads through the assignment history's (to_user, lead) index: crm.leads.owners. No database foreign key
    # either: its check costs ~5 µs a lead on every owner change (a third of a bulk assignment); targets are
    # checked by the services (crm.assignment.services.common.check_target), users are deactivated rather than
    # deleted, and Django still sets the owner to NULL when a user is deleted.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_leads",
        db_index=False,
        db_constraint=False,
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    import_job = models.ForeignKey(
        "imports.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads", db_index=False
    )
    next_follow_up_at = models.DateTimeField(null=True, blank=True)
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)  # indexed by lead_created

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="lead_updated"),
            models.Index(fields=["-created_at", "-id"], name="lead_created"),
            models.Index(fields=["name", "id"], name="lead_name"),
            models.Index(Lower("email"), name="lead_email_lower"),
            models.Index(fields=["stage", "-updated_at"], name="lead_stage_updated"),
            # The board's column order (rank, then id: new leads all have rank 0); created by migration 0004.
            models.Index(fields=["stage", "rank", "id"], name="lead_board_order"),
            models.Index(fields=["import_job", "id"], name="lead_import"),
            # The lead list's sorts and filters (crm.leads.listing). Migration 0003 adds, outside the model state,
            # the "last contacted" sort indexes (DESC NULLS LAST, which SQLite cannot declare) and, on PostgreSQL,
            # the search box's trigram indexes.
            models.Index(fields=["next_follow_up_at", "id"], name="lead_next_follow_up"),
            models.Index(Upper("city"), name="lead_city_ci"),
            models.Index(Upper("state"), name="lead_state_ci"),
            models.Index(Upper("country"), name="lead_country_ci"),
            models.Index(Upper("interest"), name="lead_interest_ci"),
        ]

    def __str__(self):
        return self.name or self.phone or self.email or str(self.uuid)

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("leads:detail", args=[self.uuid])


class StageTally(models.Model):
    """Leads, their deal value and how many were contacted, per (owner, stage), kept by database triggers on
    the lead table (migrations 0007 and 0011), so that board columns and dashboards count a million leads
    without reading them.

    The triggers only ever add rows: each statement that inserts, updates or deletes leads adds one delta row
    per (owner, stage) it changed, so concurrent writers never wait for one another on a counter. Readers sum
    the rows (crm.leads.tally), which folds them together now and then. `owner_key` is the owner's user id,
    0 for unassigned leads; no foreign keys, so that deleting a user or stage never has to touch this table.
    """

    owner_key = models.IntegerField()
    stage_id = models.IntegerField()
    leads = models.BigIntegerField()
    value = models.DecimalField(max_digits=20, decimal_places=2)
    contacted = models.BigIntegerField(db_default=0)  # of those leads, contacted at least once (migration 0011)

    class Meta:
        indexes = [models.Index(fields=["owner_key", "stage_id"], name="stagetally_owner_stage")]

    def __str__(self):
        return f"owner {self.owner_key}, stage {self.stage_id}: {self.leads:+} leads, {self.value:+} value"


class StatusChange(models.Model):
    # lead, to_stage and by need no index of their own: the composite indexes below start with them (every
    # imported or moved lead writes a row here, and each index is paid on every row).
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="status_changes", db_index=False)
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", db_index=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                           db_index=False)
    at = models.DateTimeField(db_index=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-at"], name="statuschange_lead"),
            models.Index(fields=["by", "-at"], name="statuschange_by"),
            models.Index(fields=["to_stage", "at"], name="statuschange_to_stage"),
        ]


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    MEETING = "meeting", "Meeting"
    NOTE = "note", "Note"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"


class Activity(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=10, choices=ActivityKind.choices, default=ActivityKind.CALL)
    outcome = models.CharField(max_length=120, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["lead", "-at"], name="activity_lead")]


class FollowUp(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="follow_ups")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    due_at = models.DateTimeField()
    note = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["owner", "done_at", "due_at"], name="followup_owner_due"),
            models.Index(fields=["lead", "done_at"], name="followup_lead_open"),
            models.Index(fields=["done_at", "due_at"], name="followup_due"),
        ]

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at < timezone.now()
