"""Forms of the import pages: explicit fields only."""

from django import forms

from crm.leads.models import Stage

from . import limits
from .mapping import FIELD_CHOICES, column_names
from .models import OnDuplicate


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        help_text="CSV, TSV, XLSX, XLS or ODS. The type is read from the file itself, not its name.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > limits.max_bytes():
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:,.1f} MB; an import takes at most "
                f"{limits.max_bytes() / 1024 / 1024:,.0f} MB. Split it into smaller files."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class MappingForm(forms.Form):
    """One select per column, plus the import's options; built from the job."""

    sheet = forms.ChoiceField(label="Sheet", required=False)
    header_row = forms.IntegerField(label="Header row", min_value=1, required=False,
                                    help_text="The spreadsheet row holding the column names.")
    source = forms.CharField(label="Source for rows without one", max_length=60, required=False)
    interest = forms.CharField(label="Interest for rows without one", max_length=120, required=False)
    stage = forms.ModelChoiceField(label="Stage for new leads", queryset=Stage.objects.none(), required=False,
                                   empty_label=None, widget=forms.Select(attrs={"class": "form-select"}))
    on_duplicate = forms.ChoiceField(label="When a lead already exists", choices=OnDuplicate.choices,
                                     widget=forms.RadioSelect)
    distribute = forms.BooleanField(label="Distribute the new leads evenly across counsellors", required=False)
    day_first = forms.BooleanField(label="Dates are written day first (31/03/2026)", required=False)

    def __init__(self, *args, job, **kwargs):
        self.job = job
        initial = {
            "sheet": job.sheet, "header_row": job.header_row + 1, "source": job.defaults.get("source", ""),
            "interest": job.defaults.get("interest", ""), "stage": job.defaults.get("stage"),
            "on_duplicate": job.on_duplicate, "distribute": job.distribute, "day_first": job.day_first,
        }
        for index in range(len(job.columns)):
            initial[f"col_{index}"] = job.mapping.get(str(index), "")
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["sheet"].choices = [(name, name) for name in job.sheets]
        self.fields["stage"].queryset = Stage.objects.filter(is_active=True).order_by("position", "id")
        choices = [("", "— ignore —"), *FIELD_CHOICES]
        for index, name in enumerate(column_names(job.columns)):
            self.fields[f"col_{index}"] = forms.ChoiceField(label=name, choices=choices, required=False)

    def column_fields(self):
        return [self[f"col_{index}"] for index in range(len(self.job.columns))]

    def mapping(self) -> dict:
        return {
            str(index): self.cleaned_data.get(f"col_{index}")
            for index in range(len(self.job.columns))
            if self.cleaned_data.get(f"col_{index}")
        }

    def options(self) -> dict:
        data = self.cleaned_data
        header_row = data.get("header_row")
        stage = data.get("stage")
        return {
            "sheet": data.get("sheet") or None,
            "header_row": header_row - 1 if header_row else None,
            "mapping": self.mapping(),
            "defaults": {"source": data.get("source", ""), "interest": data.get("interest", ""),
                         "stage": stage.pk if stage else None},
            "on_duplicate": data.get("on_duplicate"),
            "distribute": data.get("distribute", False),
            "day_first": data.get("day_first", False),
        }
