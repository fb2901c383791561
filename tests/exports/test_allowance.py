"""The monthly export allowance: counting, month boundaries in the user's time zone, refusals."""

from datetime import UTC, date, datetime

import pytest

from crm.exports import services
from crm.exports.models import ExportJob, ExportStatus
from crm.exports.selectors import allowance_for, month_bounds
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def past_export(user, at, rows=10, status=ExportStatus.READY):
    export = ExportJob.objects.create(user=user, status=status, row_count=rows, fields=["name"])
    ExportJob.objects.filter(pk=export.pk).update(created_at=at)  # created_at is auto_now_add
    return export


def test_month_starts_at_midnight_in_the_users_time_zone():
    user = UserFactory(time_zone="Asia/Kolkata")
    start, following = month_bounds(user, now=datetime(2026, 1, 31, 20, 0, tzinfo=UTC))  # 1 Feb 01:30 IST
    assert start == datetime(2026, 1, 31, 18, 30, tzinfo=UTC)  # 1 Feb 00:00 IST
    assert following == datetime(2026, 2, 28, 18, 30, tzinfo=UTC)  # 1 Mar 00:00 IST


def test_december_rolls_over_into_the_next_year():
    user = UserFactory(time_zone="America/New_York")
    start, following = month_bounds(user, now=datetime(2026, 12, 15, 12, 0, tzinfo=UTC))
    assert start == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert following == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)


def test_an_export_just_after_local_midnight_counts_for_the_new_month():
    user = UserFactory(time_zone="Asia/Kolkata")
    past_export(user, datetime(2026, 1, 31, 19, 0, tzinfo=UTC), rows=40)  # 1 Feb 00:30 in Kolkata
    past_export(user, datetime(2026, 1, 31, 18, 0, tzinfo=UTC), rows=7)  # 31 Jan 23:30 in Kolkata
    february = allowance_for(user, now=datetime(2026, 2, 10, tzinfo=UTC))
    january = allowance_for(user, now=datetime(2026, 1, 20, tzinfo=UTC))
    assert (february.exports_used, february.rows_used) == (1, 40)
    assert (january.exports_used, january.rows_used) == (1, 7)
    assert february.resets_on == date(2026, 3, 1)


def test_the_same_instant_belongs_to_another_month_in_another_time_zone():
    user = UserFactory(time_zone="America/Los_Angeles")
    past_export(user, datetime(2026, 2, 1, 3, 0, tzinfo=UTC))  # still 31 January 19:00 in Los Angeles
    assert allowance_for(user, now=datetime(2026, 2, 1, 7, 0, tzinfo=UTC)).exports_used == 1  # 31 Jan 23:00 LA
    assert allowance_for(user, now=datetime(2026, 2, 1, 9, 0, tzinfo=UTC)).exports_used == 0  # 1 Feb 01:00 LA


def test_failed_exports_do_not_count_but_expired_ones_do():
    user = UserFactory(time_zone="UTC")
    now = datetime(2026, 6, 15, tzinfo=UTC)
    past_export(user, datetime(2026, 6, 2, tzinfo=UTC), rows=5, status=ExportStatus.FAILED)
    past_export(user, datetime(2026, 6, 3, tzinfo=UTC), rows=6, status=ExportStatus.EXPIRED)
    past_export(user, datetime(2026, 6, 4, tzinfo=UTC), rows=7, status=ExportStatus.RUNNING)
    allowance = allowance_for(user, now=now)
    assert (allowance.exports_used, allowance.rows_used) == (2, 13)


def test_an_export_over_the_monthly_count_is_refused_before_any_work(manager):
    manager.exports_per_month = 2
    manager.save()
    lead = LeadFactory()
    for _ in range(2):
        services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    assert allowance_for(manager).exports_left == 0
    with pytest.raises(services.ExportRefused) as refused:
        services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    assert "used all 2 exports" in str(refused.value)
    assert "renews on 1 " in str(refused.value)
    assert ExportJob.objects.filter(user=manager).count() == 2


def test_an_export_over_the_monthly_rows_is_refused_saying_what_remains(manager):
    manager.export_rows_per_month = 5
    manager.save()
    leads = [LeadFactory(city="Kochi") for _ in range(3)]
    services.export_create(user=manager, fields=["name"], format="csv", filter_query="city=Kochi")
    assert allowance_for(manager).rows_left == 2
    with pytest.raises(services.ExportRefused) as refused:
        services.export_create(user=manager, fields=["name"], format="csv", filter_query="city=Kochi")
    assert "3 rows but you have 2 of your 5 rows left" in str(refused.value)
    # Two leads still fit exactly.
    services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[leads[0].pk, leads[1].pk])
    assert allowance_for(manager).rows_left == 0


def test_no_row_limit_means_only_the_count_limits(manager):
    assert manager.export_rows_per_month is None
    lead = LeadFactory()
    services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
    allowance = allowance_for(manager)
    assert allowance.rows_left is None and allowance.refusal(10_000_000) is None
    assert allowance.exports_left == 99


def test_an_allowance_of_zero_refuses_everything(manager):
    manager.exports_per_month = 0
    manager.save()
    lead = LeadFactory()
    with pytest.raises(services.ExportRefused):
        services.export_create(user=manager, fields=["name"], format="csv", lead_ids=[lead.pk])
