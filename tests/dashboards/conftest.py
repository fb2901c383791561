"""A small hand-built data set for the dashboards. The expected numbers are written out in the tests.

Users live in a time zone where it is about noon now, so "today" never straddles midnight during a test.
Pipeline: the admissions preset. Funnel steps (open + won stages): New 0, Valid 1, Call not attended 2,
Plan presented 3, Interested 4, Follow-up 5, Shortlisted 6, Campus visit 7, Registration 8, Admission 9.

lead  owner   stage now        created            history (to_stage)                      furthest step
L1    Sunil   Admission (won)  40 days ago        New, Valid, Interested, Admission        9
L2    Sunil   Interested       10 days ago        New, Valid, Interested                   4
L3    Sunil   Not interested   today, -2 h        New, Valid, Plan presented, Not int.     3
L4    Sunil   New              today, -1 h        New                                      0
L5    Salma   Valid            Monday 00:30       New, Valid                               1
L6    Salma   Shortlisted      20 days ago        New, Valid, Campus visit, Shortlisted    7
L7    Salma   Admission (won)  15 days ago        (none: imported as won)                  9
L8    -       New              9 days ago         (none)                                   0
L9    -       Invalid (lost)   12 days ago        New, Invalid                             0
Chitra is a counsellor with no leads.
"""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone

from crm.leads.models import Activity, Company, FollowUp, Lead, StatusChange
from crm.leads.pipelines import load_pipeline
from tests.factories import LeadFactory, UserFactory, stage_named


