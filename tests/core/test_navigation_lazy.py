"""The navigation's badge counts run only when a page shows the navigation (not for htmx fragments)."""

from crm.core import nav_counts
from crm.core.context_processors import navigation


def test_navigation_counts_are_computed_only_when_a_template_reads_them(rf, sales):
    calls = []
    provider = nav_counts.register(lambda user: calls.append(user) or {"probe": 7})
    try:
        request = rf.get("/")
        request.user = sales
        context = navigation(request)
        assert calls == []
        assert context["nav"]["probe"] == 7
        assert calls == [sales]
    finally:
        nav_counts._providers.remove(provider)


def test_a_fragment_of_the_lead_list_runs_no_badge_queries(client_for, sales):
    calls = []
    provider = nav_counts.register(lambda user: calls.append(user) or {})
    try:
        client = client_for(sales)
        client.get("/leads/", headers={"HX-Request": "true", "HX-Target": "lead-table"})
        assert calls == []
        client.get("/leads/")
        assert calls == [sales]
    finally:
        nav_counts._providers.remove(provider)


def test_badges_are_kept_for_a_while_and_dropped_when_a_service_changes_them(client_for, manager, sales):
    """Counts are kept in the cache between pages; an assignment (or any service that changes what a badge
    counts) drops the kept counts of the users concerned, so the change shows on their next page."""
    from crm.assignment.services import leads_assign
    from tests.factories import LeadFactory

    first = nav_counts.for_user(sales)
    assert "new_assigned" not in first
    leads = LeadFactory.create_batch(3)
    LeadFactory._meta.model.objects.filter(pk=leads[0].pk).update(next_follow_up_at="2020-01-01T00:00Z")
    assert nav_counts.for_user(sales) == first  # kept: nothing told the badges
    leads_assign(lead_ids=[lead.pk for lead in leads], to_user=sales, by=manager)
    counts = nav_counts.for_user(sales)
    assert counts["new_assigned"] == 3 and counts["follow_ups_due"] == 1
    nav_counts.forget(sales)
    assert nav_counts.for_user(sales) == counts == nav_counts.compute(sales)
