from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm

from .models import User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class StyledPasswordResetForm(PasswordResetForm):
    pass


class StyledSetPasswordForm(SetPasswordForm):
    pass


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "phone", "time_zone"]


class UserForm(forms.ModelForm):
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

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        clash = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A user with this e-mail already exists.")
        return email
