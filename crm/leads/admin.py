"""The Django admin for the leads app (admins only). LeadAdmin is also the peer the lead list's benchmark
measures (benchmarks/lists.py): the same filters and search as the list, the admin's own way."""

from django.contrib import admin

from .models import Activity, Company, FollowUp, Lead, Stage, StatusChange, Technology


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "kind", "colour", "is_active", "asks_follow_up")
    list_editable = ("position", "is_active")
    ordering = ("position", "id")


@admin.register(Technology)
class TechnologyAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "industry", "employees", "city", "country")
    search_fields = ("name", "domain")
    list_filter = ("industry",)
    filter_horizontal = ("technologies",)


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("name", "phone", "stage", "assigned_to", "source", "city", "next_follow_up_at",
                    "last_contacted_at", "updated_at")
    list_filter = ("stage", "assigned_to", "source", "lead_date", "created_at")
    search_fields = ("name", "phone", "email", "area")
    list_select_related = ("stage", "assigned_to")
    raw_id_fields = ("company", "assigned_to", "created_by", "import_job")
    readonly_fields = ("uuid", "version", "created_at", "updated_at")
    list_per_page = 25


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ("lead", "from_stage", "to_stage", "by", "at")
    raw_id_fields = ("lead", "by")
    list_select_related = ("lead", "from_stage", "to_stage", "by")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("lead", "kind", "outcome", "by", "at")
    raw_id_fields = ("lead", "by")
    list_select_related = ("lead", "by")


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("lead", "owner", "due_at", "done_at")
    raw_id_fields = ("lead", "owner")
    list_select_related = ("lead", "owner")
