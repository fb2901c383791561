"""The leads workspace's pages (function-based views; one module per page family)."""

from .companies import company_detail, company_list, company_options
from .detail import lead_create, lead_delete, lead_detail, lead_edit, log_activity, record_outcome
from .follow_ups import follow_up_complete, follow_up_list, follow_up_reschedule
from .lists import lead_list
from .stages import stage_create, stage_delete, stage_edit, stage_list, stage_move, stage_toggle

__all__ = [
    "company_detail", "company_list", "company_options", "follow_up_complete", "follow_up_list",
    "follow_up_reschedule", "lead_create", "lead_delete", "lead_detail", "lead_edit", "lead_list", "log_activity",
    "record_outcome", "stage_create", "stage_delete", "stage_edit", "stage_list", "stage_move", "stage_toggle",
]
