from django import forms

from .fields import CHOICES
from .models import ExportFormat


class OrderedMultipleChoiceField(forms.MultipleChoiceField):
    """Keeps the order the values were sent in (the order of the checkboxes on the page) and drops repeats."""

    def clean(self, value):
        value = super().clean(value)
        return list(dict.fromkeys(value))


class ExportForm(forms.Form):
    """What to export and how. The selection itself (ticked lead ids or the list's filter) travels in
    hidden inputs and is resolved by the service against what the user may see."""

    format = forms.ChoiceField(
        choices=ExportFormat.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial=ExportFormat.CSV,
    )
    fields = OrderedMultipleChoiceField(
        choices=CHOICES,
        error_messages={"required": "Choose at least one field to export."},
    )
    lead_ids = forms.CharField(required=False)  # read with getlist(); validated by the service
    filter_query = forms.CharField(required=False, max_length=4000)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.lead_id_list = [v for v in data.getlist("lead_ids") if v.isdigit()] if data is not None else []
