from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "is_available", "capacity"]
    list_filter = ["role", "is_active", "is_available"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "phone", "time_zone"]}),
        ("Role", {"fields": ["role", "is_active", "is_available", "capacity"]}),
        ("Exports", {"fields": ["can_export", "exports_per_month", "export_rows_per_month"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name", "role", "password1", "password2"]})]
    filter_horizontal = []

    def save_model(self, request, obj, form, change):
        obj.is_superuser = obj.role == "admin"
        super().save_model(request, obj, form, change)
