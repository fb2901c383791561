"""Every change of who owns a lead (and bulk stage changes) goes through here. All set-based, all writing
Assignment rows. Imports call leads_distribute(..., method="import")."""

from .assign import (
    eligible_seats,
    lead_assign,
    leads_assign,
    leads_assign_next,
    leads_distribute,
    leads_unassign,
    next_unassigned,
    plan_distribution,
)
from .common import AssignmentError, OwnerChanged, open_workloads, pack_owners, unpack_owners
from .notice import assignments_mark_seen
from .queued import (
    ACTION_METHODS,
    batch_mark_failed,
    batch_queue,
    batch_run_queued,
    bulk_action_run,
    runs_in_background,
)
from .stage import leads_stage_change
from .undo import batch_undo

__all__ = [
    "ACTION_METHODS",
    "batch_mark_failed",
    "batch_queue",
    "batch_run_queued",
    "bulk_action_run",
    "pack_owners",
    "runs_in_background",
    "unpack_owners",
    "AssignmentError",
    "assignments_mark_seen",
    "OwnerChanged",
    "batch_undo",
    "eligible_seats",
    "lead_assign",
    "leads_assign",
    "leads_assign_next",
    "leads_distribute",
    "leads_stage_change",
    "leads_unassign",
    "next_unassigned",
    "open_workloads",
    "plan_distribution",
]
