"""Forms with explicit fields. What a user may not set is simply not a field of their form."""

from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Fieldset, Layout, Row
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from .models import ActivityKind, Lead, Stage, StageKind
from .phones import InvalidPhone, normalise_phone
from .selectors import active_stages, leads_with_email

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
OUTCOMES = ["Answered", "No answer", "Busy", "Switched off", "Call back later", "Sent brochure", "Interested",
            "Not interested", "Wrong number"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


class StageSelect(forms.Select):
    """A <select> whose options say whether the stage asks for a follow-up date (leads-outcome.js reads it)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None and instance.asks_follow_up:
            option["attrs"]["data-asks-follow-up"] = "1"
        return option


def _duplicate_message(user, lead, what):
    from .selectors import leads_visible_to

    if user is not None and leads_visible_to(user).filter(pk=lead.pk).exists():
        return format_html(
            'A lead with this {} already exists: <a href="{}">{}</a>.', what,
            reverse("leads:detail", args=[lead.uuid]), str(lead),
        )
    return f"A lead with this {what} already exists and is assigned to someone else; ask a manager to look it up."


class LeadForm(forms.ModelForm):
    """Create and edit. `company_name` picks an existing company (same name, any case) or creates one.
    On create, everyone picks the first stage and managers may pick a counsellor."""

    company_name = forms.CharField(
        label="Company", required=False, max_length=200,
        widget=forms.TextInput(attrs={"list": "company-options", "autocomplete": "off"}),
        help_text="Pick an existing company or type a new name to create it.",
    )
    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), required=True, empty_label=None, widget=StageSelect)
    counsellor = forms.ModelChoiceField(queryset=None, required=False, empty_label="Unassigned")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Lead
        fields = ["name", "phone", "alternate_phones", "email", "area", "city", "state", "country", "source",
                  "interest", "value", "lead_date", "remark", "notes"]
        widgets = {
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": "+91 98765 43210"}),
            "alternate_phones": forms.TextInput(attrs={"placeholder": "Comma-separated"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "source": forms.TextInput(attrs={"list": "lead-sources"}),
            "lead_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "remark": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        creating = self.instance.pk is None
        if creating:
            self.fields["stage"].queryset = active_stages()
            self.fields["stage"].initial = active_stages().first()
            self.fields.pop("version")
            if user is not None and user.is_manager:
                from crm.accounts.selectors import counsellors

                self.fields["counsellor"].queryset = counsellors()
            else:
                self.fields.pop("counsellor")
        else:
            # Stage changes go through "record outcome"; assignment through the assignment box.
            self.fields.pop("stage")
            self.fields.pop("counsellor")
            self.fields["version"].initial = self.instance.version
            if self.instance.company_id:
                self.fields["company_name"].initial = self.instance.company.name
        self.fields["phone"].help_text = "Any format: +91 98765 43210, 098765 43210, 9876543210."
        self.fields["company_name"].widget.attrs.update({
            "hx-get": reverse("leads:company_options"), "hx-trigger": "input changed delay:300ms",
            "hx-target": "#company-options", "hx-swap": "innerHTML",
        })
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset("Contact", Row(Column("name", css_class="col-md-6"), Column("email", css_class="col-md-6")),
                     Row(Column("phone", css_class="col-md-6"), Column("alternate_phones", css_class="col-md-6"))),
            Fieldset("Where", Row(Column("area", css_class="col-md-6"), Column("city", css_class="col-md-6")),
                     Row(Column("state", css_class="col-md-6"), Column("country", css_class="col-md-6"))),
            Fieldset("Interest", Row(Column("source", css_class="col-md-4"), Column("interest", css_class="col-md-4"),
                                     Column("value", css_class="col-md-4")),
                     Row(Column("company_name", css_class="col-md-6"), Column("lead_date", css_class="col-md-6"))),
            Fieldset("Pipeline", Row(*[Column(name, css_class="col-md-6") for name in ("stage", "counsellor")
                                       if name in self.fields])) if creating else Div(),
            Fieldset("Notes", "remark", "notes"),
            *(["version"] if "version" in self.fields else []),
        )

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_phone(self):
        try:
            phone = normalise_phone(self.cleaned_data.get("phone"))
        except InvalidPhone as exc:
            raise forms.ValidationError(str(exc)) from None
        if phone:
            existing = Lead.objects.filter(phone=phone).exclude(pk=self.instance.pk).first()
            if existing:
                raise forms.ValidationError(_duplicate_message(self.user, existing, "phone number"))
        return phone

    def clean_alternate_phones(self):
        numbers = []
        for part in (self.cleaned_data.get("alternate_phones") or "").split(","):
            if part.strip():
                try:
                    numbers.append(normalise_phone(part))
                except InvalidPhone as exc:
                    raise forms.ValidationError(str(exc)) from None
        return ", ".join(dict.fromkeys(numbers))

    def clean_email(self):
        email = (self.cleaned_data.get("email") or "").strip().lower() or None
        if email:
            existing = leads_with_email(Lead.objects.exclude(pk=self.instance.pk), email).first()
            if existing:
                raise forms.ValidationError(_duplicate_message(self.user, existing, "e-mail address"))
        return email

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("name") or cleaned.get("phone") or cleaned.get("email")) and not self.errors:
            raise forms.ValidationError("Give the lead at least a name, a phone number or an e-mail address.")
        return cleaned

    def lead_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class OutcomeForm(forms.Form):
    """Record the outcome of a contact in one step: stage + note + optional next follow-up.
    `OutcomeForm(lead=lead, data=request.POST or None)`; template: leads/_outcome_form.html."""

    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), empty_label=None, widget=StageSelect,
                                   error_messages={"invalid_choice": "Choose one of the pipeline's active stages."})
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What happened?"}))
    follow_up_at = forms.DateTimeField(
        label="Next follow-up", required=False, widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"],
        help_text="Leave empty if no call is planned. Any open follow-up is marked done.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *, lead, data=None, **kwargs):
        super().__init__(data=data, **kwargs)
        self.lead = lead
        self.fields["stage"].queryset = active_stages()
        self.fields["stage"].initial = lead.stage_id
        self.fields["version"].initial = lead.version
        self.fields["stage"].widget.attrs["aria-describedby"] = f"outcome-help-{lead.uuid}"
        self.auto_id = f"outcome-{lead.uuid}-%s"

    def clean_follow_up_at(self):
        when = self.cleaned_data.get("follow_up_at")
        if when and when < timezone.now() - timedelta(minutes=5):
            raise forms.ValidationError("Pick a follow-up time in the future.")
        return when

    def clean(self):
        cleaned = super().clean()
        stage = cleaned.get("stage")
        if stage is not None and stage.asks_follow_up and not cleaned.get("follow_up_at") and "follow_up_at" not in self.errors:
            self.add_error("follow_up_at", f"“{stage.name}” needs the date and time of the next follow-up.")
        return cleaned

    @property
    def stage_is_invalid(self) -> bool:
        return "stage" in self.errors


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=ActivityKind.choices, initial=ActivityKind.CALL)
    outcome = forms.CharField(required=False, max_length=120, widget=forms.TextInput(attrs={"list": "activity-outcomes"}))
    subject = forms.CharField(required=False, max_length=200)
    body = forms.CharField(label="Text", required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))
    at = forms.DateTimeField(
        label="When", required=False, widget=DateTimeLocalInput(), input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        help_text="Leave empty for now.",
    )

    def __init__(self, *args, lead=None, **kwargs):
        super().__init__(*args, **kwargs)
        if lead is not None:
            self.auto_id = f"activity-{lead.uuid}-%s"

    def clean_at(self):
        when = self.cleaned_data.get("at")
        if when and when > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("An activity cannot happen in the future; plan a follow-up instead.")
        return when

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("outcome") or cleaned.get("subject") or cleaned.get("body")) and not self.errors:
            raise forms.ValidationError("Write an outcome, a subject or some text.")
        return cleaned


class RescheduleForm(forms.Form):
    due_at = forms.DateTimeField(label="New time", widget=DateTimeLocalInput(),
                                 input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"])

    def clean_due_at(self):
        when = self.cleaned_data["due_at"]
        if when < timezone.now() - timedelta(minutes=5):
            raise forms.ValidationError("Pick a time in the future.")
        return when


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "colour", "kind", "asks_follow_up"]
        widgets = {"colour": forms.TextInput(attrs={"type": "color", "class": "form-control form-control-color"})}

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if Stage.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"There is already a stage called “{name}”.")
        return name

    def clean_colour(self):
        import re

        colour = self.cleaned_data["colour"].strip()
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
            raise forms.ValidationError("Use a colour such as #0d6efd.")
        return colour.lower()

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if kind not in StageKind.values:
            raise forms.ValidationError("Choose open, won or lost.")
        return kind
