import secrets
import zoneinfo
from functools import cache

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
    UserChangeForm,
)

from .models import Role, User


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith("Etc/"))
    return [(name, name.replace("_", " ")) for name in names] + [("UTC", "UTC")]


class TimeZoneSelect(forms.Select):
    def __init__(self, attrs=None):
        super().__init__(attrs, choices=time_zone_choices())


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail and password do not match an active account. Check both and try again "
        "(the password is case-sensitive).",
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class StyledPasswordResetForm(PasswordResetForm):
    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class StyledSetPasswordForm(SetPasswordForm):
    pass


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "phone", "time_zone"]
        widgets = {"time_zone": TimeZoneSelect, "phone": forms.TextInput(attrs={"autocomplete": "tel"})}
        help_texts = {"time_zone": "Dates and times are shown in this zone."}


class UserForm(forms.ModelForm):
    """Admins add and edit users on the Users page."""

    class Meta:
        model = User
        fields = [
            "email",
            "full_name",
            "role",
            "phone",
            "time_zone",
            "is_active",
            "is_available",
            "capacity",
            "can_export",
            "exports_per_month",
            "export_rows_per_month",
        ]
        widgets = {"time_zone": TimeZoneSelect}
        labels = {"is_active": "Active (may sign in)"}

    def __init__(self, *args, by: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        clash = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A user with this e-mail already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.instance.pk == self.by.pk:
            if cleaned.get("role") != Role.ADMIN:
                self.add_error("role", "You cannot take away your own admin role; ask another admin.")
            if cleaned.get("is_active") is False:
                self.add_error("is_active", "You cannot deactivate your own account; ask another admin.")
        return cleaned


class AdminAddUserForm(forms.ModelForm):
    """The Django admin's "add user" form: like the Users page, no password here; the new user is e-mailed
    a link to choose one (UserAdmin.save_model)."""

    class Meta:
        model = User
        fields = ["email", "full_name", "role"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this e-mail already exists.")
        return email

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_password(secrets.token_urlsafe(32))
        if commit:
            user.save()
        return user


class AdminChangeUserForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
