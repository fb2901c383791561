from datetime import timedelta

from django import forms

from crm.accounts.models import Role, User

from .selectors.common import today

PRESETS = [("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days")]


class DashboardFilterForm(forms.Form):
    """The manager dashboard's filters: leads created between two dates (inclusive) and one counsellor."""

    date_from = forms.DateField(
        label="Created from", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label="Created to", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    counsellor = forms.ModelChoiceField(
        label="Counsellor",
        queryset=User.objects.filter(role=Role.SALES).order_by("-is_active", "full_name", "email"),
        required=False,
        empty_label="All counsellors",
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{css} {css}-sm"

    def values(self) -> dict:
        """The valid filters (an invalid field is ignored; its error is shown next to it)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["class"] += " is-invalid"
        data = getattr(self, "cleaned_data", {})
        counsellor = data.get("counsellor")
        return {
            "date_from": data.get("date_from") if "date_to" not in self.errors else None,
            "date_to": data.get("date_to") if "date_to" not in self.errors else None,
            "counsellor_id": counsellor.pk if counsellor else None,
        }


def preset_range(days: int) -> tuple:
    end = today()
    return end - timedelta(days=days - 1), end
