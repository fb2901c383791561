import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.assignment.models import Assignment, AssignmentBatch
from crm.leads.models import Lead
from tests.factories import LeadFactory

from .helpers import owners_of

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def token_of(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.text).group(1)


def preview(client, **data):
    return client.post(reverse("assignment:bulk_preview"), {"next": "/leads/unassigned/", **data})


def apply(client, response, **data):
    return client.post(reverse("assignment:bulk_apply"), {"token": token_of(response), "next": "/leads/unassigned/", **data})


# --- the unassigned queue -----------------------------------------------------------------------------


def test_unassigned_queue_lists_only_unassigned_leads_newest_first(client_for, manager, counsellor, leads):
    a = counsellor("Anu A")
    old, new = leads(2)
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=2))
    taken = LeadFactory(assigned_to=a, name="Taken Lead")

    response = client_for(manager).get(reverse("assignment:unassigned"))

    assert response.status_code == 200
    shown = [lead.pk for lead in response.context["page"].leads]
    assert shown == [new.pk, old.pk] and taken.pk not in shown
    assert 'name="lead_ids"' in response.text and 'id="bulk-actions"' in response.text
    assert "counsellor=none" in response.context["filter_query"]


def test_unassigned_queue_filters_and_answers_htmx_with_the_table(client_for, manager, leads):
    kochi = leads(2, city="Kochi")
    pune = leads(1, city="Pune")

    response = client_for(manager).get(reverse("assignment:unassigned"), {"city": "pune"}, headers=HX)

    assert response.status_code == 200
    assert [lead.pk for lead in response.context["page"].leads] == [pune[0].pk]
    assert response.text.lstrip().startswith('<div id="lead-table"') and "<html" not in response.text
    assert kochi[0].name not in response.text


# --- bulk: preview, apply, summary, undo ---------------------------------------------------------------


def test_distribute_previews_applies_and_undoes(client_for, manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    batch_leads = leads(5)
    client = client_for(manager)

    shown = preview(client, action="distribute", lead_ids=[lead.pk for lead in batch_leads])

    assert shown.status_code == 200
    assert "Distribute 5 leads evenly?" in shown.text
    assert {row["name"]: row["count"] for row in shown.context["preview"]["per_user"]} == {"Anu A": 3, "Binu B": 2}
    assert not Assignment.objects.exists()  # a preview changes nothing

    done = apply(client, shown, action="distribute")

    batch = AssignmentBatch.objects.get()
    assert done.status_code == 302 and done.url.startswith(reverse("assignment:batch_detail", args=[batch.pk]))
    assert sorted(owners_of(batch_leads).values()) == sorted([a.pk] * 3 + [b.pk] * 2)
    summary_page = client.get(done.url)
    assert "Balanced distribution: 5 leads changed" in summary_page.text and 'id="batch-undo"' in summary_page.text
    assert summary_page.context["undo"] == {"total": 5, "restorable": 5, "touched": 0}

    undone = client.post(reverse("assignment:batch_undo", args=[batch.pk]), {"next": "/leads/unassigned/"}, follow=True)

    assert set(owners_of(batch_leads).values()) == {None}
    assert "Undone: 5 leads put back." in undone.text and 'id="batch-undone"' in undone.text


def test_assign_all_matching_the_filter_uses_the_filter_not_the_page(client_for, manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    pune = leads(3, city="Pune")
    leads(2, city="Kochi")
    owned_in_pune = LeadFactory(city="Pune", assigned_to=b)
    client = client_for(manager)

    queue = client.get(reverse("assignment:unassigned"), {"city": "Pune"})
    shown = preview(client, action="assign", to_user=a.pk, select_all="1", filter_query=queue.context["filter_query"])

    assert shown.context["preview"]["count"] == 3
    apply(client, shown, action="assign", to_user=a.pk)
    assert owners_of(pune) == {lead.pk: a.pk for lead in pune}
    assert owners_of([owned_in_pune]) == {owned_in_pune.pk: b.pk}
    assert Lead.objects.filter(assigned_to__isnull=True).count() == 2


def test_a_stale_preview_skips_and_names_the_leads_that_changed(client_for, manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    batch_leads = leads(3)
    client = client_for(manager)
    shown = preview(client, action="assign", to_user=a.pk, lead_ids=[lead.pk for lead in batch_leads])
    Lead.objects.filter(pk=batch_leads[0].pk).update(assigned_to=b)  # another manager, meanwhile

    summary_page = client.get(apply(client, shown, action="assign", to_user=a.pk).url)

    assert owners_of(batch_leads)[batch_leads[0].pk] == b.pk
    assert "1 lead changed owner after your preview" in summary_page.text
    assert batch_leads[0].name in summary_page.text and "now Binu B" in summary_page.text


def test_clicking_confirm_twice_does_not_move_leads_again(client_for, manager, counsellor, leads):
    counsellor("Anu A"), counsellor("Binu B")
    batch_leads = leads(4)
    client = client_for(manager)
    shown = preview(client, action="distribute", lead_ids=[lead.pk for lead in batch_leads])
    apply(client, shown, action="distribute")
    owners = owners_of(batch_leads)

    apply(client, shown, action="distribute")

    assert owners_of(batch_leads) == owners
    assert Assignment.objects.count() == 4
    assert AssignmentBatch.objects.order_by("-pk").first().summary["stale"]["count"] == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "assign"}, "No leads are selected"),
        ({"action": "assign", "lead_ids": "LEAD"}, "Choose the counsellor who gets the leads."),
        ({"action": "stage", "lead_ids": "LEAD"}, "Choose the stage to move the leads to."),
        ({"action": "explode", "lead_ids": "LEAD"}, "Choose what to do with the leads."),
        ({"action": "assign", "to_user": "GONE", "lead_ids": "LEAD"}, "Choose an active counsellor."),
    ],
)
def test_bad_bulk_input_gets_a_clear_message_and_changes_nothing(client_for, manager, counsellor, leads, data, message):
    gone = counsellor("Gone G", is_active=False)
    (lead,) = leads(1)
    data = {key: {"LEAD": lead.pk, "GONE": gone.pk}.get(value, value) for key, value in data.items()}

    response = preview(client_for(manager), **data)

    assert response.status_code == 422
    assert message in response.text
    assert not AssignmentBatch.objects.exists()


