from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from . import services
from .forms import AdminAddUserForm, AdminChangeUserForm
from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = AdminChangeUserForm
    add_form = AdminAddUserForm
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "is_available", "capacity", "last_login"]
    list_filter = ["role", "is_active", "is_available"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "phone", "time_zone"]}),
        ("Role", {"fields": ["role", "is_active", "is_available", "capacity"]}),
        ("Exports", {"fields": ["can_export", "exports_per_month", "export_rows_per_month"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "role"]})
    ]
    filter_horizontal = []

    def save_model(self, request, obj, form, change):
        obj.is_superuser = obj.role == "admin"
        super().save_model(request, obj, form, change)
        if not change:
            # Like the Users page: the new user is sent a link to choose their own password.
            services.send_set_password_link(user=obj, request=request)
