from django.contrib import admin

from .models import Assignment, AssignmentBatch


@admin.register(AssignmentBatch)
class AssignmentBatchAdmin(admin.ModelAdmin):
    """Read-only: bulk actions change through the assignment pages (with undo), never by editing rows."""

    list_display = ("id", "at", "method", "count", "by", "undone_at")
    list_filter = ("method",)
    date_hierarchy = "at"
    list_select_related = ("by",)
    readonly_fields = ("by", "at", "method", "count", "summary", "undone_at", "undone_by", "undo_of")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """The history of owner changes, read-only (it is the audit trail)."""

    list_display = ("id", "at", "lead", "from_user", "to_user", "by", "method", "batch")
    list_filter = ("method",)
    list_select_related = ("lead", "from_user", "to_user", "by")
    raw_id_fields = ("lead", "batch")
    ordering = ("-id",)  # served by the primary key at any size
    show_full_result_count = False
    readonly_fields = ("lead", "from_user", "to_user", "by", "at", "method", "batch", "version", "previous_assigned_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