def test_too_big_a_selection_is_refused(client_for, manager, counsellor, leads, monkeypatch):
    a = counsellor("Anu A")
    batch_leads = leads(3)
    monkeypatch.setattr("crm.assignment.views.MAX_BULK", 2)
    monkeypatch.setattr("crm.assignment.selectors.MAX_BULK", 2)

    response = preview(client_for(manager), action="assign", to_user=a.pk, lead_ids=[lead.pk for lead in batch_leads])

    assert response.status_code == 422 and "more than 2 leads" in response.text


def test_an_altered_or_borrowed_token_is_refused(client_for, manager, admin_user, counsellor, leads):
    a = counsellor("Anu A")
    batch_leads = leads(2)
    shown = preview(client_for(manager), action="assign", to_user=a.pk, lead_ids=[lead.pk for lead in batch_leads])
    token = token_of(shown)

    tampered = client_for(manager).post(reverse("assignment:bulk_apply"), {"token": token[:-2] + "xx", "action": "assign", "to_user": a.pk})
    borrowed = client_for(admin_user).post(reverse("assignment:bulk_apply"), {"token": token, "action": "assign", "to_user": a.pk})

    for response in (tampered, borrowed):
        assert response.status_code == 422 and "preview again" in response.text
    assert set(owners_of(batch_leads).values()) == {None}


def test_bulk_unassign_and_stage_change_through_the_pages(client_for, manager, counsellor, leads):
    from tests.factories import stage_named

    a = counsellor("Anu A")
    batch_leads = leads(2, assigned_to=a)
    client = client_for(manager)
    ids = [lead.pk for lead in batch_leads]

    apply(client, preview(client, action="unassign", lead_ids=ids), action="unassign")
    interested = stage_named("Interested")
    shown = preview(client, action="stage", stage=interested.pk, lead_ids=ids)
    assert "Move 2 leads to “Interested”?" in shown.text
    apply(client, shown, action="stage", stage=interested.pk, note="Webinar")

    assert set(owners_of(batch_leads).values()) == {None}
    assert set(Lead.objects.filter(pk__in=ids).values_list("stage", flat=True)) == {interested.pk}
    assert list(AssignmentBatch.objects.order_by("pk").values_list("method", "count")) == [("unassign", 2), ("stage", 2)]


