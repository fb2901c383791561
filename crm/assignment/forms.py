"""Forms of the assignment pages. Every bad input gets a message that says what to do."""

from django import forms
from django.core import signing

from crm.accounts.selectors import counsellors
from crm.leads.selectors import active_stages

from .selectors import MAX_BULK
from .services import pack_owners

ACTIONS = [
    ("assign", "Assign to one counsellor"),
    ("distribute", "Distribute evenly"),
    ("unassign", "Unassign"),
    ("stage", "Change stage"),
]
SNAPSHOT_SALT = "crm.assignment.preview"
SNAPSHOT_MAX_AGE = 3600  # seconds a preview stays valid


class CounsellorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        label = user.full_name or user.email
        return label if user.is_available else f"{label} (on leave)"


class CounsellorsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        label = user.full_name or user.email
        return label if user.is_available else f"{label} (on leave)"


class BulkActionForm(forms.Form):
    """What to do with the selected leads (the selection itself comes from the lead list's form)."""

    action = forms.ChoiceField(choices=ACTIONS, error_messages={"required": "Choose what to do with the leads.",
                                                                "invalid_choice": "Choose what to do with the leads."})
    to_user = CounsellorChoiceField(
        queryset=counsellors(), required=False, label="Counsellor",
        error_messages={"invalid_choice": "Choose an active counsellor."},
    )
    counsellors = CounsellorsField(
        queryset=counsellors(), required=False, label="Among",
        help_text="Leave empty for every available counsellor.",
        error_messages={"invalid_choice": "Choose active counsellors only.",
                        "invalid_pk_value": "Choose active counsellors only."},
    )
    stage = forms.ModelChoiceField(
        queryset=active_stages(), required=False, error_messages={"invalid_choice": "Choose one of the pipeline's stages."}
    )
    note = forms.CharField(required=False, max_length=500, label="Note for the stage change")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = counsellors()
        self.fields["counsellors"].queryset = counsellors()
        self.fields["stage"].queryset = active_stages()

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("to_user") and "to_user" not in self.errors:
            self.add_error("to_user", "Choose the counsellor who gets the leads.")
        if action == "stage" and not data.get("stage") and "stage" not in self.errors:
            self.add_error("stage", "Choose the stage to move the leads to.")
        return data


class NextLeadsForm(forms.Form):
    """Assign the next N unassigned leads to one counsellor."""

    n = forms.IntegerField(
        label="How many", min_value=1, max_value=MAX_BULK, initial=100,
        error_messages={"required": "Say how many leads (for example 100).",
                        "invalid": "Enter a whole number of leads, such as 100.",
                        "min_value": "Assign at least 1 lead.",
                        "max_value": f"At most {MAX_BULK:,} leads at a time."},
    )
    to_user = CounsellorChoiceField(
        queryset=counsellors(), label="To",
        error_messages={"required": "Choose the counsellor who gets the leads.",
                        "invalid_choice": "Choose an active counsellor."},
    )
    order = forms.ChoiceField(
        choices=[("oldest", "Oldest first"), ("newest", "Newest first")], initial="oldest", label="Which leads",
        error_messages={"invalid_choice": "Choose oldest or newest first."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = counsellors()

    def clean_order(self):
        return self.cleaned_data.get("order") or "oldest"


class LeadAssignForm(forms.Form):
    """The lead page's owner box: a counsellor, or nobody."""

    to_user = CounsellorChoiceField(
        queryset=counsellors(), required=False, empty_label="— Unassigned —", label="Counsellor",
        error_messages={"invalid_choice": "Choose an active counsellor (or Unassigned)."},
    )
    owner = forms.CharField(required=False, widget=forms.HiddenInput)  # the owner the page showed

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = counsellors()

    def clean_owner(self):
        value = (self.cleaned_data.get("owner") or "").strip()
        if not value:
            return None
        if not value.isdigit():
            raise forms.ValidationError("The page was out of date; reload it and try again.")
        return int(value)


# --- the preview's snapshot: the exact leads and owners the manager saw ---------------------------------


def snapshot_dumps(rows, *, user) -> str:
    """Sign the (pk, owner) pairs the preview showed, compactly (zlib), for this user only."""
    return signing.dumps(pack_owners(rows), salt=f"{SNAPSHOT_SALT}:{user.pk}", compress=True)


def snapshot_payload(token: str, *, user) -> dict:
    """The packed (pk, owner) pairs of a preview's token (crm.assignment.services.pack_owners); raises
    signing.BadSignature (or its subclass SignatureExpired) when the token was altered, belongs to someone
    else, or is over an hour old."""
    return signing.loads(token, salt=f"{SNAPSHOT_SALT}:{user.pk}", max_age=SNAPSHOT_MAX_AGE)
