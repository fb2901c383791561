from django.contrib import admin

from .models import ExportJob, ExportPreference


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "format", "status", "row_count", "rows_written", "expires_at"]
    list_filter = ["status", "format"]
    search_fields = ["user__email", "user__full_name"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "uuid", "user", "created_at", "format", "fields", "query", "lead_ids", "row_count", "rows_written",
        "file", "finished_at", "message",
    ]  # fmt: skip
    fields = readonly_fields[:4] + ["status", "expires_at"] + readonly_fields[4:]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(ExportPreference)
class ExportPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "format"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
