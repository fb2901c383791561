"""Errors, target checks and summary helpers shared by the assignment services."""

from django.db.models import QuerySet

from crm.accounts.models import Role, User
from crm.leads import tally
from crm.leads.models import Lead, Stage, StageKind

STALE_LISTED = 50  # how many of the leads that changed under the caller a summary names


class AssignmentError(Exception):
    """The action cannot be done as asked (bad target, already undone ...): the message says why."""


class OwnerChanged(AssignmentError):
    """The lead's owner changed since the caller read it; `.lead` is the fresh lead."""

    def __init__(self, lead):
        owner = str(lead.assigned_to) if lead.assigned_to else "nobody"
        super().__init__(f"Someone else changed the owner of this lead meanwhile (now: {owner}). Nothing was changed.")
        self.lead = lead


def check_target(user) -> None:
    if user is None:
        return
    if not isinstance(user, User) or user.role != Role.SALES or not user.is_active:
        raise AssignmentError("Leads can only be assigned to an active sales user (counsellor).")


def as_id_list(lead_ids) -> list[int]:
    if isinstance(lead_ids, QuerySet):
        lead_ids = lead_ids.order_by().values_list("pk", flat=True)
    return sorted({int(pk) for pk in lead_ids})


def open_stage_ids() -> list[int]:
    return list(Stage.objects.filter(kind=StageKind.OPEN).values_list("pk", flat=True))


def open_workloads(user_ids) -> dict[int, int]:
    """Open leads (leads in stages of kind "open") each user holds, from the stage tally."""
    counts = dict.fromkeys(user_ids, 0)
    if counts:
        open_ids = set(open_stage_ids())
        for (owner_key, stage_id), (leads, _value) in tally.owner_stage_totals(tally.EVERYONE).items():
            if owner_key in counts and stage_id in open_ids:
                counts[owner_key] += leads
    return counts


def split_stale(rows, expected_owners) -> tuple[list, list[int]]:
    """Rows (pk, owner, ...) whose owner is still what the caller saw, and the pks of those that changed."""
    if expected_owners is None:
        return list(rows), []
    fresh, stale = [], []
    for row in rows:
        if row[0] in expected_owners and expected_owners[row[0]] != row[1]:
            stale.append(row[0])
        else:
            fresh.append(row)
    return fresh, stale


def stale_summary(stale_ids) -> dict:
    """What the caller is told about leads that changed under them: how many, and the first few by name."""
    listed = (
        Lead.objects.filter(pk__in=sorted(stale_ids)[:STALE_LISTED])
        .select_related("assigned_to")
        .order_by("pk")
    )
    return {
        "count": len(stale_ids),
        "leads": [
            {"uuid": str(lead.uuid), "name": str(lead), "owner": str(lead.assigned_to) if lead.assigned_to else None}
            for lead in listed
        ],
    }


def start_batch(batch, *, by, method, at, **fields):
    """The batch a bulk action writes into: a queued one (run now by a worker) or a new one."""
    from crm.assignment.models import AssignmentBatch, BatchState

    if batch is None:
        return AssignmentBatch.objects.create(by=by, at=at, method=method, **fields)
    batch.by, batch.at, batch.method, batch.state = by, at, method, BatchState.DONE
    for name, value in fields.items():
        setattr(batch, name, value)
    batch.save()
    return batch


def pack_owners(rows) -> dict:
    """(pk, owner, ...) rows in pk order, compactly: pks as gaps, owners as ids with 0 for nobody."""
    gaps, previous = [], 0
    for pk, *_ in rows:
        gaps.append(pk - previous)
        previous = pk
    return {"g": gaps, "o": [row[1] or 0 for row in rows]}


def unpack_owners(data: dict) -> dict[int, int | None]:
    expected, pk = {}, 0
    for gap, owner in zip(data["g"], data["o"], strict=True):
        pk += gap
        expected[pk] = owner or None
    return expected


def user_names(user_ids) -> dict[int, str]:
    return {user.pk: str(user) for user in User.objects.filter(pk__in=[pk for pk in user_ids if pk is not None])}
