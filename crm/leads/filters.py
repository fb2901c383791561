"""The lead list's filters: `LeadFilter(data, queryset=leads_visible_to(user), request=request).qs`.

No filter renders an unbounded dropdown: stages (a dozen) are checkboxes, the counsellor filter lists the
sales users (bounded by the team's size), and free-text values (city, interest, industry, technologies...)
are text inputs with a few suggestions in a <datalist>.
"""

import re
from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone

from .models import SOURCES, Company, Stage
from .owners import owned_by
from .phones import phone_search_key

DATE = {"type": "date", "class": "form-control form-control-sm"}
NUMBER = {"class": "form-control form-control-sm", "inputmode": "numeric", "min": "0"}
TEXT = {"class": "form-control form-control-sm"}
UNASSIGNED = "none"
ASSIGNED = "any"
CONTACTED_CHOICES = [("yes", "Contacted"), ("no", "Never contacted")]
FOLLOW_UP_CHOICES = [
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("upcoming", "Upcoming"),
    ("none", "None planned"),
]
_DIGITS = re.compile(r"\d")


def day_bounds(day=None):
    """Start of the given day (today by default) and of the next one, in the active (user's) time zone."""
    tz = timezone.get_current_timezone()
    day = day or timezone.localdate()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)


def search_q(text: str) -> Q:
    """The search box: a whole phone number in any format (exact, by the unique index), part of a number
    (4+ digits), an e-mail address (whole or part), or words each found in the name or the area."""
    text = " ".join(text.split())
    if not text:
        return Q()
    e164 = phone_search_key(text) if _DIGITS.search(text) else None
    if e164:
        return Q(phone=e164)
    if "@" in text:
        address = text.lower()
        try:
            validate_email(address)
        except ValidationError:
            return Q(email__icontains=address)
        return Q(email_lower=address)
    digits = re.sub(r"[\s\-().+]", "", text)
    if digits.isdigit() and len(digits) >= 4:
        return Q(phone__contains=digits)
    condition = Q()
    for word in text.split(" ")[:5]:
        if len(word) < 3:
            condition &= Q(name__istartswith=word) | Q(area__istartswith=word)
        else:
            condition &= Q(name__icontains=word) | Q(area__icontains=word)
    return condition


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control",
                "placeholder": "Name, phone, e-mail or area",
                "autocomplete": "off",
                "aria-label": "Search leads",
            }
        ),
    )
    stage = django_filters.ModelMultipleChoiceFilter(
        queryset=Stage.objects.order_by("-is_active", "position", "id"), widget=forms.CheckboxSelectMultiple, label="Stage",
        distinct=False,  # no join: DISTINCT would only stop the indexes from serving the sort and the count
    )
    counsellor = django_filters.ChoiceFilter(
        label="Counsellor", method="filter_counsellor", empty_label="Anyone", choices=lambda: counsellor_choices(),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    contacted = django_filters.ChoiceFilter(
        label="Contacted", choices=CONTACTED_CHOICES, method="filter_contacted", empty_label="Either",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    follow_up = django_filters.ChoiceFilter(
        label="Follow-up", choices=FOLLOW_UP_CHOICES, method="filter_follow_up", empty_label="Any",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    source = django_filters.CharFilter(
        label="Source", lookup_expr="iexact", widget=forms.TextInput(attrs={**TEXT, "list": "lead-sources"})
    )
    interest = django_filters.CharFilter(
        label="Interest", method="filter_ci", widget=forms.TextInput(attrs={**TEXT, "placeholder": "Course or product"})
    )
    city = django_filters.CharFilter(label="City", method="filter_ci", widget=forms.TextInput(attrs=TEXT))
    state = django_filters.CharFilter(label="State", method="filter_ci", widget=forms.TextInput(attrs=TEXT))
    country = django_filters.CharFilter(label="Country", method="filter_ci", widget=forms.TextInput(attrs=TEXT))
    lead_date = django_filters.DateFromToRangeFilter(
        label="Lead date", widget=django_filters.widgets.DateRangeWidget(attrs=DATE)
    )
    created = django_filters.DateFromToRangeFilter(
        label="Created", field_name="created_at", widget=django_filters.widgets.DateRangeWidget(attrs=DATE)
    )
    industry = django_filters.CharFilter(
        label="Company industry", field_name="company__industry", lookup_expr="iexact",
        widget=forms.TextInput(attrs={**TEXT, "list": "company-industries"}),
    )
    linkedin = django_filters.ChoiceFilter(
        label="Company on LinkedIn", choices=[("yes", "Has a LinkedIn page")], method="filter_linkedin", empty_label="Any",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    employees = django_filters.RangeFilter(
        label="Employees", field_name="company__employees", widget=django_filters.widgets.RangeWidget(attrs=NUMBER)
    )
    revenue = django_filters.RangeFilter(
        label="Annual revenue", field_name="company__annual_revenue",
        widget=django_filters.widgets.RangeWidget(attrs=NUMBER),
    )
    technologies = django_filters.CharFilter(
        label="Technologies (all of)", method="filter_technologies",
        widget=forms.TextInput(attrs={**TEXT, "placeholder": "e.g. Python, AWS", "list": "company-technologies"}),
    )

    # The leads that reached a funnel step (links from the dashboards' funnel: /leads/?reached=<stage id>).
    reached = django_filters.ModelChoiceFilter(
        label="Reached", queryset=Stage.objects.filter(is_active=True), method="filter_reached", widget=forms.HiddenInput(),
    )
    # The leads one import created (links from the import pages: /leads/?import_job=<id>).
    import_job = django_filters.NumberFilter(label="Import", field_name="import_job_id", widget=forms.HiddenInput())

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset=queryset, request=request, prefix=prefix)
        user = getattr(request, "user", None)
        if user is not None and not getattr(user, "is_manager", False):
            # Sales users only see their own leads: filtering by counsellor means nothing to them.
            self.filters.pop("counsellor", None)

    # --- methods -------------------------------------------------------------------------------------

    def filter_search(self, queryset, name, value):
        condition = search_q(value)
        if not condition:
            return queryset
        # email_lower matches the lead_email_lower index (LOWER(email)) for a whole address.
        return queryset.alias(email_lower=Lower("email")).filter(condition)

    def filter_counsellor(self, queryset, name, value):
        if value == UNASSIGNED:
            return queryset.filter(assigned_to__isnull=True)
        if value == ASSIGNED:
            return queryset.filter(assigned_to__isnull=False)
        return owned_by(queryset, value)

    def filter_reached(self, queryset, name, value):
        from .selectors import reached_stage_q

        return queryset.filter(reached_stage_q(value))

    def filter_linkedin(self, queryset, name, value):
        return queryset.filter(company__linkedin__gt="")

    def filter_contacted(self, queryset, name, value):
        return queryset.filter(last_contacted_at__isnull=value != "yes")

    def filter_follow_up(self, queryset, name, value):
        start, end = day_bounds()
        if value == "overdue":
            return queryset.filter(next_follow_up_at__lt=start)
        if value == "today":
            return queryset.filter(next_follow_up_at__gte=start, next_follow_up_at__lt=end)
        if value == "upcoming":
            return queryset.filter(next_follow_up_at__gte=end)
        if value == "none":
            return queryset.filter(next_follow_up_at__isnull=True)
        return queryset

    def filter_ci(self, queryset, name, value):
        """Case-insensitive equality, served by the UPPER(column) indexes."""
        value = value.strip()
        return queryset.filter(**{f"{name}__iexact": value}) if value else queryset

    def filter_technologies(self, queryset, name, value):
        names = sorted({part.strip().lower() for part in value.split(",") if part.strip()})[:10]
        if not names:
            return queryset
        companies = (
            Company.objects.alias(tech=Lower("technologies__name"))
            .filter(tech__in=names)
            .values("pk")
            .annotate(n=Count("technologies", distinct=True))
            .filter(n=len(names))
            .values("pk")
        )
        return queryset.filter(company__in=companies)

    @property
    def applied(self) -> set[str]:
        """The names of the filters given a value (paging and sorting are not filters)."""
        if not self.is_bound:
            return set()
        ignored = {"page", "sort", "per_page"}
        return {key for key, values in self.data.lists() if key not in ignored and any(v.strip() for v in values)}

    @property
    def is_filtered(self) -> bool:
        """True when any filter has a value (the list then counts the filtered set instead of estimating)."""
        return bool(self.applied)


def counsellor_choices(users=None):
    """"Unassigned", "Anyone assigned" and every sales user (bounded by the team's size; inactive ones last)."""
    from crm.accounts.models import User

    if users is None:
        users = User.objects.filter(role="sales").order_by("-is_active", "full_name", "id").only(
            "pk", "full_name", "email", "is_active"
        )
    choices = [(UNASSIGNED, "Unassigned"), (ASSIGNED, "Anyone assigned")]
    for user in users:
        label = user.full_name or user.email
        choices.append((str(user.pk), label if user.is_active else f"{label} (inactive)"))
    return choices


def suggestions() -> dict:
    """Small, bounded lists for the <datalist> suggestions of the free-text filters (cached for 5 minutes:
    the distinct industries of every company are not worth reading on each page)."""
    from django.core.cache import cache

    from .models import Technology

    def read():
        industries = (
            Company.objects.exclude(industry="").order_by("industry").values_list("industry", flat=True).distinct()[:50]
        )
        return {
            "sources": SOURCES,
            "industries": list(industries),
            "technologies": list(Technology.objects.order_by("name").values_list("name", flat=True)[:200]),
        }

    return cache.get_or_set("leads:filter-suggestions", read, 300)
