"""Large bulk actions run in a worker (a real RQ worker on the real Redis): the request queues the batch,
the page polls, the worker does the same set-based work in one transaction."""

import re

import pytest
from django.urls import reverse

from crm.assignment.models import Assignment, AssignmentBatch
from crm.assignment.services import batch_queue, batch_run_queued, leads_assign

from .helpers import owners_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.ASSIGNMENT_BACKGROUND_OVER = 2


def token_of(response):
    return re.search(r'name="token" value="([^"]+)"', response.text).group(1)


def queue_distribution(client, lead_list, capture):
    ids = [lead.pk for lead in lead_list]
    shown = client.post(reverse("assignment:bulk_preview"), {"action": "distribute", "lead_ids": ids})
    with capture(execute=True):
        return client.post(reverse("assignment:bulk_apply"), {"action": "distribute", "token": token_of(shown)})


def test_a_large_distribution_is_queued_then_done_by_the_worker(
    client_for, manager, counsellor, leads, run_jobs, django_capture_on_commit_callbacks
):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    batch_leads = leads(5)
    client = client_for(manager)

    done = queue_distribution(client, batch_leads, django_capture_on_commit_callbacks)

    batch = AssignmentBatch.objects.get()
    assert batch.state == "queued" and batch.count == 5
    assert set(owners_of(batch_leads).values()) == {None}  # nothing yet
    waiting = client.get(done.url)
    assert "working on it" in waiting.text and 'hx-trigger="every 2s"' in waiting.text

    run_jobs()

    batch.refresh_from_db()
    assert batch.state == "done" and batch.count == 5 and batch.method == "distribute"
    assert sorted(owners_of(batch_leads).values()) == sorted([a.pk] * 3 + [b.pk] * 2)
    assert set(Assignment.objects.values_list("batch", flat=True)) == {batch.pk}
    polled = client.get(done.url, headers={"HX-Request": "true"})
    assert polled.text.lstrip().startswith('<div id="batch-page"') and "every 2s" not in polled.text
    assert "Balanced distribution: 5 leads changed" in polled.text and 'id="batch-undo"' in polled.text


def test_a_queued_action_that_can_no_longer_be_done_fails_with_a_reason(
    client_for, manager, counsellor, leads, run_jobs, django_capture_on_commit_callbacks
):
    a = counsellor("Anu A")
    batch_leads = leads(3)
    client = client_for(manager)
    shown = client.post(reverse("assignment:bulk_preview"), {"action": "assign", "to_user": a.pk,
                                                             "lead_ids": [lead.pk for lead in batch_leads]})
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("assignment:bulk_apply"), {"action": "assign", "to_user": a.pk, "token": token_of(shown)})
    a.is_active = False  # deactivated before the worker got to it
    a.save(update_fields=["is_active"])

    run_jobs()

    batch = AssignmentBatch.objects.get()
    assert batch.state == "failed" and "active sales user" in batch.error
    assert set(owners_of(batch_leads).values()) == {None} and not Assignment.objects.exists()
    page = client.get(done.url)
    assert "not done" in page.text and "active sales user" in page.text


def test_a_worker_crash_marks_the_batch_failed_and_changes_nothing(manager, counsellor, leads, run_jobs,
                                                                   django_capture_on_commit_callbacks):
    counsellor("Anu A")
    batch_leads = leads(3)
    with django_capture_on_commit_callbacks(execute=True):
        batch = batch_queue(by=manager, method="distribute", count=3,
                            params={"op": "bulk", "action": "distribute"})  # no "expected": the job raises KeyError

    run_jobs()

    batch.refresh_from_db()
    assert batch.state == "failed" and "KeyError" in batch.error
    assert set(owners_of(batch_leads).values()) == {None}


def test_a_large_undo_is_queued_once(client_for, manager, counsellor, leads, run_jobs, django_capture_on_commit_callbacks):
    a = counsellor("Anu A")
    batch_leads = leads(4)
    batch = leads_assign(lead_ids=[lead.pk for lead in batch_leads], to_user=a, by=manager)
    client = client_for(manager)
    url = reverse("assignment:batch_undo", args=[batch.pk])

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, follow=True)
        second = client.post(url, follow=True)

    assert "The undo is queued" in first.text and "Undo queued: working on it" in first.text
    assert "already being undone" in second.text
    assert AssignmentBatch.objects.filter(method="undo").count() == 1
    assert set(owners_of(batch_leads).values()) == {a.pk}

    run_jobs()

    batch.refresh_from_db()
    assert batch.undone_at is not None and batch.undo_batch.state == "done"
    assert set(owners_of(batch_leads).values()) == {None}
    assert "4 leads put back" in client.get(reverse("assignment:batch_detail", args=[batch.pk])).text


def test_a_large_next_n_is_queued(client_for, manager, counsellor, leads, run_jobs, django_capture_on_commit_callbacks):
    a = counsellor("Anu A")
    batch_leads = leads(4)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(manager).post(reverse("assignment:next_apply"), {"n": 3, "to_user": a.pk, "order": "newest"})
    assert set(owners_of(batch_leads).values()) == {None}

    run_jobs()

    assert owners_of(batch_leads) == {batch_leads[0].pk: None, **{lead.pk: a.pk for lead in batch_leads[1:]}}
    batch = AssignmentBatch.objects.get()
    assert (batch.method, batch.state, batch.count, batch.summary["n"]) == ("next_n", "done", 3, 3)


def test_a_queued_batch_runs_only_once(manager, counsellor, leads, django_capture_on_commit_callbacks):
    a = counsellor("Anu A")
    batch_leads = leads(3)
    from crm.assignment.services import pack_owners

    batch = batch_queue(by=manager, method="bulk", count=3, params={
        "op": "bulk", "action": "assign", "to_user": a.pk,
        "expected": pack_owners([(lead.pk, None) for lead in batch_leads]),
    })

    assert batch_run_queued(batch_id=batch.pk).state == "done"
    assert batch_run_queued(batch_id=batch.pk) is None
    assert Assignment.objects.count() == 3 and set(owners_of(batch_leads).values()) == {a.pk}