def test_random_assign_url_previews_a_balanced_distribution(client_for, manager, counsellor, leads):
    counsellor("Anu A"), counsellor("Binu B")
    batch_leads = leads(4)

    response = client_for(manager).post(reverse("assignment:random_assign"), {"lead_ids": [lead.pk for lead in batch_leads]})

    assert response.status_code == 200 and "Distribute 4 leads evenly?" in response.text
    assert [row["count"] for row in response.context["preview"]["per_user"]] == [2, 2]
    assert not Assignment.objects.exists()


# --- next N --------------------------------------------------------------------------------------------


def test_next_n_previews_then_assigns(client_for, manager, counsellor, leads):
    a = counsellor("Anu A", capacity=1)
    batch_leads = leads(3)
    client = client_for(manager)

    shown = client.post(reverse("assignment:next_preview"), {"n": 200, "to_user": a.pk, "order": "oldest"})
    assert shown.status_code == 200
    assert "Only 3 unassigned leads are left." in shown.text and "over their capacity" in shown.text
    assert not Assignment.objects.exists()

    done = client.post(reverse("assignment:next_apply"), {"n": 200, "to_user": a.pk, "order": "oldest"})

    assert done.status_code == 302
    assert set(owners_of(batch_leads).values()) == {a.pk}
    assert AssignmentBatch.objects.get().method == "next_n"


def test_next_n_bad_input(client_for, manager, counsellor):
    response = client_for(manager).post(reverse("assignment:next_preview"), {"n": "lots", "to_user": ""})
    assert response.status_code == 422
    assert "Enter a whole number of leads" in response.text and "Choose the counsellor who gets the leads." in response.text


# --- the lead page's box ---------------------------------------------------------------------------------