@pytest.fixture(autouse=True)
def fresh_cache():
    """The dashboards cache their numbers for a minute; every test starts and ends with none cached."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def pipeline(db):
    """The admissions stages, whatever an earlier transactional test flushed (idempotent)."""
    return load_pipeline("admissions")


def noon_zone() -> str:
    """A fixed-offset zone in which the local time now is between 12:00 and 12:59."""
    offset = 12 - datetime.now(UTC).hour  # -11 .. +12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-5 is UTC+5


@pytest.fixture
def zone():
    name = noon_zone()
    with timezone.override(name):
        yield name


def _at(lead, **fields):
    Lead.objects.filter(pk=lead.pk).update(**fields)
    lead.refresh_from_db()
    return lead


@pytest.fixture
def data(db, zone, manager, sales, other_sales):
    for user in (manager, sales, other_sales):
        user.time_zone = zone
        user.save(update_fields=["time_zone"])
    chitra = UserFactory(role="sales", email="chitra@example.com", full_name="Chitra Counsellor", time_zone=zone)
    now = timezone.now()
    today = timezone.localdate()
    midnight = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    monday = midnight - timedelta(days=today.weekday())
    s = SimpleNamespace(**{
        key: stage_named(name)
        for key, name in [("new", "New"), ("invalid", "Invalid"), ("valid", "Valid"), ("plan", "Plan presented"),
                          ("interested", "Interested"), ("not_interested", "Not interested"),
                          ("shortlisted", "Shortlisted"), ("campus", "Campus visit"), ("admission", "Admission")]
    })
    A, B, M = sales, other_sales, manager  # noqa: N806

    def lead(name, owner, stage, created, source, *, assigned_after=timedelta(hours=1), **extra):
        obj = LeadFactory(name=name, stage=stage, source=source)
        fields = {"assigned_to": owner, "created_at": created, "updated_at": created, **extra}
        if owner is not None:
            fields["assigned_at"] = created + assigned_after
        return _at(obj, **fields)

    def history(obj, *moves):
        """moves: (to_stage, at, by); the first is the creation row (no from_stage)."""
        previous = None
        for to_stage, at, by in moves:
            StatusChange.objects.create(lead=obj, from_stage=previous, to_stage=to_stage, at=at, by=by)
            previous = to_stage

    def activity(obj, at, by):
        Activity.objects.create(lead=obj, kind="call", body="Called", at=at, by=by)

    d = lambda days: midnight - timedelta(days=days) + timedelta(hours=3)  # noqa: E731  (03:00, `days` ago)

    acme = Company.objects.create(name="Acme", industry="Education", country="India", employees=100,
                                  annual_revenue=1_000_000, linkedin="https://www.linkedin.com/company/acme")
    beta = Company.objects.create(name="Beta", industry="IT", country="India", employees=300)
    gamma = Company.objects.create(name="Gamma", industry="education", country="Singapore",
                                   annual_revenue=3_000_000, linkedin="https://www.linkedin.com/company/gamma")
    delta = Company.objects.create(name="Delta")
    Company.objects.filter(pk=beta.pk).update(created_at=now - timedelta(days=10))
    Company.objects.filter(pk=gamma.pk).update(created_at=now - timedelta(days=2))
    Company.objects.filter(pk=delta.pk).update(created_at=now - timedelta(days=30))

    L1 = lead("L1", A, s.admission, d(40), "Website", company=acme, last_contacted_at=d(40) + timedelta(hours=3))  # noqa: N806
    history(L1, (s.new, d(40), None), (s.valid, d(39), A), (s.interested, d(38), A), (s.admission, d(5), A))
    activity(L1, d(40) + timedelta(hours=3), A)

    L2 = lead("L2", A, s.interested, d(10), "Referral", company=beta,  # noqa: N806
              last_contacted_at=d(10) + timedelta(hours=3), next_follow_up_at=now - timedelta(days=1))
    history(L2, (s.new, d(10), None), (s.valid, d(10) + timedelta(hours=4), A), (s.interested, d(9), A))
    activity(L2, d(10) + timedelta(hours=3), A)  # first contact 2 h after assignment
    FollowUp.objects.create(lead=L2, owner=A, due_at=now - timedelta(days=1), note="Ask about the fees")

    t3 = now - timedelta(hours=2)
    L3 = lead("L3", A, s.not_interested, t3, "Website", assigned_after=timedelta(minutes=10),  # noqa: N806
              last_contacted_at=t3 + timedelta(minutes=50))
    history(L3, (s.new, t3, None), (s.valid, t3 + timedelta(minutes=40), A),  # first contact 30 min after assignment
            (s.plan, t3 + timedelta(minutes=50), A), (s.not_interested, t3 + timedelta(minutes=60), A))
    activity(L3, t3 + timedelta(minutes=50), A)

    t4 = now - timedelta(hours=1)
    L4 = lead("L4", A, s.new, t4, "Website", assigned_after=timedelta(minutes=10),  # noqa: N806
              next_follow_up_at=now + timedelta(hours=1))
    history(L4, (s.new, t4, None))
    FollowUp.objects.create(lead=L4, owner=A, due_at=now + timedelta(hours=1), note="Send the brochure")

    t5 = monday + timedelta(minutes=30)
    L5 = lead("L5", B, s.valid, t5, "Referral", company=gamma, last_contacted_at=t5 + timedelta(hours=5))  # noqa: N806
    history(L5, (s.new, t5, None), (s.valid, t5 + timedelta(minutes=10), M))  # before assignment: not a contact
    activity(L5, t5 + timedelta(hours=5), B)  # 4 h after assignment

    L6 = lead("L6", B, s.shortlisted, d(20), "Walk-in", company=acme,  # noqa: N806
              last_contacted_at=d(20) + timedelta(hours=11), next_follow_up_at=now - timedelta(days=2))
    history(L6, (s.new, d(20), None), (s.valid, d(19), A), (s.campus, d(18), A), (s.shortlisted, d(17), B))
    activity(L6, d(20) + timedelta(hours=11), B)  # 10 h after assignment (the moves came later)

    L7 = lead("L7", B, s.admission, d(15), "website", last_contacted_at=d(15) + timedelta(hours=2))  # noqa: N806
    activity(L7, d(15) + timedelta(minutes=5), M)  # before assignment: not a contact
    activity(L7, d(15) + timedelta(hours=2), B)  # 1 h after assignment

    L8 = lead("L8", None, s.new, d(9), "")  # noqa: N806
    L9 = lead("L9", None, s.invalid, d(12), "Cold Call")  # noqa: N806
    history(L9, (s.new, d(12), None), (s.invalid, d(11), M))

    return SimpleNamespace(
        now=now, today=today, monday=monday.date(), s=s, A=A, B=B, C=chitra, M=M,
        L=[L1, L2, L3, L4, L5, L6, L7, L8, L9], companies=[acme, beta, gamma, delta],
    )