def test_lead_page_assign_reassign_unassign_with_htmx(client_for, manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    (lead,) = leads(1)
    client = client_for(manager)
    url = reverse("assignment:lead_assign", args=[lead.uuid])

    first = client.post(url, {"to_user": a.pk, "owner": ""}, headers=HX)
    second = client.post(url, {"to_user": b.pk, "owner": a.pk}, headers=HX)
    third = client.post(url, {"to_user": "", "owner": b.pk}, headers=HX)

    assert [r.status_code for r in (first, second, third)] == [200, 200, 200]
    assert "Assigned to Anu A." in first.text and 'id="lead-assign"' in first.text
    assert first["HX-Trigger"] == "lead-assigned"
    assert "The lead is now unassigned." in third.text
    assert list(Assignment.objects.order_by("pk").values_list("to_user", flat=True)) == [a.pk, b.pk, None]


def test_lead_page_assign_conflict_answers_409_with_the_fresh_owner(client_for, manager, counsellor, leads):
    a, b = counsellor("Anu A"), counsellor("Binu B")
    (lead,) = leads(1, assigned_to=b)

    response = client_for(manager).post(
        reverse("assignment:lead_assign", args=[lead.uuid]), {"to_user": a.pk, "owner": ""}, headers=HX
    )

    assert response.status_code == 409
    assert "changed the owner of this lead meanwhile" in response.text and "Binu B" in response.text
    assert owners_of([lead]) == {lead.pk: b.pk}


def test_lead_page_assign_refuses_inactive_target(client_for, manager, counsellor, leads):
    gone = counsellor("Gone G", is_active=False)
    (lead,) = leads(1)

    response = client_for(manager).post(
        reverse("assignment:lead_assign", args=[lead.uuid]), {"to_user": gone.pk, "owner": ""}, headers=HX
    )

    assert response.status_code == 422 and "Choose an active counsellor" in response.text
    assert owners_of([lead]) == {lead.pk: None}


def test_lead_page_assign_without_htmx_redirects_to_the_lead(client_for, manager, counsellor, leads):
    a = counsellor("Anu A")
    (lead,) = leads(1)
    response = client_for(manager).post(reverse("assignment:lead_assign", args=[lead.uuid]), {"to_user": a.pk, "owner": ""})
    assert response.status_code == 302 and response.url == lead.get_absolute_url()
    assert owners_of([lead]) == {lead.pk: a.pk}


# --- recent bulk actions ------------------------------------------------------------------------------------


def test_recent_bulk_actions_list(client_for, manager, counsellor, leads):
    from crm.assignment.services import batch_undo, leads_assign, leads_distribute

    a = counsellor("Anu A")
    first = leads_assign(lead_ids=[lead.pk for lead in leads(2)], to_user=a, by=manager)
    leads_distribute(lead_ids=[lead.pk for lead in leads(3)], by=manager)
    batch_undo(batch=first, by=manager)

    response = client_for(manager).get(reverse("assignment:batch_list"))

    assert response.status_code == 200
    rows = re.findall(r'<tr data-batch="(\d+)">(.*?)</tr>', response.text, re.S)
    assert len(rows) == 3
    by_id = dict(rows)
    assert "Undone" in by_id[str(first.pk)] and "Bulk assign" in by_id[str(first.pk)]
    assert "Meera Manager" in response.text and "Balanced distribution" in response.text and "Undo…" in response.text


# --- new for me ---------------------------------------------------------------------------------------------


def test_new_for_me_flags_new_leads_clears_the_badge_and_keeps_the_page(client_for, manager, sales, leads):
    from crm.assignment.services import leads_assign

    old = leads(1, assigned_to=sales, assigned_at=timezone.now() - timezone.timedelta(days=5))
    sales.assignments_seen_at = timezone.now() - timezone.timedelta(days=1)
    sales.save(update_fields=["assignments_seen_at"])
    fresh = leads(2)
    leads_assign(lead_ids=[lead.pk for lead in fresh], to_user=sales, by=manager)
    client = client_for(sales)

    before = client.get(reverse("accounts:profile"))
    page = client.get(reverse("assignment:new_for_me"))
    after = client.get(reverse("accounts:profile"))
    again = client.get(reverse("assignment:new_for_me"))

    assert before.context["nav"]["new_assigned"] == 2
    assert page.status_code == 200
    assert {lead.pk for lead in page.context["page_obj"]} == {lead.pk for lead in fresh}
    assert page.text.count("new-flag") == 2 and old[0].name not in page.text
    assert "new_assigned" not in after.context["nav"]
    assert {lead.pk for lead in again.context["page_obj"]} == {lead.pk for lead in fresh}
    sales.refresh_from_db()
    assert sales.assignments_seen_at is not None


def test_new_for_me_with_nothing_new(client_for, sales):
    response = client_for(sales).get(reverse("assignment:new_for_me"))
    assert response.status_code == 200 and "Nothing new since you last looked." in response.text


def test_badge_counts_only_leads_assigned_after_the_last_look(manager, sales, other_sales, leads):
    from crm.assignment.services import leads_assign
    from crm.core import nav_counts

    leads_assign(lead_ids=[lead.pk for lead in leads(3)], to_user=sales, by=manager)
    assert nav_counts.for_user(sales)["new_assigned"] == 3
    assert "new_assigned" not in nav_counts.for_user(other_sales)
    assert "new_assigned" not in nav_counts.for_user(manager)
    sales.assignments_seen_at = timezone.now()
    sales.save(update_fields=["assignments_seen_at"])
    leads_assign(lead_ids=[lead.pk for lead in leads(1)], to_user=sales, by=manager)
    assert nav_counts.for_user(sales)["new_assigned"] == 1


# --- where the leads pages include the assignment partials ---------------------------------------------------


def test_lead_list_and_lead_page_carry_the_bulk_bar_and_owner_box_for_managers_only(client_for, manager, sales, leads):
    (lead,) = leads(1, assigned_to=sales)

    as_manager = client_for(manager)
    listing = as_manager.get(reverse("leads:list"))
    detail = as_manager.get(lead.get_absolute_url())
    assert 'id="bulk-actions"' in listing.text and reverse("assignment:bulk_preview") in listing.text
    assert 'id="lead-assign"' in detail.text and reverse("assignment:lead_assign", args=[lead.uuid]) in detail.text

    as_sales = client_for(sales)
    assert 'id="bulk-actions"' not in as_sales.get(reverse("leads:list")).text
    assert 'id="lead-assign"' not in as_sales.get(lead.get_absolute_url()).text


def test_lead_assign_without_an_owner_field_claims_nothing(client_for, manager, counsellor, leads):
    """A client that does not send the owner it saw (seed 002's API shape) is not told of a conflict."""
    a, b = counsellor("Anu A"), counsellor("Binu B")
    (lead,) = leads(1, assigned_to=b)
    response = client_for(manager).post(reverse("assignment:lead_assign", args=[lead.uuid]), {"to_user": a.pk}, headers=HX)
    assert response.status_code == 200 and owners_of([lead]) == {lead.pk: a.pk}
